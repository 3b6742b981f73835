"""Rescue: the archives are asked through the settings users have (a remap rule), over real sockets.

The simulated Software Heritage and Wayback Machine (simweb/archives.py, simweb/wayback.py)
answer in their documented shapes, including their empty answers, rate limits and outages.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from checks.archive_model import ArchiveService, LookupOutcome
from checks.archive_settings import ArchiveSettings
from checks.archives import CONCURRENCY, repository_origin, rescue
from checks.settings import RemapRule
from simweb import SimulatedWeb

SWH_VISIT = "2024-05-01T10:00:00+00:00"


def world(**software_heritage: Any) -> dict[str, Any]:
    return {"archives": {
        "software_heritage": {"origins": {"https://github.com/lab/archived-code": [{"date": SWH_VISIT, "status": "full"}]},
                              **software_heritage},
        "wayback": {"captures": {
            "https://lab.example.org/project": [{"timestamp": "20231102120000", "status": 200},
                                                {"timestamp": "20250301000000", "status": 404}]}},
    }}


def rules(sim: SimulatedWeb) -> tuple[RemapRule, ...]:
    return tuple(RemapRule.parse(rule) for rule in sim.remap_rules)


def run(sim: SimulatedWeb, failing: list[str], settings: ArchiveSettings | None = None, **kw: Any) -> Any:
    return asyncio.run(rescue(failing, settings or ArchiveSettings(timeout=2.0), rules(sim), **kw))


def test_a_repository_copy_comes_from_software_heritage_and_a_page_copy_from_the_newest_good_capture() -> None:
    with SimulatedWeb(world()) as sim:
        found = {lookup.url: lookup for lookup in run(sim, [
            "https://github.com/lab/archived-code/tree/main/src", "https://lab.example.org/project",
            "https://github.com/lab/lost-code", "https://gone.example.org/never-captured"]).lookups}
    swh = found["https://github.com/lab/archived-code/tree/main/src"]
    assert swh.outcome is LookupOutcome.FOUND and swh.copy is not None
    assert swh.copy.sentence() == "archived copy: Software Heritage, visited 2024-05-01"
    assert swh.copy.url.startswith("https://archive.softwareheritage.org/browse/origin/directory/?origin_url=https%3A")
    page = found["https://lab.example.org/project"]
    # the newest capture is of the page's 404; the copy a reader wants is the newest one that answered 200
    assert page.copy is not None and page.copy.service is ArchiveService.WAYBACK
    assert page.copy.url == "https://web.archive.org/web/20231102120000/https://lab.example.org/project"
    assert page.copy.sentence() == "archived copy: Wayback Machine, captured 2023-11-02"
    assert found["https://github.com/lab/lost-code"].outcome is LookupOutcome.NONE
    assert found["https://github.com/lab/lost-code"].sentence() == "no archived copy found: this code may be lost"
    assert found["https://gone.example.org/never-captured"].outcome is LookupOutcome.NONE


def test_an_archive_that_is_down_or_out_of_budget_leaves_links_unknown_never_none() -> None:
    with SimulatedWeb(world(down=True)) as sim:
        down = run(sim, ["https://github.com/lab/archived-code"] + [f"https://github.com/lab/other-{i}" for i in range(11)])
        asked = sim.stats()["archive"]["hosts"]["archive.softwareheritage.org"]["requests"]
    assert len(down.lookups) == 12 and {lookup.outcome for lookup in down.lookups} == {LookupOutcome.UNKNOWN}
    assert asked <= CONCURRENCY  # an archive that is down is not asked again in the run (beyond what was in flight)
    assert any("HTTP 503" in note for note in down.notes)

    repos = [f"https://github.com/lab/repo-{i}" for i in range(12)]
    with SimulatedWeb(world(rate_limit=2)) as sim:
        limited = run(sim, repos)
        asked = sim.stats()["archive"]["hosts"]["archive.softwareheritage.org"]["requests"]
    outcomes = sorted(lookup.outcome.value for lookup in limited.lookups)
    # the budget's last answer (X-RateLimit-Remaining: 0, or a 429) stops the asking; only requests already in flight remain
    assert asked <= 2 + CONCURRENCY
    assert outcomes.count("unknown") >= 12 - 2 - CONCURRENCY and "found" not in outcomes
    assert any("rate limit" in note or "429" in note for note in limited.notes)


def test_a_slow_archive_costs_the_run_no_more_than_its_time_box() -> None:
    with SimulatedWeb(world(delay=5)) as sim:
        started = time.monotonic()
        slow = run(sim, ["https://github.com/lab/archived-code", "https://github.com/lab/lost-code"],
                   ArchiveSettings(time_box=1.0, timeout=10.0))
        took = time.monotonic() - started
    assert took < 3.0
    assert all(lookup.outcome is LookupOutcome.UNKNOWN for lookup in slow.lookups)  # none came back as "none"


def test_save_code_now_asks_once_per_repository_without_a_recent_visit_and_follows_the_request() -> None:
    live = ["https://github.com/lab/never-archived", "https://github.com/lab/archived-code", "https://github.com/lab/old-visit"]
    scenario = world()
    scenario["archives"]["software_heritage"]["origins"]["https://github.com/lab/old-visit"] = [
        {"date": "2020-01-01T00:00:00+00:00", "status": "full"}]
    settings = ArchiveSettings(timeout=2.0, save_code_now=True, save_after_days=1000)
    with SimulatedWeb(scenario) as sim:
        first = run(sim, [], settings, live=live, live_due=live)
        posts = [r for r in sim.request_log() if r.method == "POST"]
        assert sorted(r.url.split("/url/")[1] for r in posts) == ["https://github.com/lab/never-archived/",
                                                                  "https://github.com/lab/old-visit/"]
        requests = {request.url: request for request in first.saves}
        assert {r.task_status for r in requests.values()} == {"not yet scheduled"}
        known = {lookup.url: lookup for lookup in first.lookups}
        for _ in range(3):  # later runs poll, and never ask again while a request is open
            later = run(sim, [], settings, live=live, live_due=[], known=known, requests=requests)
            requests.update({request.url: request for request in later.saves})
        assert len([r for r in sim.request_log() if r.method == "POST"]) == 2
        assert {r.task_status for r in requests.values()} == {"succeeded"}
        assert all(r.visit_date for r in requests.values())


def test_repository_origins_are_in_the_form_software_heritage_matches() -> None:
    assert repository_origin("https://github.com/Lab/Code.git") == "https://github.com/Lab/Code"
    assert repository_origin("http://www.github.com/lab/code/tree/main/x?y=1") == "https://github.com/lab/code"
    assert repository_origin("https://gitlab.com/group/project/") == "https://gitlab.com/group/project"
    assert repository_origin("https://github.com/orgs/lab") is None
    assert repository_origin("https://lab.example.org/code") is None


@pytest.mark.prefect
def test_a_run_shows_a_dead_links_copy_and_asks_again_only_when_due(prefect_api: None, tmp_path: Path) -> None:
    from flows.monitor import monitor
    from tests.test_e2e_monitor import DATA, SCENARIO, links_by_url, settings_for

    import yaml
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["archives"] = {"software_heritage": {"origins": {
        "https://github.com/lab/missing-repo": [{"date": SWH_VISIT, "status": "full"}]}}}
    with SimulatedWeb(scenario) as sim:
        runs = []
        for _ in range(2):
            monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"), out=str(tmp_path / "out"),
                    settings=settings_for(sim), confirm_runs=1, confirm_hours=0)
            runs.append(sim.stats()["archive"]["requests"])
            sim.reset_stats()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    links = links_by_url(report)
    assert links["https://github.com/lab/missing-repo"]["archive"]["copy"]["captured_at"] == SWH_VISIT
    assert links["https://gone.example.org/paper"]["archive"]["outcome"] == "none"
    assert links["https://github.com/lab/alive-repo"]["archive"] is None
    html = (tmp_path / "out" / "index.html").read_text()
    assert "archived copy: Software Heritage, visited 2024-05-01" in html
    assert "no archived copy found" in html
    assert runs[0] > 0 and runs[1] == 0  # answers are kept: the second run asks nothing


@pytest.mark.prefect
def test_a_prefect_secret_block_can_hold_the_software_heritage_token(prefect_api: None, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    from flows.monitor import monitor
    from tests.test_e2e_monitor import DATA, SCENARIO, links_by_url, settings_for

    import yaml
    monkeypatch.delenv("SWH_TOKEN", raising=False)
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["archives"] = {"software_heritage": {"origins": {
        "https://github.com/lab/missing-repo": [{"date": SWH_VISIT, "status": "full"}]}}}
    Secret(value="swh-e2e-token").save("paperwatch-swh-token", overwrite=True, _sync=True)
    try:
        with SimulatedWeb(scenario) as sim:
            result = monitor(sources=[str(DATA / "e2e-papers.md")], db=str(tmp_path / "h.sqlite"),
                             out=str(tmp_path / "out"), settings=settings_for(sim), confirm_runs=1, confirm_hours=0,
                             swh_token_secret="paperwatch-swh-token")
            budgets = sim.stats()["archive"]["software_heritage_budgets"]
    finally:
        os.environ.pop("SWH_TOKEN", None)  # load_token_secret sets it for the process
    assert set(budgets) == {"swh-e2e-token"} and budgets["swh-e2e-token"] > 0  # no anonymous request at all
    links = links_by_url(json.loads(Path(result["json"]).read_text()))
    assert links["https://github.com/lab/missing-repo"]["archive"]["copy"]["captured_at"] == SWH_VISIT
    kept = Path(result["json"]).read_text() + Path(result["html"]).read_text() + (tmp_path / "h.sqlite").read_bytes().decode("latin-1")
    assert "swh-e2e-token" not in kept


def test_save_code_now_never_asks_more_than_its_budget() -> None:
    live = [f"https://github.com/lab/unarchived-{i}" for i in range(6)]
    per_run = ArchiveSettings(timeout=2.0, save_code_now=True, max_saves_per_run=2)
    with SimulatedWeb(world(save_rate_limit=3)) as sim:
        first = run(sim, [], per_run, live=live, live_due=live)
        assert len([r for r in sim.request_log() if r.method == "POST"]) == 2  # the run's own cap
        known = {lookup.url: lookup for lookup in first.lookups}
        requests = {request.url: request for request in first.saves}
        second = run(sim, [], replace(per_run, max_saves_per_run=10), live=live, live_due=[], known=known,
                     requests=requests)
        posts = [r for r in sim.request_log() if r.method == "POST"]
    # Software Heritage allows 3 an hour: its answer to the 3rd says none is left, so no 4th is sent
    assert len(posts) == 3 and {r.status for r in posts} == {200}
    assert len({r.url for r in second.saves}) == 1 + 2  # one new request, and the two polled ones
    assert any("rate limit" in note for note in second.notes)
