"""The history store: every run, paper, link and observation, in SQLite or any SQLAlchemy URL.

Schema (version 1), readable in one screen:

    meta          key, value                          -- schema_version lives here
    runs          id, started_at, finished_at, flow_run_id, sources, source_digest,
                  status (running|completed|failed), offline, notes, counts
    papers        id, title, source, first_seen, last_seen
    links         id, normalized, kind, first_seen
    paper_links   paper_id, link_id, url, claim, promise     -- a paper cites a link
    run_papers    run_id, paper_id                           -- the watched set of a run
    observations  id, run_id, link_id, state, reason, checker, status_code, final_url,
                  error, elapsed_ms, attempts, suggested_url, evidence, details, checked_at

Times are UTC ISO-8601 text, so they sort and read the same in every database.
Writes are one transaction per batch; a run row stays ``running`` until it is finished.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from checks.model import Evidence, Observation, Paper, State

SCHEMA_VERSION = 1

metadata = sa.MetaData()

meta = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False))

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("sources", sa.JSON, nullable=False),
    sa.Column("source_digest", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("offline", sa.Boolean, nullable=False, default=False),
    sa.Column("notes", sa.JSON, nullable=False, default=list),
    sa.Column("counts", sa.JSON, nullable=False, default=dict),
)

papers = sa.Table(
    "papers", metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source", sa.Text),
    sa.Column("first_seen", sa.String(40), nullable=False),
    sa.Column("last_seen", sa.String(40), nullable=False),
)

links = sa.Table(
    "links", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("normalized", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("first_seen", sa.String(40), nullable=False),
)

paper_links = sa.Table(
    "paper_links", metadata,
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("claim", sa.String(32)),
    sa.Column("promise", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)

run_papers = sa.Table(
    "run_papers", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

observations = sa.Table(
    "observations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("checker", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("final_url", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("elapsed_ms", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("suggested_url", sa.Text),
    sa.Column("evidence", sa.JSON, nullable=False, default=dict),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    sa.Column("checked_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("run_id", "link_id", name="one_observation_per_link_per_run"),
    sa.Index("observations_by_link", "link_id", "run_id"),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


# Explicit, ordered migrations: version N is reached by running MIGRATIONS[N] on version N-1.
MIGRATIONS = {1: _create_v1}


class StoreError(Exception):
    """The history database cannot be opened or used; the message is one line naming it."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def database_url(db: str) -> str:
    """A path becomes a SQLite URL; anything with ``://`` is taken as a SQLAlchemy URL."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().absolute()}"


def validate_location(db: str) -> None:
    """Fail early, in one line, on a path that cannot hold a SQLite history database."""
    if "://" in db:
        try:
            sa.engine.make_url(db)
        except sa.exc.ArgumentError:
            raise StoreError(f"--db {db}: not a valid database URL") from None
        return
    path = Path(db).expanduser()
    if path.is_dir():
        raise StoreError(f"--db {db}: is a directory, expected a database file path")
    if path.exists():
        with path.open("rb") as handle:
            header = handle.read(16)
        if header and header != b"SQLite format 3\x00":
            raise StoreError(f"--db {db}: exists but is not a SQLite database")
        if not os.access(path, os.W_OK):
            raise StoreError(f"--db {db}: database file is not writable")
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"--db {db}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise StoreError(f"--db {db}: directory {parent} is not writable")


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


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, db: str) -> "Store":
        validate_location(db)
        url = database_url(db)
        engine = sa.create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            store.migrate()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"--db {db}: cannot open the history database ({type(exc.orig or exc).__name__}: "
                             f"{str(exc.orig or exc).splitlines()[0]})") from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return 0
            value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
            return int(value) if value else 0

    def migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"database schema version {current} is newer than this paperwatch ({SCHEMA_VERSION})")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.engine.begin() as conn:
                MIGRATIONS[version](conn)
                conn.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
                conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))

    # --- writing -------------------------------------------------------------------------------

    def start_run(self, sources: Sequence[str], source_digest: str | None = None, flow_run_id: str | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(runs).values(
                started_at=now_iso(), sources=list(sources), source_digest=source_digest, flow_run_id=flow_run_id,
                status="running", offline=False, notes=[], counts={}))
            return int(result.inserted_primary_key[0])

    def record_papers(self, run_id: int, watched: Sequence[Paper]) -> None:
        """Upsert papers and links and remember which papers this run watches (one transaction)."""
        stamp = now_iso()
        with self.engine.begin() as conn:
            link_ids = self._link_ids(conn, {link.normalized: str(link.kind) for p in watched for link in p.links}, stamp)
            existing = set(conn.execute(sa.select(papers.c.id).where(papers.c.id.in_([p.id for p in watched]))).scalars())
            for position, paper in enumerate(watched):
                if paper.id in existing:
                    conn.execute(sa.update(papers).where(papers.c.id == paper.id).values(title=paper.title, last_seen=stamp))
                else:
                    conn.execute(sa.insert(papers).values(id=paper.id, title=paper.title, source=paper.source,
                                                          first_seen=stamp, last_seen=stamp))
                conn.execute(sa.delete(paper_links).where(paper_links.c.paper_id == paper.id))
                rows = [dict(paper_id=paper.id, link_id=link_ids[link.normalized], url=link.url, claim=link.claim,
                             promise=link.promise, position=i) for i, link in enumerate(paper.links)]
                if rows:
                    conn.execute(sa.insert(paper_links), rows)
                conn.execute(sa.insert(run_papers).values(run_id=run_id, paper_id=paper.id, position=position))

    def _link_ids(self, conn: Connection, kinds: dict[str, str], stamp: str) -> dict[str, int]:
        ids: dict[str, int] = {}
        names = list(kinds)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            ids.update(conn.execute(sa.select(links.c.normalized, links.c.id).where(links.c.normalized.in_(chunk))).all())
        missing = [dict(normalized=n, kind=kinds[n], first_seen=stamp) for n in names if n not in ids]
        if missing:
            conn.execute(sa.insert(links), missing)
            for start in range(0, len(missing), 500):
                chunk = [row["normalized"] for row in missing[start:start + 500]]
                ids.update(conn.execute(sa.select(links.c.normalized, links.c.id).where(links.c.normalized.in_(chunk))).all())
        return ids

    def record_observations(self, run_id: int, batch: Iterable[Observation]) -> int:
        """Store one batch of observations in one transaction; returns how many were stored."""
        items = list(batch)
        if not items:
            return 0
        with self.engine.begin() as conn:
            ids = dict(conn.execute(sa.select(links.c.normalized, links.c.id)
                                    .where(links.c.normalized.in_([o.url for o in items]))).all())
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
                    evidence={"redirects": [list(h) for h in o.evidence.redirects]}, details=dict(o.details),
                    checked_at=o.checked_at.isoformat())

    def finish_run(self, run_id: int, *, status: str, offline: bool, notes: Sequence[str]) -> RunRecord:
        with self.engine.begin() as conn:
            counts = dict(conn.execute(sa.select(observations.c.state, sa.func.count())
                                       .where(observations.c.run_id == run_id).group_by(observations.c.state)).all())
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(
                finished_at=now_iso(), status=status, offline=offline, notes=list(notes), counts=counts))
        return self.run(run_id)

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
        """The most recent finished runs (oldest first), optionally up to a given run."""
        query = sa.select(runs).where(runs.c.status != "running").order_by(runs.c.id.desc()).limit(limit)
        if up_to is not None:
            query = query.where(runs.c.id <= up_to)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [self._run_record(row) for row in reversed(rows)]

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

    def latest_details(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The metadata each link had at its last completed check (ETags included), for conditional requests."""
        result: dict[str, dict[str, Any]] = {}
        names = list(urls)
        for start in range(0, len(names), 500):
            result.update(_latest_details(self, names[start:start + 500]))
        return result

    def link_histories(self, urls: Sequence[str], since: str, up_to_run: int) -> dict[str, list[tuple[datetime, State]]]:
        """(run start, state) of each link in completed runs since ``since`` up to a run, oldest first."""
        history: dict[str, list[tuple[datetime, State]]] = {url: [] for url in urls}
        names = list(urls)
        with self.engine.connect() as conn:
            for start in range(0, len(names), 500):
                query = (sa.select(links.c.normalized, runs.c.started_at, observations.c.state)
                         .join(links, links.c.id == observations.c.link_id)
                         .join(runs, runs.c.id == observations.c.run_id)
                         .where(links.c.normalized.in_(names[start:start + 500]), runs.c.started_at >= since,
                                runs.c.id <= up_to_run, runs.c.status.in_(("completed", "running")))
                         .order_by(runs.c.id))
                for row in conn.execute(query):
                    history[row.normalized].append((datetime.fromisoformat(row.started_at), State(row.state)))
        return history

    def observations_of_runs(self, run_ids: Sequence[int]) -> dict[int, dict[str, Observation]]:
        """Per run id, the observations keyed by normalized URL."""
        query = (sa.select(observations, links.c.normalized)
                 .join(links, links.c.id == observations.c.link_id)
                 .where(observations.c.run_id.in_(list(run_ids))))
        result: dict[int, dict[str, Observation]] = {run_id: {} for run_id in run_ids}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                result[row.run_id][row.normalized] = Observation(
                    url=row.normalized, state=State(row.state), reason=row.reason, checker=row.checker,
                    evidence=Evidence(status_code=row.status_code, final_url=row.final_url, error=row.error,
                                      elapsed_ms=row.elapsed_ms, attempts=row.attempts,
                                      redirects=tuple((int(c), str(u)) for c, u in (row.evidence or {}).get("redirects", []))),
                    suggested_url=row.suggested_url, details=dict(row.details or {}),
                    checked_at=datetime.fromisoformat(row.checked_at))
        return result


def _latest_details(store: "Store", urls: Sequence[str]) -> dict[str, dict[str, Any]]:
    latest = (sa.select(sa.func.max(observations.c.id))
              .join(links, links.c.id == observations.c.link_id)
              .join(runs, runs.c.id == observations.c.run_id)
              .where(links.c.normalized.in_(list(urls)), runs.c.status == "completed")
              .group_by(observations.c.link_id))
    query = (sa.select(links.c.normalized, observations.c.details)
             .join(links, links.c.id == observations.c.link_id)
             .where(observations.c.id.in_(latest)))
    with store.engine.connect() as conn:
        return {row.normalized: dict(row.details or {}) for row in conn.execute(query) if row.details}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
