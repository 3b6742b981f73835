"""The ``monitor`` flow: read papers → check every link → remember → report.

Tasks are batch-sized (one per checker, not one per URL) and take and return plain
data. A checker that fails outright degrades its links to ``unknown``; the run still
records what it saw and writes its report.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from checks.daily import daily_papers, is_daily_source
from checks.extract import read_papers
from checks.github import check_repos, merge_page_and_api
from checks.http import PageCheckResult, check_pages
from checks.huggingface import check_artifacts
from checks.model import Evidence, Link, Observation, Paper, State
from checks.plan import CheckPlan, plan_checks
from checks.repo_facts import pages_source_repo
from checks.settings import CheckSettings
from flows.progress import progress
from reports.report import build_report, write_report
from reports.store import Store


@task(name="extract papers", cache_policy=NO_CACHE)
def extract_papers(sources: Sequence[str], settings: CheckSettings, input_format: str | None = None) -> list[Paper]:
    papers: list[Paper] = []
    seen: set[str] = set()
    for source in sources:
        found = (daily_papers(source, settings.hf_endpoint, settings.hf_token(), settings.timeout) if is_daily_source(source)
                 else read_papers(source, input_format=input_format))
        for paper in found:
            if paper.id not in seen:  # the same paper in two lists is watched once
                seen.add(paper.id)
                papers.append(paper)
    get_run_logger().info("%d papers with %d links from %d source(s)", len(papers),
                          sum(len(p.links) for p in papers), len(sources))
    return papers


def source_digest(sources: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        if source != "-" and not is_daily_source(source):
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()


@task(name="start run", cache_policy=NO_CACHE)
def start_run(db: str, sources: Sequence[str], papers: Sequence[Paper], flow_run_id: str | None) -> int:
    store = Store.open(db)
    try:
        run_id = store.start_run(list(sources), source_digest(sources), flow_run_id)
        store.record_papers(run_id, papers)
        return run_id
    finally:
        store.close()


def _checked(label: str, checker: Callable[..., Any], links: Sequence[Link], settings: CheckSettings) -> Any:
    logger = get_run_logger()
    with progress(label, len(links), logger) as on_done:
        return checker(list(links), settings, on_done)


@task(name="check web pages", cache_policy=NO_CACHE)
def check_page_links(links: Sequence[Link], settings: CheckSettings) -> PageCheckResult:
    return _checked("web pages", check_pages, [link.normalized for link in links], settings)


@task(name="check GitHub repositories", cache_policy=NO_CACHE)
def check_github_links(links: Sequence[Link], settings: CheckSettings, previous: dict[str, dict[str, Any]]) -> list[Observation]:
    logger = get_run_logger()
    with progress("GitHub repositories", len(links), logger) as on_done:
        return check_repos(list(links), settings, on_done, previous)


@task(name="load stored repository metadata", cache_policy=NO_CACHE)
def stored_metadata(db: str, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
    store = Store.open(db)
    try:
        return store.latest_details(urls)
    finally:
        store.close()


@task(name="check Hugging Face artifacts", cache_policy=NO_CACHE)
def check_hub_links(links: Sequence[Link], settings: CheckSettings) -> list[Observation]:
    return _checked("Hugging Face artifacts", check_artifacts, links, settings)


@task(name="record observations", cache_policy=NO_CACHE)
def record_observations(db: str, run_id: int, observations: Sequence[Observation]) -> int:
    store = Store.open(db)
    try:
        return store.record_observations(run_id, observations)
    finally:
        store.close()


@task(name="finish run and write report", cache_policy=NO_CACHE)
def finish_and_report(db: str, run_id: int, out: str, offline: bool, notes: Sequence[str]) -> dict[str, Any]:
    store = Store.open(db)
    try:
        store.finish_run(run_id, status="completed", offline=offline, notes=notes)
        report = build_report(store, run_id)
    finally:
        store.close()
    paths = write_report(report, out)
    return {"run_id": run_id, "html": str(paths.html), "json": str(paths.json), "summary": report["summary"],
            "changes": report["changes"], "offline": offline, "notes": list(notes)}


def _with_pages_source(observation: Observation, plan: CheckPlan) -> Observation:
    """A GitHub Pages site is checked as a page; the report also names the repository it is built from."""
    link = plan.pages_sites.get(observation.url)
    source = pages_source_repo(link.owner, link.path) if link else None
    return observation.replace(details={**observation.details, "source_repo": source}) if source else observation


def _unchecked(links: Sequence[Link], checker: str, exc: BaseException) -> list[Observation]:
    reason = f"not checked: the {checker} check failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return [Observation(url=link.normalized, state=State.UNKNOWN, reason=reason, checker=checker,
                        evidence=Evidence(error=type(exc).__name__, attempts=0)) for link in links]


def _publish_artifacts(result: dict[str, Any]) -> None:
    by_state = result["summary"]["by_state"]
    create_table_artifact(key="paperwatch-summary", description="Links by state in this run",
                          table=[{"state": state, "links": count} for state, count in by_state.items()])
    create_link_artifact(key="paperwatch-report", link=Path(result["html"]).absolute().as_uri(),
                         link_text="paperwatch HTML report", description=f"Report of run {result['run_id']}")


@flow(name="monitor", description="Check every code, model, data and project link of a set of papers and report.")
def monitor(sources: list[str], db: str = "paperwatch.sqlite", out: str = "paperwatch-report",
            settings: dict[str, Any] | None = None, input_format: str | None = None,
            github_token_secret: str | None = None) -> dict[str, Any]:
    """``settings`` is ``CheckSettings.to_dict()``. Tokens come from the environment, or from the
    Prefect Secret block named by ``github_token_secret``; never from parameters."""
    logger = get_run_logger()
    check_settings = CheckSettings.from_dict(settings) if settings else CheckSettings.from_environment()
    if github_token_secret and not check_settings.github_token():
        load_token_secret(github_token_secret, check_settings.github_token_env)

    papers = extract_papers(sources, check_settings, input_format)
    run_id = start_run(db, sources, papers, flow_run.get_id())
    try:
        result = _check_record_report(db, run_id, out, papers, check_settings)
    except BaseException:
        mark_failed(db, run_id)
        raise
    _publish_artifacts(result)
    logger.info("run %d: report written to %s", run_id, result["html"])
    return result


def load_token_secret(block_name: str, env_var: str) -> None:
    """Put a Prefect Secret block's token where the checkers read tokens, for this run's process only."""
    os.environ[env_var] = Secret.load(block_name).get()


def mark_failed(db: str, run_id: int) -> None:
    store = Store.open(db)
    try:
        store.finish_run(run_id, status="failed", offline=False, notes=["the run failed before its report was written"])
    finally:
        store.close()


def _check_record_report(db: str, run_id: int, out: str, papers: Sequence[Paper], check_settings: CheckSettings) -> dict[str, Any]:
    logger = get_run_logger()
    plan = plan_checks(papers)
    logger.info("run %d: %d unique links (%d web pages, %d GitHub repositories, %d Hugging Face artifacts)",
                run_id, plan.total, len(plan.http), len(plan.github), len(plan.huggingface))

    # Without a token the API budget is 60 requests an hour: repository pages say whether repos exist.
    page_links = plan.http + (() if check_settings.github_token() else plan.github)
    pages = check_page_links.submit(page_links, check_settings)
    github = check_github_links.submit(plan.github, check_settings, stored_metadata(db, [link.normalized for link in plan.github]))
    hub = check_hub_links.submit(plan.huggingface, check_settings)

    page_observations: dict[str, Observation] = {}
    notes: list[str] = []
    offline = False
    try:
        page_result = pages.result()
        page_observations = {o.url: o for o in page_result.observations}
        offline, notes = page_result.offline, list(page_result.notes)
    except Exception as exc:
        page_observations = {o.url: o for o in _unchecked(page_links, "http", exc)}
        notes.append(f"the web page check failed ({type(exc).__name__}); its links are unknown")
    observations: list[Observation] = []
    for future, links, name in ((github, plan.github, "github"), (hub, plan.huggingface, "huggingface")):
        try:
            observations += future.result()
        except Exception as exc:
            observations += _unchecked(links, name, exc)
            notes.append(f"the {name} check failed ({type(exc).__name__}); its links are unknown")
    observations = [merge_page_and_api(page_observations.pop(o.url), o) if o.url in page_observations else o
                    for o in observations] + [_with_pages_source(o, plan) for o in page_observations.values()]
    unknown = [o for o in observations if o.state is State.UNKNOWN]
    if unknown and not offline:
        reasons = sorted({o.reason.removeprefix("not checked: ") for o in unknown})
        notes.append(f"{len(unknown)} link{'s' if len(unknown) > 1 else ''} could not be checked: " + "; ".join(reasons[:3]))

    record_observations(db, run_id, observations)
    return finish_and_report(db, run_id, out, offline, notes)
