"""What a rate-limited answer asks of us, read from its headers: pure functions.

GitHub has two kinds of limits ("Rate limits for the REST API", "Exceeding the rate limit"):
the primary, hourly budget (``X-RateLimit-Remaining: 0``, wait until ``X-RateLimit-Reset``),
and secondary limits against bursts, answered 403 or 429 with "You have exceeded a secondary
rate limit": wait ``Retry-After`` seconds when it is sent; else until ``X-RateLimit-Reset``
when ``X-RateLimit-Remaining`` is 0; else at least a minute. A secondary refusal usually
carries the primary budget's headers with ``Remaining`` above 0, whose ``Reset`` is not when
the refusal ends. A reason built here says only what the answer said.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

SECONDARY_MINIMUM = 60.0  # GitHub: without Retry-After or a spent budget, "wait for at least one minute"


def retry_after_seconds(value: str, now: float | None = None) -> float:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; unreadable is forever."""
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now))
        except (TypeError, ValueError):
            return float("inf")


@dataclass(frozen=True)
class GitHubLimit:
    """One rate-limited GitHub answer: how long it asks us to wait, and those words."""

    seconds: float  # before asking again; inf when the answer does not say
    when: str  # "asked to wait 60 s", "resets at 14:05 UTC", ...
    secondary: bool  # a burst limit, not the hourly budget

    def reason(self, api: str, authenticated: bool) -> str:
        """``not checked: GitHub API rate limit exhausted (no token); resets at 14:05 UTC``, and the like."""
        what = "secondary rate limit hit" if self.secondary else "rate limit exhausted"
        return f"not checked: GitHub {api} {what} ({'token' if authenticated else 'no token'}); {self.when}"


def _clock(at: float, now: float) -> str:
    moment = datetime.fromtimestamp(at, timezone.utc)
    return moment.strftime("%H:%M UTC" if at - now < 20 * 3600 else "%Y-%m-%d %H:%M UTC")


def github_limit(headers: Mapping[str, Any] | None, message: str = "", *, budget: bool = False,
                 now: float | None = None) -> GitHubLimit:
    """Read a rate-limited answer GitHub's way (see the module docstring).

    ``budget``: the caller knows the hourly budget is what ran out (GraphQL's RATE_LIMITED error,
    whose ``Remaining`` may be above 0 but below the query's cost).
    """
    now = time.time() if now is None else now
    lowered = {str(key).lower(): str(value) for key, value in (headers or {}).items()}
    remaining, reset = lowered.get("x-ratelimit-remaining"), lowered.get("x-ratelimit-reset")
    spent = budget or (remaining is not None and remaining.strip() == "0")
    secondary = "secondary rate limit" in message.lower() or (not spent and remaining is not None)
    if "retry-after" in lowered:
        wait = retry_after_seconds(lowered["retry-after"], now)
        if math.isfinite(wait):
            return GitHubLimit(wait, f"asked to wait {wait:.0f} s", secondary)
    if spent and reset is not None:
        try:
            at = float(reset)
        except ValueError:
            pass
        else:
            return GitHubLimit(max(0.0, at - now), f"resets at {_clock(at, now)}", secondary)
    if secondary:
        return GitHubLimit(SECONDARY_MINIMUM, "no wait given (GitHub asks for at least a minute)", True)
    return GitHubLimit(float("inf"), "no reset time given", False)


def is_rate_limit(status: int, message: str) -> bool:
    """A 429, or a 403 whose message names a rate limit (primary or secondary)."""
    return status == 429 or (status == 403 and "rate limit" in message.lower())


def rate_limit_wait(headers: dict[bytes, str], now: float | None = None) -> float | None:
    """Seconds until a spent rate-limit budget resets, from ``X-RateLimit-*`` or IETF ``RateLimit-*`` headers.

    ``None`` unless the host says no requests remain. A reset above 10^9 is an epoch time (GitHub's
    ``X-RateLimit-Reset``), anything smaller a number of seconds (the IETF draft's ``RateLimit-Reset``).
    """
    for remaining_name, reset_name in ((b"x-ratelimit-remaining", b"x-ratelimit-reset"),
                                       (b"ratelimit-remaining", b"ratelimit-reset")):
        remaining, reset = headers.get(remaining_name), headers.get(reset_name)
        if remaining is None or reset is None:
            continue
        try:
            if int(remaining.split(",")[0].strip()) > 0:
                return None
            value = float(reset.split(",")[0].strip())
        except ValueError:
            continue
        if value > 1e9:
            value -= time.time() if now is None else now
        return max(0.0, value)
    return None
