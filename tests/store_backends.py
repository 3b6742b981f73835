"""A fresh history database per test, on SQLite and on the PostgreSQL server ``./dev test`` starts.

Test modules import the ``db`` fixture from here, so every store behaviour is proven on both
backends. A PostgreSQL database is created for the test and dropped after it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from reports.store import database_url


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``; its URL (password included)."""
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                # End our own sessions (a killed run's may linger; wait up to 5 s for each to go), then drop
                # without FORCE: FORCE refuses when an autovacuum worker is in the database (not our role's
                # process: "must be a member of the role whose process is being terminated"), while a plain DROP
                # asks autovacuum to leave and waits for it.
                conn.execute(sa.text("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = :name "
                                     "AND pid <> pg_backend_pid() AND usename = current_user"), {"name": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``--db`` for a fresh history database: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite")
        forget_engine(str(tmp_path / "history.sqlite"))
        return
    with fresh_postgres(request.getfixturevalue("postgres_url")) as url:
        yield url
        forget_engine(url)


def is_sqlite(db: str) -> bool:
    return "://" not in db or db.startswith("sqlite")


_ENGINES: dict[str, sa.engine.Engine] = {}


def _engine(db: str) -> sa.engine.Engine:
    """One engine per database for the test's own reads, so polling reuses a connection."""
    if db not in _ENGINES:
        _ENGINES[db] = sa.create_engine(database_url(db))
    return _ENGINES[db]


def forget_engine(db: str) -> None:
    engine = _ENGINES.pop(db, None)
    if engine is not None:
        engine.dispose()


def query(db: str, sql: str, **params: object) -> list[tuple]:
    """Rows of one SQL query, read the way an outside tool would, not through the store."""
    with _engine(db).connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql), params)]


def execute(db: str, *statements: str) -> None:
    """Run statements in one committed transaction (test set-up: back-dating, triggers)."""
    with _engine(db).begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


ORPHANS = {
    "observations without their run": "select count(*) from observations o left join runs r on r.id = o.run_id where r.id is null",
    "observations without their link": "select count(*) from observations o left join links l on l.id = o.link_id where l.id is null",
    "run papers without their run": "select count(*) from run_papers p left join runs r on r.id = p.run_id where r.id is null",
    "run papers without their paper": "select count(*) from run_papers p left join papers x on x.id = p.paper_id where x.id is null",
    "citations without their link": "select count(*) from paper_links p left join links l on l.id = p.link_id where l.id is null",
    "owners without their run": "select count(*) from run_owners o left join runs r on r.id = o.run_id where r.id is null",
}


def assert_consistent(db: str) -> None:
    """The database file is sound (SQLite) and every reference points at a row that exists."""
    if is_sqlite(db):
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for what, sql in ORPHANS.items():
        assert query(db, sql) == [(0,)], what


# --- holding a writer inside its transaction -------------------------------------------------------
# Set up by the tests, in the database under test: the product code knows nothing of it.

_SQLITE_TEN = " union all ".join(f"select {i}" for i in range(10))
_SQLITE_STALL = ("create table stall_rows(x)",
                 f"insert into stall_rows select 1 from ({_SQLITE_TEN}) a, ({_SQLITE_TEN}) b, ({_SQLITE_TEN}) c",
                 # 10^9 rows counted inside the writer's transaction: minutes of work
                 "create trigger stall {event} when {condition} begin "
                 "select count(*) from stall_rows a, stall_rows b, stall_rows c; end")
_POSTGRES_STALL = ("create function stall() returns trigger language plpgsql as "
                   "$$ begin perform pg_sleep(300); return coalesce(new, old); end $$",
                   "create trigger stall {event} for each row when ({condition}) execute function stall()")


def stall(db: str, event: str, condition: str = "true") -> None:
    """Make one kind of row change (``event``, e.g. "before insert on observations") hang for
    minutes inside the writer's transaction, so a test can SIGKILL the writer right there."""
    statements = _SQLITE_STALL if is_sqlite(db) else _POSTGRES_STALL
    execute(db, *(s.format(event=event, condition=condition) for s in statements))


def unstall(db: str, table: str) -> None:
    execute(db, *(("drop trigger stall", "drop table stall_rows") if is_sqlite(db)
                  else (f"drop trigger stall on {table}", "drop function stall()")))


def notice_dead_clients(db: str) -> None:
    """PostgreSQL: look for a vanished client every 250 ms even while its statement runs (sessions
    opened from now on), so a stall ends, and its transaction rolls back, once its process is killed."""
    if not is_sqlite(db):
        execute(db, "do $$ begin execute format('alter database %%I set client_connection_check_interval = 250', "
                    "current_database()); end $$")


def stalled(db: str) -> bool:
    """Whether a writer sits in its write transaction right now: PostgreSQL reports the stalled
    session; on SQLite the test's own ``BEGIN IMMEDIATE`` finds the write lock taken."""
    if not is_sqlite(db):
        return bool(query(db, "select 1 from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()"))
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        conn.close()


def kill_in_stall(db: str, pid: int, hold: float = 0.5, timeout: float = 60) -> None:
    """SIGKILL ``pid`` once it sits in the stall, and return when its transaction is gone.

    On SQLite a writer holding the write lock for ``hold`` seconds without a break is in the
    stall (paperwatch's own write transactions take milliseconds): call this once the writes
    before the stalled one are known to be committed.
    """
    deadline = time.monotonic() + timeout
    held_since: float | None = None
    while True:
        now = time.monotonic()
        if stalled(db):
            held_since = held_since or now
            if not is_sqlite(db) or now - held_since >= hold:
                break
        else:
            held_since = None
        assert now < deadline, "the writer never reached the stall"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while not is_sqlite(db) and stalled(db):  # the server notices its client is gone and rolls back
        assert time.monotonic() < deadline + timeout, "the server kept the killed writer's transaction"
        time.sleep(0.05)
