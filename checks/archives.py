"""Ask the archives where a link's copy is, and ask Software Heritage to keep one (Save Code Now).

Which archive for which link:

- a repository on a forge (GitHub, GitLab, Bitbucket, Codeberg): Software Heritage's latest visit
  with a snapshot (``origin/<origin>/visit/latest/?require_snapshot=true``); when it has none, the
  Wayback Machine's capture of the repository page;
- anything else (a project page, a dataset or model card): the Wayback Machine.

How the Wayback Machine is asked: its CDX API, for the newest capture whose status was 200
(``cdx/search/cdx?url=U&output=json&limit=-1&filter=statuscode:200``). The alternatives fail
exactly on the links that need them (``bench/wayback_bench.py`` measures all three against the
simulated face's failure modes, 200 dead pages of which 154 have a good capture): the availability
API offers the capture nearest now, which for a page that died is its 404 (47 false "no copy" when
the face behaves; 154 when it answers ``{"archived_snapshots":{}}``, as it often does for pages it
holds; and a rate limit comes inside an HTTP 200); the ``web/<url>`` redirect (lychee's way) leads
to the *newest* capture whatever its status (64 of 200 "copies" were captures of a 404 or a
redirect). Only CDX filters captures by status: 154 right copies, no wrong answer in any mode. Its
price is its per-minute limit: the links past it stay ``unknown`` and are asked next run.

Good citizenship: every answer's ``X-RateLimit-Remaining`` is read, and a service that has spent
its budget for us (or answered 429, or is down: 5xx, no connection, our timeout) is not asked
again in this run; links it would have answered stay ``unknown`` and are asked on a later run.
The caller may share one budget across runs (``acquire``: the flows pass a Prefect global
concurrency limit). An archive never changes what a link's own check found.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from checks.archive_model import ArchiveLookup, ArchivedCopy, ArchiveService, LookupOutcome, SaveRequest
from checks.archive_settings import ArchiveSettings
from checks.remap import RemapRule, remap

# (service, what for: "lookup" | "save", the longest the caller may wait) -> may we send one request?
Acquire = Callable[[ArchiveService, str, float], Awaitable[bool]]

FORGES = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
_REPOSITORY = re.compile(r"^https?://(?:www\.)?(" + "|".join(re.escape(f) for f in FORGES)
                         + r")/([^/?#]+)/([^/?#]+?)(?:\.git)?(?:[/?#].*)?$", re.IGNORECASE)
_NOT_OWNERS = frozenset({"orgs", "topics", "search", "marketplace", "features", "settings", "explore", "users"})
CONCURRENCY = 4  # requests in flight per service: these are small non-profits


def repository_origin(url: str) -> str | None:
    """The Software Heritage origin of a link into a forge repository (``https://github.com/o/r``), else None.

    Software Heritage matches origins exactly, so the form is fixed: https, lowercase forge, no
    ``.git``, no trailing slash, no path inside the repository.
    """
    found = _REPOSITORY.match(url)
    if found is None or found.group(2).lower() in _NOT_OWNERS:
        return None
    return f"https://{found.group(1).lower()}/{found.group(2)}/{found.group(3)}"


def browse_url(settings: ArchiveSettings, origin: str) -> str:
    """Where a person browses ``origin``'s latest visit on Software Heritage."""
    root = settings.software_heritage_url
    root = root[: -len("/api/1")] if root.endswith("/api/1") else root
    return f"{root}/browse/origin/directory/?origin_url={quote(origin, safe='')}"


def wayback_time(timestamp: str) -> str:
    """``20231102120000`` as UTC ISO-8601 (``2023-11-02T12:00:00+00:00``)."""
    digits = (timestamp + "00000000000000")[:14]
    moment = datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return moment.isoformat()


@dataclass(frozen=True)
class _Said:
    """One archive's answer about one link: a copy, none, or why it could not be asked."""

    copy: ArchivedCopy | None = None
    failure: str | None = None  # None: the archive answered
    visit_at: str | None = None  # Software Heritage: the latest visit's date

    @property
    def none(self) -> bool:
        return self.copy is None and self.failure is None


class _ServiceStopped(Exception):
    """This service is not asked again in this run (rate limit, outage, shared budget spent)."""


class ArchiveClient:
    """One run's conversation with the archives: one HTTP client, each service's budget and health."""

    def __init__(self, settings: ArchiveSettings, remap_rules: tuple[RemapRule, ...] = (), *,
                 user_agent: str = "paperwatch", acquire: Acquire | None = None, token: str | None = None,
                 deadline: float | None = None) -> None:
        self.settings = settings
        self.remap_rules = remap_rules
        self.acquire = acquire
        self.deadline = deadline if deadline is not None else time.monotonic() + settings.time_box
        self._token = token
        self._stopped: dict[tuple[ArchiveService, str], str] = {}
        self._gates = {service: asyncio.Semaphore(CONCURRENCY) for service in ArchiveService}
        self._client = httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False, trust_env=False,
                                         headers={"User-Agent": user_agent, "Accept": "application/json"})
        self.requests = 0

    async def __aenter__(self) -> "ArchiveClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    # --- one request, with the budget and the service's health -----------------------------------

    async def _get(self, service: ArchiveService, url: str, *, purpose: str = "lookup", method: str = "GET",
                   params: dict[str, str] | None = None) -> httpx.Response:
        title = service.title
        async with self._gates[service]:
            stopped = self._stopped.get((service, purpose))  # asked again after the wait: another request may have stopped it
            if stopped:
                raise _ServiceStopped(stopped)
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _ServiceStopped("the run's time for the archives was up: asked on a later run")
            if self.acquire is not None and not await self.acquire(service, purpose, left):
                self._stop(service, purpose, f"the budget shared by every run for {title} is spent: asked on a later run")
            headers = {"Authorization": f"Bearer {self._token}"} if self._token and service is \
                ArchiveService.SOFTWARE_HERITAGE else None
            self.requests += 1
            try:
                response = await self._client.request(method, remap(url, self.remap_rules) or url, params=params,
                                                       headers=headers, timeout=min(self.settings.timeout, left))
            except httpx.TimeoutException:
                self._stop(service, purpose, f"{title} did not answer within {self.settings.timeout:g} s")
            except httpx.HTTPError as exc:
                self._stop(service, purpose, f"{title} could not be reached ({type(exc).__name__})")
        self._read_budget(service, purpose, response)
        return response

    def _stop(self, service: ArchiveService, purpose: str, reason: str) -> Any:
        self._stopped[(service, purpose)] = reason
        if purpose == "lookup":  # a service that is down or out of budget is not asked to save either
            self._stopped.setdefault((service, "save"), reason)
        raise _ServiceStopped(reason)

    def _read_budget(self, service: ArchiveService, purpose: str, response: httpx.Response) -> None:
        """A 429 or 5xx stops the service for this run at once; a spent ``X-RateLimit-Remaining`` after this answer."""
        title = service.title
        if response.status_code == 429:
            wait = response.headers.get("Retry-After")
            self._stop(service, purpose, f"{title} asked us to slow down (HTTP 429"
                       + (f", retry after {wait} s" if wait else "") + "): asked on a later run")
        if response.status_code >= 500:
            self._stop(service, purpose, f"{title} is failing (HTTP {response.status_code}): asked on a later run")
        if response.headers.get("X-RateLimit-Remaining", "").strip() == "0":
            reset = response.headers.get("X-RateLimit-Reset", "")
            until = (f" until {datetime.fromtimestamp(int(reset), timezone.utc):%H:%M} UTC" if reset.isdigit() else "")
            self._stopped.setdefault((service, purpose),
                                     f"{title}'s rate limit for us is used up{until}: asked on a later run")

    # --- the two archives -------------------------------------------------------------------------

    async def software_heritage(self, origin: str) -> _Said:
        """The latest visit of ``origin`` with a snapshot."""
        url = f"{self.settings.software_heritage_url}/origin/{origin}/visit/latest/"
        try:
            response = await self._get(ArchiveService.SOFTWARE_HERITAGE, url, params={"require_snapshot": "true"})
        except _ServiceStopped as stop:
            return _Said(failure=str(stop))
        if response.status_code == 404:
            return _Said()
        visit = _json(response)
        date = visit.get("date") if response.status_code == 200 and isinstance(visit, dict) else None
        if not isinstance(date, str) or not date:
            return _Said(failure=f"Software Heritage answered HTTP {response.status_code} without a visit date")
        browse = browse_url(self.settings, origin)
        return _Said(copy=ArchivedCopy(ArchiveService.SOFTWARE_HERITAGE, browse, date), visit_at=date)

    async def wayback(self, url: str) -> _Said:
        """The newest capture of ``url`` whose status was 200, from the CDX API."""
        params = {"url": url, "output": "json", "limit": "-1", "filter": "statuscode:200", "fl": "timestamp,original"}
        try:
            response = await self._get(ArchiveService.WAYBACK, f"{self.settings.wayback_url}/cdx/search/cdx", params=params)
        except _ServiceStopped as stop:
            return _Said(failure=str(stop))
        rows = _json(response)
        if response.status_code != 200 or not isinstance(rows, list):
            return _Said(failure=f"the Wayback Machine answered HTTP {response.status_code} without a capture list")
        captures = [row for row in rows[1:] if isinstance(row, list) and len(row) >= 2 and str(row[0]).isdigit()]
        if not captures:
            return _Said()
        timestamp, original = str(captures[-1][0]), str(captures[-1][1])
        copy_url = f"{self.settings.wayback_url}/web/{timestamp}/{original}"
        return _Said(copy=ArchivedCopy(ArchiveService.WAYBACK, copy_url, wayback_time(timestamp)))

    async def lookup(self, url: str, *, live: bool = False) -> ArchiveLookup:
        """Where ``url``'s copy is: Software Heritage first for a repository, then the Wayback Machine.

        For a ``live`` repository only Software Heritage is asked: its latest visit is what Save
        Code Now decides on, and a copy is not what anyone needs yet.
        """
        now = datetime.now(timezone.utc).isoformat()
        said: list[tuple[str, _Said]] = []
        asked: list[ArchiveService] = []
        origin = repository_origin(url)
        if origin is not None:
            swh = await self.software_heritage(origin)
            asked.append(ArchiveService.SOFTWARE_HERITAGE)
            if swh.copy is not None:
                return ArchiveLookup(url, LookupOutcome.FOUND, swh.copy, "", now, swh.visit_at, tuple(asked))
            said.append(("Software Heritage has no visit of " + origin, swh))
        if not (live and origin is not None):
            page = await self.wayback(url)
            asked.append(ArchiveService.WAYBACK)
            if page.copy is not None:
                return ArchiveLookup(url, LookupOutcome.FOUND, page.copy, "", now, None, tuple(asked))
            said.append(("the Wayback Machine has no capture answering 200", page))
        failures = [answer.failure for _, answer in said if answer.failure]
        if failures:
            return ArchiveLookup(url, LookupOutcome.UNKNOWN, None, "; ".join(failures), now, None, tuple(asked))
        return ArchiveLookup(url, LookupOutcome.NONE, None, "; ".join(words for words, _ in said), now, None, tuple(asked))

    # --- Save Code Now ----------------------------------------------------------------------------

    def _save_url(self, origin: str) -> str:
        return f"{self.settings.software_heritage_url}/origin/save/git/url/{origin}/"

    async def save(self, url: str, origin: str) -> SaveRequest | None:
        """Ask Software Heritage to archive ``origin`` now; None when it could not be asked (asked on a later run)."""
        try:
            response = await self._get(ArchiveService.SOFTWARE_HERITAGE, self._save_url(origin), purpose="save",
                                       method="POST")
        except _ServiceStopped:
            return None
        now = datetime.now(timezone.utc).isoformat()
        if response.status_code in (400, 403):  # a URL it refuses (bad, or blacklisted): not asked again
            return SaveRequest(url, origin, None, now, "rejected", "not created", polled_at=now)
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            return None
        return _save_request(url, origin, data, now)

    async def poll(self, request: SaveRequest) -> SaveRequest:
        """The request as Software Heritage describes it now (unchanged when it cannot be asked)."""
        try:
            response = await self._get(ArchiveService.SOFTWARE_HERITAGE, self._save_url(request.origin), purpose="save")
        except _ServiceStopped:
            return request
        now = datetime.now(timezone.utc).isoformat()
        items = _json(response)
        if response.status_code != 200 or not isinstance(items, list):
            return replace(request, polled_at=now)
        ours = next((item for item in items if isinstance(item, dict) and item.get("id") == request.request_id), None)
        return _save_request(request.url, request.origin, ours, now) if ours else replace(request, polled_at=now)


def _save_request(url: str, origin: str, data: dict[str, Any], now: str) -> SaveRequest:
    request_id = data.get("id")
    return SaveRequest(url=url, origin=origin, request_id=request_id if isinstance(request_id, int) else None,
                       requested_at=str(data.get("save_request_date") or now),
                       request_status=str(data.get("save_request_status") or "pending"),
                       task_status=str(data.get("save_task_status") or "not created"),
                       visit_date=data.get("visit_date") if isinstance(data.get("visit_date"), str) else None,
                       polled_at=now)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


async def _within(deadline: float, jobs: Iterable[Awaitable[Any]]) -> list[Any]:
    """The results of the jobs that finish before ``deadline`` (monotonic); the rest are cancelled."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return [task.result() for task in tasks if task in done and not task.cancelled() and task.exception() is None]


@dataclass(frozen=True)
class Rescue:
    """What one run learnt from the archives."""

    lookups: tuple[ArchiveLookup, ...] = ()
    saves: tuple[SaveRequest, ...] = ()  # new requests and polled ones
    requests: int = 0  # HTTP requests sent to the archives
    notes: tuple[str, ...] = ()


async def rescue(failing: Sequence[str], settings: ArchiveSettings, remap_rules: tuple[RemapRule, ...] = (), *,
                 live: Sequence[str] = (), live_due: Sequence[str] = (), known: Mapping[str, ArchiveLookup] | None = None,
                 requests: Mapping[str, SaveRequest] | None = None, user_agent: str = "paperwatch",
                 acquire: Acquire | None = None, token: str | None = None) -> Rescue:
    """One run's work with the archives, within ``settings.time_box`` seconds, most needed first:

    1. look up the ``failing`` links (those whose answer is due);
    2. with ``save_code_now``: the latest visit of the ``live_due`` repositories, a poll of every open
       request in ``requests``, then Save Code Now for the ``live`` repositories whose latest visit
       (this run's lookup, else the ``known`` one) is missing or too old, at most ``max_saves_per_run``.
    """
    deadline = time.monotonic() + settings.time_box
    known, requests = known or {}, requests or {}
    async with ArchiveClient(settings, remap_rules, user_agent=user_agent, acquire=acquire, token=token,
                             deadline=deadline) as client:
        lookups = await _within(deadline, (client.lookup(url) for url in failing))
        saves: list[SaveRequest] = []
        if settings.save_code_now:
            fresh = await _within(deadline, (client.lookup(url, live=True) for url in live_due))
            lookups += fresh
            saves = await _within(deadline, (client.poll(r) for r in requests.values() if r.open))
            latest = {**known, **{lookup.url: lookup for lookup in fresh}}
            current = {**requests, **{request.url: request for request in saves}}
            now = datetime.now(timezone.utc)
            candidates = [(url, origin) for url in live if (origin := repository_origin(url)) is not None
                          and needs_saving(latest.get(url), current.get(url), settings, now)]
            for url, origin in candidates[: settings.max_saves_per_run]:  # one at a time: its budget is a few an hour
                saves += [request for request in await _within(deadline, [client.save(url, origin)]) if request is not None]
        notes = tuple(dict.fromkeys(client._stopped.values()))
        return Rescue(tuple(lookups), tuple(saves), client.requests, notes)


def needs_saving(lookup: ArchiveLookup | None, request: SaveRequest | None, settings: ArchiveSettings,
                 now: datetime) -> bool:
    """A live repository is submitted to Save Code Now when its latest visit is missing or older than
    ``save_after_days``, unless a request for it is still open or was made since that age."""
    if lookup is None or lookup.outcome is LookupOutcome.UNKNOWN:
        return False  # not known yet: the lookup comes first
    if request is not None:
        if request.open or request.request_status == "rejected":
            return False
        if (now - _moment(request.requested_at)).days < settings.save_after_days:
            return False
    if lookup.swh_visit_at is None:
        return True
    return (now - _moment(lookup.swh_visit_at)).days >= settings.save_after_days


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
