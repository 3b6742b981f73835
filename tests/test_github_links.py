"""GitHub links that are not a repository root, and forks: what a reader of the paper needs to know.

Over real sockets against simweb: an account link is alive while the account exists; a path link
dies with its file or branch; a fork names its parent, whether GraphQL, REST or the page told us.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from checks.github import check_repos, merge_page_and_api
from checks.http import check_pages
from checks.model import Link, LinkKind, State
from checks.settings import CheckSettings, RemapRule
from checks.urls import classify
from simweb import SimulatedWeb

SCENARIO: dict[str, Any] = {
    "github": {
        "tokens": ["ghp_links"],
        "users": ["lonely-author"],
        "repos": [
            {"full_name": "lab/model", "branches": ["main", "v1-branch"], "files": ["README.md", "src/train.py"]},
            {"full_name": "student/model", "fork_of": "lab/model", "files": ["README.md", "src/train.py"]},
        ],
    },
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedWeb]:
    with SimulatedWeb(SCENARIO) as web:
        yield web


@pytest.fixture
def settings(sim: SimulatedWeb, monkeypatch: pytest.MonkeyPatch) -> CheckSettings:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return CheckSettings(github_api_url=sim.github_api_url, hf_endpoint=sim.hf_endpoint, timeout=3.0, retries=0,
                         remap_rules=tuple(RemapRule.parse(r) for r in sim.remap_rules), canaries=())


def link(url: str) -> Link:
    return classify(url)


def test_links_are_classified_as_the_checkers_expect() -> None:
    assert link("https://github.com/lonely-author").kind is LinkKind.GITHUB_OWNER
    assert link("https://github.com/lab/model/tree/v1-branch/src").kind is LinkKind.GITHUB_PATH


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
    fork = link("https://github.com/student/model")
    page = check_pages([fork.normalized], settings).observations[0]
    rest = check_repos([fork], settings)[0]
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_links")
    graphql = check_repos([fork], settings)[0]

    assert (page.details["fork"], page.details["parent"]) == (True, "lab/model")
    for observation in (merge_page_and_api(page, rest), graphql):
        assert observation.state is State.ALIVE
        assert (observation.details["fork"], observation.details["parent"]) == (True, "lab/model")
