"""The history store: every run, paper, link and observation, in SQLite or any SQLAlchemy URL.

``Store`` writes a run (start, papers, observations in batches, finish, prune) and reads history
back (runs, watched papers, link histories, observations); use it as ``with Store.open(db) as
store:`` so it is closed on every way out. Its neighbours hold the rest: the tables and the
schema at a glance in ``reports.schema``, the versioned upgrade steps in ``reports.migrations``,
locations, engines and the write lock in ``reports.database``, which process owns a run (and
labelling runs whose process is gone as interrupted) in ``reports.run_owner``, and the chunked
IN (...) queries in ``reports.queries``.

Every write is one transaction holding the database's write lock (``reports.database``), so a
process killed at any point leaves either the whole batch or none of it. A run row stays
``running`` until it is finished; the next run to start labels it ``interrupted`` once its
owning process is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from checks.facts import Facts, facts_from_dict, facts_to_dict
from checks.model import Evidence, Observation, Paper, State
from reports.database import (StoreError, check_file, database_url, first_line, make_engine, shown_location, url_of,
                              validate_location, without_password, write_transaction)
from reports.migrations import upgrade, version_of
from reports.queries import delete_in, select_in, state_counts
from reports.retention import DEFAULT_KEEP_DAYS, DaySummary, cutoff, merge, spread
from reports.run_owner import Owner, label_gone_runs, record_owner
from reports.schema import (SCHEMA_VERSION, daily_summaries, links, observations, paper_links, papers, run_papers,
                            run_readings, runs)

__all__ = ["CitedLink", "PruneResult", "RunRecord", "SCHEMA_VERSION", "Store", "StoreError", "database_url", "now_iso",
           "shown_location", "validate_location", "without_password"]

# Runs whose observations make up a link's history: a killed run's committed observations are
# real checks; a failed run's are not trusted. Only finished ones are rolled into summaries.
HISTORY_STATUSES = ("completed", "interrupted", "running")
SUMMARIZED_STATUSES = ("completed", "interrupted")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: str
    finished_at: str | None
    flow_run_id: str | None
    sources: list[str]
    status: str
    offline: bool
    notes: list[str]
    counts: dict[str, int]


@dataclass(frozen=True)
class CitedLink:
    """A link as one paper cites it, with the identity the history uses."""

    link_id: int
    normalized: str
    kind: str
    url: str
    claim: str | None
    promise: bool


@dataclass(frozen=True)
class PruneResult:
    """What one prune did: observations removed, how many of them live on in daily summaries."""

    cutoff: str
    removed: int
    summarized: int
    days: int


def _link_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """The ids of those normalized URLs that are stored."""
    return dict(select_in(conn, names, lambda chunk: sa.select(links.c.normalized, links.c.id)
                                                     .where(links.c.normalized.in_(chunk))))


class Store:
    """One history database: open it with ``Store.open`` (which upgrades its schema), use it in a ``with`` block."""

    def __init__(self, engine: Engine, name: str | None = None):
        self.engine = engine
        self.name = name or engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, db: str) -> "Store":
        """The store at ``db``, its schema brought up to date; close it, best with ``with Store.open(db) as store:``."""
        if "://" not in db:
            check_file(db)
        store = cls(make_engine(db), shown_location(db))
        try:
            store.migrate()
        except sa.exc.SQLAlchemyError as exc:
            store.close()
            raise StoreError(f"--db {store.name}: cannot open the history database "
                             f"({first_line(exc, url_of(db).password)})") from None
        except StoreError:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with write_transaction(self.engine, self.name) as conn:
            yield conn

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return version_of(conn)

    def migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction; a second process waits and finds it done."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"--db {self.name}: database schema version {current} is newer than this paperwatch "
                             f"({SCHEMA_VERSION})")
        if current == SCHEMA_VERSION:
            return
        with self._write() as conn:
            upgrade(conn)

    # --- writing -------------------------------------------------------------------------------

    def start_run(self, sources: Sequence[str], source_digest: str | None = None, flow_run_id: str | None = None,
                  watched: Sequence[Paper] = (), readings: Sequence[dict[str, Any]] = ()) -> int:
        """Create the run with its owner, watched papers and how its inputs were read
        (``Reading.to_dict()`` each) in one transaction, and label earlier runs whose process is
        gone as interrupted."""
        me = Owner.current()
        stamp = now_iso()
        with self._write() as conn:
            result = conn.execute(sa.insert(runs).values(
                started_at=stamp, sources=list(sources), source_digest=source_digest, flow_run_id=flow_run_id,
                status="running", offline=False, notes=[], counts={}))
            run_id = int(result.inserted_primary_key[0])
            record_owner(conn, run_id, me)
            label_gone_runs(conn, run_id, me, datetime.now(timezone.utc))
            if watched:
                self._record_papers(conn, run_id, watched, stamp)
            if readings:
                conn.execute(sa.insert(run_readings), [dict(run_id=run_id, position=i, source=str(r.get("source")), reading=dict(r))
                                                       for i, r in enumerate(readings)])
        return run_id

    def record_papers(self, run_id: int, watched: Sequence[Paper]) -> None:
        """Upsert papers and links and remember which papers this run watches (one transaction)."""
        with self._write() as conn:
            self._record_papers(conn, run_id, watched, now_iso())

    def _record_papers(self, conn: Connection, run_id: int, watched: Sequence[Paper], stamp: str) -> None:
        link_ids = self._add_links(conn, {link.normalized: str(link.kind) for p in watched for link in p.links}, stamp)
        ids = [p.id for p in watched]
        existing = {row.id for row in select_in(conn, ids, lambda chunk: sa.select(papers.c.id).where(papers.c.id.in_(chunk)))}
        # one statement per table, many rows each (executemany): a per-paper loop of four statements
        # took 75 s for 126,830 papers on SQLite
        seen = [dict(paper_id=p.id, title=p.title) for p in watched if p.id in existing]
        if seen:
            conn.execute(sa.update(papers).where(papers.c.id == sa.bindparam("paper_id"))
                         .values(title=sa.bindparam("title"), last_seen=stamp), seen)
        new = [dict(id=p.id, title=p.title, source=p.source, first_seen=stamp, last_seen=stamp)
               for p in watched if p.id not in existing]
        if new:
            conn.execute(sa.insert(papers), new)
        delete_in(conn, [i for i in ids if i in existing], lambda chunk: sa.delete(paper_links).where(paper_links.c.paper_id.in_(chunk)))
        cited = [dict(paper_id=paper.id, link_id=link_ids[link.normalized], url=link.url, claim=link.claim,
                      promise=link.promise, position=i) for paper in watched for i, link in enumerate(paper.links)]
        if cited:
            conn.execute(sa.insert(paper_links), cited)
        conn.execute(sa.insert(run_papers), [dict(run_id=run_id, paper_id=paper.id, position=position)
                                             for position, paper in enumerate(watched)])

    @staticmethod
    def _add_links(conn: Connection, kinds: dict[str, str], stamp: str) -> dict[str, int]:
        """The ids of these normalized URLs (kind of each), inserting the links not stored yet."""
        ids = _link_ids(conn, kinds)
        missing = [dict(normalized=n, kind=kind, first_seen=stamp) for n, kind in kinds.items() if n not in ids]
        if missing:
            conn.execute(sa.insert(links), missing)
            ids.update(_link_ids(conn, [row["normalized"] for row in missing]))
        return ids

    def record_observations(self, run_id: int, batch: Iterable[Observation]) -> int:
        """Store one batch of observations in one transaction; returns how many were stored."""
        items = list(batch)
        if not items:
            return 0
        with self._write() as conn:
            ids = _link_ids(conn, [o.url for o in items])
            unknown = [o.url for o in items if o.url not in ids]
            if unknown:
                raise StoreError(f"observation for a link no paper of this run cites: {unknown[0]}")
            conn.execute(sa.insert(observations), [self._row(run_id, ids[o.url], o) for o in items])
        return len(items)

    @staticmethod
    def _row(run_id: int, link_id: int, o: Observation) -> dict[str, Any]:
        return dict(run_id=run_id, link_id=link_id, state=o.state.value, reason=o.reason, checker=o.checker,
                    status_code=o.evidence.status_code, final_url=o.evidence.final_url, error=o.evidence.error,
                    elapsed_ms=o.evidence.elapsed_ms, attempts=o.evidence.attempts, suggested_url=o.suggested_url,
                    evidence={"redirects": [list(h) for h in o.evidence.redirects]}, details=facts_to_dict(o.facts),
                    checked_at=o.checked_at.isoformat())

    def finish_run(self, run_id: int, *, status: str, offline: bool, notes: Sequence[str]) -> RunRecord:
        with self._write() as conn:
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(
                finished_at=now_iso(), status=status, offline=offline, notes=list(notes), counts=state_counts(conn, run_id)))
        return self.run(run_id)

    def prune(self, older_than_days: int = DEFAULT_KEEP_DAYS, now: datetime | None = None) -> PruneResult:
        """Roll the observations of finished runs started more than ``older_than_days`` ago into
        daily summaries and delete them, in one transaction: history reads the same before and after.

        Runs still ``running`` are left alone; observations of failed runs are not history and are
        dropped without a summary. Run rows (with their counts) are kept.
        """
        limit = cutoff(now or datetime.now(timezone.utc), older_than_days).isoformat()
        old_runs = sa.select(runs.c.id).where(runs.c.started_at < limit, runs.c.status != "running")
        day = sa.func.substr(runs.c.started_at, 1, 10)
        grouped = (sa.select(observations.c.link_id, day.label("day"), observations.c.state,
                             sa.func.count().label("seen"), sa.func.min(runs.c.started_at).label("first_at"),
                             sa.func.max(runs.c.started_at).label("last_at"))
                   .join(runs, runs.c.id == observations.c.run_id)
                   .where(runs.c.started_at < limit, runs.c.status.in_(SUMMARIZED_STATUSES))
                   .group_by(observations.c.link_id, day, observations.c.state))
        with self._write() as conn:
            fresh = [DaySummary(r.link_id, r.day, r.state, int(r.seen), r.first_at, r.last_at) for r in conn.execute(grouped)]
            days = sorted({s.day for s in fresh})
            earlier = [DaySummary(r.link_id, r.day, r.state, r.seen, r.first_at, r.last_at) for r in
                       select_in(conn, days, lambda chunk: sa.select(daily_summaries).where(daily_summaries.c.day.in_(chunk)))]
            delete_in(conn, days, lambda chunk: sa.delete(daily_summaries).where(daily_summaries.c.day.in_(chunk)))
            removed = conn.execute(sa.delete(observations).where(observations.c.run_id.in_(old_runs))).rowcount
            rows = [dict(link_id=s.link_id, day=s.day, state=s.state, seen=s.seen, first_at=s.first_at, last_at=s.last_at)
                    for s in merge(earlier + fresh).values()]
            if rows:
                conn.execute(sa.insert(daily_summaries), rows)
        return PruneResult(cutoff=limit, removed=int(removed or 0), summarized=sum(s.seen for s in fresh), days=len(days))

    # --- reading -------------------------------------------------------------------------------

    @staticmethod
    def _run_record(row: Any) -> RunRecord:
        return RunRecord(id=row.id, started_at=row.started_at, finished_at=row.finished_at, flow_run_id=row.flow_run_id,
                         sources=list(row.sources or []), status=row.status, offline=bool(row.offline),
                         notes=list(row.notes or []), counts=dict(row.counts or {}))

    def run(self, run_id: int) -> RunRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one_or_none()
        if row is None:
            raise StoreError(f"no run {run_id} in the history database")
        return self._run_record(row)

    def runs(self, limit: int = 30, up_to: int | None = None) -> list[RunRecord]:
        """The most recent finished runs (oldest first), optionally up to a given run.

        A failed or interrupted run is listed only when it recorded observations: a run that
        checked nothing is no point of comparison.
        """
        recorded = sa.exists().where(observations.c.run_id == runs.c.id)
        query = (sa.select(runs).where(runs.c.status != "running", sa.or_(runs.c.status == "completed", recorded))
                 .order_by(runs.c.id.desc()).limit(limit))
        if up_to is not None:
            query = query.where(runs.c.id <= up_to)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [self._run_record(row) for row in reversed(rows)]

    def readings_of_run(self, run_id: int) -> list[dict[str, Any]]:
        """How each input of the run was read (``Reading.to_dict()``), in the order given; [] before schema 3."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(run_readings.c.reading).where(run_readings.c.run_id == run_id)
                                .order_by(run_readings.c.position)).scalars().all()
        return [dict(row) for row in rows]

    def paper_sources(self, paper_ids: Iterable[str]) -> dict[str, str]:
        """The input source each paper was first read from (``Paper.source``), for the given papers."""
        with self.engine.connect() as conn:
            rows = select_in(conn, sorted(set(paper_ids)),
                             lambda chunk: sa.select(papers.c.id, papers.c.source).where(papers.c.id.in_(chunk)))
        return {row.id: row.source or "" for row in rows}

    def papers_of_run(self, run_id: int) -> list[tuple[str, str, list[CitedLink]]]:
        """(paper id, title, cited links) for each paper the run watched, in input order."""
        query = (
            sa.select(papers.c.id, papers.c.title, links.c.id.label("link_id"), links.c.normalized, links.c.kind,
                      paper_links.c.url, paper_links.c.claim, paper_links.c.promise)
            .select_from(run_papers.join(papers, papers.c.id == run_papers.c.paper_id)
                         .outerjoin(paper_links, paper_links.c.paper_id == papers.c.id)
                         .outerjoin(links, links.c.id == paper_links.c.link_id))
            .where(run_papers.c.run_id == run_id)
            .order_by(run_papers.c.position, paper_links.c.position)
        )
        result: dict[str, tuple[str, str, list[CitedLink]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                entry = result.setdefault(row.id, (row.id, row.title, []))
                if row.link_id is not None:
                    entry[2].append(CitedLink(row.link_id, row.normalized, row.kind, row.url, row.claim, bool(row.promise)))
        return list(result.values())

    def latest_details(self, urls: Sequence[str]) -> dict[str, Facts]:
        """The facts each link had at its last completed check (ETags included), for conditional requests."""
        def latest(chunk: list[str]) -> sa.Select[Any]:
            last_checks = (sa.select(sa.func.max(observations.c.id))
                           .join(links, links.c.id == observations.c.link_id)
                           .join(runs, runs.c.id == observations.c.run_id)
                           .where(links.c.normalized.in_(chunk), runs.c.status == "completed")
                           .group_by(observations.c.link_id))
            return (sa.select(links.c.normalized, observations.c.checker, observations.c.details)
                    .join(links, links.c.id == observations.c.link_id)
                    .where(observations.c.id.in_(last_checks)))

        with self.engine.connect() as conn:
            found = {row.normalized: facts_from_dict(row.checker, row.details) for row in select_in(conn, urls, latest)}
        return {url: facts for url, facts in found.items() if facts is not None}

    def link_histories(self, urls: Sequence[str], since: str, up_to_run: int) -> dict[str, list[tuple[datetime, State]]]:
        """(run start, state) of each link since ``since`` up to a run, oldest first.

        Raw observations come from runs that count as history (completed, interrupted, running);
        older days come from the daily summaries that pruning left, so verdicts read the same
        before and after a prune.
        """
        history: dict[str, list[tuple[datetime, State]]] = {url: [] for url in urls}
        since_at = datetime.fromisoformat(since)

        def checked(chunk: list[str]) -> sa.Select[Any]:
            return (sa.select(links.c.normalized, runs.c.started_at, observations.c.state)
                    .join(links, links.c.id == observations.c.link_id)
                    .join(runs, runs.c.id == observations.c.run_id)
                    .where(links.c.normalized.in_(chunk), runs.c.started_at >= since,
                           runs.c.id <= up_to_run, runs.c.status.in_(HISTORY_STATUSES)))

        def summarized(chunk: list[str]) -> sa.Select[Any]:
            return (sa.select(links.c.normalized, daily_summaries)
                    .join(links, links.c.id == daily_summaries.c.link_id)
                    .where(links.c.normalized.in_(chunk), daily_summaries.c.last_at >= since))

        with self.engine.connect() as conn:
            up_to = conn.execute(sa.select(runs.c.started_at).where(runs.c.id == up_to_run)).scalar()
            until = datetime.fromisoformat(up_to) if up_to else None
            for row in select_in(conn, history, checked):
                history[row.normalized].append((datetime.fromisoformat(row.started_at), State(row.state)))
            for row in select_in(conn, history, summarized):
                history[row.normalized] += [(when, State(row.state)) for when in spread(row.seen, row.first_at, row.last_at)
                                            if when >= since_at and (until is None or when <= until)]
        return {url: sorted(entries, key=lambda entry: entry[0]) for url, entries in history.items()}

    def observations_of_runs(self, run_ids: Sequence[int]) -> dict[int, dict[str, Observation]]:
        """Per run id, the observations keyed by normalized URL."""
        result: dict[int, dict[str, Observation]] = {run_id: {} for run_id in run_ids}
        with self.engine.connect() as conn:
            for row in select_in(conn, run_ids, lambda chunk: sa.select(observations, links.c.normalized)
                                 .join(links, links.c.id == observations.c.link_id)
                                 .where(observations.c.run_id.in_(chunk))):
                result[row.run_id][row.normalized] = _observation(row)
        return result


def _observation(row: Any) -> Observation:
    return Observation(
        url=row.normalized, state=State(row.state), reason=row.reason, checker=row.checker,
        evidence=Evidence(status_code=row.status_code, final_url=row.final_url, error=row.error,
                          elapsed_ms=row.elapsed_ms, attempts=row.attempts,
                          redirects=tuple((int(c), str(u)) for c, u in (row.evidence or {}).get("redirects", []))),
        suggested_url=row.suggested_url, facts=facts_from_dict(row.checker, row.details), checked_at=datetime.fromisoformat(row.checked_at))
