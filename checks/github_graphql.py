"""Many repositories per request through GitHub's GraphQL API (needs a token).

One aliased query answers up to 100 repositories. GitHub charges a query by the
connections it asks for (one request per connection per repository, /100, rounded), so
the query every run sends keeps to one connection per repository (open issues): 100
repositories cost 1 point, 0.01 per repository, against at least 3 REST calls each.

Release count and topics are two more connections. They change rarely, so they are
"slow facts": carried over from the last run while the repository's ``pushedAt`` and
``updatedAt`` are unchanged, and refreshed (50 repositories a point) within a budget of
0.02 points per repository per run (at least 2 points), missing facts first. A large
list gets them all within a few runs; a run never spends more than the budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import requests
import urllib3
from github import Github, GithubException

from checks.breaker import Breaker
from checks.facts import Release, RepoFacts
from checks.model import Evidence, Link, Observation, State
from checks.ratelimits import github_limit, is_rate_limit
from checks.repo_facts import activity_class, completeness_facts, placeholder_facts, repo_observation, repo_web_url
from checks.statuses import GRAPHQL_STATUS, Service, state_for_status

BATCH_SIZE = 100
SLOW_BATCH_SIZE = 50  # two connections each: 100 requests, 1 point
POINTS_PER_REPO = 0.02  # the most a run spends per repository, slow facts included
MIN_POINTS = 2  # ...but a short list still gets its slow facts on the first run
SLOW_FACTS = ("release_count", "topics")

REPO_FIELDS = """
fragment Repo on Repository {
  nameWithOwner url description isArchived isDisabled isFork isEmpty isLocked lockReason
  parent { nameWithOwner }
  stargazerCount forkCount pushedAt updatedAt
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


def build_slow_query(full_names: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Release count and topics of up to 50 repositories (by their current names)."""
    params, fields, variables = [], [], {}
    for index, full_name in enumerate(full_names):
        owner, name = full_name.split("/", 1)
        params.append(f"$o{index}: String!, $n{index}: String!")
        fields.append(f"  r{index}: repository(owner: $o{index}, name: $n{index}) {{ "
                      "releases { totalCount } repositoryTopics(first: 20) { nodes { topic { name } } } }")
        variables[f"o{index}"], variables[f"n{index}"] = owner, name
    return f"query SlowFacts({', '.join(params)}) {{\n" + "\n".join(fields) + "\n  rateLimit { cost remaining resetAt }\n}\n", variables


def slow_facts_current(now: RepoFacts, before: RepoFacts | None) -> bool:
    """Last run's release count and topics still hold when nothing was pushed or edited since."""
    return before is not None and all(before.has(name) for name in SLOW_FACTS) and \
        before.pushed_at == now.pushed_at and before.updated_at == now.updated_at


def _repo(observation: Observation) -> RepoFacts:
    """An observation's repository facts (none recorded: empty ones)."""
    return observation.facts if isinstance(observation.facts, RepoFacts) else RepoFacts()


def error_message(exc: GithubException) -> str:
    """The ``message`` of GitHub's error body, or ""."""
    return str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""


def _iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def facts_from_graphql(node: dict[str, Any]) -> RepoFacts:
    """The same metadata the REST path records, from one GraphQL repository node."""
    branch = node.get("defaultBranchRef") or {}
    commit = branch.get("target") or {}
    release = node.get("latestRelease")
    root = node.get("root") or {}
    readme = (node.get("readme") or {}).get("text")
    last_commit = _iso(commit.get("committedDate"))
    archived, empty = bool(node.get("isArchived")), bool(node.get("isEmpty"))
    facts = RepoFacts.of(
        full_name=node["nameWithOwner"],
        description=node.get("description"),
        stars=node.get("stargazerCount"),
        forks=node.get("forkCount"),
        open_issues=(node.get("issues") or {}).get("totalCount"),
        archived=archived,
        disabled=bool(node.get("isDisabled")),
        fork=bool(node.get("isFork")),
        parent=(node.get("parent") or {}).get("nameWithOwner"),
        license=(node.get("licenseInfo") or {}).get("spdxId"),
        default_branch=branch.get("name"),
        pushed_at=node.get("pushedAt"),
        updated_at=node.get("updatedAt"),
        empty=empty,
        last_commit_sha=commit.get("oid"),
        last_commit_at=last_commit.isoformat() if last_commit else None,
        latest_release=Release(tag=release["tagName"], published_at=release.get("publishedAt"),
                               prerelease=release.get("isPrerelease"), url=release.get("url")) if release else None,
    )
    names = [entry["name"] for entry in root.get("entries", [])] if root else []
    # the checklist needs a listing that was read: an empty repository has none to read, and none is missing
    entries: list[str] | None = None
    if empty:
        entries = []
    elif "entries" in root:
        entries = [entry["name"] + ("/" if entry.get("type") == "tree" else "") for entry in root.get("entries") or []]
    return facts.merged(placeholder_facts(names, readme, empty=empty)).with_(activity=activity_class(last_commit, archived)) \
        .merged(completeness_facts(entries, "" if empty else readme, full_name=node["nameWithOwner"]))


class GraphQLRepoChecker:
    """Check ``github-repo`` links in batches; one observation per link."""

    def __init__(self, client: Github, api_url: str, breaker: Breaker,
                 on_done: Callable[[Observation], None] | None = None, batch_size: int = BATCH_SIZE,
                 max_wait: float = 0.0) -> None:
        self.client = client
        self.max_wait = max_wait  # a spent budget that resets within this many seconds is waited for
        self.api_url = api_url
        self.breaker = breaker
        self.on_done = on_done
        self.batch_size = batch_size
        self.queries = 0
        self.points = 0
        self.slow_pending = 0  # repositories whose release count and topics wait for a later run

    def check(self, links: Sequence[Link], previous: Mapping[str, RepoFacts] | None = None) -> list[Observation]:
        observations: list[Observation] = []
        for start in range(0, len(links), self.batch_size):
            results = self._batch(links[start:start + self.batch_size])
            for observation in results:
                if self.on_done:
                    self.on_done(observation)  # progress: the verdict is known, slow facts may follow
            observations += results
        return self._with_slow_facts(observations, previous or {}, len(links))

    def _with_slow_facts(self, observations: list[Observation], previous: Mapping[str, RepoFacts],
                         repositories: int) -> list[Observation]:
        """Refresh stale release counts and topics within the budget; every other repository keeps last run's."""
        found = [o for o in observations if o.state.available and _repo(o).full_name]
        stale = [o for o in found if not slow_facts_current(_repo(o), previous.get(o.url))]
        stale.sort(key=lambda o: any((previous.get(o.url) or RepoFacts()).has(k) for k in SLOW_FACTS))  # never fetched first
        budget = max(MIN_POINTS, math.ceil(POINTS_PER_REPO * repositories)) - self.points
        batches = [stale[i:i + SLOW_BATCH_SIZE] for i in range(0, len(stale), SLOW_BATCH_SIZE)][:max(0, budget)]
        refreshed: dict[str, Observation] = {}
        for batch in batches:
            if self.breaker.reason:
                break
            refreshed.update(self._slow_batch(batch))
        self.slow_pending = len(stale) - len(refreshed)
        return [self._keep_known_slow_facts(refreshed.get(o.url, o), previous.get(o.url)) for o in observations]

    @staticmethod
    def _keep_known_slow_facts(observation: Observation, before: RepoFacts | None) -> Observation:
        """Facts not refreshed this run (still current, or over budget) keep last run's values and their date."""
        if before is None or _repo(observation).has("release_count") or not observation.state.available:
            return observation
        known = before.values()
        kept = {name: known[name] for name in SLOW_FACTS if name in known}
        return observation.replace(facts=_repo(observation).with_(**kept, slow_facts_at=before.slow_facts_at)) \
            if kept else observation

    def _slow_batch(self, batch: Sequence[Observation]) -> dict[str, Observation]:
        query, variables = build_slow_query([str(_repo(o).full_name) for o in batch])
        requester = self.client.requester
        try:
            _, body = requester.requestJsonAndCheck("POST", requester.graphql_url, input={"query": query, "variables": variables})
        except (GithubException, requests.RequestException, urllib3.exceptions.HTTPError):
            return {}  # slow facts are extras: their failure never changes a verdict
        self.queries += 1
        self.points += int((body.get("data") or {}).get("rateLimit", {}).get("cost", 0) or 0)
        data = body.get("data") or {}
        stamp = datetime.now(timezone.utc).isoformat()
        refreshed = {}
        for index, o in enumerate(batch):
            node = data.get(f"r{index}")
            if node:
                topics = [n["topic"]["name"] for n in (node.get("repositoryTopics") or {}).get("nodes") or [] if n]
                refreshed[o.url] = o.replace(facts=_repo(o).with_(release_count=(node.get("releases") or {}).get("totalCount"),
                                                                  topics=tuple(topics), slow_facts_at=stamp))
        return refreshed

    def _unknown(self, links: Sequence[Link], reason: str, started: float, error: str | None = None) -> list[Observation]:
        return [Observation(url=link.normalized, state=State.UNKNOWN, checker="github", reason=reason,
                            evidence=Evidence(error=error, elapsed_ms=int((time.monotonic() - started) * 1000),
                                              attempts=0 if self.breaker.reason else 1)) for link in links]

    def _batch(self, links: Sequence[Link], waited: bool = False) -> list[Observation]:
        started = time.monotonic()
        if self.breaker.reason:
            return self._unknown(links, self.breaker.reason, started)
        query, variables = build_query(links)
        requester = self.client.requester
        try:
            headers, body = requester.requestJsonAndCheck("POST", requester.graphql_url,
                                                           input={"query": query, "variables": variables})
        except GithubException as exc:
            if not waited and is_rate_limit(exc.status, error_message(exc)):
                wait = github_limit(exc.headers, error_message(exc)).seconds
                if wait <= self.max_wait:
                    time.sleep(wait + 0.5)  # the limit lifts soon: waiting beats reporting unknown
                    return self._batch(links, waited=True)
            return self._refused(links, exc, started)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            reason = f"not checked: could not reach the GitHub GraphQL API at {self.api_url} ({type(exc).__name__})"
            self.breaker.failure(reason)
            return self._unknown(links, reason, started, f"{type(exc).__name__}: {exc}")
        self.queries += 1
        self.breaker.success()
        errors = body.get("errors") or []
        if any(error.get("type") in ("RATE_LIMITED", "RATE_LIMIT") for error in errors):
            limit = github_limit(headers, budget=True)  # the hourly points ran short of this query's cost
            if not waited and limit.seconds <= self.max_wait:
                time.sleep(limit.seconds + 0.5)
                return self._batch(links, waited=True)
            reason = limit.reason("GraphQL", authenticated=True)
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
            status = GRAPHQL_STATUS.get(kind)  # what the REST API answers for the same error
            state, reason = state_for_status(status, None, Service.GITHUB_GRAPHQL, message=message, what=kind or "GraphQL")
            if state is State.DEAD:
                return Observation(url=link.normalized, state=state, checker="github", reason=reason,
                                   evidence=Evidence(status_code=status, final_url=repo_web_url(wanted), error=message,
                                                     elapsed_ms=elapsed))
            return Observation(url=link.normalized, state=state, checker="github", reason=reason,
                               evidence=Evidence(error=message, elapsed_ms=elapsed))
        facts = facts_from_graphql(node)
        return repo_observation(link, facts, Evidence(status_code=200, final_url=repo_web_url(str(facts.full_name)),
                                                      elapsed_ms=elapsed))

    def _refused(self, links: Sequence[Link], exc: GithubException, started: float) -> list[Observation]:
        message = error_message(exc)
        if exc.status == 401 or is_rate_limit(exc.status, message):
            reason = (f"not checked: GitHub refused our token ({exc.status} {message})" if exc.status == 401
                      else github_limit(exc.headers, message).reason("GraphQL", authenticated=True))
            self.breaker.trip(reason)
            return self._unknown(links, reason, started, message or str(exc.status))
        return [Observation(url=link.normalized, state=State.ERROR, checker="github",
                            reason=f"GitHub GraphQL API error (HTTP {exc.status}{': ' + message if message else ''})",
                            evidence=Evidence(status_code=exc.status, error=message or None,
                                              elapsed_ms=int((time.monotonic() - started) * 1000))) for link in links]
