"""Software Heritage and the Wayback Machine, answered on the web face by logical host.

paperwatch's archive client asks ``https://archive.softwareheritage.org/api/1/...``,
``https://archive.org/wayback/available`` and ``https://web.archive.org/...`` through the same
remap rule as every other link, so these services are served by the web face, dispatched on the
host before the scenario's page lookup. This module holds the dispatch and Software Heritage's
API; ``wayback`` answers the Wayback Machine, ``archive_book`` keeps what clients leave behind.
Shapes follow swh-web's API views and the Internet Archive's documentation (see README).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from aiohttp import web

from .archive_book import SaveRequest
from .archive_world import ARCHIVE_HOSTS, SWH_HOST, SoftwareHeritage, Visit, demangle
from .pages import error_page, html_page
from .ratelimit import Budget
from .respond import json_response
from .wayback import wayback

if TYPE_CHECKING:
    from .state import SimState

API = f"https://{SWH_HOST}/api/1"
HOUR = 3600
SAVE_BY_ID = re.compile(r"^/api/1/origin/save/(?P<id>[0-9]+)/?$")
SAVE = re.compile(r"^/api/1/origin/save/(?P<visit_type>[^/]+)/url/(?P<origin>.+?)/?$")
ORIGIN = re.compile(r"^/api/1/origin/(?P<origin>.+)/(?P<what>visit/latest|get|visits)/?$")
TRUE = ("true", "1", "yes", "on")


def archive_host(url: str) -> str | None:
    """The archive host a logical URL is for, or None for any other site."""
    host = (urlsplit(url).hostname or "").lower()
    return host if host in ARCHIVE_HOSTS else None


def is_save_post(method: str, url: str) -> bool:
    """Whether a request is a Save Code Now submission (counted apart in ``stats()``)."""
    parts = urlsplit(url)
    return method == "POST" and (parts.hostname or "").lower() == SWH_HOST and SAVE.match(parts.path) is not None


async def archive_answer(state: SimState, request: web.Request, url: str) -> web.StreamResponse | None:
    """The archive's answer for ``url``; None for a path no simulated archive serves (the page lookup answers)."""
    parts = urlsplit(url)
    archives = state.world.archives
    service = archives.software_heritage if parts.hostname == SWH_HOST else archives.wayback
    if service.delay:
        await asyncio.sleep(service.delay)
    if service.down:  # an outage answers from the front, before any route or budget
        return web.Response(status=503, text=error_page(503), content_type="text/html", charset="utf-8")
    if parts.hostname == SWH_HOST:
        return software_heritage(state, request, parts)
    return wayback(state.world.archives.wayback, state.archives.cdx_windows, parts)


# --- Software Heritage -------------------------------------------------------------------


def software_heritage(state: SimState, request: web.Request, parts: SplitResult) -> web.Response | None:
    """Route, charge the client's hourly budget (Save Code Now POSTs their own), answer with its headers."""
    if parts.path.rstrip("/") == "/browse/origin/directory":
        return _browse(state, parts)
    route = SAVE_BY_ID.match(parts.path) or SAVE.match(parts.path) or ORIGIN.match(parts.path)
    if route is None:
        return None
    swh = state.world.archives.software_heritage
    client, token = _client(request)
    saving = route.re is SAVE and request.method == "POST"
    windows = state.archives.save_windows if saving else state.archives.api_windows
    limit = swh.save_rate_limit if saving else swh.token_rate_limit if token else swh.rate_limit
    budget = windows.peek(client, limit, HOUR)
    if budget.exhausted:
        wait = max(budget.seconds_left(time.time()), 1)
        response = _error(429, "Throttled", f"Request was throttled. Expected available in {wait} seconds.")
        response.headers["Retry-After"] = str(wait)
    else:
        budget = windows.charge(client, limit, HOUR)
        response = _route(state, swh, request.method, route, parse_qs(parts.query))
    response.headers.update(_rate_headers(budget))
    return response


def _client(request: web.Request) -> tuple[str, bool]:
    """The budget's owner: the Bearer token, else every anonymous caller together (one IP here)."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), True
    return "anonymous", False


def _rate_headers(budget: Budget) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(budget.limit),
        "X-RateLimit-Remaining": str(budget.remaining),
        "X-RateLimit-Reset": str(budget.reset_at),
    }


def _route(
    state: SimState, swh: SoftwareHeritage, method: str, route: re.Match[str], query: dict[str, list[str]]
) -> web.Response:
    if route.re is SAVE and method == "POST":
        return _save(state, swh, route["visit_type"], _origin(route["origin"]))
    if method not in ("GET", "HEAD"):
        return _error(405, "MethodNotAllowed", f'Method "{method}" not allowed.')
    if route.re is SAVE_BY_ID:
        found = state.archives.poll(lambda r: r.id == int(route["id"]))
        if not found:
            return _error(404, "NotFoundExc", f"No save request found for id {route['id']}.")
        return json_response(_request_json(found[0]))
    if route.re is SAVE:
        return _save_status(state, route["visit_type"], _origin(route["origin"]))
    origin = _origin(route["origin"])
    visits = _visits(state, swh, origin)
    if visits is None:
        return _error(404, "NotFoundExc", f"Origin with url {origin} not found!")
    if route["what"] == "get":
        return json_response(_origin_json(origin, visits))
    if route["what"] == "visits":
        return _visit_list(origin, visits, query)
    return _latest(origin, visits, (query.get("require_snapshot") or ["false"])[0].lower() in TRUE)


def _origin(raw: str) -> str:
    """The origin URL as swh-web reads it: percent-decoded, and "https:/x" (a collapsed "//") repaired."""
    return demangle(unquote(raw))


def _visits(state: SimState, swh: SoftwareHeritage, origin: str) -> tuple[Visit, ...] | None:
    """The scenario's visits and those Save Code Now made, oldest first; None when the origin is unknown."""
    listed, saved = swh.visits(origin), state.archives.saved_visits(origin)
    if listed is None and not saved:
        return None
    return tuple(sorted((*(listed or ()), *saved), key=lambda v: v.date))


def _visit_json(origin: str, number: int, visit: Visit) -> dict[str, Any]:
    snapshot = visit.snapshot_of(origin)
    return {
        "origin": origin,
        "visit": number,
        "date": visit.date.isoformat(),
        "status": visit.status,
        "snapshot": snapshot,
        "type": "git",
        "metadata": {},
        "snapshot_url": f"{API}/snapshot/{snapshot}/" if snapshot else None,
        "origin_visit_url": f"{API}/origin/{origin}/visit/{number}/",
    }


def _latest(origin: str, visits: tuple[Visit, ...], require_snapshot: bool) -> web.Response:
    """The newest visit; with require_snapshot, the newest finished one that has a snapshot."""
    numbered = list(enumerate(visits, start=1))
    if require_snapshot:
        numbered = [(n, v) for n, v in numbered if v.snapshot_of(origin) and v.status not in ("created", "ongoing")]
    if not numbered:
        return _error(404, "NotFoundExc", f"No visit for origin with url {origin} found!")
    number, visit = numbered[-1]
    return json_response(_visit_json(origin, number, visit))


def _visit_list(origin: str, visits: tuple[Visit, ...], query: dict[str, list[str]]) -> web.Response:
    """Visits newest first, ``per_page`` at a time below ``last_visit``, with a ``Link: rel="next"``."""
    per_page = min(max(_int(query, "per_page", 10), 1), 1000)
    last_visit = _int(query, "last_visit", len(visits) + 1)
    below = [(n, v) for n, v in reversed(list(enumerate(visits, start=1))) if n < last_visit]
    page = below[:per_page]
    response = json_response([_visit_json(origin, n, v) for n, v in page])
    if len(below) > per_page:
        following = f"{API}/origin/{origin}/visits/?last_visit={page[-1][0]}&per_page={per_page}"
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    value = (query.get(name) or [""])[0]
    return int(value) if value.isdigit() else default


def _origin_json(origin: str, visits: tuple[Visit, ...]) -> dict[str, Any]:
    return {
        "url": origin,
        "origin_visits_url": f"{API}/origin/{origin}/visits/",
        "visit_types": ["git"] if visits else [],
        "has_visits": bool(visits),
    }


def _save(state: SimState, swh: SoftwareHeritage, visit_type: str, origin: str) -> web.Response:
    """swh-web's order: visit type, URL, then the blacklist (logged as rejected, answered 403)."""
    refusal = _check_save(visit_type, origin)
    if refusal is not None:
        return refusal
    accepted = origin not in swh.save_rejected
    request = state.archives.submit(origin, visit_type, accepted, swh.save_progress)
    if not accepted:
        return _error(403, "ForbiddenExc", 'The "save code now" request has been rejected '
                      "because the provided origin url is blacklisted.")
    return json_response(_request_json(request))


def _save_status(state: SimState, visit_type: str, origin: str) -> web.Response:
    refusal = _check_save(visit_type, origin)
    if refusal is not None:
        return refusal
    found = state.archives.poll(lambda r: r.origin == origin and r.visit_type == visit_type)
    if not found:
        return _error(404, "NotFoundExc", f"No save requests found for visit of type {visit_type} "
                      f"on origin with url {origin}.")
    return json_response([_request_json(r) for r in found])


def _check_save(visit_type: str, origin: str) -> web.Response | None:
    if visit_type != "git":
        return _error(400, "BadInputExc", f"Visit of type {visit_type} can not be saved! "
                      "Allowed types are the following: git")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https", "git", "svn", "ssh") or not parts.hostname:
        return _error(400, "BadInputExc", f"The provided origin url ({origin}) is not valid!")
    return None


def _request_json(request: SaveRequest) -> dict[str, Any]:
    """Key order of swh-web's ``SaveOriginRequest.to_dict``; ``snapshot_url`` only with a snapshot, as there."""
    snapshot = request.snapshot
    body: dict[str, Any] = {
        "id": request.id,
        "origin_url": request.origin,
        "visit_type": request.visit_type,
        "save_request_date": request.requested_at.isoformat(),
        "save_request_status": "accepted" if request.accepted else "rejected",
        "save_task_status": request.task_status,
        "visit_status": request.visit_status,
        "visit_date": request.visit_date.isoformat() if request.visit_date else None,
        "loading_task_id": 400_000_000 + request.id if request.accepted else -1,
        "note": None,
        "snapshot_swhid": f"swh:1:snp:{snapshot}" if snapshot else None,
    }
    if snapshot:
        body["snapshot_url"] = f"{API}/snapshot/{snapshot}/"
    body["request_url"] = f"{API}/origin/save/{request.id}/"
    return body


def _browse(state: SimState, parts: SplitResult) -> web.Response:
    """The page a person opens for an origin (the link paperwatch reports): 200 when it has visits."""
    origin = (parse_qs(parts.query).get("origin_url") or [""])[0]
    visits = _visits(state, state.world.archives.software_heritage, origin) if origin else None
    if not visits:
        return web.Response(status=404, text=error_page(404), content_type="text/html", charset="utf-8")
    return web.Response(text=html_page(f"{origin} - Software Heritage"), content_type="text/html", charset="utf-8")


def _error(status: int, exception: str, reason: str) -> web.Response:
    """swh-web's error body."""
    return json_response({"exception": exception, "reason": reason}, status=status)
