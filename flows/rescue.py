"""The rescue step of a run: archived copies of failing links, and Save Code Now for live repositories.

It runs after the run's observations are recorded and before its report and alerts, so a link
that died in this run carries its archived copy in both. It is time-boxed (``[archive] time_box``)
and can never fail the run or change a link's state: whatever the archives could not answer is
asked on a later run. Every concurrent run shares the archives' budgets through Prefect global
concurrency limits with slot decay (created by ``ensure_archive_limits``, tunable with
``prefect gcl update``):

- ``paperwatch-software-heritage``: 120 requests an hour (its anonymous limit; 1,200 with a token);
- ``paperwatch-wayback``: 60 requests a minute;
- ``paperwatch-save-code-now``: 10 requests an hour.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import rate_limit

from checks.archive_model import ArchivedCopy, ArchiveLookup, ArchiveService, LookupOutcome
from checks.archive_settings import ArchiveSettings
from checks.archives import browse_url, repository_origin, rescue
from checks.model import State
from checks.settings import CheckSettings
from reports import archive_store
from reports.store import Store

SWH_LIMIT = "paperwatch-software-heritage"
WAYBACK_LIMIT = "paperwatch-wayback"
SAVE_LIMIT = "paperwatch-save-code-now"
ARCHIVE_LIMITS: dict[str, tuple[int, float]] = {SWH_LIMIT: (120, 120 / 3600), WAYBACK_LIMIT: (60, 1.0),
                                                SAVE_LIMIT: (10, 10 / 3600)}
_LIMIT_OF = {(ArchiveService.SOFTWARE_HERITAGE, "lookup"): SWH_LIMIT, (ArchiveService.WAYBACK, "lookup"): WAYBACK_LIMIT,
             (ArchiveService.SOFTWARE_HERITAGE, "save"): SAVE_LIMIT, (ArchiveService.WAYBACK, "save"): WAYBACK_LIMIT}
FAILING = (State.DEAD, State.ERROR)  # dead, or dying: the reader of such a link needs the copy
LIVE = (State.ALIVE, State.MOVED)


async def shared_budget(service: ArchiveService, purpose: str, wait_at_most: float) -> bool:
    """One slot of the service's global limit, waiting at most ``wait_at_most`` s; False when it is spent."""
    try:
        await rate_limit(_LIMIT_OF[(service, purpose)], occupy=1, timeout_seconds=max(wait_at_most, 0.1))
    except TimeoutError:
        return False
    except Exception:  # no Prefect API to ask: the service's own rate-limit headers still hold us back
        return True
    return True


def ensure_archive_limits() -> None:
    """Create the archives' global limits where they do not exist yet (never change a tuned one)."""
    from flows.batches import ensure_limits

    ensure_limits(ARCHIVE_LIMITS)


def rescue_step(db: str, run_id: int, settings: dict[str, Any] | None, check_settings: CheckSettings) -> dict[str, Any]:
    """The step as the monitor flow takes it: whatever goes wrong is a warning, never a failed run."""
    try:
        return find_archived_copies(db, run_id, settings, check_settings)
    except Exception as exc:
        get_run_logger().warning("run %d: archives not asked (%s: %s)", run_id, type(exc).__name__,
                                 str(exc).splitlines()[0] if str(exc) else "")
        return {"error": type(exc).__name__}


@task(name="find archived copies", cache_policy=NO_CACHE)
def find_archived_copies(db: str, run_id: int, settings: dict[str, Any] | None,
                         check_settings: CheckSettings) -> dict[str, Any]:
    """Look up the due failing links of this run, follow Save Code Now; keep the answers in the history."""
    archive = ArchiveSettings.from_dict(settings)
    logger = get_run_logger()
    if not archive.lookup and not archive.save_code_now:
        return {"lookups": 0, "saves": 0, "requests": 0}
    now = datetime.now(timezone.utc)
    ensure_archive_limits()
    with Store.open(db) as store:
        observed = store.observations_of_runs([run_id])[run_id]
        failing = [url for url, o in observed.items() if o.state in FAILING] if archive.lookup else []
        live = ([url for url, o in observed.items() if o.state in LIVE and repository_origin(url)]
                if archive.save_code_now else [])
        failing_due = archive_store.due(store, failing, now)
        live_due = archive_store.due(store, live, now, complete=False)
        known = archive_store.lookups(store, live)
        requests = archive_store.saved(store, live)
    found = asyncio.run(rescue(failing_due, archive, check_settings.remap_rules, live=live, live_due=live_due,
                               known=known, requests=requests, user_agent=check_settings.user_agent,
                               acquire=shared_budget, token=archive.swh_token()))
    # a Save Code Now visit that succeeded is the repository's latest visit: its copy
    visits = [ArchiveLookup(r.url, LookupOutcome.FOUND, ArchivedCopy(ArchiveService.SOFTWARE_HERITAGE,
                                                                     browse_url(archive, r.origin), r.visit_date),
                            "", now.isoformat(), r.visit_date, (ArchiveService.SOFTWARE_HERITAGE,))
              for r in found.saves if r.task_status == "succeeded" and r.visit_date]
    with Store.open(db) as store:
        archive_store.record(store, [*found.lookups, *visits], now)
        archive_store.record_save_requests(store, found.saves)
    outcomes = {outcome.value: sum(1 for lookup in found.lookups if lookup.outcome is outcome) for outcome in LookupOutcome}
    logger.info("archives: %d failing links due of %d (%s); %d Save Code Now requests made or followed; %d requests%s",
                len(failing_due), len(failing), ", ".join(f"{n} {word}" for word, n in outcomes.items() if n) or "none asked",
                len(found.saves), found.requests, ("; " + "; ".join(found.notes)) if found.notes else "")
    return {"lookups": len(found.lookups), "saves": len(found.saves), "requests": found.requests, "notes": list(found.notes)}
