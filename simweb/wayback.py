"""The Wayback Machine on the web face: the availability API, the CDX server and replay URLs.

Each of the three ways to ask has the trait a checker must survive: availability often answers
``{"archived_snapshots":{}}`` for pages it holds and has been seen to answer a rate limit inside
an HTTP 200; ``web/<url>`` redirects to the newest capture whatever its status (often the
capture of a 404 page); only CDX filters captures by status, and it is rate-limited per minute.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from email.utils import format_datetime
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote

from aiohttp import web

from .archive_world import Found, Wayback, demangle, parse_stamp, surt
from .pages import error_page, html_page
from .ratelimit import Windows
from .respond import json_response

REPLAY_ROOT = "https://web.archive.org/web"
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
MINUTE = 60
BAD_QUERY = "org.archive.wayback.exception.BadQueryException"
REPLAY = re.compile(r"^(?P<stamp>[0-9]{1,14})(?:[a-z]{2}_)?/(?P<url>.+)$")  # 20231102120000[id_]/URL
ENCODED = re.compile(r"^[a-z]+%3A", re.IGNORECASE)  # https%3A%2F%2F...


def wayback(wb: Wayback, cdx_windows: Windows, parts: SplitResult) -> web.Response | None:
    """The answer for a Wayback URL; None for a path not simulated here."""
    path = parts.path.rstrip("/")
    if parts.hostname == "archive.org" and path == "/wayback/available":
        return _available(wb, _query(parts.query))
    if parts.hostname != "web.archive.org":
        return None
    if path == "/cdx/search/cdx":
        return _cdx(wb, cdx_windows, _query(parts.query))
    if parts.path.startswith("/web/"):
        rest = parts.path[len("/web/"):] + (f"?{parts.query}" if parts.query else "")
        return _replay(wb, rest)
    return None


def _query(text: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


def _first(params: dict[str, list[str]], name: str) -> str:
    return (params.get(name) or [""])[0]


def _html(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text, headers=headers, content_type="text/html", charset="utf-8")


def _closest(found: tuple[Found, ...], stamp: str) -> Found:
    """The capture nearest ``stamp`` (ties: the later one); the newest without a usable stamp."""
    try:
        target = parse_stamp(stamp) if stamp.isdigit() else None
    except ValueError:
        target = None
    if target is None:
        return found[-1]
    return min(reversed(found), key=lambda f: abs((f.capture.moment - target).total_seconds()))


# --- availability ------------------------------------------------------------------------


def _available(wb: Wayback, params: dict[str, list[str]]) -> web.Response:
    """``{"url", "archived_snapshots": {"closest": ...}}``; the timestamp is echoed when given."""
    if wb.availability == "rate-limited":
        return _html(200, error_page(429))
    url, stamp = _first(params, "url"), _first(params, "timestamp")
    body: dict[str, Any] = {"url": url, "archived_snapshots": {}}
    found = wb.find(url) if url and wb.availability == "normal" else ()
    if found:
        best = _closest(found, stamp)
        body["archived_snapshots"] = {"closest": {
            "status": str(best.capture.status),
            "available": True,
            "url": f"http://web.archive.org/web/{best.capture.stamp}/{best.original}",
            "timestamp": best.capture.stamp,
        }}
    if stamp:
        body["timestamp"] = stamp
    return json_response(body)


# --- CDX ---------------------------------------------------------------------------------


def _cdx(wb: Wayback, windows: Windows, params: dict[str, list[str]]) -> web.Response:
    """Captures oldest first, filtered, then cut by ``limit`` (negative: the last N), as the CDX server does."""
    if wb.cdx_rate_limit:
        budget = windows.peek("anonymous", wb.cdx_rate_limit, MINUTE)
        if budget.exhausted:
            wait = max(budget.seconds_left(time.time()), 1)
            return _html(429, error_page(429), {"Retry-After": str(wait)})
        windows.charge("anonymous", wb.cdx_rate_limit, MINUTE)
    url = _first(params, "url")
    fields = tuple(f for f in _first(params, "fl").split(",") if f) or CDX_FIELDS
    unknown = [f for f in fields if f not in CDX_FIELDS]
    if not url or unknown:
        problem = f"Unknown field: {unknown[0]}" if unknown else "Request must include url"
        return web.Response(status=400, text=f"{BAD_QUERY}: {problem}\n")
    rows = [_row(found) for found in wb.find(url)]
    for spec in params.get("filter", []):
        try:
            rows = _filtered(rows, spec)
        except re.error:
            return web.Response(status=400, text=f"{BAD_QUERY}: bad filter {spec}\n")
    rows = _limited(rows, _first(params, "limit"))
    table = [[row[f] for f in fields] for row in rows]
    if _first(params, "output") == "json":
        return json_response([list(fields), *table] if table else [])
    return web.Response(text="".join(" ".join(line) + "\n" for line in table), content_type="text/plain")


def _row(found: Found) -> dict[str, str]:
    capture, original = found.capture, found.original
    seed = hashlib.sha1(f"{original}\0{capture.stamp}".encode()).digest()
    return {
        "urlkey": surt(original),
        "timestamp": capture.stamp,
        "original": original,
        "mimetype": capture.mimetype,
        "statuscode": str(capture.status),
        "digest": base64.b32encode(seed).decode(),
        "length": str(500 + int.from_bytes(seed[:4], "big") % 50_000),
    }


def _filtered(rows: list[dict[str, str]], spec: str) -> list[dict[str, str]]:
    """``[!]field:regex``, the regex matching the whole value; an unknown field keeps nothing (or all, negated)."""
    negate = spec.startswith("!")
    field, _, pattern = spec.removeprefix("!").partition(":")
    regex = re.compile(pattern)
    return [row for row in rows if (regex.fullmatch(row.get(field, "")) is not None) != negate]


def _limited(rows: list[dict[str, str]], limit: str) -> list[dict[str, str]]:
    try:
        count = int(limit)
    except ValueError:
        return rows
    if count > 0:
        return rows[:count]
    return rows[count:] if count < 0 else rows


# --- replay ------------------------------------------------------------------------------


def _replay(wb: Wayback, rest: str) -> web.Response:
    """``web/<url>``: 302 to the newest capture; ``web/<ts>/<url>``: that capture, else 302 to the closest."""
    matched = REPLAY.match(rest)
    stamp, target = (matched["stamp"], matched["url"]) if matched else ("", rest)
    target = demangle(unquote(target) if ENCODED.match(target) else target)
    found = wb.find(target)
    if not found:
        return _html(404, html_page("Wayback Machine", "Hrm. The Wayback Machine has not archived that URL."))
    exact = next((f for f in found if f.capture.stamp == stamp), None)
    if exact is None:
        best = _closest(found, stamp)
        location = f"{REPLAY_ROOT}/{best.capture.stamp}/{best.original}"
        return _html(302, html_page("302 Found"), {"Location": location})
    moment = format_datetime(exact.capture.moment, usegmt=True)
    title = f"{exact.original} | Wayback Machine capture {exact.capture.stamp}"
    return _html(200, html_page(title), {"Memento-Datetime": moment})
