"""The history store: every run, paper, link and observation, in SQLite or any SQLAlchemy URL.

Schema (version 3), readable in one screen:

    meta             key, value                          -- schema_version lives here
    runs             id, started_at, finished_at, flow_run_id, sources, source_digest,
                     status (running|completed|failed|interrupted), offline, notes, counts
    run_owners       run_id, host, boot_id, pid, process_start  -- which process runs it   (v2)
    papers           id, title, source, first_seen, last_seen
    links            id, normalized, kind, first_seen
    paper_links      paper_id, link_id, url, claim, promise     -- a paper cites a link
    run_papers       run_id, paper_id                           -- the watched set of a run
    observations     id, run_id, link_id, state, reason, checker, status_code, final_url,
                     error, elapsed_ms, attempts, suggested_url, evidence, details, checked_at
    daily_summaries  link_id, day, state, seen, first_at, last_at  -- pruned observations (v2)
    run_readings     run_id, position, source, reading        -- how each input was read  (v3)

Times are UTC ISO-8601 text, so they sort and read the same in every database.

Every write is one transaction that first takes the database's write lock (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL transaction-level advisory lock), so two runs on one database
queue for a moment instead of colliding, and a process killed at any point leaves either the
whole batch or none of it. A run row stays ``running`` until it is finished; the next run to
start labels it ``interrupted`` once its owning process is gone.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import json

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from checks.facts import Facts, facts_from_dict, facts_to_dict
from checks.model import Evidence, Observation, Paper, State
from reports.retention import DEFAULT_KEEP_DAYS, DaySummary, cutoff, merge, spread

SCHEMA_VERSION = 3

# Runs whose observations make up a link's history: a killed run's committed observations are
# real checks; a failed run's are not trusted. Only finished ones are rolled into summaries.
HISTORY_STATUSES = ("completed", "interrupted", "running")
SUMMARIZED_STATUSES = ("completed", "interrupted")
# A run owned by a process on another machine cannot be probed: it is presumed dead after this.
FOREIGN_RUN_STALE = timedelta(hours=24)
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's write transaction
PG_WRITE_LOCK = 0x7061_7065  # advisory lock key ("pape") serializing paperwatch writers on PostgreSQL
PG_CONNECT_TIMEOUT = 10

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

# --- version 2 ---

run_owners = sa.Table(
    "run_owners", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("process_start", sa.String(32)),
)

daily_summaries = sa.Table(
    "daily_summaries", metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("state", sa.String(16), primary_key=True),
    sa.Column("seen", sa.Integer, nullable=False),
    sa.Column("first_at", sa.String(40), nullable=False),
    sa.Column("last_at", sa.String(40), nullable=False),
)

# --- version 3 ---

run_readings = sa.Table(
    "run_readings", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reading", sa.JSON, nullable=False),  # checks.readings.Reading.to_dict()
)

# A table is never changed after the version that created it; a later version adds tables (or
# alters in its own migration, and then gives the earlier versions frozen copies of their tables).
V1_TABLES = (meta, runs, papers, links, paper_links, run_papers, observations)
V2_TABLES = (run_owners, daily_summaries)
V3_TABLES = (run_readings,)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=list(V1_TABLES))


def _v1_to_v2(conn: Connection) -> None:
    """Owners and daily summaries. A run left ``running`` by a version-1 process has no owner to
    probe; runs are not left open across an upgrade, so it is labelled interrupted now."""
    metadata.create_all(conn, tables=list(V2_TABLES))
    for (run_id,) in conn.execute(sa.select(runs.c.id).where(runs.c.status == "running")).all():
        _label_interrupted(conn, run_id, "found running when the database was upgraded to schema 2")


def _v2_to_v3(conn: Connection) -> None:
    """How each input of a run was read (format, what a paper is, what was left out): older runs have none."""
    metadata.create_all(conn, tables=list(V3_TABLES))


# Explicit, ordered migrations: version N is reached by running MIGRATIONS[N] on version N-1.
MIGRATIONS = {1: _create_v1, 2: _v1_to_v2, 3: _v2_to_v3}


class StoreError(Exception):
    """The history database cannot be opened or used; the message is one line naming it."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


# --- locations: paths, URLs, drivers, passwords ---------------------------------------------------

_PASSWORDS: dict[str, str] = {}  # password-free --db URL -> its password, for this process only


def database_url(db: str) -> str:
    """A path becomes a SQLite URL; ``postgresql://`` (or ``postgres://``) uses psycopg 3;
    any other ``scheme://`` is taken as a SQLAlchemy URL."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().absolute()}"
    scheme, rest = db.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return db


def shown_location(db: str) -> str:
    """``db`` as messages may show it: never with its password."""
    if "://" not in db:
        return db
    try:
        return sa.engine.make_url(db).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", db)


def without_password(db: str) -> str:
    """The ``--db`` value to hand to the flow (Prefect stores flow parameters): the password
    stays in this process, where ``Store.open`` finds it again by the password-free URL."""
    if "://" not in db:
        return db
    try:
        url = sa.engine.make_url(db)
    except (sa.exc.ArgumentError, ValueError):
        return db
    if url.password is None:
        return db
    bare = sa.engine.URL.create(url.drivername, url.username, None, url.host, url.port, url.database,
                                url.query).render_as_string(hide_password=False)
    _PASSWORDS[bare] = str(url.password)
    return bare


def _url(db: str) -> sa.engine.URL:
    try:
        url = sa.engine.make_url(database_url(db))
    except (sa.exc.ArgumentError, ValueError):
        raise StoreError(f"--db {shown_location(db)}: not a valid database URL") from None
    if url.password is None and db in _PASSWORDS:
        url = url.set(password=_PASSWORDS[db])
    return url


def _first_line(exc: BaseException, secret: str | None = None) -> str:
    """A driver error as one line, without the password should a driver ever echo it."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    text = f"{type(inner).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text.replace(secret, "***") if secret else text


def _json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what only Python's json writes (NaN, Infinity) is still read back
        return json.loads(text)


def _engine(db: str) -> Engine:
    """An engine for ``db`` with paperwatch's transaction rules, or a one-line StoreError."""
    url = _url(db)
    shown = shown_location(db)
    # orjson (a Prefect dependency) decodes the JSON columns (details, evidence) several times faster:
    # reading back a large history for the report is mostly that decoding
    options: dict[str, Any] = {"json_deserializer": _json_loads}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT}
    try:
        engine = sa.create_engine(url, **options)
    except sa.exc.NoSuchModuleError:
        raise StoreError(f"--db {shown}: unknown database type {url.drivername!r}") from None
    except ImportError:
        hint = " (pip install 'paperwatch[postgres]')" if url.get_backend_name() == "postgresql" else ""
        raise StoreError(f"--db {shown}: the database driver {url.get_driver_name()!r} is not installed{hint}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _check_file(db: str) -> None:
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


def validate_location(db: str) -> None:
    """Fail early, in one line, on a path that cannot hold a SQLite history database, or a URL
    whose driver is missing or whose server cannot be reached. Creates nothing."""
    if "://" not in db:
        _check_file(db)
        return
    engine = _engine(db)
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"--db {shown_location(db)}: cannot connect ({_first_line(exc, _url(db).password)})") from None
    finally:
        engine.dispose()


# --- which process owns a run ------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A process as another process can recognise it later: host, boot, pid and start time."""

    host: str
    boot_id: str | None
    pid: int
    process_start: str | None

    @classmethod
    def current(cls) -> "Owner":
        pid = os.getpid()
        stat = _proc_stat(pid)
        return cls(socket.gethostname(), _boot_id(), pid, stat[1] if stat else None)


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) from Linux /proc, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], fields[19]


def _process_alive(pid: int, process_start: str | None) -> bool | None:
    """Whether that very process still runs on this host; None when this system cannot tell."""
    if Path("/proc/self/stat").exists():
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):  # gone, or a zombie nobody has reaped yet
            return False
        return process_start is None or stat[1] == process_start  # same pid, another process: reused
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _why_gone(owner: Any, started_at: str, me: Owner, now: datetime) -> str | None:
    """Why a ``running`` run's process is known to be gone, or None while it may still be running."""
    stale = now - datetime.fromisoformat(started_at) > FOREIGN_RUN_STALE
    if owner.host is None:
        return "its process is unknown" if stale else None
    where = f"pid {owner.pid} on {owner.host}"
    if owner.host == me.host and owner.boot_id and me.boot_id and owner.boot_id != me.boot_id:
        return f"{where} ended when the host restarted"
    alive = _process_alive(owner.pid, owner.process_start) if owner.host == me.host else None
    if alive is None:  # another machine's process, or a system without /proc or signals: only time tells
        hours = FOREIGN_RUN_STALE.total_seconds() / 3600
        return f"{where} had not finished it {hours:g} hours after it started" if stale else None
    return None if alive else f"{where} ended before finishing it"


def _label_interrupted(conn: Connection, run_id: int, why: str) -> None:
    """A run whose process is gone: ``interrupted``, with the counts of what it did commit."""
    counts = dict(conn.execute(sa.select(observations.c.state, sa.func.count())
                               .where(observations.c.run_id == run_id).group_by(observations.c.state)).all())
    notes = conn.execute(sa.select(runs.c.notes).where(runs.c.id == run_id)).scalar() or []
    conn.execute(sa.update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(
        status="interrupted", counts=counts, notes=[*notes, f"interrupted: {why}"]))


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


class Store:
    def __init__(self, engine: Engine, name: str | None = None):
        self.engine = engine
        self.name = name or engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, db: str) -> "Store":
        if "://" not in db:
            _check_file(db)
        store = cls(_engine(db), shown_location(db))
        try:
            store.migrate()
        except sa.exc.SQLAlchemyError as exc:
            store.close()
            raise StoreError(f"--db {store.name}: cannot open the history database "
                             f"({_first_line(exc, _url(db).password)})") from None
        except StoreError:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction holding the database's write lock: concurrent runs take turns, and a
        killed process leaves the whole transaction or none of it."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(paperwatch_write=True)
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(BUSY_TIMEOUT_MS)}")
                        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_WRITE_LOCK)))
                    yield conn
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig):
                raise StoreError(f"--db {self.name}: another process kept the history database locked for over "
                                 f"{BUSY_TIMEOUT_MS / 1000:g} s; try again once it has finished") from None
            raise StoreError(f"--db {self.name}: cannot write to the history database ({_first_line(exc)})") from None

    @staticmethod
    def _version(conn: Connection) -> int:
        if not sa.inspect(conn).has_table("meta"):
            return 0
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        return int(value) if value else 0

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return self._version(conn)

    def migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction; a second process waits and finds it done."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"--db {self.name}: database schema version {current} is newer than this paperwatch "
                             f"({SCHEMA_VERSION})")
        if current == SCHEMA_VERSION:
            return
        with self._write() as conn:
            for version in range(self._version(conn) + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](conn)
                conn.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
                conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))

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
            conn.execute(sa.insert(run_owners).values(run_id=run_id, host=me.host, boot_id=me.boot_id, pid=me.pid,
                                                      process_start=me.process_start))
            self._label_gone_runs(conn, run_id, me)
            if watched:
                self._record_papers(conn, run_id, watched, stamp)
            if readings:
                conn.execute(sa.insert(run_readings), [dict(run_id=run_id, position=i, source=str(r.get("source")), reading=dict(r))
                                                       for i, r in enumerate(readings)])
        return run_id

    def _label_gone_runs(self, conn: Connection, new_run: int, me: Owner) -> None:
        query = (sa.select(runs.c.id, runs.c.started_at, run_owners.c.host, run_owners.c.boot_id, run_owners.c.pid,
                           run_owners.c.process_start)
                 .select_from(runs.outerjoin(run_owners, run_owners.c.run_id == runs.c.id))
                 .where(runs.c.status == "running", runs.c.id != new_run))
        now = datetime.now(timezone.utc)
        for row in conn.execute(query).all():
            why = _why_gone(row, row.started_at, me, now)
            if why:
                _label_interrupted(conn, row.id, f"{why}; noticed at {now.isoformat()} by run {new_run}")

    def record_papers(self, run_id: int, watched: Sequence[Paper]) -> None:
        """Upsert papers and links and remember which papers this run watches (one transaction)."""
        with self._write() as conn:
            self._record_papers(conn, run_id, watched, now_iso())

    def _record_papers(self, conn: Connection, run_id: int, watched: Sequence[Paper], stamp: str) -> None:
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
        with self._write() as conn:
            ids: dict[str, int] = {}
            urls = [o.url for o in items]
            for start in range(0, len(urls), 500):
                ids.update(conn.execute(sa.select(links.c.normalized, links.c.id)
                                        .where(links.c.normalized.in_(urls[start:start + 500]))).all())
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
            counts = dict(conn.execute(sa.select(observations.c.state, sa.func.count())
                                       .where(observations.c.run_id == run_id).group_by(observations.c.state)).all())
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(
                finished_at=now_iso(), status=status, offline=offline, notes=list(notes), counts=counts))
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
            earlier: list[DaySummary] = []
            for start in range(0, len(days), 500):
                chunk = days[start:start + 500]
                earlier += [DaySummary(r.link_id, r.day, r.state, r.seen, r.first_at, r.last_at)
                            for r in conn.execute(sa.select(daily_summaries).where(daily_summaries.c.day.in_(chunk)))]
                conn.execute(sa.delete(daily_summaries).where(daily_summaries.c.day.in_(chunk)))
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
        result: dict[str, Facts] = {}
        names = list(urls)
        for start in range(0, len(names), 500):
            result.update(_latest_details(self, names[start:start + 500]))
        return result

    def link_histories(self, urls: Sequence[str], since: str, up_to_run: int) -> dict[str, list[tuple[datetime, State]]]:
        """(run start, state) of each link since ``since`` up to a run, oldest first.

        Raw observations come from runs that count as history (completed, interrupted, running);
        older days come from the daily summaries that pruning left, so verdicts read the same
        before and after a prune.
        """
        history: dict[str, list[tuple[datetime, State]]] = {url: [] for url in urls}
        names = list(urls)
        since_at = datetime.fromisoformat(since)
        with self.engine.connect() as conn:
            up_to = conn.execute(sa.select(runs.c.started_at).where(runs.c.id == up_to_run)).scalar()
            until = datetime.fromisoformat(up_to) if up_to else None
            for start in range(0, len(names), 500):
                chunk = names[start:start + 500]
                query = (sa.select(links.c.normalized, runs.c.started_at, observations.c.state)
                         .join(links, links.c.id == observations.c.link_id)
                         .join(runs, runs.c.id == observations.c.run_id)
                         .where(links.c.normalized.in_(chunk), runs.c.started_at >= since,
                                runs.c.id <= up_to_run, runs.c.status.in_(HISTORY_STATUSES)))
                for row in conn.execute(query):
                    history[row.normalized].append((datetime.fromisoformat(row.started_at), State(row.state)))
                summaries = (sa.select(links.c.normalized, daily_summaries)
                             .join(links, links.c.id == daily_summaries.c.link_id)
                             .where(links.c.normalized.in_(chunk), daily_summaries.c.last_at >= since))
                for row in conn.execute(summaries):
                    history[row.normalized] += [(when, State(row.state)) for when in spread(row.seen, row.first_at, row.last_at)
                                                if when >= since_at and (until is None or when <= until)]
        return {url: sorted(entries, key=lambda entry: entry[0]) for url, entries in history.items()}

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
                    suggested_url=row.suggested_url, facts=facts_from_dict(row.checker, row.details),
                    checked_at=datetime.fromisoformat(row.checked_at))
        return result


def _latest_details(store: "Store", urls: Sequence[str]) -> dict[str, Facts]:
    latest = (sa.select(sa.func.max(observations.c.id))
              .join(links, links.c.id == observations.c.link_id)
              .join(runs, runs.c.id == observations.c.run_id)
              .where(links.c.normalized.in_(list(urls)), runs.c.status == "completed")
              .group_by(observations.c.link_id))
    query = (sa.select(links.c.normalized, observations.c.checker, observations.c.details)
             .join(links, links.c.id == observations.c.link_id)
             .where(observations.c.id.in_(latest)))
    with store.engine.connect() as conn:
        found = {row.normalized: facts_from_dict(row.checker, row.details) for row in conn.execute(query)}
        return {url: facts for url, facts in found.items() if facts is not None}


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy, not the sqlite3 module, decides when transactions begin (see ``_sqlite_begin``)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writers take the lock up front (IMMEDIATE), so a read-then-write transaction never fails
    half-way with "database is locked"; readers stay deferred and never wait in WAL mode."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("paperwatch_write") else "BEGIN")
