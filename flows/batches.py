"""Check work as batch tasks: web pages by host, GitHub and Hugging Face by API.

One Prefect task per URL costs the API server ~25 ms of CPU per task run (see STACK-NOTES), so
a run checks hundreds of links per task: pages run in lanes of large batches that interleave many
hosts, each host in one lane only, so its politeness limit holds (``flows.batch_plan``); GitHub
and Hub links are cut into batches of ``BATCH_SIZE``. Tasks take and return plain data
(``CheckedBatch``), so a batch checked in another process (a shard, see ``flows.sharding``)
merges exactly like a local one.

The outage judgement ("nothing answered: our network is down, call failures unknown") needs the
whole run, so page batches hand back their failures unjudged and ``merge`` judges once. A batch
task that fails outright degrades its links to ``unknown``; the run still records and reports.

API budgets are shared by every concurrent run through Prefect global concurrency limits, created
on first use (``ensure_limits``) and tunable with ``prefect gcl update``:

- ``paperwatch-github``: one GitHub batch at a time (one token's budget; GitHub asks clients not
  to send concurrent requests with one token);
- ``paperwatch-github-points``: GraphQL points an hour (a token batch of 100 repositories costs 1);
- ``paperwatch-huggingface``: Hub API requests per five minutes (one a link).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import concurrency, rate_limit
from prefect.context import FlowRunContext, TaskRunContext
from prefect.futures import PrefectFuture, as_completed

from prefect.states import Completed
from prefect.states import State as RunState

# Prefect walks every task parameter looking for futures (3 s for 10,000 observations); large inputs
# are passed as ``untraversed(value)``, which skips the walk and keeps the dependency edge in the UI.
try:
    from prefect.utilities.annotations import opaque as untraversed
except ImportError:  # older Prefect 3: quote also skips the walk, but the UI loses the dependency edge
    from prefect.utilities.annotations import quote as untraversed

from checks.facts import Facts, PageFacts
from checks.github import check_repos, merge_page_and_api
from checks.http import OutageEvidence, PageChecker, PageCheckResult, judge_outage
from checks.huggingface import check_artifacts
from checks.model import Evidence, Link, Observation, State
from checks.plan import CheckPlan
from checks.repo_facts import pages_source_repo
from checks.settings import CheckSettings
from flows.batch_plan import BATCH_SIZE, Batch, CheckedBatch, CheckOutcome, page_links, plan_batches
from flows import progress as link_progress

GITHUB_LIMIT = "paperwatch-github"
GITHUB_POINTS_LIMIT = "paperwatch-github-points"
HF_LIMIT = "paperwatch-huggingface"
# name: (slots, slots freed per second; 0 for a plain concurrency limit)
GLOBAL_LIMITS: dict[str, tuple[int, float]] = {
    GITHUB_LIMIT: (1, 0.0),
    GITHUB_POINTS_LIMIT: (5000, 5000 / 3600),
    HF_LIMIT: (1000, 1000 / 300),
}
PAGE_TIMEOUT = 3 * 3600  # seconds: a backstop; each URL is already bounded by total_timeout
API_TIMEOUT = 6 * 3600  # includes waiting for the shared API budget
CHECKERS = {"pages": "http", "github": "github", "huggingface": "huggingface"}


def _count_links() -> Callable[[Observation], None] | None:
    """The checkers' ``on_done`` for this attempt of a batch task: counts each checked link on the
    progress channel of the flow run that submitted the task, when that run draws a bar in this
    process (``run_batches`` on a terminal); None elsewhere (a worker, CI), at no cost."""
    context = TaskRunContext.get()
    links = link_progress.channel(str(context.task_run.flow_run_id)) if context else None
    return links.part(str(context.task_run.id)) if links and context else None


# The batch tasks are coroutines so that their timeouts can cancel them (a timeout cannot stop a
# synchronous task in a worker thread); the GitHub and Hub clients are synchronous and run in a thread.
# They carry no tags: Prefect asks the API for tag concurrency limits before each tagged task run starts,
# which cost seconds under load (bench/flow_bench.py); the API budgets use global limits instead.
@task(name="check web pages", retries=1, retry_delay_seconds=10, timeout_seconds=PAGE_TIMEOUT, cache_policy=NO_CACHE)
async def check_page_batch(urls: list[str], settings: CheckSettings) -> CheckedBatch:
    """Pages of a few hosts; failures stay unjudged until the whole run is in."""
    checker = PageChecker(settings, _count_links(), judge=False)
    result = await checker.run(urls)
    return CheckedBatch("pages", result.observations, network_failures=tuple(sorted(checker.network_failures)),
                        nxdomain=tuple(sorted(checker.nxdomain)), responses_seen=checker.responses_seen,
                        canaries_after=checker.canaries_after, offline=result.offline, notes=result.notes)


@task(name="check GitHub repositories", retries=1, retry_delay_seconds=30, timeout_seconds=API_TIMEOUT,
      cache_policy=NO_CACHE)
async def check_github_batch(links: list[Link], settings: CheckSettings, previous: dict[str, Facts]) -> CheckedBatch:
    """One batch at a time across all runs; with a token, GraphQL points are counted against the hour."""
    async with concurrency(GITHUB_LIMIT, occupy=1):
        if settings.github_token():
            await rate_limit(GITHUB_POINTS_LIMIT,
                             occupy=min(math.ceil(len(links) / 100), GLOBAL_LIMITS[GITHUB_POINTS_LIMIT][0]))
        on_done = _count_links()
        return CheckedBatch("github", tuple(await asyncio.to_thread(check_repos, links, settings, on_done, previous)))


@task(name="check Hugging Face artifacts", retries=1, retry_delay_seconds=30, timeout_seconds=API_TIMEOUT,
      cache_policy=NO_CACHE)
async def check_hub_batch(links: list[Link], settings: CheckSettings) -> CheckedBatch:
    """One Hub request a link, counted against the budget every concurrent run shares."""
    await rate_limit(HF_LIMIT, occupy=min(len(links), GLOBAL_LIMITS[HF_LIMIT][0]))
    on_done = _count_links()
    return CheckedBatch("huggingface", tuple(await asyncio.to_thread(check_artifacts, links, settings, on_done)))


def ensure_limits(limits: Mapping[str, tuple[int, float]] = GLOBAL_LIMITS) -> None:
    """Create paperwatch's global concurrency limits where they do not exist yet; never change a
    limit an operator has tuned. Without them runs still work, only unthrottled across runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    logger = get_run_logger()
    try:
        with get_client(sync_client=True) as client:
            for name, (slots, decay) in limits.items():
                try:
                    client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    try:
                        client.create_global_concurrency_limit(
                            GlobalConcurrencyLimitCreate(name=name, limit=slots, slot_decay_per_second=decay))
                        logger.info("created global concurrency limit %s (%d slots%s)", name, slots,
                                    f", {decay:.3g} freed per second" if decay else "")
                    except ObjectAlreadyExists:
                        pass  # another run created it first
    except Exception as exc:  # the limits only throttle; a run must not fail for want of them
        logger.warning("global concurrency limits not checked (%s): API batches are not throttled across runs",
                       type(exc).__name__)


def unchecked(api: str, links: Sequence[Link], why: str) -> CheckedBatch:
    """A batch that could not be checked: its links are ``unknown``, never ``dead``."""
    checker = CHECKERS[api]
    reason = f"not checked: {why}"
    return CheckedBatch(api, tuple(Observation(url=link.normalized, state=State.UNKNOWN, reason=reason, checker=checker,
                                               evidence=Evidence(error=why, attempts=0)) for link in links))


def failure_text(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class RunProgress:
    """How far the checking is: a Prefect progress artifact on the flow run, and a log line a batch
    (both once a part is over: an artifact update is an API call). With ``links`` (a terminal's bar,
    counted per link by the batch tasks), each part's count is settled to what it returned."""

    def __init__(self, total_checks: int, total_parts: int, unit: str = "batches",
                 links: link_progress.LinkProgress | None = None) -> None:
        self.total_checks, self.total_parts, self.unit, self.links = total_checks, total_parts, unit, links
        self.checks = self.parts = 0
        self.logger = get_run_logger()
        self.artifact = create_progress_artifact(0.0, key="paperwatch-progress",
                                                 description=f"{total_checks} link checks in {total_parts} {unit}")

    def advance(self, checks: int, what: str, part: str | None = None, by_state: Mapping[str, int] | None = None) -> None:
        if self.links is not None and part is not None:
            self.links.settle(part, checks, by_state or {})
        self.checks += checks
        self.parts += 1
        percent = 100.0 * self.checks / self.total_checks if self.total_checks else 100.0
        update_progress_artifact(self.artifact, percent)
        self.logger.info("%d/%d link checks done, %d/%d %s (%s)", self.checks, self.total_checks, self.parts,
                         self.total_parts, self.unit, what)


def _submit(batch: Batch, number: int, total: int, settings: CheckSettings, page_settings: CheckSettings,
            previous: Mapping[str, Facts]) -> PrefectFuture[CheckedBatch]:
    name = f"{batch.api} {number}/{total}: {batch.label}"
    if batch.api == "pages":
        return check_page_batch.with_options(task_run_name=name).submit(
            untraversed([link.normalized for link in batch.links]), page_settings)
    if batch.api == "github":
        wanted = {link.normalized for link in batch.links}
        return check_github_batch.with_options(task_run_name=name).submit(
            untraversed(list(batch.links)), settings,
            untraversed({url: facts for url, facts in previous.items() if url in wanted}))
    return check_hub_batch.with_options(task_run_name=name).submit(untraversed(list(batch.links)), settings)


def run_batches(batches: Sequence[Batch], settings: CheckSettings,
                previous: Mapping[str, Facts] | None = None) -> list[CheckedBatch]:
    """Run batch tasks in lanes (each page lane, and each API, one batch at a time), starting the next
    batch of a lane as one finishes; a failed batch comes back as its links ``unknown``."""
    if not batches:
        return []
    ensure_limits()
    total = sum(len(b.links) for b in batches)
    flow_context = FlowRunContext.get()
    run_key = str(flow_context.flow_run.id) if flow_context and flow_context.flow_run else None
    with link_progress.run_bar(run_key, total) as links:  # a bar on a terminal, None elsewhere
        return _run_lanes(batches, settings, previous, RunProgress(total, len(batches), links=links))


def _run_lanes(batches: Sequence[Batch], settings: CheckSettings, previous: Mapping[str, Facts] | None,
               progress: RunProgress) -> list[CheckedBatch]:
    logger = get_run_logger()
    page_lanes = len({b.lane for b in batches if b.api == "pages"})
    # the run's max_concurrency is an overall bound: page lanes in flight share it
    page_settings = replace(settings, max_concurrency=max(1, settings.max_concurrency // max(1, page_lanes)))
    waiting: dict[tuple[str, int], deque[tuple[int, Batch]]] = {}
    for number, batch in enumerate(batches, 1):
        waiting.setdefault((batch.api, batch.lane), deque()).append((number, batch))
    running: dict[PrefectFuture[CheckedBatch], tuple[int, Batch]] = {}
    checked: list[CheckedBatch] = []

    def fill() -> None:
        busy = {(b.api, b.lane) for _, b in running.values()}
        for lane, queue in waiting.items():
            if queue and lane not in busy:
                number, batch = queue.popleft()
                running[_submit(batch, number, len(batches), settings, page_settings, previous or {})] = (number, batch)

    fill()
    while running:
        future = next(as_completed(list(running)))
        number, batch = running.pop(future)
        try:
            result = future.result()
            outcome = ", ".join(f"{n} {s}" for s, n in _counts(result.observations).items())
        except Exception as exc:
            why = f"the {CHECKERS[batch.api]} check failed ({failure_text(exc)})"
            logger.warning("batch %d (%s): %s; its %d links are unknown", number, batch.label, why, len(batch.links))
            result = replace(unchecked(batch.api, batch.links, why),
                             notes=(f"the {CHECKERS[batch.api]} check of {len(batch.links)} links failed "
                                    f"({type(exc).__name__}); those links are unknown",))
            outcome = "failed"
        checked.append(result)
        progress.advance(len(batch.links), f"batch {number}, {batch.label}: {outcome}", part=str(future.task_run_id),
                         by_state=_counts(result.observations))
        fill()
    return checked


def _counts(observations: Iterable[Observation]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for observation in observations:
        counts[observation.state.value] = counts.get(observation.state.value, 0) + 1
    return counts


def judge_pages(checked: Sequence[CheckedBatch]) -> PageCheckResult:
    """The page checker's outage judgement (``judge_outage``), once over every page batch of the run."""
    pages = [c for c in checked if c.api == "pages"]
    seen = sum((c.outage_evidence() for c in pages), OutageEvidence(frozenset(), frozenset(), 0, True))
    judged = judge_outage([o for c in pages for o in c.observations], seen)
    before = [c for c in pages if c.offline]
    notes = tuple(dict.fromkeys(note for c in before for note in c.notes)) + judged.notes
    return PageCheckResult(judged.observations, offline=judged.offline or bool(before), notes=notes)


def merge(checked: Sequence[CheckedBatch], plan: CheckPlan, settings: CheckSettings) -> CheckOutcome:
    """One observation per unique link: a repository's page answer and its API answer become one."""
    pages = judge_pages(checked)
    notes = list(pages.notes) + [note for c in checked if c.api != "pages" for note in c.notes]
    page_observations = {o.url: o for o in pages.observations}
    api = [o for c in checked if c.api != "pages" for o in c.observations]
    pages_sites = plan.pages_sites
    observations = [merge_page_and_api(page_observations.pop(o.url), o) if o.url in page_observations else o
                    for o in api] + [_with_pages_source(o, pages_sites) for o in page_observations.values()]
    unknown = [o for o in observations if o.state is State.UNKNOWN]
    if unknown and not pages.offline:
        reasons = sorted({o.reason.removeprefix("not checked: ") for o in unknown})
        notes.append(f"{len(unknown)} link{'s' if len(unknown) > 1 else ''} could not be checked: " + "; ".join(reasons[:3]))
    return CheckOutcome(observations, offline=pages.offline, notes=list(dict.fromkeys(notes)))


def _with_pages_source(observation: Observation, pages_sites: Mapping[str, Link]) -> Observation:
    """A GitHub Pages site is checked as a page; the report also names the repository it is built from."""
    link = pages_sites.get(observation.url)
    source = pages_source_repo(link.owner, link.path) if link else None
    return observation.replace(facts=(observation.facts or PageFacts()).with_(source_repo=source)) if source else observation


def check_links(plan: CheckPlan, settings: CheckSettings, previous: Mapping[str, Facts] | None = None,
                size: int = BATCH_SIZE) -> CheckOutcome:
    """Check every link of the plan in this flow run's batch tasks."""
    started = time.monotonic()
    batches = plan_batches(page_links(plan, bool(settings.github_token())), plan.github, plan.huggingface, size)
    get_run_logger().info("%d links in %d batch tasks (%s)", plan.total, len(batches),
                          ", ".join(f"{sum(b.api == api for b in batches)} {api}" for api in CHECKERS
                                    if any(b.api == api for b in batches)) or "nothing to check")
    outcome = merge(run_batches(batches, settings, previous), plan, settings)
    get_run_logger().info("checked %d links in %.1f s", len(outcome.observations), time.monotonic() - started)
    return outcome


def completed_state(result: Mapping[str, Any]) -> RunState:
    """The flow run's final state: Completed, saying how many links could not be checked; calling
    the flow still returns ``result``."""
    unknown = int(result["summary"]["by_state"].get(State.UNKNOWN, 0))
    offline = " (offline)" if result.get("offline") else ""
    message = f"completed with {unknown} unknown{offline}" if unknown else f"completed: {result['summary']['links']} links checked"
    return Completed(message=message, data=dict(result))
