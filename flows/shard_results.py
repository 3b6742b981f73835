"""Where shard flow runs leave their checked batches for the run that started them.

Child runs may execute on other machines, so their results cannot travel through Prefect's
default (local) result storage. The history database is the one place every worker already
reaches, so each shard writes one row here (in its own table, beside the history store's tables)
and the parent reads and then deletes it. On several machines that database is PostgreSQL.

    paperwatch_shard_results   run_id, shard, flow_run_id, batches (JSON), written_at
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa

from flows.batch_plan import CheckedBatch
from reports.store import Store

metadata = sa.MetaData()
shard_results = sa.Table(
    "paperwatch_shard_results", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("batches", sa.JSON, nullable=False),
    sa.Column("written_at", sa.String(40), nullable=False),
)


def _open(db: str) -> Store:
    store = Store.open(db)
    shard_results.create(store.engine, checkfirst=True)
    return store


def prepare(db: str, run_id: int) -> None:
    """Create the table if needed and forget anything an earlier attempt of this run left."""
    store = _open(db)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.delete(shard_results).where(shard_results.c.run_id == run_id))
    finally:
        store.close()


def write(db: str, run_id: int, shard: int, flow_run_id: str | None, batches: Sequence[CheckedBatch]) -> None:
    """One shard's batches, in one transaction; a retried shard replaces its earlier row."""
    store = _open(db)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.delete(shard_results).where(shard_results.c.run_id == run_id, shard_results.c.shard == shard))
            conn.execute(sa.insert(shard_results).values(
                run_id=run_id, shard=shard, flow_run_id=flow_run_id, batches=[b.to_dict() for b in batches],
                written_at=datetime.now(timezone.utc).isoformat()))
    finally:
        store.close()


def read(db: str, run_id: int, shards: Sequence[int]) -> dict[int, list[CheckedBatch]]:
    """The batches of those shards that have written theirs."""
    store = _open(db)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(shard_results.c.shard, shard_results.c.batches)
                                .where(shard_results.c.run_id == run_id, shard_results.c.shard.in_(list(shards)))).all()
    finally:
        store.close()
    return {row.shard: [CheckedBatch.from_dict(b) for b in row.batches] for row in rows}


def clear(db: str, run_id: int) -> None:
    prepare(db, run_id)
