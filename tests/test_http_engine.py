"""The page-checking engine's harder promises: soft 404s, politeness, outages, configuration.

All requests go to 127.0.0.1: the simulated web through a remap rule, or a local server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from checks.config import ConfigError, apply_config
from checks.http import OutageEvidence, _host, check_pages, judge_outage
from checks.host_rules import HostRule
from checks.model import Evidence, Observation, State
from checks.settings import CheckSettings, RemapRule
from checks.transport import classify_failure
from simweb import SimulatedWeb

NOT_FOUND_PAGE = "<html><head><title>Page not found</title></head><body>Sorry, this page does not exist.</body></html>"
SCENARIO: dict[str, Any] = {
    "hosts": {
        "spa.example.org": {"body": NOT_FOUND_PAGE},  # every path answers 200 with the same "not found" page
        "parked.example.org": {"body": "<title>parked.example.org</title><p>This domain is for sale! Buy this domain.</p>"},
    },
    "web": {
        "https://blog.example.org/what-is-a-404": {
            "body": "<title>What is a 404 page not found error?</title><p>An essay about broken links.</p>"},
        "https://ok.example.org/": {"title": "Fine"},
        "https://ok.example.org/busy": {"status": 429, "retry_after": 1},
        "https://ok.example.org/later": {"title": "Asked after the busy page"},
        "https://ok.example.org/bot-wall": {"status": 403},
        "https://ok.example.org/slow": {"delay": 3},
        "https://ok.example.org/private-stuff": {"title": "Should never be asked"},
        "https://canary.example.org/": {"title": "The network is up"},
        "https://deadcanary.example.org/": {"drop": True},
        "https://polite.example.org/1": {"title": "1"},
        "https://polite.example.org/2": {"title": "2"},
        "https://polite.example.org/3": {"title": "3"},
    },
}


pytestmark = pytest.mark.usefixtures("fresh_sim")  # each test starts from the scenario as written


def settings(sim: SimulatedWeb, **changes: Any) -> CheckSettings:
    base = CheckSettings(remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules),
                         timeout=2.0, total_timeout=20.0, retries=1, backoff=0.05)
    return replace(base, **changes)


def states(result: Any) -> dict[str, State]:
    return {o.url: o.state for o in result.observations}


def test_a_page_that_says_not_found_everywhere_is_a_soft_404(sim: SimulatedWeb) -> None:
    result = check_pages(["https://spa.example.org/project/paper-code", "https://parked.example.org/",
                          "https://blog.example.org/what-is-a-404"], settings(sim))
    by_url = {o.url: o for o in result.observations}
    assert by_url["https://spa.example.org/project/paper-code"].state is State.DEAD
    assert "soft 404" in by_url["https://spa.example.org/project/paper-code"].reason
    assert by_url["https://parked.example.org/"].state is State.DEAD
    assert "for sale" in by_url["https://parked.example.org/"].reason
    # a page *about* 404s, on a host that answers real 404s for nonsense paths, is alive
    assert by_url["https://blog.example.org/what-is-a-404"].state is State.ALIVE


def test_soft_404_detection_can_be_turned_off(sim: SimulatedWeb) -> None:
    result = check_pages(["https://spa.example.org/project/paper-code"], settings(sim, soft404=False))
    assert states(result) == {"https://spa.example.org/project/paper-code": State.ALIVE}


def test_retry_after_is_honoured_and_the_host_is_asked_more_slowly_afterwards(sim: SimulatedWeb) -> None:
    result = check_pages(["https://ok.example.org/busy"], settings(sim, retries=1))
    busy = result.observations[0]
    assert busy.state is State.UNKNOWN and busy.evidence.attempts == 2  # rate-limited: ours, not the page's
    assert busy.reason.startswith("not checked: the site rate-limited us (HTTP 429)")
    times = [r.at for r in sim.request_log() if r.url.endswith("/busy")]
    assert len(times) >= 2 and times[-1] - times[0] >= 1.0  # waited at least the Retry-After


def test_a_retry_after_beyond_our_patience_is_not_waited_for(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "web": {**SCENARIO["web"], "https://ok.example.org/busy": {"status": 429, "retry_after": 3600}}})
    result = check_pages(["https://ok.example.org/busy"], settings(sim, retries=2, max_retry_after=5))
    assert result.observations[0].evidence.attempts == 1
    assert "retry after 3600" in result.observations[0].reason


def test_a_url_gives_up_after_its_total_budget_however_many_retries_remain(sim: SimulatedWeb) -> None:
    tight = settings(sim, timeout=0.5, retries=20, backoff=0.01, total_timeout=1.2)
    result = check_pages(["https://ok.example.org/slow", "https://ok.example.org/"], tight)  # one answer: we are online
    observation = next(o for o in result.observations if o.url.endswith("/slow"))
    assert observation.state is State.ERROR and "gave up after 1.2 s" in observation.reason
    assert len([r for r in sim.request_log() if r.url.endswith("/slow")]) < 20


def test_per_host_limits_are_data_and_space_requests_out(sim: SimulatedWeb) -> None:
    policy = {"polite.example.org": HostRule(max_concurrency=1, min_interval=0.3)}
    urls = [f"https://polite.example.org/{i}" for i in (1, 2, 3)]
    result = check_pages(urls, settings(sim, hosts=policy, soft404=False))
    assert set(states(result).values()) == {State.ALIVE}
    times = sorted(r.at for r in sim.request_log() if "polite.example.org" in r.url)
    assert len(times) == 3
    assert all(later - earlier >= 0.25 for earlier, later in zip(times, times[1:]))  # 0.3 s apart, give or take


def test_excluded_urls_are_skipped_without_a_request_and_accepted_codes_count_as_alive(sim: SimulatedWeb) -> None:
    config = {"exclude": ["private-stuff"], "accept": [403]}
    tuned = apply_config(settings(sim), config, "paperwatch.toml")
    result = check_pages(["https://ok.example.org/private-stuff", "https://ok.example.org/bot-wall"], tuned)
    assert states(result) == {"https://ok.example.org/private-stuff": State.SKIPPED, "https://ok.example.org/bot-wall": State.ALIVE}
    assert not any("private-stuff" in r.url for r in sim.request_log())


def test_canaries_that_do_not_answer_make_the_run_offline_and_nothing_is_requested(sim: SimulatedWeb) -> None:
    result = check_pages(["https://ok.example.org/", "https://gone.example.org/x"],
                         settings(sim, canaries=("https://deadcanary.example.org/",), retries=0))
    assert result.offline is True
    assert set(states(result).values()) == {State.UNKNOWN}
    assert not any("ok.example.org" in r.url or "gone.example.org" in r.url for r in sim.request_log())


def test_answering_canaries_let_the_run_go_on(sim: SimulatedWeb) -> None:
    result = check_pages(["https://ok.example.org/", "https://gone.example.org/x"],
                         settings(sim, canaries=("https://canary.example.org/",)))
    assert result.offline is False
    assert states(result) == {"https://ok.example.org/": State.ALIVE, "https://gone.example.org/x": State.DEAD}


def _nxdomain_observation(url: str) -> Observation:
    return Observation(url=url, state=State.ERROR, reason="host not found: DNS says gone.example does not exist",
                       checker="http", evidence=Evidence(error="nxdomain"))


def test_a_name_that_does_not_exist_is_dead_only_when_the_rest_of_the_web_answered() -> None:
    """No real DNS query leaves the machine: the verdict logic is fed the failure directly."""
    nx = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert classify_failure(nx, "gone.example", 5).kind == "nxdomain"
    assert classify_failure(socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), "x", 5).kind == "dns"

    gone = frozenset({"https://gone.example/"})
    judged = judge_outage([_nxdomain_observation("https://gone.example/")], OutageEvidence(gone, gone, 5, True))
    assert judged.observations[0].state is State.DEAD and not judged.offline

    judged = judge_outage([_nxdomain_observation("https://gone.example/")], OutageEvidence(gone, gone, 0, True))
    assert judged.observations[0].state is State.UNKNOWN and judged.offline


@contextmanager
def serve(handler: Any) -> Iterator[int]:
    """A one-route aiohttp server on 127.0.0.1 in its own thread; yields its port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield runner.addresses[0][1]
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)  # handlers still writing end here
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture()
def local_server() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="internal")

    with serve(handler) as port:
        yield port, hits


def test_a_host_name_that_resolves_to_loopback_is_refused_at_connect_time(local_server: tuple[int, list[str]]) -> None:
    port, hits = local_server
    # "0x7f.1" is no IP literal to a string check, but the resolver turns it into 127.0.0.1
    result = check_pages([f"http://0x7f.1:{port}/secret"], CheckSettings(timeout=2, retries=0))
    observation = result.observations[0]
    assert observation.state is State.SKIPPED and "non-public address" in observation.reason
    assert hits == []


def test_allow_private_lets_intranet_users_check_their_hosts(local_server: tuple[int, list[str]]) -> None:
    port, hits = local_server
    result = check_pages([f"http://127.0.0.1:{port}/wiki"], CheckSettings(timeout=2, retries=0, allow_private=True))
    assert result.observations[0].state is State.ALIVE and hits == ["/wiki"]


def test_a_config_file_with_an_unknown_key_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        apply_config(CheckSettings(), {"timeuot": 3}, "paperwatch.toml")
    assert str(info.value) == "config paperwatch.toml: unknown key 'timeuot'"
    with pytest.raises(ConfigError, match="hosts.github.com.min_interval"):
        apply_config(CheckSettings(), {"hosts": {"github.com": {"min_interval": "fast"}}}, "paperwatch.toml")


def run_check(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("paperwatch")
    return subprocess.run([str(exe), "check", *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_check_command_exit_codes_and_json(sim: SimulatedWeb, tmp_path: Path) -> None:
    remap = ["--remap", sim.remap_rules[0], "--timeout", "2"]
    ok = run_check("https://ok.example.org/", *remap, "--format", "json")
    assert ok.returncode == 0, ok.stderr
    document = json.loads(ok.stdout)
    assert document["summary"]["alive"] == 1 and document["results"][0]["evidence"]["status_code"] == 200

    dead = run_check("--input", "-", *remap, stdin="https://ok.example.org/\n# a comment\nhttps://gone.example.org/x\n")
    assert dead.returncode == 2
    assert "dead" in dead.stdout and "https://gone.example.org/x" in dead.stdout

    (tmp_path / "paperwatch.toml").write_text('exclude = ["gone"]\n')
    configured = run_check("https://gone.example.org/x", *remap, cwd=tmp_path)
    assert configured.returncode == 0 and "skipped" in configured.stdout

    broken = run_check("--input", str(tmp_path / "missing.txt"))
    assert broken.returncode == 1 and broken.stderr.startswith("paperwatch: error: --input")


@pytest.fixture()
def endless_page() -> Iterator[tuple[int, dict[str, int]]]:
    """A page that would stream 64 MB if the client kept reading, and refuses HEAD."""
    sent = {"chunks": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":
            return web.Response(status=405, headers={"Allow": "GET"})
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            for _ in range(1000):
                await response.write(b"<p>" + b"x" * 65530 + b"</p>")
                sent["chunks"] += 1
                await asyncio.sleep(0.001)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    with serve(handler) as port:
        yield port, sent


def test_a_huge_body_is_not_read_past_the_cap(endless_page: tuple[int, dict[str, int]]) -> None:
    port, sent = endless_page
    result = check_pages([f"http://127.0.0.1:{port}/huge"], CheckSettings(allow_private=True, timeout=5, retries=0))
    assert result.observations[0].state is State.ALIVE
    assert sent["chunks"] < 1000  # the checker hung up after the first bytes it needed, not after 64 MB


def test_a_link_costs_one_get_and_head_first_stays_available(sim: SimulatedWeb) -> None:
    urls = ["https://ok.example.org/", "https://gone.example.org/x"]
    by_get = states(check_pages(urls, settings(sim)))
    assert sorted(record.method for record in sim.request_log()) == ["GET", "GET"]  # the 404 is not asked twice
    sim.reset_stats()
    by_head = states(check_pages(urls, settings(sim, method="head")))
    # HEAD first: the HTML page is read with a GET, and the 404 is confirmed with a GET
    assert sorted(record.method for record in sim.request_log()) == ["GET", "GET", "HEAD", "HEAD"]
    assert by_get == by_head == {"https://ok.example.org/": State.ALIVE, "https://gone.example.org/x": State.DEAD}


def test_a_large_download_is_not_fetched_and_small_bodies_keep_their_connection() -> None:
    sent = {"chunks": 0}
    connections: set[object] = set()

    async def handler(request: web.Request) -> web.StreamResponse:
        connections.add(request.transport.get_extra_info("peername") if request.transport else None)
        if request.path == "/dataset.zip":
            response = web.StreamResponse(headers={"Content-Type": "application/zip"})
            await response.prepare(request)
            try:
                for _ in range(1000):
                    await response.write(b"x" * 65536)
                    sent["chunks"] += 1
                    await asyncio.sleep(0.001)
            except (ConnectionResetError, ConnectionError):
                pass
            return response
        # a 40 KB body in two parts, the second a little later: unread, it would not have arrived whole
        response = web.StreamResponse(status=404 if request.path.startswith("/missing") else 200,
                                      headers={"Content-Type": "application/json", "Content-Length": "40000"})
        await response.prepare(request)
        await response.write(b"y" * 20_000)
        await asyncio.sleep(0.02)
        await response.write(b"y" * 20_000)
        return response

    with serve(handler) as port:
        small = [f"http://127.0.0.1:{port}/{kind}/{i}" for i in range(10) for kind in ("ok", "missing")]
        result = check_pages(small, CheckSettings(allow_private=True, timeout=5, retries=0, per_host=1, max_concurrency=1))
        assert sorted(o.state.value for o in result.observations) == ["alive"] * 10 + ["dead"] * 10
        assert len(connections) == 1  # 40 KB bodies are read to their end, so one connection serves all 20 GETs

        download = check_pages([f"http://127.0.0.1:{port}/dataset.zip"], CheckSettings(allow_private=True, timeout=5, retries=0))
        assert download.observations[0].state is State.ALIVE
        assert sent["chunks"] < 1000  # the checker hung up after the headers, not after 64 MB


def test_a_sink_receives_every_url_once_with_the_same_verdicts_and_nothing_is_kept(sim: SimulatedWeb) -> None:
    urls = ["https://ok.example.org/", "https://gone.example.org/x", "https://ok.example.org/bot-wall",
            "https://spa.example.org/code", "https://ok.example.org/"]
    returned = states(check_pages(urls, settings(sim)))
    streamed: list[Observation] = []
    result = check_pages(urls, settings(sim), sink=streamed.append)
    assert result.observations == ()
    assert sorted(o.url for o in streamed) == sorted(set(urls))
    assert {o.url: o.state for o in streamed} == returned


def test_offline_verdicts_reach_the_sink_as_unknown_after_the_outage_judgement(sim: SimulatedWeb) -> None:
    streamed: list[Observation] = []
    result = check_pages(["https://ok.example.org/", "https://gone.example.org/x"],
                         settings(sim, canaries=("https://deadcanary.example.org/",), retries=0), sink=streamed.append)
    assert result.offline and result.observations == ()
    assert {o.state for o in streamed} == {State.UNKNOWN} and len(streamed) == 2


def test_pages_get_our_user_agent_and_host_headers_and_no_cookie_travels_between_requests() -> None:
    seen: list[dict[str, str]] = []
    accepts: list[list[str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        accepts.append(request.headers.getall("Accept", []))
        response = web.Response(text="hello")
        response.set_cookie("session", "secret-from-first-page")
        return response

    with serve(handler) as port:
        host = f"127.0.0.1:{port}"
        policy = {"127.0.0.1": HostRule(headers={"X-Lab": "vision", "accept": "application/json"})}
        result = check_pages([f"http://{host}/a", f"http://{host}/b"],
                             CheckSettings(allow_private=True, user_agent="paperwatch-test/1", hosts=policy))
    assert {o.state for o in result.observations} == {State.ALIVE}
    assert len(seen) == 2
    for headers in seen:
        assert headers["User-Agent"] == "paperwatch-test/1" and headers["X-Lab"] == "vision" and headers["Host"] == host
        assert "Cookie" not in headers
    assert accepts == [["application/json"]] * 2  # the host's Accept replaces ours, whatever its case


def test_rate_limit_headers_without_retry_after_are_waited_for_and_slow_the_host() -> None:
    """A 429 that only says X-RateLimit-Remaining: 0 / X-RateLimit-Reset is retried after the reset,
    and a 200 that says the budget is spent makes the next request to that host wait."""
    import time as clock
    hits: list[tuple[str, float]] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append((request.path, clock.monotonic()))
        reset = str(int(clock.time()) + 2)  # epoch seconds, as GitHub sends it
        if request.path == "/limited" and sum(1 for path, _ in hits if path == "/limited") == 1:
            return web.Response(status=429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        if request.path == "/spent":
            return web.Response(text="ok", headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "1"})
        return web.Response(text="ok")

    with serve(handler) as port:
        base = f"http://127.0.0.1:{port}"
        limited = check_pages([f"{base}/limited"], CheckSettings(allow_private=True, retries=1, max_retry_after=5))
        hits.clear()
        checker_settings = CheckSettings(allow_private=True, per_host=1, retries=0, max_retry_after=5)
        check_pages([f"{base}/spent", f"{base}/after"], checker_settings)
    observation = limited.observations[0]
    assert observation.state is State.ALIVE and observation.evidence.attempts == 2
    assert observation.evidence.elapsed_ms >= 900
    (first, t0), (second, t1) = sorted(hits, key=lambda hit: hit[1])[:2]
    assert (first, second) == ("/spent", "/after") and t1 - t0 >= 0.9


def test_a_rate_limit_reset_beyond_our_patience_leaves_the_link_unknown_not_dead() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"})

    with serve(handler) as port:
        result = check_pages([f"http://127.0.0.1:{port}/x"], CheckSettings(allow_private=True, retries=2, max_retry_after=2))
    observation = result.observations[0]
    assert observation.state is State.UNKNOWN and observation.evidence.attempts == 1
    assert "rate-limited us" in observation.reason and "retry after 3600" in observation.reason


def test_github_com_is_asked_a_few_pages_at_a_time_unless_configured_otherwise() -> None:
    """Without a token every repository is a github.com page; GitHub answers a burst of them with 429."""
    in_flight, most = 0, []

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight
        in_flight += 1
        most.append(in_flight)
        await asyncio.sleep(0.1)
        in_flight -= 1
        return web.Response(text="a file")

    urls = [f"https://github.com/lab/repo-{i}/blob/main/train.py" for i in range(16)]
    with serve(handler) as port:
        remap = (RemapRule.parse(rf"^https://github\.com/(.*)$ http://127.0.0.1:{port}/$1"),)
        default = check_pages(urls, CheckSettings(remap_rules=remap, canaries=(), soft404=False, per_host=10))
        assert max(most) == 4 and {o.state for o in default.observations} == {State.ALIVE}
        most.clear()
        configured = {"github.com": HostRule(max_concurrency=8)}
        check_pages(urls, CheckSettings(remap_rules=remap, canaries=(), soft404=False, per_host=10, hosts=configured))
        assert max(most) == 8


def test_urls_with_spaces_non_ascii_and_escapes_reach_the_server_percent_encoded_as_httpx_encodes_them() -> None:
    raw_paths: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        raw_paths.append(request.raw_path)
        return web.Response(text="here")

    with serve(handler) as port:
        base = f"http://127.0.0.1:{port}"
        paths = ["/plain/a-b_c~d", "/with space/ü?q=ä ö", "/%7Euser/a%20b?x=%E4", "/lone%zz", "/a[1]"]
        result = check_pages([base + path for path in paths], CheckSettings(allow_private=True, retries=0))
    assert {o.state for o in result.observations} == {State.ALIVE}
    expected = [httpx.URL(base + path).raw_path.decode("ascii") for path in paths]
    assert sorted(raw_paths) == sorted(expected)
    assert "/with%20space/%C3%BC?q=%C3%A4%20%C3%B6" in raw_paths  # a space in the query stays %20, never "+"


@given(st.lists(st.sampled_from(["http", "HTTPS", "ftp", "mailto:", "://", "//", "/", ":", "@", "u:p@", "[", "]", "::1",
                                 "?", "#", "%", "%2F", "\\", ".", "-", "_", "a", "B", "example", "org", "0", "8080", "é",
                                 " ", "\t"]), max_size=12).map("".join))
def test_the_host_of_a_url_is_what_urlsplit_says(url: str) -> None:
    try:
        expected = urlsplit(url).hostname or ""
    except ValueError:
        return  # urlsplit refuses it (an unbalanced bracket): the checker's refusal step has the same view
    assert _host(url) == expected


def test_a_url_that_cannot_be_sent_is_skipped_with_its_reason_and_the_rest_are_checked(
        local_server: tuple[int, list[str]]) -> None:
    port, hits = local_server
    broken = ["http://[::1/x", f"http://127.0.0.1:{port}99999/", "http://example.org/\x00"]
    result = check_pages([*broken, f"http://127.0.0.1:{port}/fine"], CheckSettings(allow_private=True, retries=0))
    by_url = {o.url: o for o in result.observations}
    for url in broken:
        assert by_url[url].state is State.SKIPPED and by_url[url].reason.startswith("not requested: not a valid URL ("), url
    assert by_url[f"http://127.0.0.1:{port}/fine"].state is State.ALIVE and hits == ["/fine"]
