"""SimulatedWeb: the three faces on 127.0.0.1, served from a background event loop.

Each face listens on its own OS-chosen port with a 1024-deep backlog (the default
of 128, or socketserver's 5, drops connections under a concurrent checker). asyncio
sets TCP_NODELAY on every accepted TCP socket, which keep-alive clients need to
avoid a ~40 ms delayed-ACK stall per request.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping
from urllib.parse import urlsplit

from aiohttp import web

from .github import GitHubFace
from .hub import HubFace
from .scenario import Scenario
from .state import RequestRecord, SimState
from .web import WebFace

HOST = "127.0.0.1"
BACKLOG = 1024
SHUTDOWN_TIMEOUT = 0.5  # slow pages (delay) are cut off rather than awaited on stop()
# handler_cancellation: a client that gives up on a slow page frees its handler at once

ScenarioLike = Scenario | Mapping[str, Any] | str | Path


def free_port() -> int:
    """A port on 127.0.0.1 free right now, for a server that must be told its port before it starts
    (a Prefect server, an SMTP receiver that probes it); ours bind port 0 instead."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class SimulatedWeb:
    """GitHub API, Hugging Face Hub API and the project web, driven by one scenario.

    ``phase`` defaults to the scenario's first phase (the bare base when it has none).
    """

    def __init__(self, scenario: ScenarioLike, phase: str | None = None) -> None:
        loaded = Scenario.coerce(scenario)
        self._state = SimState(loaded, phase if phase is not None else loaded.first_phase)
        self._ports: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "SimulatedWeb":
        """Start listening; returns once all three faces accept connections."""
        if self._thread is not None:
            raise RuntimeError("SimulatedWeb is already running")
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="simweb", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = self._loop = None
        self._ports.clear()

    def __enter__(self) -> "SimulatedWeb":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        faces = {
            "github": GitHubFace(self._state).app(),
            "hub": HubFace(self._state).app(),
            "web": WebFace(self._state).app(),
        }
        for name, app in faces.items():
            runner = web.AppRunner(
                app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT, handler_cancellation=True
            )
            await runner.setup()
            sock = socket.create_server((HOST, 0), backlog=BACKLOG)
            await web.SockSite(runner, sock, backlog=BACKLOG).start()
            self._runners.append(runner)
            self._ports[name] = sock.getsockname()[1]

    async def _shutdown(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    # --- where clients point -------------------------------------------------------------

    def _url(self, face: str) -> str:
        if face not in self._ports:
            raise RuntimeError("SimulatedWeb is not started")
        return f"http://{HOST}:{self._ports[face]}"

    @property
    def github_api_url(self) -> str:
        """For ``Github(base_url=...)``."""
        return self._url("github")

    @property
    def hf_endpoint(self) -> str:
        """For ``HfApi(endpoint=...)``."""
        return self._url("hub")

    @property
    def web_url(self) -> str:
        return self._url("web")

    @property
    def remap_rules(self) -> list[str]:
        """lychee-style ``REGEX REPLACEMENT`` rules sending every http(s) URL to the web face."""
        return [f"^(https?)://(.*)$ {self.web_url}/$1/$2"]

    def mirror_rule(self, site: str) -> str:
        """A rule sending one site (``https://github.com``) to the web face's reverse-proxy form.

        ``https://github.com/acme/old`` goes to ``http://127.0.0.1:PORT/mirror/https/github.com/acme/old``,
        whose redirects into github.com come back as that mirror's own URLs, as a real mirror's do.
        """
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise ValueError(f"mirror_rule: expected a site such as https://github.com, got {site!r}")
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        return f"^{re.escape(origin)}/(.*)$ {self.web_url}/mirror/{parts.scheme}/{parts.netloc.lower()}/$1"

    # --- scenario and observations -------------------------------------------------------

    @property
    def phase(self) -> str | None:
        return self._state.phase

    @property
    def phases(self) -> list[str]:
        return self._state.scenario.phase_names

    def set_phase(self, name: str | None) -> None:
        """Switch phase (None: the bare base); takes effect for the next request."""
        self._state.set_phase(name)

    def load(self, scenario: ScenarioLike, phase: str | None = None) -> None:
        """Replace the scenario; rate-limit windows and counters carry over."""
        loaded = Scenario.coerce(scenario)
        self._state.load(loaded, phase if phase is not None else loaded.first_phase)

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def reset_stats(self) -> None:
        self._state.reset_stats()

    def request_log(self) -> list[RequestRecord]:
        return self._state.request_log()
