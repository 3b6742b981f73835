"""Check web pages over HTTP: what does each URL answer right now, with evidence.

Redirects are followed by hand so that every hop is guarded against private
addresses, remapped, and recorded in logical (as-published) URLs. A failure of ours
(no network, timeout) is never reported as ``dead``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.cookiejar
import random
import socket
import time
from email.utils import parsedate_to_datetime
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from checks.model import Evidence, Observation, State
from checks.netguard import forbidden_host, forbidden_resolution
from checks.settings import CheckSettings, remap

T = TypeVar("T")

# Hosts whose whole job is to redirect: a permanent redirect there is not news.
REDIRECTOR_HOSTS = frozenset(
    {"aka.ms", "bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "rebrand.ly",
     "doi.org", "dx.doi.org", "hdl.handle.net", "w3id.org", "purl.org", "youtu.be", "git.io"}
)
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class PageCheckResult:
    """Observations for a batch of page URLs, and whether *we* were offline."""

    observations: tuple[Observation, ...]
    offline: bool = False
    notes: tuple[str, ...] = ()


def state_for_status(status: int) -> tuple[State, str]:
    """Classify a final HTTP status. Pure, so every checker agrees on it."""
    if 200 <= status < 300:
        return State.ALIVE, f"HTTP {status}"
    if status in (404, 410):
        return State.DEAD, f"{'gone' if status == 410 else 'not found'} (HTTP {status})"
    if status == 451:
        return State.DEAD, "unavailable for legal reasons (HTTP 451)"
    if status in (401, 403, 429, 999):
        return State.BLOCKED, f"the site refused us (HTTP {status}); not evidence that the page is gone"
    if status >= 500:
        return State.ERROR, f"server error (HTTP {status})"
    return State.ERROR, f"unexpected answer (HTTP {status})"


def is_trivial_hop(source: str, target: str) -> bool:
    """http→https, adding or dropping ``www.`` or a trailing slash: not a move worth reporting."""
    a, b = urlsplit(source), urlsplit(target)
    host_a = (a.hostname or "").removeprefix("www.")
    host_b = (b.hostname or "").removeprefix("www.")
    return host_a == host_b and a.path.rstrip("/") == b.path.rstrip("/") and a.query == b.query


def _is_dns_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        text = str(seen)
        if "Name or service not known" in text or "nodename nor servname" in text or "name resolution" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class _Fetch:
    status: int | None = None
    location: str | None = None
    retry_after: str | None = None
    error: str | None = None
    network_failure: bool = False
    timed_out: bool = False
    connect_failed: bool = False
    attempts: int = 0


class PageChecker:
    """One run's worth of page checks, sharing a client, limits and the outage view."""

    def __init__(self, settings: CheckSettings, on_done: Callable[[Observation], None] | None = None):
        self.settings = settings
        self.on_done = on_done
        self._global = asyncio.Semaphore(settings.max_concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.responses_seen = 0
        self.network_failures: set[str] = set()

    def _client(self) -> httpx.AsyncClient:
        no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self.settings.timeout),
            headers={"User-Agent": self.settings.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
            limits=httpx.Limits(max_connections=self.settings.max_concurrency, max_keepalive_connections=self.settings.max_concurrency),
            cookies=no_cookies,
            trust_env=False,
        )

    async def run(self, urls: Sequence[str]) -> PageCheckResult:
        unique = list(dict.fromkeys(urls))
        notes: list[str] = []
        async with self._client() as client:
            self.client = client
            if self.settings.canaries and not await self._canaries_answer():
                notes.append("no canary URL answered: we are offline, so no page was checked")
                observations = [self._unknown(url, "not checked: the monitor had no network (no canary URL answered)") for url in unique]
                return PageCheckResult(tuple(observations), offline=True, notes=tuple(notes))
            observations = await asyncio.gather(*(self._check_guarded(url) for url in unique))
        offline = bool(unique) and self.responses_seen == 0 and bool(self.network_failures)
        if offline:
            notes.append(
                f"none of the {len(self.network_failures)} page requests got an answer from any host: the monitor was offline, "
                "so network failures are reported as unknown, not dead"
            )
            observations = [
                self._unknown(obs.url, f"not checked: the monitor had no network ({obs.evidence.error})", obs.evidence)
                if obs.url in self.network_failures
                else obs
                for obs in observations
            ]
        return PageCheckResult(tuple(observations), offline=offline, notes=tuple(notes))

    async def _canaries_answer(self) -> bool:
        for url in self.settings.canaries:
            fetch = await self._fetch(url, retries=0)
            if fetch.status is not None:
                return True
        return False

    def _unknown(self, url: str, reason: str, evidence: Evidence | None = None) -> Observation:
        return Observation(url=url, state=State.UNKNOWN, reason=reason, checker="http", evidence=evidence or Evidence(attempts=0))

    async def _check_guarded(self, url: str) -> Observation:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        started = time.monotonic()
        async with self._global, semaphore:
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    observation = await self._check(url, started)
            except TimeoutError:
                self.network_failures.add(url)
                observation = Observation(
                    url=url, state=State.ERROR, checker="http",
                    reason=f"gave up after {self.settings.total_timeout:g} s (all attempts and redirects)",
                    evidence=Evidence(error="TotalTimeout", elapsed_ms=self._ms(started)),
                )
        if self.on_done:
            self.on_done(observation)
        return observation

    @staticmethod
    def _ms(started: float) -> int:
        return int((time.monotonic() - started) * 1000)

    async def _refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"unsupported scheme {parts.scheme or '(none)'}:"
        if not parts.hostname:
            return "no host name"
        if self.settings.allow_private:
            return None
        reason = forbidden_host(parts.hostname)
        if reason or remap(url, self.settings.remap_rules) is not None:
            return reason  # a remapped target was written by the operator, so it is trusted
        return await forbidden_resolution(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    async def _check(self, url: str, started: float) -> Observation:
        hops: list[tuple[int, str]] = []
        current, seen, attempts = url, {url}, 0
        for _ in range(self.settings.max_redirects + 1):
            refusal = await self._refusal(current)
            if refusal:
                what = "not requested" if current == url else f"redirect to {current} not followed"
                return Observation(url=url, state=State.SKIPPED, checker="http", reason=f"{what}: {refusal}",
                                   evidence=Evidence(redirects=tuple(hops), final_url=current, attempts=attempts, elapsed_ms=self._ms(started)))
            fetch = await self._fetch(current, retries=self.settings.retries)
            attempts += fetch.attempts
            evidence = Evidence(status_code=fetch.status, final_url=current, redirects=tuple(hops),
                                error=fetch.error, elapsed_ms=self._ms(started), attempts=attempts)
            if fetch.status is None:
                if fetch.network_failure:
                    self.network_failures.add(url)
                return Observation(url=url, state=State.ERROR, checker="http", reason=fetch.error or "request failed", evidence=evidence)
            if 300 <= fetch.status < 400 and fetch.location:
                target = urljoin(current, fetch.location)
                hops.append((fetch.status, target))
                if target in seen:
                    return Observation(url=url, state=State.ERROR, checker="http", reason=f"redirect loop back to {target}",
                                       evidence=Evidence(status_code=fetch.status, final_url=target, redirects=tuple(hops),
                                                         elapsed_ms=self._ms(started), attempts=attempts))
                seen.add(target)
                current = target
                continue
            return self._classify(url, fetch, evidence, hops)
        return Observation(url=url, state=State.ERROR, checker="http",
                           reason=f"more than {self.settings.max_redirects} redirects",
                           evidence=Evidence(final_url=current, redirects=tuple(hops), elapsed_ms=self._ms(started), attempts=attempts))

    def _classify(self, url: str, fetch: _Fetch, evidence: Evidence, hops: list[tuple[int, str]]) -> Observation:
        assert fetch.status is not None
        state, reason = state_for_status(fetch.status)
        if fetch.status in (429, 503) and fetch.retry_after:
            reason += f"; asked us to retry after {fetch.retry_after}"
        suggested = None
        if state is State.ALIVE and hops:
            moved_to = self._permanent_move(url, hops)
            if moved_to:
                state, suggested = State.MOVED, moved_to
                reason = f"moved permanently to {moved_to} (HTTP {fetch.status} there)"
            else:
                reason = f"HTTP {fetch.status} after {len(hops)} redirect{'s' if len(hops) > 1 else ''}"
        return Observation(url=url, state=state, checker="http", reason=reason, evidence=evidence, suggested_url=suggested)

    @staticmethod
    def _permanent_move(url: str, hops: list[tuple[int, str]]) -> str | None:
        """Where a permanent redirect says the page now lives, if that is news."""
        source, moved_to = url, None
        for status, target in hops:
            if status in (301, 308) and not is_trivial_hop(source, target):
                if (urlsplit(source).hostname or "").lower() not in REDIRECTOR_HOSTS:
                    moved_to = target
            elif status not in (301, 308):
                break
            source = target
        return moved_to

    async def _fetch(self, url: str, retries: int) -> _Fetch:
        """HEAD, then GET when HEAD is refused or says anything but success; retry transient failures."""
        target = remap(url, self.settings.remap_rules) or url
        result = _Fetch()
        for attempt in range(retries + 1):
            result = await self._request("HEAD", target)
            head_refused = result.status is not None and not (200 <= result.status < 400)
            if head_refused or (result.status is None and not result.timed_out and not result.connect_failed):
                result = await self._request("GET", target)
            result.attempts = attempt + 1
            if attempt == retries or not self._should_retry(result):
                return result
            await asyncio.sleep(self._delay(result, attempt))
        return result

    def _should_retry(self, result: _Fetch) -> bool:
        if result.status is None:
            return result.error is not None and not result.error.startswith("host not found")
        if result.status in (429, 503) and result.retry_after:
            return self._retry_after_seconds(result.retry_after) <= self.settings.max_retry_after
        return result.status in _TRANSIENT_STATUSES

    def _delay(self, result: _Fetch, attempt: int) -> float:
        if result.retry_after:
            return min(self._retry_after_seconds(result.retry_after), self.settings.max_retry_after)
        return self.settings.backoff * (2**attempt) * (0.5 + random.random())

    @staticmethod
    def _retry_after_seconds(value: str) -> float:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return float("inf")

    async def _request(self, method: str, target: str) -> _Fetch:
        try:
            async with self.client.stream(method, target) as response:
                if method == "GET":
                    received = 0
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= self.settings.max_body_bytes:
                            break
                self.responses_seen += 1
                return _Fetch(status=response.status_code, location=response.headers.get("location"),
                              retry_after=response.headers.get("retry-after"))
        except httpx.TimeoutException as exc:
            return _Fetch(error=f"{type(exc).__name__}: no answer within {self.settings.timeout:g} s",
                          network_failure=True, timed_out=True)
        except httpx.ConnectError as exc:
            if _is_dns_failure(exc):
                return _Fetch(error=f"host not found (DNS): {urlsplit(target).hostname}",
                              network_failure=True, connect_failed=True)
            return _Fetch(error=f"ConnectError: {exc or 'connection failed'}", network_failure=True, connect_failed=True)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return _Fetch(error=f"{type(exc).__name__}: {exc or 'connection dropped'}", network_failure=True)
        except httpx.HTTPError as exc:
            return _Fetch(error=f"{type(exc).__name__}: {exc}")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, even when the caller's thread already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def check_pages_async(urls: Sequence[str], settings: CheckSettings,
                            on_done: Callable[[Observation], None] | None = None) -> PageCheckResult:
    return await PageChecker(settings, on_done).run(urls)


def check_pages(urls: Sequence[str], settings: CheckSettings,
                on_done: Callable[[Observation], None] | None = None) -> PageCheckResult:
    """Check page URLs (deduplicated) and return one observation per unique URL."""
    return run_sync(check_pages_async(urls, settings, on_done))
