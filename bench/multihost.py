"""A local multi-host web for link-checker benchmarks: H hosts on loopback, each answers after a fixed delay.

Run it as its own process, so that the checker under test does not share its CPU accounting::

    python bench/multihost.py --hosts 20 --delay-ms 50 [--pages-dir DIR]

It prints one JSON line, ``{"pid": ..., "hosts": ["127.0.0.2:PORT", ...], "ports": [...], "page_port": ...}``,
then serves until killed.

Host k listens on its own loopback address, 127.0.0.(k+2), and its own port: a "host" is then a distinct host
name *and* a distinct port, so every checker sees H hosts whether it keys its per-host limit by host name,
by address or by host:port. ``--same-address`` puts every host on 127.0.0.1 (hosts = ports only): a checker
that keys by host name then sees one host. Linux routes all of 127.0.0.0/8 to the loopback device.

Every host port answers every request (HEAD or GET) after ``--delay-ms``; the path decides the answer:

- ``/ok/...``       200, a small text/plain body
- ``/moved/REST``   301, ``Location: http://ADDRESS:PORT/ok/REST`` (same host, another path)
- ``/missing/...``  404 (so is any other path, e.g. ``/robots.txt``)
- ``/unavailable/...``  503 (a server error: checkers retry it, then call it an error)

``--delay-max-ms`` above ``--delay-ms`` draws each answer's delay uniformly between the two (a
world whose servers answer after 100-300 ms: ``--delay-ms 100 --delay-max-ms 300``).

Every answer carries a ``LinkChecker: 1`` header: LinkChecker throttles a host to ~0.1-0.6 s between
requests unless the host sends that header (and its config raises ``maxrequestspersecond``).

The extra ``page_port`` (on 127.0.0.1) answers at once (no delay) and is not counted as a host:

- ``GET /page/NAME``  the file ``NAME`` from ``--pages-dir`` (text/html): the link list the peers crawl
- ``GET /_stats``     JSON: requests per host and per method since start, this server's CPU time, and the
                      most requests in flight at once (received, not yet answered) since the previous ``/_stats``

The server is plain asyncio (no aiohttp): a cheap server leaves the 2 cores to the checker under test.
Listen backlog 4096 and TCP_NODELAY on every accepted socket (Nagle + delayed ACK costs ~40 ms per
keep-alive request otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BACKLOG = 4096
MAX_HEAD = 64 * 1024
OK_BODY = b"ok: this page is alive.\n" * 4

_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 400: "Bad Request"}


def _response(status: int, body: bytes, method: str, keep_alive: bool, content_type: str = "text/plain; charset=utf-8",
              extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "LinkChecker: 1\r\n"
        f"{extra}"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    ).encode("latin-1")
    return head if method == "HEAD" else head + body


class Counters:
    def __init__(self) -> None:
        self.per_host: collections.Counter[str] = collections.Counter()
        self.methods: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.page_requests = 0
        self.connections = 0
        self.in_flight = 0  # requests received on host ports and not yet answered
        self.peak_in_flight = 0  # the most at once since the last snapshot

    def received(self) -> None:
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight

    def _take_peak(self) -> int:
        peak, self.peak_in_flight = self.peak_in_flight, self.in_flight
        return peak

    def snapshot(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "requests": sum(self.per_host.values()),
            "per_host": dict(sorted(self.per_host.items())),
            "methods": dict(self.methods),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "page_requests": self.page_requests,
            "connections": self.connections,  # TCP connections accepted by the host ports
            "in_flight": self.in_flight,
            "peak_in_flight": self._take_peak(),  # since the previous snapshot: a client's peak is the max over its run's
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
            "time": time.time(),
        }


class HttpConnection(asyncio.Protocol):
    """Minimal HTTP/1.1 server side: keep-alive, in-order answers (also when pipelined), no request bodies kept."""

    def __init__(self, site: "Site") -> None:
        self.site = site
        self.buffer = bytearray()
        self.queue: collections.deque[list[Any]] = collections.deque()  # [response bytes | None, keep_alive]
        self.transport: asyncio.Transport | None = None
        self.skip_body = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.site.is_page_port:
            self.site.counters.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.queue.clear()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            if self.skip_body:
                dropped = min(self.skip_body, len(self.buffer))
                del self.buffer[:dropped]
                self.skip_body -= dropped
                if self.skip_body:
                    return
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            self._handle(head)

    def _handle(self, head: str) -> None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self._enqueue(_response(400, b"bad request\n", "GET", False), delay=0.0)
            return
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.skip_body = int(headers.get("content-length", "0") or 0)
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        response, delay = self.site.answer(method.upper(), target, keep_alive)
        counted = not self.site.is_page_port
        if counted:
            self.site.counters.received()
        self._enqueue(response, delay, keep_alive, counted)

    def _enqueue(self, response: bytes, delay: float, keep_alive: bool = False, counted: bool = False) -> None:
        slot: list[Any] = [None, keep_alive]
        self.queue.append(slot)
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._ready, slot, response, counted)
        else:
            self._ready(slot, response, counted)

    def _ready(self, slot: list[Any], response: bytes, counted: bool = False) -> None:
        if counted:  # answered (or its client has gone): no longer in flight
            self.site.counters.in_flight -= 1
        slot[0] = response
        while self.queue and self.queue[0][0] is not None and self.transport is not None:
            data, keep_alive = self.queue.popleft()
            self.transport.write(data)
            if not keep_alive:
                self.transport.close()
                return


class Site:
    """What one listening port answers."""

    def __init__(self, netloc: str, delay: float, counters: Counters, pages_dir: Path | None = None, is_page_port: bool = False,
                 delay_max: float | None = None):
        self.netloc = netloc
        self.delay = delay
        self.delay_max = max(delay, delay_max if delay_max is not None else delay)
        self.counters = counters
        self.pages_dir = pages_dir
        self.is_page_port = is_page_port

    def answer(self, method: str, target: str, keep_alive: bool) -> tuple[bytes, float]:
        if self.is_page_port:
            return self._page(method, target, keep_alive), 0.0
        counters = self.counters
        counters.per_host[self.netloc] += 1
        counters.methods[method] += 1
        path = target.split("?", 1)[0]
        if path.startswith("/ok/"):
            status, response = 200, _response(200, OK_BODY, method, keep_alive)
        elif path.startswith("/moved/"):
            location = f"http://{self.netloc}/ok/{path[len('/moved/'):]}"
            status, response = 301, _response(301, b"moved\n", method, keep_alive, extra=f"Location: {location}\r\n")
        elif path.startswith("/unavailable/"):
            status, response = 503, _response(503, b"unavailable\n", method, keep_alive)
        else:
            status, response = 404, _response(404, b"not found\n", method, keep_alive)
        counters.statuses[status] += 1
        return response, self.delay if self.delay_max == self.delay else random.uniform(self.delay, self.delay_max)

    def _page(self, method: str, target: str, keep_alive: bool) -> bytes:
        self.counters.page_requests += 1
        path = target.split("?", 1)[0]
        if path == "/_stats":
            body = json.dumps(self.counters.snapshot()).encode()
            return _response(200, body, method, keep_alive, "application/json")
        if path.startswith("/page/") and self.pages_dir is not None:
            name = path[len("/page/"):]
            if name and "/" not in name and not name.startswith("."):
                file = self.pages_dir / name
                if file.is_file():
                    return _response(200, file.read_bytes(), method, keep_alive, "text/html; charset=utf-8")
        return _response(404, b"not found\n", method, keep_alive)


def host_address(k: int, same_address: bool) -> str:
    """Where host k listens: 127.0.0.(k+2), or 127.0.0.1 for every host with ``same_address``."""
    if same_address:
        return "127.0.0.1"
    if not 0 <= k < 250:
        raise ValueError("at most 250 hosts on distinct loopback addresses (127.0.0.2-127.0.0.251)")
    return f"127.0.0.{k + 2}"


async def serve(hosts: int, delay_ms: float, pages_dir: Path | None, same_address: bool = False,
                delay_max_ms: float | None = None) -> None:
    loop = asyncio.get_running_loop()
    counters = Counters()
    sockets: list[tuple[str, socket.socket]] = []
    for k in range(hosts + 1):
        address = "127.0.0.1" if k == hosts else host_address(k, same_address)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, 0))
        sockets.append((f"{address}:{sock.getsockname()[1]}", sock))
    started = []
    for k, (netloc, sock) in enumerate(sockets):
        site = Site(netloc, delay_ms / 1000.0, counters, pages_dir, is_page_port=(k == hosts),
                    delay_max=None if delay_max_ms is None else delay_max_ms / 1000.0)
        server = await loop.create_server(lambda site=site: HttpConnection(site), sock=sock, backlog=BACKLOG)
        started.append(server)
    netlocs = [netloc for netloc, _ in sockets[:hosts]]
    info = {"pid": os.getpid(), "hosts": netlocs, "ports": [int(n.rsplit(":", 1)[1]) for n in netlocs],
            "page_port": sockets[hosts][1].getsockname()[1], "delay_ms": delay_ms}
    print(json.dumps(info), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in started:
        server.close()


class MultiHost:
    """Start/stop ``multihost.py`` as a subprocess; read its request counters. For example::

        with MultiHost(hosts=20, delay_ms=50, pages_dir=tmp) as web:
            web.hosts        # ["127.0.0.2:PORT", ...]
            web.page_url("links.html"), web.stats()["requests"]
    """

    def __init__(self, hosts: int = 20, delay_ms: float = 50.0, pages_dir: str | Path | None = None,
                 same_address: bool = False, python: str = sys.executable, delay_max_ms: float | None = None):
        self.n_hosts = hosts
        self.delay_max_ms = delay_max_ms
        self.same_address = same_address
        self.delay_ms = delay_ms
        self.pages_dir = Path(pages_dir) if pages_dir else None
        self.python = python
        self.process: subprocess.Popen[str] | None = None
        self.hosts: list[str] = []  # "ADDRESS:PORT" of each host
        self.ports: list[int] = []
        self.page_port = 0

    def start(self) -> "MultiHost":
        cmd = [self.python, str(Path(__file__).resolve()), "--hosts", str(self.n_hosts), "--delay-ms", str(self.delay_ms)]
        if self.same_address:
            cmd.append("--same-address")
        if self.delay_max_ms is not None:
            cmd += ["--delay-max-ms", str(self.delay_max_ms)]
        if self.pages_dir:
            cmd += ["--pages-dir", str(self.pages_dir)]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("multihost server exited before announcing its ports")
        info = json.loads(line)
        self.hosts, self.ports, self.page_port = info["hosts"], info["ports"], info["page_port"]
        return self

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.page_port}/_stats", timeout=10) as response:
            return json.load(response)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}{path}"

    def page_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.page_port}/page/{name}"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None

    def __enter__(self) -> "MultiHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20, help="number of host ports (default 20)")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="delay before every answer, ms (default 50)")
    parser.add_argument("--delay-max-ms", type=float, default=None,
                        help="draw each answer's delay uniformly from [delay-ms, delay-max-ms] (default: always delay-ms)")
    parser.add_argument("--pages-dir", type=Path, default=None, help="directory served at /page/NAME on the page port")
    parser.add_argument("--same-address", action="store_true",
                        help="every host on 127.0.0.1 (hosts differ by port only), not on 127.0.0.2, 127.0.0.3, ...")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.hosts, args.delay_ms, args.pages_dir, args.same_address, args.delay_max_ms))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
