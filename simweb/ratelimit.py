"""Per-client fixed-window budgets, as GitHub (hourly) and the Hub (5 minutes) count them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    reset_at: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    def seconds_left(self, now: float) -> int:
        return max(int(self.reset_at - now), 0)


class Windows:
    """A window opens at a client's first request and refills when it ends.

    The limit is passed on every call rather than stored, so a phase switch or a new
    scenario changes the limit without forgetting what each client already used.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # client -> (used, reset_at)

    def peek(self, client: str, limit: int, window: int) -> Budget:
        with self._lock:
            used, reset_at = self._current(client, window)
            return Budget(limit, used, reset_at)

    def charge(self, client: str, limit: int, window: int, points: int = 1) -> Budget:
        """Spend `points` (one REST call, or a GraphQL query's cost)."""
        with self._lock:
            used, reset_at = self._current(client, window)
            self._windows[client] = (used + points, reset_at)
            return Budget(limit, used + points, reset_at)

    def used(self) -> dict[str, int]:
        """What each client has spent in its current window (tests ask whose budget a client spent)."""
        with self._lock:
            return {client: used for client, (used, _) in sorted(self._windows.items())}

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def _current(self, client: str, window: int) -> tuple[int, int]:
        now = self._clock()
        used, reset_at = self._windows.get(client, (0, 0))
        if now >= reset_at:
            used, reset_at = 0, int(now) + window
            self._windows[client] = (used, reset_at)
        return used, reset_at
