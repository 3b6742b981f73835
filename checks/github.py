"""What a GitHub repository link really leads to, through GitHub's APIs (PyGithub).

A repository that exists may still be renamed, archived, disabled, empty or a placeholder;
the reader of a paper cares about all of these. With a token, repositories are asked in
GraphQL batches (``checks.github_graphql``); without one, through REST. When *our* budget
or network fails, the answer is ``unknown``: only GitHub's own "not found" or "blocked" is
evidence of death.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import requests
import urllib3
from github import Auth, Github, GithubException, UnknownObjectException
from urllib3.util import Retry

from checks.breaker import Breaker
from checks.facts import Facts, RepoFacts
from checks.github_graphql import GraphQLRepoChecker, error_message
from checks.model import Evidence, Link, LinkKind, Observation, State
from checks.ratelimits import github_limit, is_rate_limit
from checks.repo_facts import activity_class, repo_observation, repo_web_url, summary
from checks.settings import CheckSettings
from checks.statuses import Service, state_for_status


def _without_pygithub_console_handler() -> None:
    """PyGithub adds a stderr handler of its own to the ``github`` logger, and its records also reach
    the application's handlers (Prefect's, a worker's), so each line was printed twice. The
    application's logging configuration decides where they go."""
    library = logging.getLogger("github")
    for handler in list(library.handlers):
        if type(handler) is logging.StreamHandler:
            library.removeHandler(handler)


_without_pygithub_console_handler()


class GitHubChecker:
    def __init__(self, settings: CheckSettings, on_done: Callable[[Observation], None] | None = None,
                 previous: Mapping[str, Facts | None] | None = None):
        self.settings = settings
        self.on_done = on_done
        # last run's facts of each repository: only a repository's own carry an ETag and slow facts
        self.previous = {url: facts for url, facts in (previous or {}).items() if isinstance(facts, RepoFacts)}
        self.breaker = Breaker()
        token = settings.github_token()
        # Retry only server errors; rate-limit answers reach us intact. urllib3 would otherwise sleep out a 429's
        # Retry-After, however long, before we could judge it against max_retry_after.
        retry = Retry(total=settings.retries, backoff_factor=settings.backoff, status_forcelist=(500, 502, 503, 504),
                      allowed_methods=("GET", "POST"), raise_on_status=False, respect_retry_after_header=False)
        self.client = Github(
            base_url=settings.github_api_url,
            auth=Auth.Token(token) if token else None,
            timeout=int(max(1, settings.timeout)),
            retry=retry,
            seconds_between_requests=None,
            seconds_between_writes=None,  # our only POSTs are read-only GraphQL queries
            user_agent=settings.user_agent,
        )
        self.authenticated = token is not None

    def check(self, links: Sequence[Link]) -> list[Observation]:
        unique = list({link.normalized: link for link in links}.values())
        try:
            if self.authenticated:
                return GraphQLRepoChecker(self.client, self.settings.github_api_url, self.breaker, self.on_done,
                                          max_wait=self.settings.max_retry_after).check(unique, self.previous)
            with ThreadPoolExecutor(max_workers=4, thread_name_prefix="github") as pool:
                return list(pool.map(self._check_one, unique))
        finally:
            self.client.close()

    def _check_one(self, link: Link) -> Observation:
        started = time.monotonic()
        observation = self.breaker.guarded(lambda: self._check_repo(link, started),
                                           lambda reason: self._unknown(link, reason, started, attempts=0))
        if self.on_done:
            self.on_done(observation)
        return observation

    def _unknown(self, link: Link, reason: str, started: float, attempts: int = 1, error: str | None = None) -> Observation:
        return Observation(url=link.normalized, state=State.UNKNOWN, checker="github", reason=reason,
                           evidence=Evidence(error=error, elapsed_ms=self._ms(started), attempts=attempts))

    @staticmethod
    def _ms(started: float) -> int:
        return int((time.monotonic() - started) * 1000)

    def _check_repo(self, link: Link, started: float) -> Observation:
        """One conditional REST request: a repository unchanged since the last run costs a 304."""
        wanted = f"{link.owner}/{link.name}"
        cached = self.previous.get(link.normalized) or RepoFacts()
        headers = {"If-None-Match": cached.etag} if cached.etag else {}
        try:
            try:
                response_headers, data = self.client.requester.requestJsonAndCheck("GET", f"/repos/{wanted}", headers=headers)
            except GithubException as exc:
                if not is_rate_limit(exc.status, error_message(exc)):
                    raise
                wait = github_limit(exc.headers, error_message(exc)).seconds
                if wait > self.settings.max_retry_after:
                    raise
                time.sleep(wait + 0.5)  # the limit lifts soon: waiting beats reporting unknown
                response_headers, data = self.client.requester.requestJsonAndCheck("GET", f"/repos/{wanted}", headers=headers)
        except UnknownObjectException:
            return self._from_status(link, wanted, 404, None, started)
        except GithubException as exc:
            if is_rate_limit(exc.status, error_message(exc)):  # our budget, not the repository: unknown, saying until when
                reason = github_limit(exc.headers, error_message(exc)).reason("API", self.authenticated)
                self.breaker.trip(reason)
                return self._unknown(link, reason, started, error=f"HTTP {exc.status}: {error_message(exc)}")
            return self._from_status(link, wanted, exc.status, exc.data, started)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            reason = f"not checked: could not reach the GitHub API at {self.settings.github_api_url} ({type(exc).__name__})"
            self.breaker.failure(reason)
            return self._unknown(link, reason, started, error=f"{type(exc).__name__}: {exc}")
        if data is None:  # 304 Not Modified: what we stored last time is still true
            facts, status = cached.with_(not_modified=True), 304
        else:
            facts, status = facts_from_rest(data).with_(etag=response_headers.get("etag")), 200
        evidence = Evidence(status_code=status, final_url=repo_web_url(str(facts.full_name)), elapsed_ms=self._ms(started))
        return repo_observation(link, facts, evidence)

    def _from_status(self, link: Link, wanted: str, status: int, data: Any, started: float) -> Observation:
        """GitHub's refusal, through the status table (``checks.statuses``); unknown is ours, and stops the run's asking."""
        message = data.get("message", "") if isinstance(data, dict) else ""
        state, reason = state_for_status(status, None, Service.GITHUB_API, message=message)
        if state is State.UNKNOWN:  # our token or our budget: every other repository would get the same answer
            self.breaker.trip(reason)
            return self._unknown(link, reason, started, error=message)
        evidence = Evidence(status_code=status, final_url=repo_web_url(wanted), error=message or None, elapsed_ms=self._ms(started))
        return Observation(url=link.normalized, state=state, checker="github", reason=reason, evidence=evidence)


def facts_from_rest(data: Mapping[str, Any]) -> RepoFacts:
    """Metadata from one ``GET /repos/{owner}/{repo}``; activity from ``pushed_at`` (no extra calls)."""
    pushed = data.get("pushed_at")
    pushed_at = datetime.fromisoformat(pushed.replace("Z", "+00:00")) if pushed else None
    license_info = data.get("license") or {}
    archived = bool(data.get("archived"))
    return RepoFacts.of(
        full_name=data["full_name"],
        description=data.get("description"),
        stars=data.get("stargazers_count"),
        forks=data.get("forks_count"),
        open_issues=data.get("open_issues_count"),
        archived=archived,
        disabled=bool(data.get("disabled")),
        fork=bool(data.get("fork")),
        parent=(data.get("parent") or {}).get("full_name"),
        license=license_info.get("spdx_id"),
        default_branch=data.get("default_branch"),
        topics=tuple(data.get("topics") or ()),
        pushed_at=pushed,
        empty=data.get("size") == 0,
        activity=activity_class(pushed_at, archived),
    )


# What only the repository page tells when the API answered too: the tree, README (and the completeness
# checklist scored from both), releases and
# the default branch's last commit (the REST path spends no request on them); the page's "empty"
# wins over REST's ``size == 0``, which GitHub computes lazily, and activity from the last commit
# over REST's ``pushed_at`` (a push to any branch).
PAGE_ONLY_FACTS = ("placeholder", "readme_promise", "readme_links_weights_or_data", "root_files", "empty",
                   "completeness", "release_count", "latest_release", "last_commit_at", "last_commit_sha", "activity")


def merge_page_and_api(page: Observation, api: Observation) -> Observation:
    """Without a token, the repository page says whether it exists and has code; the API, budget allowing, the rest.

    GitHub's own answer through the API wins when there is one; when the API could not be
    asked (budget, network), the page's answer stands, with the last known metadata.
    """
    page_facts = page.facts if page.state.available else None
    api_facts = api.facts if isinstance(api.facts, RepoFacts) else RepoFacts()
    if api.state in (State.ALIVE, State.MOVED, State.DEAD):
        if not page_facts or api.state is State.DEAD:
            return api
        read = page_facts.values()
        page_only = {name: read[name] for name in PAGE_ONLY_FACTS if name in read}
        facts = api_facts.with_(**page_only)
        return api.replace(facts=facts, reason=summary(facts) if api.state is State.ALIVE else api.reason)
    facts = api_facts.merged(page_facts).with_(metadata_not_refreshed=api.reason)
    placeholder_read = page_facts is not None and page_facts.has("placeholder")
    said = summary(facts) if page.state is State.ALIVE and placeholder_read else page.reason
    reason = f"{said} (repository page); metadata not refreshed: {api.reason.removeprefix('not checked: ')}"
    return page.replace(checker="github", facts=facts, reason=reason)


def check_repos(links: Sequence[Link], settings: CheckSettings, on_done: Callable[[Observation], None] | None = None,
                previous: Mapping[str, Facts | None] | None = None) -> list[Observation]:
    """Check ``github-repo`` links, one observation per unique repository.

    ``previous`` maps a link's normalized URL to the facts stored by the last run (with
    its ETag), so that unchanged repositories cost one conditional request.
    """
    repos = [link for link in links if link.kind is LinkKind.GITHUB_REPO]
    if not repos:
        return []
    return GitHubChecker(settings, on_done, previous).check(repos)
