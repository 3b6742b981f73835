"""Where shard flow runs leave their checked batches for the run that started them.

Child runs may execute on other machines, so their results cannot travel through Prefect's
default (local) result storage. The history database is the one place every worker already
reaches, so each shard writes one row in ``paperwatch_shard_results`` (a table of the history
schema, ``reports.schema.shard_results``) and the parent reads and then deletes it. On several
machines that database is PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa

from flows.batch_plan import CheckedBatch
from reports.schema import shard_results
from reports.store import Store


def prepare(db: str, run_id: int) -> None:
    """Forget anything an earlier attempt of this run left."""
    with Store.open(db) as store, store.engine.begin() as conn:
        conn.execute(sa.delete(shard_results).where(shard_results.c.run_id == run_id))


def write(db: str, run_id: int, shard: int, flow_run_id: str | None, batches: Sequence[CheckedBatch]) -> None:
    """One shard's batches, in one transaction; a retried shard replaces its earlier row."""
    with Store.open(db) as store, store.engine.begin() as conn:
        conn.execute(sa.delete(shard_results).where(shard_results.c.run_id == run_id, shard_results.c.shard == shard))
        conn.execute(sa.insert(shard_results).values(
            run_id=run_id, shard=shard, flow_run_id=flow_run_id, batches=[b.to_dict() for b in batches],
            written_at=datetime.now(timezone.utc).isoformat()))


def read(db: str, run_id: int, shards: Sequence[int]) -> dict[int, list[CheckedBatch]]:
    """The batches of those shards that have written theirs."""
    with Store.open(db) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.select(shard_results.c.shard, shard_results.c.batches)
                            .where(shard_results.c.run_id == run_id, shard_results.c.shard.in_(list(shards)))).all()
    return {row.shard: [CheckedBatch.from_dict(b) for b in row.batches] for row in rows}


def clear(db: str, run_id: int) -> None:
    prepare(db, run_id)
