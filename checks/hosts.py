"""Politeness per host, as data: how many requests in flight, how far apart, which headers.

A host that answers 429/503 with Retry-After is waited for, and is asked more slowly for
the rest of the run; that memory lives in its gate, not scattered through the checker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SLOWED_MIN_INTERVAL = 1.0  # seconds between requests to a host that asked us to back off


@dataclass(frozen=True)
class HostPolicy:
    """Limits for one host (``max_concurrency`` None means the run's ``per_host``)."""

    max_concurrency: int | None = None
    min_interval: float = 0.0  # seconds between request starts
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"max_concurrency": self.max_concurrency, "min_interval": self.min_interval, "headers": dict(self.headers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "HostPolicy":
        return cls(max_concurrency=data.get("max_concurrency"), min_interval=float(data.get("min_interval", 0.0)),
                   headers=dict(data.get("headers") or {}))


# Hosts whose manners are known, used unless the configuration names them: github.com serves
# repository pages (read without a token, 200-600 KB each) to anonymous visitors and answers a
# burst with 429, so few at a time.
KNOWN_HOSTS: Mapping[str, HostPolicy] = {"github.com": HostPolicy(max_concurrency=4)}


def policy_for(host: str, policies: Mapping[str, HostPolicy]) -> HostPolicy:
    """Exact host first, then the longest ``*.suffix`` pattern, then the known hosts, then the defaults."""
    host = host.lower()
    if host in policies:
        return policies[host]
    best: tuple[int, HostPolicy] | None = None
    for pattern, policy in policies.items():
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            if best is None or len(pattern) > best[0]:
                best = (len(pattern), policy)
    return best[1] if best else KNOWN_HOSTS.get(host, HostPolicy())


class HostGate:
    """Admission to one host: a concurrency limit, a minimum interval, and back-off memory."""

    def __init__(self, policy: HostPolicy, per_host_default: int) -> None:
        self.policy = policy
        self.semaphore = asyncio.Semaphore(policy.max_concurrency or per_host_default)
        self.min_interval = policy.min_interval
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
