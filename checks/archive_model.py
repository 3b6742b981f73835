"""What the archives hold of a link: the words and records of rescue, as plain data.

A dead or failing link's reader needs to know where its code or page can still be found. Two
archives answer: Software Heritage (source code, by repository origin) and the Internet
Archive's Wayback Machine (web pages, dataset and model cards, repository pages). One lookup
per link asks the archives that fit it (``checks.archives``) and ends in one of three outcomes:

- ``found``: a copy, with its service, the date of the visit or capture, and a link a person can open;
- ``none``: every archive asked answered, and none holds a copy ("this code may be lost");
- ``unknown``: an archive could not be asked (rate limit, outage, our time box): we know nothing, and
  the next run asks again. An archive's failure never changes what a link's own check found.

A Save Code Now request (Software Heritage archiving a live repository at our request) is a
``SaveRequest``, followed across runs until its visit succeeds or fails.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class ArchiveService(StrEnum):
    SOFTWARE_HERITAGE = "software-heritage"
    WAYBACK = "wayback"

    @property
    def title(self) -> str:
        """The service's name as people write it."""
        return "Software Heritage" if self is ArchiveService.SOFTWARE_HERITAGE else "Wayback Machine"


class LookupOutcome(StrEnum):
    FOUND = "found"
    NONE = "none"  # every archive asked said it holds no copy
    UNKNOWN = "unknown"  # not every archive could be asked, and none of those asked holds a copy


@dataclass(frozen=True)
class ArchivedCopy:
    """One copy of a link in an archive."""

    service: ArchiveService
    url: str  # where a person opens it (a Software Heritage browse link, a Wayback capture)
    captured_at: str  # UTC ISO-8601 of the visit or capture

    @property
    def day(self) -> str:
        return self.captured_at[:10]

    def sentence(self) -> str:
        """``archived copy: Software Heritage, visited 2024-05-01`` (``Wayback Machine, captured ...``)."""
        verb = "visited" if self.service is ArchiveService.SOFTWARE_HERITAGE else "captured"
        return f"archived copy: {self.service.title}, {verb} {self.day}"

    def to_dict(self) -> dict[str, str]:
        return {"service": self.service.value, "url": self.url, "captured_at": self.captured_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ArchivedCopy":
        return cls(ArchiveService(data["service"]), str(data["url"]), str(data["captured_at"]))


NO_COPY_SENTENCE = "no archived copy found: this code may be lost"
NO_PAGE_COPY_SENTENCE = "no archived copy found: this page may be lost"


@dataclass(frozen=True)
class ArchiveLookup:
    """What the archives said about one link (its normalized URL) when last asked."""

    url: str
    outcome: LookupOutcome
    copy: ArchivedCopy | None = None
    reason: str = ""  # what each archive asked said, or why one could not be asked
    checked_at: str = ""  # UTC ISO-8601
    # the latest Software Heritage visit of a repository, found or not: what Save Code Now decides on
    swh_visit_at: str | None = None
    services: tuple[ArchiveService, ...] = ()  # the archives asked (a live repository's lookup asks Software Heritage only)

    @property
    def complete(self) -> bool:
        """Whether it says all a failing link's reader needs: a copy, or every archive that fits has been asked."""
        return self.outcome is LookupOutcome.FOUND or ArchiveService.WAYBACK in self.services

    def sentence(self, code: bool = True) -> str:
        """What a reader is told: the copy, that there is none, or that the archives could not be asked."""
        if self.outcome is LookupOutcome.FOUND and self.copy is not None:
            return self.copy.sentence()
        if self.outcome is LookupOutcome.NONE:
            return NO_COPY_SENTENCE if code else NO_PAGE_COPY_SENTENCE
        return f"archives not asked yet: {self.reason}" if self.reason else "archives not asked yet"

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "outcome": self.outcome.value, "copy": self.copy.to_dict() if self.copy else None,
                "reason": self.reason, "checked_at": self.checked_at, "swh_visit_at": self.swh_visit_at,
                "services": [service.value for service in self.services]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ArchiveLookup":
        copy = data.get("copy")
        return cls(url=str(data["url"]), outcome=LookupOutcome(data["outcome"]),
                   copy=ArchivedCopy.from_dict(copy) if copy else None, reason=str(data.get("reason") or ""),
                   checked_at=str(data.get("checked_at") or ""), swh_visit_at=data.get("swh_visit_at"),
                   services=tuple(ArchiveService(s) for s in data.get("services") or ()))


@dataclass(frozen=True)
class SaveRequest:
    """One Save Code Now request, as Software Heritage last described it."""

    url: str  # the link (normalized) whose repository was submitted
    origin: str  # the origin URL submitted (no ``.git``, no trailing slash)
    request_id: int | None
    requested_at: str  # UTC ISO-8601
    request_status: str  # accepted | pending | rejected
    task_status: str  # not created | not yet scheduled | scheduled | succeeded | failed
    visit_date: str | None = None
    polled_at: str | None = None

    @property
    def open(self) -> bool:
        """Still worth polling: accepted or pending, and its visit has not ended."""
        return self.request_status in ("accepted", "pending") and self.task_status not in ("succeeded", "failed")

    def sentence(self) -> str:
        when = self.requested_at[:10]
        if self.request_status == "rejected":
            return f"Save Code Now requested {when}: rejected by Software Heritage"
        if self.task_status == "succeeded":
            return f"Save Code Now requested {when}: archived {(self.visit_date or '')[:10]}".rstrip()
        if self.task_status == "failed":
            return f"Save Code Now requested {when}: the visit failed"
        return f"Save Code Now requested {when}: {self.task_status or self.request_status}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SaveRequest":
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__})  # type: ignore[arg-type]
