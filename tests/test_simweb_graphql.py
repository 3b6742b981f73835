"""simweb's GitHub GraphQL API, driven by PyGithub's own `requester.graphql_query` over real sockets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, UnknownObjectException

from simweb import SimulatedWeb

TOKEN = "ghp_graphql_test"

SCENARIO = f"""
github:
  tokens: [{TOKEN}]
  repos:
    - full_name: apple/corenet
      description: CoreNet
      homepage: https://apple.github.io/corenet/
      owner_type: Organization
      license: apache-2.0
      topics: [pytorch, deep-learning]
      stars: 7010
      forks: 560
      open_issues: 41
      created_at: 2024-04-18T16:00:00Z
      pushed_at: 2024-10-22T21:05:00Z
      commits: 104
      files: [README.md, setup.py, src/train.py, src/data/loader.py]
      readme: "# CoreNet\\n\\nA library for training deep neural networks.\\n"
      releases:
        - {{tag: v0.1.0, name: CoreNet v0.1.0, published_at: 2024-04-24T17:00:00Z,
           assets: [{{name: weights.zip, size: 1048576}}]}}
        - {{tag: v0.2.0-rc, prerelease: true, published_at: 2024-09-01T00:00:00Z}}
    - {{full_name: abilliyb/Knowledge_Injection_Survey_Papers, archived: true, stars: 12}}
    - {{full_name: THUDM/T1, empty: true}}
    - {{full_name: SalesforceAIResearch/CodeGen2, renamed_from: [salesforce/CodeGen2], owner_type: Organization}}
    - {{full_name: someone/secret, private: true}}
    - {{full_name: mightyzau/InfMLLM, blocked: dmca}}
    - {{full_name: someone/tos-disabled, disabled: true}}
    - {{full_name: someone/fork, fork_of: apple/corenet}}
    - {{full_name: SqueezeAILab/Tool2Vec, drop: true}}
    - {{full_name: someone/flaky, status: 502}}
"""

REPO_FIELDS = """
  nameWithOwner name description homepageUrl url isArchived isDisabled isFork isEmpty isPrivate isLocked lockReason
  stargazerCount forkCount pushedAt createdAt updatedAt
  licenseInfo { spdxId name key }
  repositoryTopics(first: 10) { nodes { topic { name } } }
  issues(states: [OPEN]) { totalCount }
  defaultBranchRef { name target { ... on Commit { oid committedDate history(first: 1) { totalCount } } } }
  latestRelease { tagName name publishedAt isPrerelease isDraft url }
  releases(first: 10) { totalCount }
  parent { nameWithOwner }
  owner { login __typename }
"""


def client(sim: SimulatedWeb, token: str | None = TOKEN) -> Github:
    auth = Auth.Token(token) if token else None
    return Github(base_url=sim.github_api_url, auth=auth, seconds_between_requests=None, retry=None)


def query(sim: SimulatedWeb, text: str, variables: dict[str, Any] | None = None) -> tuple[dict, dict]:
    return client(sim).requester.graphql_query(text, variables or {})


def repos(*names: str, fields: str = "nameWithOwner") -> str:
    """One aliased `repository` per name, the way a monitor batches them."""
    parts = []
    for i, name in enumerate(names):
        owner, repo = name.split("/")
        parts.append(f'r{i}: repository(owner: "{owner}", name: "{repo}") {{ {fields} }}')
    return "query { " + " ".join(parts) + " }"


def refusal(sim: SimulatedWeb, text: str, variables: dict[str, Any] | None = None) -> dict:
    """The body of an answer with errors (PyGithub raises on any `errors`)."""
    with pytest.raises(GithubException) as caught:
        query(sim, text, variables)
    return caught.value.data


# --- data --------------------------------------------------------------------------------


def test_aliased_query_returns_every_repo(sim: SimulatedWeb) -> None:
    names = ("apple/corenet", "abilliyb/Knowledge_Injection_Survey_Papers", "someone/fork")
    headers, body = query(sim, repos(*names, fields=REPO_FIELDS))
    corenet, survey, fork = (body["data"][f"r{i}"] for i in range(3))
    assert "errors" not in body
    assert corenet["nameWithOwner"] == "apple/corenet" and corenet["url"] == "https://github.com/apple/corenet"
    assert (corenet["stargazerCount"], corenet["forkCount"], corenet["issues"]["totalCount"]) == (7010, 560, 41)
    assert corenet["licenseInfo"] == {"spdxId": "Apache-2.0", "name": "Apache License 2.0", "key": "apache-2.0"}
    assert [n["topic"]["name"] for n in corenet["repositoryTopics"]["nodes"]] == ["pytorch", "deep-learning"]
    assert corenet["pushedAt"] == "2024-10-22T21:05:00Z"
    assert corenet["homepageUrl"] == "https://apple.github.io/corenet/"
    head = corenet["defaultBranchRef"]
    assert head["name"] == "main" and head["target"]["history"]["totalCount"] == 104
    assert head["target"]["committedDate"] == "2024-10-22T21:05:00Z"
    assert corenet["latestRelease"]["tagName"] == "v0.1.0" and corenet["latestRelease"]["name"] == "CoreNet v0.1.0"
    assert corenet["releases"]["totalCount"] == 2
    assert corenet["owner"] == {"login": "apple", "__typename": "Organization"}
    assert [corenet[k] for k in ("isArchived", "isEmpty", "isFork", "parent")] == [False, False, False, None]
    assert survey["isArchived"] is True and survey["latestRelease"] is None and survey["owner"]["__typename"] == "User"
    assert fork["isFork"] is True and fork["parent"] == {"nameWithOwner": "apple/corenet"}


def test_rest_and_graphql_agree_on_the_head_commit(sim: SimulatedWeb) -> None:
    _, body = query(sim, repos("apple/corenet", fields="defaultBranchRef { target { oid } }"))
    newest = client(sim).get_repo("apple/corenet").get_commits()[0].sha
    assert body["data"]["r0"]["defaultBranchRef"]["target"]["oid"] == newest


def test_renamed_repo_resolves_to_its_new_name(sim: SimulatedWeb) -> None:
    _, body = query(sim, repos("salesforce/CodeGen2", fields="nameWithOwner databaseId"))
    assert body["data"]["r0"]["nameWithOwner"] == "SalesforceAIResearch/CodeGen2"
    no_follow = 'query { r0: repository(owner: "salesforce", name: "CodeGen2", followRenames: false) { id } }'
    with pytest.raises(UnknownObjectException):
        query(sim, no_follow)


def test_missing_and_private_repos_are_null_with_not_found(sim: SimulatedWeb) -> None:
    text = repos("apple/corenet", "iclr-dummy-user/SwissNYF")
    with pytest.raises(UnknownObjectException) as caught:  # PyGithub's reading of a lone NOT_FOUND
        query(sim, text)
    body = caught.value.data
    assert body["data"]["r0"] == {"nameWithOwner": "apple/corenet"} and body["data"]["r1"] is None
    assert body["errors"] == [
        {
            "type": "NOT_FOUND",
            "path": ["r1"],
            "locations": [{"line": 1, "column": text.index("r1:") + 1}],
            "message": "Could not resolve to a Repository with the name 'iclr-dummy-user/SwissNYF'.",
        }
    ]
    body = refusal(sim, repos("someone/secret", "nobody/here"))
    assert [(e["type"], e["path"]) for e in body["errors"]] == [("NOT_FOUND", ["r0"]), ("NOT_FOUND", ["r1"])]


def test_empty_repo_has_no_default_branch(sim: SimulatedWeb) -> None:
    fields = 'isEmpty defaultBranchRef { name } object(expression: "HEAD:") { __typename }'
    _, body = query(sim, repos("THUDM/T1", fields=fields))
    assert body["data"]["r0"] == {"isEmpty": True, "defaultBranchRef": None, "object": None}


def test_dmca_is_forbidden_and_tos_disabled_resolves_disabled(sim: SimulatedWeb) -> None:
    fields = 'isDisabled object(expression: "HEAD:") { oid }'
    body = refusal(sim, repos("mightyzau/InfMLLM", "someone/tos-disabled", fields=fields))
    assert body["data"] == {"r0": None, "r1": {"isDisabled": True, "object": None}}
    assert [(e["type"], e["path"], e["message"]) for e in body["errors"]] == [
        ("FORBIDDEN", ["r0"], "Repository access blocked")
    ]


def test_object_lists_trees_and_reads_blobs(sim: SimulatedWeb) -> None:
    fields = """
      root: object(expression: "HEAD:") { ... on Tree { entries { name type path } } }
      src: object(expression: "main:src/") { ... on Tree { entries { name type path } } }
      readme: object(expression: "HEAD:README.md") { ... on Blob { byteSize text } }
      missing: object(expression: "HEAD:nope.txt") { oid }
      badref: object(expression: "no-such-branch:README.md") { oid }
      tag: object(expression: "v0.1.0") { __typename }
    """
    _, body = query(sim, repos("apple/corenet", fields=fields))
    found = body["data"]["r0"]
    assert [(e["name"], e["type"]) for e in found["root"]["entries"]] == [
        ("README.md", "blob"), ("setup.py", "blob"), ("src", "tree")
    ]
    assert [e["path"] for e in found["src"]["entries"]] == ["src/data", "src/train.py"]
    text = "# CoreNet\n\nA library for training deep neural networks.\n"
    assert found["readme"] == {"byteSize": len(text), "text": text}
    assert (found["missing"], found["badref"], found["tag"]) == (None, None, {"__typename": "Commit"})


def test_repository_owner(sim: SimulatedWeb) -> None:
    text = 'query { a: repositoryOwner(login: "APPLE") { login url __typename } b: repositoryOwner(login: "x") { id } }'
    _, body = query(sim, text)
    assert body["data"]["a"] == {"login": "apple", "url": "https://github.com/apple", "__typename": "Organization"}
    assert body["data"]["b"] is None


def test_variables_and_operation_name(sim: SimulatedWeb) -> None:
    text = """
      query One($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { name } }
      query Two { rateLimit { cost } }
    """
    response = httpx.post(
        f"{sim.github_api_url}/graphql",
        json={"query": text, "variables": '{"owner": "apple", "name": "corenet"}', "operationName": "One"},
        headers={"Authorization": f"bearer {TOKEN}"},
    )
    assert response.json() == {"data": {"repository": {"name": "corenet"}}}


# --- refusals ----------------------------------------------------------------------------


def test_anonymous_and_bad_tokens_get_401(sim: SimulatedWeb) -> None:
    with pytest.raises(GithubException) as caught:
        client(sim, None).requester.graphql_query("query { rateLimit { cost } }", {})
    assert caught.value.status == 401
    assert caught.value.data["message"] == "This endpoint requires you to be authenticated."
    assert (caught.value.headers["x-ratelimit-resource"], caught.value.headers["x-ratelimit-limit"]) == ("graphql", "0")
    with pytest.raises(BadCredentialsException) as caught:
        client(sim, "ghp_wrong").requester.graphql_query("query { rateLimit { cost } }", {})
    assert caught.value.data["message"] == "Bad credentials"


def test_invalid_query_is_a_graphql_core_validation_error(sim: SimulatedWeb) -> None:
    body = refusal(sim, repos("apple/corenet", fields="stars"))
    assert "data" not in body
    assert body["errors"] == [
        {"locations": [{"line": 1, "column": 59}], "message": "Cannot query field 'stars' on type 'Repository'."}
    ]
    assert refusal(sim, "query { repository(owner: ")["errors"][0]["message"].startswith("Syntax Error")
    assert "mutation" in refusal(sim, "mutation { x }")["errors"][0]["message"]  # worded per graphql-core version


def test_pagination_bounds_and_node_limit(sim: SimulatedWeb) -> None:
    too_many = refusal(sim, repos("apple/corenet", fields="releases(first: 101) { nodes { tagName } }"))
    assert too_many["data"] is None and too_many["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert too_many["errors"][0]["path"] == ["r0", "releases"]
    assert too_many["errors"][0]["message"] == (
        "Requesting 101 records on the `releases` connection exceeds the `first` limit of 100 records."
    )
    unbounded = refusal(sim, repos("apple/corenet", fields="repositoryTopics { nodes { topic { name } } }"))
    assert unbounded["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    huge = "releases(first: 100) { nodes { releaseAssets(first: 100) { nodes { name } } } }"
    body = refusal(sim, repos(*["apple/corenet"] * 50, fields=huge))
    assert body["errors"] == [
        {
            "type": "MAX_NODE_LIMIT_EXCEEDED",
            "message": "This query requests up to 505,000 possible nodes which exceeds the maximum limit of 500,000.",
        }
    ]


def test_faults_break_the_whole_query(sim: SimulatedWeb) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        query(sim, repos("apple/corenet", "SqueezeAILab/Tool2Vec"))
    with pytest.raises(GithubException) as caught:
        query(sim, repos("apple/corenet", "someone/flaky"))
    assert caught.value.status == 502 and caught.value.data["data"] is None
    assert caught.value.data["errors"][0]["message"].startswith("Something went wrong while executing your query.")


# --- budget ------------------------------------------------------------------------------


def test_cost_follows_githubs_formula(sim: SimulatedWeb) -> None:
    fields = "releases(first: 100) { nodes { releaseAssets(first: 100) { nodes { name } } } } issues { totalCount }"
    text = repos(*["apple/corenet"] * 40, fields=fields).replace("query {", "query { rateLimit { cost nodeCount }", 1)
    headers, body = query(sim, text)
    # per repo: releases 1 request + releaseAssets 100 requests + issues 1 request = 102; x40 = 4080 -> 41 points
    assert body["data"]["rateLimit"] == {"cost": 41, "nodeCount": 40 * (100 + 100 * 100)}
    _, small = query(sim, "query { rateLimit { cost nodeCount } }")
    assert small["data"]["rateLimit"] == {"cost": 1, "nodeCount": 0}


LIMITED = f"""
github:
  tokens: [{TOKEN}]
  rate_limit: {{authenticated: 5}}
  repos: [{{full_name: a/b}}]
"""


def test_budget_headers_refusal_and_stats() -> None:
    with SimulatedWeb(LIMITED) as sim:
        headers, body = query(sim, "query { rateLimit { limit cost remaining used } }")
        assert body["data"]["rateLimit"] == {"limit": 5, "cost": 1, "remaining": 4, "used": 1}
        assert {k: headers[f"x-ratelimit-{k}"] for k in ("limit", "remaining", "used", "resource")} == {
            "limit": "5", "remaining": "4", "used": "1", "resource": "graphql"
        }
        assert int(headers["x-ratelimit-reset"]) > 0 and "x-github-request-id" in headers
        costly = repos(*["a/b"] * 100, fields="repositoryTopics(first: 1) { totalCount } issues { totalCount }")
        _, body = query(sim, costly)  # 200 requests: 2 points, 2 left
        assert body["data"]["r99"] == {"repositoryTopics": {"totalCount": 0}, "issues": {"totalCount": 0}}
        body = refusal(sim, costly.replace("issues", "extra: issues { totalCount } issues"))  # 3 points
        assert body == {"errors": [{"type": "RATE_LIMITED", "message": body["errors"][0]["message"]}]}
        assert body["errors"][0]["message"].startswith("API rate limit exceeded for user ID")
        assert client(sim).get_repo("a/b").full_name == "a/b"  # REST keeps its own budget
        stats = sim.stats()
        assert stats["graphql"] == {"requests": 3, "clients": {TOKEN: {"requests": 3, "points": 3}}}
        assert stats["github"]["clients"][TOKEN]["points"] == 1
        assert client(sim).get_rate_limit().resources.graphql.remaining == 2
