"""Retention: observations older than N days become daily summaries, and the history the
verdicts read (uptime, last alive, dead since) is the same before and after, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.model import Evidence, Link, LinkKind, Observation, Paper, State
from flows.cli import main
from reports.store import Store
from reports.verdicts import link_verdict

pytest.register_assert_rewrite("store_backends")
from store_backends import assert_consistent, execute, kill_in_stall, notice_dead_clients, query, stall, unstall  # noqa: E402

pytest_plugins = ("store_backends",)  # the ``db`` fixture: each test on SQLite and on PostgreSQL

T0 = datetime(2025, 3, 1, 6, 0, tzinfo=timezone.utc)
DAYS = 40
LINKS = {name: Link(url=f"https://{name}.example.org", normalized=f"https://{name}.example.org", kind=LinkKind.PROJECT)
         for name in ("steady", "dies", "recovers", "flaky")}
FLAKY = (State.ALIVE, State.ERROR, State.ALIVE, State.UNKNOWN, State.BLOCKED, State.ALIVE, State.DEAD)


def world(day: int) -> dict[str, State]:
    """What each link answers on a day: one stays up, one dies on day 30, one was dead and answers
    again on the last day, one wobbles."""
    return {"steady": State.ALIVE,
            "dies": State.ALIVE if day < 30 else State.DEAD,
            "recovers": State.DEAD if day < DAYS - 1 else State.ALIVE,
            "flaky": FLAKY[day % len(FLAKY)]}


def record_run(store: Store, db: str, when: datetime, states: dict[str, State], status: str = "completed") -> int:
    """A run as it happened at ``when`` (start time back-dated after the fact)."""
    run = store.start_run(["history.md"], watched=[Paper(id="p", title="Watched", links=tuple(LINKS.values()))])
    store.record_observations(run, [Observation(url=LINKS[name].normalized, state=state, reason="test", checker="http",
                                                evidence=Evidence()) for name, state in states.items()])
    if status != "running":
        store.finish_run(run, status=status, offline=False, notes=[])
    execute(db, f"update runs set started_at = '{when.isoformat()}' where id = {run}")
    return run


def forty_days(store: Store, db: str) -> int:
    """One run a day at 06:00, a second at 18:00 every third day; the id of the last run."""
    last = 0
    for day in range(DAYS):
        last = record_run(store, db, T0 + timedelta(days=day), world(day))
        if day % 3 == 1:
            last = record_run(store, db, T0 + timedelta(days=day, hours=12), world(day))
    return last


def histories(store: Store, run: int) -> dict[str, list[tuple[datetime, State]]]:
    started = datetime.fromisoformat(store.run(run).started_at)
    return store.link_histories([link.normalized for link in LINKS.values()], (started - timedelta(days=90)).isoformat(), run)


def test_verdicts_read_the_same_after_old_observations_become_daily_summaries(db: str) -> None:
    store = Store.open(db)
    last = forty_days(store, db)
    before = histories(store, last)
    raw = query(db, "select count(*) from observations")[0][0]

    pruned = store.prune(older_than_days=10, now=T0 + timedelta(days=DAYS - 1, hours=13))

    after = histories(store, last)
    assert after == before  # every (time, state) a verdict reads, exactly
    verdicts = {url.split("//")[1].split(".")[0]: link_verdict(entries) for url, entries in after.items()}
    assert verdicts["steady"].status == "healthy" and verdicts["steady"].uptime == {"7d": 100.0, "30d": 100.0, "90d": 100.0}
    assert verdicts["dies"].status == "dead" and verdicts["dies"].dead_since == (T0 + timedelta(days=30)).isoformat()
    assert verdicts["dies"].last_alive == (T0 + timedelta(days=29)).isoformat()  # a day whose raw rows are gone
    assert verdicts["recovers"].status == "recovered"
    assert verdicts["flaky"].uptime == link_verdict(before["https://flaky.example.org"]).uptime
    kept_runs = query(db, "select count(distinct run_id) from observations")[0][0]
    assert pruned.removed == raw - 4 * kept_runs and pruned.summarized == pruned.removed and pruned.days == 30
    assert query(db, "select sum(seen) from daily_summaries") == [(pruned.removed,)]
    assert query(db, "select min(started_at) from runs r join observations o on o.run_id = r.id") == [
        ((T0 + timedelta(days=30)).isoformat(),)]
    assert query(db, "select count(*) from runs") == [(DAYS + 13,)]  # runs and their counts are kept
    store.close()
    assert_consistent(db)


def test_a_day_pruned_in_two_steps_stays_one_exact_summary(db: str) -> None:
    store = Store.open(db)
    last = forty_days(store, db)
    before = histories(store, last)
    store.prune(older_than_days=15, now=T0 + timedelta(days=40, hours=6))  # cuts day 25 between its two runs
    assert query(db, "select count(*), sum(seen) from daily_summaries where day = '2025-03-26'") == [(4, 4)]
    store.prune(older_than_days=10, now=T0 + timedelta(days=40, hours=7))
    assert histories(store, last) == before
    assert query(db, "select state, seen, first_at, last_at from daily_summaries s join links l on l.id = s.link_id "
                     "where day = '2025-03-26' and l.normalized = 'https://steady.example.org'") == [
        ("alive", 2, "2025-03-26T06:00:00+00:00", "2025-03-26T18:00:00+00:00")]
    store.close()


def test_pruning_keeps_running_runs_drops_failed_ones_and_is_idempotent(db: str) -> None:
    store = Store.open(db)
    now = T0 + timedelta(days=400)
    done = record_run(store, db, T0, world(0))
    failed = record_run(store, db, T0 + timedelta(hours=1), world(0), status="failed")
    live = record_run(store, db, T0 + timedelta(hours=2), world(0), status="running")  # this process: still running
    recent = record_run(store, db, now - timedelta(days=1), world(0))

    first = store.prune(365, now=now)
    assert (first.removed, first.summarized) == (8, 4)  # a failed run's observations are not history
    assert query(db, "select run_id, count(*) from observations group by run_id order by run_id") == [(live, 4), (recent, 4)]
    assert query(db, "select count(*), sum(seen) from daily_summaries") == [(4, 4)]
    assert store.run(done).counts == store.run(failed).counts == {"alive": 3, "dead": 1}  # run rows keep their counts
    assert [r.id for r in store.runs()] == [done, recent]
    second = store.prune(365, now=now)
    assert (second.removed, second.summarized) == (0, 0)
    assert query(db, "select count(*), sum(seen) from daily_summaries") == [(4, 4)]
    with pytest.raises(ValueError):
        store.prune(-1)
    store.close()


def test_a_prune_killed_mid_way_changes_nothing(db: str) -> None:
    store = Store.open(db)
    for day in range(3):
        record_run(store, db, T0 + timedelta(days=day), world(day))
    store.close()
    notice_dead_clients(db)
    stall(db, "before delete on observations")
    code = f"from reports.store import Store; Store.open({db!r}).prune(1, now=__import__('datetime').datetime.fromisoformat(" \
           f"{(T0 + timedelta(days=10)).isoformat()!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_in_stall(db, proc.pid)
    proc.wait(30)
    unstall(db, "observations")

    assert_consistent(db)
    assert query(db, "select count(*) from observations") == [(12,)]
    assert query(db, "select count(*) from daily_summaries") == [(0,)]
    store = Store.open(db)
    assert store.prune(1, now=T0 + timedelta(days=10)).removed == 12
    assert query(db, "select sum(seen) from daily_summaries") == [(12,)]
    store.close()


def test_keep_days_must_be_a_positive_number_of_days(tmp_path: Path) -> None:
    source = tmp_path / "papers.md"
    source.write_text("| Paper | Code |\n|---|---|\n| A | [code](https://github.com/a/b) |\n")
    result = CliRunner().invoke(main, ["run", str(source), "--db", str(tmp_path / "h.sqlite"), "--keep-days", "0"])
    assert result.exit_code == 2 and "--keep-days" in result.output
    assert "--keep-days" in CliRunner().invoke(main, ["run", "--help"]).output


@pytest.mark.prefect
def test_each_run_rolls_observations_older_than_keep_days_into_summaries(prefect_api: None, tmp_path: Path) -> None:
    from checks.settings import CheckSettings, RemapRule
    from flows.monitor import monitor
    from simweb import SimulatedWeb

    db, out = str(tmp_path / "h.sqlite"), str(tmp_path / "out")
    sources = [str(Path(__file__).parent / "data" / "e2e-papers.md")]
    with SimulatedWeb(Path(__file__).parent / "data" / "e2e-scenario.yaml") as sim:
        settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint,
                                 remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), timeout=3.0, retries=0).to_dict()
        monitor(sources=sources, db=db, out=out, settings=settings)
        execute(db, "update runs set started_at = '2024-01-10T06:00:00+00:00' where id = 1")
        second = monitor(sources=sources, db=db, out=out, settings=settings, keep_days=30)

    assert query(db, "select run_id, count(*) from observations group by run_id") == [(2, 11)]
    assert query(db, "select day, sum(seen) from daily_summaries group by day") == [("2024-01-10", 11)]
    report = json.loads(Path(second["json"]).read_text())
    assert report["run"]["id"] == 2 and report["summary"]["links"] == 11
