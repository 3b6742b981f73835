"""The report's first line answers the mission's question, and every output says it the same way.

"Of the papers that link code, how many have it available now?" A repository years without a
commit, or archived, still has its code: activity splits the available papers, it never turns
them into "not working". The papers table leads with what needs attention and folds the papers
that link nothing; summary.md, report.json and the alert digest carry the same words and numbers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from checks.facts import HubFacts, RepoFacts
from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from checks.readings import HOW, Reading
from reports.alerts import RunFacts, build_digest
from reports.headline import ATTENTION, attention, facet_figures, figures_of, first_line, headline
from reports.report import build_report, render_html, write_report
from reports.store import Store, runs
from reports.transitions import compare_runs


def repo(name: str, claim: str | None = "code", promise: bool = False) -> Link:
    url = f"https://github.com/lab/{name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, claim=claim, promise=promise, owner="lab", name=name)


def page(host: str) -> Link:
    url = f"https://{host}/"
    return Link(url=url, normalized=url, kind=LinkKind.PROJECT)


def dataset(name: str) -> Link:
    url = f"https://huggingface.co/datasets/lab/{name}"
    return Link(url=url, normalized=url, kind=LinkKind.HF_DATASET, claim="data", owner="lab", name=name)


ACTIVE, STALE, ARCHIVED, EMPTY, SOON, GONE, LOST, RATE = (
    repo("active"), repo("stale"), repo("archived"), repo("empty"), repo("soon", promise=True), repo("gone"), repo("lost"),
    repo("rate-limited"))
HOME, DATA, OLD_DATA, DARK = page("lab.example.org"), dataset("corpus"), dataset("old-corpus"), dataset("dark")

# Paper titles say what each paper is; input order is deliberately not the attention order.
PAPERS = [
    Paper(id="p-active", title="Active code", links=(ACTIVE,)),
    Paper(id="p-none-1", title="No links at all, one", links=()),
    Paper(id="p-stale", title="Stale code, still there", links=(STALE,)),
    Paper(id="p-archived", title="Archived code", links=(ARCHIVED, DATA)),
    Paper(id="p-home", title="Only a home page", links=(HOME,)),
    Paper(id="p-unknown", title="Rate-limited code", links=(RATE,)),
    Paper(id="p-partial", title="Code there, data failing since today", links=(STALE, OLD_DATA)),
    Paper(id="p-half", title="Code there, data not checked", links=(STALE, DARK)),
    Paper(id="p-empty", title="Empty repository", links=(EMPTY,)),
    Paper(id="p-soon", title="Code promised soon", links=(SOON,)),
    Paper(id="p-lost", title="Code lost this run", links=(LOST,)),
    Paper(id="p-none-2", title="No links at all, two", links=()),
    Paper(id="p-gone", title="Code gone long ago", links=(GONE,)),
]


def repo_facts(activity: str, **more: Any) -> RepoFacts:
    return RepoFacts.of(**{"full_name": "lab/x", "stars": 10, "activity": activity, "last_commit_at": "2022-05-01T00:00:00Z",
                           "empty": False, "placeholder": False, "archived": False, **more})


def observations(day: int) -> list[Observation]:
    """``gone`` is gone from the start, ``lost`` from day 1 (confirmed on day 2), ``old-corpus`` on day 2 only."""
    alive = State.ALIVE
    found = [
        Observation(ACTIVE.normalized, alive, "repository exists", "github", facts=repo_facts("active", stars=900,
                                                                                                  last_commit_at="2026-11-30T00:00:00Z")),
        Observation(STALE.normalized, alive, "repository exists, stale", "github", facts=repo_facts("stale", stars=40)),
        Observation(ARCHIVED.normalized, alive, "archived", "github", facts=repo_facts("stale", archived=True)),
        Observation(EMPTY.normalized, alive, "empty", "github", facts=repo_facts("stale", empty=True, stars=None)),
        Observation(SOON.normalized, alive, "README only", "github", facts=repo_facts("quiet", placeholder=True)),
        Observation(RATE.normalized, State.UNKNOWN, "not checked: GitHub API rate limit", "github"),
        Observation(GONE.normalized, State.DEAD, "repository not found (GitHub API answered 404)", "github",
                    evidence=Evidence(status_code=404)),
        Observation(HOME.normalized, alive, "HTTP 200", "http", evidence=Evidence(status_code=200)),
        Observation(DATA.normalized, alive, "dataset exists", "huggingface", facts=HubFacts.of(id="lab/corpus", gated=False)),
        Observation(DARK.normalized, State.UNKNOWN, "could not reach the Hugging Face Hub", "huggingface"),
    ]
    gone, failing = day >= 1, day >= 2
    found += [
        Observation(LOST.normalized, State.DEAD if gone else alive, "repository not found (GitHub API answered 404)" if gone
                    else "repository exists", "github", evidence=Evidence(status_code=404 if gone else 200),
                    facts=None if gone else repo_facts("quiet")),
        Observation(OLD_DATA.normalized, State.DEAD if failing else alive, "dataset not found" if failing else "dataset exists",
                    "huggingface", facts=None if failing else HubFacts.of(id="lab/old-corpus")),
    ]
    return found


@pytest.fixture
def history(tmp_path: Path) -> tuple[Store, int]:
    """Three daily runs: a link gone since day 1 is confirmed dead on day 2 (two 404s a day apart)."""
    store = Store.open(str(tmp_path / "h.sqlite"))
    start = datetime(2026, 12, 1, 6, tzinfo=timezone.utc)
    run = 0
    for day in range(3):
        reading = Reading("lists/papers.md", "markdown", HOW["markdown"], papers=len(PAPERS), links=14,
                          not_read=(("in fenced code", 1),), complete=True)
        run = store.start_run(["lists/papers.md"], watched=PAPERS, readings=[reading.to_dict()])
        when = (start + timedelta(days=day)).isoformat()
        with store.engine.begin() as conn:  # the runs happened a day apart
            conn.execute(sa.update(runs).where(runs.c.id == run).values(started_at=when))
        store.record_observations(run, [Observation(o.url, o.state, o.reason, o.checker, o.evidence, o.suggested_url,
                                                    o.facts, checked_at=datetime.fromisoformat(when))
                                        for o in observations(day)])
        store.finish_run(run, status="completed", offline=False, notes=[])
    yield store, run
    store.close()


def test_stale_and_archived_code_is_available_and_activity_only_splits_it(history: tuple[Store, int]) -> None:
    store, run = history
    report = build_report(store, run).to_dict()  # the report.json document
    code = report["summary"]["facets"]["code"]
    # 10 papers link code; the active, the stale (cited by three papers) and the archived repository have it there
    assert code == {"linked": 10, "available": 5,
                    "split": {"active": 1, "stale": 3, "archived": 1, "placeholder": 1, "promised": 1, "unknown": 1, "dead": 2}}
    assert report["summary"]["facets"]["data"] == {"linked": 3, "available": 1,
                                                   "split": {"available": 1, "unknown": 1, "dead": 1}}
    assert report["summary"]["facets"]["models"]["linked"] == 0
    verdicts = {p["id"]: p["verdict"]["code"] for p in report["papers"]}
    assert (verdicts["p-stale"], verdicts["p-archived"]) == ("stale", "archived")

    html = render_html(report)
    card = _text(html.split("id=\"share-code\">", 1)[1])
    assert card.startswith("50 % code available now: 5 of 10 papers linking code")
    assert "active 1 stale 3 archived 1 not available: placeholder 1 promised 1 unknown 1 dead 2" in card
    assert 'id="share-models"' not in html  # no paper links a model: no empty card
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title.startswith("paperwatch run 3: code available for 5 of 10 papers linking code (50 %)")


def test_the_papers_table_leads_with_problems_and_folds_papers_without_links(history: tuple[Store, int]) -> None:
    store, run = history
    report = build_report(store, run).to_dict()  # the report.json document
    needs = {p["id"]: p["attention"] for p in report["papers"]}
    assert needs == {"p-lost": "newly dead", "p-gone": "dead", "p-partial": "degraded", "p-empty": "placeholder",
                     "p-soon": "promised", "p-half": "partial", "p-unknown": "unknown", "p-active": "available", "p-stale": "available",
                     "p-archived": "available", "p-home": "other links", "p-none-1": "no links", "p-none-2": "no links"}
    html = render_html(report)
    start = html.index('<table id="papers"')
    table = html[start:html.index("</table>", start)]
    rows = re.findall(r'<tr id="paper-([^"]+)"', table)
    assert rows == ["p-lost", "p-gone", "p-partial", "p-empty", "p-soon", "p-half", "p-unknown", "p-active", "p-stale",
                    "p-archived", "p-home"]  # problems first, in the order they call for action; input order within a group
    assert [ATTENTION.index(needs[pid]) for pid in rows] == sorted(ATTENTION.index(needs[pid]) for pid in rows)
    fold = html[html.index('<details id="no-links"'):]
    fold = fold[:fold.index("</details>")]
    assert "2 papers with no links in their abstracts" in _text(fold)
    assert re.findall(r'<li id="paper-([^"]+)"', fold) == ["p-none-1", "p-none-2"]
    assert "11 papers with links, those that need attention first; 2 without links, folded below." in _text(html)


def test_summary_json_and_digest_use_the_pages_words_and_numbers(history: tuple[Store, int], tmp_path: Path) -> None:
    store, run = history
    report = build_report(store, run).to_dict()  # the report.json document
    paths = write_report(report, tmp_path / "out")
    line = headline(figures_of(report["summary"]))
    assert line == ("code available for 5 of 10 papers linking code (50 %); "
                    "data available for 1 of 3 papers linking data (33 %)")
    saved = json.loads(paths.json.read_text())
    assert saved["summary"]["facets"] == report["summary"]["facets"] and saved["schema_version"] == 3
    markdown = paths.markdown.read_text()
    assert "Code available for 5 of 10 papers linking code (50 %); data available for 1 of 3 papers linking data (33 %)." in markdown
    assert "| code | 5 of 10 | 50 % | active 1 · stale 3 · archived 1 · placeholder 1 · promised 1 · unknown 1 · dead 2 |" in markdown
    assert "Papers that need attention: newly dead 1 · dead 1 · degraded 1 · placeholder 1 · promised 1" in markdown
    page = _text(paths.html.read_text())
    for facet, figures in figures_of(report["summary"]).items():  # the page's cards: the same numbers
        if figures.linked:
            assert f"{figures.share} {facet} available now: {figures.available} of {figures.linked} papers" in page

    comparison = compare_runs(store, run - 1, run)
    facts = RunFacts(run, "2026-12-03T06:00:00+00:00", False, 11, 1, headline=first_line(figures_of(report["summary"])))
    digest = build_digest(facts, comparison.transitions, {LOST.normalized: ["Code lost this run"]})
    assert digest is not None
    assert "Code available for 5 of 10 papers linking code (50 %); data available for 1 of 3 papers linking data (33 %)." in digest.text()
    assert "Code available for 5 of 10 papers linking code (50 %)" in digest.html()


def test_the_header_names_the_sources_as_typed(history: tuple[Store, int]) -> None:
    store, run = history
    html = render_html(build_report(store, run))
    header = _text(html[html.index("<header>"):html.index("</header>")])
    assert "sources: lists/papers.md" in header
    assert ("lists/papers.md: read as Markdown (a paper per list item or table row with a link): 13 papers, 14 links; "
            "not read: 1 link in fenced code") in header  # how the file was read, so a surprising count explains itself


def test_attention_reads_link_verdicts_before_facet_words() -> None:
    degraded = {"links": [{"normalized": "u", "verdict": {"status": "degraded"}}],
                "verdict": {"code": "dead", "artifacts": "unavailable"}}
    assert attention(degraded) == "degraded"  # one 404 is not yet a death
    assert attention(degraded, frozenset({"u"})) == "newly dead"
    assert attention({"links": [], "verdict": {}}) == "no links"
    figures = facet_figures([{"verdict": {"code": "stale"}}, {"verdict": {"code": "dead"}}, {"verdict": {"code": "none linked"}}])
    assert (figures["code"].linked, figures["code"].available, figures["code"].share) == (2, 1, "50 %")


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
