"""A history database made by an earlier paperwatch opens with every run, observation, alert and
shard result it held, on SQLite and PostgreSQL alike, and a second open changes nothing.

The old databases are built as the earlier code built them: its migration steps (kept as they
were in ``reports.migrations``), and for schema 3 the ``alert_log`` and shard-result tables that
code created on first use, outside the migrations (frozen copies of their definitions below).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from checks.facts import RepoFacts, facts_to_dict
from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from flows import shard_results
from flows.batch_plan import CheckedBatch
from reports.alerts import AlertLog, Delivery
from reports.migrations import MIGRATIONS
from reports.schema import SCHEMA_VERSION, TABLES_OF_VERSION, meta, runs
from reports.store import Store, database_url

pytest.register_assert_rewrite("store_backends")
from store_backends import assert_consistent, query  # noqa: E402

pytest_plugins = ("store_backends",)  # the ``db`` fixture: each test on SQLite and on PostgreSQL

REPO = Link(url="https://github.com/a/b", normalized="https://github.com/a/b", kind=LinkKind.GITHUB_REPO, claim="code",
            owner="a", name="b")
PAGE = Link(url="https://a.example.org/", normalized="https://a.example.org", kind=LinkKind.PROJECT, claim="project")
PAPERS = [Paper(id="p1", title="First paper", links=(REPO, PAGE)), Paper(id="p2", title="Second paper", links=(REPO,))]
READING = {"source": "urls.txt", "format": "lines", "summary": "urls.txt: read as a URL list (one URL a line): 2 papers"}
ALL_TABLES = {table.name for tables in TABLES_OF_VERSION.values() for table in tables}

# How schema-3 code created its two tables outside the migrations (reports/alerts.py and
# flows/shard_results.py before schema 4), frozen here as they were.
_v3_metadata = sa.MetaData()
V3_ALERT_LOG = sa.Table(
    "alert_log", _v3_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, unique=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("items", sa.JSON, nullable=False, default=list),
    sa.Column("deliveries", sa.JSON, nullable=False, default=list),
    sa.Column("tracking_issue", sa.JSON),
)
V3_SHARD_RESULTS = sa.Table(
    "paperwatch_shard_results", sa.MetaData(),
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("batches", sa.JSON, nullable=False),
    sa.Column("written_at", sa.String(40), nullable=False),
)

FAILED = Observation(url="https://x.example.org", state=State.ERROR, reason="connection refused", checker="http",
                     evidence=Evidence(error="ConnectError: refused", attempts=1))
BATCH = CheckedBatch("pages", (FAILED,), network_failures=("https://x.example.org",), responses_seen=3)


def observe(link: Link, state: State, **evidence: object) -> Observation:
    return Observation(url=link.normalized, state=state, reason=f"{state} for test", checker="http",
                       evidence=Evidence(**evidence), facts=RepoFacts(etag=f"W/{state}"))  # type: ignore[arg-type]


def old_database(db: str, version: int) -> sa.engine.Engine:
    """An empty database at ``version``, made by that version's steps; its engine, for writing as that version did."""
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        for step in range(1, version + 1):
            MIGRATIONS[step](conn)
        conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))
    return engine


def write_runs_as_version_3(engine: sa.engine.Engine) -> tuple[int, int]:
    """Two finished runs with papers, readings and observations, as schema-3 code wrote them."""
    old = Store(engine)
    first = old.start_run(["urls.txt"], watched=PAPERS, readings=[READING])
    old.record_observations(first, [observe(REPO, State.ALIVE, status_code=200), observe(PAGE, State.DEAD, status_code=404)])
    old.finish_run(first, status="completed", offline=False, notes=[])
    second = old.start_run(["urls.txt"], watched=PAPERS, readings=[READING])
    old.record_observations(second, [observe(REPO, State.DEAD, status_code=404), observe(PAGE, State.DEAD, status_code=404)])
    old.finish_run(second, status="completed", offline=False, notes=["second"])
    return first, second


def everything(db: str) -> dict[str, list[tuple]]:
    """Every row of every table, read the way an outside tool would."""
    return {name: sorted(query(db, f"select * from {name}"), key=repr) for name in sorted(ALL_TABLES)}


def tables_of(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def test_a_version_3_database_keeps_its_alert_log_and_shard_results(db: str) -> None:
    engine = old_database(db, 3)
    first, second = write_runs_as_version_3(engine)
    _v3_metadata.create_all(engine, checkfirst=True)  # AlertLog(engine), as schema-3 code did on first use
    V3_SHARD_RESULTS.create(engine, checkfirst=True)  # flows.shard_results._open, likewise
    with engine.begin() as conn:
        conn.execute(sa.insert(V3_ALERT_LOG).values(
            run_id=second, recorded_at="2025-01-02T06:00:00+00:00", outcome="digest", title="1 link newly dead",
            items=[{"url": "https://github.com/a/b", "change": "newly dead"}],
            deliveries=[{"channel": "mailto://…", "ok": True, "error": None}], tracking_issue=None))
        conn.execute(sa.insert(V3_SHARD_RESULTS).values(run_id=second, shard=1, flow_run_id="shard-1",
                                                        batches=[BATCH.to_dict()], written_at="2025-01-02T06:00:00+00:00"))
    engine.dispose()

    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION == 7
        assert ALL_TABLES <= tables_of(store)
        assert [r.id for r in store.runs()] == [first, second]
        assert store.run(second).counts == {"dead": 2} and store.run(second).notes == ["second"]
        seen = store.observations_of_runs([first, second])
        assert seen[first]["https://github.com/a/b"].evidence.status_code == 200
        assert seen[second]["https://a.example.org"].state is State.DEAD
        assert [(p, [c.normalized for c in cited]) for p, _, cited in store.papers_of_run(second)] == [
            ("p1", ["https://github.com/a/b", "https://a.example.org"]), ("p2", ["https://github.com/a/b"])]
        assert store.readings_of_run(first) == [READING]
        assert {url: facts_to_dict(facts) for url, facts in store.latest_details(["https://github.com/a/b"]).items()} == {"https://github.com/a/b": {"etag": "W/dead"}}
        history = store.link_histories(["https://github.com/a/b"], "2000-01-01T00:00:00+00:00", second)
        assert [state for _, state in history["https://github.com/a/b"]] == [State.ALIVE, State.DEAD]

        log = AlertLog(store.engine)
        assert [(e.run_id, e.outcome, e.changes) for e in log.entries()] == [
            (second, "digest", [("newly dead", "https://github.com/a/b")])]
        third = store.start_run(["urls.txt"], watched=PAPERS)  # and it keeps working
        assert log.record(third, "quiet", None, [Delivery("mailto://…", True)], None)
        assert [e.run_id for e in log.entries()] == [second, third]
    found = shard_results.read(db, second, [1, 2])
    assert list(found) == [1] and [b.to_dict() for b in found[1]] == [BATCH.to_dict()]

    before = everything(db)
    Store.open(db).close()  # a second open does nothing
    assert everything(db) == before
    assert query(db, "select key, value from meta") == [("schema_version", "7")]
    assert_consistent(db)


def test_a_version_3_database_that_never_alerted_gains_both_tables(db: str) -> None:
    engine = old_database(db, 3)
    first, _ = write_runs_as_version_3(engine)
    engine.dispose()
    with Store.open(db) as store:
        assert ALL_TABLES <= tables_of(store)
        assert AlertLog(store.engine).entries() == []
        assert AlertLog(store.engine).record(first, "quiet", None, [], None)
    shard_results.write(db, first, 1, None, [BATCH])
    assert [b.to_dict() for b in shard_results.read(db, first, [1])[1]] == [BATCH.to_dict()]
    assert query(db, "select value from meta where key = 'schema_version'") == [("7",)]


def test_a_version_1_database_is_brought_to_version_4(db: str) -> None:
    engine = old_database(db, 1)
    with engine.begin() as conn:
        run_id = conn.execute(sa.insert(runs).values(started_at="2025-01-01T06:00:00+00:00", sources=["v1.md"],
                                                     status="running", offline=False, notes=[], counts={})
                              ).inserted_primary_key[0]
    old = Store(engine)  # the version-1 tables, written the way version 1 wrote them
    old.record_papers(run_id, PAPERS)
    old.record_observations(run_id, [observe(REPO, State.ALIVE)])  # and then it was killed
    engine.dispose()

    with Store.open(db) as store:
        assert store.schema_version() == 7 and ALL_TABLES <= tables_of(store)
        assert store.run(run_id).status == "interrupted" and store.run(run_id).counts == {"alive": 1}
        assert store.observations_of_runs([run_id])[run_id]["https://github.com/a/b"].state is State.ALIVE
        assert AlertLog(store.engine).record(run_id, "quiet", None, [], None)
    shard_results.write(db, run_id, 1, None, [])
    assert shard_results.read(db, run_id, [1]) == {1: []}
    before = everything(db)
    Store.open(db).close()
    assert everything(db) == before
    assert_consistent(db)


def test_a_version_6_database_gains_the_tables_of_code_found_elsewhere_and_loses_nothing(db: str) -> None:
    from datetime import datetime, timezone

    from checks.archive_model import ArchiveLookup, LookupOutcome
    from checks.discovery import PaperDiscovery, Suggestion
    from reports import archive_store, suggestion_store

    engine = old_database(db, 6)
    first, second = write_runs_as_version_3(engine)  # version 6 wrote runs the same way
    now = datetime(2025, 3, 1, tzinfo=timezone.utc)
    archive_store.record(Store(engine), [ArchiveLookup("https://a.example.org", LookupOutcome.NONE, None, "no copy",
                                                       now.isoformat())], now)
    engine.dispose()
    held = everything_but_v7(db)

    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION == 7
        assert {"code_suggestions", "discovery_answers", "accepted_suggestions"} <= tables_of(store)
        assert archive_store.lookups(store, ["https://a.example.org"])["https://a.example.org"].reason == "no copy"
        assert suggestion_store.due(store, ["p1", "p2"], now) == ["p1", "p2"]  # nothing asked before: all due
        found = Suggestion("p2", "https://github.com/lab/found", "hf-paper", "https://huggingface.co/papers/1", "the paper's Hugging Face page")
        suggestion_store.record(store, second, [PaperDiscovery("p2", "1", (found,), asked=True)], now)
        assert [s.url for s in suggestion_store.current(store, ["p2"])["p2"]] == ["https://github.com/lab/found"]
    assert {name: rows for name, rows in everything_but_v7(db).items()
            if name != "links"} == {name: rows for name, rows in held.items() if name != "links"}  # nothing lost
    assert set(held["links"]) < set(everything_but_v7(db)["links"])  # the suggested URL is a link row now, no paper's
    before = everything(db)
    Store.open(db).close()
    assert everything(db) == before
    assert query(db, "select value from meta where key = 'schema_version'") == [("7",)]
    assert_consistent(db)


def everything_but_v7(db: str) -> dict[str, list[tuple]]:
    """Every row of every table a version-6 database has (``meta`` aside: its version changes)."""
    v7 = {table.name for table in TABLES_OF_VERSION[7]}
    return {name: sorted(query(db, f"select * from {name}"), key=repr) for name in sorted(ALL_TABLES - v7 - {"meta"})}


def test_every_version_has_one_step_and_its_tables() -> None:
    assert sorted(MIGRATIONS) == sorted(TABLES_OF_VERSION) == list(range(1, SCHEMA_VERSION + 1))
