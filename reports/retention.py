"""Retention arithmetic: roll raw observations into daily summaries and read them back as history.

A daily summary holds, per link, UTC day and state, how many runs saw that state and the start
times of the first and last of them. That is what the verdicts need once raw rows are gone:
exact counts per day for uptime, and exact first/last times for "last alive" and "dead since".
Pure functions; the store does the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_KEEP_DAYS = 365


@dataclass(frozen=True)
class DaySummary:
    """How often one link was seen in one state on one UTC day, and when first and last."""

    link_id: int
    day: str  # YYYY-MM-DD (UTC)
    state: str
    seen: int  # runs that saw this state that day
    first_at: str  # ISO start time of the first run that day that saw this state
    last_at: str  # ... and of the last

    @property
    def key(self) -> tuple[int, str, str]:
        return self.link_id, self.day, self.state


def merge(summaries: Iterable[DaySummary]) -> dict[tuple[int, str, str], DaySummary]:
    """Combine summaries of the same link, day and state (a day pruned in two steps stays one row)."""
    merged: dict[tuple[int, str, str], DaySummary] = {}
    for item in summaries:
        old = merged.get(item.key)
        if old is None:
            merged[item.key] = item
            continue
        first = min(old.first_at, item.first_at, key=datetime.fromisoformat)
        last = max(old.last_at, item.last_at, key=datetime.fromisoformat)
        merged[item.key] = DaySummary(item.link_id, item.day, item.state, old.seen + item.seen, first, last)
    return merged


def spread(seen: int, first_at: str, last_at: str) -> list[datetime]:
    """The times a summary stands for: its first and last exactly, the others evenly between.

    With at most two runs a day per state (the usual daily schedule) this is the exact history;
    otherwise only the order of same-state runs inside one day is approximated.
    """
    first, last = datetime.fromisoformat(first_at), datetime.fromisoformat(last_at)
    if seen <= 1:
        return [first]
    step = (last - first) / (seen - 1)
    return [first + step * i for i in range(seen - 1)] + [last]


def cutoff(now: datetime, keep_days: int) -> datetime:
    """Observations of runs started before this instant are summarized."""
    if keep_days < 0:
        raise ValueError(f"keep_days must be 0 or more, not {keep_days}")
    return now - timedelta(days=keep_days)
