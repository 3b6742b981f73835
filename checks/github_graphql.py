"""Many repositories per request through GitHub's GraphQL API (needs a token).

One aliased query answers up to 100 repositories. GitHub charges a query by the
connections it asks for (sum of their page sizes / 100), so the query keeps to one
connection per repository (open issues): 100 repositories cost 1 point, 0.01 per
repository, against at least 3 REST calls each for the same facts. Topics would be a
second connection and double the cost, so they are left to the REST path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import requests
import urllib3
from github import Github, GithubException

from checks.breaker import Breaker
from checks.model import Evidence, Link, Observation, State
from checks.repo_facts import activity_class, placeholder_facts, repo_observation, repo_web_url

BATCH_SIZE = 100

REPO_FIELDS = """
fragment Repo on Repository {
  nameWithOwner url description isArchived isDisabled isFork isEmpty isLocked lockReason
  parent { nameWithOwner }
  stargazerCount forkCount pushedAt
  licenseInfo { spdxId }
  issues(states: OPEN) { totalCount }
  defaultBranchRef { name target { ... on Commit { oid committedDate } } }
  latestRelease { tagName publishedAt isPrerelease url }
  root: object(expression: "HEAD:") { ... on Tree { entries { name type } } }
  readme: object(expression: "HEAD:README.md") { ... on Blob { text } }
}
"""


def build_query(links: Sequence[Link]) -> tuple[str, dict[str, str]]:
    """An aliased query (r0, r1, ...) with owner/name passed as variables, never spliced in."""
    params, fields, variables = [], [], {}
    for index, link in enumerate(links):
        params.append(f"$o{index}: String!, $n{index}: String!")
        fields.append(f"  r{index}: repository(owner: $o{index}, name: $n{index}) {{ ...Repo }}")
        variables[f"o{index}"], variables[f"n{index}"] = str(link.owner), str(link.name)
    query = f"query Repos({', '.join(params)}) {{\n" + "\n".join(fields) + "\n  rateLimit { cost remaining resetAt }\n}\n" + REPO_FIELDS
    return query, variables


def _iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def details_from_graphql(node: dict[str, Any]) -> dict[str, Any]:
    """The same metadata the REST path records, from one GraphQL repository node."""
    branch = node.get("defaultBranchRef") or {}
    commit = branch.get("target") or {}
    release = node.get("latestRelease")
    root = node.get("root") or {}
    readme = (node.get("readme") or {}).get("text")
    last_commit = _iso(commit.get("committedDate"))
    details: dict[str, Any] = {
        "full_name": node["nameWithOwner"],
        "description": node.get("description"),
        "stars": node.get("stargazerCount"),
        "forks": node.get("forkCount"),
        "open_issues": (node.get("issues") or {}).get("totalCount"),
        "archived": bool(node.get("isArchived")),
        "disabled": bool(node.get("isDisabled")),
        "fork": bool(node.get("isFork")),
        "parent": (node.get("parent") or {}).get("nameWithOwner"),
        "license": (node.get("licenseInfo") or {}).get("spdxId"),
        "default_branch": branch.get("name"),
        "pushed_at": node.get("pushedAt"),
        "empty": bool(node.get("isEmpty")),
        "last_commit_sha": commit.get("oid"),
        "last_commit_at": last_commit.isoformat() if last_commit else None,
        "latest_release": {"tag": release["tagName"], "published_at": release.get("publishedAt"),
                           "prerelease": release.get("isPrerelease"), "url": release.get("url")} if release else None,
    }
    details.update(placeholder_facts([entry["name"] for entry in root.get("entries", [])] if root else [], readme,
                                     empty=details["empty"]))
    details["activity"] = activity_class(last_commit, details["archived"])
    return details


class GraphQLRepoChecker:
    """Check ``github-repo`` links in batches; one observation per link."""

    def __init__(self, client: Github, api_url: str, breaker: Breaker,
                 on_done: Callable[[Observation], None] | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.client = client
        self.api_url = api_url
        self.breaker = breaker
        self.on_done = on_done
        self.batch_size = batch_size
        self.queries = 0
        self.points = 0

    def check(self, links: Sequence[Link]) -> list[Observation]:
        observations: list[Observation] = []
        for start in range(0, len(links), self.batch_size):
            batch = links[start:start + self.batch_size]
            results = self._batch(batch)
            for observation in results:
                if self.on_done:
                    self.on_done(observation)
            observations += results
        return observations

    def _unknown(self, links: Sequence[Link], reason: str, started: float, error: str | None = None) -> list[Observation]:
        return [Observation(url=link.normalized, state=State.UNKNOWN, checker="github", reason=reason,
                            evidence=Evidence(error=error, elapsed_ms=int((time.monotonic() - started) * 1000),
                                              attempts=0 if self.breaker.reason else 1)) for link in links]

    def _batch(self, links: Sequence[Link]) -> list[Observation]:
        started = time.monotonic()
        if self.breaker.reason:
            return self._unknown(links, self.breaker.reason, started)
        query, variables = build_query(links)
        requester = self.client.requester
        try:
            headers, body = requester.requestJsonAndCheck("POST", requester.graphql_url,
                                                           input={"query": query, "variables": variables})
        except GithubException as exc:
            return self._refused(links, exc, started)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            reason = f"not checked: could not reach the GitHub GraphQL API at {self.api_url} ({type(exc).__name__})"
            self.breaker.failure(reason)
            return self._unknown(links, reason, started, f"{type(exc).__name__}: {exc}")
        self.queries += 1
        self.breaker.success()
        errors = body.get("errors") or []
        if any(error.get("type") in ("RATE_LIMITED", "RATE_LIMIT") for error in errors):
            reason = f"not checked: GitHub GraphQL rate limit exhausted; resets at {headers.get('x-ratelimit-reset', '?')}"
            self.breaker.trip(reason)
            return self._unknown(links, reason, started, "RATE_LIMITED")
        self.points += int((body.get("data") or {}).get("rateLimit", {}).get("cost", 0) or 0)
        by_alias = {tuple(error.get("path") or ())[:1]: error for error in errors}
        data = body.get("data") or {}
        elapsed = int((time.monotonic() - started) * 1000)
        return [self._observe(link, data.get(f"r{i}"), by_alias.get((f"r{i}",)), elapsed) for i, link in enumerate(links)]

    def _observe(self, link: Link, node: dict[str, Any] | None, error: dict[str, Any] | None, elapsed: int) -> Observation:
        wanted = f"{link.owner}/{link.name}"
        if node is None:
            kind = (error or {}).get("type", "")
            message = (error or {}).get("message", "no data for this repository")
            if kind == "NOT_FOUND":
                return Observation(url=link.normalized, state=State.DEAD, checker="github",
                                   reason="repository not found (GitHub GraphQL: NOT_FOUND)",
                                   evidence=Evidence(status_code=404, final_url=repo_web_url(wanted), error=message, elapsed_ms=elapsed))
            if kind == "FORBIDDEN" and "blocked" in message.lower():
                return Observation(url=link.normalized, state=State.DEAD, checker="github",
                                   reason=f"repository access blocked by GitHub ({message})",
                                   evidence=Evidence(status_code=451, final_url=repo_web_url(wanted), error=message, elapsed_ms=elapsed))
            return Observation(url=link.normalized, state=State.ERROR, checker="github",
                               reason=f"GitHub GraphQL gave no answer for this repository ({kind or 'error'}: {message})",
                               evidence=Evidence(error=message, elapsed_ms=elapsed))
        details = details_from_graphql(node)
        return repo_observation(link, details, Evidence(status_code=200, final_url=repo_web_url(details["full_name"]),
                                                        elapsed_ms=elapsed))

    def _refused(self, links: Sequence[Link], exc: GithubException, started: float) -> list[Observation]:
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        if exc.status in (401, 403, 429) and (exc.status == 401 or "rate limit" in message.lower() or exc.status == 429):
            reason = (f"not checked: GitHub refused our token ({exc.status} {message})" if exc.status == 401
                      else f"not checked: GitHub GraphQL rate limit exhausted ({exc.status})")
            self.breaker.trip(reason)
            return self._unknown(links, reason, started, message or str(exc.status))
        return [Observation(url=link.normalized, state=State.ERROR, checker="github",
                            reason=f"GitHub GraphQL API error (HTTP {exc.status}{': ' + message if message else ''})",
                            evidence=Evidence(status_code=exc.status, error=message or None,
                                              elapsed_ms=int((time.monotonic() - started) * 1000))) for link in links]
