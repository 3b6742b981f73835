"""What clients leave behind in the archives: Save Code Now requests, the visits they make, and budgets.

Kept apart from the scenario (``archive_world``) because clients create it: it outlives phase
switches and ``load()``, as issues opened on the GitHub face do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable

from .archive_world import TERMINAL_TASK, Visit, derived_snapshot
from .ratelimit import Windows


@dataclass(frozen=True)
class SaveRequest:
    """One Save Code Now request; ``step`` indexes ``progress``, the task statuses it walks through."""

    id: int
    origin: str
    visit_type: str
    requested_at: datetime
    accepted: bool
    progress: tuple[str, ...]
    step: int = 0
    visit_date: datetime | None = None

    @property
    def task_status(self) -> str:
        return self.progress[self.step] if self.accepted else "not created"

    @property
    def open(self) -> bool:
        return self.accepted and self.task_status not in TERMINAL_TASK

    @property
    def visit_status(self) -> str | None:
        return {"succeeded": "full", "failed": "failed"}.get(self.task_status)

    @property
    def snapshot(self) -> str | None:
        if self.task_status != "succeeded" or self.visit_date is None:
            return None
        return derived_snapshot(self.origin, self.visit_date)

    def advanced(self, now: datetime) -> SaveRequest:
        """One step further along ``progress``; a terminal step dates the visit."""
        step = min(self.step + 1, len(self.progress) - 1)
        moved = replace(self, step=step)
        return replace(moved, visit_date=now) if moved.task_status in TERMINAL_TASK else moved


class ArchiveBook:
    """Save requests, the visits they made, and each client's archive budgets.

    Like issues on the GitHub face, requests and their visits outlive phase switches and
    ``load()``: an archive does not forget what it saved. ``reset_stats()`` empties the budgets.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, SaveRequest] = {}
        self.api_windows = Windows()  # Software Heritage API, hourly, per client
        self.save_windows = Windows()  # Save Code Now POSTs, hourly, per client
        self.cdx_windows = Windows()  # Wayback CDX, per minute, per client

    def reset_windows(self) -> None:
        for windows in (self.api_windows, self.save_windows, self.cdx_windows):
            windows.reset()

    def submit(self, origin: str, visit_type: str, accepted: bool, progress: tuple[str, ...]) -> SaveRequest:
        """A new request, or the origin's open one (swh-web creates no second task while one is pending)."""
        with self._lock:
            mine = self._of(origin, visit_type)
            if accepted and mine and mine[0].open:
                return mine[0]
            now = _now()
            request = SaveRequest(len(self._requests) + 1, origin, visit_type, now, accepted, progress)
            if request.accepted and not request.open:  # a one-step progress ends at once
                request = replace(request, visit_date=now)
            self._requests[request.id] = request
            return request

    def poll(self, wanted: Callable[[SaveRequest], bool]) -> list[SaveRequest]:
        """The wanted requests, newest first, each open one first moved one step on (one GET, one step)."""
        with self._lock:
            now = _now()
            for request in [r for r in self._requests.values() if wanted(r) and r.open]:
                self._requests[request.id] = request.advanced(now)
            return sorted((r for r in self._requests.values() if wanted(r)), key=lambda r: -r.id)

    def saved_visits(self, origin: str) -> tuple[Visit, ...]:
        """Full visits made by succeeded requests for ``origin``."""
        with self._lock:
            return tuple(
                Visit(date=r.visit_date, status="full")
                for r in self._requests.values()
                if r.origin == origin and r.task_status == "succeeded" and r.visit_date is not None
            )

    def _of(self, origin: str, visit_type: str) -> list[SaveRequest]:
        found = [r for r in self._requests.values() if r.origin == origin and r.visit_type == visit_type]
        return sorted(found, key=lambda r: -r.id)


def _now() -> datetime:
    return datetime.now(timezone.utc)
