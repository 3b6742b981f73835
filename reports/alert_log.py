"""The alert log: what each run decided (digest, quiet, could not check) and sent, per channel.

A table of its own in the history database, written once per run (a retried step sends nothing
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
from reports.tracking_issue import IssueResult

DIGEST, QUIET, BLIND, BLIND_AGAIN = "digest", "quiet", "could not check", "could not check (repeat)"
EVALUATED = (DIGEST, QUIET)  # outcomes of runs that could check: baselines, and what reminders count


metadata = sa.MetaData()
alert_log = sa.Table(
    "alert_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, unique=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),  # digest, quiet, could not check, could not check (repeat)
    sa.Column("title", sa.Text),
    sa.Column("items", sa.JSON, nullable=False, default=list),  # [{url, change}]
    sa.Column("deliveries", sa.JSON, nullable=False, default=list),  # [{channel (redacted), ok, error}]
    sa.Column("tracking_issue", sa.JSON),  # {action, number, url, error}
)


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
    """What each run decided and sent; its own table beside the store's, created on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

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
                    if any(item["url"] == url and item["change"] in ("newly dead", REMINDER) for item in entry.items)]
        if not mentions or len(evaluated) - mentions[-1] >= every:
            due.append(url)
    return due
