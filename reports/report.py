"""The report of one run: ``report.json`` (versioned, documented in README) and ``index.html``.

Both are built from the history store, so a report can be rebuilt for any past run and
always shows history. Files are written atomically: a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from checks.model import State
from reports.store import Store
from reports.verdicts import CitedObservation, link_verdict, paper_verdict, state_changes

REPORT_SCHEMA_VERSION = 1
HISTORY_RUNS = 14
STATE_ORDER = [s.value for s in State]


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    json: Path


def build_report(store: Store, run_id: int, history_runs: int = HISTORY_RUNS) -> dict[str, Any]:
    """The report document for ``run_id`` (plain JSON-able data)."""
    run = store.run(run_id)
    history = [r for r in store.runs(limit=history_runs, up_to=run_id) if r.id != run_id] + [run]
    run_ids = [r.id for r in history]
    observed = store.observations_of_runs(run_ids)
    current = observed[run_id]
    previous = observed[run_ids[-2]] if len(run_ids) > 1 else {}
    since = (datetime.fromisoformat(run.started_at) - timedelta(days=90)).isoformat()
    histories = store.link_histories(list(current), since, run_id)

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
            entry["verdict"] = link_verdict(histories.get(link.normalized, [])).to_dict()
            if obs is not None:
                data = obs.to_dict()
                entry.update(state=data["state"], reason=data["reason"], checker=data["checker"], evidence=data["evidence"],
                             suggested_url=data["suggested_url"], details=data["details"], checked_at=data["checked_at"])
            else:
                entry.update(state=None, reason="not checked in this run", evidence=None, details={})
            link_entries.append(entry)
        verdict = paper_verdict([CitedObservation(c.normalized, c.kind, c.claim, c.promise, current.get(c.normalized)) for c in cited])
        paper_entries.append({"id": paper_id, "title": title, "verdict": verdict.__dict__, "links": link_entries})

    by_state = Counter(o.state.value for o in current.values())
    cited_anywhere = {link["normalized"]: link["papers"] for link in _papers_per_link(paper_entries)}
    changes = state_changes(previous, current)
    for change in changes:
        change["papers"] = cited_anywhere.get(change["url"], [])
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "run": {
            "id": run.id, "started_at": run.started_at, "finished_at": run.finished_at, "status": run.status,
            "offline": run.offline, "sources": run.sources, "notes": run.notes, "flow_run_id": run.flow_run_id,
        },
        "summary": {
            "papers": len(paper_entries),
            "papers_with_links": sum(1 for p in paper_entries if p["links"]),
            "links": len(current),
            "by_state": {s: by_state.get(s, 0) for s in STATE_ORDER},
            "papers_with_working_code": sum(1 for p in paper_entries if p["verdict"]["code"] == "working"),
            "papers_with_code_links": sum(1 for p in paper_entries if p["verdict"]["code"] != "none linked"),
            "papers_with_working_data": sum(1 for p in paper_entries if p["verdict"]["data"] in ("working", "gated")),
            "papers_with_data_links": sum(1 for p in paper_entries if p["verdict"]["data"] != "none linked"),
        },
        "changes": changes,
        "runs": [{"id": r.id, "started_at": r.started_at, "offline": r.offline,
                  "counts": {s: r.counts.get(s, 0) for s in STATE_ORDER}} for r in history],
        "papers": paper_entries,
    }


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


HIDDEN_DETAILS = frozenset({"etag"})  # bookkeeping for conditional requests, not news for a reader


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


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_href"] = safe_href
    env.filters["display"] = display
    env.globals["hidden_details"] = HIDDEN_DETAILS
    env.filters["short_time"] = lambda iso: (iso or "")[:16].replace("T", " ")
    return env


def render_html(report: dict[str, Any]) -> str:
    return _environment().get_template("report.html").render(report=report, states=STATE_ORDER)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> ReportPaths:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(html=out / "index.html", json=out / "report.json")
    _atomic_write(paths.json, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(paths.html, render_html(report))
    return paths
