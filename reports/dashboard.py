"""``index.html``: the self-contained dashboard of one report, rendered from the typed report
(``reports.report_model.Report``) with the templates in reports/templates.

This module works out what the page needs beyond the report's own figures: each row's filter and
sort data, the filters' choices, the history chart's geometry, and the one script the page's
content security policy allows (by its hash).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from checks.model import State
from reports.headline import ATTENTION, ATTENTION_NOTES, attention, attention_rank
from reports.link_facts import citing_artifacts, day, display, evidence_details, link_facts, number, percent, safe_href, share, short_time
from reports.report_model import HISTORY_RUNS, STATE_ORDER, Report, report_of
from reports.report_rows import HistoryCell, PaperRow, RunRow
from reports.completeness_view import FILTER_ORDER as COMPLETENESS_ORDER
from reports.completeness_view import completeness_of, distribution, paper_completeness
from reports.rescue import COPY_AVAILABLE, code_note, rescue_line
from reports.vocabulary import AVAILABLE, FACETS, PROBLEMS, Attention, ConfirmRule, Facet, Grade, Outcome, Verdict

NOT_CHECKED = "none"  # the token (and CSS class) of a link a run did not check


def paper_anchor(paper_id: str) -> str:
    """The element id of a paper's row; its href is ``#`` + ``quote(...)`` of it."""
    return f"paper-{paper_id}"


def strip_segments(history: Sequence[HistoryCell | Mapping[str, Any]]) -> list[tuple[str, int, str]]:
    """The history strip as runs of equal state: (state, runs, "runs 3–14: alive"); one cell per run on screen."""
    cells = [cell if isinstance(cell, HistoryCell) else HistoryCell(cell["run"], State(cell["state"]) if cell.get("state") else None)
             for cell in history]
    segments: list[tuple[str, int, str]] = []
    first = 0
    for i, cell in enumerate(cells):
        state = cell.state.value if cell.state else NOT_CHECKED
        if i + 1 == len(cells) or cells[i + 1].state != cell.state:
            runs = [cells[first].run, cell.run]
            label = f"run {runs[0]}" if first == i else f"runs {runs[0]}–{runs[1]}"
            segments.append((state, i + 1 - first, f"{label}: {'not checked' if cell.state is None else state}"))
            first = i + 1
    return segments


def verdict_notes(rule: ConfirmRule) -> dict[Verdict, str]:
    """What a link's verdict chip means, on hover (README, "Link states")."""
    return {
        Verdict.DEAD: f"confirmed: {rule.sentence()}",
        Verdict.DEGRADED: "failing since its last good check, not (yet) confirmed dead",
        Verdict.RECOVERED: "answers again after a confirmed death",
    }


# Sort ranks: best outcome first; a facet with nothing linked last. Worst link state first.
_GRADES = tuple(grade for grade in Grade if grade is not Grade.NONE)


def _rank(word: str, order: Sequence[str]) -> int:
    return order.index(word) if word in order else len(order) + (word != Outcome.NONE)


def _token(word: Any) -> str:
    return str(word).replace(" ", "-")


def paper_stars(paper: PaperRow) -> int | None:
    """The most stars among the paper's repositories (None: no repository with a star count)."""
    counts = [link.details["stars"] for link in paper.links
              if isinstance(link.details.get("stars"), int) and not isinstance(link.details.get("stars"), bool)]
    return max(counts) if counts else None


def paper_last_commit(paper: PaperRow) -> str | None:
    """The latest commit (or push) date among the paper's repositories, ISO; None if none is known."""
    dates = [str(d.get("last_commit_at") or d.get("pushed_at")) for d in (link.details for link in paper.links)
             if d.get("last_commit_at") or d.get("pushed_at")]
    return max(dates) if dates else None


def row_meta(paper: PaperRow) -> dict[str, str]:
    """What the dashboard's script filters and sorts a paper's row by (its data attributes).

    ``sk``: each link's ``kind:state``; ``v``: ``attention:word``, ``facet:outcome`` and
    ``link:status`` words; ``r``: ranks for code, data, models, demo (best first) and the worst
    link state; ``a``: the attention rank; ``stars`` and ``commit``: the most stars and the latest
    commit among its repositories (empty when none is known).
    """
    words = paper.verdict.words()
    word = paper.attention or attention(paper)
    tokens = [f"attention:{_token(word)}"] + [f"{facet}:{_token(w)}" for facet, w in words.items()]
    tokens.append(f"artifacts:{_token(paper.verdict.artifacts)}")
    tokens += sorted({f"link:{link.verdict.status}" for link in paper.links if link.verdict})
    checklist = paper_completeness(paper)
    if checklist is not None:
        tokens.append(f"completeness:{checklist.token}")
    worst = min((State(link.state).severity if link.state else len(State) for link in paper.links), default=len(State) + 1)
    ranks = [_rank(words[facet], facet.order) for facet in FACETS] + [worst]
    stars = paper_stars(paper)
    return {"sk": " ".join(sorted({f"{link.kind}:{link.state or NOT_CHECKED}" for link in paper.links})),
            "v": " ".join(tokens), "r": ",".join(map(str, ranks)), "a": str(attention_rank(word)), "attention": word.value,
            "stars": "" if stars is None else str(stars), "commit": (paper_last_commit(paper) or "")[:10]}


FILTER_GROUPS = (("attention", "Needs"), ("artifacts", "Paper"), (Facet.CODE, "Code"), (Facet.DATA, "Data"),
                 (Facet.MODELS, "Models"), (Facet.DEMO, "Demo"), ("link", "Link verdict"), ("completeness", "Code completeness"))


def filter_options(papers: Sequence[PaperRow], metas: list[dict[str, str]]) -> dict[str, Any]:
    """The filters' choices, only values that occur, each with how many papers it would show."""
    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for paper, meta in zip(papers, metas):
        states.update({link.state.value if link.state else NOT_CHECKED for link in paper.links})
        kinds.update({link.kind for link in paper.links})
        verdicts.update(meta["v"].split())
    order = STATE_ORDER + [NOT_CHECKED]
    verdict_groups = []
    for facet, label in FILTER_GROUPS:
        ranking: Sequence[str] = (ATTENTION if facet == "attention" else Facet(facet).order if facet in FACETS
                                  else COMPLETENESS_ORDER if facet == "completeness" else _GRADES)
        values = sorted((v for v in verdicts if v.startswith(facet + ":")),
                        key=lambda v: (_rank(v.split(":", 1)[1].replace("-", " "), ranking), v))
        if values:
            verdict_groups.append((label, [(v, v.split(":", 1)[1].replace("-", " "), verdicts[v]) for v in values]))
    return {
        "state": [(s, "not checked" if s == NOT_CHECKED else s, states[s])
                  for s in sorted(states, key=lambda s: (order.index(s) if s in order else len(order), s))],
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


def state_chart(runs: Sequence[RunRow], width: int = 720, height: int = 120, slots: int = HISTORY_RUNS) -> dict[str, Any]:
    """Geometry of the stacked bars of link states per run, oldest left (drawn as inline SVG, no script)."""
    top = max((sum(r.counts.values()) for r in runs), default=0) or 1
    slot = width / max(len(runs), slots)
    bar_width = round(slot * 0.7, 2)
    bars = []
    for i, r in enumerate(runs):
        y = float(height)
        segments = []
        for state in STATE_ORDER:
            n = r.counts.get(state, 0)
            if n:
                h = height * n / top
                y -= h
                segments.append((state, round(y, 2), round(h, 2)))
        counts = ", ".join(f"{state} {r.counts[state]}" for state in STATE_ORDER if r.counts.get(state))
        bars.append(Bar(x=round(i * slot + (slot - bar_width) / 2, 2), label=f"#{r.id}", day=day(r.started_at)[5:],
                        title=f"run {r.id}, {short_time(r.started_at)} UTC{' (offline)' if r.offline else ''}: {counts or 'no links'}",
                        segments=segments))
    return {"width": width, "height": height, "bar_width": bar_width, "top": top, "bars": bars}


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
                       paper_anchor=paper_anchor, facets=FACETS, citing_artifacts=citing_artifacts,
                       attention_notes=ATTENTION_NOTES, attention_order=ATTENTION, available_outcomes=AVAILABLE,
                       problem_words=PROBLEMS, Outcome=Outcome, Grade=Grade, Attention=Attention, Facet=Facet,
                       rescue_line=rescue_line, code_note=code_note, copy_available=COPY_AVAILABLE,
                       completeness_of=completeness_of)
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


PAGE_PAPERS = 5000  # papers a page of the dashboard: about 11 MB of HTML, which a browser opens in seconds


@dataclass(frozen=True)
class Page:
    """One page of a dashboard too large for one: its number, and which papers (1-based, in list order) it shows."""

    number: int
    total: int
    first: int
    last: int
    papers: int

    @property
    def file(self) -> str:
        return page_file(self.number)


def page_file(number: int) -> str:
    """The file of page ``number``: ``index.html`` first, then ``papers-2.html``, ``papers-3.html``, …"""
    return "index.html" if number == 1 else f"papers-{number}.html"


def render_html(report: Report | Mapping[str, Any]) -> str:
    """The self-contained dashboard, every paper on one page (``render_pages`` cuts a large one)."""
    return render_pages(report, page_size=None)[0]


def render_pages(report: Report | Mapping[str, Any], page_size: int | None = PAGE_PAPERS) -> list[str]:
    """The dashboard, complete without script; filters, search and sorting with it.

    Papers with links are listed by what they need (``attention``: problems first), in input order
    within each group; the papers that link nothing are folded into one group after them. More
    than ``page_size`` papers are cut into pages in that order (``index.html`` holds those that need
    attention first); each page carries the whole run's summary, and its controls work on its papers.
    """
    report = report_of(report)
    script, script_source = dashboard_script()
    papers = report.papers
    metas = [row_meta(paper) for paper in papers]
    link_papers: dict[str, list[tuple[str, str]]] = {}
    for paper in papers:
        for link in paper.links:
            link_papers.setdefault(link.normalized, []).append((paper.id, paper.title))
    order = sorted(range(len(papers)), key=lambda i: (int(metas[i]["a"]), i))
    listed = [i for i in order if papers[i].links] + [i for i in order if not papers[i].links]
    size = max(1, page_size or len(listed) or 1)
    cuts = [listed[start:start + size] for start in range(0, len(listed), size)] or [[]]
    page_of = {papers[i].id: at for at, cut in enumerate(cuts, 1) for i in cut}
    rule = report.run.confirm_rule.sentence()
    common = dict(
        report=report, states=STATE_ORDER, csp=content_security_policy(script_source),
        script=Markup(script), chart=state_chart(report.runs), options=filter_options(papers, metas),
        link_papers=link_papers, change_counts=report.changes_by_kind(), figures=report.summary.facets,
        headline=report.summary.headline, attention_counts=report.summary.attention,
        verdict_notes=verdict_notes(report.run.confirm_rule), dead_rule=f"{rule[:1].upper()}{rule[1:]}.",
        completeness=distribution(papers))
    pages = []
    template = _templates().get_template("report.html")
    for at, cut in enumerate(cuts, 1):
        first = (at - 1) * size + 1
        page = Page(at, len(cuts), first, first + len(cut) - 1, len(listed))

        def paper_href(paper_id: str, here: int = at) -> str:
            there = page_of.get(paper_id, here)
            return ("" if there == here else page_file(there)) + "#" + quote(paper_anchor(paper_id), safe="")

        pages.append(template.render(
            **common, rows=[(papers[i], metas[i]) for i in cut if papers[i].links],
            folded=[(papers[i], metas[i]) for i in cut if not papers[i].links],
            page=page, page_file=page_file, paper_href=paper_href))
    return pages
