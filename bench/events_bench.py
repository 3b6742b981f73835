"""What a run's Prefect events cost (``reports.link_events``, ``flows.events``).

    .venv/bin/python bench/events_bench.py                      # 254,000 links, 10,000 changed (~2-3 min)
    .venv/bin/python bench/events_bench.py --links 50000 --changed 2000

A synthetic report of ``--links`` links (two per paper) of which ``--changed`` changed verdict
(newly dead, degraded, healthy again, moved, archived, recovered, promise fulfilled in turn) and
``--unknown`` could not be checked is built in memory, then:

- ``build``: the CPU time of building every event spec (``run_events``, with the one pass over all
  links it makes) and the attention table (``attention_table``) from the report, for the many-changes
  report and for one with 10 changes;
- ``emit``: a real ``prefect server start`` on 127.0.0.1 (its own PREFECT_HOME), one flow run that
  emits the specs (``flows.events.emit_specs``) the way the monitor does; the time to hand them to
  Prefect's EventsWorker, the time until the worker is drained (every event sent over its websocket),
  the client's CPU, then the time until the server has stored them all (read back from
  ``POST /api/events/filter``) and the server's CPU over that time (its process group, from /proc).

Progress on stderr, the figures on stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

CHANGES = ("newly dead", "degraded", "healthy again", "moved", "archived", "recovered", "promise fulfilled")
_VERDICTS = {"newly dead": ("healthy", "dead"), "degraded": ("healthy", "degraded"), "healthy again": ("degraded", "healthy"),
             "moved": ("healthy", "healthy"), "archived": ("healthy", "healthy"), "recovered": ("dead", "recovered"),
             "promise fulfilled": ("healthy", "healthy")}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def synthetic_report(links: int, changed: int, unknown: int):  # -> Report
    """A report of ``links`` links, two per paper, the first ``changed`` of them changed, the next ``unknown`` unknown."""
    from checks.model import State
    from reports.report_model import Report, Summary
    from reports.report_rows import ChangeRow, LinkRow, PaperRow, PaperWords, RunInfo
    from reports.verdicts import LinkVerdict
    from reports.vocabulary import Change, Verdict

    alive = LinkVerdict(Verdict.HEALTHY, None, "2026-11-01T00:00:00+00:00", {"7d": 100.0})
    dead = LinkVerdict(Verdict.DEAD, "2026-11-01T00:00:00+00:00", "2026-10-01T00:00:00+00:00", {"7d": 0.0})
    papers, changes = [], []
    for p in range(links // 2):
        rows = []
        for i in (2 * p, 2 * p + 1):
            url = f"https://host{i % 500}.example.org/paper/{i}"
            state, verdict, reason = State.ALIVE, alive, "HTTP 200"
            if i < changed:
                kind = CHANGES[i % len(CHANGES)]
                if kind == "newly dead":
                    state, verdict, reason = State.DEAD, dead, "not found (HTTP 404)"
                changes.append(ChangeRow(url=url, change=Change(kind), verdict_from=Verdict(_VERDICTS[kind][0]),
                                         verdict_to=Verdict(_VERDICTS[kind][1]), state=state.value, reason=reason,
                                         dead_since=verdict.dead_since, papers=(f"Paper {p}",)))
            elif i < changed + unknown:
                state, reason = State.UNKNOWN, "not checked: GitHub API rate limit exhausted (token); resets at 14:05 UTC"
            rows.append(LinkRow(url=url, normalized=url, kind="page", claim="code", promise=False, history=(), verdict=verdict,
                                state=state, reason=reason, evidence={"status_code": 404 if state is State.DEAD else 200,
                                                                      "final_url": url, "error": None}, details={}))
        papers.append(PaperRow(f"p{p}", f"Paper {p}: a title of ordinary length about transformers", PaperWords(), tuple(rows)))
    return Report(schema_version=3, generated_at="2026-11-02T00:00:00+00:00",
                  run=RunInfo(7, "2026-11-02T00:00:00+00:00", None, "completed", False, ("papers.jsonl",), (), None),
                  summary=Summary(len(papers), len(papers), links, {"alive": links - changed - unknown, "unknown": unknown},
                                  {}, {}),
                  changes=tuple(changes), runs=(), papers=tuple(papers))


def build_cost(report) -> tuple[list, float, float]:
    from reports.link_events import attention_table, papers_of_changes, run_events

    cpu = time.process_time()
    sources = {paper_id: "papers.jsonl" for paper_id in papers_of_changes(report)}
    specs = run_events(report, sources, "/srv/paperwatch/report.json")
    events_cpu = time.process_time() - cpu
    cpu = time.process_time()
    attention_table(report)
    return specs, events_cpu, time.process_time() - cpu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in a process group."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the name: state, ppid, pgrp, ..., utime (12), stime (13), cutime, cstime
            total += sum(int(value) for value in fields[11:15])
    return total / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=254_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--unknown", type=int, default=2_000)
    parser.add_argument("--no-emit", action="store_true", help="only the building")
    args = parser.parse_args()

    say(f"building a report of {args.links:,} links ...")
    report = synthetic_report(args.links, args.changed, args.unknown)
    specs, events_cpu, table_cpu = build_cost(report)
    few = synthetic_report(args.links, 10, args.unknown)
    few_specs, few_cpu, few_table_cpu = build_cost(few)
    print(f"links {args.links:,}, changed {args.changed:,}, unknown {args.unknown:,}")
    print(f"build: {len(specs):,} event specs in {events_cpu:.2f} s CPU; attention table {table_cpu:.2f} s CPU")
    print(f"build, 10 changes: {len(few_specs):,} event specs in {few_cpu:.2f} s CPU; attention table {few_table_cpu:.2f} s CPU")
    if args.no_emit:
        return

    home = Path(tempfile.mkdtemp(prefix="paperwatch-events-bench-"))
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    os.environ.update(env)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import httpx

        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).json() is True:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() - started > 180:
                raise SystemExit(f"prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
        say(f"prefect server ready in {time.monotonic() - started:.1f} s; emitting ...")
        for label, batch in (("10 changes", few_specs), (f"{args.changed:,} changes", specs)):
            emit(label, batch, api, server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def emit(label: str, specs: list, api: str, server_pid: int) -> None:
    import httpx
    from prefect import flow
    from prefect.events.worker import EventsWorker
    from prefect.runtime import flow_run

    from flows.events import emit_specs

    timings: dict[str, float] = {}

    @flow(name="events-bench", persist_result=False)
    def emit_all() -> str:
        server_cpu = group_cpu(server_pid)
        cpu, wall = time.process_time(), time.monotonic()
        outcome = emit_specs(specs)
        timings["handed"] = time.monotonic() - wall
        EventsWorker.drain_all()
        timings["drained"] = time.monotonic() - wall
        timings["client_cpu"] = time.process_time() - cpu
        timings["emitted"] = outcome["emitted"]
        timings["server_cpu0"] = server_cpu
        timings["t0"] = wall
        return str(flow_run.get_id())

    run_id = emit_all()
    body = {"filter": {"event": {"prefix": ["paperwatch."]}, "related": {"id": [f"prefect.flow-run.{run_id}"]}}, "limit": 1}
    stored = 0
    while time.monotonic() - timings["t0"] < 150:
        stored = httpx.post(f"{api}/events/filter", json=body, timeout=60).json()["total"]
        if stored >= timings["emitted"]:
            break
        time.sleep(1)
    persisted = time.monotonic() - timings["t0"]
    server_cpu = group_cpu(server_pid) - timings["server_cpu0"]
    print(f"emit, {label}: {int(timings['emitted']):,} events handed to the EventsWorker in {timings['handed']:.2f} s, "
          f"drained in {timings['drained']:.2f} s (client CPU {timings['client_cpu']:.2f} s); "
          f"{stored:,} stored by the server after {persisted:.1f} s (server CPU {server_cpu:.1f} s)")


if __name__ == "__main__":
    main()
