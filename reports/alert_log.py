"""The alert log: what each run decided (digest, quiet, could not check) and sent, per channel.

The store's ``alert_log`` table, written once per run (a retried step sends nothing
twice); it gives reminders their count and the last run that could check its baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reports.delivery import Delivery
from reports.digest import REMINDER, Digest
from reports.schema import alert_log
from reports.tracking_issue import IssueResult
from reports.vocabulary import Change

DIGEST, QUIET, BLIND, BLIND_AGAIN = "digest", "quiet", "could not check", "could not check (repeat)"
EVALUATED = (DIGEST, QUIET)  # outcomes of runs that could check: baselines, and what reminders count


@dataclass(frozen=True)
class LogEntry:
    run_id: int
    outcome: str
    title: str | None
    items: list[dict[str, str]]
    deliveries: list[dict[str, Any]]
    tracking_issue: dict[str, Any] | None

    @property
    def changes(self) -> list[tuple[str, str]]:
        """(change, url) of each item, as a test or a person reads the log."""
        return [(item["change"], item["url"]) for item in self.items]


class AlertLog:
    """What each run decided and sent, in the store's ``alert_log`` table (``reports.schema``, made by its migrations)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self, query: sa.Select[Any]) -> list[LogEntry]:
        with self.engine.connect() as conn:
            return [LogEntry(row.run_id, row.outcome, row.title, list(row.items or []), list(row.deliveries or []),
                             row.tracking_issue) for row in conn.execute(query.order_by(alert_log.c.run_id))]

    def entries(self, before_run: int | None = None) -> list[LogEntry]:
        query = sa.select(alert_log)
        return self._read(query if before_run is None else query.where(alert_log.c.run_id < before_run))

    def entry(self, run_id: int) -> LogEntry | None:
        found = self._read(sa.select(alert_log).where(alert_log.c.run_id == run_id))
        return found[0] if found else None

    def record(self, run_id: int, outcome: str, digest: Digest | None, deliveries: Sequence[Delivery],
               issue: IssueResult | None) -> bool:
        """Record a run's outcome once; False when the run was already recorded (a retried step sends nothing twice)."""
        row = dict(run_id=run_id, recorded_at=datetime.now(timezone.utc).isoformat(), outcome=outcome,
                   title=digest.title if digest else None,
                   items=[{"url": i.url, "change": i.change} for i in (digest.items if digest else ())],
                   deliveries=[d.to_dict() for d in deliveries], tracking_issue=issue.to_dict() if issue else None)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(alert_log).values(**row))
        except sa.exc.IntegrityError:
            return False
        return True


def reminders_due(history: Sequence[LogEntry], dead: Sequence[str], every: int) -> list[str]:
    """Dead links last announced at least ``every`` runs that could check ago (this one included)."""
    if every <= 0:
        return []
    evaluated = [entry for entry in history if entry.outcome in EVALUATED]
    due = []
    for url in dead:
        mentions = [i for i, entry in enumerate(evaluated)
                    if any(item["url"] == url and item["change"] in (Change.NEWLY_DEAD, REMINDER) for item in entry.items)]
        if not mentions or len(evaluated) - mentions[-1] >= every:
            due.append(url)
    return due
