"""What paperwatch reports stays in the user's namespace.

Remap rules and exclude/include patterns see URLs as lychee's do (the canonical WHATWG form),
and whatever a server behind a remap answers in its own namespace (a mirror's Location) is
reported as the URL the paper's reader knows. Checks run against simweb over sockets; the
mapping itself is a pure function, tested on its own too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.http import check_pages
from checks.model import State
from checks.remap import Route, canonical, logical_location, route
from checks.settings import CheckSettings, RemapRule, remap
from simweb import SimulatedWeb

SCENARIO: dict[str, Any] = {
    "github": {"repos": [{"full_name": "acme/new", "renamed_from": ["acme/old"], "files": ["README.md", "train.py"]}]},
    "web": {
        "https://example.org/": {"status": 410},  # the production site; the rules below send it to staging
        "https://staging.example.org/": {"title": "Staging home"},
        "https://docs.example.org/old": {"status": 301, "location": "/new"},
        "https://docs.example.org/new": {"title": "New docs"},
        "https://docs.example.org/away": {"status": 301, "location": "https://elsewhere.example.org/"},
        "https://elsewhere.example.org/": {"title": "Elsewhere"},
    },
}
pytestmark = pytest.mark.usefixtures("fresh_sim")

P = "http://127.0.0.1:8080"


def rules(*texts: str) -> tuple[RemapRule, ...]:
    return tuple(RemapRule.parse(text) for text in texts)


def checking(sim: SimulatedWeb, *first: str, **changes: Any) -> CheckSettings:
    """Settings with ``first`` rules before simweb's own (which catch every other URL)."""
    base = CheckSettings(remap_rules=rules(*first, *sim.remap_rules), timeout=2.0, retries=0, canaries=())
    return replace(base, **changes)


# --- patterns see the canonical URL ------------------------------------------------------------

@pytest.mark.parametrize("written", ["https://example.org", "https://example.org/", "HTTPS://Example.ORG:443"])
def test_a_rule_for_the_site_root_rewrites_every_way_of_writing_it(written: str) -> None:
    rule = rules(rf"^https://example\.org/ {P}/staging/")
    assert remap(written, rule) == f"{P}/staging/"


def test_exclude_and_include_patterns_see_the_canonical_url() -> None:
    settings = CheckSettings(exclude=(r"^https://example\.org/$",), include=(r"^https://example\.org/keep",))
    assert settings.excluded("https://example.org") and settings.excluded("https://EXAMPLE.org/")
    assert not settings.excluded("https://example.org/keep/this") and not settings.excluded("https://example.org/other")


def test_a_rule_for_the_bare_site_is_followed_by_a_real_check(sim: SimulatedWeb) -> None:
    staging = rf"^https://example\.org/ {sim.web_url}/https/staging.example.org/"
    result = check_pages(["https://example.org", "https://example.org/"], checking(sim, staging))
    assert {o.url: o.state for o in result.observations} == {"https://example.org": State.ALIVE,
                                                             "https://example.org/": State.ALIVE}
    assert {r.url for r in sim.request_log()} == {"https://staging.example.org/"}  # production never asked


def test_an_excluded_bare_site_is_skipped_however_it_is_written(sim: SimulatedWeb) -> None:
    result = check_pages(["https://example.org", "https://example.org/"], checking(sim, exclude=(r"^https://example\.org/$",)))
    assert {o.state for o in result.observations} == {State.SKIPPED} and sim.request_log() == []


# --- redirects behind a mirror are reported as the site's URLs -----------------------------------

def test_a_renamed_repository_behind_a_mirror_has_moved_to_its_public_url(sim: SimulatedWeb) -> None:
    result = check_pages(["https://github.com/acme/old"], checking(sim, sim.mirror_rule("https://github.com")))
    moved = result.observations[0]
    assert (moved.state, moved.suggested_url) == (State.MOVED, "https://github.com/acme/new")
    assert moved.evidence.redirects == ((301, "https://github.com/acme/new"),)
    assert moved.evidence.final_url == "https://github.com/acme/new"
    assert "127.0.0.1" not in repr(moved.to_dict())
    mirrored = [r.url for r in sim.request_log()]
    assert "https://github.com/acme/new" in mirrored  # the new page was asked through the mirror, not elsewhere


def test_a_mirrors_path_redirect_and_a_redirect_to_another_site_keep_their_public_urls(sim: SimulatedWeb) -> None:
    result = check_pages(["https://docs.example.org/old", "https://docs.example.org/away"],
                         checking(sim, sim.mirror_rule("https://docs.example.org")))
    by_url = {o.url: o for o in result.observations}
    assert by_url["https://docs.example.org/old"].suggested_url == "https://docs.example.org/new"
    assert by_url["https://docs.example.org/away"].suggested_url == "https://elsewhere.example.org/"
    assert {o.state for o in by_url.values()} == {State.MOVED}


def test_a_redirect_to_the_remap_targets_own_url_is_unknown_and_labelled(sim: SimulatedWeb) -> None:
    """A misconfigured staging host sends us to its own login page: no public URL names it, so the
    link is not judged (unknown, with the reason), and the physical URL is kept only as labelled evidence."""
    login = f"{sim.web_url}/internal/login"
    sim.load({"web": {"https://example.org/private": {"status": 302, "location": login}}})
    observation = check_pages(["https://example.org/private"], checking(sim)).observations[0]
    assert observation.state is State.UNKNOWN and login in observation.reason and "no remap rule" in observation.reason
    assert observation.facts.unmapped_redirect == login
    assert observation.suggested_url is None and observation.evidence.final_url == "https://example.org/private"


# --- the mapping back, as a pure function ------------------------------------------------------

CATCH_ALL = rf"^(https?)://(.*)$ {P}/$1/$2"
MIRROR = rf"^https://github\.com/(.*)$ {P}/mirror/https/github.com/$1"
STAGING = rf"^https://example\.org/ {P}/https/staging.example.org/"
LOOSE = rf"^https://(www\.)?github\.com/(.*)$ {P}/gh/$2"  # drops a group: only the request's prefix maps back


@pytest.mark.parametrize(("rule_texts", "asked", "location", "expected"), [
    ((MIRROR, CATCH_ALL), "https://github.com/acme/old", f"{P}/mirror/https/github.com/acme/new", "https://github.com/acme/new"),
    ((MIRROR, CATCH_ALL), "https://github.com/acme/old", "/mirror/https/github.com/acme/new", "https://github.com/acme/new"),
    ((MIRROR, CATCH_ALL), "https://github.com/acme/old", "https://github.com/acme/new", "https://github.com/acme/new"),
    ((MIRROR, CATCH_ALL), "https://github.com/acme/old", "new", "https://github.com/acme/new"),
    ((CATCH_ALL,), "https://aka.ms/x", f"{P}/http/github.com/a/b", "http://github.com/a/b"),  # another site, same rule
    ((CATCH_ALL,), "https://ok.example.org/old", "/new", "https://ok.example.org/new"),  # the site's own path
    ((STAGING, CATCH_ALL), "https://example.org", f"{P}/https/staging.example.org/docs?x=1", "https://example.org/docs?x=1"),
    ((LOOSE, CATCH_ALL), "https://github.com/a/old", f"{P}/gh/a/new", "https://github.com/a/new"),
])
def test_a_location_maps_back_to_the_url_the_rules_rewrite_into_it(rule_texts: tuple[str, ...], asked: str,
                                                                   location: str, expected: str) -> None:
    rule_set = rules(*rule_texts)
    found = logical_location(location, route(asked, rule_set), rule_set)
    assert (found.url, found.unmapped) == (expected, None)
    if location.startswith(P):
        assert canonical(remap(found.url, rule_set) or "") == canonical(location)  # the round trip holds


def test_a_location_outside_every_rule_on_the_remap_target_is_unmapped() -> None:
    rule_set = rules(MIRROR)
    found = logical_location(f"{P}/login", route("https://github.com/acme/old", rule_set), rule_set)
    assert found.unmapped == f"{P}/login" and found.url == "https://github.com/acme/old"


def test_without_a_remap_a_location_is_joined_to_the_url_asked() -> None:
    assert logical_location("../b", Route("https://x.org/a/c", "https://x.org/a/c"), ()).url == "https://x.org/b"


_SEGMENT = st.text(alphabet="abcXYZ019-._~%20", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([(MIRROR, CATCH_ALL), (CATCH_ALL,), (STAGING, CATCH_ALL), (LOOSE, CATCH_ALL)]),
       st.sampled_from(["https://github.com", "https://example.org", "https://aka.ms", "http://old.example.org"]),
       st.lists(_SEGMENT, max_size=4), st.lists(_SEGMENT, max_size=4), st.booleans())
def test_any_physical_url_a_rule_makes_maps_back_to_its_logical_url(
        rule_texts: tuple[str, ...], site: str, asked_path: list[str], moved_path: list[str], absolute: bool) -> None:
    rule_set = rules(*rule_texts)
    asked, moved = f"{site}/{'/'.join(asked_path)}", f"{site}/{'/'.join(moved_path)}"
    physical = remap(moved, rule_set)
    assert physical is not None
    location = physical if absolute else "/" + physical.split("/", 3)[3]
    assert logical_location(location, route(asked, rule_set), rule_set).url == canonical(moved)
