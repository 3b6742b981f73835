"""The history store keeps every run and observation, on SQLite and PostgreSQL alike, survives
its writers being killed, lets two writers work at once, and refuses bad locations in one line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from flows.cli import main
from reports.database import PG_WRITE_LOCK
from reports.migrations import MIGRATIONS
from reports.schema import SCHEMA_VERSION, meta, runs
from reports.store import Store, StoreError, database_url, validate_location, without_password

pytest.register_assert_rewrite("store_backends")
from store_backends import (assert_consistent, execute, fresh_postgres, is_sqlite, kill_in_stall,  # noqa: E402
                            notice_dead_clients, query, stall, unstall)

pytest_plugins = ("store_backends",)  # the ``db`` fixture: each test on SQLite and on PostgreSQL

REPO = Link(url="https://github.com/a/b.", normalized="https://github.com/a/b", kind=LinkKind.GITHUB_REPO,
            claim="code", owner="a", name="b")
PAGE = Link(url="https://a.example.org/", normalized="https://a.example.org", kind=LinkKind.PROJECT, claim="project")


def papers() -> list[Paper]:
    return [Paper(id="p1", title="First paper", links=(REPO, PAGE)), Paper(id="p2", title="Second paper", links=(REPO,)),
            Paper(id="p3", title="No links")]


def observe(link: Link, state: State, **evidence: object) -> Observation:
    return Observation(url=link.normalized, state=state, reason=f"{state} for test", checker="http",
                       evidence=Evidence(**evidence))  # type: ignore[arg-type]


@pytest.mark.postgres
def test_a_test_database_is_dropped_even_when_a_session_is_left_open(postgres_url: str) -> None:
    """The fixture's clean-up: a killed run's session may still be connected when the test ends."""
    with fresh_postgres(postgres_url) as url:
        name = sa.engine.make_url(url).database
        lingering = sa.create_engine(url).connect()
        lingering.execute(sa.text("SELECT 1"))
    admin = sa.create_engine(postgres_url)
    try:
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar() == 0
    finally:
        admin.dispose()
    with pytest.raises(sa.exc.DBAPIError):  # its session was ended
        lingering.execute(sa.text("SELECT 1"))
    lingering.invalidate()


def test_two_runs_are_kept_with_their_observations(db: str) -> None:
    store = Store.open(db)
    first = store.start_run(["in.txt"], watched=papers())
    store.record_observations(first, [observe(REPO, State.ALIVE, status_code=200), observe(PAGE, State.ERROR, error="boom")])
    store.finish_run(first, status="completed", offline=False, notes=[])
    store.close()

    store = Store.open(db)  # reopening does not re-run migrations or lose anything
    second = store.start_run(["in.txt"])
    store.record_papers(second, papers())
    store.record_observations(second, [observe(REPO, State.DEAD, status_code=404), observe(PAGE, State.ALIVE)])
    record = store.finish_run(second, status="completed", offline=False, notes=["note"])

    assert record.counts == {"dead": 1, "alive": 1}
    assert [r.id for r in store.runs()] == [first, second]
    history = store.observations_of_runs([first, second])
    assert history[first]["https://github.com/a/b"].state is State.ALIVE
    assert history[second]["https://github.com/a/b"].evidence.status_code == 404
    assert history[first]["https://a.example.org"].evidence.error == "boom"
    watched = store.papers_of_run(second)
    assert [(pid, title, [c.normalized for c in cited]) for pid, title, cited in watched] == [
        ("p1", "First paper", ["https://github.com/a/b", "https://a.example.org"]),
        ("p2", "Second paper", ["https://github.com/a/b"]),
        ("p3", "No links", []),
    ]
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    assert_consistent(db)


def test_an_unfinished_run_is_not_listed_as_history(db: str) -> None:
    store = Store.open(db)
    done = store.start_run(["a"])
    store.finish_run(done, status="completed", offline=False, notes=[])
    running = store.start_run(["a"])  # still going in this very process: not interrupted
    assert [r.id for r in store.runs()] == [done]
    assert store.run(running).status == "running"
    store.close()


def test_a_second_observation_of_a_link_in_one_run_is_refused(db: str) -> None:
    store = Store.open(db)
    run = store.start_run(["a"], watched=papers())
    store.record_observations(run, [observe(REPO, State.ALIVE)])
    with pytest.raises(sa.exc.IntegrityError):
        store.record_observations(run, [observe(PAGE, State.ALIVE), observe(REPO, State.DEAD)])
    seen = store.observations_of_runs([run])[run]
    assert {url: o.state for url, o in seen.items()} == {"https://github.com/a/b": State.ALIVE}  # nothing of the refused batch
    store.close()


def held(db: str) -> bool:
    """Whether a store still holds the database: SQLite keeps its write-ahead log file while any
    connection is open; PostgreSQL lists a session besides the one asking."""
    if is_sqlite(db):
        return Path(f"{db}-wal").exists()
    return query(db, "select count(*) from pg_stat_activity where datname = current_database() "
                     "and pid <> pg_backend_pid()") != [(0,)]


def let_go(db: str) -> bool:
    deadline = time.monotonic() + 10
    while held(db):  # a closed PostgreSQL session leaves the server's list a moment after its client let go
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_store_is_closed_when_its_block_ends_in_an_error(db: str) -> None:
    """``with Store.open(db) as store:`` lets go of the database on every way out."""
    with pytest.raises(RuntimeError, match="stopped half-way"):
        with Store.open(db) as store:
            run = store.start_run(["a"], watched=papers())
            assert held(db)
            raise RuntimeError("stopped half-way")
    assert let_go(db)
    with Store.open(db) as store:  # what the block committed stays
        assert store.run(run).status == "running"
    assert let_go(db)


# --- processes that die, processes that overlap --------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
    from reports.store import Store
    links = [Link(url=f"https://site{i}.example.org/", normalized=f"https://site{i}.example.org", kind=LinkKind.PROJECT)
             for i in range(6)]
    def seen(link, state=State.ALIVE):
        return Observation(url=link.normalized, state=state, reason="seen", checker="http", evidence=Evidence())
    store = Store.open(sys.argv[1])
    run = store.start_run(["child"], watched=[Paper(id="child", title="Child paper", links=tuple(links))])
    print("run", run, flush=True)
""")


def child(db: str, code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD + textwrap.dedent(code), db, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(proc: subprocess.Popen[str], prefix: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"child never printed {prefix!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_a_run_whose_process_is_gone_is_labelled_interrupted_by_the_next_run(db: str) -> None:
    """A process that ended without finishing its run, and one still working on its own."""
    gone = child(db, "store.record_observations(run, [seen(link) for link in links[:2]])\n")
    assert gone.wait(60) == 0, gone.stderr.read() if gone.stderr else ""
    alive = child(db, "input()\n")
    alive_run = int(read_until(alive, "run").split()[1])
    try:
        store = Store.open(db)
        store.start_run(["parent"])
        gone_run = store.run(1)
        assert gone_run.status == "interrupted"  # noticed by the next run to start, the live child's
        assert gone_run.counts == {"alive": 2}  # what it committed is kept and counted
        assert f"pid {gone.pid}" in gone_run.notes[-1] and f"by run {alive_run}" in gone_run.notes[-1]
        assert store.run(alive_run).status == "running"  # a live concurrent run is left alone
        assert [r.id for r in store.runs()] == [1]  # listed: it recorded observations
        assert {o.url for o in store.observations_of_runs([1])[1].values()} == {
            "https://site0.example.org", "https://site1.example.org"}
    finally:
        alive.communicate("\n", timeout=60)
    store.start_run(["parent"])
    assert store.run(alive_run).status == "interrupted"
    assert [r.id for r in store.runs()] == [1]  # it checked nothing: no point of comparison
    store.close()
    assert_consistent(db)


def test_a_run_on_another_host_is_presumed_interrupted_only_after_a_day(db: str) -> None:
    store = Store.open(db)
    elsewhere = store.start_run(["a"])
    execute(db, f"update run_owners set host = 'other-host', pid = 1 where run_id = {elsewhere}",
            f"update runs set started_at = '{(datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()}' where id = {elsewhere}")
    store.start_run(["a"])
    assert store.run(elsewhere).status == "running"
    execute(db, f"update runs set started_at = '{(datetime.now(timezone.utc) - timedelta(hours=25)).isoformat()}' "
                f"where id = {elsewhere}")
    store.start_run(["a"])
    assert store.run(elsewhere).status == "interrupted"
    assert "other-host had not finished it 24 hours after it started" in store.run(elsewhere).notes[-1]
    store.close()


def test_a_writer_killed_mid_batch_loses_only_the_uncommitted_batch(db: str) -> None:
    """SIGKILL inside the second batch's transaction: the first batch stays, nothing of the second shows."""
    Store.open(db).close()
    notice_dead_clients(db)
    proc = child(db, """
        input()
        store.record_observations(run, [seen(link) for link in links[:3]])
        print("first batch committed", flush=True)
        store.record_observations(run, [seen(link, State.DEAD) for link in links[3:]])
        print("second batch committed", flush=True)
    """)
    read_until(proc, "run")
    stall(db, "before insert on observations", "new.link_id = 6")  # the second batch's last row: two are written by then
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    read_until(proc, "first batch committed")
    kill_in_stall(db, proc.pid)
    proc.wait(30)
    unstall(db, "observations")

    assert_consistent(db)
    assert query(db, "select l.normalized, o.state from observations o join links l on l.id = o.link_id order by l.id") == [
        ("https://site0.example.org", "alive"), ("https://site1.example.org", "alive"), ("https://site2.example.org", "alive")]
    store = Store.open(db)
    again = store.start_run(["again"], watched=store_papers(store, 1))
    assert store.run(1).status == "interrupted" and store.run(1).counts == {"alive": 3}
    assert store.record_observations(again, [observe_url(f"https://site{i}.example.org", State.DEAD) for i in range(6)]) == 6
    store.close()
    assert_consistent(db)


def store_papers(store: Store, run_id: int) -> list[Paper]:
    return [Paper(id=pid, title=title, links=tuple(Link(url=c.url, normalized=c.normalized, kind=LinkKind(c.kind))
                                                   for c in cited))
            for pid, title, cited in store.papers_of_run(run_id)]


def observe_url(url: str, state: State) -> Observation:
    return Observation(url=url, state=state, reason="again", checker="http", evidence=Evidence())


WRITER = """
    input()  # both writers start together
    for i in range(int(sys.argv[2])):
        own = Link(url=f"https://own.example.org/{sys.argv[3]}/{i}", normalized=f"https://own.example.org/{sys.argv[3]}/{i}",
                   kind=LinkKind.PROJECT)
        n = store.start_run(["writer"], watched=[Paper(id="shared", title="Shared", links=tuple(links)),
                                                 Paper(id=f"own-{sys.argv[3]}-{i}", title="Own", links=(own,))])
        store.record_observations(n, [seen(link) for link in links] + [seen(own)])
        store.finish_run(n, status="completed", offline=False, notes=[])
    store.finish_run(run, status="completed", offline=False, notes=[])
"""


ROUNDS = 40


def test_two_processes_writing_at_once_both_succeed(db: str) -> None:
    """Runs, papers and shared links written by two processes at the same moment: no error, no loss."""
    Store.open(db).close()
    writers = [child(db, WRITER, str(ROUNDS), name) for name in ("a", "b")]
    for proc in writers:
        read_until(proc, "run")
    for proc in writers:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    assert query(db, "select status, count(*) from runs group by status") == [("completed", 2 * (ROUNDS + 1))]
    assert query(db, "select count(*) from observations") == [(2 * ROUNDS * 7,)]
    assert query(db, "select count(*) from links") == [(6 + 2 * ROUNDS,)]
    assert query(db, "select count(*) from observations where run_id not in "
                     "(select run_id from observations group by run_id having count(*) = 7)") == [(0,)]
    assert_consistent(db)


@contextmanager
def write_lock_held(db: str) -> Iterator[None]:
    """Another process's long write transaction, as the store's writers see it."""
    if is_sqlite(db):
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(database_url(db))
    try:
        with engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_WRITE_LOCK)))
            yield
    finally:
        engine.dispose()


def test_a_writer_kept_waiting_too_long_says_so_in_one_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reports.database.BUSY_TIMEOUT_MS", 300)
    store = Store.open(db)
    with write_lock_held(db):
        began = time.monotonic()
        with pytest.raises(StoreError) as info:
            store.start_run(["a"])
        assert time.monotonic() - began < 10
    message = str(info.value)
    assert "another process kept the history database locked for over 0.3 s" in message
    assert message.startswith("--db ") and "\n" not in message and ":paperwatch@" not in message
    assert store.start_run(["a"]) == 1  # the refused write left nothing behind
    store.close()


# --- schema versions ------------------------------------------------------------------------------


def test_a_version_1_database_is_migrated_with_its_data(db: str) -> None:
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        MIGRATIONS[1](conn)
        conn.execute(sa.insert(meta).values(key="schema_version", value="1"))
        first, second = (conn.execute(sa.insert(runs).values(started_at=f"2025-01-0{day}T06:00:00+00:00", sources=["v1.md"],
                                                             status=status, offline=False, notes=[], counts={}))
                         .inserted_primary_key[0] for day, status in ((1, "completed"), (2, "running")))
    old = Store(engine)  # the version-1 tables, written the way version 1 wrote them
    old.record_papers(first, papers())
    old.record_observations(first, [observe(REPO, State.ALIVE), observe(PAGE, State.DEAD, status_code=404)])
    old.finish_run(first, status="completed", offline=False, notes=[])
    old.record_papers(second, papers())
    old.record_observations(second, [observe(REPO, State.DEAD, status_code=404)])  # and then it was killed
    engine.dispose()

    store = Store.open(db)
    assert store.schema_version() == SCHEMA_VERSION == 7
    assert store.run(first).status == "completed" and store.run(first).counts == {"alive": 1, "dead": 1}
    assert store.run(second).status == "interrupted" and store.run(second).counts == {"dead": 1}
    assert "upgraded to schema 2" in store.run(second).notes[-1]
    assert store.link_histories(["https://github.com/a/b"], "2024-12-01T00:00:00+00:00", second) == {
        "https://github.com/a/b": [(datetime(2025, 1, 1, 6, tzinfo=timezone.utc), State.ALIVE),
                                   (datetime(2025, 1, 2, 6, tzinfo=timezone.utc), State.DEAD)]}
    assert store.observations_of_runs([first])[first]["https://a.example.org"].evidence.status_code == 404
    assert [p for p, _, _ in store.papers_of_run(second)] == ["p1", "p2", "p3"]
    third = store.start_run(["v2.md"], watched=papers())  # and it keeps working
    store.record_observations(third, [observe(REPO, State.ALIVE)])
    assert store.finish_run(third, status="completed", offline=False, notes=[]).counts == {"alive": 1}
    assert query(db, "select count(*) from daily_summaries") == [(0,)]
    store.close()
    Store.open(db).close()  # opening again changes nothing
    assert query(db, "select value from meta") == [("7",)]
    assert_consistent(db)


def test_a_version_2_database_gains_the_readings_of_its_runs(db: str) -> None:
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        MIGRATIONS[1](conn)
        MIGRATIONS[2](conn)
        conn.execute(sa.insert(meta).values(key="schema_version", value="2"))
    old = Store(engine).start_run(["v2.md"], watched=papers())  # written by version 2: no readings
    engine.dispose()
    store = Store.open(db)
    reading = {"source": "urls.txt", "format": "lines", "summary": "urls.txt: read as a URL list (one URL a line): 3 papers, 3 links"}
    new = store.start_run(["urls.txt"], watched=papers(), readings=[reading])
    assert store.schema_version() == SCHEMA_VERSION == 7
    assert store.readings_of_run(old) == [] and store.readings_of_run(new) == [reading]
    store.close()


def test_a_later_run_records_what_papers_cite_now(db: str) -> None:
    """A paper read again with a new title and other links is recorded as it is now; a new paper
    joins; a paper no longer in the input stays in the history but is not watched by the new run."""
    with Store.open(db) as store:
        first = store.start_run(["in.txt"], watched=papers())
        changed = [Paper(id="p1", title="First paper, revised", links=(PAGE,)), Paper(id="p4", title="New", links=(REPO, PAGE))]
        second = store.start_run(["in.txt"], watched=changed)
        assert [(pid, title, [c.normalized for c in cited]) for pid, title, cited in store.papers_of_run(second)] == [
            ("p1", "First paper, revised", ["https://a.example.org"]),
            ("p4", "New", ["https://github.com/a/b", "https://a.example.org"]),
        ]
        assert [pid for pid, _, _ in store.papers_of_run(first)] == ["p1", "p2", "p3"]
    assert_consistent(db)


def test_a_database_from_a_newer_paperwatch_is_refused_in_one_line(db: str) -> None:
    Store.open(db).close()
    execute(db, "update meta set value = '99' where key = 'schema_version'")
    with pytest.raises(StoreError) as info:
        Store.open(db)
    assert "schema version 99 is newer" in str(info.value) and "\n" not in str(info.value)


# --- locations --------------------------------------------------------------------------------------


def _directory(p: Path) -> Path:
    p.mkdir()
    return p


def _text_file(p: Path) -> Path:
    p.write_text("hello, not a database")
    return p


@pytest.mark.parametrize("make, expected", [
    (_directory, "is a directory"),
    (_text_file, "is not a SQLite database"),
    (lambda p: p / "missing-dir" / "h.sqlite", "does not exist"),
])
def test_bad_database_locations_fail_in_one_line(tmp_path: Path, make, expected: str) -> None:
    target = make(tmp_path / "db")
    with pytest.raises(StoreError) as info:
        Store.open(str(target))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_the_database_is_plain_sqlite_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    Store.open(str(path)).close()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
        version = conn.execute("select value from meta where key='schema_version'").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"runs", "run_owners", "papers", "links", "paper_links", "run_papers", "observations", "daily_summaries",
            "meta"} <= tables
    assert version == str(SCHEMA_VERSION)
    assert journal == "wal"


@pytest.mark.parametrize("url, expected", [
    ("postgresql://paperwatch:s3cr3t-pass@127.0.0.1:1/paperwatch", "(OperationalError: connection failed"),
    ("postgresql+psycopg2://paperwatch:s3cr3t-pass@127.0.0.1/paperwatch", "the database driver 'psycopg2' is not installed"),
    ("nosuchdb://paperwatch:s3cr3t-pass@127.0.0.1/paperwatch", "unknown database type 'nosuchdb'"),
    ("postgresql://paperwatch:s3cr3t-pass@127.0.0.1:notaport/paperwatch", "not a valid database URL"),
])
def test_unusable_database_urls_fail_in_one_line_without_the_password(url: str, expected: str) -> None:
    for attempt in (validate_location, Store.open):
        with pytest.raises(StoreError) as info:
            attempt(url)
        message = str(info.value)
        assert expected in message and message.startswith(f"--db {url.split(':')[0]}://")
        assert "s3cr3t-pass" not in message and "paperwatch:***@127.0.0.1" in message and "\n" not in message


def test_run_with_an_unreachable_database_exits_2_in_one_line_before_any_check(tmp_path: Path) -> None:
    seed = Path(__file__).parent.parent / "examples" / "hf-papers-2024-03-14.txt"
    result = CliRunner().invoke(main, ["run", str(seed), "--out", str(tmp_path / "out"),
                                       "--db", "postgresql://paperwatch:s3cr3t-pass@127.0.0.1:1/paperwatch"])
    assert result.exit_code == 2
    assert result.output.startswith("paperwatch: error: --db postgresql://paperwatch:***@127.0.0.1:1/paperwatch: cannot connect")
    assert len(result.output.strip().splitlines()) == 1 and "s3cr3t-pass" not in result.output


@pytest.mark.postgres
def test_a_postgresql_url_as_users_write_it_works_and_the_flow_never_sees_its_password(postgres_url: str) -> None:
    with fresh_postgres(postgres_url) as url:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        validate_location(plain)
        bare = without_password(plain)
        assert "paperwatch@" in bare and ":paperwatch@" not in bare  # what the flow parameters carry
        store = Store.open(bare)  # this process still knows the password
        store.start_run(["a"])
        assert store.engine.dialect.driver == "psycopg"
        store.close()
        wrong = plain.replace(":paperwatch@", ":wrong-password@")
        with pytest.raises(StoreError) as info:
            validate_location(wrong)
        assert "password authentication failed" in str(info.value) and "wrong-password" not in str(info.value)
