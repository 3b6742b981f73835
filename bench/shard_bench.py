"""Sharding across Prefect workers, measured: one worker checking a big world alone, then two workers sharing it.

    .venv/bin/python bench/shard_bench.py                                   # 20,000 links on 20 hosts (~3 min)
    .venv/bin/python bench/shard_bench.py --links 254000 --hosts 100        # the quarter-million world (~25 min)
    .venv/bin/python bench/shard_bench.py --json /tmp/shards.json

Everything runs as scheduled deployments run: a ``prefect server`` on 127.0.0.1 (its own PREFECT_HOME),
a process work pool, the deployments of this repository's prefect.yaml (``prefect deploy``), and process
workers started with ``prefect worker start``. The world is ``scale_bench``'s (``bench/multihost.py``: H
hosts on their own loopback addresses, 100-300 ms an answer, 94 % 200 / 2 % 301 / 3 % 404 / 1 % 503).

Two runs of ``monitor/paperwatch-daily`` over the same world, each on a fresh SQLite history:

- ``1 worker``: ``shards = 1``: the monitor run checks in its own batch tasks, one process;
- ``2 workers``: ``shards = 2`` with two workers polling the pool: the monitor run starts two child runs of
  ``check-shard/paperwatch-shard`` (the hosts split between them), each taken by a worker with a free slot
  and run in its own process, event loop and global concurrency; the parent merges their batches and
  writes the one report.

For each: wall time from the flow run's creation to its final state, the flow run's own duration, the
children's durations (from the server's API), and each state's count against the world. On one 2-core
machine both shards share the cores and the loopback, so the speed-up shown is what a second process
buys here; on two machines each shard has a machine of its own. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

import flow_bench  # noqa: E402
from multihost import MultiHost  # noqa: E402
from scale_bench import build_world  # noqa: E402

from checks.settings import CheckSettings  # noqa: E402

PREFECT = str(Path(sys.executable).with_name("prefect"))


def log(message: str) -> None:
    print(f"[shards {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Stack:
    """A Prefect server, the pool, the deployments and the workers; every process in its own group."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.processes: list[subprocess.Popen[bytes]] = []
        self.server, self.api, took = flow_bench.start_server(work / "prefect", work / "prefect-server.log")
        log(f"prefect server at {self.api}, started in {took:.1f} s")
        self.env = {**flow_bench.base_env(work / "prefect"), "PREFECT_API_URL": self.api, "PREFECT_WORKER_QUERY_SECONDS": "1",
                    "PAPERWATCH_HOME": str(REPO)}

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api, timeout=60)

    def deploy(self) -> None:
        from prefect.workers.process import ProcessWorker

        with self.http() as api:
            created = api.post("/work_pools/", json={"name": "paperwatch", "type": "process",
                                                     "base_job_template": ProcessWorker.get_default_base_job_template()})
            if created.status_code != 201:
                raise SystemExit(f"could not create the work pool: {created.text}")
        with open(self.work / "deploy.log", "wb") as out:
            code = subprocess.call([PREFECT, "--no-prompt", "deploy", "--name", "paperwatch-daily", "--name", "paperwatch-shard"],
                                   cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, timeout=300)
        if code != 0:
            raise SystemExit(f"prefect deploy failed; see {self.work / 'deploy.log'}")

    def start_worker(self, name: str) -> None:
        with open(self.work / f"{name}.log", "ab") as out:
            self.processes.append(subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", "paperwatch", "--type", "process", "--name", name, "--limit", "2"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

    def stop_workers(self) -> None:
        for process in self.processes:
            flow_bench.stop_group(process)
        self.processes.clear()

    def stop(self) -> None:
        self.stop_workers()
        flow_bench.stop_group(self.server)

    def run(self, parameters: dict[str, Any], timeout: float) -> tuple[dict[str, Any], float]:
        with self.http() as api:
            deployment = api.get("/deployments/name/monitor/paperwatch-daily").json()
            started = time.monotonic()
            created = api.post(f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": parameters})
            created.raise_for_status()
            flow_run_id = created.json()["id"]
            while time.monotonic() - started < timeout:
                run = api.get(f"/flow_runs/{flow_run_id}").json()
                if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                    return run, time.monotonic() - started
                time.sleep(1)
        raise SystemExit(f"flow run {flow_run_id} not finished after {timeout:.0f} s")

    def flow_log(self, flow_run_id: str) -> str:
        """The run's log lines as the UI shows them (to say why a run failed)."""
        with self.http() as api:
            logs = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200,
                                                  "sort": "TIMESTAMP_DESC"}).json()
        return "\n".join(entry["message"] for entry in reversed(logs))

    def children(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        """The shard runs started during the parent run (runs are measured one at a time)."""
        with self.http() as api:
            return api.post("/flow_runs/filter", json={"flows": {"name": {"any_": ["check-shard"]}},
                                                       "flow_runs": {"start_time": {"after_": parent["start_time"]}},
                                                       "limit": 50}).json()


def seconds(run: dict[str, Any]) -> float:
    return flow_bench.stamp(run["end_time"]) - flow_bench.stamp(run["start_time"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=20_000, help="unique links in the world (default 20000)")
    parser.add_argument("--hosts", type=int, default=20, help="hosts, each its own loopback address (default 20)")
    parser.add_argument("--delay-ms", type=float, default=100.0)
    parser.add_argument("--delay-max-ms", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up on a run after this many s")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, reports, databases)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="paperwatch-shards-"))
    rows: list[dict[str, Any]] = []
    with MultiHost(hosts=args.hosts, delay_ms=args.delay_ms, delay_max_ms=args.delay_max_ms) as web:
        papers, truth = build_world(web.hosts, args.links, args.seed)
        world = work / "world.jsonl"
        world.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
        log(f"world: {len(papers)} papers, {args.links} links on {args.hosts} hosts; work dir {work}")
        stack = Stack(work)
        try:
            stack.deploy()
            for workers, shards in ((1, 1), (2, 2)):
                label = f"{workers} worker{'s' if workers > 1 else ''}"
                for k in range(workers):
                    stack.start_worker(f"worker-{k + 1}")
                out = work / f"shards-{shards}"
                out.mkdir()
                parameters = {"sources": [str(world)], "db": str(out / "history.sqlite"), "out": str(out / "report"),
                              "settings": CheckSettings(allow_private=True).to_dict(), "shards": shards}
                log(f"{label}: monitor/paperwatch-daily with shards = {shards}")
                run, wall = stack.run(parameters, args.timeout)
                children = stack.children(run) if shards > 1 else []
                stack.stop_workers()
                state = run["state"]["type"]
                row: dict[str, Any] = {"setup": label, "shards": shards, "state": state, "wall_s": round(wall, 1),
                                       "flow_s": round(seconds(run), 1) if run.get("end_time") else None,
                                       "children_s": [round(seconds(c), 1) for c in children if c.get("end_time")]}
                if state == "COMPLETED":
                    report = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
                    counts = Counter(link["state"] for paper in report["papers"] for link in paper["links"]
                                     if link["normalized"].startswith("http://127."))
                    row["counted"] = dict(counts)
                    row["match"] = all(counts.get(s, 0) == n for s, n in truth.items())
                else:
                    (work / f"{label.replace(' ', '-')}-flow.log").write_text(stack.flow_log(run["id"]), encoding="utf-8")
                    log(f"{label}: {run['state'].get('message')}; its log: {work / (label.replace(' ', '-') + '-flow.log')}")
                log(f"{label}: {state} in {wall:.1f} s")
                rows.append(row)
        finally:
            stack.stop()
    print(f"paperwatch-daily over {args.links} links on {args.hosts} hosts ({len(papers)} papers), "
          f"{args.delay_ms:g}-{args.delay_max_ms:g} ms an answer; process workers on this machine ({os.cpu_count()} CPUs)")
    print(f"{'setup':<10} {'shards':>6} {'state':<10} {'wall s':>7} {'flow s':>7}  {'shard runs s':<16} states")
    for row in rows:
        shards_s = " / ".join(f"{s:g}" for s in row["children_s"]) or "-"
        verdict = "match the world" if row.get("match") else ("DIFFER" if "match" in row else "-")
        print(f"{row['setup']:<10} {row['shards']:>6} {row['state']:<10} {row['wall_s']:>7} {row['flow_s'] or '-':>7}  "
              f"{shards_s:<16} {verdict}")
    if len(rows) == 2 and rows[1]["wall_s"]:
        print(f"speed-up with 2 workers: {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x")
    print(f"truth: {dict(truth)}")
    if args.json:
        args.json.write_text(json.dumps({"truth": dict(truth), "runs": rows}, indent=2), encoding="utf-8")
    if not args.keep:
        subprocess.call(["rm", "-rf", str(work)])
    return 0 if all(row.get("match") for row in rows) else 2


if __name__ == "__main__":
    sys.exit(main())
