"""The report of one run: ``report.json`` (versioned, documented in README), ``index.html``,
``links.csv`` and ``summary.md``.

All are built from the history store, so a report can be rebuilt for any past run and
always shows history. Files are written atomically: a reader never sees half a report.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from checks.model import LinkKind, State
from reports.exports import links_csv, summary_markdown
from reports.store import Store
from reports.transitions import VERDICT_DAYS, compare_runs
from reports.headline import ATTENTION, ATTENTION_NOTES, attention, attention_rank, facet_figures, figures_of, headline
from reports.verdicts import AVAILABLE, FACETS, CitedObservation, Outcome, facet_order, link_verdict, paper_verdict

REPORT_SCHEMA_VERSION = 3  # 3: summary.facets (available, split) replaces the "working" shares; paper.attention;
# run.readings (how each input was read)
# 2: verdict.models; verdict.data and the data shares count datasets only
HISTORY_RUNS = 14
STATE_ORDER = [s.value for s in State]


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    json: Path
    csv: Path
    markdown: Path


def build_report(store: Store, run_id: int, history_runs: int = HISTORY_RUNS) -> dict[str, Any]:
    """The report document for ``run_id`` (plain JSON-able data)."""
    run = store.run(run_id)
    history = [r for r in store.runs(limit=history_runs, up_to=run_id) if r.id != run_id] + [run]
    run_ids = [r.id for r in history]
    observed = store.observations_of_runs(run_ids)
    current = observed[run_id]
    since = (datetime.fromisoformat(run.started_at) - timedelta(days=VERDICT_DAYS)).isoformat()
    histories = store.link_histories(list(current), since, run_id)
    verdicts = {url: link_verdict(histories.get(url, [])) for url in current}

    paper_entries = []
    for paper_id, title, cited in store.papers_of_run(run_id):
        link_entries = []
        for link in cited:
            obs = current.get(link.normalized)
            entry: dict[str, Any] = {
                "url": link.url, "normalized": link.normalized, "kind": link.kind, "claim": link.claim,
                "promise": link.promise, "history": [
                    {"run": rid, "state": observed[rid][link.normalized].state.value if link.normalized in observed[rid] else None}
                    for rid in run_ids
                ],
            }
            entry["verdict"] = (verdicts.get(link.normalized) or link_verdict([])).to_dict()
            if obs is not None:
                data = obs.to_dict()
                entry.update(state=data["state"], reason=data["reason"], checker=data["checker"], evidence=data["evidence"],
                             suggested_url=data["suggested_url"], details=data["details"], checked_at=data["checked_at"])
            else:
                entry.update(state=None, reason="not checked in this run", evidence=None, details={})
            link_entries.append(entry)
        cited_obs = [CitedObservation(c.normalized, c.kind, c.claim, c.promise, current.get(c.normalized)) for c in cited]
        verdict = _with_models_facet(paper_verdict(cited_obs).__dict__, cited_obs)
        paper_entries.append({"id": paper_id, "title": title, "verdict": verdict, "links": link_entries})

    by_state = Counter(o.state.value for o in current.values())
    cited_anywhere = {link["normalized"]: link["papers"] for link in _papers_per_link(paper_entries)}
    comparison = compare_runs(store, run_ids[-2] if len(run_ids) > 1 else None, run_id, observed, verdicts)
    changes = [t.to_dict() for t in comparison.transitions]
    for change in changes:
        change["papers"] = cited_anywhere.get(change["url"], [])
    newly_dead = frozenset(change["url"] for change in changes if change["change"] == "newly dead")
    for paper in paper_entries:
        paper["attention"] = attention(paper, newly_dead)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "run": {
            "id": run.id, "started_at": run.started_at, "finished_at": run.finished_at, "status": run.status,
            "offline": run.offline, "sources": run.sources, "notes": run.notes, "flow_run_id": run.flow_run_id,
            "readings": store.readings_of_run(run_id),
        },
        "summary": {
            "papers": len(paper_entries),
            "papers_with_links": sum(1 for p in paper_entries if p["links"]),
            "links": len(current),
            "by_state": {s: by_state.get(s, 0) for s in STATE_ORDER},
            "facets": {facet: figures.to_dict() for facet, figures in facet_figures(paper_entries).items()},
            "attention": dict(Counter(p["attention"] for p in paper_entries)),
        },
        "changes": changes,
        "runs": [{"id": r.id, "started_at": r.started_at, "offline": r.offline,
                  "counts": {s: r.counts.get(s, 0) for s in STATE_ORDER}} for r in history],
        "papers": paper_entries,
    }


def _is_model_link(link: CitedObservation) -> bool:
    return link.kind == LinkKind.HF_MODEL.value or (link.claim == "model" and link.kind != LinkKind.HF_DATASET.value)


def _with_models_facet(verdict: dict[str, Any], cited: Sequence[CitedObservation]) -> dict[str, Any]:
    """Readers ask "are the weights there?" apart from "is the data there?": split the verdict's data facet.

    The verdict judges models and datasets together; judging each group alone with the same
    rules gives ``data`` (datasets) and ``models`` without a second set of rules to drift.
    """
    if "models" in verdict:
        return verdict
    models = [link for link in cited if _is_model_link(link)]
    datasets = [link for link in cited if not _is_model_link(link)]
    return {**verdict, "data": paper_verdict(datasets).data, "models": paper_verdict(models).data}


def _papers_per_link(paper_entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    index: dict[str, list[str]] = {}
    for paper in paper_entries:
        for link in paper["links"]:
            index.setdefault(link["normalized"], []).append(paper["title"])
    return [{"normalized": url, "papers": titles} for url, titles in index.items()]


def safe_href(url: Any) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if not isinstance(url, str):
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


HIDDEN_DETAILS = frozenset({"etag", "not_modified"})  # bookkeeping for conditional requests, not news for a reader


def display(value: Any) -> str:
    """A detail value as a person reads it: no Python reprs in the report."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {display(item)}" for key, item in value.items() if item is not None)
    if isinstance(value, (list, tuple)):
        return ", ".join(display(item) for item in value) or "—"
    return str(value)


def number(value: Any) -> str:
    """Counts as people read them: 12,345."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else display(value)


def percent(value: Any) -> str:
    """Uptime as people read it: 100 %, 92.9 %, – when nothing could be told."""
    return "–" if not isinstance(value, (int, float)) else f"{value:g} %"


def short_time(iso: Any) -> str:
    return iso[:16].replace("T", " ") if isinstance(iso, str) else ""


def day(iso: Any) -> str:
    return iso[:10] if isinstance(iso, str) else ""


def share(part: int, whole: int) -> str:
    """A share as a whole percentage; "–" when there is nothing to share."""
    return f"{round(100 * part / whole)} %" if whole else "–"


def paper_anchor(paper_id: str) -> str:
    """The element id of a paper's row; its href is ``#`` + ``quote(...)`` of it."""
    return f"paper-{paper_id}"


@dataclass(frozen=True)
class Fact:
    """One short fact shown beside a link (``flag`` marks it as a warning chip)."""

    text: str
    title: str | None = None
    flag: str | None = None


# Metadata shown as facts beside the link, so not repeated in its evidence list.
_REPO_FACT_KEYS = frozenset({"stars", "last_commit_at", "pushed_at", "latest_release", "archived", "disabled", "empty", "placeholder",
                             "readme_promise", "fork", "parent", "activity", "metadata_not_refreshed", "source_repo"})
_HUB_FACT_KEYS = frozenset({"downloads", "likes", "last_modified", "gated", "private", "disabled", "has_weights", "stage", "source_repo"})
_PAPER_FACT_KEYS = frozenset({"discovered", "discovered_total", "discovery_incomplete", "source_repo"})
_REPO_FLAGS = (("archived", "archived", "archived"), ("disabled", "disabled", "dead"), ("empty", "empty", "placeholder"),
               ("placeholder", "placeholder", "placeholder"), ("readme_promise", "README promises code", "promised"), ("fork", "fork", "none"))


def _repo_facts(d: dict[str, Any]) -> list[Fact]:
    facts = []
    if d.get("stars") is not None:
        facts.append(Fact(f"★ {number(d['stars'])}", "stars"))
    if d.get("last_commit_at"):
        facts.append(Fact(f"last commit {day(d['last_commit_at'])}"))
    elif d.get("pushed_at"):
        facts.append(Fact(f"last push {day(d['pushed_at'])}"))
    if "latest_release" in d:
        release = d["latest_release"]
        if isinstance(release, dict):
            published = f" ({day(release.get('published_at'))})" if release.get("published_at") else ""
            facts.append(Fact(f"release {display(release.get('tag'))}{published}"))
        else:
            facts.append(Fact("no release"))
    for key, text, flag in _REPO_FLAGS:
        if d.get(key) is True and not (key == "placeholder" and d.get("empty")):
            facts.append(Fact(text + (f" of {d['parent']}" if key == "fork" and d.get("parent") else ""), None, flag))
    if d.get("activity") in ("active", "quiet", "stale"):
        facts.append(Fact(d["activity"], "activity, from the last commit: beside whether the code is there, never instead of it"))
    if d.get("metadata_not_refreshed"):
        facts.append(Fact("metadata not refreshed", display(d["metadata_not_refreshed"]), "unknown"))
    return facts


def _hub_facts(d: dict[str, Any]) -> list[Fact]:
    facts = []
    if d.get("downloads") is not None:
        facts.append(Fact(f"↓ {number(d['downloads'])}", "downloads"))
    if d.get("likes") is not None:
        facts.append(Fact(f"♥ {number(d['likes'])}", "likes"))
    if d.get("last_modified"):
        facts.append(Fact(f"modified {day(d['last_modified'])}"))
    if d.get("gated"):
        facts.append(Fact("gated" + (f" ({d['gated']})" if isinstance(d["gated"], str) else ""), None, "gated"))
    for key in ("private", "disabled"):
        if d.get(key) is True:
            facts.append(Fact(key, None, "dead"))
    if d.get("has_weights") is False:
        facts.append(Fact("no weight files", None, "placeholder"))
    if d.get("stage"):
        facts.append(Fact(f"stage {d['stage']}", None, "error" if "ERROR" in str(d["stage"]).upper() else None))
    return facts


def _fact_keys(d: dict[str, Any]) -> frozenset[str]:
    """Which metadata the facts line shows: a repository's (GitHub API), a Hub artifact's, or a Hub paper page's."""
    if "full_name" in d:
        return _REPO_FACT_KEYS
    if "discovered" in d:
        return _PAPER_FACT_KEYS
    return _HUB_FACT_KEYS if {"downloads", "likes", "stage"} & d.keys() else frozenset({"source_repo"})


def link_facts(link: dict[str, Any]) -> list[Fact]:
    """What a reader scans for: stars, last commit, release, archived/placeholder; downloads, likes, gated, stage."""
    d = link.get("details") or {}
    keys = _fact_keys(d)
    facts = _repo_facts(d) if keys is _REPO_FACT_KEYS else _hub_facts(d) if keys is _HUB_FACT_KEYS else []
    if keys is _PAPER_FACT_KEYS and d.get("discovery_incomplete"):
        facts.append(Fact("discovery incomplete", display(d["discovery_incomplete"]), "unknown"))
    if d.get("source_repo"):
        facts.append(Fact(f"built from {display(d['source_repo'])}"))
    return facts


HUB_KINDS = (("models", "model", ""), ("datasets", "dataset", "datasets/"), ("spaces", "space", "spaces/"))
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
CITING_SHOWN = 5  # links per kind; the rest are counted


@dataclass(frozen=True)
class CitingGroup:
    """One kind of Hub artifact citing a paper: "28 models", the first few as (id, https link), how many more."""

    label: str
    links: tuple[tuple[str, str], ...]
    more: int


def hub_page(prefix: str, repo_id: Any) -> str | None:
    """The artifact's https://huggingface.co page, only for ids shaped as the Hub's are (the API text is untrusted)."""
    if not isinstance(repo_id, str) or not _HUB_ID.match(repo_id) or ".." in repo_id:
        return None
    return f"https://huggingface.co/{prefix}{repo_id}"


def citing_artifacts(link: dict[str, Any]) -> list[CitingGroup]:
    """For an hf-paper link: the models, datasets and spaces the Hub says cite the paper ("on the Hub: ... cite this paper")."""
    d = link.get("details") or {}
    found = d.get("discovered")
    if link.get("kind") != LinkKind.HF_PAPER.value or not isinstance(found, dict):
        return []
    totals = d.get("discovered_total") if isinstance(d.get("discovered_total"), dict) else {}
    groups = []
    for key, noun, prefix in HUB_KINDS:
        ids = found.get(key) if isinstance(found.get(key), list) else []
        total = totals.get(key)
        count = max(len(ids), total if isinstance(total, int) and not isinstance(total, bool) else 0)
        pages = [(repo_id, page) for repo_id, page in ((i, hub_page(prefix, i)) for i in ids[:CITING_SHOWN]) if page]
        groups.append(CitingGroup(f"{number(count)} {noun}{'' if count == 1 else 's'}", tuple(pages), count - len(pages)))
    return groups


def evidence_details(link: dict[str, Any]) -> list[tuple[str, Any]]:
    """The metadata not already shown as facts, without the noise of "no" flags and bookkeeping."""
    d = link.get("details") or {}
    hidden = _fact_keys(d) | HIDDEN_DETAILS
    return [(key.replace("_", " "), value) for key, value in d.items()
            if not (value is None or value is False or value in ([], {}, "")) and key not in hidden]


def strip_segments(history: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """The history strip as runs of equal state: (state, runs, "runs 3–14: alive"); one cell per run on screen."""
    segments: list[tuple[str, int, str]] = []
    first = 0
    for i, entry in enumerate(history):
        state = entry.get("state") or "none"
        if i + 1 == len(history) or (history[i + 1].get("state") or "none") != state:
            runs = [history[first]["run"], entry["run"]]
            label = f"run {runs[0]}" if first == i else f"runs {runs[0]}–{runs[1]}"
            segments.append((state, i + 1 - first, f"{label}: {'not checked' if state == 'none' else state}"))
            first = i + 1
    return segments


# What a link's verdict chip means, on hover (README, "Link states").
VERDICT_NOTES = {
    "dead": "confirmed: the server said it is gone in 2 checks at least 20 h apart",
    "degraded": "failing since its last good check, not (yet) confirmed dead",
    "recovered": "answers again after a confirmed death",
}


# Sort ranks: best outcome first; a facet with nothing linked last. Worst link state first.
_STATE_SEVERITY = ("dead", "error", "blocked", "unknown", "skipped", "moved", "alive")


def _rank(word: str, order: Sequence[str]) -> int:
    return order.index(word) if word in order else len(order) + (word != Outcome.NONE)


def _token(word: Any) -> str:
    return str(word).replace(" ", "-")


def paper_stars(paper: dict[str, Any]) -> int | None:
    """The most stars among the paper's repositories (None: no repository with a star count)."""
    counts = [d["stars"] for d in ((link.get("details") or {}) for link in paper["links"])
              if isinstance(d.get("stars"), int) and not isinstance(d.get("stars"), bool)]
    return max(counts) if counts else None


def paper_last_commit(paper: dict[str, Any]) -> str | None:
    """The latest commit (or push) date among the paper's repositories, ISO; None if none is known."""
    dates = [str(d.get("last_commit_at") or d.get("pushed_at")) for d in ((link.get("details") or {}) for link in paper["links"])
             if d.get("last_commit_at") or d.get("pushed_at")]
    return max(dates) if dates else None


def row_meta(paper: dict[str, Any]) -> dict[str, str]:
    """What the dashboard's script filters and sorts a paper's row by (its data attributes).

    ``sk``: each link's ``kind:state``; ``v``: ``attention:word``, ``facet:outcome`` and
    ``link:status`` words; ``r``: ranks for code, data, models, demo (best first) and the worst
    link state; ``a``: the attention rank; ``stars`` and ``commit``: the most stars and the latest
    commit among its repositories (empty when none is known).
    """
    verdict = paper["verdict"]
    links = paper["links"]
    words = {facet: str(verdict.get(facet) or Outcome.NONE) for facet in FACETS}
    word = paper.get("attention") or attention(paper)
    tokens = [f"attention:{_token(word)}"] + [f"{facet}:{_token(w)}" for facet, w in words.items()]
    if verdict.get("artifacts"):
        tokens.append(f"artifacts:{_token(verdict['artifacts'])}")
    tokens += sorted({f"link:{link['verdict']['status']}" for link in links if link.get("verdict")})
    worst = min((_STATE_SEVERITY.index(link["state"]) if link.get("state") in _STATE_SEVERITY else len(_STATE_SEVERITY)
                 for link in links), default=len(_STATE_SEVERITY) + 1)
    ranks = [_rank(words[facet], facet_order(facet)) for facet in FACETS] + [worst]
    stars = paper_stars(paper)
    return {"sk": " ".join(sorted({f"{link['kind']}:{link.get('state') or 'none'}" for link in links})),
            "v": " ".join(tokens), "r": ",".join(map(str, ranks)), "a": str(attention_rank(word)), "attention": word,
            "stars": "" if stars is None else str(stars), "commit": (paper_last_commit(paper) or "")[:10]}


FILTER_GROUPS = (("attention", "Needs"), ("artifacts", "Paper"), ("code", "Code"), ("data", "Data"), ("models", "Models"),
                 ("demo", "Demo"), ("link", "Link verdict"))


def filter_options(papers: list[dict[str, Any]], metas: list[dict[str, str]]) -> dict[str, Any]:
    """The filters' choices, only values that occur, each with how many papers it would show."""
    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for paper, meta in zip(papers, metas):
        states.update({link.get("state") or "none" for link in paper["links"]})
        kinds.update({link["kind"] for link in paper["links"]})
        verdicts.update(meta["v"].split())
    order = STATE_ORDER + ["none"]
    verdict_groups = []
    for facet, label in FILTER_GROUPS:
        ranking: Sequence[str] = (ATTENTION if facet == "attention" else facet_order(facet) if facet in FACETS
                                  else ("available", "partial", "unavailable", "unknown"))
        values = sorted((v for v in verdicts if v.startswith(facet + ":")),
                        key=lambda v: (_rank(v.split(":", 1)[1].replace("-", " "), ranking), v))
        if values:
            verdict_groups.append((label, [(v, v.split(":", 1)[1].replace("-", " "), verdicts[v]) for v in values]))
    return {
        "state": [(s, "not checked" if s == "none" else s, states[s]) for s in sorted(states, key=lambda s: (order.index(s) if s in order else len(order), s))],
        "kind": [(k, k, kinds[k]) for k in sorted(kinds)],
        "verdict": verdict_groups,
    }


@dataclass(frozen=True)
class Bar:
    x: float
    label: str
    day: str
    title: str
    segments: list[tuple[str, float, float]]  # state, y, height


def state_chart(runs: list[dict[str, Any]], width: int = 720, height: int = 120, slots: int = HISTORY_RUNS) -> dict[str, Any]:
    """Geometry of the stacked bars of link states per run, oldest left (drawn as inline SVG, no script)."""
    top = max((sum(r["counts"].values()) for r in runs), default=0) or 1
    slot = width / max(len(runs), slots)
    bar_width = round(slot * 0.7, 2)
    bars = []
    for i, r in enumerate(runs):
        y = float(height)
        segments = []
        for state in STATE_ORDER:
            n = r["counts"].get(state, 0)
            if n:
                h = height * n / top
                y -= h
                segments.append((state, round(y, 2), round(h, 2)))
        counts = ", ".join(f"{state} {r['counts'][state]}" for state in STATE_ORDER if r["counts"].get(state))
        bars.append(Bar(x=round(i * slot + (slot - bar_width) / 2, 2), label=f"#{r['id']}", day=day(r["started_at"])[5:],
                        title=f"run {r['id']}, {short_time(r['started_at'])} UTC{' (offline)' if r.get('offline') else ''}: {counts or 'no links'}",
                        segments=segments))
    return {"width": width, "height": height, "bar_width": bar_width, "top": top, "bars": bars}


def changes_by_kind(changes: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Counts per kind of change: the three readers ask about first, then any other kind that occurred."""
    counts = Counter(str(change.get("change")) for change in changes)
    first = ["newly dead", "recovered", "moved"]
    return [(kind, counts.get(kind, 0)) for kind in first] + sorted((k, n) for k, n in counts.items() if k not in first)


class _DedentingLoader(PackageLoader):
    """The templates' indentation is for their readers: dropped at load, it would be a megabyte per 10,000 papers."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        return _INDENT.sub("\n", source), filename, uptodate


_INDENT = re.compile(r"\n[ \t]+")


def _environment() -> Environment:
    env = Environment(loader=_DedentingLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(safe_href=safe_href, display=display, short_time=short_time, day=day, number=number, percent=percent,
                       urlquote=lambda text: quote(str(text), safe=""), token=_token)
    env.globals.update(link_facts=link_facts, evidence_details=evidence_details, strip_segments=strip_segments, share=share,
                       paper_anchor=paper_anchor, facets=FACETS, verdict_notes=VERDICT_NOTES, citing_artifacts=citing_artifacts,
                       attention_notes=ATTENTION_NOTES, attention_order=ATTENTION, available_outcomes=AVAILABLE,
                       problem_words=ATTENTION[:5])
    return env


@functools.cache
def _templates() -> Environment:
    return _environment()


@functools.cache
def dashboard_script() -> tuple[str, str]:
    """The report's only script and its CSP source (``'sha256-…'``): the policy allows exactly this script."""
    script = _templates().get_template("report_script.html").render()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return script, f"'sha256-{digest}'"


def content_security_policy(script_source: str) -> str:
    """Nothing from the network, ever; one script, allowed by its hash (never 'unsafe-inline'); inline styles."""
    return (f"default-src 'none'; script-src {script_source}; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def render_html(report: dict[str, Any]) -> str:
    """The self-contained dashboard: complete without script; filters, search and sorting with it.

    Papers with links are listed by what they need (``attention``: problems first), in input order
    within each group; the papers that link nothing are folded into one group after them.
    """
    script, script_source = dashboard_script()
    papers = report["papers"]
    metas = [row_meta(paper) for paper in papers]
    link_papers: dict[str, list[tuple[str, str]]] = {}
    for paper in papers:
        for link in paper["links"]:
            link_papers.setdefault(link["normalized"], []).append((paper["id"], paper["title"]))
    order = sorted(range(len(papers)), key=lambda i: (int(metas[i]["a"]), i))
    rows = [(papers[i], metas[i]) for i in order if papers[i]["links"]]
    folded = [(papers[i], metas[i]) for i in order if not papers[i]["links"]]
    summary = report["summary"]
    figures = figures_of(summary) if "facets" in summary else facet_figures(papers)
    return _templates().get_template("report.html").render(
        report=report, rows=rows, folded=folded, states=STATE_ORDER, csp=content_security_policy(script_source),
        script=Markup(script), chart=state_chart(report["runs"]), options=filter_options(papers, metas),
        link_papers=link_papers, change_counts=changes_by_kind(report["changes"]), figures=figures,
        headline=headline(figures), attention_counts=Counter(meta["attention"] for meta in metas))


def _atomic_write(path: Path, text: str) -> None:
    """Write beside the target and rename over it; readable like any report (mkstemp alone gives 0600)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> ReportPaths:
    """All four outputs; the HTML last, so that a reader who sees the new page finds the new data beside it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(html=out / "index.html", json=out / "report.json", csv=out / "links.csv", markdown=out / "summary.md")
    # Compact: indenting 10,000 papers takes Python's slow encoder 7 s; `jq .` indents for a reader.
    _atomic_write(paths.json, json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n")
    _atomic_write(paths.csv, links_csv(report))
    _atomic_write(paths.markdown, summary_markdown(report))
    _atomic_write(paths.html, render_html(report))
    return paths
