"""paperwatch as users schedule it: a real ``prefect server`` on 127.0.0.1 (its own PREFECT_HOME),
deployments made by ``prefect deploy`` from the repository's prefect.yaml, two process workers,
and ``paperwatch-daily`` runs against the simulated web.

Everything is read back the way a user would see it: the server's REST API (what the UI shows:
schedules, flow run states, artifacts, task runs, which worker took which run), the report files
and the history database. The test talks to the server over HTTP only, so the session's own
temporary Prefect API (``prefect_api``) is never involved.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb, free_port
from simweb.scenario import Scenario
from store_backends import fresh_postgres

REPO = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).with_name("prefect"))
SEED_PAPERS = 113  # examples/hf-papers-2024-03-14.txt, paperwatch-daily's default source
WORKERS = ("worker-a", "worker-b")
pytestmark = pytest.mark.deployment


@dataclass
class Stack:
    """The server, its workers and the simulated web, with the logs to show when something fails."""

    api: str
    env: dict[str, str]
    logs: Path
    web: SimulatedWeb
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def http(self) -> httpx.Client:
        """Prefect's own HTTP client: like every Prefect client, it retries the server's 503 while SQLite is busy."""
        from prefect.client.base import PrefectHttpxSyncClient

        return PrefectHttpxSyncClient(base_url=self.api, timeout=30, raise_on_all_errors=False)

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """A CLI process in its own process group (so that everything it starts can be stopped)."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(list(args), cwd=REPO, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes[name] = process
        return process

    def finished(self, name: str, timeout: float) -> None:
        """Wait for a CLI process to exit 0, else fail with its log."""
        process = self.processes[name]
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        assert code == 0, f"{name} ended with {code}:\n{self.log(name)}"

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else "(no log)"

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name, 2500)}" for name in self.processes)

    def stop_all(self) -> None:
        """SIGTERM each process group, a second SIGTERM (a worker may need it), then SIGKILL."""
        for _ in range(2):
            for process in self.processes.values():
                if process.poll() is None:
                    _signal_group(process, signal.SIGTERM)
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and any(p.poll() is None for p in self.processes.values()):
                time.sleep(0.2)
        for process in self.processes.values():
            _signal_group(process, signal.SIGKILL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def wait_healthy(stack: Stack, timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert stack.processes["server"].poll() is None, f"prefect server exited:\n{stack.log('server')}"
        try:
            if httpx.get(f"{stack.api}/health", timeout=2).json() is True:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {timeout:.0f} s:\n{stack.log('server')}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server → process pool → (deploy from prefect.yaml, two workers, the Kubernetes variant) at once."""
    from prefect.workers.process import ProcessWorker

    root = tmp_path_factory.mktemp("deployment")
    (root / "logs").mkdir()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(root / "prefect-home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_SERVER_UI_ENABLED="false",
               PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",  # keep the cron from queueing real runs
               PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_LOGGING_LEVEL="INFO")
    with SimulatedWeb(Scenario.load(REPO / "simweb" / "scenarios" / "demo.yaml")) as web:
        stack = Stack(api=env["PREFECT_API_URL"], env=env, logs=root / "logs", web=web)
        try:
            stack.start("server", PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port))
            wait_healthy(stack)
            with stack.http() as api:
                created = api.post("/work_pools/", json={"name": "paperwatch", "type": "process",
                                                         "base_job_template": ProcessWorker.get_default_base_job_template()})
                assert created.status_code == 201, created.text
            stack.start("deploy", PREFECT, "--no-prompt", "deploy", "--name", "paperwatch-daily",
                        "--name", "paperwatch-hf-daily", "--name", "paperwatch-shard")
            # workers log in to PostgreSQL as users are told to: the password in their environment, never in a parameter
            password = sa.engine.make_url(os.environ.get("PAPERWATCH_TEST_POSTGRES") or "sqlite://").password or ""
            for name in WORKERS:  # two slots each: room for a parent run and its three shards
                stack.start(name, PREFECT, "worker", "start", "--pool", "paperwatch", "--type", "process",
                            "--name", name, "--limit", "2", PAPERWATCH_HOME=str(REPO), PGPASSWORD=str(password))
            stack.start("deploy-kubernetes", "/bin/sh", "-c",
                        f"'{PREFECT}' --no-prompt work-pool create paperwatch-k8s --type kubernetes && "
                        f"'{PREFECT}' --no-prompt deploy --prefect-file deploy/kubernetes.prefect.yaml --all")
            stack.finished("deploy", timeout=180)
            yield stack
        finally:
            stack.stop_all()


def settings_for(web: SimulatedWeb) -> dict[str, Any]:
    """The simulated web through the settings a user has; short timeouts for its slow pages."""
    return CheckSettings(github_api_url=web.github_api_url, hf_endpoint=web.hf_endpoint,
                         remap_rules=tuple(RemapRule.parse(rule) for rule in web.remap_rules),
                         timeout=2.0, total_timeout=5.0, retries=0).to_dict()


def deployment(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/deployments/name/{name}")
    assert response.status_code == 200, response.text
    return response.json()


def trigger(stack: Stack, name: str, parameters: dict[str, Any]) -> str:
    with stack.http() as api:
        created = api.post(f"/deployments/{deployment(api, name)['id']}/create_flow_run", json={"parameters": parameters})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def wait_final(stack: Stack, flow_run_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with stack.http() as api:
        while time.monotonic() < deadline:
            run = api.get(f"/flow_runs/{flow_run_id}").json()
            if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(1)
    pytest.fail(f"flow run {flow_run_id} not finished after {timeout:.0f} s:\n{stack.diagnostics()}")


def run_daily(stack: Stack, out: Path, db: str, **parameters: Any) -> dict[str, Any]:
    flow_run_id = trigger(stack, "monitor/paperwatch-daily", {"db": db, "out": str(out / "report"),
                                                             "settings": settings_for(stack.web), **parameters})
    run = wait_final(stack, flow_run_id)
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{stack.diagnostics()}"
    return {"run": run, "out": out, "report": json.loads((out / "report" / "report.json").read_text())}


@pytest.fixture(scope="module")
def daily(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of paperwatch-daily as deployed (its default sources: the 113-paper seed), on SQLite."""
    out = tmp_path_factory.mktemp("daily")
    db = str(out / "history.sqlite")
    return {**run_daily(stack, out, db), "db": db}


@pytest.fixture(scope="module")
def sharded(stack: Stack, daily: dict[str, Any], postgres_url: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The same run in three shards, on PostgreSQL as when workers are on several machines (after
    ``daily``: one run at a time keeps the worker slots predictable)."""
    with fresh_postgres(postgres_url) as url:
        full = sa.engine.make_url(url)
        bare = sa.engine.URL.create(full.drivername, full.username, None, full.host, full.port,
                                    full.database).render_as_string(hide_password=False)
        yield {**run_daily(stack, tmp_path_factory.mktemp("sharded"), bare, shards=3), "db": url}


def states(report: dict[str, Any]) -> dict[str, str]:
    return {link["normalized"]: link["state"] for paper in report["papers"] for link in paper["links"]}


def stored_observations(db: str, run_id: int) -> int:
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("select count(*) from observations where run_id = :run"), {"run": run_id}).scalar())
    finally:
        engine.dispose()


def test_the_server_sees_the_deployments_and_their_schedules(stack: Stack) -> None:
    with stack.http() as api:
        daily = deployment(api, "monitor/paperwatch-daily")
        feed = deployment(api, "ingest/paperwatch-hf-daily")
        shard = deployment(api, "check-shard/paperwatch-shard")
        pool = api.get("/work_pools/paperwatch").json()
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in daily["schedules"]] == \
        [("0 6 * * *", "Europe/Berlin", True)]
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in feed["schedules"]] == [("30 7 * * *", "UTC")]
    assert shard["schedules"] == []
    assert {d["work_pool_name"] for d in (daily, feed, shard)} == {"paperwatch"} and pool["type"] == "process"
    assert daily["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $PAPERWATCH_HOME }}"}}]
    assert daily["parameters"]["sources"] == ["examples/hf-papers-2024-03-14.txt"] and daily["global_concurrency_limit"]["limit"] == 1
    # parameters are documented where the UI shows them: the flow's docstring, through its schema
    assert "watched set" in feed["parameter_openapi_schema"]["properties"]["watched"]["description"]


def test_a_triggered_daily_run_writes_the_report_artifacts_and_history(stack: Stack, daily: dict[str, Any]) -> None:
    run, report, out = daily["run"], daily["report"], daily["out"]
    unknown = report["summary"]["by_state"]["unknown"]
    assert run["state"]["message"] == (f"completed with {unknown} unknown" if unknown
                                       else f"completed: {report['summary']['links']} links checked")
    assert report["summary"]["papers"] == SEED_PAPERS and report["summary"]["links"] > 0
    assert report["run"]["flow_run_id"] == run["id"]
    assert (out / "report" / "index.html").is_file()
    assert stored_observations(daily["db"], report["run"]["id"]) == report["summary"]["links"]
    with stack.http() as api:
        artifacts = {a["key"]: a for a in api.post("/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()}
        task_runs = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}}).json()
    assert artifacts["paperwatch-summary"]["type"] == "table"
    assert artifacts["paperwatch-report"]["type"] == "markdown"  # a link artifact is stored as markdown
    assert (out / "report" / "index.html").absolute().as_uri() in artifacts["paperwatch-report"]["data"]
    assert artifacts["paperwatch-progress"]["type"] == "progress" and artifacts["paperwatch-progress"]["data"] == 100.0
    checks = [t["name"] for t in task_runs if t["name"].startswith(("pages ", "github ", "huggingface "))]
    # batch tasks, named for the UI: never one task per link
    assert 0 < len(checks) < report["summary"]["links"] / 5, checks
    assert any(re.match(r"pages 1/\d+: pages of \d+ hosts? \(.+\), \d+ links, lane \d$", name) for name in checks), checks


@pytest.mark.postgres
def test_a_sharded_run_is_taken_by_the_pools_workers_once_each_and_merged_into_one_report(
        stack: Stack, daily: dict[str, Any], sharded: dict[str, Any]) -> None:
    """What sharding promises: each shard is a child run that some worker of the pool takes, exactly
    once, and the parent merges them into one report. Which worker takes which shard is the pool's
    business (whichever polls first): under load one worker may take them all, so that is not asserted."""
    run, report = sharded["run"], sharded["report"]
    with stack.http() as api:
        children = api.post("/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}}).json()
        submissions = submitted_by(api, [child["id"] for child in children])
        plan = {a["key"]: a for a in api.post("/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()}["paperwatch-shard-plan"]
    assert sorted(child["name"] for child in children) == [f"run 1 shard {n}/3" for n in (1, 2, 3)]
    assert {child["state"]["type"] for child in children} == {"COMPLETED"}
    assert [child["run_count"] for child in children] == [1, 1, 1]  # no shard ran twice
    assert sorted(submissions) == sorted(child["id"] for child in children), submissions  # each submitted once...
    assert {worker for workers in submissions.values() for worker in workers} <= set(WORKERS)  # ...by a pool worker
    assert all(len(workers) == 1 for workers in submissions.values()), submissions
    assert len(json.loads(plan["data"])) == 3
    # one report, the same verdict for every link as the unsharded run, each link stored once
    assert states(report) == states(daily["report"])
    assert report["summary"]["papers"] == SEED_PAPERS
    assert stored_observations(sharded["db"], report["run"]["id"]) == report["summary"]["links"]
    password = sa.engine.make_url(sharded["db"]).password
    assert password and f":{password}@" not in json.dumps(run["parameters"])  # it stayed in the workers' environment
    assert report["run"]["notes"][0].startswith("checked in 3 shards (child runs of check-shard/paperwatch-shard): shard 1:")


def submitted_by(api: httpx.Client, flow_run_ids: list[str], timeout: float = 20) -> dict[str, list[str]]:
    """The workers that submitted each flow run, from the server's event record (events land within
    seconds); a run submitted twice lists two entries."""
    deadline = time.monotonic() + timeout
    found: dict[str, list[str]] = {}
    while time.monotonic() < deadline:
        events = api.post("/events/filter", json={"filter": {
            "event": {"name": ["prefect.worker.submitted-flow-run"]},
            "related": {"resources_in_roles": [[f"prefect.flow-run.{i}", "flow-run"] for i in flow_run_ids]},
            "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50}).json()["events"]
        found = {}
        for event in events:
            worker = event["resource"]["prefect.resource.name"]
            for related in event["related"]:
                run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                if run_id in flow_run_ids:
                    found.setdefault(run_id, []).append(worker)
        if len(found) == len(flow_run_ids):
            return found
        time.sleep(1)
    return found


def test_the_kubernetes_variant_deploys_to_a_kubernetes_pool(stack: Stack) -> None:
    stack.finished("deploy-kubernetes", timeout=180)
    with stack.http() as api:
        daily = deployment(api, "monitor/paperwatch-daily-k8s")
        shard = deployment(api, "check-shard/paperwatch-shard-k8s")
        pool = api.get("/work_pools/paperwatch-k8s").json()
    assert pool["type"] == "kubernetes"
    assert daily["work_pool_name"] == shard["work_pool_name"] == "paperwatch-k8s"
    assert daily["job_variables"]["image"] == shard["job_variables"]["image"]
    assert daily["parameters"]["shards"] > 1 and daily["parameters"]["shard_deployment"] == "check-shard/paperwatch-shard-k8s"
    assert daily["parameters"]["db"].startswith("postgresql://") and "@" in daily["parameters"]["db"]
    assert ":" not in daily["parameters"]["db"].split("://", 1)[1].split("@", 1)[0], "no password in a parameter"
