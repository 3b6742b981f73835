"""The archives of one scenario phase: Software Heritage's origins and visits, the Wayback Machine's captures.

Field names are the YAML keys of the ``archives:`` section and type hints are the validation
rules (see ``schema``). Pure data plus lookups; ``archives`` and ``wayback`` answer HTTP, and
the requests clients make (Save Code Now) live in ``archives.ArchiveBook``, not here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import Literal, Mapping
from urllib.parse import urlsplit

SWH_HOST = "archive.softwareheritage.org"
WAYBACK_HOSTS = ("web.archive.org", "archive.org")  # CDX and replay; the availability API
ARCHIVE_HOSTS = (SWH_HOST, *WAYBACK_HOSTS)  # answered by simweb.archives before the page lookup
VisitStatus = Literal["created", "ongoing", "full", "partial", "not_found", "failed"]
TaskStatus = Literal["not yet scheduled", "scheduled", "running", "succeeded", "failed"]
TERMINAL_TASK = ("succeeded", "failed")
WITH_SNAPSHOT = ("full", "partial")  # visits that produce a snapshot unless the scenario says otherwise
HEX40 = re.compile(r"^[0-9a-f]{40}$")
TIMESTAMP = re.compile(r"^[0-9]{14}$")
MANGLED = re.compile(r"^([a-z][a-z0-9+.-]*):/(?!/)", re.IGNORECASE)


def demangle(url: str) -> str:
    """Repair ``https:/x``, a URL inside a path whose ``//`` a client or proxy collapsed, as swh-web does."""
    return MANGLED.sub(r"\1://", url)


def derived_snapshot(origin: str, date: datetime) -> str:
    """A snapshot id that stays the same for the same origin and visit date, across runs and phases."""
    return hashlib.sha1(f"snapshot\0{origin}\0{date.isoformat()}".encode()).hexdigest()


# --- Software Heritage -------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One visit of an origin. Full and partial visits get a derived snapshot; others have none unless given."""

    date: datetime
    status: VisitStatus = "full"
    snapshot: str | None = None  # 40 hex chars

    def __post_init__(self) -> None:
        if self.snapshot is not None and not HEX40.match(self.snapshot):
            raise ValueError(f"snapshot: {self.snapshot!r} is not 40 lowercase hex characters")

    def snapshot_of(self, origin: str) -> str | None:
        if self.snapshot is not None:
            return self.snapshot
        return derived_snapshot(origin, self.date) if self.status in WITH_SNAPSHOT else None


@dataclass(frozen=True)
class SoftwareHeritage:
    origins: Mapping[str, tuple[Visit, ...]] = field(default_factory=dict)  # exact origin URL -> visits
    rate_limit: int = 120  # requests per hour, anonymous (all anonymous callers share it)
    token_rate_limit: int = 1200  # requests per hour per Bearer token
    save_rate_limit: int = 10  # Save Code Now POSTs per hour per client
    save_progress: tuple[TaskStatus, ...] = ("not yet scheduled", "scheduled", "succeeded")
    save_rejected: tuple[str, ...] = ()  # origins Software Heritage refuses to save (blacklisted)
    down: bool = False
    delay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rate_limit", "token_rate_limit", "save_rate_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: {getattr(self, name)} is not a budget (at least 1)")
        if not self.save_progress:
            raise ValueError("save_progress: at least one task status is needed")
        if any(status in TERMINAL_TASK for status in self.save_progress[:-1]):
            raise ValueError("save_progress: succeeded/failed can only be the last step")
        if self.delay < 0:
            raise ValueError(f"delay: {self.delay} is negative")

    def visits(self, origin: str) -> tuple[Visit, ...] | None:
        """The scenario's visits of an origin, oldest first; None when the origin is unknown."""
        found = self.origins.get(origin)
        return None if found is None else tuple(sorted(found, key=lambda v: v.date))


# --- Wayback Machine ---------------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    timestamp: str | int  # YYYYMMDDhhmmss (YAML reads it unquoted as a number)
    status: int = 200  # the status the original answered when captured
    mimetype: str = "text/html"

    def __post_init__(self) -> None:
        if not TIMESTAMP.match(str(self.timestamp)):
            raise ValueError(f"timestamp: {self.timestamp!r} is not YYYYMMDDhhmmss")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status: {self.status} is not an HTTP status")

    @property
    def stamp(self) -> str:
        return str(self.timestamp)

    @property
    def moment(self) -> datetime:
        return parse_stamp(self.stamp)


@dataclass(frozen=True)
class Found:
    """A capture together with the URL it was captured under (the CDX ``original``)."""

    original: str
    capture: Capture


@dataclass(frozen=True)
class Wayback:
    captures: Mapping[str, tuple[Capture, ...]] = field(default_factory=dict)  # URL -> its captures
    availability: Literal["normal", "empty", "rate-limited"] = "normal"
    cdx_rate_limit: int = 0  # CDX requests per minute per client; 0: unlimited
    down: bool = False
    delay: float = 0.0

    def __post_init__(self) -> None:
        for url in self.captures:
            if not urlsplit(url).netloc:
                raise ValueError(f"captures[{url!r}]: not an absolute URL")
        if self.cdx_rate_limit < 0:
            raise ValueError(f"cdx_rate_limit: {self.cdx_rate_limit} is negative")
        if self.delay < 0:
            raise ValueError(f"delay: {self.delay} is negative")

    @cached_property
    def _by_key(self) -> dict[tuple[str, str, str], tuple[Found, ...]]:
        grouped: dict[tuple[str, str, str], list[Found]] = {}
        for url, captures in self.captures.items():
            grouped.setdefault(capture_key(url), []).extend(Found(url, c) for c in captures)
        return {key: tuple(sorted(found, key=lambda f: f.capture.stamp)) for key, found in grouped.items()}

    def find(self, url: str) -> tuple[Found, ...]:
        """Every capture of ``url``, oldest first, matched loosely (see ``capture_key``)."""
        return self._by_key.get(capture_key(url), ())


def capture_key(url: str) -> tuple[str, str, str]:
    """How loosely the Wayback Machine matches a URL, as its SURT canonicalisation does in part.

    The scheme, host case, a leading ``www.``, a default port and a trailing slash do not count;
    the path's case and the query do. A URL without a scheme is read as http.
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.netloc.lower().rsplit("@", 1)[-1]
    host = host.removesuffix(":80") if parts.scheme == "http" else host.removesuffix(":443")
    return host.removeprefix("www."), parts.path.rstrip("/"), parts.query


def surt(url: str) -> str:
    """The CDX ``urlkey`` of a URL: ``org,example,lab)/project``."""
    host, path, query = capture_key(url)
    return ",".join(reversed(host.split("."))) + ")" + (path.lower() or "/") + (f"?{query.lower()}" if query else "")


def parse_stamp(stamp: str) -> datetime:
    """A Wayback timestamp, possibly partial (``2024`` is 2024-01-01 00:00:00), as an aware datetime."""
    digits = (stamp + "00000000000000")[:14]
    month, day = max(int(digits[4:6]), 1), max(int(digits[6:8]), 1)
    padded = f"{digits[:4]}{month:02d}{day:02d}{digits[8:]}"
    return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


# --- both --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archives:
    software_heritage: SoftwareHeritage = field(default_factory=SoftwareHeritage)
    wayback: Wayback = field(default_factory=Wayback)
