"""Every verdict change of a monitor run is one Prefect event, and the links that need attention are a table
artifact: the real flow, three times against the demo's simulated web, events and artifacts read back from
the local Prefect server's REST API (``POST /api/events/filter``, ``/api/artifacts/filter``)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reports.link_events import (ATTENTION_KEY, COULD_NOT_CHECK, LINK_EVENTS, LINKS_DIED, MAX_EXAMPLES, attention_table,
                                 event_name, link_resource_id, run_events)
from reports.report_model import Report

pytestmark = pytest.mark.prefect
BENCH = "https://huggingface.co/datasets/paperwatch-demo/bench"  # every Hub request for it dropped: unknown in every run
NEWLY_DEAD = {"https://llm-stacking.github.io", "https://huggingface.co/paperwatch-demo/vanished-model"}


@pytest.fixture(scope="module")
def runs(prefect_api: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """The demo's day 1, its day 2 (deaths, a recovery, an archiving) and day 2 again (nothing changes), judged by
    the rule ``confirm_runs = 1``, ``confirm_hours = 0`` so that one "gone" answer confirms a death."""
    from flows.demo import DEMO_SCENARIO, demo_settings, demo_sources
    from flows.monitor import monitor
    from simweb.scenario import Scenario
    from simweb.server import SimulatedWeb

    out = tmp_path_factory.mktemp("events")
    results = []
    with SimulatedWeb(Scenario.load(DEMO_SCENARIO)) as web:
        settings = demo_settings(web).to_dict()
        for phase in ("day-1", "day-2", "day-2"):
            web.set_phase(phase)
            result = monitor(sources=demo_sources(), db=str(out / "h.sqlite"), out=str(out / f"report-{len(results) + 1}"),
                             settings=settings, confirm_runs=1, confirm_hours=0)
            result["report"] = json.loads(Path(result["json"]).read_text())
            results.append(result)
    yield results


def _api() -> str:
    from prefect.settings import PREFECT_API_URL

    api = str(PREFECT_API_URL.value())
    assert urlsplit(api).hostname == "127.0.0.1"
    return api


def _query(flow_run_id: str) -> list[dict[str, Any]]:
    """Every paperwatch event the flow run emitted, as the server stores them (all pages)."""
    now = datetime.now(timezone.utc)
    body = {"filter": {"event": {"prefix": ["paperwatch."]},
                       "related": {"id": [f"prefect.flow-run.{flow_run_id}"]},
                       "occurred": {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(minutes=5)).isoformat()}},
            "limit": 50}
    events: list[dict[str, Any]] = []
    with httpx.Client(timeout=30) as client:
        page = client.post(f"{_api()}/events/filter", json=body)
        while True:
            page.raise_for_status()
            data = page.json()
            events += data["events"]
            if not data.get("next_page"):
                return events
            page = client.get(data["next_page"])


def events_of(result: dict[str, Any], until: str = COULD_NOT_CHECK, deadline: float = 90.0) -> list[dict[str, Any]]:
    """The run's events once the server has stored its last one (``until``, emitted after every link event)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    flow_run_id = result["report"]["run"]["flow_run_id"]
    expected = len(result["report"]["changes"]) + (1 if any(c["change"] == "newly dead" for c in result["report"]["changes"]) else 0)
    stop = time.monotonic() + deadline
    while True:
        events = _query(flow_run_id)
        names = [e["event"] for e in events]
        if (until in names and len(events) >= expected + 1) or time.monotonic() > stop:
            return events
        time.sleep(0.5)


def _slug(change: str) -> str:
    return event_name(change)


def _link_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] in LINK_EVENTS]


def test_a_first_run_emits_no_link_event_and_says_what_it_could_not_check(runs: list[dict[str, Any]]) -> None:
    first = runs[0]
    events = events_of(first)
    assert first["report"]["changes"] == [] and _link_events(events) == []
    assert [e["event"] for e in events] == [COULD_NOT_CHECK]
    payload = events[0]["payload"]
    assert payload["unknown"] == first["report"]["summary"]["by_state"]["unknown"] >= 1
    assert BENCH in payload["examples"] and len(payload["examples"]) <= MAX_EXAMPLES
    assert sum(payload["reasons"].values()) == payload["unknown"]
    assert payload["run_id"] == 1 and payload["offline"] is False
    assert first["events"]["by_name"] == {COULD_NOT_CHECK: 1}


def test_each_verdict_change_is_one_event_with_the_links_facts(runs: list[dict[str, Any]]) -> None:
    second = runs[1]
    report = second["report"]
    changes = {c["url"]: c for c in report["changes"]}
    events = events_of(second)
    links = _link_events(events)
    # exactly one event per change, by kind
    assert Counter(e["event"] for e in links) == Counter(_slug(c["change"]) for c in report["changes"])
    assert {e["resource"]["paperwatch.url"] for e in links} == set(changes)
    assert {c["url"] for c in report["changes"] if c["change"] == "newly dead"} == NEWLY_DEAD
    assert {"paperwatch.link.newly-dead", "paperwatch.link.healthy-again", "paperwatch.link.archived"} <= {e["event"] for e in links}

    citing: dict[str, list[dict[str, Any]]] = {}
    for paper in report["papers"]:
        for link in paper["links"]:
            citing.setdefault(link["normalized"], []).append({**link, "paper_id": paper["id"], "title": paper["title"]})
    for event in links:
        url = event["resource"]["paperwatch.url"]
        change, cited = changes[url], citing[url]
        resource = event["resource"]
        assert all(isinstance(value, str) for value in resource.values())
        assert resource["prefect.resource.id"] == link_resource_id(url) and resource["prefect.resource.name"] == url
        assert resource["paperwatch.host"] == urlsplit(url).hostname
        assert resource["paperwatch.kind"] == cited[0]["kind"]
        assert resource["paperwatch.state"] == change["state"]
        assert resource["paperwatch.source"] and resource["paperwatch.source"].split(", ")[0].startswith("examples/")
        roles = Counter(r["prefect.resource.role"] for r in event["related"])
        papers = {r["prefect.resource.id"]: r["prefect.resource.name"] for r in event["related"] if r["prefect.resource.role"] == "paper"}
        assert papers == {f"paperwatch.paper.{c['paper_id']}": c["title"] for c in cited}
        assert roles["paperwatch-run"] == 1 and roles["flow-run"] == 1  # Prefect adds the flow run itself
        payload = event["payload"]
        assert (payload["change"], payload["verdict_from"], payload["verdict_to"]) == (change["change"], change["from"], change["to"])
        assert (payload["state"], payload["reason"], payload["dead_since"]) == (change["state"], change["reason"], change["dead_since"])
        assert payload["suggested_url"] == change["suggested_url"]
        assert payload["evidence"]["status_code"] == cited[0]["evidence"]["status_code"]
        assert [p["id"] for p in payload["papers"]] == [c["paper_id"] for c in cited] and payload["report"] == second["json"]

    dead_page = next(e for e in links if e["resource"]["paperwatch.url"] == "https://llm-stacking.github.io")
    assert dead_page["event"] == "paperwatch.link.newly-dead" and dead_page["payload"]["evidence"]["status_code"] == 404
    assert dead_page["payload"]["archived_copy"]["service"] == "wayback"  # the demo's Wayback capture of the page
    assert dead_page["payload"]["archived_copy"]["url"].startswith("http")

    died = [e for e in events if e["event"] == LINKS_DIED]
    assert len(died) == 1
    assert died[0]["payload"]["count"] == 2 and {link["url"] for link in died[0]["payload"]["links"]} == NEWLY_DEAD
    assert all(link["papers"] and link["reason"] for link in died[0]["payload"]["links"])
    assert died[0]["payload"]["report"] == second["json"] and died[0]["payload"]["run_id"] == 2
    assert [e["event"] for e in events].count(COULD_NOT_CHECK) == 1


def test_a_run_with_no_change_emits_no_link_event(runs: list[dict[str, Any]]) -> None:
    third = runs[2]
    events = events_of(third)
    assert third["report"]["changes"] == []
    assert [e["event"] for e in events] == [COULD_NOT_CHECK]  # no link event, no links-died


def test_the_links_that_need_attention_are_one_table_artifact_with_a_history(runs: list[dict[str, Any]]) -> None:
    with httpx.Client(timeout=30) as client:
        response = client.post(f"{_api()}/artifacts/filter", json={"artifacts": {"key": {"any_": [ATTENTION_KEY]}}})
    response.raise_for_status()
    by_run = {a["flow_run_id"]: a for a in response.json()}
    tables = [by_run[r["report"]["run"]["flow_run_id"]] for r in runs]  # one per run, under the one key
    assert all(a["type"] == "table" for a in tables)
    rows = json.loads(tables[1]["data"]) if isinstance(tables[1]["data"], str) else tables[1]["data"]
    by_link = {row["link"].rstrip("/"): row for row in rows}  # as the paper cites it
    assert set(rows[0]) == {"paper", "link", "attention", "state", "reason", "since", "archived copy"}
    assert by_link["https://llm-stacking.github.io"]["attention"] == "newly dead"
    assert by_link["https://llm-stacking.github.io"]["state"] == "dead" and by_link["https://llm-stacking.github.io"]["since"]
    assert by_link["https://llm-stacking.github.io"]["archived copy"].startswith("http")
    dead = [row for row in rows if row["attention"] == "dead"]
    assert any("SwissNYF" in row["link"] for row in dead)
    assert "newly dead" in tables[1]["description"]
    # the third run: the same links, none newly dead any more
    third = json.loads(tables[2]["data"]) if isinstance(tables[2]["data"], str) else tables[2]["data"]
    assert {row["link"].rstrip("/"): row["attention"] for row in third}["https://llm-stacking.github.io"] == "dead"


# --- caps, without a server -------------------------------------------------------------------

def _big_report(dead: int) -> Report:
    papers = [{"id": f"p{i}", "title": f"Paper {i} " + "x" * 5000, "verdict": {}, "links": [{
        "url": f"https://gone{i}.example.org/", "normalized": f"https://gone{i}.example.org/", "kind": "page",
        "state": "dead", "reason": "not found (HTTP 404) ghp_abcdefghijklmnop1234", "evidence": {"status_code": 404},
        "verdict": {"status": "dead", "dead_since": "2026-11-01T00:00:00+00:00", "last_alive": None, "uptime": {}},
        "history": [], "checker": "http"}]} for i in range(dead)]
    changes = [{"url": f"https://gone{i}.example.org/", "change": "newly dead", "from": "healthy", "to": "dead", "state": "dead",
                "reason": "not found (HTTP 404)", "dead_since": "2026-11-01T00:00:00+00:00"} for i in range(dead)]
    return Report.from_dict({"schema_version": 3, "run": {"id": 7, "sources": ["list.txt"]}, "summary": {}, "changes": changes,
                             "papers": papers})


def test_untrusted_text_is_capped_and_tokens_never_reach_an_event_or_the_table() -> None:
    report = _big_report(MAX_EXAMPLES + 600)
    specs = run_events(report, {f"p{i}": "list.txt" for i in range(3)})
    died = [spec for spec in specs if spec.event == LINKS_DIED]
    assert len(died) == 1 and died[0].payload["count"] == MAX_EXAMPLES + 600
    assert len(died[0].payload["links"]) == MAX_EXAMPLES and died[0].payload["more"] == 600
    first = specs[0]
    assert first.resource["paperwatch.source"] == "list.txt" and len(first.payload["papers"][0]["title"]) <= 300
    text = json.dumps([spec.to_dict() for spec in specs])
    assert "ghp_abcdefghijklmnop1234" not in text
    rows, description = attention_table(report)
    assert len(rows) == 501 and rows[-1]["paper"].startswith("… and 150 more") and "650 newly dead" in description
    assert "ghp_abcdefghijklmnop1234" not in json.dumps(rows)
