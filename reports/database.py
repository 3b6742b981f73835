"""Where the history database lives and how paperwatch connects to it.

Locations: a path is a SQLite file, ``postgresql://`` uses psycopg 3, any other ``scheme://`` is
a SQLAlchemy URL; a bad one fails early in one line that never shows its password, and a
password stays in this process (``without_password``) rather than in Prefect's flow parameters.

Transactions: every write is one transaction that first takes the database's write lock (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL transaction-level advisory lock), so two runs on one database
queue for a moment instead of colliding, and a process killed at any point leaves either the
whole transaction or none of it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's write transaction
PG_WRITE_LOCK = 0x7061_7065  # advisory lock key ("pape") serializing paperwatch writers on PostgreSQL
PG_CONNECT_TIMEOUT = 10


class StoreError(Exception):
    """The history database cannot be opened or used; the message is one line naming it."""


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


def url_of(db: str) -> sa.engine.URL:
    """The SQLAlchemy URL of ``db``, with the password this process keeps for it (``without_password``)."""
    try:
        url = sa.engine.make_url(database_url(db))
    except (sa.exc.ArgumentError, ValueError):
        raise StoreError(f"--db {shown_location(db)}: not a valid database URL") from None
    if url.password is None and db in _PASSWORDS:
        url = url.set(password=_PASSWORDS[db])
    return url


def first_line(exc: BaseException, secret: str | None = None) -> str:
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


def make_engine(db: str) -> Engine:
    """An engine for ``db`` with paperwatch's transaction rules, or a one-line StoreError."""
    url = url_of(db)
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


def check_file(db: str) -> None:
    """Refuse, in one line, a path that is not (and cannot become) a writable SQLite database file."""
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
        check_file(db)
        return
    engine = make_engine(db)
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"--db {shown_location(db)}: cannot connect ({first_line(exc, url_of(db).password)})") from None
    finally:
        engine.dispose()


@contextmanager
def write_transaction(engine: Engine, name: str) -> Iterator[Connection]:
    """One transaction holding the database's write lock: concurrent runs take turns, and a
    killed process leaves the whole transaction or none of it. ``name`` is the database as shown."""
    try:
        with engine.connect() as conn:
            conn.execution_options(paperwatch_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(BUSY_TIMEOUT_MS)}")
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_WRITE_LOCK)))
                yield conn
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig):
            raise StoreError(f"--db {name}: another process kept the history database locked for over "
                             f"{BUSY_TIMEOUT_MS / 1000:g} s; try again once it has finished") from None
        raise StoreError(f"--db {name}: cannot write to the history database ({first_line(exc)})") from None


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

