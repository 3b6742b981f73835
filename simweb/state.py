"""The mutable side of a simulation: current phase, request log, counters, rate-limit windows.

The faces run on the server's event-loop thread while tests switch phases and read
counters from theirs, so every read and write goes through one lock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from .archive_book import ArchiveBook
from .archive_world import ARCHIVE_HOSTS
from .issues import IssueBook
from .ratelimit import Windows
from .scenario import Scenario
from .world import World

FACES = ("github", "graphql", "hub", "web")  # graphql: POST /graphql on the GitHub face, its own budget
ARCHIVE = "archive"  # the archives' hosts on the web face, counted apart (see simweb.archives)
LOG_SIZE = 10_000


@dataclass(frozen=True)
class RequestRecord:
    face: str  # github, graphql, hub, web or archive
    method: str
    url: str  # path and query on the face; the logical URL on the web face
    client: str  # token or "anonymous"; the host on the web and archive faces
    status: int | None  # None when the connection was dropped
    points: int  # rate-limit points charged
    at: float


class SimState:
    def __init__(self, scenario: Scenario, phase: str | None) -> None:
        self._lock = threading.Lock()
        self._scenario = scenario
        self._phase = phase
        self._world = scenario.world(phase)
        self._log: deque[RequestRecord] = deque(maxlen=LOG_SIZE)
        self._requests: Counter[tuple[str, str]] = Counter()
        self._points: Counter[tuple[str, str]] = Counter()
        self.github_windows = Windows()
        self.graphql_windows = Windows()
        self.hub_windows = Windows()
        self.secondary_windows = Windows()  # GitHub's burst limit, REST and GraphQL together
        self._attempts: Counter[tuple[str, str, str]] = Counter()
        self.issues = IssueBook()
        self.archives = ArchiveBook()  # save requests outlive phases and load(), as issues do
        self._saves: Counter[str] = Counter()  # Save Code Now POSTs per archive host

    @property
    def world(self) -> World:
        with self._lock:
            return self._world

    @property
    def phase(self) -> str | None:
        with self._lock:
            return self._phase

    @property
    def scenario(self) -> Scenario:
        with self._lock:
            return self._scenario

    def set_phase(self, phase: str | None) -> None:
        with self._lock:
            self._world = self._scenario.world(phase)
            self._phase = phase
            self._attempts.clear()

    def load(self, scenario: Scenario, phase: str | None) -> None:
        """A new world; issues opened through the API stay, as they would on GitHub."""
        with self._lock:
            self._world = scenario.world(phase)
            self._scenario, self._phase = scenario, phase
            self._attempts.clear()

    def count_attempt(self, face: str, method: str, url: str) -> int:
        """How many times this exact request was made before, since the world was loaded."""
        with self._lock:
            key = (face, method, url)
            seen = self._attempts[key]
            self._attempts[key] = seen + 1
            return seen

    def record(
        self, face: str, method: str, url: str, client: str, status: int | None, points: int = 0, save: bool = False
    ) -> None:
        """Log one request; ``save`` marks a Save Code Now POST (``client`` is then the archive's host)."""
        entry = RequestRecord(face, method, url, client, status, points, time.time())
        with self._lock:
            self._log.append(entry)
            self._requests[(face, client)] += 1
            self._points[(face, client)] += points
            if save:
                self._saves[client] += 1

    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        """Requests per face, and per client (per host on the web face) with points charged."""
        with self._lock:
            result: dict[str, Any] = {"phase": self._phase}
            for face in FACES:
                group = "hosts" if face == "web" else "clients"
                keys = sorted(client for f, client in self._requests if f == face)
                result[face] = {
                    "requests": sum(n for (f, _), n in self._requests.items() if f == face),
                    group: {
                        k: {"requests": self._requests[(face, k)], "points": self._points[(face, k)]} for k in keys
                    },
                }
            result[ARCHIVE] = self._archive_stats()
            return result

    def _archive_stats(self) -> dict[str, Any]:
        """Requests and Save Code Now POSTs per archive host; every host listed, asked or not."""
        hosts = {h: {"requests": self._requests[(ARCHIVE, h)], "saves": self._saves[h]} for h in ARCHIVE_HOSTS}
        return {"requests": sum(n for (f, _), n in self._requests.items() if f == ARCHIVE), "hosts": hosts,
                # whose hourly Software Heritage budget was spent: a Bearer token, or "anonymous"
                "software_heritage_budgets": self.archives.api_windows.used()}

    def reset_stats(self) -> None:
        """Forget the log, the counters and every client's used rate-limit budget."""
        with self._lock:
            self._log.clear()
            self._requests.clear()
            self._points.clear()
            self._saves.clear()
        self.archives.reset_windows()
        self.github_windows.reset()
        self.graphql_windows.reset()
        self.hub_windows.reset()
        self.secondary_windows.reset()
