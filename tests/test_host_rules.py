"""Host rules and the status table, as a user meets them: what a redirect or a status from a host means.

The shortener test iterates the one table (``checks.host_rules.BUILT_IN``): every host whose
redirects are expected (each shortener the extractor knows, each DOI or handle resolver) answers
a real 301 and 308 over 127.0.0.1 (simweb, reached through remap rules, so each URL keeps its
real host), and each must be ``alive``, not ``moved``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from checks.config import ConfigError, apply_config
from flows.settings import load_config
from checks.host_rules import BUILT_IN, HostRule, Redirects, parse_host_table, rule_for
from checks.http import check_pages
from checks.model import State
from checks.settings import CheckSettings, RemapRule
from checks.statuses import Service, state_for_status
from checks.link_kinds import classify
from simweb import SimulatedWeb

LANDING = "https://landing.example.org/paper"
SHORTENERS = sorted(pattern.removeprefix("*.") for pattern, rule in BUILT_IN.items() if rule.family == "shortener")
# shorteners, DOI resolvers, and the hosts the table declares as redirecting for a living (handle, purl, w3id ...)
REDIRECTING = sorted(pattern.removeprefix("*.") for pattern, rule in BUILT_IN.items()
                     if rule.family in ("shortener", "doi") or rule.redirects is Redirects.EXPECTED)


def _redirects(host: str) -> dict[str, Any]:
    return {f"https://{host}/s{status}": {"status": status, "location": LANDING} for status in (301, 308)}


SCENARIO: dict[str, Any] = {
    "web": {
        LANDING: {"title": "The paper's page"},
        **{url: page for host in REDIRECTING for url, page in _redirects(host).items()},
        **_redirects("news.example.org"),  # no rule: its permanent redirect is news
        **_redirects("go.example.org"),
        **_redirects("r.example.org"),
        "https://wall.example.org/": {"status": 403},
        "https://other.example.org/": {"status": 403},
    },
}
pytestmark = pytest.mark.usefixtures("fresh_sim")


def checking(sim: SimulatedWeb, **changes: Any) -> CheckSettings:
    base = CheckSettings(remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), allow_private=True,
                         timeout=2.0, retries=0, canaries=(), soft404=False)
    return replace(base, **changes)


def states(sim: SimulatedWeb, urls: list[str], settings: CheckSettings | None = None) -> dict[str, State]:
    return {o.url: o.state for o in check_pages(urls, settings or checking(sim)).observations}


# --- the acceptance test: one table, every redirecting host ------------------------------------

def test_the_table_knows_every_shortener_and_resolver_the_monitor_treats_as_such() -> None:
    assert {"bit.ly", "rb.gy", "cutt.ly", "t.ly", "s.id", "tiny.cc", "shorturl.at", "lnkd.in", "amzn.to", "1drv.ms"} <= set(SHORTENERS)
    assert {"doi.org", "hdl.handle.net", "n2t.net", "identifiers.org"} <= set(REDIRECTING) and set(SHORTENERS) <= set(REDIRECTING)
    for host in SHORTENERS:  # what the extractor calls a shortener is what the checker treats as one
        assert classify(f"https://{host}/abc").family == "shortener", host


def test_a_permanent_redirect_from_any_shortener_or_resolver_is_alive_not_moved(sim: SimulatedWeb) -> None:
    urls = [url for host in REDIRECTING for url in _redirects(host)]
    result = {o.url: o for o in check_pages(urls, checking(sim)).observations}
    assert {url: o.state for url, o in result.items()} == dict.fromkeys(urls, State.ALIVE)
    assert all(o.suggested_url is None and o.evidence.final_url == LANDING for o in result.values())
    assert {r.url for r in sim.request_log()} >= set(urls) | {LANDING}  # really asked, over 127.0.0.1


def test_a_permanent_redirect_from_a_host_without_a_rule_is_still_news(sim: SimulatedWeb) -> None:
    result = check_pages(list(_redirects("news.example.org")), checking(sim)).observations
    assert {(o.state, o.suggested_url) for o in result} == {(State.MOVED, LANDING)}


# --- the user's rules, from the config file ----------------------------------------------------

CONFIG = """
[hosts."go.example.org"]
family = "shortener"

[hosts."r.example.org"]
redirects = "expected"

[hosts."wall.example.org"]
accept = [403]
"""


def test_a_config_file_makes_a_host_a_shortener_and_accepts_a_status_for_that_host_only(sim: SimulatedWeb, tmp_path: Path) -> None:
    file = tmp_path / "paperwatch.toml"
    file.write_text(CONFIG, encoding="utf-8")
    configured = apply_config(checking(sim), load_config(file), str(file))
    redirecting = [*_redirects("go.example.org"), *_redirects("r.example.org")]
    walls = ["https://wall.example.org/", "https://other.example.org/"]

    assert states(sim, redirecting + walls) == {**dict.fromkeys(redirecting, State.MOVED), walls[0]: State.BLOCKED,
                                                 walls[1]: State.BLOCKED}  # without the file
    assert states(sim, redirecting + walls, configured) == {**dict.fromkeys(redirecting, State.ALIVE),
                                                            walls[0]: State.ALIVE, walls[1]: State.BLOCKED}


def test_host_rules_travel_as_plain_data() -> None:
    rules = parse_host_table({"Go.Example.org": {"family": "shortener", "accept": [403], "min_interval": 1},
                              "*.lab.example.org": {"redirects": "news", "headers": {"X-Lab": "vision"}}}, "paperwatch.toml")
    settings = CheckSettings(hosts=rules)
    assert CheckSettings.from_dict(settings.to_dict()) == settings
    assert rules["go.example.org"] == HostRule(family="shortener", accept=(403,), min_interval=1.0)


@pytest.mark.parametrize(("table", "message"), [
    ({"x.org": {"accept": "403"}}, "config paperwatch.toml: hosts.x.org.accept must be a list of integers"),
    ({"x.org": {"accept": [True]}}, "config paperwatch.toml: hosts.x.org.accept must be a list of integers"),
    ({"x.org": {"accept": [42]}}, "config paperwatch.toml: hosts.x.org.accept must hold HTTP statuses (100 to 999)"),
    ({"x.org": {"redirects": "sometimes"}}, "config paperwatch.toml: hosts.x.org.redirects must be 'news' or 'expected'"),
    ({"x.org": {"family": "shortner"}}, "config paperwatch.toml: hosts.x.org.family must be one of "),
    ({"x.org": {"max_concurrency": 0}}, "config paperwatch.toml: hosts.x.org.max_concurrency must be a positive integer"),
    ({"x.org": {"speed": 3}}, "config paperwatch.toml: unknown key hosts.x.org.speed"),
    ({"x.org": 3}, "config paperwatch.toml: hosts.x.org must be a table"),
    (["x.org"], "config paperwatch.toml: hosts must be a table of host names"),
])
def test_a_bad_host_table_is_refused_in_one_line_naming_the_file_and_key(table: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_host_table(table, "paperwatch.toml")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


# --- lookup: exact host, longest *.suffix, user over built-in field by field -------------------

def test_a_user_rule_changes_only_what_it_says() -> None:
    mine = {"github.com": HostRule(max_concurrency=8), "*.bit.ly": HostRule(redirects=Redirects.NEWS, accept=(403,))}
    assert rule_for("github.com", mine) == HostRule(family="github", max_concurrency=8)
    assert rule_for("GitHub.com") == HostRule(family="github", max_concurrency=4)
    bitly = rule_for("bit.ly", mine)
    assert (bitly.family, bitly.redirects_expected, bitly.accept) == ("shortener", False, (403,))
    assert rule_for("example.org", mine) == HostRule()


def test_the_exact_host_wins_then_the_longest_suffix() -> None:
    mine = {"*.example.org": HostRule(min_interval=1.0), "*.lab.example.org": HostRule(min_interval=2.0),
            "www.lab.example.org": HostRule(min_interval=3.0)}
    assert [rule_for(host, mine).min_interval for host in
            ("example.org", "a.example.org", "lab.example.org", "x.lab.example.org", "www.lab.example.org")] == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert rule_for("www.bit.ly").redirects_expected and rule_for("doi.org").redirects_expected
    assert not rule_for("bit.ly.example.org").redirects_expected


# --- one status table for every checker ----------------------------------------------------------

@pytest.mark.parametrize("service", list(Service))
def test_a_429_is_unknown_everywhere_saying_the_host_rate_limited_us(service: Service) -> None:
    state, reason = state_for_status(429, None, service)
    assert state is State.UNKNOWN and "rate-limited us (HTTP 429)" in reason and reason.startswith("not checked")


@pytest.mark.parametrize(("status", "state"), [(200, State.ALIVE), (204, State.ALIVE), (401, State.BLOCKED), (403, State.BLOCKED),
                                               (999, State.BLOCKED), (404, State.DEAD), (410, State.DEAD), (451, State.DEAD),
                                               (500, State.ERROR), (503, State.ERROR), (418, State.ERROR)])
def test_page_statuses(status: int, state: State) -> None:
    assert state_for_status(status)[0] is state


def test_service_exceptions_are_rows_of_the_table() -> None:
    assert state_for_status(403, None, Service.GITHUB_API, message="Repository access blocked") == (
        State.DEAD, "repository access blocked by GitHub (Repository access blocked)")
    assert state_for_status(403, None, Service.GITHUB_API, message="Forbidden")[0] is State.BLOCKED
    assert state_for_status(401, None, Service.GITHUB_API)[0] is State.UNKNOWN  # our token, not the repository
    assert state_for_status(502, None, Service.GITHUB_API, message="Bad gateway") == (State.ERROR, "GitHub API error (HTTP 502: Bad gateway)")
    assert state_for_status(404, None, Service.HUB_API, what="model") == (State.DEAD, "model not found on the Hub (HTTP 404)")
    assert state_for_status(None, None, Service.HUB_API) == (State.ERROR, "Hub API error (HTTP None)")


def test_accepted_statuses_count_as_alive_for_their_host_or_the_run() -> None:
    assert state_for_status(403, HostRule(accept=(403,)))[0] is State.ALIVE
    assert state_for_status(403, HostRule(accept=(401,)))[0] is State.BLOCKED
    assert state_for_status(403, None, accept=(403,))[0] is State.ALIVE
