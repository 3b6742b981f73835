"""Where the time of ``paperwatch run`` goes: Prefect start-up, orchestration, checking.

    .venv/bin/python bench/flow_bench.py                    # seed (113 papers) and 10,000 links (~4 min)
    .venv/bin/python bench/flow_bench.py --corpora seed     # the seed only
    .venv/bin/python bench/flow_bench.py --json /tmp/flow.json

Every run is the real command line (``paperwatch run … --github-api … --hf-endpoint … --remap …``) in
its own process, against the simulated web (``python -m simweb``, its own process) on 127.0.0.1.
Three ways to reach Prefect are measured:

- ``ephemeral, cold``: no PREFECT_API_URL and a fresh PREFECT_HOME: Prefect starts a temporary
  server and creates its database (what a first ``paperwatch run`` on a new machine pays);
- ``ephemeral, warm``: the same, with the database already there (every later run);
- ``served``: PREFECT_API_URL points at a running ``prefect server`` (the bench starts one; the
  way scheduled deployments run). Its flow and task runs are read back from the API, which splits
  the flow run into checking, other work and orchestration.

Figures per run: ``wall`` from spawn to exit; ``start-up`` = wall minus the flow run (interpreter,
imports, temporary server start and stop, flow run creation); for ``served`` runs, ``checking`` is
the union of the batch tasks' running intervals, ``other tasks`` the union of the remaining tasks'
(extract, store, report, alerts, prune), and ``orchestration`` the rest of the flow run: the time in
which no task was running (task and state bookkeeping, futures, artifacts, the flow's own code).
The goal is orchestration under 10 % of the 10,000-link flow run.

The simulated Hub has no request budget, so the bench raises paperwatch's Prefect rate limits
(``paperwatch-huggingface``, ``paperwatch-github-points``) before it measures, as an operator of a
mirror would (``prefect gcl update``): with the defaults, a free Hugging Face account's budget of 1,000
API requests per five minutes spreads the 2,000 model checks of the 10,000-link corpus over about
five minutes, which is the budget's doing, not Prefect's. The cold start is measured on the seed,
whose 3 Hub links never meet the limit.

A ``bare`` line checks the same links without Prefect: one call per checker (pages, GitHub, Hub) in
three threads, the way paperwatch checked before it had batch tasks, for the cost of batching itself.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
from simweb import free_port  # noqa: E402

BIN = Path(sys.executable).parent
SEED = REPO / "examples" / "hf-papers-2024-03-14.txt"
SEED_SCENARIO = REPO / "simweb" / "scenarios" / "demo.yaml"
TOKEN = "ghp_flow_bench"
CHECK_TASK_PREFIXES = ("pages ", "github ", "huggingface ")
SETTINGS_TOML = "timeout = 2\ntotal_timeout = 5\nretries = 0\n"  # the seed's scenario has deliberately slow pages


def log(message: str) -> None:
    print(f"[flow-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- corpora

def big_corpus(directory: Path, links: int) -> tuple[Path, Path]:
    """``links`` links in papers of five: 60 % project pages on 60 hosts, 20 % GitHub repositories,
    20 % Hugging Face models; a few hosts answer 404 or redirect, 2.5 % of repos and models are missing."""
    papers = links // 5
    hosts = 60
    repos = [f"lab{i % 40}/repo-{i}" for i in range(papers)]
    models = [f"org{i % 40}/model-{i}" for i in range(papers)]
    scenario = {
        "github": {"tokens": [TOKEN], "rate_limit": {"authenticated": 1_000_000, "anonymous": 1_000_000},
                   "repos": [{"full_name": name, "stars": i % 500} for i, name in enumerate(repos) if i % 40 != 7]},
        "hub": {"models": [{"id": name} for i, name in enumerate(models) if i % 40 != 11]},
        "hosts": {f"site{h}.example.org": ({"status": 404} if h % 20 == 3 else
                                           {"status": 301, "location": f"https://new{h}.example.org/"} if h % 20 == 9 else
                                           {"title": f"Project site {h}"})
                  for h in range(hosts)},
        "web": {f"https://new{h}.example.org/": {"title": f"New home {h}"} for h in range(hosts) if h % 20 == 9},
    }
    scenario_path = directory / "links-scenario.yaml"
    scenario_path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    corpus = directory / "links.jsonl"
    with corpus.open("w") as out:
        for i in range(papers):
            pages = " ".join(f"https://site{(3 * i + k) % hosts}.example.org/p/{i}-{k}" for k in range(3))
            summary = (f"We study problem {i}. Project pages: {pages} . Code: https://github.com/{repos[i]} . "
                       f"Weights: https://huggingface.co/{models[i]} .")
            out.write(json.dumps({"id": f"bench-{i}", "title": f"Bench paper {i}", "summary": summary}) + "\n")
    return corpus, scenario_path


# --------------------------------------------------------------------------------------------- processes

@dataclass
class SimWeb:
    process: subprocess.Popen[str]
    github_api: str
    hf_endpoint: str
    remap: str

    @classmethod
    def start(cls, scenario: Path) -> "SimWeb":
        process = subprocess.Popen([sys.executable, "-m", "simweb", str(scenario)], cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        values = dict(line.split("=", 1) for line in lines[:2])
        remap = lines[2].removeprefix("--remap ").strip("'")
        return cls(process, values["GITHUB_API_URL"], values["HF_ENDPOINT"], remap)

    def stop(self) -> None:
        stop_group(self.process)


def stop_group(process: subprocess.Popen[Any]) -> None:
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            continue


def base_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PREFECT_") and key not in ("GITHUB_TOKEN", "HF_TOKEN")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    return env


def start_server(home: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    started = time.monotonic()
    with log_path.open("wb") as out:
        process = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                   env={**base_env(home), "PREFECT_SERVER_UI_ENABLED": "false",
                                        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"},
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    while time.monotonic() - started < 300:
        try:
            if httpx.get(f"{api}/health", timeout=2).json() is True:
                return process, api, time.monotonic() - started
        except (httpx.HTTPError, ValueError):
            time.sleep(0.5)
    stop_group(process)
    raise SystemExit(f"prefect server did not start; see {log_path}")


# --------------------------------------------------------------------------------------------- one run

@dataclass
class RunFigures:
    corpus: str
    mode: str
    papers: int = 0
    links: int = 0
    wall: float = 0.0
    startup: float = 0.0
    flow: float = 0.0
    checking: float | None = None
    other_tasks: float | None = None
    orchestration: float | None = None
    task_runs: int | None = None
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def overhead_share(self) -> float | None:
        return None if self.orchestration is None or not self.flow else self.orchestration / self.flow


_FLOW_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| \w+\s*\| Flow run '[^']+' - (Beginning flow run|Finished in state)")


def flow_span_from_log(text: str, day: datetime) -> tuple[float, float]:
    """Start and end of the flow run (epoch seconds) from Prefect's console log of the run."""
    marks: dict[str, float] = {}
    for line in text.splitlines():
        match = _FLOW_LINE.match(line)
        if match:
            clock = datetime.strptime(match.group(1), "%H:%M:%S.%f").time()
            marks.setdefault(match.group(2), datetime.combine(day.date(), clock).timestamp())
    return marks["Beginning flow run"], marks["Finished in state"]


def union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def timeline(api: str, flow_run_id: str) -> tuple[float, float, float, float, int]:
    """(flow seconds, checking, other tasks, orchestration, task runs) from the server's records."""
    with httpx.Client(base_url=api, timeout=30) as client:
        run = client.get(f"/flow_runs/{flow_run_id}").json()
        tasks: list[dict[str, Any]] = []
        while True:  # the server answers at most 200 task runs a page
            page = client.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200,
                                                          "offset": len(tasks)}).json()
            tasks += page
            if len(page) < 200:
                break
    begin, end = stamp(run["start_time"]), stamp(run["end_time"])
    spans = [(t["name"], stamp(t["start_time"]), stamp(t["end_time"])) for t in tasks if t["start_time"] and t["end_time"]]
    checks = [(a, b) for name, a, b in spans if name.startswith(CHECK_TASK_PREFIXES)]
    others = [(a, b) for name, a, b in spans if not name.startswith(CHECK_TASK_PREFIXES)]
    busy = union(checks + others)
    return end - begin, union(checks), union(others), (end - begin) - busy, len(tasks)


UNLIMITED = {"paperwatch-huggingface": (1_000_000, 1_000_000.0), "paperwatch-github-points": (1_000_000, 1_000_000.0)}


def raise_limits(api: str) -> None:
    """The rate limits paperwatch would create, created first with room enough for the simulation."""
    with httpx.Client(base_url=api, timeout=30) as client:
        for name, (limit, decay) in UNLIMITED.items():
            client.delete(f"/v2/concurrency_limits/{name}")
            created = client.post("/v2/concurrency_limits/", json={"name": name, "limit": limit, "slot_decay_per_second": decay})
            created.raise_for_status()


def raise_limits_ephemeral(env: dict[str, str]) -> None:
    """The same in an ephemeral PREFECT_HOME: its temporary server keeps them in its database."""
    code = ("from prefect.client.orchestration import get_client\n"
            f"limits = {UNLIMITED!r}\n"
            "with get_client(sync_client=True) as client:\n"
            "    for name, (limit, decay) in limits.items():\n"
            "        client.upsert_global_concurrency_limit_by_name(name, limit, decay)\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=300)


def run_cli(corpus: str, mode: str, source: Path, web: SimWeb, work: Path, env: dict[str, str], api: str | None,
            token: bool) -> RunFigures:
    out = work / f"{corpus}-{mode.replace(', ', '-')}"
    out.mkdir(parents=True)
    config = work / "paperwatch.toml"
    config.write_text(SETTINGS_TOML)
    command = [str(BIN / "paperwatch"), "run", str(source), "--db", str(out / "history.sqlite"), "--out", str(out / "report"),
               "--config", str(config), "--github-api", web.github_api, "--hf-endpoint", web.hf_endpoint, "--remap", web.remap]
    run_env = {**env, **({"PREFECT_API_URL": api} if api else {}), **({"GITHUB_TOKEN": TOKEN} if token else {})}
    log(f"{corpus}, {mode}: paperwatch run")
    day = datetime.now()
    started = time.monotonic()
    proc = subprocess.run(command, cwd=work, env=run_env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"paperwatch run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report = json.loads((out / "report" / "report.json").read_text())
    figures = RunFigures(corpus, mode, papers=report["summary"]["papers"], links=report["summary"]["links"], wall=wall,
                         by_state={k: v for k, v in report["summary"]["by_state"].items() if v})
    if api:
        figures.flow, figures.checking, figures.other_tasks, figures.orchestration, figures.task_runs = \
            timeline(api, report["run"]["flow_run_id"])
    else:
        begin, end = flow_span_from_log(proc.stdout + proc.stderr, day)
        figures.flow = end - begin
    figures.startup = wall - figures.flow
    log(f"{corpus}, {mode}: {wall:.1f} s wall, flow run {figures.flow:.1f} s")
    return figures


def bare_checkers(source: Path, web: SimWeb, token: bool) -> float:
    """The same links checked with no Prefect at all: one call per checker, the three in parallel threads."""
    from checks.extract import read_papers
    from checks.github import check_repos
    from checks.http import check_pages
    from checks.huggingface import check_artifacts
    from checks.plan import plan_checks
    from checks.settings import CheckSettings, RemapRule

    settings = CheckSettings(github_api_url=web.github_api, hf_endpoint=web.hf_endpoint,
                             remap_rules=(RemapRule.parse(web.remap),), timeout=2, total_timeout=5, retries=0)
    plan = plan_checks(read_papers(source))
    pages = [link.normalized for link in plan.http + (() if token else plan.github)]
    saved = os.environ.get("GITHUB_TOKEN")
    if token:
        os.environ["GITHUB_TOKEN"] = TOKEN
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(check_pages, pages, settings), pool.submit(check_repos, list(plan.github), settings),
                       pool.submit(check_artifacts, list(plan.huggingface), settings)]
            for future in futures:
                future.result()
        return time.monotonic() - started
    finally:
        if saved is None:
            os.environ.pop("GITHUB_TOKEN", None)
        else:
            os.environ["GITHUB_TOKEN"] = saved


# --------------------------------------------------------------------------------------------- report

def table(rows: list[RunFigures], bare: dict[str, float], server_start: float) -> str:
    def f(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    head = ("corpus", "links", "mode", "wall s", "start-up s", "flow run s", "checking s", "other tasks s",
            "orchestration s", "orch. % of flow", "task runs")
    lines = [head]
    for r in rows:
        share = r.overhead_share
        lines.append((r.corpus, str(r.links), r.mode, f(r.wall), f(r.startup), f(r.flow), f(r.checking), f(r.other_tasks),
                      f(r.orchestration), "-" if share is None else f"{100 * share:.1f}", "-" if r.task_runs is None else str(r.task_runs)))
    for corpus, seconds in bare.items():
        links = next(r.links for r in rows if r.corpus == corpus)
        lines.append((corpus, str(links), "bare checkers", "-", "-", "-", f(seconds), "-", "-", "-", "0"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    text.append("")
    text.append(f"prefect server start (served mode; once, not per run): {server_start:.1f} s")
    for r in rows:
        text.append(f"  {r.corpus}, {r.mode}: {r.papers} papers, states {r.by_state}")
    big = [r for r in rows if r.corpus == "10k" and r.overhead_share is not None]
    for r in big:
        verdict = "PASS" if r.overhead_share < 0.10 else "FAIL"
        text.append(f"{verdict}  orchestration {r.orchestration:.1f} s = {100 * r.overhead_share:.1f} % of the {r.links}-link flow run "
                    f"({r.flow:.1f} s); goal under 10 %")
    return "\n".join(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="seed,10k", help="seed, 10k or both (default)")
    parser.add_argument("--links", type=int, default=10_000, help="size of the large corpus (default 10,000)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (reports, logs)")
    args = parser.parse_args()
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    work = Path(tempfile.mkdtemp(prefix="paperwatch-flow-bench-"))
    log(f"working in {work}")
    rows: list[RunFigures] = []
    bare: dict[str, float] = {}
    server = None
    try:
        server, api, server_start = start_server(work / "served-home", work / "server.log")
        log(f"prefect server ready in {server_start:.1f} s")
        raise_limits(api)
        for corpus in corpora:
            if corpus == "seed":
                source, scenario, token = SEED, SEED_SCENARIO, False
            elif corpus == "10k":
                source, scenario = big_corpus(work, args.links)
                token = True
            else:
                raise SystemExit(f"unknown corpus {corpus!r}")
            web = SimWeb.start(scenario)
            try:
                if corpus == "seed":  # the first run on a fresh PREFECT_HOME pays for creating its database
                    rows.append(run_cli(corpus, "ephemeral, cold", source, web, work, base_env(work / "cold-home"), None, token))
                log(f"{corpus}: raising the rate limits in the ephemeral PREFECT_HOME")
                raise_limits_ephemeral(base_env(work / "cold-home"))
                rows.append(run_cli(corpus, "ephemeral, warm", source, web, work, base_env(work / "cold-home"), None, token))
                rows.append(run_cli(corpus, "served", source, web, work, base_env(work / "client-home"), api, token))
                log(f"{corpus}: bare checkers")
                bare[corpus] = bare_checkers(source, web, token)
            finally:
                web.stop()
    finally:
        if server is not None:
            stop_group(server)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(rows, bare, server_start))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": [asdict(r) for r in rows], "bare_checkers": bare,
                                               "server_start": server_start}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
