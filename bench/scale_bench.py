"""A big day: one default ``paperwatch run`` over a world of many large hosts, measured as a user would.

    .venv/bin/python bench/scale_bench.py                                  # 20,000 links on 20 hosts (~2 min)
    .venv/bin/python bench/scale_bench.py --links 254000 --hosts 100       # the quarter-million day (issue 16)
    .venv/bin/python bench/scale_bench.py --json /tmp/scale.json
    .venv/bin/python bench/scale_bench.py --prefect-server                 # and Prefect's share of the flow run

The world (``bench/multihost.py``, its own process): H hosts, each on its own loopback address and
port, every answer after ``--delay-ms``..``--delay-max-ms`` (100-300 ms by default). Its fate mix is
the one of issue 16: 94 % 200, 2 % 301 (to a 200 on the same host), 3 % 404, 1 % 503. Papers are
JSON Lines records (title and abstract) citing 1-3 links each; links are spread evenly over the hosts.

The run is the real command line (``paperwatch run world.jsonl --config paperwatch.toml``) in its own
process with the default settings, but ``allow_private = true`` (the world lives on 127.0.0.0/8). It
prints wall time, links/s, the run's CPU seconds (user + system of the command and its children),
its peak RSS, the report's size (index.html and all pages), and each state's count against the
truth (alive = 200, moved = 301, dead = 404, error = 503). With chromium (``--chromium``, default
/usr/bin/chromium; ``--no-browser`` to skip) index.html is then opened from file:// in headless
Chromium and filtered, searched and sorted (``render_bench.browser_figures``). Progress goes to
stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import flow_bench  # noqa: E402
from multihost import MultiHost  # noqa: E402
from render_bench import browser_figures  # noqa: E402

FATES = (("ok", 94, "alive"), ("moved", 2, "moved"), ("missing", 3, "dead"), ("unavailable", 1, "error"))


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_world(hosts: list[str], links: int, seed: int) -> tuple[list[dict[str, str]], Counter[str]]:
    """Papers citing ``links`` unique URLs spread evenly over ``hosts``, and the states the world will give them."""
    rng = random.Random(seed)
    weights = [weight for _, weight, _ in FATES]
    urls, truth = [], Counter()
    for i in range(links):
        path, _, state = rng.choices(FATES, weights)[0]
        urls.append(f"http://{hosts[i % len(hosts)]}/{path}/{i}")
        truth[state] += 1
    rng.shuffle(urls)
    papers, at = [], 0
    while at < len(urls):
        cited = urls[at:at + rng.randint(1, 3)]
        at += len(cited)
        papers.append({"title": f"Paper {len(papers) + 1}",
                       "abstract": "We release our code at " + " and the data at ".join(cited) + "."})
    return papers, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=20_000, help="unique links in the world (default 20000)")
    parser.add_argument("--hosts", type=int, default=20, help="hosts, each its own loopback address (default 20, at most 250)")
    parser.add_argument("--delay-ms", type=float, default=100.0, help="shortest answer delay, ms (default 100)")
    parser.add_argument("--delay-max-ms", type=float, default=300.0, help="longest answer delay, ms (default 300)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (report, database)")
    parser.add_argument("--chromium", default=os.environ.get("PAPERWATCH_TEST_CHROMIUM") or "/usr/bin/chromium")
    parser.add_argument("--no-browser", action="store_true", help="do not open the report in Chromium")
    parser.add_argument("--prefect-server", action="store_true",
                        help="run against a `prefect server` the bench starts (as scheduled deployments do) and split the "
                             "flow run into checking, other tasks and orchestration (Prefect's share), read from its API")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="paperwatch-scale-"))
    exe = Path(sys.executable).with_name("paperwatch")
    with MultiHost(hosts=args.hosts, delay_ms=args.delay_ms, delay_max_ms=args.delay_max_ms) as web:
        started = time.monotonic()
        papers, truth = build_world(web.hosts, args.links, args.seed)
        world = work / "world.jsonl"
        world.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
        (work / "paperwatch.toml").write_text("allow_private = true\n", encoding="utf-8")
        log(f"world: {len(papers)} papers, {args.links} links on {args.hosts} hosts, "
            f"{args.delay_ms:g}-{args.delay_max_ms:g} ms an answer; built in {time.monotonic() - started:.1f} s; work dir {work}")
        env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        server = None
        if args.prefect_server:
            server, api, took = flow_bench.start_server(work / "prefect", work / "prefect-server.log")
            env["PREFECT_API_URL"] = api
            log(f"prefect server at {api}, started in {took:.1f} s")
        command = [str(exe), "run", str(world), "--config", str(work / "paperwatch.toml"),
                   "--db", str(work / "history.sqlite"), "--out", str(work / "report")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        with open(work / "run.log", "w", encoding="utf-8") as out:
            code = subprocess.call(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        served = web.stats()
    if code != 0:
        if server is not None:
            flow_bench.stop_group(server)
        log(f"paperwatch run exited {code}; its log: {work / 'run.log'}")
        return 1
    report = json.loads((work / "report" / "report.json").read_text(encoding="utf-8"))
    prefect: dict[str, float] = {}
    if server is not None:
        try:
            flow, checking, other, orchestration, task_runs = flow_bench.timeline(env["PREFECT_API_URL"], report["run"]["flow_run_id"])
        finally:
            flow_bench.stop_group(server)
        prefect = {"flow_s": round(flow, 1), "checking_s": round(checking, 1), "other_tasks_s": round(other, 1),
                   "orchestration_s": round(orchestration, 1), "orchestration_share": round(orchestration / flow, 4),
                   "task_runs": task_runs}
    counts = Counter(link["state"] for paper in report["papers"] for link in paper["links"]
                     if link["normalized"].startswith("http://127."))
    seen = {link["normalized"] for paper in report["papers"] for link in paper["links"]}
    figures = {
        "links": args.links, "hosts": args.hosts, "papers": len(papers), "wall_s": round(wall, 1),
        "links_per_s": round(args.links / wall, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),  # the largest child: the run's own process
        "report_html_mb": round(sum(p.stat().st_size for p in (work / "report").glob("*.html")) / 2**20, 2),
        "index_html_mb": round((work / "report" / "index.html").stat().st_size / 2**20, 2),
        "html_pages": len(list((work / "report").glob("*.html"))),
        "report_json_mb": round((work / "report" / "report.json").stat().st_size / 2**20, 2),
        "requests_served": served.get("requests"), "truth": dict(truth), "counted": dict(counts),
        "match": all(counts.get(state, 0) == n for state, n in truth.items()) and len(seen) >= args.links,
        **({"prefect": prefect} if prefect else {}),
    }
    if not args.no_browser and Path(args.chromium).exists():
        log("opening index.html in chromium")
        figures["browser_ms"] = {name: round(ms) for name, ms in browser_figures(work / "report" / "index.html", args.chromium).items()}
    print(f"paperwatch run, {args.links} links on {args.hosts} hosts ({len(papers)} papers), "
          f"{args.delay_ms:g}-{args.delay_max_ms:g} ms an answer, default settings; {os.cpu_count()} CPUs")
    print(f"wall {figures['wall_s']} s, {figures['links_per_s']} links/s, CPU {figures['cpu_s']} s, "
          f"peak RSS {figures['peak_rss_mb']} MB, report {figures['report_html_mb']} MB HTML in {figures['html_pages']} page(s) "
          f"(index.html {figures['index_html_mb']} MB) + {figures['report_json_mb']} MB JSON")
    if prefect:
        print(f"prefect server: flow run {prefect['flow_s']} s = checking {prefect['checking_s']} s + other tasks "
              f"{prefect['other_tasks_s']} s + orchestration {prefect['orchestration_s']} s "
              f"({100 * prefect['orchestration_share']:.1f} % of the flow run, {prefect['task_runs']} task runs)")
    if "browser_ms" in figures:
        print("chromium, index.html: " + ", ".join(f"{name} {ms} ms" for name, ms in figures["browser_ms"].items()))
    for state in ("alive", "moved", "dead", "error"):
        print(f"  {state:<6} {counts.get(state, 0):>7} counted, {truth.get(state, 0):>7} in the world")
    others = {state: n for state, n in counts.items() if state not in truth}
    if others:
        print(f"  other: {others}")
    print("states match the world" if figures["match"] else "STATES DIFFER FROM THE WORLD")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if not args.keep:
        subprocess.call(["rm", "-rf", str(work)])
    return 0 if figures["match"] else 2


if __name__ == "__main__":
    sys.exit(main())
