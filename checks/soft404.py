"""Soft 404s: pages that answer 200 but say "not found", and parked domains.

A marker alone is not enough (a page may be *about* 404 errors), so the checker also
asks for a random sibling path on the same host: when that nonsense URL gets the same
page back, the host answers everything with it, and the original page is not there.
Pure functions; the checker does the requests.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_TITLE = re.compile(rb"<title[^>]*>(.{0,500}?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")

NOT_FOUND_MARKERS = (
    "404", "not found", "page not found", "page does not exist", "page doesn't exist", "no longer available",
    "could not be found", "couldn't find", "cannot be found", "doesn't exist", "does not exist",
    "there isn't a github pages site here",
)
PARKED_MARKERS = (
    "domain is for sale", "domain may be for sale", "buy this domain", "this domain is parked", "parked free",
    "domain has expired", "domain expired", "sedoparking", "hugedomains", "dan.com", "afternic",
)


@dataclass(frozen=True)
class PageSignature:
    """What we compare between a page and a random sibling."""

    title: str
    text_length: int
    marker: str | None  # the soft-404 or parking phrase found, if any

    def resembles(self, other: "PageSignature") -> bool:
        if self.title != other.title:
            return False
        longest = max(self.text_length, other.text_length, 1)
        return abs(self.text_length - other.text_length) / longest <= 0.1


def signature(body: bytes) -> PageSignature:
    match = _TITLE.search(body)
    title = _SPACE.sub(" ", html.unescape(match.group(1).decode("utf-8", "replace"))).strip().lower() if match else ""
    text = _SPACE.sub(" ", _TAGS.sub(" ", body.decode("utf-8", "replace"))).strip().lower()
    marker = next((m for m in PARKED_MARKERS if m in title or m in text[:4000]), None)
    if marker is None:
        marker = next((m for m in NOT_FOUND_MARKERS if m in title), None)
    return PageSignature(title=title, text_length=len(text), marker=marker)


def sibling_probe_url(url: str) -> str:
    """A path next to ``url`` that cannot exist, to see what the host says for nonsense."""
    parts = urlsplit(url)
    parent = parts.path.rsplit("/", 1)[0] if "/" in parts.path.strip("/") else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{parent}/paperwatch-probe-{secrets.token_hex(8)}", "", ""))


def is_html(content_type: str | None) -> bool:
    return bool(content_type) and ("text/html" in content_type or "xhtml" in content_type)
