"""The report's machine- and chat-sized outputs: ``links.csv``, ``suggestions.csv`` and ``summary.md``.

Both are made from the report document alone (``report.json``), so they always agree with the
HTML. Everything in them that came from abstracts or APIs is untrusted: the CSV defuses
spreadsheet formulas, the Markdown cannot form links, images, HTML, mentions or issue references.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from checks.model import State
from reports.markdown import md_code, md_text
from reports.report_model import Report, Summary, report_of
from reports.report_rows import LinkRow, PaperRow, count_changes
from reports.completeness_view import csv_columns as completeness_columns
from reports.completeness_view import distribution as completeness_distribution
from reports.rescue import archive_outcome, archive_sentence, facet_phrase, found_copy, is_code_link, paper_code_copy, save_status
from reports.verdicts import Transition
from reports.vocabulary import PROBLEMS, Facet, Outcome, Verdict

CSV_COLUMNS = (
    "paper_id", "paper_title", "code", "data", "models", "demo",
    "url", "normalized", "kind", "claim", "state", "status", "reason", "http_status", "final_url", "suggested_url",
    "dead_since", "last_alive", "uptime_7d", "uptime_30d", "uptime_90d", "checked_at",
    "stars", "last_commit", "latest_release", "archived", "placeholder",
    "downloads", "likes", "last_modified", "gated", "stage", "completeness_score", "completeness_missing",
    "completeness_reasons", "archive_outcome", "archive_service", "archive_url", "archive_captured_at", "save_request_status",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str | int | float:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _link_columns(link: LinkRow) -> dict[str, Any]:
    d = link.details
    evidence = link.evidence or {}
    verdict = link.verdict
    uptime = verdict.uptime if verdict else {}
    release = d.get("latest_release")
    lookup, copy = link.archive, found_copy(link.archive)
    return {
        "url": link.url, "normalized": link.normalized, "kind": link.kind, "claim": link.claim,
        "state": link.state.value if link.state else "not checked", "status": verdict.status.value if verdict else None,
        "reason": link.reason, "http_status": evidence.get("status_code"), "final_url": evidence.get("final_url"),
        "suggested_url": link.suggested_url, "dead_since": verdict.dead_since if verdict else None,
        "last_alive": verdict.last_alive if verdict else None, "uptime_7d": uptime.get("7d"), "uptime_30d": uptime.get("30d"),
        "uptime_90d": uptime.get("90d"), "checked_at": link.checked_at,
        "stars": d.get("stars"), "last_commit": d.get("last_commit_at") or d.get("pushed_at"),
        "latest_release": release.get("tag") if isinstance(release, dict) else None,
        "archived": d.get("archived"), "placeholder": d.get("placeholder") or d.get("empty") or None,
        "downloads": d.get("downloads"), "likes": d.get("likes"), "last_modified": d.get("last_modified"),
        "gated": d.get("gated") if d.get("gated") else (False if "gated" in d else None), "stage": d.get("stage"),
        **completeness_columns(link),
        "archive_outcome": archive_outcome(lookup).value if lookup else None, "archive_service": copy.service.value if copy else None,
        "archive_url": copy.url if copy else None, "archive_captured_at": copy.captured_at if copy else None,
        "save_request_status": save_status(link.save_request),
    }


def links_csv(report: Report | Mapping[str, Any]) -> str:
    """One row per paper and cited link (a link cited by two papers appears twice); a paper
    without links gets one row with empty link columns, so every paper is in the file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for paper in report_of(report).papers:
        base = {"paper_id": paper.id, "paper_title": paper.title, **{facet.value: word.value for facet, word in paper.verdict.words().items()}}
        for row in [{**base, **_link_columns(link)} for link in paper.links] or [base]:
            writer.writerow({key: _cell(row.get(key)) for key in CSV_COLUMNS})
    return out.getvalue()


SUGGESTION_COLUMNS = (
    "paper_id", "paper_title", "url", "source", "found_via", "source_url", "also_found_via",
    "state", "reason", "first_run", "new", "accepted",
)


def suggestions_csv(report: Report | Mapping[str, Any]) -> str:
    """Code found elsewhere (``reports.found_elsewhere``): one row per paper and suggested repository, with
    where it was found and what this run's check of it said; accepted ones say so (they are links too)."""
    report = report_of(report)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SUGGESTION_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for paper in report.papers:
        for row in report.found_elsewhere.get(paper.id, ()):
            values = {"paper_id": paper.id, "paper_title": paper.title, "url": row.url, "source": row.source_kind,
                      "found_via": row.source_words, "source_url": row.source_url,
                      "also_found_via": " ".join(str(other.get("url", "")) for other in row.also) or None,
                      "state": row.state.value if row.state else None, "reason": row.reason, "first_run": row.first_run,
                      "new": row.new, "accepted": row.accepted}
            writer.writerow({key: _cell(value) for key, value in values.items()})
    return out.getvalue()


# --- Markdown ---------------------------------------------------------------------------------

MAX_ROWS = 20  # rows per table: the summary must fit a GitHub issue (65,536 characters)
MAX_TEXT = 120
def _table(header: Iterable[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", align or "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _papers_cell(titles: list[str]) -> str:
    shown = "; ".join(md_text(title, MAX_TEXT) for title in titles[:2])
    return shown + (f" and {len(titles) - 2} more" if len(titles) > 2 else "")


def _more(total: int) -> list[str]:
    return ["", f"… and {total - MAX_ROWS} more in the report."] if total > MAX_ROWS else []


def _facet_rows(summary: Summary) -> list[list[str]]:
    """One row per facet that some paper links: papers linking it, how many have it available, the split."""
    return [[facet.value, f"{f.available:,} of {f.linked:,}", f.share, md_text(f.split_text())]
            for facet, f in summary.facets.items() if f.linked]


def _archive_cell(link: LinkRow) -> str:
    """A dead link's archived copy, for summary.md: its sentence and its URL as code (never a link), that there is
    none, or that the archives have not answered yet."""
    copy = found_copy(link.archive)
    text = md_text(archive_sentence(link.archive, is_code_link(link.kind, link.claim)), MAX_TEXT)
    return f"{text} {md_code(copy.url)}" if copy else text


def _rescued_line(papers: Sequence[PaperRow]) -> list[str]:
    """How many of the papers whose code is dead have an archived copy of it ("Code dead, archived copy available: …")."""
    dead = [paper for paper in papers if paper.verdict.code is Outcome.DEAD]
    rescued = sum(1 for paper in dead if paper_code_copy(paper) is not None)
    if not rescued:
        return []
    phrase = facet_phrase(Facet.CODE, Outcome.DEAD, copy_available=True)
    return ["", md_text(f"{phrase[:1].upper()}{phrase[1:]}: {rescued:,} of the {len(dead):,} "
                        f"paper{'' if len(dead) == 1 else 's'} whose code is dead.")]


def summary_markdown(report: Report | Mapping[str, Any]) -> str:
    """A GitHub-issue- or job-summary-sized digest: counts, available shares and their split, changes, dead links."""
    report = report_of(report)
    run, summary = report.run, report.summary
    started = str(run.started_at or "")[:16].replace("T", " ")
    lines = [f"## paperwatch: run {int(run.id)}, {md_text(started)} UTC", ""]
    lines.append(f"**{summary.papers} papers** ({summary.papers_with_links} with links), {summary.links} links checked"
                 + ("; **the monitor could not reach the web**: unchecked links are unknown, not dead." if run.offline else "."))
    readings = [md_text(reading.get("summary"), 300) for reading in run.readings if reading.get("summary")]
    sources = [md_text(source, 80) for source in run.sources]
    if readings:
        lines += [""] + [f"- {line}" for line in readings]
    elif sources:
        lines.append(f"Sources: {', '.join(sources)}.")
    for note in run.notes:
        lines += ["", f"> {md_text(note, 300)}"]
    lines += ["", md_text(summary.first_line, 500)]
    rows = _facet_rows(summary)
    if rows:
        lines += [""] + _table(["papers linking", "available now", "share", "split"], rows, "|---|---:|---:|---|")
        lines += _rescued_line(report.papers)
    problems = [(word, summary.attention[word]) for word in PROBLEMS if summary.attention.get(word)]
    if problems:
        lines += ["", "Papers that need attention: " + " · ".join(f"{md_text(word)} {n}" for word, n in problems)]
    lines += ["", "Links by state: " + " · ".join(f"{md_text(state)} {n}" for state, n in summary.by_state.items())]
    checklist = completeness_distribution(report.papers)
    if checklist["counts"]:
        lines += ["", "Code completeness (papers, by their best repository): "
                  + " · ".join(f"{md_text(token)} {n}" for token, n, _ in checklist["counts"])]

    changes = report.changes
    lines += ["", "### Changes since the previous run", ""]
    if changes:
        lines.append(" · ".join(f"{md_text(kind)} {n}" for kind, n in report.change_counts.items()))
        lines += [""] + _table(["change", "link", "was → now", "reason", "papers"], [
            [md_text(c.change), md_code(c.url), f"{md_text(c.verdict_from)} → {md_text(c.verdict_to)}",
             md_text(c.reason, MAX_TEXT), _papers_cell(list(c.papers))]
            for c in changes[:MAX_ROWS]]) + _more(len(changes))
    else:
        lines.append("No link changed." if len(report.runs) > 1 else "First run: nothing to compare with yet.")

    dead = _dead_links(report)
    rule = run.confirm_rule.sentence()
    lines += ["", f"### Dead links ({len(dead)})", "", md_text(f"{rule[:1].upper()}{rule[1:]}."), ""]
    if dead:
        lines += _table(["link", "kind", "verdict", "reason", "archived copy", "papers"], [
            [md_code(link["url"]), md_text(link["kind"]), md_text(link["status"]), md_text(link["reason"], MAX_TEXT),
             link["archive"], _papers_cell(link["papers"])]
            for link in dead[:MAX_ROWS]]) + _more(len(dead))
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _dead_links(report: Report) -> list[dict[str, Any]]:
    """Links dead in this run, most-cited and longest-dead first."""
    found: dict[str, dict[str, Any]] = {}
    for paper in report.papers:
        for link in paper.links:
            if link.state is not State.DEAD:
                continue
            entry = found.setdefault(link.normalized, {"url": link.url, "kind": link.kind, "reason": link.reason,
                                                       "papers": [], "since": link.verdict.dead_since if link.verdict else None,
                                                       "archive": _archive_cell(link)})
            status = link.verdict.status if link.verdict else None
            entry["status"] = (f"dead since {str(entry['since'])[:10]}" if status is Verdict.DEAD and entry["since"]
                               else "dead, unconfirmed" if status is Verdict.DEGRADED else str(status or State.DEAD))
            entry["papers"].append(str(paper.title))
    return sorted(found.values(), key=lambda e: (-len(e["papers"]), e["since"] or "9999", e["url"]))


# --- the Prefect summary artifact -------------------------------------------------------------

def summary_table(summary: Summary | Mapping[str, Any], changes: Sequence[Transition | Mapping[str, Any]]) -> list[dict[str, str]]:
    """The run's figures as the rows of the Prefect table artifact (measure, value): the report's
    ``summary`` and its ``changes`` (typed, or as report.json has them)."""
    if not isinstance(summary, Summary):
        summary = Summary.from_dict(summary)
    rows = [{"measure": "papers", "value": f"{summary.papers} ({summary.papers_with_links} with links)"},
            {"measure": "links checked", "value": str(summary.links)}]
    for facet, figures in summary.facets.items():
        if figures.linked:
            rows.append({"measure": f"{facet} available now (papers)",
                         "value": f"{figures.available} of {figures.linked} ({figures.share}): {figures.split_text()}"})
    rows += [{"measure": f"links {state}", "value": str(count)} for state, count in summary.by_state.items()]
    rows += [{"measure": f"since the previous run: {kind}", "value": str(count)} for kind, count in count_changes(changes).items()]
    return rows
