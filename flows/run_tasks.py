"""The run's bookkeeping tasks, shared by the ``monitor`` flow and the ``check-shard`` child flow:
open a run, read the facts stored for conditional requests, record observations, load a token from
a Prefect Secret block, and label a run that ended early. Each opens the history store for its
step only (``with Store.open(db) as store``), so tasks stay plain functions over plain data.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE

from checks.daily import is_daily_source
from checks.facts import Facts
from checks.model import Observation, Paper
from reports.store import Store, StoreError


def source_digest(sources: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        if source != "-" and not is_daily_source(source):
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()


@task(name="start run", cache_policy=NO_CACHE)
def start_run(db: str, sources: Sequence[str], papers: Sequence[Paper], flow_run_id: str | None,
              readings: Sequence[dict[str, Any]] = ()) -> int:
    """The run row, its owner, its papers and how its inputs were read in one transaction: never a
    run without its watched set."""
    with Store.open(db) as store:
        return store.start_run(list(sources), source_digest(sources), flow_run_id, watched=papers, readings=readings)


@task(name="load stored repository metadata", cache_policy=NO_CACHE)
def stored_metadata(db: str, urls: Sequence[str]) -> dict[str, Facts]:
    with Store.open(db) as store:
        return store.latest_details(urls)


@task(name="record observations", cache_policy=NO_CACHE)
def record_observations(db: str, run_id: int, observations: Sequence[Observation]) -> int:
    with Store.open(db) as store:
        return store.record_observations(run_id, observations)


def load_token_secret(block_name: str, env_var: str) -> None:
    """Put a Prefect Secret block's token where the checkers read tokens, for this run's process only."""
    os.environ[env_var] = Secret.load(block_name, _sync=True).get()


def mark_failed(db: str, run_id: int) -> None:
    """Label the run as it ended; called while its exception propagates, which this never replaces.

    Ctrl-C (KeyboardInterrupt) or a SystemExit is ``interrupted``; any other exception ``failed``.
    """
    exc = sys.exc_info()[1]
    stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
    why = f" ({type(exc).__name__})" if exc is not None else ""
    try:
        with Store.open(db) as store:
            store.finish_run(run_id, status="interrupted" if stopped else "failed", offline=False,
                             notes=[f"the run {'was interrupted' if stopped else 'failed'}{why} before its report was written"])
    except StoreError as error:
        get_run_logger().warning("run %d could not be marked as ended: %s", run_id, error)
