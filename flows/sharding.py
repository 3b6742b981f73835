"""Scale-out: a ``monitor`` run splits its links into shards, each a child flow run of the
``check-shard/paperwatch-shard`` deployment, so the workers polling that deployment's work pool,
on any machine, share one run: each child runs once, on whichever worker with a free slot asks
first (Prefect's scheduling, not an even split).

A shard is a set of whole groups: all pages of a host (its politeness limit holds), or a piece of
the GitHub or Hugging Face API work (their budgets are shared through Prefect global concurrency
limits, see ``flows.batches``). Groups go to the least-loaded shard, largest first. Children check
their share in batch tasks and leave the raw batches in the history database
(``flows.shard_results``); the parent merges them exactly as it merges its own batches, so the
outage judgement and the report see the whole run. A child that fails, crashes or is not picked
up in time leaves its links ``unknown``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from checks.model import Link
from checks.plan import CheckPlan
from checks.settings import CheckSettings
from flows import shard_results
from flows.batch_plan import BATCH_SIZE, CheckedBatch, CheckOutcome, by_host, chunks, page_links, plan_batches
from flows.batches import RunProgress, check_links, merge, run_batches, unchecked, untraversed
from flows.run_tasks import load_token_secret, stored_metadata

SHARD_DEPLOYMENT = "check-shard/paperwatch-shard"
SHARD_TIMEOUT = 6 * 3600  # seconds the parent waits for its children before calling their links unknown
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Group:
    """Links that stay together: one host's pages, or one piece of an API's work."""

    api: str  # pages, github, huggingface
    name: str  # the host, or "GitHub API" / "Hugging Face API"
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based
    groups: tuple[Group, ...]

    @property
    def size(self) -> int:
        return sum(len(g.links) for g in self.groups)

    def work(self) -> dict[str, list[dict[str, Any]]]:
        """The shard's links by API, as the child flow's ``work`` parameter (plain JSON)."""
        return {api: [link.to_dict() for g in self.groups if g.api == api for link in g.links]
                for api in ("pages", "github", "huggingface")}

    def describe(self) -> str:
        apis = [f"{g.name} {len(g.links)}" for g in self.groups if g.api != "pages"]
        hosts = [g.name for g in self.groups if g.api == "pages"]
        parts = apis + ([f"{len(hosts)} host{'s' if len(hosts) != 1 else ''} ({', '.join(hosts[:3])}"
                         f"{', …' if len(hosts) > 3 else ''})"] if hosts else [])
        return f"shard {self.number}: {self.size} links: " + "; ".join(parts)


def plan_shards(plan: CheckPlan, count: int, with_token: bool, size: int = BATCH_SIZE) -> list[Shard]:
    """At most ``count`` shards, balanced by link count (largest group first to the lightest shard)."""
    groups = [Group("pages", host, tuple(links)) for host, links in by_host(page_links(plan, with_token)).items()]
    groups += [Group("github", "GitHub API", piece) for piece in chunks(plan.github, size)]
    groups += [Group("huggingface", "Hugging Face API", piece) for piece in chunks(plan.huggingface, size)]
    loads: list[list[Group]] = [[] for _ in range(max(1, min(count, len(groups))))]
    for group in sorted(groups, key=lambda g: (-len(g.links), g.api, g.name)):
        min(loads, key=lambda shard: sum(len(g.links) for g in shard)).append(group)
    return [Shard(number, tuple(shard)) for number, shard in enumerate(loads, 1) if shard]


def _links(work: Mapping[str, Sequence[Mapping[str, Any]]], api: str) -> list[Link]:
    return [Link.from_dict(link) for link in work.get(api, ())]


@flow(name="check-shard", description="Check one shard of a paperwatch run's links and hand the batches to its parent.")
def check_shard(db: str, run_id: int, shard: int, settings: dict[str, Any] | None = None,
                github_token_secret: str | None = None) -> dict[str, Any]:
    """Started by a sharded ``monitor`` run through ``run_deployment``; not meant to be run by hand.

    Args:
        db: The history database of the parent run (PostgreSQL when workers are on several machines).
        run_id: The parent's run in that database.
        shard: This shard's number in the parent's shard plan; its links (by API, as ``Link.to_dict()``)
            are in the database, where the parent wrote them (``flows.shard_results``).
        settings: ``CheckSettings.to_dict()`` of the parent; tokens come from this worker's environment.
        github_token_secret: Name of a Prefect Secret block with the GitHub token, if the environment has none.
    """
    work = shard_results.read_work(db, run_id, shard)
    if work is None:
        raise RuntimeError(f"run {run_id} has no links for shard {shard} in {db}: its parent has finished or never wrote them")
    check_settings = CheckSettings.from_dict(settings) if settings else CheckSettings.from_environment()
    if github_token_secret and not check_settings.github_token():
        load_token_secret(github_token_secret, check_settings.github_token_env)
    pages, github, hub = _links(work, "pages"), _links(work, "github"), _links(work, "huggingface")
    previous = stored_metadata(db, untraversed([link.normalized for link in github])) if github else {}
    checked = run_batches(plan_batches(pages, github, hub), check_settings, previous)
    hand_over(db, run_id, shard, flow_run.get_id(), untraversed(checked))
    links = len(pages) + len(github) + len(hub)
    get_run_logger().info("shard %d of run %d: %d links checked, batches handed to the parent", shard, run_id, links)
    return {"run_id": run_id, "shard": shard, "links": links, "batches": len(checked)}


@task(name="hand batches to the parent run", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def hand_over(db: str, run_id: int, shard: int, flow_run_id: str | None, checked: list[CheckedBatch]) -> None:
    """The shard's only write: its batches, for the parent to merge (a lock wait or a dropped
    connection is retried rather than losing the shard's work)."""
    shard_results.write(db, run_id, shard, flow_run_id, checked)


def check_in_shards(plan: CheckPlan, count: int, db: str, run_id: int, settings: CheckSettings,
                    github_token_secret: str | None = None, deployment: str = SHARD_DEPLOYMENT,
                    timeout: float = SHARD_TIMEOUT) -> CheckOutcome:
    """Start one child flow run per shard, wait for all, merge their batches into one outcome.

    Without the shard deployment on the server (a run outside any deployment, say) the run checks
    its links in its own batch tasks instead, and says so."""
    logger = get_run_logger()
    if not _deployed(deployment):
        logger.warning("deployment %s not found: checking in this run's own tasks instead of %d shards", deployment, count)
        outcome = check_links(plan, settings, stored_metadata(db, untraversed([link.normalized for link in plan.github])))
        outcome.notes.insert(0, f"not sharded: the deployment {deployment} was not found")
        return outcome
    shards = plan_shards(plan, count, bool(settings.github_token()))
    plan_line = f"checked in {len(shards)} shard{'s' if len(shards) != 1 else ''} (child runs of {deployment}): " + \
        " | ".join(shard.describe() for shard in shards)
    logger.info(plan_line)
    create_table_artifact(key="paperwatch-shard-plan", description=f"How run {run_id}'s links were split",
                          table=[{"shard": s.number, "links": s.size, "work": s.describe().split(": ", 2)[-1]}
                                 for s in shards])
    shard_results.prepare(db, run_id)
    shard_results.write_work(db, run_id, {shard.number: shard.work() for shard in shards})
    children = _start_children(shards, db, run_id, settings, github_token_secret, deployment)
    ended = _wait(children, shards, timeout)
    found = shard_results.read(db, run_id, [s.number for s in shards])
    shard_results.clear(db, run_id)
    checked: list[CheckedBatch] = []
    notes = [plan_line]
    for shard in shards:
        if shard.number in found:
            checked += found[shard.number]
            continue
        why = f"shard {shard.number} ({ended.get(shard.number, 'not finished in time')}) handed back nothing"
        logger.warning("%s: its %d links are unknown", why, shard.size)
        notes.append(f"{why}; its {shard.size} links are unknown")
        for api in ("pages", "github", "huggingface"):
            links = [link for g in shard.groups if g.api == api for link in g.links]
            if links:
                checked.append(unchecked(api, links, why))
    outcome = merge(checked, plan, settings)
    outcome.notes = notes + outcome.notes
    return outcome


def _deployed(deployment: str) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return False
    return True


def _start_children(shards: Sequence[Shard], db: str, run_id: int, settings: CheckSettings,
                    github_token_secret: str | None, deployment: str) -> dict[int, UUID]:
    from prefect.deployments import run_deployment

    parent = flow_run.get_id() or "local"
    children: dict[int, UUID] = {}
    for shard in shards:
        child = run_deployment(
            deployment, timeout=0, as_subflow=True,  # no tags: task runs inherit them, and each tag costs an API call
            flow_run_name=f"run {run_id} shard {shard.number}/{len(shards)}",
            idempotency_key=f"{parent}:{run_id}:{shard.number}",
            parameters={"db": db, "run_id": run_id, "shard": shard.number, "settings": settings.to_dict(),
                        "github_token_secret": github_token_secret})
        children[shard.number] = child.id
    return children


def _wait(children: Mapping[int, UUID], shards: Sequence[Shard], timeout: float) -> dict[int, str]:
    """Poll the children until each has ended or time is up; returns how each ended (state and message)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.states import Cancelling

    logger = get_run_logger()
    sizes = {s.number: s.size for s in shards}
    progress = RunProgress(sum(sizes.values()), len(shards), unit="shards")
    numbers = {flow_run_id: number for number, flow_run_id in children.items()}
    ended: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while len(ended) < len(children):
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(children.values()))))
            for run in runs:
                number = numbers[run.id]
                if number not in ended and run.state is not None and run.state.is_final():
                    ended[number] = f"flow run {run.name} {run.state.name}" + (f": {run.state.message}" if run.state.message else "")
                    progress.advance(sizes[number], ended[number])
            if len(ended) == len(children):
                break
            if time.monotonic() > deadline:
                for number, flow_run_id in children.items():
                    if number not in ended:
                        logger.warning("shard %d not finished after %.0f s: cancelling flow run %s", number, timeout, flow_run_id)
                        client.set_flow_run_state(flow_run_id, Cancelling(), force=True)
                break
            time.sleep(POLL_SECONDS)
    return ended
