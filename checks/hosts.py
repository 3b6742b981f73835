"""Admission to one host during a run: how many requests in flight, how far apart, and back-off memory.

The limits come from the host's rule (``checks.host_rules``: data); this is where they are
applied. A host that answers 429/503 with Retry-After is waited for, and is asked more slowly
for the rest of the run; that memory lives in its gate, not scattered through the checker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from checks.host_rules import HostRule

SLOWED_MIN_INTERVAL = 1.0  # seconds between requests to a host that asked us to back off


class HostGate:
    """Admission to one host: a concurrency limit, a minimum interval, and back-off memory."""

    def __init__(self, rule: HostRule, per_host_default: int) -> None:
        self.rule = rule
        self.semaphore = asyncio.Semaphore(rule.max_concurrency or per_host_default)
        self.min_interval = rule.min_interval or 0.0
        self.not_before = 0.0
        self._next_start = 0.0
        self._lock = asyncio.Lock()
        self.slowed = False
        self.headers: Any = None  # the request headers for this host, built by the checker on first use

    async def __aenter__(self) -> "HostGate":
        await self.semaphore.acquire()
        try:
            await self._wait_turn()
        except BaseException:
            self.semaphore.release()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.semaphore.release()

    async def _wait_turn(self) -> None:
        if not self.min_interval and self.not_before <= time.monotonic():
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start, self.not_before)
            self._next_start = start + self.min_interval
        if start > now:
            await asyncio.sleep(start - now)

    def back_off(self, seconds: float) -> None:
        """The host asked us to wait: nobody asks it before then, and later requests are spaced out."""
        self.not_before = max(self.not_before, time.monotonic() + seconds)
        self.min_interval = max(self.min_interval, SLOWED_MIN_INTERVAL)
        self.slowed = True
