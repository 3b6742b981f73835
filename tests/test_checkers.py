"""Each checker against the simulated web, over real sockets: states and evidence users rely on.

The one rule above all: only the server's own answer makes a link ``dead``; our failures
(budget, network, timeouts) are ``unknown`` or ``error``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from checks.github import check_repos
from checks.http import check_pages
from checks.huggingface import check_artifacts
from checks.model import Link, LinkKind, Observation, State
from checks.settings import CheckSettings, RemapRule
from simweb import SimulatedWeb

SCENARIO: dict[str, Any] = {
    "github": {
        "tokens": ["ghp_test_token"],
        "rate_limit": {"anonymous": 60},
        "repos": [
            {"full_name": "lab/alive", "stars": 12, "archived": False, "pushed_at": "2026-11-20T00:00:00Z",
             "releases": [{"tag": "v2.0", "published_at": "2026-11-01T00:00:00Z"}], "license": "mit"},
            {"full_name": "lab/new-home", "renamed_from": ["lab/old-home"]},
            {"full_name": "lab/shelved", "archived": True, "pushed_at": "2021-01-01T00:00:00Z"},
            {"full_name": "lab/coming-soon", "empty": True},
            {"full_name": "lab/dmca", "blocked": "dmca"},
            {"full_name": "lab/tos", "disabled": True},
            {"full_name": "lab/flaky", "drop": True},
            {"full_name": "lab/broken", "status": 502},
        ],
    },
    "hub": {
        "models": [{"id": "lab/weights", "files": ["README.md", {"name": "model.safetensors", "size": 5000}]},
                   {"id": "lab/readme-only", "files": ["README.md"]},
                   {"id": "lab/gated", "gated": "manual"},
                   {"id": "lab/hub-flaky", "drop": True}],
        "datasets": [{"id": "lab/data"}],
        "papers": [{"id": "2401.00001", "title": "A paper on the Hub", "github_repo": "https://github.com/lab/alive",
                    "models": ["lab/weights"], "datasets": ["lab/data"]}],
        "spaces": [{"id": "lab/running", "stage": "RUNNING"}, {"id": "lab/broken-space", "stage": "BUILD_ERROR"},
                   {"id": "lab/sleepy", "stage": "SLEEPING"}],
    },
    "web": {
        "https://ok.example.org/": {"title": "Fine"},
        "https://ok.example.org/gone": {"status": 410},
        "https://ok.example.org/missing": {"status": 404},
        "https://ok.example.org/bot-wall": {"status": 403},
        "https://ok.example.org/busy": {"status": 429, "retry_after": 3600},
        "https://ok.example.org/down": {"status": 503},
        "https://ok.example.org/slow": {"delay": 5},
        "https://ok.example.org/hangup": {"drop": True},
        "https://ok.example.org/get-only": {"head": 405},
        "https://ok.example.org/huge": {"size": 20_000_000},
        "https://ok.example.org/old": {"status": 308, "location": "/new"},
        "https://ok.example.org/new": {"title": "New home"},
        "http://ok.example.org/plain": {"status": 301, "location": "https://ok.example.org/plain"},
        "https://ok.example.org/plain": {"title": "Same page over TLS"},
        "https://ok.example.org/temp": {"status": 302, "location": "https://ok.example.org/"},
        "https://ok.example.org/loop-a": {"status": 301, "location": "https://ok.example.org/loop-b"},
        "https://ok.example.org/loop-b": {"status": 301, "location": "https://ok.example.org/loop-a"},
        "https://ok.example.org/to-metadata": {"status": 302, "location": "http://169.254.169.254/latest/meta-data/"},
    },
}


pytestmark = pytest.mark.usefixtures("fresh_sim")  # each test starts from the scenario as written


def settings(sim: SimulatedWeb, **changes: Any) -> CheckSettings:
    base = CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint,
                         remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules),
                         timeout=1.0, total_timeout=10.0, retries=1, backoff=0.05)
    return replace(base, **changes)


def repo(full_name: str) -> Link:
    owner, name = full_name.split("/")
    return Link(url=f"https://github.com/{full_name}", normalized=f"https://github.com/{full_name}",
                kind=LinkKind.GITHUB_REPO, owner=owner, name=name)


def hf(kind: LinkKind, repo_id: str) -> Link:
    prefix = {LinkKind.HF_MODEL: "", LinkKind.HF_DATASET: "datasets/", LinkKind.HF_SPACE: "spaces/"}[kind]
    owner, name = repo_id.split("/")
    url = f"https://huggingface.co/{prefix}{repo_id}"
    return Link(url=url, normalized=url, kind=kind, owner=owner, name=name)


def by_url(observations: list[Observation] | tuple[Observation, ...]) -> dict[str, Observation]:
    return {o.url.rsplit("/", 2)[-2] + "/" + o.url.rsplit("/", 1)[-1] if "github.com" in o.url or "huggingface" in o.url
            else o.url: o for o in observations}


# --- GitHub -----------------------------------------------------------------------------------

def test_github_repositories_each_get_their_state_and_metadata(sim: SimulatedWeb) -> None:
    names = ["lab/alive", "lab/old-home", "lab/missing", "lab/shelved", "lab/coming-soon", "lab/dmca", "lab/tos", "lab/broken"]
    result = by_url(check_repos([repo(n) for n in names], settings(sim)))

    alive = result["lab/alive"]
    assert alive.state is State.ALIVE
    assert alive.facts.stars == 12 and alive.facts.license == "MIT"
    assert alive.facts.activity == "active"
    assert not alive.facts.has("latest_release")  # one request per repository without a token: no release call
    moved = result["lab/old-home"]
    assert (moved.state, moved.suggested_url) == (State.MOVED, "https://github.com/lab/new-home")
    assert (result["lab/missing"].state, result["lab/missing"].evidence.status_code) == (State.DEAD, 404)
    assert result["lab/shelved"].state is State.ALIVE and result["lab/shelved"].facts.activity == "archived"
    assert result["lab/coming-soon"].facts.empty is True
    assert (result["lab/dmca"].state, result["lab/dmca"].evidence.status_code) == (State.DEAD, 451)
    assert result["lab/tos"].state is State.DEAD and "blocked" in result["lab/tos"].reason
    assert result["lab/broken"].state is State.ERROR and result["lab/broken"].evidence.status_code == 502


def test_a_spent_github_budget_makes_links_unknown_never_dead(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 2}}})
    links = [repo("lab/alive"), repo("lab/missing"), repo("lab/shelved"), repo("lab/dmca"), repo("lab/old-home")]
    observations = check_repos(links, replace(settings(sim), retries=0))

    truth = {"lab/alive": State.ALIVE, "lab/missing": State.DEAD, "lab/shelved": State.ALIVE, "lab/dmca": State.DEAD,
             "lab/old-home": State.MOVED}
    for name, observation in by_url(observations).items():
        assert observation.state in (truth[name], State.UNKNOWN), name
        if observation.state is State.UNKNOWN:
            assert "rate limit" in observation.reason
    assert sum(o.state is State.UNKNOWN for o in observations) >= 2
    assert sim.stats()["github"]["requests"] <= 2 + 4  # stops asking once told the budget is gone


def test_a_budget_that_resets_soon_is_waited_for_instead_of_giving_up(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 1, "reset_in": 2}}})
    observations = check_repos([repo("lab/alive"), repo("lab/shelved")], replace(settings(sim), retries=0, max_retry_after=10))
    assert {o.state for o in observations} == {State.ALIVE}


@pytest.mark.parametrize(("token", "status"), [(None, 403), (None, 429), ("ghp_test_token", 403), ("ghp_test_token", 429)])
def test_a_secondary_rate_limit_leaves_repositories_unknown_saying_how_long_github_asked_to_wait(
        sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch, token: str | None, status: int) -> None:
    """GitHub refuses a burst (403 or 429, Retry-After, the hourly budget's headers still showing plenty left):
    our limit, not the repositories'. Never dead or blocked, and the reason gives the wait GitHub asked for."""
    secondary = {"requests": 0, "retry_after": 120, "status": status}
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 60, "secondary": secondary}}})
    if token:
        monkeypatch.setenv("GITHUB_TOKEN", token)
    links = [repo("lab/alive"), repo("lab/missing"), repo("lab/shelved")] + [repo(f"lab/more-{i}") for i in range(9)]
    observations = check_repos(links, settings(sim, max_retry_after=5))
    api, who = ("GraphQL", "token") if token else ("API", "no token")
    assert {(o.state, o.reason) for o in observations} == {
        (State.UNKNOWN, f"not checked: GitHub {api} secondary rate limit hit ({who}); asked to wait 120 s")}
    # told to wait, it stopped asking: one batch query, or the REST requests already in flight (4 at a time)
    assert sim.stats()["graphql" if token else "github"]["requests"] <= (1 if token else 4)


def test_a_secondary_rate_limit_without_retry_after_asks_for_a_minute(sim: SimulatedWeb) -> None:
    secondary = {"requests": 0, "retry_after": None}
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 60, "secondary": secondary}}})
    observation = check_repos([repo("lab/alive")], settings(sim, max_retry_after=5))[0]
    assert observation.state is State.UNKNOWN
    assert observation.reason.endswith("secondary rate limit hit (no token); no wait given (GitHub asks for at least a minute)")


def test_a_dropped_api_connection_is_unknown_and_one_drop_does_not_stop_the_rest(sim: SimulatedWeb) -> None:
    result = by_url(check_repos([repo("lab/flaky"), repo("lab/alive")], replace(settings(sim), retries=0)))
    assert result["lab/flaky"].state is State.UNKNOWN and "could not reach the GitHub API" in result["lab/flaky"].reason
    assert result["lab/alive"].state is State.ALIVE


def test_a_refused_token_is_our_problem_not_the_repos(sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong_token")
    observations = check_repos([repo("lab/alive"), repo("lab/missing")], settings(sim))
    assert {o.state for o in observations} == {State.UNKNOWN}
    assert all("token" in o.reason for o in observations)
    assert "ghp_wrong_token" not in repr([o.to_dict() for o in observations])


def test_a_valid_token_is_used_and_never_recorded(sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test_token")
    observations = check_repos([repo("lab/alive")], settings(sim, timeout=30.0, total_timeout=60.0))  # requests counted
    assert observations[0].state is State.ALIVE
    assert sim.stats()["graphql"]["clients"]["ghp_test_token"]["requests"] == 2  # the repository, then its slow facts
    assert "ghp_test_token" not in repr([o.to_dict() for o in observations])


def test_with_a_token_repositories_are_asked_in_graphql_batches_with_the_same_verdicts(
        sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["lab/alive", "lab/old-home", "lab/missing", "lab/shelved", "lab/coming-soon", "lab/dmca", "lab/tos"]
    rest = {o.url: o for o in check_repos([repo(n) for n in names], settings(sim))}
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test_token")
    sim.reset_stats()
    graphql = {o.url: o for o in check_repos([repo(n) for n in names], settings(sim, timeout=30.0, total_timeout=60.0))}

    assert {url: o.state for url, o in graphql.items()} == {url: o.state for url, o in rest.items()}
    assert graphql["https://github.com/lab/old-home"].suggested_url == "https://github.com/lab/new-home"
    alive = graphql["https://github.com/lab/alive"].facts
    assert (alive.stars, alive.license, alive.latest_release.tag, alive.activity) == (12, "MIT", "v2.0", "active")
    assert graphql["https://github.com/lab/coming-soon"].facts.placeholder is True
    assert alive.release_count == (rest["https://github.com/lab/alive"].facts.release_count or alive.release_count)
    stats = sim.stats()
    assert stats["graphql"]["clients"]["ghp_test_token"]["requests"] == 2  # seven repositories, one query + slow facts
    assert stats["github"]["requests"] == 0


def test_a_hundred_repositories_cost_one_graphql_point_and_slow_facts_stay_within_the_budget(
        sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    many = [{"full_name": f"bulk/repo-{i}", "topics": ["nlp"], "releases": [{"tag": "v1"}, {"tag": "v2"}]} for i in range(250)]
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "repos": many}})
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test_token")
    links = [repo(f"bulk/repo-{i}") for i in range(250)]
    # the points are counted per query sent: a query our own 1 s timeout gave up on under load and
    # retried would count twice, so this test waits as long as a real run would
    patient = settings(sim, timeout=30.0, total_timeout=60.0)

    first = check_repos(links, patient)
    usage = sim.stats()["graphql"]["clients"]["ghp_test_token"]
    assert {o.state for o in first} == {State.ALIVE}
    assert usage["points"] <= 0.02 * 250  # 3 points for the repositories, 2 for slow facts of 100 of them
    with_facts = [o for o in first if o.facts.has("release_count")]
    assert len(with_facts) == 100 and {(o.facts.release_count, tuple(o.facts.topics)) for o in with_facts} == {(2, ("nlp",))}

    sim.reset_stats()
    second = check_repos(links, patient, previous={o.url: o.facts for o in first})
    assert sim.stats()["graphql"]["clients"]["ghp_test_token"]["points"] <= 0.02 * 250
    assert sum(o.facts.has("release_count") for o in second) == 200  # 100 carried over, 100 more fetched

    sim.reset_stats()
    third = check_repos(links, patient, previous={o.url: o.facts for o in second})
    fourth = check_repos(links, patient, previous={o.url: o.facts for o in third})
    assert all(o.facts.release_count == 2 for o in fourth)
    sim.reset_stats()
    check_repos(links, patient, previous={o.url: o.facts for o in fourth})
    assert sim.stats()["graphql"]["clients"]["ghp_test_token"] == {"requests": 3, "points": 3}  # unchanged: no slow facts asked


def test_without_a_token_an_unchanged_repository_costs_one_conditional_request(sim: SimulatedWeb) -> None:
    first = check_repos([repo("lab/alive")], settings(sim))[0]
    assert first.facts.etag
    sim.reset_stats()
    again = check_repos([repo("lab/alive")], settings(sim), previous={first.url: first.facts})[0]
    assert again.state is State.ALIVE and again.evidence.status_code == 304
    assert again.facts.stars == 12 and again.facts.not_modified is True
    assert sim.stats()["github"]["requests"] == 1


# --- Hugging Face -----------------------------------------------------------------------------

def test_hub_artifacts_each_get_their_state(sim: SimulatedWeb) -> None:
    links = [hf(LinkKind.HF_MODEL, "lab/weights"), hf(LinkKind.HF_MODEL, "lab/readme-only"), hf(LinkKind.HF_MODEL, "lab/gated"),
             hf(LinkKind.HF_MODEL, "lab/nothing-here"), hf(LinkKind.HF_DATASET, "lab/data"),
             hf(LinkKind.HF_SPACE, "lab/running"), hf(LinkKind.HF_SPACE, "lab/broken-space"), hf(LinkKind.HF_SPACE, "lab/sleepy")]
    result = by_url(check_artifacts(links, settings(sim)))

    assert result["lab/weights"].state is State.ALIVE and result["lab/weights"].facts.has_weights is True
    assert result["lab/readme-only"].state is State.ALIVE and "no weight files" in result["lab/readme-only"].reason
    assert result["lab/gated"].state is State.ALIVE and result["lab/gated"].facts.gated == "manual"
    assert result["lab/nothing-here"].state is State.DEAD
    assert result["lab/data"].state is State.ALIVE
    assert result["lab/running"].facts.stage == "RUNNING" and result["lab/running"].state is State.ALIVE
    assert result["lab/broken-space"].state is State.ERROR and "BUILD_ERROR" in result["lab/broken-space"].reason
    assert result["lab/sleepy"].state is State.ALIVE


def test_a_paper_page_records_what_the_hub_links_to_it(sim: SimulatedWeb) -> None:
    paper = Link(url="https://huggingface.co/papers/2401.00001", normalized="https://huggingface.co/papers/2401.00001",
                 kind=LinkKind.HF_PAPER, name="2401.00001")
    missing = replace(paper, url="https://huggingface.co/papers/2401.99999", normalized="https://huggingface.co/papers/2401.99999",
                      name="2401.99999")
    found, gone = check_artifacts([paper, missing], settings(sim))
    assert found.state is State.ALIVE and found.facts.github_repo == "https://github.com/lab/alive"
    assert found.to_dict()["details"]["discovered"] == {"models": ["lab/weights"], "datasets": ["lab/data"], "spaces": []}
    assert gone.state is State.DEAD


def test_an_unreachable_hub_is_unknown(sim: SimulatedWeb) -> None:
    observations = check_artifacts([hf(LinkKind.HF_MODEL, "lab/hub-flaky")], settings(sim))
    assert observations[0].state is State.UNKNOWN and "could not reach the Hugging Face Hub" in observations[0].reason


# --- Web pages --------------------------------------------------------------------------------

def test_pages_get_states_from_what_the_server_answers(sim: SimulatedWeb) -> None:
    urls = ["https://ok.example.org/", "https://ok.example.org/gone", "https://ok.example.org/missing",
            "https://ok.example.org/bot-wall", "https://ok.example.org/busy", "https://ok.example.org/down",
            "https://ok.example.org/slow", "https://ok.example.org/hangup", "https://ok.example.org/get-only",
            "https://ok.example.org/huge", "https://ok.example.org/loop-a"]
    result = {o.url: o for o in check_pages(urls, settings(sim)).observations}

    expected = {"https://ok.example.org/": State.ALIVE, "https://ok.example.org/gone": State.DEAD,
                "https://ok.example.org/missing": State.DEAD, "https://ok.example.org/bot-wall": State.BLOCKED,
                "https://ok.example.org/busy": State.UNKNOWN, "https://ok.example.org/down": State.ERROR,
                "https://ok.example.org/slow": State.ERROR, "https://ok.example.org/hangup": State.ERROR,
                "https://ok.example.org/get-only": State.ALIVE, "https://ok.example.org/huge": State.ALIVE,
                "https://ok.example.org/loop-a": State.ERROR}
    assert {url: o.state for url, o in result.items()} == expected
    assert result["https://ok.example.org/gone"].evidence.status_code == 410
    assert "retry after 3600" in result["https://ok.example.org/busy"].reason
    assert result["https://ok.example.org/slow"].evidence.attempts == 2  # retried once, then gave up
    assert "loop" in result["https://ok.example.org/loop-a"].reason


def test_redirects_are_recorded_and_only_real_moves_are_news(sim: SimulatedWeb) -> None:
    urls = ["https://ok.example.org/old", "http://ok.example.org/plain", "https://ok.example.org/temp"]
    result = {o.url: o for o in check_pages(urls, settings(sim)).observations}

    moved = result["https://ok.example.org/old"]
    assert moved.state is State.MOVED and moved.suggested_url == "https://ok.example.org/new"
    assert moved.evidence.redirects == ((308, "https://ok.example.org/new"),)
    assert result["http://ok.example.org/plain"].state is State.ALIVE  # http→https is not a move
    assert result["https://ok.example.org/temp"].state is State.ALIVE  # a temporary redirect is not a move
    assert result["https://ok.example.org/temp"].evidence.final_url == "https://ok.example.org/"


def test_private_addresses_are_never_requested_even_via_a_redirect(sim: SimulatedWeb) -> None:
    urls = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/code", "https://ok.example.org/to-metadata"]
    result = {o.url: o for o in check_pages(urls, settings(sim)).observations}
    assert {o.state for o in result.values()} == {State.SKIPPED}
    log = [record.url for record in sim.request_log()]
    assert all("169.254" not in url and "10.0.0.7" not in url for url in log)
    assert any("to-metadata" in url for url in log)  # the public page itself was asked


def test_each_url_is_requested_once_however_often_it_is_listed(sim: SimulatedWeb) -> None:
    result = check_pages(["https://ok.example.org/"] * 5, settings(sim))
    assert len(result.observations) == 1
    # one GET, which also reads the HTML page's title (soft-404 check); not five
    assert [record.method for record in sim.request_log()] == ["GET"]

