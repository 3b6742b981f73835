"""Code found elsewhere, end to end: the monitor flow over the simulated web, then what a reader sees.

The Hugging Face paper API names one paper's code, a model card tagged with another's arXiv id
names its code; both are checked like any link and shown as suggestions with their source, never
as the papers' own links, until accepted. Answers are kept: a run inside the re-ask window asks
nothing. A paper without an arXiv id (and no project page) is not asked; one that links code is not
asked either.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from checks.discovery import PaperDiscovery, Suggestion
from checks.model import Paper
from reports.store import Store
from simweb import SimulatedWeb
from tests.test_e2e_monitor import settings_for

API, CARD, UNINDEXED, OWN = "2401.20001", "2401.20002", "2401.29999", "2401.20003"
API_CODE, CARD_CODE = "https://github.com/lab/api-code", "https://github.com/lab/card-code"

SCENARIO: dict[str, Any] = {
    "github": {"repos": [
        {"full_name": "lab/api-code", "stars": 12, "files": ["README.md", "train.py", "requirements.txt"]},
        {"full_name": "lab/card-code", "stars": 3, "files": ["README.md", "eval.py"]},
        {"full_name": "lab/own-code", "files": ["README.md", "main.py"]},
    ]},
    "hub": {
        "models": [{"id": "lab/card-model", "arxiv": [CARD], "files": ["README.md", "config.json"],
                    "card": "# Card model\n\nFine-tuned with https://github.com/huggingface/transformers.\n"
                            "Training code: https://github.com/lab/card-code\n"}],
        "papers": [{"id": API, "title": "API Paper", "github_repo": API_CODE},
                   {"id": CARD, "title": "Card Paper"}],
    },
}

PAPERS = [
    {"id": API, "title": "API Paper", "abstract": "We study things. Code will be released soon."},
    {"id": CARD, "title": "Card Paper", "abstract": "We release our models on the Hub."},
    {"id": UNINDEXED, "title": "Unindexed Paper", "abstract": "Code coming soon."},
    {"id": "no-arxiv-paper", "title": "No arXiv Paper", "abstract": "Code will be available on GitHub."},
    {"id": OWN, "title": "Own Code Paper", "abstract": "Code: https://github.com/lab/own-code"},
]

pytestmark = pytest.mark.usefixtures("fresh_sim")


def write_papers(tmp_path: Path) -> str:
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(json.dumps(paper) + "\n" for paper in PAPERS))
    return str(path)


def run_monitor(sim: SimulatedWeb, tmp_path: Path, **options: Any) -> dict[str, Any]:
    from flows.monitor import monitor

    result = monitor(sources=[write_papers(tmp_path)], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                     settings=settings_for(sim), **options)
    return {"result": result, "report": json.loads(Path(result["json"]).read_text()),
            "html": Path(result["html"]).read_text(), "summary": (tmp_path / "out" / "summary.md").read_text()}


def papers_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {paper["id"]: paper for paper in report["papers"]}


def discovery_requests(sim: SimulatedWeb) -> list[str]:
    """Requests only discovery makes: the paper API, tag listings and cards (the monitor checks no Hub link here)."""
    return [r.url for r in sim.request_log() if r.face == "hub"]


@pytest.mark.prefect
def test_code_found_via_the_paper_api_and_a_model_card_is_shown_apart_and_asked_again_only_when_due(
        prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    first = run_monitor(sim, tmp_path)
    papers = papers_of(first["report"])
    api, card = papers[API], papers[CARD]
    # found, with its source, checked like any link ...
    assert [(s["url"], s["source_kind"], s["state"], s["new"]) for s in api["suggestions"]] == [
        (API_CODE, "hf-paper", "alive", True)]
    assert api["suggestions"][0]["text"] == "code found via the paper's Hugging Face page: github.com/lab/api-code, alive"
    assert [(s["url"], s["source_kind"], s["detail"]) for s in card["suggestions"]] == [
        (CARD_CODE, "hub-card", "the model card of lab/card-model")]  # not the library the card names
    # ... but never the paper's own link: its links and its verdict stay as its abstract makes them
    assert api["links"] == [] and api["verdict"]["code"] == "none linked"
    assert card["links"] == [] and card["verdict"]["code"] == "none linked"
    assert first["report"]["summary"]["links"] == 1  # own-code only: suggestions are not counted as links
    assert not first["report"]["changes"]
    # a paper without an arXiv id, and a paper that links code, are not asked; a 404 is "not indexed", nothing found
    assert papers["no-arxiv-paper"]["suggestions"] == [] and papers[OWN]["suggestions"] == []
    asked = discovery_requests(sim)
    assert f"/api/papers/{API}" in asked and f"/api/papers/{CARD}" in asked and f"/api/papers/{UNINDEXED}" in asked
    assert not any("no-arxiv" in url or OWN in url for url in asked)
    assert papers[UNINDEXED]["suggestions"] == []
    # the page: one line per suggestion under the paper, the URL a link, and a filter for them
    html = first["html"]
    assert "code found via <a href=\"https://huggingface.co/papers/2401.20001\">the paper&#39;s Hugging Face page</a>: " \
           "<a class=\"url\" href=\"https://github.com/lab/api-code\">github.com/lab/api-code</a>" in html
    assert "the model card of lab/card-model" in html and 'id="f-found"' in html
    assert "elsewhere (2)</option>" in html
    assert "`github.com/lab/api-code`" in first["summary"] and "Code found elsewhere (2 papers)" in first["summary"]
    with (tmp_path / "out" / "suggestions.csv").open(newline="") as handle:  # and in a file a spreadsheet opens
        rows = {row["url"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {API_CODE, CARD_CODE}
    assert (rows[API_CODE]["paper_id"], rows[API_CODE]["source"], rows[API_CODE]["found_via"], rows[API_CODE]["state"],
            rows[API_CODE]["new"], rows[API_CODE]["accepted"]) == (API, "hf-paper", "the paper's Hugging Face page", "alive",
                                                                  "yes", "no")
    assert rows[CARD_CODE]["found_via"] == "the model card of lab/card-model"
    with Store.open(str(tmp_path / "h.sqlite")) as store:  # stored like any observation
        observed = store.observations_of_runs([first["result"]["run_id"]])[first["result"]["run_id"]]
    assert observed[API_CODE].state.value == "alive" and observed[CARD_CODE].state.value == "alive"
    assert {k: n for k, n in first["report"]["runs"][-1]["counts"].items() if n} == {"alive": 1}  # the run's own link; the two suggestions are not its links

    sim.reset_stats()
    second = run_monitor(sim, tmp_path)
    assert discovery_requests(sim) == []  # found: asked again after 30 days; nothing found (the 404): after 7
    again = papers_of(second["report"])
    assert [(s["url"], s["state"], s["new"]) for s in again[API]["suggestions"]] == [(API_CODE, "alive", False)]
    assert again[API]["links"] == []


@pytest.mark.prefect
def test_accepting_makes_the_suggestion_the_papers_own_link(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    run = run_monitor(sim, tmp_path, accept_suggestions=True)
    api = papers_of(run["report"])[API]
    assert [(link["normalized"], link["claim"]) for link in api["links"]] == [(API_CODE, "code")]
    assert api["verdict"]["code"] != "none linked"  # judged by its (accepted) code link now
    assert api["suggestions"][0]["accepted"] is True
    assert "accepted suggestion" in run["html"]
    later = run_monitor(sim, tmp_path)  # accepted stays accepted: the link is the paper's from then on
    assert [link["normalized"] for link in papers_of(later["report"])[API]["links"]] == [API_CODE]


@pytest.mark.prefect
def test_the_config_accepts_one_suggestion(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    run = run_monitor(sim, tmp_path, discovery={"accept": [f"{CARD} {CARD_CODE}"]})
    papers = papers_of(run["report"])
    assert [link["normalized"] for link in papers[CARD]["links"]] == [CARD_CODE]
    assert papers[API]["links"] == [] and papers[API]["suggestions"][0]["accepted"] is False
    removed = run_monitor(sim, tmp_path, discovery={"accept": []})  # taken off the list: no longer the paper's link
    assert papers_of(removed["report"])[CARD]["links"] == []


@pytest.mark.prefect
def test_discovery_can_be_turned_off(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    run = run_monitor(sim, tmp_path, discovery={"enabled": False})
    assert discovery_requests(sim) == [] and all(p["suggestions"] == [] for p in run["report"]["papers"])


@pytest.mark.prefect
def test_a_new_suggestion_is_announced_once_in_the_digest(prefect_api: None, sim: SimulatedWeb, tmp_path: Path) -> None:
    from reports.alerts import AlertLog

    notify = ["json://127.0.0.1:9/unused"]  # nothing listens: the alert log keeps what the run decided all the same
    run_monitor(sim, tmp_path, notify=notify)
    run_monitor(sim, tmp_path, notify=notify)
    with Store.open(str(tmp_path / "h.sqlite")) as store:
        entries = AlertLog(store.engine).entries()
    assert sorted(entries[0].changes) == [("code found elsewhere", API_CODE), ("code found elsewhere", CARD_CODE)]
    assert entries[0].title == "paperwatch run 1: 2 code found elsewhere"
    assert entries[1].changes == []  # not new any more


def test_the_store_keeps_answers_and_schedules_the_next_ask(tmp_path: Path) -> None:
    from reports import suggestion_store

    db = str(tmp_path / "h.sqlite")
    now = datetime(2025, 3, 1, tzinfo=timezone.utc)
    with Store.open(db) as store:
        run = store.start_run(["x"], watched=[Paper("a", "A"), Paper("b", "B"), Paper("c", "C")])
        found = Suggestion("a", API_CODE, "hf-paper", "https://huggingface.co/papers/1", "the paper's Hugging Face page")
        suggestion_store.record(store, run, [PaperDiscovery("a", "1", (found,), asked=True),
                                             PaperDiscovery("b", "2", asked=True),
                                             PaperDiscovery("c", "3", notes=(), asked=False)], now)
        assert suggestion_store.due(store, ["a", "b", "c", "d"], now) == ["d", "c"]  # never asked first; not-asked: next run
        assert suggestion_store.due(store, ["a", "b"], datetime(2025, 3, 9, tzinfo=timezone.utc)) == ["b"]  # 7 days
        assert suggestion_store.due(store, ["a", "b"], datetime(2025, 4, 1, tzinfo=timezone.utc)) == ["a", "b"]  # 30 days
        assert [s.url for s in suggestion_store.current(store, ["a"])["a"]] == [API_CODE]
        # a complete answer that no longer names it withdraws it; an incomplete one withdraws nothing
        suggestion_store.record(store, run, [PaperDiscovery("a", "1", asked=True)], now)
        assert suggestion_store.current(store, ["a"]) == {}
        with store.engine.connect() as conn:
            kinds = dict(conn.execute(sa.text("select normalized, kind from links")).all())
        assert kinds[API_CODE] == "github-repo"  # a link row, so its checks are stored like any observation
        assert store.papers_of_run(run)[0][2] == []  # ... but no paper's link


def test_the_discovery_table_is_read_and_a_bad_entry_refused_in_one_line(tmp_path: Path) -> None:
    from checks.errors import ConfigError
    from flows.settings import PaperwatchSettings

    good = tmp_path / "paperwatch.toml"
    good.write_text('[discovery]\nmax_papers = 20\nnothing_days = 3\n'
                    f'accept = ["{API} https://github.com/Lab/API-code/", {{ paper = "{CARD}", url = "{CARD_CODE}" }}]\n')
    settings = PaperwatchSettings.load(str(good)).discovery
    assert settings.accept == ((API, "https://github.com/Lab/API-code"), (CARD, CARD_CODE))
    assert settings.budget().max_papers == 20 and settings.nothing_days == 3 and settings.enabled
    bad = tmp_path / "bad.toml"
    for text, message in ((f'[discovery]\naccept = ["{API}"]\n', 'discovery.accept: entry 1 (\'2401.20001\') must be "PAPER_ID URL"'),
                          ('[discovery]\naccept = "x y"\n', "discovery.accept: must be a list of"),
                          ('[discovery]\nmax_papers = 0\n', "discovery.max_papers: must be a positive integer"),
                          ('[discovery]\nask = true\n', "unknown key 'discovery.ask'")):
        bad.write_text(text)
        with pytest.raises(ConfigError) as refused:
            PaperwatchSettings.load(str(bad))
        assert message in str(refused.value) and "\n" not in str(refused.value)


def test_run_offers_accept_suggestions() -> None:
    from click.testing import CliRunner

    from flows.cli import main

    shown = CliRunner().invoke(main, ["run", "--help"])
    assert shown.exit_code == 0 and "--accept-suggestions" in shown.output


def test_the_digest_says_code_for_a_paper_appeared_in_every_format() -> None:
    from reports.digest import CODE_FOUND, DigestItem, RunFacts, build_digest
    from reports.found_elsewhere import appeared_reason
    from reports.suggestion_store import StoredSuggestion
    from checks.model import Observation, State

    stored = StoredSuggestion("p", API_CODE, "hf-paper", "https://huggingface.co/papers/1", "the paper's Hugging Face page",
                              (), 3, "", 3, "")
    alive = Observation(API_CODE, State.ALIVE, "repository exists", "github")
    item = DigestItem(API_CODE, CODE_FOUND, appeared_reason(stored, "A *bold* @team paper", alive))
    digest = build_digest(RunFacts(3, "2025-03-01T06:00:00+00:00", False, 5, 0), [], {}, found=[item])
    assert digest is not None and digest.title == "paperwatch run 3: 1 code found elsewhere"
    text = digest.text()
    assert "Code found elsewhere (suggestions, not the papers' own links) (1)" in text
    assert "code for \u201cA *bold* @\u2060team paper\u201d appeared: found via the paper's Hugging Face page, alive" in text
    assert f"<{API_CODE}>" in digest.markdown() and "A \\*bold\\*" in digest.markdown()  # a link; the title inert
    assert f'<a href="{API_CODE}">' in digest.html() and "<b>" not in digest.html()


def test_an_arxiv_id_cited_in_the_abstract_is_asked_about_and_two_are_ambiguous(tmp_path: Path) -> None:
    """A record with no arXiv id of its own and no arXiv link is asked about the one id its abstract cites;
    an abstract citing two ids names neither (it may cite another paper), and such a paper is not asked."""
    from checks.extract import read_papers
    from checks.model import Paper as ModelPaper
    from flows.discover import askable

    path = tmp_path / "cited.jsonl"
    path.write_text(json.dumps({"title": "Cited Paper", "abstract": "Preprint at arXiv:2401.20001v2. Code will be released."})
                    + "\n" + json.dumps({"title": "Two Ids", "abstract": "We extend arXiv:2401.20001 and arXiv:2402.00002."})
                    + "\n")
    cited, ambiguous = read_papers(str(path))
    assert cited.id == "cited-paper" and cited.cited_arxiv_id == "2401.20001"
    target = askable(cited)
    assert target is not None and target.arxiv_id == "2401.20001"
    assert ambiguous.cited_arxiv_id is None and askable(ambiguous) is None
    assert ModelPaper.from_dict(cited.to_dict()) == cited
