"""Check web pages over HTTP: what does each URL answer right now, with evidence.

Redirects are followed by hand so that every hop is guarded against private addresses,
remapped, and recorded in logical (as-published) URLs: a ``Location`` a server behind a
remap sends in its own namespace is mapped back first (``checks.remap.logical_location``).
A failure of ours (no network, timeout) is never reported as ``dead``: "host not found"
only counts as death when the run could reach the rest of the web (``checks.outage``).
What a status means is ``checks.statuses``; what a host's redirect means, ``checks.redirects``
with the host's rule (``checks.host_rules``).

Size: over 400 lines because it is one object with one job, a run's requests: ``PageChecker``
holds the client, the host gates, the retry loop and the redirect walk, which share its
state (gates, trusted hosts, outage counters); cutting it would pass that state around.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import random
import re
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from checks.facts import Facts, PageFacts
from checks.github_page import HOSTS as GITHUB_PAGE_HOSTS
from checks.github_page import READ_LIMIT as REPO_PAGE_BYTES
from checks.github_page import is_repo_root, latest_commit_url, repo_page_facts, with_latest_commit
from checks.host_rules import HostRule, rule_for
from checks.hosts import HostGate
from checks.model import Evidence, Observation, State
from checks.netguard import forbidden_host
from checks.outage import OutageEvidence as OutageEvidence  # re-exported: the flows judge batches with it
from checks.outage import PageCheckResult as PageCheckResult
from checks.outage import judge_outage as judge_outage
from checks.ratelimits import rate_limit_wait, retry_after_seconds
from checks.redirects import permanent_move
from checks.remap import Location, Route, canonical, logical_location, remap, route
from checks.settings import CheckSettings
from checks.soft404 import PageSignature, is_html, sibling_probe_url, signature
from checks.statuses import Service, state_for_status
from checks.transport import DEFAULT_HEADERS, Failure, PageTransport, classify_failure, close, read_prefix

T = TypeVar("T")

_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_JITTER = random.Random()  # backoff jitter from a generator of our own: the global one is the caller's
_SNIFF_BYTES = 16 * 1024  # enough of a page to read its title and a "not found" sentence
WORKERS_PER_SLOT = 4  # URLs in progress per global slot: enough that hosts at their limit never starve the run


@dataclass(frozen=True)
class PageReader:
    """Facts a page states about itself, read from its body while it is checked (one GET, no HEAD).

    ``limit`` is the most that is read of such a page; it replaces the general body cap,
    because these are known pages (a GitHub repository overview) larger than it.
    """

    hosts: frozenset[str]  # the hosts (lowercase) whose pages it may read; ``applies`` decides among their URLs
    applies: Callable[[str], bool]
    limit: int
    facts: Callable[[bytes], Facts | None]  # None: nothing could be read
    # a resource the page itself fetches (JSON), asked for when the page's facts name it
    follow_up: Callable[[str, Facts], str | None] | None = None
    with_follow_up: Callable[[Facts, bytes], Facts] | None = None


# A github.com repository page: its tree, README and releases, then its default branch's last
# commit, for runs without a GitHub token.
PAGE_READERS: tuple[PageReader, ...] = (
    PageReader(GITHUB_PAGE_HOSTS, is_repo_root, REPO_PAGE_BYTES, repo_page_facts, latest_commit_url, with_latest_commit),)
_READER_HOSTS = frozenset().union(*(reader.hosts for reader in PAGE_READERS))
_FOLLOW_UP_BYTES = 64 * 1024


class _OutOfTime(Exception):
    """The URL used up ``total_timeout`` (counted from its first request, not its wait for a slot)."""


@dataclass
class _Answer:
    """One request's outcome: an HTTP answer, or the failure that prevented one."""

    status: int | None = None
    location: str | None = None
    retry_after: str | None = None
    content_type: str | None = None
    body: bytes = b""
    failure: Failure | None = None
    attempts: int = 1
    route: Route | None = None  # the request actually made (its physical URL, and the rule that chose it)


@dataclass
class _Trace:
    """What happened while checking one URL, hop by hop."""

    url: str
    started: float = field(default_factory=time.monotonic)
    hops: list[tuple[int, str]] = field(default_factory=list)
    attempts: int = 0
    admitted: float | None = None  # when the first request got a slot: waiting in the queue is not the URL's fault

    def out_of_time(self, budget: float) -> bool:
        return self.admitted is not None and time.monotonic() - self.admitted > budget

    def evidence(self, final_url: str, status: int | None = None, error: str | None = None) -> Evidence:
        return Evidence(status_code=status, final_url=final_url, redirects=tuple(self.hops), error=error,
                        elapsed_ms=int((time.monotonic() - self.started) * 1000), attempts=self.attempts)


class PageChecker:
    """One run's worth of page checks, sharing a client, limits and the outage view."""

    def __init__(self, settings: CheckSettings, on_done: Callable[[Observation], None] | None = None,
                 sink: Callable[[Observation], None] | None = None, judge: bool = True,
                 page_bodies: Callable[[str, str, bytes], None] | None = None):
        """``page_bodies(url, final_url, body)``, when given, receives each alive HTML page read up to
        ``max_body_bytes`` (not only its first bytes), for a caller that reads the page's links
        (``checks.discovery``); every guard, remap, redirect rule and retry stays the same."""
        self.settings = settings
        self.judge = judge
        self.page_bodies = page_bodies
        self.canaries_after = True
        self.on_done = on_done
        self.sink = sink
        self._global = asyncio.Semaphore(settings.max_concurrency)
        self._gates: dict[str, HostGate] = {}
        self._rules: dict[str, HostRule] = {}
        self._trusted_hosts: set[str] = set()
        self.responses_seen = 0
        self.network_failures: set[str] = set()
        self.nxdomain: set[str] = set()

    async def run(self, urls: Sequence[str]) -> PageCheckResult:
        unique = list(dict.fromkeys(urls))
        async with PageTransport(max_connections=self.settings.max_concurrency, trusted_hosts=self._trusted_hosts,
                                 allow_private=self.settings.allow_private) as transport:
            self.transport = transport
            self._timeout = httpx.Timeout(self.settings.timeout).as_dict()
            if self.settings.canaries and not await self._canaries_answer():
                reason = "not checked: the monitor had no network (no canary URL answered before the run)"
                observations = [self._finish(Observation(url=url, state=State.UNKNOWN, reason=reason, checker="http",
                                                         evidence=Evidence(attempts=0))) for url in unique]
                return self._hand_over(PageCheckResult(
                    tuple(observations), offline=True,
                    notes=("no canary URL answered: the monitor was offline, so no page was checked",)))
            observations = await self._check_all(unique)
            canaries_after = await self._canaries_answer() if self.settings.canaries else True
        self.canaries_after = canaries_after
        if not self.judge:  # a run in batches judges once, over all of them (``judge_outage``)
            return PageCheckResult(tuple(observations))
        return self._hand_over(judge_outage(observations, self.outage_evidence(canaries_after)))

    def _final(self, observation: Observation) -> bool:
        """Only network failures and "host not found" wait for the run's outage judgement."""
        return observation.url not in self.network_failures and observation.url not in self.nxdomain

    def _hand_over(self, result: PageCheckResult) -> PageCheckResult:
        """With a sink, the last observations go to it and the result keeps only the run's outage view."""
        if self.sink is None:
            return result
        for observation in result.observations:
            self.sink(observation)
        return PageCheckResult((), offline=result.offline, notes=result.notes)

    async def _check_all(self, urls: list[str]) -> list[Observation]:
        """Check with a bounded set of workers, not one task per URL, so memory does not grow with N.

        Workers outnumber the global limit so that some waiting at a busy host never leave the
        run's slots idle; a URL takes a global slot only once its host has admitted it.
        """
        results: list[Observation | None] = [None] * len(urls)
        queue = iter(enumerate(urls))

        async def worker() -> None:
            for index, url in queue:
                observation = await self._check_url(url)
                if self.sink is not None and self._final(observation):
                    self.sink(observation)  # streamed: nothing about this URL is kept
                else:
                    results[index] = observation

        await asyncio.gather(*(worker() for _ in range(min(len(urls), WORKERS_PER_SLOT * self.settings.max_concurrency))))
        return [observation for observation in results if observation is not None]

    def outage_evidence(self, canaries_after: bool) -> OutageEvidence:
        return OutageEvidence(frozenset(self.network_failures), frozenset(self.nxdomain), self.responses_seen, canaries_after)

    async def _canaries_answer(self) -> bool:
        for url in self.settings.canaries:
            answer = await self._request("HEAD", remap(url, self.settings.remap_rules) or url, url)
            if answer.status is not None:
                return True
        return False

    def _finish(self, observation: Observation) -> Observation:
        if self.on_done:
            self.on_done(observation)
        return observation

    async def _check_url(self, url: str) -> Observation:
        trace = _Trace(url)
        try:
            observation = await self._follow(trace)
        except _OutOfTime:
            self.network_failures.add(url)
            observation = Observation(url=url, state=State.ERROR, checker="http",
                                      reason=f"gave up after {self.settings.total_timeout:g} s (all attempts and redirects)",
                                      evidence=trace.evidence(url, error="TotalTimeout"))
        return self._finish(observation)

    def _refusal(self, url: str, host: str) -> str | None:
        """Why this URL must not be requested, judged before any request (and again at connect time)."""
        if not url.startswith(("https://", "http://")):  # the common case without a full parse
            scheme = urlsplit(url).scheme
            if scheme not in ("http", "https"):
                return f"unsupported scheme {scheme or '(none)'}:"
        if not host:
            return "no host name"
        if self.settings.excluded(url):
            return "excluded by configuration"
        if self.settings.allow_private:
            return None
        return forbidden_host(host)

    async def _follow(self, trace: _Trace) -> Observation:
        url = current = trace.url
        seen: set[str] | None = None  # where the redirects led, canonical: made at the first redirect
        for _ in range(self.settings.max_redirects + 1):
            try:
                host = _host(current)
                refusal = self._refusal(current, host)
            except ValueError as exc:  # urlsplit's view: an unbalanced IPv6 bracket, a port out of range
                host, refusal = "", f"not a valid URL ({exc})"
            if refusal:
                what = "not requested" if current == url else f"redirect to {current} not followed"
                return Observation(url=url, state=State.SKIPPED, checker="http", reason=f"{what}: {refusal}",
                                   evidence=trace.evidence(current))
            answer = await self._fetch(current, host, trace)
            trace.attempts += answer.attempts
            if answer.status is None:
                return self._failed(trace, current, answer.failure)
            if 300 <= answer.status < 400 and answer.location:
                location = self._location(current, answer)
                if location.unmapped is not None:
                    return self._unmapped(trace, current, answer.status, location.unmapped)
                target = location.url
                trace.hops.append((answer.status, target))
                if seen is None:
                    seen = {canonical(url)}
                if target in seen:
                    return Observation(url=url, state=State.ERROR, checker="http", reason=f"redirect loop back to {target}",
                                       evidence=trace.evidence(target, answer.status))
                seen.add(target)
                current = target
                continue
            return await self._classify(trace, current, host, answer)
        return Observation(url=url, state=State.ERROR, checker="http", reason=f"more than {self.settings.max_redirects} redirects",
                           evidence=trace.evidence(current))

    def _location(self, current: str, answer: _Answer) -> Location:
        """Where a redirect points, in the user's namespace (the answer came from ``answer.route``)."""
        assert answer.location is not None
        return logical_location(answer.location, answer.route or Route(current, current), self.settings.remap_rules)

    @staticmethod
    def _unmapped(trace: _Trace, current: str, status: int, physical: str) -> Observation:
        """The remapped server sent us to a URL of its own that no rule maps back: ours to fix, not the link's.

        The physical URL is kept as evidence, labelled, never as where the link lives.
        """
        reason = (f"not checked: behind the remap, the server redirected (HTTP {status}) to {physical}, a URL of the "
                  "remap target that no remap rule maps back to a public URL")
        return Observation(url=trace.url, state=State.UNKNOWN, checker="http", reason=reason,
                           evidence=trace.evidence(current, status), facts=PageFacts(unmapped_redirect=physical))

    def _failed(self, trace: _Trace, current: str, failure: Failure | None) -> Observation:
        failure = failure or Failure("other", "request failed")
        evidence = trace.evidence(current, error=f"{failure.kind}: {failure.message}")
        if failure.kind in ("forbidden", "invalid"):
            return Observation(url=trace.url, state=State.SKIPPED, checker="http",
                               reason=f"not requested: {failure.message}", evidence=evidence)
        if failure.network:
            self.network_failures.add(trace.url)
        if failure.kind == "nxdomain":
            self.nxdomain.add(trace.url)
        return Observation(url=trace.url, state=State.ERROR, checker="http", reason=failure.message, evidence=evidence)

    async def _classify(self, trace: _Trace, current: str, host: str, answer: _Answer) -> Observation:
        assert answer.status is not None
        state, reason = state_for_status(answer.status, self._rule(host), Service.PAGE, accept=self.settings.accept)
        evidence = trace.evidence(current, answer.status)
        if answer.status in (429, 503) and answer.retry_after:
            reason += f"; asked us to retry after {answer.retry_after}"
        reader = self._reader(current, host)
        if state is State.ALIVE and self.settings.soft404 and answer.body and reader is None:
            soft = await self._soft_404(current, signature(answer.body))
            if soft:
                return Observation(url=trace.url, state=State.DEAD, checker="http", reason=soft, evidence=evidence)
        if self.page_bodies is not None and state is State.ALIVE and answer.body and reader is None:
            self.page_bodies(trace.url, current, answer.body)
        facts = reader.facts(answer.body) if reader is not None and state is State.ALIVE and answer.body else None
        if facts and reader is not None:
            facts = await self._follow_up(reader, current, facts)
        suggested = None
        if state is State.ALIVE and trace.hops:
            moved_to = permanent_move(trace.url, trace.hops, lambda source: self._rule(_host(source)).redirects_expected)
            if moved_to:
                state, suggested = State.MOVED, moved_to
                reason = f"moved permanently to {moved_to} (HTTP {answer.status} there)"
            else:
                reason = f"HTTP {answer.status} after {len(trace.hops)} redirect{'s' if len(trace.hops) > 1 else ''}"
        return Observation(url=trace.url, state=state, checker="http", reason=reason, evidence=evidence,
                           suggested_url=suggested, facts=facts)

    async def _follow_up(self, reader: PageReader, url: str, facts: Facts) -> Facts:
        """Ask for what the page would load next (as JSON); its failure only leaves that fact out."""
        if reader.follow_up is None or reader.with_follow_up is None:
            return facts
        extra = reader.follow_up(url, facts)
        if extra is None:
            return facts
        answer = await self._request("GET", remap(extra, self.settings.remap_rules) or extra, extra,
                                     read=_FOLLOW_UP_BYTES, accept="application/json")
        return reader.with_follow_up(facts, answer.body) if answer.status == 200 and answer.body else facts

    @staticmethod
    def _reader(url: str, host: str) -> PageReader | None:
        if host not in _READER_HOSTS:
            return None
        return next((reader for reader in PAGE_READERS if host in reader.hosts and reader.applies(url)), None)

    async def _soft_404(self, url: str, page: PageSignature) -> str | None:
        """A "not found" or parked page served with 200, confirmed by a nonsense sibling URL."""
        if page.marker is None:
            return None
        probe = sibling_probe_url(url)
        answer = await self._request("GET", remap(probe, self.settings.remap_rules) or probe, probe, read=self._sniff_bytes)
        if answer.status is None or not 200 <= answer.status < 300 or not answer.body:
            return None
        if signature(answer.body).resembles(page):
            return f"soft 404: HTTP 200, but the page says \"{page.marker}\" and a random path on the host gets the same page"
        return None

    def _rule(self, host: str) -> HostRule:
        """The rule for ``host`` (built-in table and the user's rules), looked up once per host."""
        rule = self._rules.get(host)
        if rule is None:
            rule = self._rules[host] = rule_for(host, self.settings.hosts)
        return rule

    def _gate(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(self._rule(host), self.settings.per_host)
        return gate

    async def _fetch(self, url: str, host: str, trace: _Trace) -> _Answer:
        """GET (or with ``method = "head"``: HEAD, then GET when HEAD is refused or the page must be read);
        retry transient failures.

        GET is the default, as in lychee: one round trip per hop where HEAD needs two for every
        failure (some servers answer HEAD wrongly, so a failing HEAD is confirmed with GET) and for
        every HTML page read for soft 404s. Only the first bytes of a body are read, and only when
        a verdict needs them; a large body is not downloaded (its connection is closed instead).
        """
        request = route(url, self.settings.remap_rules)
        if request.remapped:
            self._trusted_hosts.add(_host(request.physical))  # the operator wrote this target
        target = request.physical
        gate = self._gate(host)
        reader = self._reader(url, host)
        answer = _Answer()
        for attempt in range(self.settings.retries + 1):
            if trace.out_of_time(self.settings.total_timeout):
                raise _OutOfTime
            if reader is not None:  # the page is read anyway: one GET instead of HEAD + GET
                answer = await self._request("GET", target, url, gate=gate, trace=trace, read=reader.limit)
            elif self.settings.method == "get":  # one round trip; the body is read only when a verdict needs it
                answer = await self._request("GET", target, url, gate=gate, trace=trace, sniff=self._reads_pages)
            else:
                answer = await self._request("HEAD", target, url, gate=gate, trace=trace)
                if self._needs_get(answer):
                    answer = await self._request("GET", target, url, gate=gate, trace=trace,
                                                 read=self._sniff_bytes if self._reads_pages else 0)
            answer.attempts = attempt + 1
            answer.route = request
            if attempt == self.settings.retries or not self._should_retry(answer):
                break
            delay = self._delay(answer, attempt)
            if answer.retry_after:
                gate.back_off(delay)
            await asyncio.sleep(delay)
        return answer

    @property
    def _sniff_bytes(self) -> int:
        """How much of an HTML page is read: its first bytes, or up to the body cap when its links are wanted."""
        return self.settings.max_body_bytes if self.page_bodies is not None else min(_SNIFF_BYTES, self.settings.max_body_bytes)

    @property
    def _reads_pages(self) -> bool:
        """Whether a 2xx HTML page's body is read at all: for soft 404s, or for ``page_bodies``."""
        return self.settings.soft404 or self.page_bodies is not None

    def _needs_get(self, head: _Answer) -> bool:
        if head.status is None:  # a dropped HEAD may be the server's dislike of HEAD; timeouts are not retried as GET
            return head.failure is not None and head.failure.kind in ("dropped", "other")
        if head.status == 429 or head.retry_after:
            return False  # a host that asked us to wait is not asked again at once, not even with GET
        if not 200 <= head.status < 400:
            return True  # confirm any failure with GET: some servers answer HEAD wrongly
        return self._reads_pages and 200 <= head.status < 300 and is_html(head.content_type)

    def _should_retry(self, answer: _Answer) -> bool:
        if answer.status is None:
            return answer.failure is not None and answer.failure.kind in ("timeout", "connect", "dropped", "dns")
        if answer.retry_after:
            return answer.status in (429, 503) and retry_after_seconds(answer.retry_after) <= self.settings.max_retry_after
        return answer.status in _TRANSIENT_STATUSES

    def _delay(self, answer: _Answer, attempt: int) -> float:
        if answer.retry_after:
            return min(retry_after_seconds(answer.retry_after), self.settings.max_retry_after)
        return self.settings.backoff * (2**attempt) * (0.5 + _JITTER.random())

    async def _request(self, method: str, target: str, logical: str, *, gate: HostGate | None = None,
                       trace: _Trace | None = None, read: int = 0, sniff: bool = False,
                       accept: str | None = None) -> _Answer:
        """One request. A GET reads ``read`` bytes of the body; with ``sniff``, the first bytes of a
        2xx HTML page (for soft 404s) and nothing of any other body. A small unread body that has
        arrived whole is drained, so that its connection goes back to the pool."""
        gate = gate or self._gate(_host(logical))
        async with gate, self._global:
            if trace is not None and trace.admitted is None:
                trace.admitted = time.monotonic()
            try:
                headers = self._headers_for(gate)
                if accept is not None:
                    headers = _with_headers(headers, {"Accept": accept})
                response = await self.transport.send(method, target, headers, self._timeout)
                wanted = _answer_headers(response.headers.raw)
                try:
                    if sniff and 200 <= response.status_code < 300 and is_html(wanted.get(b"content-type")):
                        read = self._sniff_bytes
                    body = await read_prefix(response, read, _drain_to(wanted)) if method == "GET" else b""
                finally:
                    await close(response)
                self.responses_seen += 1
                retry_after = wanted.get(b"retry-after")
                budget_wait = rate_limit_wait(wanted)
                if budget_wait is not None:
                    if response.status_code in (429, 503) and retry_after is None:
                        retry_after = str(math.ceil(budget_wait))
                    elif response.status_code < 400:  # answered, but the host's budget for us is spent: pace ourselves
                        gate.back_off(min(budget_wait, self.settings.max_retry_after))
                return _Answer(status=response.status_code, location=wanted.get(b"location"), retry_after=retry_after,
                               content_type=wanted.get(b"content-type"), body=body)
            except (httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
                return _Answer(failure=classify_failure(exc, _host(logical), self.settings.timeout))

    def _headers_for(self, gate: HostGate) -> dict[str, str]:
        """Request headers, built once per host: converting headers per request is a large share of the CPU cost."""
        if gate.headers is None:
            gate.headers = _with_headers({"User-Agent": self.settings.user_agent}, DEFAULT_HEADERS, gate.rule.headers)
        return gate.headers


def _with_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """Header layers merged; a name in a later layer replaces the same name in an earlier one, whatever its case."""
    merged: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.items():
            for same in [known for known in merged if known.lower() == name.lower()]:
                del merged[same]
            merged[name] = value
    return merged


# ``scheme://host[:port]`` followed by the path, query, fragment or the end: the common case of ``_host``
_PLAIN_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([A-Za-z0-9.-]*)(?::[0-9]*)?(?=[/?#]|$)")


def _host(url: str) -> str:
    """The URL's host name, lowercase ("" when it has none), as ``urlsplit(url).hostname`` says.

    A plain ``scheme://host[:port]`` is read by one regular expression (urlsplit's cache holds 128
    URLs, so every distinct URL costs a full parse); user info, IPv6 literals, percent signs,
    non-ASCII hosts and anything unusual go to ``urlsplit``.
    """
    plain = _PLAIN_AUTHORITY.match(url)
    if plain is not None:
        return plain.group(1).lower()
    return urlsplit(url).hostname or ""


_ANSWER_HEADERS = frozenset({b"location", b"retry-after", b"content-type", b"content-length", b"x-ratelimit-remaining",
                             b"x-ratelimit-reset", b"ratelimit-remaining", b"ratelimit-reset"})
_DRAIN_BYTES = 64 * 1024  # a body up to this size is read to its end: the connection is worth more than the bytes


def _drain_to(headers: dict[bytes, str]) -> int:
    """How much of an unwanted body to read so that its connection can be reused: all of a small one, none of a large one."""
    length = headers.get(b"content-length", "")
    return int(length) if length.isdigit() and int(length) <= _DRAIN_BYTES else 0


def _answer_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The few headers a verdict needs, in one pass (httpx's per-name lookup decodes every header each time)."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        lowered = name.lower()
        if lowered in _ANSWER_HEADERS and lowered not in found:
            found[lowered] = value.decode("latin-1")
    return found


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux, macOS): it halves the loop's share of the CPU per request."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(coro)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code on a loop of its own, even when the caller's thread already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_run, coro).result()


async def check_pages_async(urls: Sequence[str], settings: CheckSettings,
                            on_done: Callable[[Observation], None] | None = None,
                            sink: Callable[[Observation], None] | None = None) -> PageCheckResult:
    return await PageChecker(settings, on_done, sink).run(urls)


def check_pages(urls: Sequence[str], settings: CheckSettings,
                on_done: Callable[[Observation], None] | None = None,
                sink: Callable[[Observation], None] | None = None) -> PageCheckResult:
    """Check page URLs (deduplicated) and return one observation per unique URL.

    ``on_done`` sees each URL as soon as it is checked (progress). With ``sink``, final
    observations are handed to it instead of being returned, so memory stays flat however
    many URLs there are; network failures reach it at the end, after the outage judgement.
    """
    return run_sync(check_pages_async(urls, settings, on_done, sink))
