"""Alerts: one digest per run, only when a link's verdict changes, through Apprise (and a tracking issue).

The digest is built by pure functions from the run's verdict transitions; sending happens at
the edge, one channel at a time, and a channel that fails is logged and recorded, never a
reason for the run to fail. Apprise URLs carry their channel's secret: they are shown,
logged and stored only as ``scheme://host/…``.

A run that could not check (offline, or mostly ``unknown``) announces nothing about links:
it sends one "could not check" notice per outage instead, and the next run that could check
compares with the last run that could, so a death is never lost in a blind spot nor
announced because of one. What each run decided and sent is kept in ``alert_log``, a table
of its own in the history database, which makes reminders and an auditable alert log possible.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from checks.model import State
from checks.settings import AlertSettings
from reports.markdown import md_text, md_url, one_line
from reports.store import RunRecord, Store
from reports.tracking_issue import DeadLink, IssueAction, IssueResult, sync_tracking_issue
from reports.transitions import compare_runs
from reports.verdicts import ALERTED_CHANGES, Transition
from reports.vocabulary import Change, ConfirmRule, Verdict

log = logging.getLogger(__name__)

MOSTLY_UNKNOWN = 0.5  # a run with more than this share of its checked links unknown could not check
REMINDER = "still dead"
SECTIONS = (  # digest order: what needs action first
    (Change.NEWLY_DEAD, "Newly dead"),
    (Change.RECOVERED, "Recovered"),
    (Change.MOVED, "Moved"),
    (Change.ARCHIVED, "Archived"),
    (Change.PROMISE_FULFILLED, "Promise fulfilled: code released"),
    (REMINDER, "Still dead (reminder)"),
)
DIGEST, QUIET, BLIND, BLIND_AGAIN = "digest", "quiet", "could not check", "could not check (repeat)"
EVALUATED = (DIGEST, QUIET)  # outcomes of runs that could check: baselines, and what reminders count
SEND_TIMEOUT = 30  # seconds per channel
MAX_TITLES = 3
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


# --- what a run decided (pure) ----------------------------------------------------------------

@dataclass(frozen=True)
class RunFacts:
    """What the alert step needs to know about a finished run."""

    run_id: int
    started_at: str
    offline: bool
    checked: int  # links the run tried to check (skipped ones left out)
    unknown: int
    notes: tuple[str, ...] = ()
    headline: str | None = None  # the report's first line (reports.headline.first_line), the page's words and numbers

    @classmethod
    def of(cls, run: RunRecord) -> "RunFacts":
        checked = sum(n for state, n in run.counts.items() if state != State.SKIPPED)
        return cls(run.id, run.started_at, run.offline, checked, run.counts.get(State.UNKNOWN, 0), tuple(run.notes))

    @property
    def could_not_check(self) -> bool:
        """Offline, or mostly unknown: the run's silence says nothing about the links."""
        return self.offline or (self.checked > 0 and self.unknown / self.checked > MOSTLY_UNKNOWN)


@dataclass(frozen=True)
class DigestItem:
    url: str
    change: str  # one of ALERTED_CHANGES, or "still dead"
    reason: str
    papers: tuple[str, ...] = ()
    suggested_url: str | None = None
    dead_since: str | None = None


@dataclass(frozen=True)
class Digest:
    """One message for one run; renders itself for text, Markdown and HTML channels."""

    run_id: int
    started_at: str
    title: str
    items: tuple[DigestItem, ...] = ()
    notice: str | None = None  # the "could not check" text, for a run that announces no link
    headline: str | None = None  # "Code available for 21 of 28 papers linking code (75 %); …."

    def sections(self) -> list[tuple[str, list[DigestItem]]]:
        return [(heading, [i for i in self.items if i.change == change]) for change, heading in SECTIONS
                if any(i.change == change for i in self.items)]

    def _intro(self) -> str:
        intro = f"Run {self.run_id}, started {_when(self.started_at)}."
        if self.headline:
            intro += f" {self.headline}"
        return intro

    def text(self) -> str:
        return self.render(TEXT)

    def markdown(self) -> str:
        return self.render(MARKDOWN)

    def html(self) -> str:
        return self.render(HTML)

    def render(self, style: "DigestStyle") -> str:
        blocks = [style.paragraph.format(style.text(self._intro(), 1000))]
        if self.notice:
            blocks.append(style.paragraph.format(style.text(self.notice, 2000)))
        for heading, items in self.sections():
            lines = [style.item.format(
                line=f"{style.url(i.url)}: {style.text(i.reason)}{_where_and_since(i, style.text, style.url)}",
                cited=style.cited.format(_titles(i.papers, style.text)) if i.papers else "") for i in items]
            blocks.append(style.section.format(heading=style.text(f"{heading} ({len(items)})"), items="\n".join(lines)))
        return style.separator.join(blocks) + "\n"


def _one_line(text: Any, limit: int = 200) -> str:
    """Untrusted text on one line: no injected lines, no @mention that pings a channel."""
    return one_line(text, limit).replace("@", "@\u2060")


def _html_text(text: Any, limit: int = 200) -> str:
    return html.escape(_one_line(text, limit), quote=True)


def _html_url(url: str) -> str:
    if urlsplit(url).scheme in ("http", "https") and not _SPACE.search(url):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(_one_line(url, 300))}</a>'
    return _html_text(url)


@dataclass(frozen=True)
class DigestStyle:
    """How one channel format writes a digest: untrusted text and URLs made inert, and the layout."""

    text: Callable[..., str]
    url: Callable[[str], str]
    paragraph: str
    section: str
    item: str
    cited: str
    separator: str


TEXT = DigestStyle(_one_line, lambda url: _one_line(url, 300), "{}", "{heading}\n{items}", "- {line}{cited}",
                   "\n  cited by: {}", "\n\n")
MARKDOWN = DigestStyle(md_text, md_url, "{}", "**{heading}**\n\n{items}", "- {line}{cited}", "\n  cited by: {}", "\n\n")
HTML = DigestStyle(_html_text, _html_url, "<p>{}</p>", "<h3>{heading}</h3><ul>\n{items}\n</ul>", "<li>{line}{cited}</li>",
                   "<br>cited by: {}", "\n")


def _titles(papers: Sequence[str], render: Callable[[Any], str]) -> str:
    shown = "; ".join(render(title) for title in papers[:MAX_TITLES])
    return shown + (f" and {len(papers) - MAX_TITLES} more" if len(papers) > MAX_TITLES else "")


def _where_and_since(item: DigestItem, render: Callable[[Any], str],
                     render_url: Callable[[str], str] | None = None) -> str:
    extra = ""
    if item.suggested_url and item.change in (Change.MOVED, Change.RECOVERED):
        extra += f" (now at {(render_url or render)(item.suggested_url)})"
    if item.dead_since and item.change in (Change.NEWLY_DEAD, REMINDER):
        extra += f" (dead since {render(_when(item.dead_since))})"
    return extra


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"


def digest_title(run_id: int, items: Sequence[DigestItem]) -> str:
    counts = [(change, sum(1 for i in items if i.change == change)) for change, _ in SECTIONS]
    return f"paperwatch run {run_id}: " + ", ".join(f"{n} {change}" for change, n in counts if n)


def build_digest(run: RunFacts, transitions: Sequence[Transition], papers: Mapping[str, Sequence[str]],
                 reminders: Sequence[DigestItem] = ()) -> Digest | None:
    """The run's digest from its verdict transitions; None when nothing is worth a message.

    Only ALERTED_CHANGES are announced; ``degraded`` and ``healthy again`` stay in the report.
    """
    items = [DigestItem(t.url, t.change, t.reason, tuple(papers.get(t.url, ())), t.suggested_url, t.dead_since)
             for t in transitions if t.change in ALERTED_CHANGES]
    items += list(reminders)
    if not items:
        return None
    order = [change for change, _ in SECTIONS]
    items.sort(key=lambda i: (order.index(i.change), i.url))
    return Digest(run.run_id, run.started_at, digest_title(run.run_id, items), tuple(items), headline=run.headline)


def could_not_check_notice(run: RunFacts) -> Digest:
    why = ("the monitor was offline" if run.offline
           else f"{run.unknown} of its {run.checked} links could not be checked")
    notes = " ".join(run.notes[:3])
    notice = (f"The monitor could not check this run: {why}. No link is called dead or recovered on its account; "
              f"the next run that can check will report what changed." + (f" Notes: {notes}" if notes else ""))
    return Digest(run.run_id, run.started_at, f"paperwatch run {run.run_id}: the monitor could not check the links",
                  notice=notice)


# --- sending, at the edge ---------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    channel: str  # redacted: scheme://host/…
    ok: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "ok": self.ok, "error": self.error}


def _shown_host(target: str) -> str | None:
    """The host of a target when it is a host name or address; many Apprise schemes put a token there
    (``slack://TokenA/…``, ``discord://WebhookID/…``), which is never shown."""
    host = urlsplit(target).hostname or ""
    return host if "." in host or host == "localhost" else None


def redact(target: str) -> str:
    """What may be shown of a notify target: ``scheme://host[:port]/…`` (a Prefect block by its name)."""
    if target.startswith("prefect-block:"):
        return target
    parts = urlsplit(target)
    host = _shown_host(target)
    if host is None:
        return f"{parts.scheme}://…"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    hidden = bool(parts.path.strip("/") or parts.query or parts.username or parts.password or parts.fragment)
    return f"{parts.scheme}://{host}{port}{'/…' if hidden else ''}"


def secrets_of(target: str) -> list[str]:
    """The pieces of a target that may be secret, longest first, for scrubbing log and error text."""
    parts = urlsplit(target)
    pieces = {target, parts.netloc, parts.path, parts.query, parts.fragment, parts.username or "", parts.password or ""}
    pieces |= set(re.split(r"[/@:]", parts.path + "/" + parts.netloc))
    pieces |= {value for _, value in parse_qsl(parts.query)}
    pieces |= {unquote(piece) for piece in list(pieces)}
    shown = {_shown_host(target), parts.scheme}
    return sorted((p for p in pieces if len(p) >= 4 and p not in shown), key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    return text


class _Scrubber(logging.Filter):
    """Rewrites Apprise's own log records so that no secret of the target reaches any handler."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        return True


SENDER_LOGGERS = ("apprise", "urllib3", "requests")  # they log request URLs, and Apprise URLs turn into those


@contextmanager
def _scrubbed_sender_logs(target: str) -> Iterator[list[str]]:
    """While sending, every logger of the sending stack rewrites its records (a logger's filter sees
    only the records made at that logger, hence each child, such as ``urllib3.connectionpool``)."""
    secrets = secrets_of(target)
    scrubber = _Scrubber(secrets)
    names = [name for name in list(logging.root.manager.loggerDict)
             if name in SENDER_LOGGERS or name.startswith(tuple(f"{prefix}." for prefix in SENDER_LOGGERS))]
    loggers = [logging.getLogger(name) for name in {*names, *SENDER_LOGGERS}]
    for logger in loggers:
        logger.addFilter(scrubber)
    try:
        yield secrets
    finally:
        for logger in loggers:
            logger.removeFilter(scrubber)


def _send_apprise(target: str, digest: Digest) -> Delivery:
    import apprise

    channel = redact(target)
    with _scrubbed_sender_logs(target) as secrets:
        app = apprise.Apprise()
        if not app.add(target):
            return Delivery(channel, False, "not a notify URL Apprise knows")
        formats = app[0].notify_format
        native = formats[0] if isinstance(formats, tuple) else formats
        body = {apprise.NotifyFormat.HTML: digest.html(), apprise.NotifyFormat.MARKDOWN: digest.markdown()}.get(
            native, digest.text())
        result = app.notify(body=body, title=digest.title, body_format=native, timeout=SEND_TIMEOUT)
        if result:
            return Delivery(channel, True)
        problems = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
        return Delivery(channel, False, scrub(problems[-1] if problems else "the channel did not take the message", secrets))


def _send_prefect_block(target: str, digest: Digest) -> Delivery:
    """``prefect-block:TYPE/NAME``: a Prefect notification block (Slack, Teams, email, …) sends the text digest."""
    from prefect.blocks.core import Block

    name = target.removeprefix("prefect-block:")
    block = Block.load(name, _sync=True)  # sync whatever loop a caller left behind
    notify = getattr(block, "notify", None)
    if notify is None:
        return Delivery(target, False, f"block {name} cannot send notifications")
    notify(body=digest.text(), subject=digest.title, _sync=True)
    return Delivery(target, True)


def send_digest(digest: Digest, targets: Sequence[str]) -> list[Delivery]:
    """Send to each channel on its own; a channel that fails is reported, the others still get the digest."""
    deliveries = []
    for target in targets:
        try:
            sender = _send_prefect_block if target.startswith("prefect-block:") else _send_apprise
            delivery = sender(target, digest)
        except Exception as exc:
            delivery = Delivery(redact(target), False, scrub(f"{type(exc).__name__}: {exc}", secrets_of(target)))
        if not delivery.ok:
            log.warning("alert to %s not delivered: %s", delivery.channel, delivery.error)
        deliveries.append(delivery)
    return deliveries


# --- the alert log ----------------------------------------------------------------------------

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
                    if any(item["url"] == url and item["change"] in (Change.NEWLY_DEAD, REMINDER) for item in entry.items)]
        if not mentions or len(evaluated) - mentions[-1] >= every:
            due.append(url)
    return due


# --- one run's alert step ---------------------------------------------------------------------

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
                rule: ConfirmRule = ConfirmRule()) -> AlertOutcome:
    """Decide, send and record the alerts of one finished run (once: a second call sends nothing).

    ``headline`` is the report's first line (``reports.headline.first_line``): a digest opens with it.
    ``rule`` confirms deaths (as in the report).
    """
    store = Store.open(db)
    try:
        return _process(store, run_id, settings, github_api_url, github_token, headline, rule)
    finally:
        store.close()


def _process(store: Store, run_id: int, settings: AlertSettings, github_api_url: str,
             github_token: str | None, headline: str | None = None, rule: ConfirmRule = ConfirmRule()) -> AlertOutcome:
    alerts = AlertLog(store.engine)
    recorded = alerts.entry(run_id)
    if recorded is not None:
        return AlertOutcome(run_id, recorded.outcome)
    history = alerts.entries(before_run=run_id)
    facts = replace(RunFacts.of(store.run(run_id)), headline=headline)
    if facts.could_not_check:
        return _blind_run(alerts, history, facts, settings)
    comparison = compare_runs(store, _baseline(store, history, run_id), run_id, rule=rule)
    papers: dict[str, list[str]] = {}
    for _, title, cited in store.papers_of_run(run_id):
        for link in cited:
            papers.setdefault(link.normalized, []).append(title)
    dead = {url: snap for url, snap in comparison.after.items() if snap.verdict.status is Verdict.DEAD}
    newly = {t.url for t in comparison.transitions if t.change is Change.NEWLY_DEAD}
    reminders = [DigestItem(url, REMINDER, dead[url].reason, tuple(papers.get(url, ())), dead_since=dead[url].verdict.dead_since)
                 for url in reminders_due(history, [u for u in dead if u not in newly], settings.remind_every)]
    digest = build_digest(facts, comparison.transitions, papers, reminders)
    deliveries = send_digest(digest, settings.notify) if digest else []
    issue = None
    if settings.tracking_issue:
        issue = sync_tracking_issue(
            settings.tracking_issue,
            [DeadLink(url, snap.reason, snap.verdict.dead_since, tuple(papers.get(url, ()))) for url, snap in dead.items()],
            api_url=github_api_url, token=github_token, label=settings.tracking_label, run_id=run_id,
            newly_dead=sorted(newly), recovered=sorted(t.url for t in comparison.transitions if t.change is Change.RECOVERED),
            rule=rule)
        if issue.action in (IssueAction.FAILED, IssueAction.SKIPPED):
            log.warning("tracking issue %s not kept: %s", settings.tracking_issue, issue.error)
    outcome = DIGEST if digest else QUIET
    alerts.record(run_id, outcome, digest, deliveries, issue)
    return AlertOutcome(run_id, outcome, digest, deliveries, issue)


def _blind_run(alerts: AlertLog, history: Sequence[LogEntry], facts: RunFacts, settings: AlertSettings) -> AlertOutcome:
    """One notice per outage: the first blind run after a run that could check sends it, the next ones stay quiet."""
    if history and history[-1].outcome in (BLIND, BLIND_AGAIN):
        alerts.record(facts.run_id, BLIND_AGAIN, None, [], None)
        return AlertOutcome(facts.run_id, BLIND_AGAIN)
    notice = could_not_check_notice(facts)
    deliveries = send_digest(notice, settings.notify)
    alerts.record(facts.run_id, BLIND, notice, deliveries, None)
    return AlertOutcome(facts.run_id, BLIND, notice, deliveries)
