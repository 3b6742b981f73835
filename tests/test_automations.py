"""The automations shipped with the deployments, on a real ``prefect server`` on 127.0.0.1 (its own
PREFECT_HOME, triggers and actions services on, proactive triggers evaluated every second).

``paperwatch automations apply`` runs as the user runs it (a subprocess); events reach the server
through its events API, as a flow run's would; a notification is "sent" when the custom-webhook
block the automations use has posted it to a receiver on 127.0.0.1.

A proactive trigger starts counting when the server first evaluates it (then at each completion),
so a completion dated 27 hours back cannot make a 26-hour window fire at once: the missed-run tests
apply the same automation with an 18-second window instead of sleeping for a day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from receivers import WebhookReceiver
from simweb import free_port

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BLOCK = "custom-webhook/lab-alerts"
MISSED = "paperwatch: monitor missed its run"
LINKS = "paperwatch: links died"
SHORT_WINDOW_HOURS = "0.005"  # 18 seconds
pytestmark = pytest.mark.deployment


class Server:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.log = root / "server.log"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
        self.env.update(PREFECT_HOME=str(root / "prefect-home"), PREFECT_API_URL=self.api, PREFECT_SERVER_ANALYTICS_ENABLED="false",
                        DO_NOT_TRACK="1", PREFECT_SERVER_UI_ENABLED="false", PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
                        PREFECT_SERVER_EVENTS_PROACTIVE_GRANULARITY="PT1S")  # the default is 5 s
        self.process: subprocess.Popen[bytes] | None = None
        self.deployments: dict[str, str] = {}

    def http(self) -> httpx.Client:
        from prefect.client.base import PrefectHttpxSyncClient

        return PrefectHttpxSyncClient(base_url=self.api, timeout=30, raise_on_all_errors=False)

    def paperwatch(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "paperwatch"), "automations", *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=180)

    def post_events(self, *events: dict[str, Any]) -> None:
        with self.http() as api:
            response = api.post("/events", json=list(events))
        assert response.status_code == 204, response.text

    def automations(self) -> list[dict[str, Any]]:
        with self.http() as api:
            return [a for a in api.post("/automations/filter", json={}).json() if a["name"].startswith("paperwatch:")]

    def automation_events(self, name: str, since: datetime) -> list[str]:
        """The event names the server recorded about the automation (triggered, action executed or failed)."""
        ids = [f"prefect.automation.{a['id']}" for a in self.automations() if a["name"] == name]
        with self.http() as api:
            found = api.post("/events/filter", json={"filter": {
                "event": {"prefix": ["prefect.automation."]}, "resource": {"id": ids},
                "occurred": {"since": since.isoformat()}}, "limit": 50}).json()["events"]
        return [f"{e['event']} {e['payload'].get('reason', '')}".strip() for e in found]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver) -> Iterator[Server]:
    """The server, a notification block posting to ``receiver``, and the two deployments (made through the API)."""
    server = Server(tmp_path_factory.mktemp("automations"))
    try:
        with server.log.open("wb") as log:
            server.process = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                               str(server.port)], env=server.env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True)
        until(lambda: _healthy(server), 150, f"prefect server not healthy:\n{server.log.read_text()[-3000:]}")
        block = ("from prefect.blocks.notifications import CustomWebhookNotificationBlock as B; "
                 f"B(name='lab alerts', url='http://127.0.0.1:{receiver.port}/hooks/lab', "
                 "json_data={'subject': '{{subject}}', 'body': '{{body}}'}).save('lab-alerts')")
        made = subprocess.run([sys.executable, "-c", block], env=server.env, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr[-3000:]
        with server.http() as api:
            for flow, name in (("monitor", "paperwatch-daily"), ("ingest", "paperwatch-hf-daily")):
                flow_id = api.post("/flows/", json={"name": flow}).json()["id"]
                created = api.post("/deployments/", json={"name": name, "flow_id": flow_id})
                assert created.status_code in (200, 201), created.text
                server.deployments[name] = created.json()["id"]
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh(server: Server, receiver: WebhookReceiver) -> Server:
    """No automation (their windows and buckets go with them) and no message yet."""
    with server.http() as api:
        for automation in server.automations():
            assert api.delete(f"/automations/{automation['id']}").status_code == 204
    receiver.received.clear()
    return server


def _healthy(server: Server) -> bool:
    assert server.process and server.process.poll() is None, server.log.read_text()[-3000:]
    try:
        return httpx.get(f"{server.api}/health", timeout=2).json() is True
    except (httpx.HTTPError, ValueError):
        return False


def until(condition: Callable[[], Any], timeout: float, message: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    pytest.fail(message() if callable(message) else message)


def completed(server: Server, deployment: str, occurred: datetime) -> dict[str, Any]:
    """A flow run's Completed event as Prefect emits it: the run, related to its flow and deployment."""
    flow = "monitor" if deployment == "paperwatch-daily" else "ingest"
    return {"id": str(uuid.uuid4()), "occurred": occurred.isoformat(), "event": "prefect.flow-run.Completed",
            "resource": {"prefect.resource.id": f"prefect.flow-run.{uuid.uuid4()}", "prefect.resource.name": "calm-heron",
                         "prefect.state-type": "COMPLETED", "prefect.state-name": "Completed"},
            "related": [{"prefect.resource.id": f"prefect.flow.{uuid.uuid4()}", "prefect.resource.role": "flow",
                         "prefect.resource.name": flow},
                        {"prefect.resource.id": f"prefect.deployment.{server.deployments[deployment]}",
                         "prefect.resource.role": "deployment", "prefect.resource.name": deployment}],
            "payload": {}}


def missed_messages(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [m for m in receiver.messages if "has not completed" in m["subject"]]


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_apply_creates_the_two_automations_and_applying_again_leaves_two(fresh: Server) -> None:
    first = fresh.paperwatch("apply", "--block", BLOCK)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"created: {MISSED} (on)", f"created: {LINKS} (off)"]
    again = fresh.paperwatch("apply", "--block", BLOCK)
    assert again.returncode == 0 and again.stdout.splitlines() == [f"unchanged: {MISSED} (on)", f"unchanged: {LINKS} (off)"]
    switched = fresh.paperwatch("apply", "--block", BLOCK, "--links")
    assert switched.stdout.splitlines() == [f"unchanged: {MISSED} (on)", f"updated: {LINKS} (on)"]

    automations = {a["name"]: a for a in fresh.automations()}
    assert sorted(automations) == sorted([MISSED, LINKS])
    block_id = fresh.http().get("/block_types/slug/custom-webhook/block_documents/name/lab-alerts").json()["id"]
    missed, links = automations[MISSED], automations[LINKS]
    assert missed["enabled"] and links["enabled"]
    assert {k: missed["trigger"][k] for k in ("type", "posture", "threshold", "within", "after", "expect", "for_each")} == {
        "type": "event", "posture": "Proactive", "threshold": 1, "within": 93600.0,
        "after": ["prefect.flow-run.Completed"], "expect": ["prefect.flow-run.Completed"], "for_each": []}
    assert missed["trigger"]["match_related"] == {"prefect.resource.role": "deployment",
                                                  "prefect.resource.id": f"prefect.deployment.{fresh.deployments['paperwatch-daily']}"}
    assert {k: links["trigger"][k] for k in ("posture", "threshold", "within", "expect")} == {
        "posture": "Reactive", "threshold": 1, "within": 0.0, "expect": ["paperwatch.run.links-died"]}
    for automation in (missed, links):
        assert [(a["type"], a["block_document_id"]) for a in automation["actions"]] == [("send-notification", block_id)]

    shown = fresh.paperwatch("show")
    assert shown.returncode == 0 and f"name: '{MISSED}'" in shown.stdout and "block_document_id: " + block_id in shown.stdout
    dry = fresh.paperwatch("apply", "--block", BLOCK, "--dry-run")
    assert dry.stdout.startswith("automations:\n") and f"would update: {LINKS} (off)" in dry.stderr
    assert len(fresh.automations()) == 2 and {a["name"]: a["enabled"] for a in fresh.automations()}[LINKS]  # nothing changed


def test_apply_says_in_one_line_what_is_missing(fresh: Server) -> None:
    no_block = fresh.paperwatch("apply", "--block", "slack-webhook/nowhere")
    assert no_block.returncode == 2 and no_block.stderr.startswith("paperwatch: error: --block slack-webhook/nowhere: no such block")
    no_deployment = fresh.paperwatch("apply", "--block", BLOCK, "--deployment", "monitor/nightly")
    assert no_deployment.returncode == 2 and "not deployed on this Prefect server" in no_deployment.stderr
    unset = subprocess.run([str(BIN / "paperwatch"), "automations", "apply", "--block", BLOCK], cwd=REPO, text=True,
                           capture_output=True, timeout=120, env={k: v for k, v in fresh.env.items() if k != "PREFECT_API_URL"})
    assert unset.returncode == 2 and "PREFECT_API_URL is not set" in unset.stderr
    assert fresh.automations() == []


def test_links_died_sends_one_message_per_run_naming_the_links(fresh: Server, receiver: WebhookReceiver) -> None:
    assert fresh.paperwatch("apply", "--block", BLOCK, "--links").returncode == 0
    since = now()
    fresh.post_events({
        "id": str(uuid.uuid4()), "occurred": since.isoformat(), "event": "paperwatch.run.links-died",
        "resource": {"prefect.resource.id": "paperwatch.run.7", "prefect.resource.name": "paperwatch run 7"},
        "payload": {"run_id": 7, "count": 2, "more": 0, "report": "/srv/paperwatch-report/index.html", "links": [
            {"url": "https://github.com/lab/gone", "reason": "HTTP 404", "papers_total": 3,
             "papers": [{"id": "2403.1", "title": "Sparse Mixtures", "source": "hf"}]},
            {"url": "https://huggingface.co/datasets/lab/vanished", "reason": "repository not found", "papers_total": 1,
             "papers": [{"id": "2403.2", "title": "Tiny Data", "source": "hf"}]}]}})
    message = until(lambda: receiver.messages, 60, lambda: f"no message; automation events: {fresh.automation_events(LINKS, since)}")[0]
    assert message["subject"] == "paperwatch: 2 links died in run 7"
    assert "- https://github.com/lab/gone (HTTP 404), cited by Sparse Mixtures and 2 more" in message["body"]
    assert "- https://huggingface.co/datasets/lab/vanished (repository not found), cited by Tiny Data\n" in message["body"]
    assert "Report: /srv/paperwatch-report/index.html" in message["body"]
    until(lambda: "prefect.automation.action.executed" in fresh.automation_events(LINKS, since), 30, "no action.executed event")
    assert len(receiver.messages) == 1 and not missed_messages(receiver)


def test_the_missed_run_automation_stays_quiet_while_the_monitor_completes_then_tells(fresh: Server,
                                                                                      receiver: WebhookReceiver) -> None:
    applied = fresh.paperwatch("apply", "--block", BLOCK, "--missed-after-hours", SHORT_WINDOW_HOURS)
    assert applied.returncode == 0, applied.stderr
    since = now()
    while now() < since + timedelta(seconds=30):  # a completion every 3 s for longer than the 18 s window
        fresh.post_events(completed(fresh, "paperwatch-daily", now()))
        time.sleep(3)
    assert missed_messages(receiver) == [], fresh.automation_events(MISSED, since)
    stopped = now()
    message = until(lambda: missed_messages(receiver), 60, lambda: f"no message: {fresh.automation_events(MISSED, since)}")[0]
    assert now() - stopped > timedelta(seconds=15)  # a window after the last completion, not before
    assert message["subject"] == "paperwatch: monitor/paperwatch-daily has not completed a run in 18 seconds"
    assert message["body"].startswith("No run of the Prefect deployment monitor/paperwatch-daily completed in the last 18 seconds.")
    assert "Last completion seen: " in message["body"] and "(calm-heron)" in message["body"]


def test_the_missed_run_automation_tells_when_the_last_completion_is_old_or_of_another_deployment(
        fresh: Server, receiver: WebhookReceiver) -> None:
    assert fresh.paperwatch("apply", "--block", BLOCK, "--missed-after-hours", SHORT_WINDOW_HOURS).returncode == 0
    since = now()
    fresh.post_events(completed(fresh, "paperwatch-daily", since - timedelta(hours=27)),
                      completed(fresh, "paperwatch-hf-daily", since))
    message = until(lambda: missed_messages(receiver), 60, lambda: f"no message: {fresh.automation_events(MISSED, since)}")[0]
    assert "monitor/paperwatch-daily" in message["subject"]
    until(lambda: "prefect.automation.triggered" in fresh.automation_events(MISSED, since), 30, "no automation.triggered event")
    assert not [m for m in receiver.messages if "links died" in m["subject"]]  # --links was not given: that one is off


def test_the_help_says_what_each_automation_does_and_which_is_on() -> None:
    from click.testing import CliRunner

    from flows.cli import main

    text = CliRunner().invoke(main, ["automations", "--help"]).output
    assert MISSED in text and LINKS in text and "off unless --links" in text
    assert "paperwatch automations apply --block" in CliRunner().invoke(main, ["--help"]).output


def test_a_server_that_cannot_be_reached_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_HOME": str(tmp_path)}
    for args in (["apply", "--block", BLOCK], ["show"]):
        done = subprocess.run([str(BIN / "paperwatch"), "automations", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"paperwatch: error: cannot reach the Prefect server at http://127.0.0.1:{port}/api (PREFECT_API_URL): "
            "ConnectError: [Errno 111] Connection refused"]
