"""Where the archives' answers are kept: each link's latest lookup and its Save Code Now request.

The archives are small non-profits with low limits, so a link is looked up once and the answer
kept (``archive_lookups``, schema 6): a found copy is asked again rarely, a missing one weekly,
and one the archives could not be asked about on the next run. ``save_requests`` keeps the latest
Save Code Now request of each repository, polled on later runs until its visit ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from checks.archive_model import ArchiveLookup, ArchivedCopy, ArchiveService, LookupOutcome, SaveRequest
from reports.queries import select_in
from reports.schema import archive_lookups, links, save_requests
from reports.store import Store, _link_ids

# How long an answer is kept before the archives are asked again
RECHECK_AFTER = {
    LookupOutcome.FOUND: timedelta(days=90),  # a copy does not go away; its date only gets newer
    LookupOutcome.NONE: timedelta(days=7),  # weekly: a copy may appear (someone saved it, a crawl passed)
    LookupOutcome.UNKNOWN: timedelta(0),  # the next run
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def due(store: Store, urls: Iterable[str], now: datetime, *, complete: bool = True) -> list[str]:
    """Those of ``urls`` (normalized, stored links) never looked up, or whose answer is due again; in the given order.

    With ``complete`` (failing links), an answer that asked Software Heritage only (made while the
    repository was alive) is due at once: its reader needs the Wayback Machine asked too.
    """
    wanted = list(dict.fromkeys(urls))
    with store.engine.connect() as conn:
        rows = select_in(conn, wanted, lambda chunk: sa.select(links.c.normalized, archive_lookups.c.next_check_at,
                                                               archive_lookups.c.outcome, archive_lookups.c.services)
                         .join(archive_lookups, archive_lookups.c.link_id == links.c.id)
                         .where(links.c.normalized.in_(chunk)))
    later = {row.normalized for row in rows if _when(row.next_check_at) > now
             and (not complete or row.outcome == LookupOutcome.FOUND.value
                  or ArchiveService.WAYBACK.value in (row.services or "").split(","))}
    return [url for url in wanted if url not in later]


def record(store: Store, lookups: Sequence[ArchiveLookup], now: datetime) -> int:
    """Keep each lookup as its link's latest answer (one transaction); links not stored are skipped. Rows written."""
    lookups = list({lookup.url: lookup for lookup in lookups}.values())  # the last answer about a link wins
    if not lookups:
        return 0
    with store._write() as conn:
        ids = _link_ids(conn, [lookup.url for lookup in lookups])
        rows = [{"link_id": ids[lookup.url], "outcome": lookup.outcome.value,
                 "service": lookup.copy.service.value if lookup.copy else None,
                 "copy_url": lookup.copy.url if lookup.copy else None,
                 "captured_at": lookup.copy.captured_at if lookup.copy else None,
                 "reason": lookup.reason, "swh_visit_at": lookup.swh_visit_at,
                 "services": ",".join(service.value for service in lookup.services),
                 "checked_at": lookup.checked_at or _iso(now),
                 "next_check_at": _iso(now + RECHECK_AFTER[lookup.outcome])}
                for lookup in lookups if lookup.url in ids]
        for chunk in range(0, len(rows), 500):
            part = rows[chunk:chunk + 500]
            conn.execute(sa.delete(archive_lookups).where(archive_lookups.c.link_id.in_([r["link_id"] for r in part])))
            conn.execute(sa.insert(archive_lookups), part)
    return len(rows)


def lookups(store: Store, urls: Iterable[str]) -> dict[str, ArchiveLookup]:
    """The latest answer for each of ``urls`` that has one."""
    with store.engine.connect() as conn:
        rows = select_in(conn, list(dict.fromkeys(urls)), lambda chunk: sa.select(links.c.normalized, archive_lookups)
                         .join(archive_lookups, archive_lookups.c.link_id == links.c.id)
                         .where(links.c.normalized.in_(chunk)))
    found: dict[str, ArchiveLookup] = {}
    for row in rows:
        copy = (ArchivedCopy(ArchiveService(row.service), row.copy_url, row.captured_at)
                if row.service and row.copy_url and row.captured_at else None)
        found[row.normalized] = ArchiveLookup(url=row.normalized, outcome=LookupOutcome(row.outcome), copy=copy,
                                              reason=row.reason or "", checked_at=row.checked_at,
                                              swh_visit_at=row.swh_visit_at,
                                              services=tuple(ArchiveService(s) for s in (row.services or "").split(",") if s))
    return found


def record_save_requests(store: Store, requests: Sequence[SaveRequest]) -> int:
    """Keep each request as its link's latest (one transaction); links not stored are skipped."""
    requests = list({request.url: request for request in requests}.values())
    if not requests:
        return 0
    with store._write() as conn:
        ids = _link_ids(conn, [request.url for request in requests])
        rows = [{"link_id": ids[r.url], "origin": r.origin, "request_id": r.request_id, "requested_at": r.requested_at,
                 "request_status": r.request_status, "task_status": r.task_status, "visit_date": r.visit_date,
                 "polled_at": r.polled_at} for r in requests if r.url in ids]
        for chunk in range(0, len(rows), 500):
            part = rows[chunk:chunk + 500]
            conn.execute(sa.delete(save_requests).where(save_requests.c.link_id.in_([r["link_id"] for r in part])))
            conn.execute(sa.insert(save_requests), part)
    return len(rows)


def saved(store: Store, urls: Iterable[str] | None = None) -> dict[str, SaveRequest]:
    """The latest Save Code Now request of each of ``urls`` (of every link when None)."""
    columns = (links.c.normalized, save_requests)
    with store.engine.connect() as conn:
        if urls is None:
            rows = conn.execute(sa.select(*columns).join(save_requests, save_requests.c.link_id == links.c.id)).all()
        else:
            rows = select_in(conn, list(dict.fromkeys(urls)), lambda chunk: sa.select(*columns)
                             .join(save_requests, save_requests.c.link_id == links.c.id)
                             .where(links.c.normalized.in_(chunk)))
    return {row.normalized: SaveRequest(url=row.normalized, origin=row.origin, request_id=row.request_id,
                                        requested_at=row.requested_at, request_status=row.request_status,
                                        task_status=row.task_status, visit_date=row.visit_date, polled_at=row.polled_at)
            for row in rows}
