"""simweb's Software Heritage and Wayback Machine faces, asked with httpx over real sockets through the remap rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from checks.settings import RemapRule, remap
from simweb import Scenario, ScenarioError, SimulatedWeb

SWH = "https://archive.softwareheritage.org/api/1"
CDX = "https://web.archive.org/cdx/search/cdx"
AVAILABLE = "https://archive.org/wayback/available"
OLD = "https://github.com/acme/old-code"
PROJECT = "https://lab.example.org/project"
TOKEN = "swh-token"
ARCHIVE_HOSTS = ("archive.softwareheritage.org", "web.archive.org", "archive.org")

SCENARIO: dict[str, Any] = {
    "archives": {
        "software_heritage": {
            "rate_limit": 100_000,
            "token_rate_limit": 100_000,
            "save_rate_limit": 100_000,
            "save_rejected": ["https://github.com/acme/blacklisted"],
            "origins": {
                OLD: [  # any order: the newest visit with a snapshot is the partial one
                    {"date": "2025-02-01T10:00:00+00:00", "status": "partial"},
                    {"date": "2024-05-01T10:00:00+00:00", "status": "full", "snapshot": "ab" * 20},
                    {"date": "2025-06-01T10:00:00+00:00", "status": "ongoing"},
                ],
                "https://github.com/acme/only-ongoing": [{"date": "2025-01-01", "status": "ongoing"}],
                "https://github.com/acme/never-visited": [],
            },
        },
        "wayback": {
            "captures": {
                PROJECT: [
                    {"timestamp": "20231102120000", "status": 200},
                    {"timestamp": 20240601000000, "status": 200},
                    {"timestamp": "20250301000000", "status": 404},
                ],
                "http://www.lab.example.org/project/": [{"timestamp": "20220101000000", "status": 301}],
            },
        },
    },
    "web": {"https://archive.org/about": {"title": "About the Internet Archive"}},
    "phases": [
        {"name": "normal", "changes": {}},
        {"name": "empty", "changes": {"archives": {"wayback": {"availability": "empty"}}}},
        {"name": "rate-limited", "changes": {"archives": {"wayback": {"availability": "rate-limited"}}}},
        {"name": "down", "changes": {"archives": {"software_heritage": {"down": True}, "wayback": {"down": True}}}},
        {"name": "slow", "changes": {"archives": {"software_heritage": {"delay": 0.3}}}},
    ],
}


def to_sim(sim: SimulatedWeb, url: str) -> str:
    """The request URL paperwatch's own remap makes of a logical URL."""
    mapped = remap(url, tuple(RemapRule.parse(rule) for rule in sim.remap_rules))
    assert mapped is not None
    return mapped


def get(sim: SimulatedWeb, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(to_sim(sim, url), **kwargs)


def post(sim: SimulatedWeb, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(to_sim(sim, url), **kwargs)


def latest(sim: SimulatedWeb, origin: str, **kwargs: Any) -> httpx.Response:
    return get(sim, f"{SWH}/origin/{origin}/visit/latest/", params={"require_snapshot": "true"}, **kwargs)


def cdx(sim: SimulatedWeb, **params: str) -> httpx.Response:
    return get(sim, CDX, params={"output": "json", **params})


@pytest.fixture
def in_phase(sim: SimulatedWeb) -> Iterator[Any]:
    """Switch the module's simulation to a phase for one test, and back."""
    yield sim.set_phase
    sim.set_phase("normal")


# --- Software Heritage: visits -----------------------------------------------------------


def test_latest_visit_with_a_snapshot(sim: SimulatedWeb) -> None:
    response = latest(sim, OLD)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    visit = response.json()
    assert list(visit) == ["origin", "visit", "date", "status", "snapshot", "type", "metadata", "snapshot_url",
                           "origin_visit_url"]
    assert visit["origin"] == OLD and visit["visit"] == 2 and visit["status"] == "partial"  # the ongoing one skipped
    assert visit["date"] == "2025-02-01T10:00:00+00:00" and visit["type"] == "git" and visit["metadata"] == {}
    assert len(visit["snapshot"]) == 40 and visit["snapshot_url"] == f"{SWH}/snapshot/{visit['snapshot']}/"
    assert visit["origin_visit_url"] == f"{SWH}/origin/{OLD}/visit/2/"
    assert latest(sim, OLD).json()["snapshot"] == visit["snapshot"]  # derived, stable


def test_latest_visit_without_require_snapshot_is_the_newest_whatever_it_is(sim: SimulatedWeb) -> None:
    visit = get(sim, f"{SWH}/origin/{OLD}/visit/latest/").json()
    assert visit["visit"] == 3 and visit["status"] == "ongoing" and visit["snapshot"] is None
    assert visit["snapshot_url"] is None


def test_unknown_origin_or_no_visit_with_a_snapshot_is_404(sim: SimulatedWeb) -> None:
    missing = latest(sim, "https://github.com/acme/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"exception": "NotFoundExc",
                              "reason": "Origin with url https://github.com/acme/nothing not found!"}
    assert latest(sim, "https://github.com/acme/only-ongoing").status_code == 404
    assert latest(sim, "https://github.com/acme/never-visited").status_code == 404
    assert latest(sim, OLD + "/").status_code == 404  # origins match exactly
    assert latest(sim, "https://github.com/ACME/old-code").status_code == 404


def test_origin_url_encoded_or_with_collapsed_slashes_still_matches(sim: SimulatedWeb) -> None:
    encoded = latest(sim, "https%3A%2F%2Fgithub.com%2Facme%2Fold-code")
    assert encoded.status_code == 200 and encoded.json()["origin"] == OLD
    collapsed = f"{sim.web_url}/https/archive.softwareheritage.org/api/1/origin/https:/github.com/acme/old-code" \
        "/visit/latest/"
    # a client or proxy that collapses "//" in paths sends "https:/github.com": swh-web repairs it
    assert httpx.get(collapsed, params={"require_snapshot": "true"}).json()["visit"] == 2


def test_origin_get(sim: SimulatedWeb) -> None:
    assert get(sim, f"{SWH}/origin/{OLD}/get/").json() == {
        "url": OLD, "origin_visits_url": f"{SWH}/origin/{OLD}/visits/", "visit_types": ["git"], "has_visits": True,
    }
    assert get(sim, f"{SWH}/origin/https://github.com/acme/never-visited/get/").json()["has_visits"] is False
    assert get(sim, f"{SWH}/origin/https://github.com/acme/nothing/get/").status_code == 404


def test_visits_newest_first_with_a_next_link(sim: SimulatedWeb) -> None:
    page = get(sim, f"{SWH}/origin/{OLD}/visits/", params={"per_page": "2"})
    assert [v["visit"] for v in page.json()] == [3, 2]
    assert page.links["next"]["url"] == f"{SWH}/origin/{OLD}/visits/?last_visit=2&per_page=2"
    rest = get(sim, page.links["next"]["url"])
    assert [v["visit"] for v in rest.json()] == [1] and "link" not in rest.headers


# --- Software Heritage: Save Code Now ----------------------------------------------------


def test_save_walks_to_succeeded_and_the_visit_becomes_visible(sim: SimulatedWeb) -> None:
    origin = "https://github.com/acme/fresh"
    save_url = f"{SWH}/origin/save/git/url/{origin}/"
    assert get(sim, save_url).status_code == 404  # no request yet
    assert latest(sim, origin).status_code == 404
    created = post(sim, save_url)
    assert created.status_code == 200
    request = created.json()
    assert request["origin_url"] == origin and request["visit_type"] == "git"
    assert request["save_request_status"] == "accepted" and request["save_task_status"] == "not yet scheduled"
    assert request["visit_date"] is None and request["visit_status"] is None and request["snapshot_swhid"] is None
    assert request["note"] is None and request["request_url"] == f"{SWH}/origin/save/{request['id']}/"
    assert post(sim, save_url).json()["id"] == request["id"]  # pending: swh-web creates no second task
    assert [r["save_task_status"] for r in get(sim, save_url).json()] == ["scheduled"]
    done = get(sim, save_url).json()
    assert len(done) == 1 and done[0]["save_task_status"] == "succeeded" and done[0]["visit_status"] == "full"
    snapshot = done[0]["snapshot_swhid"].removeprefix("swh:1:snp:")
    assert done[0]["snapshot_url"] == f"{SWH}/snapshot/{snapshot}/" and done[0]["visit_date"]
    visit = latest(sim, origin).json()
    assert visit["date"] == done[0]["visit_date"] and visit["snapshot"] == snapshot and visit["status"] == "full"
    assert get(sim, request["request_url"]).json()["save_task_status"] == "succeeded"  # terminal: stays
    again = post(sim, save_url).json()  # a finished request lets a new one in
    assert again["id"] > request["id"] and [r["id"] for r in get(sim, save_url).json()] == [again["id"], request["id"]]


def test_save_of_a_known_origin_adds_a_newer_visit(sim: SimulatedWeb) -> None:
    origin = "https://github.com/acme/never-visited"
    post(sim, f"{SWH}/origin/save/git/url/{origin}/")
    sim.set_phase("normal")  # save requests and their visits survive phase switches
    get(sim, f"{SWH}/origin/save/git/url/{origin}/")
    get(sim, f"{SWH}/origin/save/git/url/{origin}/")
    assert latest(sim, origin).json()["visit"] == 1


def test_rejected_save_is_403_and_listed_as_rejected(sim: SimulatedWeb) -> None:
    save_url = f"{SWH}/origin/save/git/url/https://github.com/acme/blacklisted/"
    refused = post(sim, save_url)
    assert refused.status_code == 403 and refused.json()["exception"] == "ForbiddenExc"
    listed = get(sim, save_url).json()
    assert [(r["save_request_status"], r["save_task_status"]) for r in listed] == [("rejected", "not created")]
    assert get(sim, save_url).json()[0]["save_task_status"] == "not created"  # never advances


def test_save_refuses_bad_visit_types_and_urls(sim: SimulatedWeb) -> None:
    bad_type = post(sim, f"{SWH}/origin/save/svnx/url/https://github.com/acme/x/")
    assert bad_type.status_code == 400 and bad_type.json()["exception"] == "BadInputExc"
    assert post(sim, f"{SWH}/origin/save/git/url/not-a-url/").status_code == 400
    assert get(sim, f"{SWH}/origin/save/999999/").status_code == 404


def test_failed_progress_ends_with_a_failed_visit_status() -> None:
    scenario = {"archives": {"software_heritage": {"save_progress": ["scheduled", "failed"]}}}
    with SimulatedWeb(scenario) as sim:
        save_url = f"{SWH}/origin/save/git/url/https://gitlab.com/acme/broken/"
        assert post(sim, save_url).json()["save_task_status"] == "scheduled"
        failed = get(sim, save_url).json()[0]
        assert failed["save_task_status"] == "failed" and failed["visit_status"] == "failed"
        assert failed["snapshot_swhid"] is None and "snapshot_url" not in failed
        assert latest(sim, "https://gitlab.com/acme/broken").status_code == 404


# --- Software Heritage: rate limits ------------------------------------------------------


def test_rate_limit_headers_count_down_then_429() -> None:
    scenario = {"archives": {"software_heritage": {"rate_limit": 3, "token_rate_limit": 5, "origins": {OLD: []}}}}
    with SimulatedWeb(scenario) as sim:
        answers = [get(sim, f"{SWH}/origin/{OLD}/get/") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
        reset = int(answers[0].headers["X-RateLimit-Reset"])
        assert 0 < reset - time.time() <= 3600 and {a.headers["X-RateLimit-Reset"] for a in answers} == {str(reset)}
        refused = answers[-1]
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 3600
        assert refused.json() == {"exception": "Throttled",
                                  "reason": f"Request was throttled. Expected available in {wait} seconds."}
        with_token = get(sim, f"{SWH}/origin/{OLD}/get/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert with_token.status_code == 200  # a token has its own, larger budget
        assert with_token.headers["X-RateLimit-Limit"] == "5" and with_token.headers["X-RateLimit-Remaining"] == "4"
        sim.reset_stats()
        assert get(sim, f"{SWH}/origin/{OLD}/get/").headers["X-RateLimit-Remaining"] == "2"


def test_save_posts_have_their_own_budget() -> None:
    with SimulatedWeb({"archives": {"software_heritage": {"save_rate_limit": 1, "rate_limit": 50}}}) as sim:
        first = post(sim, f"{SWH}/origin/save/git/url/https://github.com/acme/a/")
        assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "1"
        assert first.headers["X-RateLimit-Remaining"] == "0"
        second = post(sim, f"{SWH}/origin/save/git/url/https://github.com/acme/b/")
        assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
        status = get(sim, f"{SWH}/origin/save/git/url/https://github.com/acme/a/")
        assert status.status_code == 200 and status.headers["X-RateLimit-Limit"] == "50"
        assert sim.stats()["archive"]["hosts"]["archive.softwareheritage.org"]["saves"] == 2


# --- Wayback Machine ---------------------------------------------------------------------


def test_availability_closest_capture(sim: SimulatedWeb) -> None:
    newest = get(sim, AVAILABLE, params={"url": PROJECT}).json()
    assert newest == {"url": PROJECT, "archived_snapshots": {"closest": {
        "status": "404", "available": True, "timestamp": "20250301000000",
        "url": f"http://web.archive.org/web/20250301000000/{PROJECT}"}}}
    near = get(sim, AVAILABLE, params={"url": PROJECT, "timestamp": "20231201"}).json()
    assert near["archived_snapshots"]["closest"]["timestamp"] == "20231102120000" and near["timestamp"] == "20231201"
    assert get(sim, AVAILABLE, params={"url": "https://nowhere.example/x"}).json() == {
        "url": "https://nowhere.example/x", "archived_snapshots": {}}


def test_availability_empty_and_rate_limited_modes(sim: SimulatedWeb, in_phase: Any) -> None:
    in_phase("empty")
    assert get(sim, AVAILABLE, params={"url": PROJECT}).json() == {"url": PROJECT, "archived_snapshots": {}}
    in_phase("rate-limited")
    limited = get(sim, AVAILABLE, params={"url": PROJECT})
    assert limited.status_code == 200 and limited.headers["Content-Type"].startswith("text/html")
    assert "429 Too Many Requests" in limited.text
    assert cdx(sim, url=PROJECT).status_code == 200  # CDX is unaffected


def test_cdx_latest_good_capture(sim: SimulatedWeb) -> None:
    rows = cdx(sim, url=PROJECT, limit="-1", filter="statuscode:200", fl="timestamp,original").json()
    assert rows == [["timestamp", "original"], ["20240601000000", PROJECT]]
    every = cdx(sim, url=PROJECT).json()
    assert every[0] == ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    assert [row[1] for row in every[1:]] == ["20220101000000", "20231102120000", "20240601000000", "20250301000000"]
    assert every[1][2] == "http://www.lab.example.org/project/" and every[2][0] == "org,example,lab)/project"
    assert cdx(sim, url=PROJECT, limit="1", fl="timestamp").json() == [["timestamp"], ["20220101000000"]]
    assert cdx(sim, url=PROJECT, filter="!statuscode:200", fl="statuscode").json() == [["statuscode"], ["301"], ["404"]]
    assert cdx(sim, url="https://nowhere.example/x").json() == []
    assert cdx(sim, url=PROJECT, filter="statuscode:500").json() == []


def test_cdx_matches_urls_loosely(sim: SimulatedWeb) -> None:
    for form in ("http://lab.example.org/project", "https://www.lab.example.org/project/", "lab.example.org/project",
                 "https://LAB.example.org/project"):
        assert len(cdx(sim, url=form, fl="timestamp").json()) == 5, form
    assert cdx(sim, url="https://lab.example.org/Project").json() == []  # the path's case counts
    assert cdx(sim, url=PROJECT + "?x=1").json() == []  # so does the query


def test_cdx_rate_limit_answers_429_with_retry_after() -> None:
    with SimulatedWeb({"archives": {"wayback": {"cdx_rate_limit": 2}}}) as sim:
        assert [cdx(sim, url=PROJECT).status_code for _ in range(3)] == [200, 200, 429]
        refused = cdx(sim, url=PROJECT)
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
        assert get(sim, AVAILABLE, params={"url": PROJECT}).status_code == 200  # only CDX is limited


def test_web_redirects_to_the_newest_capture_whatever_its_status(sim: SimulatedWeb) -> None:
    newest = get(sim, f"https://web.archive.org/web/{PROJECT}")
    assert newest.status_code == 302
    assert newest.headers["Location"] == f"https://web.archive.org/web/20250301000000/{PROJECT}"  # the 404 capture
    closest = get(sim, f"https://web.archive.org/web/2023/{PROJECT}")
    assert closest.status_code == 302 and "/web/20231102120000/" in closest.headers["Location"]
    page = get(sim, f"https://web.archive.org/web/20231102120000/{PROJECT}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert PROJECT in page.text and "20231102120000" in page.text and page.headers["Memento-Datetime"].endswith("GMT")
    assert get(sim, "https://web.archive.org/web/https://nowhere.example/x").status_code == 404


# --- both: outages, slowness, counters, scenario -----------------------------------------


def test_down_answers_503_everywhere(sim: SimulatedWeb, in_phase: Any) -> None:
    in_phase("down")
    for response in (latest(sim, OLD), post(sim, f"{SWH}/origin/save/git/url/{OLD}/"),
                     get(sim, AVAILABLE, params={"url": PROJECT}), cdx(sim, url=PROJECT),
                     get(sim, f"https://web.archive.org/web/{PROJECT}")):
        assert response.status_code == 503


def test_delay_is_observed(sim: SimulatedWeb, in_phase: Any) -> None:
    in_phase("slow")
    before = len(sim.request_log())
    started = time.monotonic()
    assert latest(sim, OLD).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        latest(sim, OLD, timeout=0.1)
    while len(sim.request_log()) < before + 2:  # the abandoned request is logged once the server lets it go
        assert time.monotonic() - started < 5
        time.sleep(0.02)


def test_stats_count_archive_requests_per_host(sim: SimulatedWeb) -> None:
    sim.reset_stats()
    assert sim.stats()["archive"] == {"requests": 0, "hosts": {
        host: {"requests": 0, "saves": 0} for host in ARCHIVE_HOSTS}, "software_heritage_budgets": {}}
    latest(sim, OLD)
    post(sim, f"{SWH}/origin/save/git/url/https://github.com/acme/counted/")
    cdx(sim, url=PROJECT)
    get(sim, AVAILABLE, params={"url": PROJECT})
    get(sim, "https://archive.org/about")  # not an API: the scenario's page answers, still counted here
    get(sim, "https://example.org/elsewhere")
    stats = sim.stats()
    assert stats["archive"]["requests"] == 5
    assert stats["archive"]["hosts"]["archive.softwareheritage.org"] == {"requests": 2, "saves": 1}
    assert stats["archive"]["hosts"]["web.archive.org"] == {"requests": 1, "saves": 0}
    assert stats["archive"]["hosts"]["archive.org"] == {"requests": 2, "saves": 0}
    assert stats["web"]["requests"] == 1
    # the Software Heritage API budget spent, by owner: both calls anonymous (a Bearer token would be named)
    assert stats["archive"]["software_heritage_budgets"] == {"anonymous": 1}
    archived = [r for r in sim.request_log() if r.face == "archive"]
    assert [(r.method, r.client, r.status) for r in archived][:2] == [
        ("GET", "archive.softwareheritage.org", 200), ("POST", "archive.softwareheritage.org", 200)]
    assert archived[0].url.startswith(f"{SWH}/origin/{OLD}/visit/latest/")
    sim.reset_stats()
    assert sim.stats()["archive"]["requests"] == 0 and not sim.request_log()


def test_unmodelled_archive_paths_fall_back_to_the_page_lookup(sim: SimulatedWeb) -> None:
    assert "About the Internet Archive" in get(sim, "https://archive.org/about").text
    assert get(sim, "https://archive.org/nothing").status_code == 404
    browse = "https://archive.softwareheritage.org/browse/origin/directory/"
    assert get(sim, browse, params={"origin_url": OLD}).status_code == 200
    assert get(sim, browse, params={"origin_url": "https://github.com/acme/nothing"}).status_code == 404


def test_scenario_errors_name_the_key() -> None:
    bad = {
        "archives.software_heritage.origins['x'][0].status": {"software_heritage": {"origins": {"x": [
            {"date": "2024-01-01", "status": "done"}]}}},
        "archives.wayback.captures['https://a.org/'][0]": {"wayback": {"captures": {"https://a.org/": [
            {"timestamp": "2024"}]}}},
        "archives.wayback.availability": {"wayback": {"availability": "sometimes"}},
        "archives.software_heritage: save_progress": {"software_heritage": {
            "save_progress": ["succeeded", "scheduled"]}},
        "archives: unknown key 'ia'": {"ia": {}},
    }
    for path, archives in bad.items():
        with pytest.raises(ScenarioError, match=path.replace("[", r"\[").replace("]", r"\]")):
            Scenario.from_dict({"archives": archives})


def test_phases_override_the_archives() -> None:
    scenario = Scenario.from_dict(SCENARIO)
    assert scenario.world("down").archives.software_heritage.down is True
    down, normal = scenario.world("down").archives, scenario.world("normal").archives
    assert down.software_heritage.visits(OLD) == normal.software_heritage.visits(OLD)
    assert scenario.world("empty").archives.wayback.availability == "empty"
    assert scenario.world("normal").archives.wayback.availability == "normal"
