"""Where a sharded run and its shard flow runs hand each other work: links out, checked batches back.

Child runs may execute on other machines, so their results cannot travel through Prefect's
default (local) result storage, and their links cannot travel as parameters (Prefect refuses
flow run parameters over 512 KB: about 2,600 links). The history database is the one place every
worker already reaches: the parent writes each shard's links in ``paperwatch_shard_work``, each
shard writes one row of batches in ``paperwatch_shard_results`` (tables of the history schema,
``reports.schema``), and the parent reads and then deletes both. On several machines that
database is PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flows.batch_plan import CheckedBatch
from reports.schema import shard_results, shard_work
from reports.store import Store


def prepare(db: str, run_id: int) -> None:
    """Forget anything an earlier attempt of this run left."""
    with Store.open(db) as store, store.engine.begin() as conn:
        conn.execute(sa.delete(shard_results).where(shard_results.c.run_id == run_id))
        conn.execute(sa.delete(shard_work).where(shard_work.c.run_id == run_id))


def write_work(db: str, run_id: int, work: Mapping[int, Mapping[str, Any]]) -> None:
    """Every shard's links (``Shard.work()`` by shard number), in one transaction, after ``prepare`` and
    before any shard starts."""
    written_at = datetime.now(timezone.utc).isoformat()
    with Store.open(db) as store, store.engine.begin() as conn:
        conn.execute(sa.insert(shard_work), [{"run_id": run_id, "shard": shard, "work": dict(links), "written_at": written_at}
                                             for shard, links in work.items()])


def read_work(db: str, run_id: int, shard: int) -> dict[str, Any] | None:
    """One shard's links; None when its parent has not written them (or has cleared them: the run is over)."""
    with Store.open(db) as store, store.engine.connect() as conn:
        work = conn.execute(sa.select(shard_work.c.work)
                            .where(shard_work.c.run_id == run_id, shard_work.c.shard == shard)).scalar()
    return dict(work) if work is not None else None


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
