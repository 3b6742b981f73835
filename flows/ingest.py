"""The ``ingest`` flow: follow the Hugging Face daily papers feed.

Each day's papers (huggingface_hub's ``list_daily_papers``) join the watched set: a JSON Lines
file of paper records (``id``, ``title``, ``summary``, ``github_repo``, ``project_page``, ``day``)
that ``monitor`` reads like any other input, and that a person can read, edit or version. Every
run reads the last ``lookback_days`` days, so a missed run or a paper listed late is still caught;
a paper already watched is never added twice. Then, unless ``check`` is false, the whole watched
set is checked by ``monitor`` as a subflow, so one deployment (``paperwatch-hf-daily``) follows the
feed and keeps the history of every paper it has seen.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from checks.daily import daily_source
from checks.errors import InputError
from checks.settings import CheckSettings

DEFAULT_WATCHED = "watched-papers.jsonl"


def feed_days(days: Sequence[str] | None, lookback_days: int, today: date | None = None) -> list[str]:
    """The days to read, oldest first: those given (checked as dates), else the last ``lookback_days`` (UTC)."""
    if days:
        return [daily_source(day).split(":", 1)[1] for day in days]
    today = today or datetime.now(timezone.utc).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(max(1, lookback_days) - 1, -1, -1)]


@task(name="read the daily papers feed", retries=2, retry_delay_seconds=30, timeout_seconds=300, cache_policy=NO_CACHE)
def read_feed(day: str, settings: CheckSettings) -> list[dict[str, Any]]:
    """One day of the feed as paper records; the Hub's token (if any) comes from the environment."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token() or False)
    try:
        items = list(api.list_daily_papers(date=day))
    except Exception as exc:  # huggingface_hub raises its own HTTP and transport errors
        raise InputError(f"hf-daily:{day}", f"the daily papers feed could not be read from {settings.hf_endpoint} "
                                            f"({type(exc).__name__})") from None
    return [{"id": item.id, "arxiv_id": item.id, "title": item.title or item.id, "summary": item.summary or "",
             "github_repo": item.github_repo, "project_page": item.project_page, "day": day} for item in items]


def read_watched(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                raise InputError(str(path), f"line {number}: invalid JSON; the watched set must be JSON Lines") from None
    return records


@task(name="add papers to the watched set", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def add_to_watched(watched: str, records: list[dict[str, Any]]) -> dict[str, int]:
    """Append the papers not yet watched; the file is replaced in one rename, so a monitor run
    reading it at the same moment sees the old set or the new one, never half of it."""
    path = Path(watched)
    current = read_watched(path)
    known = {str(record.get("id")) for record in current}
    new = []
    for record in records:
        if str(record["id"]) not in known:
            known.add(str(record["id"]))
            new.append(record)
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for record in current + new:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    return {"added": len(new), "watched": len(current) + len(new)}


@flow(name="ingest", description="Add the Hugging Face daily papers to the watched set, then check the watched set.")
def ingest(watched: str = DEFAULT_WATCHED, days: list[str] | None = None, lookback_days: int = 3,
           check: bool = True, sources: list[str] | None = None, db: str = "paperwatch.sqlite",
           out: str = "paperwatch-report", settings: dict[str, Any] | None = None,
           github_token_secret: str | None = None, monitor_options: dict[str, Any] | None = None) -> State:
    """Follow the daily papers feed: add each day's papers to the watched set, then monitor it.

    Args:
        watched: The watched set, a JSON Lines file (relative to the working directory).
        days: Days to read (YYYY-MM-DD); default: the last ``lookback_days`` days, UTC.
        lookback_days: How many days back each run reads, today included.
        check: Run ``monitor`` on the watched set (and ``sources``) after adding.
        sources: More inputs for ``monitor`` besides the watched set.
        db: History database for ``monitor`` (a SQLite path or a PostgreSQL URL without password).
        out: Report directory for ``monitor``.
        settings: ``CheckSettings.to_dict()``: endpoints (``hf_endpoint`` is the feed's too), limits, remap rules.
        github_token_secret: Name of a Prefect Secret block with the GitHub token (never the token).
        monitor_options: Further ``monitor`` parameters, e.g. ``{"shards": 4, "keep_days": 90}``.
    """
    logger = get_run_logger()
    check_settings = CheckSettings.from_dict(settings) if settings else CheckSettings.from_environment()
    records: list[dict[str, Any]] = []
    unread: list[str] = []
    for day in feed_days(days, lookback_days):
        try:
            found = read_feed(day, check_settings)
        except InputError as exc:
            logger.warning("%s; trying again on the next run", exc)
            unread.append(day)
            continue
        logger.info("daily papers of %s: %d", day, len(found))
        records += found
    added = add_to_watched(watched, records)
    logger.info("watched set %s: %d papers added, %d watched", watched, added["added"], added["watched"])
    summary = f"{added['added']} papers added, {added['watched']} watched" + \
        (f"; feed not read for {', '.join(unread)}" if unread else "")
    if not check:
        return Completed(message=summary, data={**added, "unread_days": unread})
    if not added["watched"] and not sources:
        return Completed(message=f"{summary}; nothing to check yet", data={**added, "unread_days": unread})
    from flows.monitor import monitor

    inputs = ([watched] if added["watched"] else []) + list(sources or [])
    state = monitor(sources=inputs, db=db, out=out, settings=check_settings.to_dict(),
                    github_token_secret=github_token_secret, **(monitor_options or {}), return_state=True)
    result = state.result()
    return Completed(message=f"{summary}; monitor {state.message or state.name}",
                     data={**added, "unread_days": unread, "report": result["html"], "run_id": result["run_id"]})
