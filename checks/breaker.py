"""Stop asking a service that is clearly out of reach or out of budget.

One dropped connection is the answer for one link; several in a row, or a spent rate
limit, mean every further request would fail too, so the remaining links are reported
``unknown`` with the reason, without spending time or budget on them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from checks.model import Observation


class Breaker:
    def __init__(self, threshold: int = 3) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._consecutive = 0
        self._reason: str | None = None

    @property
    def reason(self) -> str | None:
        """Why requests stopped, or None while they go on."""
        return self._reason

    def trip(self, reason: str) -> None:
        with self._lock:
            self._reason = self._reason or reason

    def failure(self, reason: str) -> None:
        with self._lock:
            self._consecutive += 1
            if self._consecutive >= self.threshold:
                self._reason = self._reason or reason

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def guarded(self, check: Callable[[], Observation], skipped: Callable[[str], Observation]) -> Observation:
        """``check()``, or ``skipped(reason)`` once requests have stopped. Any HTTP answer shows the
        service is reachable, and resets the count of failures in a row."""
        reason = self._reason
        if reason:
            return skipped(reason)
        observation = check()
        if observation.evidence.status_code is not None:
            self.success()
        return observation
