"""simweb's GitHub issues (opened, listed, edited, commented through PyGithub) and its faults (flaky, outage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from github import Auth, Github, GithubException

from simweb import ScenarioError, SimulatedWeb

TOKEN = "ghp_issues_test"
SCENARIO: dict[str, Any] = {
    "github": {"tokens": [TOKEN], "repos": [
        {"full_name": "lab/watch"},
        {"full_name": "lab/new-name", "renamed_from": ["lab/old-name"]},
        {"full_name": "lab/frozen", "archived": True},
    ]},
    "hub": {"models": [{"id": "lab/model"}]},
    "web": {"https://example.org/page": {"title": "A page"}},
}
# Keys of the issue object in a recorded real answer (PyGithub ReplayData Issue.setUp, 2025), in order.
RECORDED_ISSUE_KEYS = [
    "url", "repository_url", "labels_url", "comments_url", "events_url", "html_url", "id", "node_id", "number", "title",
    "user", "labels", "state", "locked", "assignee", "assignees", "milestone", "comments", "created_at", "updated_at",
    "closed_at", "author_association", "type", "active_lock_reason", "sub_issues_summary", "issue_dependencies_summary",
    "body", "closed_by", "reactions", "timeline_url", "performed_via_github_app", "state_reason",
]


@pytest.fixture()
def sim() -> Iterator[SimulatedWeb]:
    with SimulatedWeb(SCENARIO) as web:
        yield web


def client(sim: SimulatedWeb, token: str | None = TOKEN) -> Github:
    return Github(base_url=sim.github_api_url, auth=Auth.Token(token) if token else None, lazy=True,
                  seconds_between_requests=None, seconds_between_writes=None, retry=None)


def test_an_issue_is_opened_found_by_label_commented_and_closed(sim: SimulatedWeb) -> None:
    repo = client(sim).get_repo("lab/watch")
    issue = repo.create_issue(title="2 dead links", body="- https://gone.example.org/", labels=["paperwatch"])
    repo.create_issue(title="unrelated", labels=["bug"])

    found = list(repo.get_issues(state="open", labels=["paperwatch"]))
    assert [(i.number, i.title, i.body) for i in found] == [(1, "2 dead links", "- https://gone.example.org/")]
    assert found[0].html_url == "https://github.com/lab/watch/issues/1"
    comment = issue.create_comment("newly dead: https://gone.example.org/")
    assert comment.html_url == f"https://github.com/lab/watch/issues/1#issuecomment-{comment.id}"
    issue.edit(body="all recovered", state="closed", state_reason="completed")

    assert issue.state == "closed" and issue.state_reason == "completed" and issue.closed_at is not None
    assert list(repo.get_issues(state="open", labels=["paperwatch"])) == []
    closed = repo.get_issue(1)
    assert (closed.state, closed.body, closed.comments) == ("closed", "all recovered", 1)
    assert closed.closed_by.login == "simweb-user"
    assert [c.body for c in closed.get_comments()] == ["newly dead: https://gone.example.org/"]
    assert sorted(i.number for i in repo.get_issues(state="all")) == [1, 2]


def test_the_issue_object_has_the_keys_of_a_recorded_real_answer(sim: SimulatedWeb) -> None:
    client(sim).get_repo("lab/watch").create_issue(title="t", labels=["paperwatch"])
    single = httpx.get(f"{sim.github_api_url}/repos/lab/watch/issues/1")
    listed = httpx.get(f"{sim.github_api_url}/repos/lab/watch/issues?labels=PaperWatch")

    assert single.status_code == 200 and list(single.json()) == RECORDED_ISSUE_KEYS
    assert list(listed.json()[0]) == [key for key in RECORDED_ISSUE_KEYS if key != "closed_by"]  # as lists send it
    label = single.json()["labels"][0]
    assert (label["name"], label["color"], label["url"]) == (
        "paperwatch", "ededed", f"{sim.github_api_url}/repos/lab/watch/labels/paperwatch")
    assert single.headers["X-RateLimit-Resource"] == "core" and single.headers["ETag"].startswith('W/"')


def test_writes_need_a_token_and_a_repository_that_takes_them(sim: SimulatedWeb) -> None:
    with pytest.raises(GithubException) as anonymous:
        client(sim, token=None).get_repo("lab/watch").create_issue(title="t")
    assert anonymous.value.status == 401 and anonymous.value.data["message"] == "Requires authentication"
    with pytest.raises(GithubException) as archived:
        client(sim).get_repo("lab/frozen").create_issue(title="t")
    assert archived.value.status == 403 and "archived so is read-only" in archived.value.data["message"]
    with pytest.raises(GithubException) as missing:
        client(sim).get_repo("lab/nowhere").create_issue(title="t")
    assert missing.value.status == 404
    with pytest.raises(GithubException) as untitled:
        client(sim).get_repo("lab/watch").create_issue(title="")
    assert untitled.value.status == 422
    issue = client(sim).get_repo("lab/watch").create_issue(title="t")
    with pytest.raises(GithubException) as bad_state:
        issue.edit(state="resolved")
    assert bad_state.value.status == 422 and bad_state.value.data["errors"][0]["field"] == "state"


def test_issues_follow_a_renamed_repository_and_outlive_a_new_world(sim: SimulatedWeb) -> None:
    client(sim).get_repo("lab/new-name").create_issue(title="kept")
    sim.load({**SCENARIO, "web": {}})

    old = httpx.get(f"{sim.github_api_url}/repos/lab/old-name/issues", follow_redirects=True)
    assert old.history[0].status_code == 301 and [i["title"] for i in old.json()] == ["kept"]
    write = requests.post(f"{sim.github_api_url}/repos/lab/old-name/issues", json={"title": "x"},
                          headers={"Authorization": f"token {TOKEN}"}, allow_redirects=False)
    assert write.status_code == 307 and write.json()["message"] == "Temporary Redirect"


def test_issue_lists_are_paginated_like_github(sim: SimulatedWeb) -> None:
    repo = client(sim).get_repo("lab/watch")
    for n in range(5):
        repo.create_issue(title=f"issue {n}")
    first = httpx.get(f"{sim.github_api_url}/repos/lab/watch/issues?per_page=2")
    assert [i["number"] for i in first.json()] == [5, 4]
    assert 'rel="next"' in first.headers["Link"] and "/issues?per_page=2&page=3" in first.headers["Link"]
    assert [i.number for i in repo.get_issues(direction="asc")] == [1, 2, 3, 4, 5]


# --- faults -----------------------------------------------------------------------------------

def _statuses(sim: SimulatedWeb, n: int = 200) -> list[int]:
    with httpx.Client() as http:
        return [http.get(f"{sim.web_url}/https/example.org/page?n={i}").status_code for i in range(n)]


def test_flaky_answers_fail_a_seeded_share_of_requests_the_same_way_each_time(sim: SimulatedWeb) -> None:
    flaky = {**SCENARIO, "faults": {"flaky": 0.3, "seed": 7, "statuses": [502, 503]}}
    sim.load(flaky)
    first = _statuses(sim)
    sim.load(flaky)
    again = _statuses(sim)
    sim.load({**flaky, "faults": {"flaky": 0.3, "seed": 8, "statuses": [502, 503]}})
    other_seed = _statuses(sim)

    assert first == again and first != other_seed
    failed = [status for status in first if status != 200]
    assert set(failed) == {502, 503} and 40 <= len(failed) <= 80
    # the same request made again is a new draw: a retry may pass
    with httpx.Client() as http:
        repeats = {http.get(f"{sim.web_url}/https/example.org/page").status_code for _ in range(30)}
    assert repeats == {200, 502, 503}


def test_flaky_reaches_the_apis_too(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "faults": {"flaky": 1.0, "statuses": [503]}})
    assert httpx.get(f"{sim.github_api_url}/repos/lab/watch").status_code == 503
    assert httpx.get(f"{sim.hf_endpoint}/api/models/lab/model").status_code == 503


def test_an_outage_drops_every_connection_on_every_face(sim: SimulatedWeb) -> None:
    sim.load({**SCENARIO, "faults": {"outage": True}})
    for url in (f"{sim.web_url}/https/example.org/page", f"{sim.github_api_url}/repos/lab/watch",
                f"{sim.hf_endpoint}/api/models/lab/model"):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url)
    sim.load(SCENARIO)
    assert httpx.get(f"{sim.web_url}/https/example.org/page").status_code == 200
    assert [r.status for r in sim.request_log()][:3] == [None, None, None]


def test_faults_are_validated_at_load_time() -> None:
    with pytest.raises(ScenarioError, match=r"faults: flaky: 1.5 is not a share"):
        SimulatedWeb({"faults": {"flaky": 1.5}})
    with pytest.raises(ScenarioError, match=r"faults: unknown key 'rate'"):
        SimulatedWeb({"faults": {"rate": 0.1}})
