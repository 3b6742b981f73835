"""The report's machine- and chat-sized outputs: ``links.csv`` and ``summary.md``.

Both are made from the report document alone (``report.json``), so they always agree with the
HTML. Everything in them that came from abstracts or APIs is untrusted: the CSV defuses
spreadsheet formulas, the Markdown cannot form links, images, HTML, mentions or issue references.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from reports.headline import ATTENTION, figures_of, first_line
from reports.markdown import md_code, md_text

CSV_COLUMNS = (
    "paper_id", "paper_title", "code", "data", "models", "demo",
    "url", "normalized", "kind", "claim", "state", "status", "reason", "http_status", "final_url", "suggested_url",
    "dead_since", "last_alive", "uptime_7d", "uptime_30d", "uptime_90d", "checked_at",
    "stars", "last_commit", "latest_release", "archived", "placeholder",
    "downloads", "likes", "last_modified", "gated", "stage",
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


def _link_columns(link: dict[str, Any]) -> dict[str, Any]:
    d = link.get("details") or {}
    evidence = link.get("evidence") or {}
    verdict = link.get("verdict") or {}
    uptime = verdict.get("uptime") or {}
    release = d.get("latest_release")
    return {
        "url": link.get("url"), "normalized": link.get("normalized"), "kind": link.get("kind"), "claim": link.get("claim"),
        "state": link.get("state") or "not checked", "status": verdict.get("status"), "reason": link.get("reason"),
        "http_status": evidence.get("status_code"), "final_url": evidence.get("final_url"),
        "suggested_url": link.get("suggested_url"), "dead_since": verdict.get("dead_since"),
        "last_alive": verdict.get("last_alive"), "uptime_7d": uptime.get("7d"), "uptime_30d": uptime.get("30d"),
        "uptime_90d": uptime.get("90d"), "checked_at": link.get("checked_at"),
        "stars": d.get("stars"), "last_commit": d.get("last_commit_at") or d.get("pushed_at"),
        "latest_release": release.get("tag") if isinstance(release, dict) else None,
        "archived": d.get("archived"), "placeholder": d.get("placeholder") or d.get("empty") or None,
        "downloads": d.get("downloads"), "likes": d.get("likes"), "last_modified": d.get("last_modified"),
        "gated": d.get("gated") if d.get("gated") else (False if "gated" in d else None), "stage": d.get("stage"),
    }


def links_csv(report: dict[str, Any]) -> str:
    """One row per paper and cited link (a link cited by two papers appears twice); a paper
    without links gets one row with empty link columns, so every paper is in the file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for paper in report["papers"]:
        verdict = paper.get("verdict") or {}
        base = {"paper_id": paper["id"], "paper_title": paper["title"], "code": verdict.get("code"), "data": verdict.get("data"),
                "models": verdict.get("models"), "demo": verdict.get("demo")}
        for row in [{**base, **_link_columns(link)} for link in paper["links"]] or [base]:
            writer.writerow({key: _cell(row.get(key)) for key in CSV_COLUMNS})
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


def _facet_rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row per facet that some paper links: papers linking it, how many have it available, the split."""
    figures = figures_of(summary)
    return [[facet, f"{f.available:,} of {f.linked:,}", f.share, md_text(f.split_text())]
            for facet, f in figures.items() if f.linked]


def summary_markdown(report: dict[str, Any]) -> str:
    """A GitHub-issue- or job-summary-sized digest: counts, available shares and their split, changes, dead links."""
    run, summary = report["run"], report["summary"]
    started = str(run.get("started_at") or "")[:16].replace("T", " ")
    lines = [f"## paperwatch: run {int(run['id'])}, {md_text(started)} UTC", ""]
    lines.append(f"**{summary['papers']} papers** ({summary['papers_with_links']} with links), {summary['links']} links checked"
                 + ("; **the monitor could not reach the web**: unchecked links are unknown, not dead." if run.get("offline") else "."))
    readings = [md_text(reading.get("summary"), 300) for reading in run.get("readings") or [] if reading.get("summary")]
    sources = [md_text(source, 80) for source in run.get("sources") or []]
    if readings:
        lines += [""] + [f"- {line}" for line in readings]
    elif sources:
        lines.append(f"Sources: {', '.join(sources)}.")
    for note in run.get("notes") or []:
        lines += ["", f"> {md_text(note, 300)}"]
    lines += ["", md_text(first_line(figures_of(summary)), 500)]
    rows = _facet_rows(summary)
    if rows:
        lines += [""] + _table(["papers linking", "available now", "share", "split"], rows, "|---|---:|---:|---|")
    needs = summary.get("attention") or {}
    problems = [(word, needs[word]) for word in ATTENTION[:5] if needs.get(word)]
    if problems:
        lines += ["", "Papers that need attention: " + " · ".join(f"{md_text(word)} {n}" for word, n in problems)]
    lines += ["", "Links by state: " + " · ".join(f"{md_text(state)} {n}" for state, n in summary["by_state"].items())]

    changes = report.get("changes") or []
    lines += ["", "### Changes since the previous run", ""]
    if changes:
        counts: dict[str, int] = {}
        for change in changes:
            counts[str(change.get("change"))] = counts.get(str(change.get("change")), 0) + 1
        lines.append(" · ".join(f"{md_text(kind)} {n}" for kind, n in counts.items()))
        lines += [""] + _table(["change", "link", "was → now", "reason", "papers"], [
            [md_text(c.get("change")), md_code(c.get("url")), f"{md_text(c.get('from'))} → {md_text(c.get('to'))}",
             md_text(c.get("reason"), MAX_TEXT), _papers_cell([str(t) for t in c.get("papers") or []])]
            for c in changes[:MAX_ROWS]]) + _more(len(changes))
    else:
        lines.append("No link changed." if len(report.get("runs") or []) > 1 else "First run: nothing to compare with yet.")

    dead = _dead_links(report)
    lines += ["", f"### Dead links ({len(dead)})", ""]
    if dead:
        lines += _table(["link", "kind", "verdict", "reason", "papers"], [
            [md_code(link["url"]), md_text(link["kind"]), md_text(link["status"]), md_text(link["reason"], MAX_TEXT), _papers_cell(link["papers"])]
            for link in dead[:MAX_ROWS]]) + _more(len(dead))
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _dead_links(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Links dead in this run, most-cited and longest-dead first."""
    found: dict[str, dict[str, Any]] = {}
    for paper in report["papers"]:
        for link in paper["links"]:
            if link.get("state") != "dead":
                continue
            entry = found.setdefault(link["normalized"], {"url": link["url"], "kind": link["kind"], "reason": link.get("reason"),
                                                          "papers": [], "since": (link.get("verdict") or {}).get("dead_since")})
            status = (link.get("verdict") or {}).get("status")
            entry["status"] = (f"dead since {str(entry['since'])[:10]}" if status == "dead" and entry["since"]
                               else "dead, unconfirmed" if status == "degraded" else str(status or "dead"))
            entry["papers"].append(str(paper["title"]))
    return sorted(found.values(), key=lambda e: (-len(e["papers"]), e["since"] or "9999", e["url"]))
