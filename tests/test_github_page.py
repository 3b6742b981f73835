"""GitHub links as a reader needs them, over real sockets against simweb.

Without a token the repository page (not the API) says whether a repository has code: the
simulated github.com serves the overview page the way GitHub does (embedded tree and README
JSON, releases box, archived banner), and the REST budget is kept for metadata. Account and
path links are pages too; a fork names its parent whichever way we asked; with a token, a
spent GraphQL budget is waited for or leaves links unknown, never dead.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.facts import RepoFacts
from checks.github import check_repos, merge_page_and_api
from checks.github_page import is_repo_root, repo_page_facts, with_latest_commit
from checks.http import check_pages
from checks.model import Link, LinkKind, Observation, State
from checks.settings import CheckSettings, RemapRule
from checks.link_kinds import classify
from simweb import SimulatedWeb

SCENARIO: dict[str, Any] = {
    "github": {
        "tokens": ["ghp_links"],
        "users": ["lonely-author"],
        "rate_limit": {"anonymous": 60},
        "repos": [
            {"full_name": "lab/model", "branches": ["main", "v1-branch"], "files": ["README.md", "src/train.py"]},
            {"full_name": "student/model", "fork_of": "lab/model", "files": ["README.md", "src/train.py"]},
            {"full_name": "lab/real-code", "files": ["README.md", "LICENSE", "src/train.py", "requirements.txt"],
             "readme": "# Real code\n\nWeights: [download](https://huggingface.co/lab/weights)\n",
             "releases": [{"tag": "v1.0", "published_at": "2026-10-01T00:00:00Z"},
                          {"tag": "v1.1-rc1", "published_at": "2026-11-01T00:00:00Z", "prerelease": True}],
             "pushed_at": "2026-11-20T00:00:00Z"},
            {"full_name": "lab/soon", "files": ["README.md", "LICENSE", ".gitignore", "assets/teaser.png"],
             "readme": "# Soon\n\nCode coming soon. Stay tuned!\n"},
            {"full_name": "lab/blank", "empty": True},
            {"full_name": "lab/awesome-list", "files": ["README.md", "LICENSE"],
             "readme": "# Awesome long-context LLMs\n\n" + "\n\n".join(
                 f"- [Paper {i}](https://arxiv.org/abs/2401.{i:05d})" for i in range(30))},
            {"full_name": "lab/shelved", "archived": True, "files": ["README.md", "main.py"]},
            {"full_name": "lab/renamed", "renamed_from": ["lab/old-name"], "files": ["README.md", "model.py"]},
        ],
    },
}


def repo_link(full_name: str) -> Link:
    owner, name = full_name.split("/")
    url = f"https://github.com/{full_name}"
    return Link(url=url, normalized=url, kind=LinkKind.GITHUB_REPO, owner=owner, name=name)


@pytest.fixture
def settings(sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> CheckSettings:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    sim.reset_stats()
    return CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0, retries=0,
                         remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), canaries=())


def page_and_api(names: list[str], settings: CheckSettings) -> dict[str, Observation]:
    """What a tokenless run records: the repository page and the REST answer, merged per repository."""
    links = [repo_link(name) for name in names]
    pages = {o.url: o for o in check_pages([link.normalized for link in links], settings).observations}
    return {o.url: merge_page_and_api(pages[o.url], o) for o in check_repos(links, settings)}


def test_the_repository_page_tells_code_from_a_placeholder(settings: CheckSettings, sim: SimulatedWeb) -> None:
    found = page_and_api(["lab/real-code", "lab/soon", "lab/blank"], settings)

    code = found["https://github.com/lab/real-code"]
    assert code.state is State.ALIVE
    assert code.facts.placeholder is False and code.facts.root_files == 4
    assert code.facts.readme_links_weights_or_data is True
    # the sidebar counts both releases and shows the newest full release as "Latest"
    assert code.facts.release_count == 2
    assert code.to_dict()["details"]["latest_release"] == {"tag": "v1.0", "published_at": "2026-10-01T00:00:00Z", "prerelease": False}
    assert code.reason == "repository exists, active; latest release v1.0"

    soon = found["https://github.com/lab/soon"]
    assert soon.state is State.ALIVE  # it exists: a placeholder is a finding, not a dead link
    assert soon.facts.placeholder is True and soon.facts.readme_promise is True
    assert "placeholder: no code yet, README promises it" in soon.reason
    assert soon.facts.release_count == 0 and soon.facts.latest_release is None

    blank = found["https://github.com/lab/blank"]
    assert blank.facts.empty is True and "empty: no commits" in blank.reason

    # the default branch's last commit, as the page itself loads it: activity from it, not from pushed_at
    assert code.facts.last_commit_at == "2026-11-20T00:00:00+00:00" and code.facts.activity == "active"

    # one GET per repository page (no HEAD), one for the last commit of each that has commits,
    # and one REST request per repository
    web = sorted(r.url.split("github.com/", 1)[1] for r in sim.request_log() if r.face == "web" and r.method == "GET")
    assert web == ["lab/blank", "lab/real-code", "lab/real-code/latest-commit/main", "lab/soon", "lab/soon/latest-commit/main"]
    assert not [r for r in sim.request_log() if r.face == "web" and r.method != "GET"]
    assert sim.stats()["github"]["requests"] == 3


def test_a_readme_that_is_the_content_is_not_a_placeholder(settings: CheckSettings) -> None:
    """A survey's reading list lives in its README: only boilerplate files, yet nothing is missing."""
    listing = page_and_api(["lab/awesome-list"], settings)["https://github.com/lab/awesome-list"]
    assert listing.facts.root_files == 2 and listing.facts.placeholder is False
    assert "placeholder" not in listing.reason


def test_when_the_api_budget_is_spent_the_page_still_says_placeholder_and_nothing_is_dead(
        settings: CheckSettings, sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "github": {**SCENARIO["github"], "rate_limit": {"anonymous": 0}}})
    try:
        found = page_and_api(["lab/soon", "lab/real-code"], settings)
    finally:
        sim.load(SCENARIO)

    soon = found["https://github.com/lab/soon"]
    assert soon.state is State.ALIVE and soon.facts.placeholder is True
    assert soon.facts.activity in ("active", "quiet", "stale")  # from the page's last commit, no API
    assert "placeholder: no code yet" in soon.reason and "metadata not refreshed: GitHub API rate limit exhausted" in soon.reason
    assert found["https://github.com/lab/real-code"].facts.placeholder is False
    assert all(o.state is not State.DEAD for o in found.values())


def test_archived_and_renamed_repositories_are_read_from_their_pages(settings: CheckSettings) -> None:
    pages = {o.url: o for o in check_pages(["https://github.com/lab/shelved", "https://github.com/lab/old-name"],
                                           settings).observations}
    assert pages["https://github.com/lab/shelved"].facts.archived is True
    renamed = pages["https://github.com/lab/old-name"]
    assert renamed.state is State.MOVED and renamed.suggested_url == "https://github.com/lab/renamed"
    assert renamed.facts.page_full_name == "lab/renamed" and renamed.facts.placeholder is False


def test_only_repository_roots_are_read_and_other_pages_are_unchanged() -> None:
    assert is_repo_root("https://github.com/lab/real-code")
    assert not is_repo_root("https://github.com/lab/real-code/tree/main/src")
    assert not is_repo_root("https://github.com/topics/nlp") and not is_repo_root("https://github.com/lab")
    assert not is_repo_root("https://example.org/lab/real-code")


def test_a_page_we_cannot_read_gives_no_facts_rather_than_wrong_ones() -> None:
    assert repo_page_facts(b"<html><title>GitHub</title><body>Something else entirely</body></html>") is None
    broken = (b'<meta name="octolytics-dimension-repository_nwo" content="lab/x">'
              b'<script type="application/json" data-target="react-partial.embeddedData">{"props": {"initialPa')
    facts = repo_page_facts(broken)  # cut off mid-JSON (read limit): no tree, so no placeholder verdict
    assert facts is not None and facts.to_dict() == {"page_full_name": "lab/x"}
    for body in (b"<html>sign in</html>", b'{"oid": "abc"}', b'{"date": "yesterday"}', b'{"date": "2026-01-01T00:00:00"}'):
        assert with_latest_commit(RepoFacts(default_branch="main"), body) == RepoFacts(default_branch="main")


# --- other GitHub links, and forks ---------------------------------------------------------------

def test_links_are_classified_as_the_checkers_expect() -> None:
    assert classify("https://github.com/lonely-author").kind is LinkKind.GITHUB_OWNER
    assert classify("https://github.com/lab/model/tree/v1-branch/src").kind is LinkKind.GITHUB_PATH


def test_an_account_link_lives_while_the_account_exists(settings: CheckSettings) -> None:
    urls = ["https://github.com/lonely-author", "https://github.com/lab", "https://github.com/account-deleted"]
    states = {o.url: o.state for o in check_pages(urls, settings).observations}
    assert states == {urls[0]: State.ALIVE, urls[1]: State.ALIVE, urls[2]: State.DEAD}


def test_a_path_link_dies_with_its_file_or_branch(settings: CheckSettings) -> None:
    urls = ["https://github.com/lab/model/tree/v1-branch/src", "https://github.com/lab/model/blob/main/src/train.py",
            "https://github.com/lab/model/tree/deleted-branch/src", "https://github.com/lab/model/blob/main/src/moved.py"]
    states = [o.state for o in sorted(check_pages(urls, settings).observations, key=lambda o: urls.index(o.url))]
    assert states == [State.ALIVE, State.ALIVE, State.DEAD, State.DEAD]


def test_a_fork_names_its_parent_through_rest_graphql_and_the_page(settings: CheckSettings,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fork = classify("https://github.com/student/model")
    page = check_pages([fork.normalized], settings).observations[0]
    rest = check_repos([fork], settings)[0]
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_links")
    graphql = check_repos([fork], settings)[0]

    assert (page.facts.fork, page.facts.parent) == (True, "lab/model")
    for observation in (merge_page_and_api(page, rest), graphql):
        assert observation.state is State.ALIVE
        assert (observation.facts.fork, observation.facts.parent) == (True, "lab/model")


# --- with a token: a spent GraphQL budget ------------------------------------------------------

def with_graphql_budget(sim: SimulatedWeb, settings: CheckSettings, monkeypatch: pytest.MonkeyPatch,
                        reset_in: int) -> list[Observation]:
    """150 repositories with a token whose budget (1 point) covers one batch of 100; it resets in ``reset_in`` s."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_budget")
    repos = [{"full_name": f"bulk/repo-{i}"} for i in range(150)]
    sim.load({"github": {"tokens": ["ghp_budget"], "rate_limit": {"authenticated": 1, "reset_in": reset_in}, "repos": repos}})
    try:
        return check_repos([repo_link(f"bulk/repo-{i}") for i in range(150)], settings)
    finally:
        sim.load(SCENARIO)


def test_a_graphql_budget_that_resets_soon_is_waited_for(sim: SimulatedWeb, settings: CheckSettings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    observations = with_graphql_budget(sim, settings, monkeypatch, reset_in=2)
    # 100 repositories cost the only point; the next 50 waited ~2 s for the reset instead of giving up
    assert {o.state for o in observations} == {State.ALIVE}


def test_a_graphql_budget_that_resets_late_leaves_the_rest_unknown_and_says_when(
        sim: SimulatedWeb, settings: CheckSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    observations = with_graphql_budget(sim, settings, monkeypatch, reset_in=3600)
    states = [o.state for o in observations]
    assert states.count(State.ALIVE) == 100 and states.count(State.UNKNOWN) == 50 and State.DEAD not in states
    unknown = next(o for o in observations if o.state is State.UNKNOWN)
    assert unknown.reason.startswith("not checked: GitHub GraphQL rate limit exhausted (token); resets at ")
    assert unknown.reason.endswith(" UTC")
