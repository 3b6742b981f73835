"""Alerts: one digest per run, only when a link's verdict changes, through Apprise (and a tracking issue).

This is one run's alert step: it decides from the history (``reports.transitions``) what the run
announces (``reports.digest``), sends it (``reports.delivery``) and records it (``reports.alert_log``).
It takes plain values: ``AlertSettings`` (where alerts go and how often) and, from the flow, the
senders of named channels (``flows.notify``), the GitHub API and token.

A run that could not check (offline, or mostly ``unknown``) announces nothing about links:
it sends one "could not check" notice per outage instead, and the next run that could check
compares with the last run that could, so a death is never lost in a blind spot nor
announced because of one. What each run decided and sent is kept in ``alert_log``, a table
of its own in the history database, which makes reminders and an auditable alert log possible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reports import archive_store, suggestion_store
from reports.alert_settings import AlertSettings as AlertSettings
from reports.alert_log import BLIND, BLIND_AGAIN, DIGEST, EVALUATED, QUIET, AlertLog, LogEntry, reminders_due
from reports.schema import alert_log as alert_log  # re-exported, with the names below, for callers of this module
from reports.delivery import Delivery, Sender, send_digest
from reports.delivery import redact as redact
from reports.digest import CODE_FOUND, REMINDER, Digest, DigestItem, RunFacts, build_digest, could_not_check_notice
from reports.found_elsewhere import appeared, appeared_reason
from reports.rescue import archive_sentence, found_copy, is_code_link
from reports.store import Store
from reports.tracking_issue import DeadLink, IssueAction, IssueResult, sync_tracking_issue
from reports.transitions import compare_runs
from reports.vocabulary import Change, ConfirmRule, Verdict

__all__ = ["AlertLog", "AlertOutcome", "AlertSettings", "Delivery", "Digest", "DigestItem", "LogEntry", "RunFacts",
           "Sender", "alert_log", "build_digest", "process_run", "redact", "send_digest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertOutcome:
    run_id: int
    outcome: str
    digest: Digest | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    tracking_issue: IssueResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "outcome": self.outcome, "title": self.digest.title if self.digest else None,
                "items": [{"url": i.url, "change": i.change} for i in (self.digest.items if self.digest else ())],
                "deliveries": [d.to_dict() for d in self.deliveries],
                "tracking_issue": self.tracking_issue.to_dict() if self.tracking_issue else None}


def _baseline(store: Store, history: Sequence[LogEntry], run_id: int) -> int | None:
    """The last run that could check and was judged; before any alert, the previous finished run."""
    judged = [entry.run_id for entry in history if entry.outcome in EVALUATED]
    if judged:
        return judged[-1]
    earlier = [r.id for r in store.runs(limit=2, up_to=run_id) if r.id != run_id]
    return earlier[-1] if earlier else None


def process_run(db: str, run_id: int, settings: AlertSettings, *, github_api_url: str,
                github_token: str | None = None, headline: str | None = None,
                senders: Mapping[str, Sender] | None = None, rule: ConfirmRule = ConfirmRule()) -> AlertOutcome:
    """Decide, send and record the alerts of one finished run (once: a second call sends nothing).

    ``headline`` is the report's first line (``reports.headline.first_line``): a digest opens with it.
    ``senders`` send the named channels of ``settings.notify``, by kind (``flows.notify.SENDERS``).
    ``rule`` confirms deaths (as in the report).
    """
    with Store.open(db) as store:
        return _process(store, run_id, settings, github_api_url, github_token, headline, senders or {}, rule)


def _process(store: Store, run_id: int, settings: AlertSettings, github_api_url: str,
             github_token: str | None, headline: str | None, senders: Mapping[str, Sender],
             rule: ConfirmRule = ConfirmRule()) -> AlertOutcome:
    alerts = AlertLog(store.engine)
    recorded = alerts.entry(run_id)
    if recorded is not None:
        return AlertOutcome(run_id, recorded.outcome)
    history = alerts.entries(before_run=run_id)
    facts = replace(RunFacts.of(store.run(run_id)), headline=headline)
    if facts.could_not_check:
        return _blind_run(alerts, history, facts, settings, senders)
    comparison = compare_runs(store, _baseline(store, history, run_id), run_id, rule=rule)
    papers: dict[str, list[str]] = {}
    code: set[str] = set()
    watched = store.papers_of_run(run_id)
    for _, title, cited in watched:
        for link in cited:
            papers.setdefault(link.normalized, []).append(title)
            if is_code_link(link.kind, link.claim):
                code.add(link.normalized)
    dead = {url: snap for url, snap in comparison.after.items() if snap.verdict.status is Verdict.DEAD}
    newly = {t.url for t in comparison.transitions if t.change is Change.NEWLY_DEAD}
    due = reminders_due(history, [u for u in dead if u not in newly], settings.remind_every)
    archives = archive_store.lookups(store, sorted(newly) + due)  # what the archives hold of the links announced dead
    reminders = [DigestItem(url, REMINDER, dead[url].reason, tuple(papers.get(url, ())), dead_since=dead[url].verdict.dead_since,
                            archive=archives.get(url), code=url in code) for url in due]
    digest = build_digest(facts, comparison.transitions, papers, reminders, archives, code,
                          _code_found(store, run_id, watched))
    deliveries = send_digest(digest, settings.notify, senders) if digest else []
    issue = None
    if settings.tracking_issue:
        issue = sync_tracking_issue(
            settings.tracking_issue,
            _dead_links(store, dead, papers, code),
            api_url=github_api_url, token=github_token, label=settings.tracking_label, run_id=run_id,
            newly_dead=sorted(newly), recovered=sorted(t.url for t in comparison.transitions if t.change is Change.RECOVERED),
            rule=rule)
        if issue.action in (IssueAction.FAILED, IssueAction.SKIPPED):
            log.warning("tracking issue %s not kept: %s", settings.tracking_issue, issue.error)
    outcome = DIGEST if digest else QUIET
    alerts.record(run_id, outcome, digest, deliveries, issue)
    return AlertOutcome(run_id, outcome, digest, deliveries, issue)


def _code_found(store: Store, run_id: int, watched: Sequence[tuple[str, str, Sequence[Any]]]) -> list[DigestItem]:
    """"Code for paper X appeared": each suggestion first found in this run whose repository answers."""
    observed = store.observations_of_runs([run_id])[run_id]
    stored = suggestion_store.current(store, [paper_id for paper_id, _, _ in watched])
    return [DigestItem(s.url, CODE_FOUND, appeared_reason(s, title, o))
            for s, title, o in appeared(watched, stored, suggestion_store.accepted(store), observed, run_id)]


def _dead_links(store: Store, dead: Mapping[str, Any], papers: Mapping[str, Sequence[str]],
                code: set[str]) -> list[DeadLink]:
    """The tracking issue's rows: each dead link with its papers and what the archives hold of it."""
    held = archive_store.lookups(store, sorted(dead))
    rows = []
    for url, snap in dead.items():
        lookup = held.get(url)
        copy = found_copy(lookup)
        rows.append(DeadLink(url, snap.reason, snap.verdict.dead_since, tuple(papers.get(url, ())),
                             archive=archive_sentence(lookup, url in code), copy_url=copy.url if copy else None))
    return rows


def _blind_run(alerts: AlertLog, history: Sequence[LogEntry], facts: RunFacts, settings: AlertSettings,
               senders: Mapping[str, Sender]) -> AlertOutcome:
    """One notice per outage: the first blind run after a run that could check sends it, the next ones stay quiet."""
    if history and history[-1].outcome in (BLIND, BLIND_AGAIN):
        alerts.record(facts.run_id, BLIND_AGAIN, None, [], None)
        return AlertOutcome(facts.run_id, BLIND_AGAIN)
    notice = could_not_check_notice(facts)
    deliveries = send_digest(notice, settings.notify, senders)
    alerts.record(facts.run_id, BLIND, notice, deliveries, None)
    return AlertOutcome(facts.run_id, BLIND, notice, deliveries)
