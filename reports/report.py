"""The report of one run: built from the history store (``build_report``, a typed
``reports.report_model.Report``) and written as ``report.json`` (versioned, documented in README),
``index.html``, ``links.csv`` and ``summary.md`` (``write_report``).

All are built from the history store, so a report can be rebuilt for any past run and
always shows history. Files are written atomically: a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from checks.archive_model import ArchiveLookup, SaveRequest
from checks.model import LinkKind, Observation
from reports import archive_store, suggestion_store
from reports.dashboard import PAGE_PAPERS, page_file, render_html, render_pages, strip_segments  # noqa: F401  (the report's public names)
from reports.exports import links_csv, suggestions_csv, summary_markdown
from reports.found_elsewhere import accepted_links, suggestion_rows, suggestions_markdown
from reports.headline import attention
from reports.link_facts import display  # noqa: F401
from reports.report_model import HISTORY_RUNS, STATE_ORDER, Report, Summary, report_of  # noqa: F401
from reports.report_rows import ChangeRow, HistoryCell, LinkRow, PaperRow, PaperWords, RunInfo, RunRow
from reports.store import CitedLink, Store
from reports.transitions import VERDICT_DAYS, compare_runs
from reports.verdicts import CitedObservation, LinkVerdict, facet_of, link_verdict, paper_verdict
from reports.vocabulary import Change, ConfirmRule, Facet, Grade, Outcome

REPORT_SCHEMA_VERSION = 3  # 3: summary.facets (available, split) replaces the "working" shares; paper.attention;
# run.readings (how each input was read); run.confirm_rule (added later, same schema: a new key only);
# link.archive and link.save_request (rescue, added later, same schema: new keys only, null when none);
# paper.suggestions (code found elsewhere, added later, same schema: a new key only, [] when none)
# 2: verdict.models; verdict.data and the data shares count datasets only


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    json: Path
    csv: Path
    markdown: Path
    pages: tuple[Path, ...] = ()  # the dashboard's further pages (papers-2.html, …) when it has more than one


def _link_row(link: CitedLink, run_ids: Sequence[int], observed: Mapping[int, Mapping[str, Observation]],
              verdict: LinkVerdict, archive: ArchiveLookup | None = None, save_request: SaveRequest | None = None) -> LinkRow:
    obs = observed[run_ids[-1]].get(link.normalized)
    history = tuple(HistoryCell(rid, observed[rid][link.normalized].state if link.normalized in observed[rid] else None)
                    for rid in run_ids)
    row = LinkRow(url=link.url, normalized=link.normalized, kind=link.kind, claim=link.claim, promise=link.promise,
                  history=history, verdict=verdict, state=None, reason="not checked in this run", evidence=None, details={},
                  observed=False, archive=archive, save_request=save_request)
    if obs is None:
        return row
    data = obs.to_dict()
    return replace(row, state=obs.state, reason=data["reason"], checker=data["checker"], evidence=data["evidence"],
                   suggested_url=data["suggested_url"], details=data["details"], checked_at=data["checked_at"], observed=True)


def build_report(store: Store, run_id: int, history_runs: int = HISTORY_RUNS, *,
                 rule: ConfirmRule = ConfirmRule()) -> Report:
    """The report of ``run_id``, its links judged by ``rule``."""
    run = store.run(run_id)
    history = [r for r in store.runs(limit=history_runs, up_to=run_id) if r.id != run_id] + [run]
    run_ids = [r.id for r in history]
    observed = store.observations_of_runs(run_ids)
    current = observed[run_id]
    since = (datetime.fromisoformat(run.started_at) - timedelta(days=VERDICT_DAYS)).isoformat()
    histories = store.link_histories(list(current), since, run_id)
    verdicts = {url: link_verdict(histories.get(url, []), rule=rule) for url in current}

    watched = store.papers_of_run(run_id)
    cited_urls = [link.normalized for _, _, cited in watched for link in cited]
    archives, saves = archive_store.lookups(store, cited_urls), archive_store.saved(store, cited_urls)  # rescue
    papers = []
    for paper_id, title, cited in watched:
        links = tuple(_link_row(link, run_ids, observed, verdicts.get(link.normalized) or link_verdict([], rule=rule),
                                archives.get(link.normalized), saves.get(link.normalized))
                      for link in cited)
        cited_obs = [CitedObservation(c.normalized, c.kind, c.claim, c.promise, current.get(c.normalized)) for c in cited]
        papers.append(PaperRow(paper_id, title, _paper_words(cited_obs), links))

    cited_by: dict[str, list[str]] = {}
    for paper in papers:
        for link in paper.links:
            cited_by.setdefault(link.normalized, []).append(paper.title)
    comparison = compare_runs(store, run_ids[-2] if len(run_ids) > 1 else None, run_id, observed, verdicts, rule=rule)
    changes = tuple(ChangeRow(**vars(t), papers=tuple(cited_by.get(t.url, []))) for t in comparison.transitions)
    newly_dead = frozenset(change.url for change in changes if change.change is Change.NEWLY_DEAD)
    papers = [replace(paper, attention=attention(paper, newly_dead)) for paper in papers]
    # code found elsewhere: checked in this run, but no paper's link (nor counted as one) unless accepted
    accepted = suggestion_store.accepted(store)
    found = suggestion_rows(papers, suggestion_store.current(store, [p.id for p in papers]), accepted, current, run_id)
    cited = set(cited_urls)
    current = {url: o for url, o in current.items() if url in cited}
    by_state = Counter(o.state.value for o in current.values())
    return Report(
        schema_version=REPORT_SCHEMA_VERSION,
        generated_at=datetime.now(timezone.utc).isoformat(),
        run=RunInfo(id=run.id, started_at=run.started_at, finished_at=run.finished_at, status=run.status, offline=run.offline,
                    sources=tuple(run.sources), notes=tuple(run.notes), flow_run_id=run.flow_run_id,
                    readings=tuple(store.readings_of_run(run_id)), confirm_rule=rule),
        summary=Summary.count(papers, by_state, len(current)),
        changes=changes,
        runs=tuple(RunRow(r.id, r.started_at, r.offline, {s: r.counts.get(s, 0) for s in STATE_ORDER}) for r in history),
        papers=tuple(papers), found_elsewhere=found, accepted=accepted_links(papers, accepted),
    )


def _is_model_link(link: CitedObservation) -> bool:
    return link.kind == LinkKind.HF_MODEL.value or (link.claim == "model" and link.kind != LinkKind.HF_DATASET.value)


def _paper_words(cited: Sequence[CitedObservation]) -> PaperWords:
    """The verdict's words, with its data facet split: readers ask "are the weights there?" apart from
    "is the data there?". The verdict judges models and datasets together; judging each group alone
    with the same rules gives ``data`` (datasets) and ``models`` without a second set of rules to drift.
    """
    verdict = paper_verdict(cited)
    data = [link for link in cited if facet_of(link) is Facet.DATA]  # only they decide a verdict's ``data``
    models = [link for link in data if _is_model_link(link)]
    datasets = [link for link in data if not _is_model_link(link)]
    return PaperWords(code=Outcome(verdict.code), data=Outcome(paper_verdict(datasets).data), demo=Outcome(verdict.demo),
                      explanation=verdict.explanation, artifacts=Grade(verdict.artifacts),
                      models=Outcome(paper_verdict(models).data))


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


def write_report(report: Report | Mapping[str, Any], out_dir: str | os.PathLike[str],
                 page_size: int | None = PAGE_PAPERS) -> ReportPaths:
    """All the outputs (report.json, links.csv, suggestions.csv, summary.md, the HTML); the HTML last
    (index.html after its further pages), so that a reader who sees the new page finds the new data beside it.
    A dashboard of more than ``page_size`` papers is cut into pages (``reports.dashboard.render_pages``); pages an
    earlier, larger report left are removed.

    ``report`` may also be a report document (report.json's shape), read with ``Report.from_dict``."""
    report = report_of(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = render_pages(report, page_size)
    paths = ReportPaths(html=out / "index.html", json=out / "report.json", csv=out / "links.csv", markdown=out / "summary.md",
                        pages=tuple(out / page_file(n) for n in range(2, len(pages) + 1)))
    # Compact: indenting 10,000 papers takes Python's slow encoder 7 s; `jq .` indents for a reader.
    _atomic_write(paths.json, json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
    _atomic_write(paths.csv, links_csv(report))
    _atomic_write(out / "suggestions.csv", suggestions_csv(report))
    _atomic_write(paths.markdown, summary_markdown(report) + suggestions_markdown(report.papers, report.found_elsewhere))
    for path, html in zip(paths.pages, pages[1:]):
        _atomic_write(path, html)
    _atomic_write(paths.html, pages[0])
    for stale in out.glob("papers-*.html"):
        if stale not in paths.pages and re.fullmatch(r"papers-\d+\.html", stale.name):
            stale.unlink(missing_ok=True)
    return paths
