"""Alerts: one digest per run, only for verdict transitions, to real local receivers (HTTP webhook, SMTP)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from click.testing import CliRunner
from github import Auth, Github

from checks.model import Link, LinkKind, Observation, Paper, State
from flows.notify import NOTIFY_ENV
from reports.alerts import AlertLog, AlertSettings, Digest, DigestItem, process_run, redact, send_digest
from reports.store import Store
from receivers import MailReceiver, WebhookReceiver
from simweb import SimulatedWeb

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
GONE, FINE, OTHER = "https://gone.example.org/paper", "https://fine.example.org/", "https://other.example.org/"
EVIL_TITLE = '<img src=x onerror=alert(1)> [click](javascript:alert(2)) @channel\n- https://fake.example.org/'


@pytest.fixture()
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


class History:
    """A history database filled run by run on a scripted clock, as the monitor flow fills it."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = str(path / "history.sqlite")
        self.monkeypatch = monkeypatch
        self.papers = [Paper(id=f"p{i}", title=title, links=(Link(url=url, normalized=url, kind=LinkKind.PROJECT),))
                       for i, (title, url) in enumerate([(EVIL_TITLE, GONE), ("Fine paper", FINE), ("Other paper", OTHER)])]

    def run(self, day: float, gone: str = "alive", fine: str = "alive", other: str = "alive", offline: bool = False) -> int:
        when = (T0 + timedelta(days=day)).isoformat()
        self.monkeypatch.setattr("reports.store.now_iso", lambda: when)
        with Store.open(self.db) as store:
            run_id = store.start_run(["papers.md"])
            store.record_papers(run_id, self.papers)
            store.record_observations(run_id, [
                Observation(url=url, state=State(state), checker="http",
                            reason="HTTP 404 <b>gone</b>" if state == "dead" else f"{state} (check of day {day:g})")
                for url, state in ((GONE, gone), (FINE, fine), (OTHER, other))])
            store.finish_run(run_id, status="completed", offline=offline, notes=[])
        return run_id

    def log(self) -> list[tuple[int, str, list[tuple[str, str]]]]:
        with Store.open(self.db) as store:
            return [(e.run_id, e.outcome, e.changes) for e in AlertLog(store.engine).entries()]


def alert(history: History, run_id: int, settings: AlertSettings, **kwargs: Any) -> Any:
    return process_run(history.db, run_id, settings, github_api_url=kwargs.pop("api", "http://127.0.0.1:9"), **kwargs)


# --- the digest -------------------------------------------------------------------------------

def test_the_digest_escapes_untrusted_text_in_every_format() -> None:
    digest = Digest(7, T0.isoformat(), "paperwatch run 7: 1 newly dead", (
        DigestItem(GONE, "newly dead", "<script>alert(3)</script>", (EVIL_TITLE,), dead_since=T0.isoformat()),
        DigestItem("javascript:alert(4)", "moved", "moved", suggested_url="https://new.example.org/x")))

    html, markdown, text = digest.html(), digest.markdown(), digest.text()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert html.count("<a href=") == 2 and 'href="javascript:' not in html
    rendered = MarkdownIt("commonmark").render(markdown)  # as a chat app or GitHub shows it
    assert re.findall(r'href="([^"]*)"', rendered) == [GONE, "https://new.example.org/x"]
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "[click](javascript:alert(2))" in rendered
    # a title cannot start a line of its own (a fake list item) nor ping a channel
    for body in (html, markdown, text):
        assert "\n- https://fake" not in body and "@channel" not in body
    assert f"- {GONE}: <script>alert(3)</script> (dead since 2026-11-02 09:00 UTC)" in text


def test_a_failing_channel_is_recorded_and_no_secret_reaches_logs_or_records(hook: WebhookReceiver,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    digest = Digest(1, T0.isoformat(), "paperwatch run 1: 1 recovered", (DigestItem(GONE, "recovered", "HTTP 200"),))
    closed = "json://127.0.0.1:9/hooks/s3cr3t-closed-port"
    refusing = WebhookReceiver()
    with caplog.at_level(logging.DEBUG), refusing:
        refusing.status = 500
        deliveries = send_digest(digest, [closed, refusing.url("s3cr3t-refused"), hook.url("s3cr3t-good")])

    assert [(d.channel, d.ok) for d in deliveries] == [
        ("json://127.0.0.1:9/…", False), (f"json://127.0.0.1:{refusing.port}/…", False), (f"json://127.0.0.1:{hook.port}/…", True)]
    assert all(d.error for d in deliveries[:2])
    assert [m["title"] for m in hook.messages] == ["paperwatch run 1: 1 recovered"]
    recorded = caplog.text + json.dumps([d.to_dict() for d in deliveries])
    assert "JSON POST URL" in caplog.text  # Apprise did log the request...
    assert "s3cr3t" not in recorded  # ...but never a secret
    assert redact("mailtos://user:pw@smtp.example.org:465?to=a@b.c") == "mailtos://smtp.example.org:465/…"
    assert redact("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#papers") == "slack://…"  # a token, not a host


# --- which runs send what ---------------------------------------------------------------------

def test_a_death_is_announced_once_when_confirmed_and_its_recovery_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         hook: WebhookReceiver) -> None:
    history = History(tmp_path, monkeypatch)
    settings = AlertSettings(notify=(hook.url(),))
    for day, gone in enumerate(["alive", "dead", "dead", "dead", "alive", "alive"]):
        alert(history, history.run(day, gone=gone), settings)

    assert history.log() == [(1, "quiet", []), (2, "quiet", []), (3, "digest", [("newly dead", GONE)]),
                             (4, "quiet", []), (5, "digest", [("recovered", GONE)]), (6, "quiet", [])]
    assert [m["title"] for m in hook.messages] == ["paperwatch run 3: 1 newly dead", "paperwatch run 5: 1 recovered"]
    assert "dead since 2026-11-03 09:00 UTC" in hook.messages[0]["message"]


def test_a_blind_run_sends_one_notice_and_a_death_it_hid_is_announced_by_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: WebhookReceiver) -> None:
    history = History(tmp_path, monkeypatch)
    settings = AlertSettings(notify=(hook.url(),))
    alert(history, history.run(0), settings)
    alert(history, history.run(1, gone="dead"), settings)
    # the 2nd "gone" comes in a run that could not check most links: death confirmed, but not announced
    alert(history, history.run(2, gone="dead", fine="unknown", other="unknown"), settings)
    alert(history, history.run(3, "unknown", "unknown", "unknown", offline=True), settings)
    alert(history, history.run(4, gone="dead"), settings)

    assert history.log() == [(1, "quiet", []), (2, "quiet", []), (3, "could not check", []),
                             (4, "could not check (repeat)", []), (5, "digest", [("newly dead", GONE)])]
    assert [m["title"] for m in hook.messages] == ["paperwatch run 3: the monitor could not check the links",
                                                   "paperwatch run 5: 1 newly dead"]
    assert "2 of its 3 links could not be checked" in hook.messages[0]["message"]


def test_reminders_repeat_every_n_runs_while_dead_and_a_retried_step_sends_nothing_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: WebhookReceiver) -> None:
    history = History(tmp_path, monkeypatch)
    settings = AlertSettings(notify=(hook.url(),), remind_every=2)
    for day, gone in enumerate(["dead", "dead", "dead", "dead", "dead", "dead", "alive"]):
        run_id = history.run(day, gone=gone)
        alert(history, run_id, settings)
        alert(history, run_id, settings)

    assert [(run, changes) for run, _, changes in history.log() if changes] == [
        (2, [("newly dead", GONE)]), (4, [("still dead", GONE)]), (6, [("still dead", GONE)]), (7, [("recovered", GONE)])]
    assert len(hook.messages) == 4


def test_an_email_digest_is_html_with_untrusted_text_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = History(tmp_path, monkeypatch)
    with MailReceiver() as mail:
        settings = AlertSettings(notify=(mail.url(),))
        for day in range(2):
            alert(history, history.run(day, gone="dead"), settings)
        assert len(mail.messages) == 1
        message = mail.messages[0]
    assert message["Subject"] == "paperwatch run 2: 1 newly dead" and message["To"] == "team@example.org"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f'<a href="{GONE}">{GONE}</a>' in html and "HTTP 404 &lt;b&gt;gone&lt;/b&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# --- the tracking issue -----------------------------------------------------------------------

def test_one_tracking_issue_is_opened_updated_and_closed_as_links_die_and_recover(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = History(tmp_path, monkeypatch)
    settings = AlertSettings(tracking_issue="lab/watch")
    with SimulatedWeb({"github": {"tokens": ["ghp_issue"], "repos": [{"full_name": "lab/watch"}]}}) as sim:
        def step(day: int, **states: str) -> str:
            outcome = alert(history, history.run(day, **states), settings, api=sim.github_api_url, github_token="ghp_issue")
            return outcome.tracking_issue.action

        actions = [step(0), step(1, gone="dead"), step(2, gone="dead"), step(3, gone="dead"),
                   step(4, gone="dead", other="dead"), step(5, gone="dead", other="dead"),
                   step(6), step(7)]
        repo = Github(base_url=sim.github_api_url, auth=Auth.Token("ghp_issue"), lazy=True).get_repo("lab/watch")
        issues = list(repo.get_issues(state="all"))
        comments = [c.body for c in issues[0].get_comments()]

    assert actions == ["none", "none", "opened", "unchanged", "unchanged", "updated", "closed", "none"]
    assert len(issues) == 1 and issues[0].state == "closed" and issues[0].title == "paperwatch: 2 dead links"
    assert [label.name for label in issues[0].labels] == ["paperwatch"]
    assert f"`{GONE}`" in issues[0].body and f"`{OTHER}`" in issues[0].body
    shown = MarkdownIt("commonmark").enable("table").render(issues[0].body)  # as GitHub renders the issue
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown and "href=" not in shown
    assert "@channel" not in issues[0].body and "@\u2060channel" in issues[0].body
    assert comments == [f"Run 6:\n\n**Newly dead** (1): `{OTHER}`", "Run 7: every link recovered; closing."]


def test_the_tracking_issue_shows_each_dead_links_archived_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checks.archive_model import ArchiveLookup, ArchiveService, ArchivedCopy, LookupOutcome
    from reports import archive_store

    history = History(tmp_path, monkeypatch)
    copy = "https://web.archive.org/web/20240402000000/https://gone.example.org/a_b"
    settings = AlertSettings(tracking_issue="lab/watch")
    with SimulatedWeb({"github": {"tokens": ["ghp_issue"], "repos": [{"full_name": "lab/watch"}]}}) as sim:
        history.run(0)
        history.run(1, gone="dead", other="dead")
        last = history.run(2, gone="dead", other="dead")
        services = (ArchiveService.SOFTWARE_HERITAGE, ArchiveService.WAYBACK)
        with Store.open(history.db) as store:  # what the run's rescue step found, before its alerts
            archive_store.record(store, [
                ArchiveLookup(GONE, LookupOutcome.FOUND, ArchivedCopy(ArchiveService.WAYBACK, copy, "2024-04-02T00:00:00+00:00"),
                              "asked", T0.isoformat(), services=services),
                ArchiveLookup(OTHER, LookupOutcome.NONE, None, "asked", T0.isoformat(), services=services)], T0)
        outcome = alert(history, last, settings, api=sim.github_api_url, github_token="ghp_issue")
        body = Github(base_url=sim.github_api_url, auth=Auth.Token("ghp_issue"), lazy=True).get_repo("lab/watch").get_issue(
            outcome.tracking_issue.number).body
    assert outcome.tracking_issue.action == "opened"
    shown = MarkdownIt("commonmark").enable("table").render(body)  # as GitHub renders the issue
    rows = {re.search(r"<code>(.*?)</code>", row).group(1): row for row in re.findall(r"<tr>(.*?)</tr>", shown, re.DOTALL)
            if "<code>" in row}
    assert "archived copy: Wayback Machine, captured 2024-04-02" in rows[GONE]
    assert f'<a href="{copy}">' in rows[GONE]  # the copy is one click away
    assert "no archived copy found: this page may be lost" in rows[OTHER] and "href=" not in rows[OTHER]
    assert "<img" not in shown  # the paper titles stay inert beside the new column


def test_a_tracking_issue_that_cannot_be_kept_is_recorded_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    hook: WebhookReceiver) -> None:
    history = History(tmp_path, monkeypatch)
    settings = AlertSettings(notify=(hook.url(),), tracking_issue="lab/watch")
    alert(history, history.run(0, gone="dead"), settings)
    no_token = alert(history, history.run(1, gone="dead"), settings)
    unreachable = alert(history, history.run(2, gone="alive"), settings, github_token="ghp_x")  # nothing listens on :9

    assert (no_token.outcome, no_token.tracking_issue.action) == ("digest", "skipped")
    assert (unreachable.outcome, unreachable.tracking_issue.action) == ("digest", "failed")
    assert "ghp_x" not in str(unreachable.tracking_issue.error)
    assert [m["title"] for m in hook.messages] == ["paperwatch run 2: 1 newly dead", "paperwatch run 3: 1 recovered"]


# --- configuration ----------------------------------------------------------------------------

def test_the_command_line_refuses_bad_alert_settings_without_echoing_a_secret(tmp_path: Path) -> None:
    from flows.cli import main

    papers = tmp_path / "papers.md"
    papers.write_text("- A paper: https://example.org/\n")
    (tmp_path / "paperwatch.toml").write_text('notify = ["json://hooks.example.org/s3cr3t"]\n[alerts]\nremind = 3\n')
    runner = CliRunner()
    args = ["run", str(papers), "--db", str(tmp_path / "h.sqlite"), "--out", str(tmp_path / "out")]

    bad_key = runner.invoke(main, args + ["--config", str(tmp_path / "paperwatch.toml")])
    bad_url = runner.invoke(main, args + ["--notify", "s3cr3t-not-a-url"])
    bad_repo = runner.invoke(main, args + ["--tracking-issue", "just-a-name"])

    assert bad_key.exit_code == 2 and "unknown key 'alerts.remind'" in bad_key.output
    assert bad_url.exit_code == 2 and "expected an Apprise URL" in bad_url.output and "s3cr3t" not in bad_url.output
    assert bad_repo.exit_code == 2 and "expected OWNER/REPO" in bad_repo.output


# --- through the real flow --------------------------------------------------------------------

E2E_PAPERS = """# Papers
- Gone Paper: https://gone.example.org/paper
- Kept Paper: https://kept.example.org/
- Code Paper: https://github.com/lab/alive-repo
"""


@pytest.mark.prefect
def test_the_monitor_flow_alerts_a_webhook_and_a_mailbox_and_keeps_the_urls_out_of_prefect(
        prefect_api: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs of the real flow a day apart (scripted clock): the second confirms a death."""
    from checks.settings import CheckSettings, RemapRule
    from flows.monitor import monitor

    scenario = {"github": {"tokens": ["ghp_e2e"], "repos": [{"full_name": "lab/alive-repo"}, {"full_name": "lab/watch"}]},
                "web": {"https://gone.example.org/paper": {"status": 404}, "https://kept.example.org/": {"title": "Kept"}}}
    (tmp_path / "papers.md").write_text(E2E_PAPERS)
    with SimulatedWeb(scenario) as sim, WebhookReceiver() as hook, MailReceiver() as mail:
        settings = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0, retries=0,
                                 remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules)).to_dict()
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_e2e")
        monkeypatch.setenv(NOTIFY_ENV, f"{hook.url('s3cr3t-hook')} {mail.url()}")
        results = []
        for day in range(2):
            when = (T0 + timedelta(days=day)).isoformat()
            monkeypatch.setattr("reports.store.now_iso", lambda: when)
            results.append(monitor(sources=[str(tmp_path / "papers.md")], db=str(tmp_path / "h.sqlite"),
                                   out=str(tmp_path / "out"), settings=settings,
                                   alerts=AlertSettings(tracking_issue="lab/watch").public_dict()))
        issue = Github(base_url=sim.github_api_url, auth=Auth.Token("ghp_e2e")).get_repo("lab/watch").get_issue(1)
        hooks, mails = hook.messages, mail.messages

    assert [r["alerts"]["outcome"] for r in results] == ["quiet", "digest"]
    assert results[1]["alerts"]["items"] == [{"url": "https://gone.example.org/paper", "change": "newly dead"}]
    assert [h["title"] for h in hooks] == ["paperwatch run 2: 1 newly dead"] and "Gone Paper" in hooks[0]["message"]
    assert [m["Subject"] for m in mails] == ["paperwatch run 2: 1 newly dead"]
    assert issue.state == "open" and "gone.example.org/paper" in issue.body
    report = json.loads(Path(results[1]["json"]).read_text())
    assert [(c["change"], c["from"], c["to"]) for c in report["changes"]] == [("newly dead", "degraded", "dead")]
    flow_run_id = report["run"]["flow_run_id"]
    assert "s3cr3t" not in (tmp_path / "h.sqlite").read_bytes().decode("latin-1")
    assert "s3cr3t" not in json.dumps(results)
    assert "s3cr3t" not in str(_flow_run_parameters(flow_run_id))


def _flow_run_parameters(flow_run_id: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return dict(client.read_flow_run(flow_run_id).parameters)


@pytest.mark.prefect
def test_a_prefect_notification_block_can_stand_in_for_a_url(prefect_api: None, hook: WebhookReceiver) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from flows.notify import SENDERS

    CustomWebhookNotificationBlock(name="paperwatch", url=f"http://127.0.0.1:{hook.port}/hooks/block",
                                   json_data={"title": "{{subject}}", "message": "{{body}}"},
                                   allow_private_urls=True).save("paperwatch-alerts", overwrite=True, _sync=True)
    digest = Digest(9, T0.isoformat(), "paperwatch run 9: 1 moved",
                    (DigestItem(GONE, "moved", "moved permanently", suggested_url="https://new.example.org/"),))

    delivered, missing = send_digest(digest, ["prefect-block:custom-webhook/paperwatch-alerts",
                                              "prefect-block:custom-webhook/no-such-block"], SENDERS)

    assert (delivered.channel, delivered.ok) == ("prefect-block:custom-webhook/paperwatch-alerts", True)
    assert hook.messages == [{"title": "paperwatch run 9: 1 moved", "message": digest.text()}]
    assert not missing.ok and missing.error
