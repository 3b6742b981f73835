"""`paperwatch run` killed with SIGKILL at several points, then run again; and two runs at once.

Each run is the installed command in its own process, against the simulated web and the test
session's Prefect API. The kill points are reached without hooks in paperwatch, by watching the
database: a page of the simulated web that never answers holds a run in its checks, and a
trigger the test puts in the database holds a write inside its transaction (PostgreSQL reports
the stalled session; on SQLite the test finds the write lock held far longer than any of
paperwatch's own transactions).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reports.store import Store
from simweb import SimulatedWeb

pytest.register_assert_rewrite("store_backends")
from store_backends import assert_consistent, is_sqlite, kill_in_stall, notice_dead_clients, query, stall, unstall  # noqa: E402

pytest_plugins = ("store_backends",)  # the ``db`` fixture: each test on SQLite and on PostgreSQL
pytestmark = pytest.mark.prefect

DATA = Path(__file__).parent / "data"
SLOW = "https://slow.example.org/page"
LINKS = 12  # the end-to-end papers' 11 links and the slow page


def scenario(slow_delay: float) -> dict[str, Any]:
    world = yaml.safe_load((DATA / "e2e-scenario.yaml").read_text())
    world["web"][SLOW] = {"title": "A page that may take its time", "delay": slow_delay}
    return world


SCENARIO = scenario(0)


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    path = tmp_path / "papers.md"
    path.write_text((DATA / "e2e-papers.md").read_text() + f"| Slow Page Paper | [project page]({SLOW}) |\n")
    return path


class Run:
    """One `paperwatch run` process; its log lines are collected as they come."""

    def __init__(self, papers: Path, db: str, out: Path, sim: SimulatedWeb, home: Path):
        import prefect.settings

        env = {**os.environ, "PREFECT_API_URL": str(prefect.settings.PREFECT_API_URL.value()), "PREFECT_HOME": str(home)}
        exe = Path(sys.executable).with_name("paperwatch")
        self.out = out
        as_users_write_it = db.replace("postgresql+psycopg://", "postgresql://")
        self.proc = subprocess.Popen(
            [str(exe), "run", str(papers), "--db", as_users_write_it, "--out", str(out), "--github-api", sim.github_api_url,
             "--hf-endpoint", sim.hf_endpoint, "--remap", sim.remap_rules[0], "--allow-private", "--timeout", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, done: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self.proc.poll() is None, f"the run ended before {what}:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.output()[-3000:]}"
            time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = 90) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def output(self) -> str:
        return "".join(self.lines)


def runs_table(db: str) -> dict[int, str]:
    return dict(query(db, "select id, status from runs order by id"))


def observations_per_run(db: str) -> dict[int, int]:
    return dict(query(db, "select run_id, count(*) from observations group by run_id order by run_id"))


def test_runs_killed_at_any_point_leave_a_consistent_history_and_the_next_run_completes(
        db: str, prefect_api: None, sim: SimulatedWeb, papers: Path, tmp_path: Path) -> None:
    """SQLite: every kill point. PostgreSQL: the two inside a transaction (the others leave no
    transaction open, so the backend does not matter there), to keep the test near a minute."""
    Store.open(db).close()
    notice_dead_clients(db)
    statuses: dict[int, str] = {}  # what each run should be labelled by now
    observed: dict[int, int] = {}  # committed observations each run should still have

    def start(name: str) -> tuple[Run, int]:
        for earlier, status in statuses.items():  # the next run to start labels killed runs
            statuses[earlier] = "interrupted" if status == "running" else status
        run_id = len(statuses) + 1
        statuses[run_id] = "running"
        return Run(papers, db, tmp_path / name, sim, tmp_path / f"home-{name}"), run_id

    def as_expected() -> None:
        assert_consistent(db)
        assert runs_table(db) == statuses
        assert observations_per_run(db) == observed

    if is_sqlite(db):  # 1. right after its run row is written, while it checks links: one page never answers
        sim.load(scenario(600))
        try:
            run, run_id = start("out1")
            run.wait_for(lambda: run_id in runs_table(db), "the run row")
            time.sleep(1)  # into its checks, which cannot end before the page answers
            run.kill()
        finally:
            sim.load(SCENARIO)
        as_expected()
        assert query(db, f"select count(*) from run_papers where run_id = {run_id}") == [(12,)]  # with the run row

    # 2. while its observations are being written: the insert hangs inside the transaction
    stall(db, "before insert on observations")
    run, run_id = start("out2")
    run.wait_for(lambda: run_id in runs_table(db), "the run row")  # its next write is the observations
    kill_in_stall(db, run.proc.pid)
    run.finish()
    unstall(db, "observations")
    as_expected()  # nothing of the batch that was being written

    # 3. after its observations are committed, while it marks itself completed
    stall(db, "before update on runs", "new.status = 'completed'")
    run, run_id = start("out3")
    run.wait_for(lambda: observations_per_run(db).get(run_id) == LINKS, "the committed observations")
    kill_in_stall(db, run.proc.pid)  # its next write is the end of the run
    run.finish()
    unstall(db, "runs")
    observed[run_id] = LINKS
    as_expected()
    assert not (tmp_path / "out3" / "index.html").exists()
    committed = run_id

    if is_sqlite(db):  # 4. once it is completed in the database, while it writes its report
        run, run_id = start("out4")
        run.wait_for(lambda: runs_table(db).get(run_id) == "completed", "the completed run")
        run.kill()
        statuses[run_id], observed[run_id] = "completed", LINKS
        as_expected()
        for name in ("index.html", "report.json"):  # written atomically: absent, or whole
            path = tmp_path / "out4" / name
            assert not path.exists() or path.read_text().rstrip().endswith(("</html>", "}"))

    # and the next run completes and reports, with everything committed before still there
    run, run_id = start("out5")
    assert run.finish() == 0, run.output()[-3000:]
    statuses[run_id], observed[run_id] = "completed", LINKS
    as_expected()
    assert "interrupted" in statuses.values()
    report = json.loads((tmp_path / "out5" / "report.json").read_text())
    assert report["run"]["id"] == run_id and report["run"]["status"] == "completed"
    assert report["summary"]["links"] == LINKS and report["summary"]["by_state"]["dead"] == 4
    assert [r["id"] for r in report["runs"]] == sorted(observed)  # runs that checked nothing are no history
    assert report["runs"][0]["id"] == committed and report["runs"][0]["counts"] == report["runs"][-1]["counts"]
    assert f"run {run_id}: 12 papers" in run.output()


def test_two_runs_at_once_on_one_database_both_complete(
        db: str, prefect_api: None, sim: SimulatedWeb, papers: Path, tmp_path: Path) -> None:
    """Started together on a database neither has created yet: they share its creation, links
    and papers, and each records and reports its own run."""
    from prefect.client.orchestration import get_client

    both = [Run(papers, db, tmp_path / name, sim, tmp_path / f"home-{name}") for name in ("a", "b")]
    for run in both:
        assert run.finish() == 0, run.output()[-3000:]
    assert runs_table(db) == {1: "completed", 2: "completed"}
    assert observations_per_run(db) == {1: LINKS, 2: LINKS}
    assert query(db, "select count(*) from links") == [(LINKS,)]
    reported = sorted(json.loads((run.out / "report.json").read_text())["run"]["id"] for run in both)
    assert reported == [1, 2]
    assert_consistent(db)
    if not is_sqlite(db):  # the password stays out of what Prefect stores and of the logs
        password = ":paperwatch@"
        assert all(password not in run.output() for run in both)
        with get_client(sync_client=True) as client:
            flow_runs = client.read_flow_runs()
        mine = [r.parameters["db"] for r in flow_runs if str(r.parameters.get("db", "")).endswith(db.rsplit("/", 1)[1])]
        assert len(mine) == 2 and all(password not in value for value in mine)


def test_a_run_stopped_by_ctrl_c_is_interrupted_and_one_that_raised_is_failed(db: str) -> None:
    from flows.run_tasks import mark_failed

    store = Store.open(db)
    stopped, broken = store.start_run(["a"]), store.start_run(["b"])
    for run_id, error in ((stopped, KeyboardInterrupt()), (broken, RuntimeError("boom"))):
        try:
            raise error
        except BaseException:
            mark_failed(db, run_id)
    assert (store.run(stopped).status, store.run(broken).status) == ("interrupted", "failed")
    assert store.run(stopped).notes == ["the run was interrupted (KeyboardInterrupt) before its report was written"]
    store.close()
