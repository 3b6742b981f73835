"""The ``monitor`` flow: read papers → check every link → remember → report.

Checking runs in batch tasks (pages by host, GitHub and Hub by API; ``flows.batches``), or,
with ``shards``, in child flow runs that workers on other machines pick up (``flows.sharding``).
Tasks take and return plain data. A batch that fails outright degrades its links to
``unknown``; the run still records what it saw, writes its report and ends Completed, saying
how many links are unknown. Only a store or report that cannot be written fails the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from sqlalchemy.exc import SQLAlchemyError

from checks.archive_settings import ArchiveSettings
from checks.discovery_settings import DiscoverySettings
from checks.daily import daily_papers, is_daily_source
from checks.extract import read_papers
from checks.model import Paper
from checks.plan import plan_checks
from checks.settings import CheckSettings
from flows.batches import check_links, completed_state, untraversed
from flows.discover import accepted_suggestions, discovery_step, with_accepted
from flows.events import events_step
from flows.run_tasks import load_token_secret, mark_failed, record_observations, start_run, stored_metadata
from flows.notify import SENDERS, run_alert_settings
from flows.rescue import rescue_step
from flows.sharding import SHARD_DEPLOYMENT, check_in_shards
from reports.alerts import process_run
from reports.exports import summary_table
from reports.headline import figures_of, first_line
from reports.link_events import ATTENTION_KEY, attention_table, papers_of_changes, run_events
from reports.report import build_report, write_report
from reports.retention import DEFAULT_KEEP_DAYS
from reports.store import Store, StoreError
from reports.vocabulary import ConfirmRule


@task(name="extract papers", cache_policy=NO_CACHE)
def extract_papers(sources: Sequence[str], settings: CheckSettings,
                   input_format: str | None = None) -> tuple[list[Paper], list[dict[str, Any]]]:
    """The papers of every source (each paper once), and how each source was read (``Reading.to_dict()``)."""
    papers: list[Paper] = []
    readings: list[dict[str, Any]] = []
    seen: set[str] = set()
    for source in sources:
        found = (daily_papers(source, settings.hf_endpoint, settings.hf_token(), settings.timeout) if is_daily_source(source)
                 else read_papers(source, input_format=input_format))
        for paper in found:
            if paper.id not in seen:  # the same paper in two lists is watched once
                seen.add(paper.id)
                papers.append(paper)
        get_run_logger().info("%s", found.reading.summary())  # how the input was read
        readings.append(found.reading.to_dict())
    get_run_logger().info("%d papers with %d links from %d source(s)", len(papers),
                          sum(len(p.links) for p in papers), len(sources))
    return papers, readings


@task(name="finish run and write report", cache_policy=NO_CACHE)
def finish_and_report(db: str, run_id: int, out: str, offline: bool, notes: Sequence[str],
                      rule: ConfirmRule = ConfirmRule()) -> dict[str, Any]:
    with Store.open(db) as store:
        store.finish_run(run_id, status="completed", offline=offline, notes=notes)
        report = build_report(store, run_id, rule=rule)
        sources = store.paper_sources(papers_of_changes(report))  # only the papers citing a changed link
    paths = write_report(report, out)
    rows, description = attention_table(report)
    return {"run_id": run_id, "html": str(paths.html), "json": str(paths.json), "summary": report.summary.to_dict(),
            "changes": [change.to_dict() for change in report.changes], "offline": offline, "notes": list(notes),
            # taken out by the flow (published, emitted), never part of its result:
            "attention": {"rows": rows, "description": description},
            "event_specs": [spec.to_dict() for spec in run_events(report, sources, str(paths.json))]}


def _publish_artifacts(result: dict[str, Any], attention: dict[str, Any] | None = None) -> None:
    """The run's summary where Prefect users look: a table of the headline figures, the report's
    summary.md (already escaped for Markdown), a link to the HTML report and, given ``attention``
    (``reports.link_events.attention_table``), the table of the links that need attention, under one
    key so the UI shows it run after run."""
    from prefect.artifacts import create_markdown_artifact

    rows = summary_table(result["summary"], result.get("changes") or [])
    create_table_artifact(key="paperwatch-summary", table=rows, description=f"paperwatch run {result['run_id']}")
    markdown = Path(result["html"]).with_name("summary.md")
    if markdown.exists():
        create_markdown_artifact(key="paperwatch-summary-md", markdown=markdown.read_text(encoding="utf-8"),
                                 description=f"summary.md of run {result['run_id']}")
    create_link_artifact(key="paperwatch-report", link=Path(result["html"]).absolute().as_uri(),
                         link_text="paperwatch HTML report", description=f"Report of run {result['run_id']}")
    if attention is not None:
        create_table_artifact(key=ATTENTION_KEY, table=attention["rows"], description=attention["description"])


@flow(name="monitor", description="Check every code, model, data and project link of a set of papers and report.")
def monitor(sources: list[str], db: str = "paperwatch.sqlite", out: str = "paperwatch-report",
            settings: dict[str, Any] | None = None, input_format: str | None = None,
            github_token_secret: str | None = None, keep_days: int = DEFAULT_KEEP_DAYS,
            notify: list[str] | None = None, alerts: dict[str, Any] | None = None,
            shards: int = 1, shard_deployment: str = SHARD_DEPLOYMENT,
            confirm_runs: int = ConfirmRule().runs, confirm_hours: float = ConfirmRule().hours,
            archive: dict[str, Any] | None = None, swh_token_secret: str | None = None,
            discovery: dict[str, Any] | None = None, accept_suggestions: bool = False) -> dict[str, Any]:
    """``settings`` is ``CheckSettings.to_dict()``. Tokens come from the environment, or from the
    Prefect Secret blocks named by ``github_token_secret`` and ``swh_token_secret`` (Software
    Heritage); never from parameters. Observations
    older than ``keep_days`` are rolled into daily summaries once the report is written.

    ``notify`` adds alert targets to those in ``PAPERWATCH_NOTIFY``; Prefect stores parameters, so
    give ``prefect-block:TYPE/NAME`` here and keep Apprise URLs, which hold secrets, in the
    environment. ``alerts`` is ``reports.alerts.AlertSettings.public_dict()``.

    ``shards`` above 1 splits the checking into that many child flow runs of ``shard_deployment``
    (by host and by API), which the workers of its work pool take as they have free slots; the history
    database must then be one all those workers reach (PostgreSQL across machines).

    ``archive`` is ``checks.archive_settings.ArchiveSettings.to_dict()`` (the config file's ``[archive]``):
    how the archived copies of failing links are looked up and whether Save Code Now is asked.

    ``discovery`` is ``checks.discovery_settings.DiscoverySettings.to_dict()`` (the config file's
    ``[discovery]``): how the code of papers that link none is looked for (``flows.discover``), and
    the suggestions accepted as their papers' links; ``accept_suggestions`` accepts every suggestion
    of this run.

    ``confirm_runs`` and ``confirm_hours`` are the rule that calls a failing link dead
    (``reports.vocabulary.ConfirmRule``, the config file's ``[verdicts]``): the report and the alerts judge by it."""
    logger = get_run_logger()
    rule = ConfirmRule(runs=confirm_runs, hours=confirm_hours)
    check_settings = CheckSettings.from_dict(settings) if settings else CheckSettings.from_environment()
    if github_token_secret and not check_settings.github_token():
        load_token_secret(github_token_secret, check_settings.github_token_env)
    archive_settings = ArchiveSettings.from_dict(archive)
    if swh_token_secret and not archive_settings.swh_token():
        load_token_secret(swh_token_secret, archive_settings.swh_token_env)

    discovery = DiscoverySettings.from_dict(discovery).to_dict()  # refused here, before anything is checked

    papers, readings = extract_papers(sources, check_settings, input_format)
    papers = with_accepted(papers, accepted_suggestions(db, discovery))  # an accepted suggestion is the paper's own link
    run_id = start_run(db, sources, untraversed(papers), flow_run.get_id(), readings)
    try:
        result = _check_record_report(db, run_id, out, papers, check_settings, shards=shards,
                                      shard_deployment=shard_deployment, github_token_secret=github_token_secret, rule=rule,
                                      archive=archive, discovery=discovery, accept_suggestions=accept_suggestions)
    except BaseException:
        mark_failed(db, run_id)
        raise
    attention, specs = result.pop("attention", None), result.pop("event_specs", [])
    _publish_artifacts(result, attention)
    logger.info("run %d: report written to %s", run_id, result["html"])
    result["events"] = events_step(run_id, specs)
    result["alerts"] = _alerts_step(db, run_id, notify, alerts, check_settings, first_line(figures_of(result["summary"])), rule)
    prune_history(db, keep_days)
    return completed_state(result)


@task(name="send alerts", cache_policy=NO_CACHE)
def send_alerts(db: str, run_id: int, notify: list[str] | None, alerts: dict[str, Any] | None,
                settings: CheckSettings, headline: str | None = None, rule: ConfirmRule = ConfirmRule()) -> dict[str, Any] | None:
    """One digest for the run's verdict changes (and the tracking issue); None when no alert is configured."""
    alert_settings = run_alert_settings(notify, alerts)
    if not alert_settings.enabled:
        return None
    outcome = process_run(db, run_id, alert_settings, github_api_url=settings.github_api_url,
                          github_token=settings.github_token(), headline=headline, senders=SENDERS, rule=rule)
    summary = outcome.to_dict()
    failed = [d["channel"] for d in summary["deliveries"] if not d["ok"]]
    get_run_logger().info("run %d alerts: %s%s%s", run_id, outcome.outcome,
                          f" ({summary['title']})" if summary["title"] else "",
                          f"; not delivered to {', '.join(failed)}" if failed else "")
    return summary


def _alerts_step(db: str, run_id: int, notify: list[str] | None, alerts: dict[str, Any] | None,
                 settings: CheckSettings, headline: str | None = None, rule: ConfirmRule = ConfirmRule()) -> dict[str, Any] | None:
    """The report is written: an alert that cannot be sent is a warning, never a failed run."""
    try:
        return send_alerts(db, run_id, notify, alerts, settings, headline, rule)
    except Exception as exc:
        get_run_logger().warning("run %d: alerts not sent (%s)", run_id, type(exc).__name__)
        return {"run_id": run_id, "outcome": "failed", "error": type(exc).__name__}


@task(name="prune history", cache_policy=NO_CACHE)
def prune_history(db: str, keep_days: int) -> None:
    """Roll observations older than ``keep_days`` into daily summaries. The report is already
    written, so a failure here is a warning, never a failed run."""
    logger = get_run_logger()
    try:
        with Store.open(db) as store:
            pruned = store.prune(keep_days)
    except (StoreError, SQLAlchemyError) as exc:
        logger.warning("history not pruned: %s", str(exc).splitlines()[0])
        return
    if pruned.removed:
        logger.info("history: %d observations of runs before %s rolled into daily summaries", pruned.removed,
                    pruned.cutoff[:10])


def _check_record_report(db: str, run_id: int, out: str, papers: Sequence[Paper], check_settings: CheckSettings, *,
                         shards: int = 1, shard_deployment: str = SHARD_DEPLOYMENT,
                         github_token_secret: str | None = None, rule: ConfirmRule = ConfirmRule(),
                         archive: dict[str, Any] | None = None, discovery: dict[str, Any] | None = None,
                         accept_suggestions: bool = False) -> dict[str, Any]:
    logger = get_run_logger()
    plan = plan_checks(papers)
    logger.info("run %d: %d unique links (%d web pages, %d GitHub repositories, %d Hugging Face artifacts)",
                run_id, plan.total, len(plan.http), len(plan.github), len(plan.huggingface))

    if shards > 1:
        outcome = check_in_shards(plan, shards, db, run_id, check_settings, github_token_secret, shard_deployment)
    else:
        previous = stored_metadata(db, untraversed([link.normalized for link in plan.github]))
        outcome = check_links(plan, check_settings, previous)
    record_observations(db, run_id, untraversed(outcome.observations))
    if not outcome.offline:  # offline, nothing failing is known, and the archives are out of reach too
        rescue_step(db, run_id, archive, check_settings)
        discovery_step(db, run_id, papers, discovery, check_settings, accept_suggestions)  # code found elsewhere
    return finish_and_report(db, run_id, out, outcome.offline, outcome.notes, rule)
