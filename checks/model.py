"""The vocabulary every part of paperwatch speaks: papers, links, states, observations.

Plain frozen dataclasses, so that extraction, checking, storage and reporting can be
deepened independently and pass data across Prefect task boundaries unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Mapping

from checks.facts import Facts, facts_from_dict, facts_to_dict


class State(str, Enum):
    """What one check found about one link, right now.

    Only ``dead`` is evidence that an artifact is gone. ``blocked``, ``error`` and
    ``unknown`` mean the answer was refused, failed, or never obtained.
    """

    ALIVE = "alive"  # answered, and the artifact is there
    MOVED = "moved"  # alive at a new permanent location (suggested_url)
    DEAD = "dead"  # the server itself said it is gone: 404, 410, 451, repo not found
    BLOCKED = "blocked"  # the site refused us (401, 403, 999): not evidence of death
    ERROR = "error"  # 5xx, timeout, connection or TLS failure: possibly transient
    SKIPPED = "skipped"  # excluded, private address, unsupported scheme: not requested
    UNKNOWN = "unknown"  # we could not check: offline, rate-limited (429), our own budget exhausted

    def __str__(self) -> str:
        return self.value

    @property
    def available(self) -> bool:
        """Whether a reader can get the artifact now: it answered (``alive``), perhaps at a new address (``moved``)."""
        return self in _AVAILABLE

    @property
    def severity(self) -> int:
        """How bad the state is for a reader: 0 (dead) first, then error, blocked, unknown, skipped, moved, alive (6)."""
        return _SEVERITY[self]


_AVAILABLE = frozenset({State.ALIVE, State.MOVED})
_SEVERITY = {state: rank for rank, state in enumerate(
    (State.DEAD, State.ERROR, State.BLOCKED, State.UNKNOWN, State.SKIPPED, State.MOVED, State.ALIVE))}


class LinkKind(str, Enum):
    GITHUB_REPO = "github-repo"
    GITHUB_PATH = "github-path"
    GITHUB_OWNER = "github-owner"
    GITHUB_PAGES = "github-pages"
    GIST = "gist"
    HF_MODEL = "hf-model"
    HF_DATASET = "hf-dataset"
    HF_SPACE = "hf-space"
    HF_PAPER = "hf-paper"
    HF_COLLECTION = "hf-collection"
    HF_OWNER = "hf-owner"
    PROJECT = "project"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Link:
    """One URL as a paper gives it.

    ``url`` is the text as written minus trimmed punctuation; ``normalized`` is the
    identity used for checking and history.
    """

    url: str
    normalized: str
    kind: LinkKind
    claim: str | None = None  # code, data, model, demo, project, survey, or None
    promise: bool = False  # "will be released", "coming soon"
    owner: str | None = None
    name: str | None = None
    ref: str | None = None
    path: str | None = None
    family: str | None = None  # for project links: arxiv, doi, drive, shortener, ...

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Enum) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Link":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["kind"] = LinkKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True)
class Paper:
    """One paper from an input source, with the links its text gives."""

    id: str
    title: str
    links: tuple[Link, ...] = ()
    source: str = ""
    claims_without_url: tuple[str, ...] = ()
    cited_arxiv_id: str | None = None  # the one arXiv id its text cites ("arXiv:2401.01234"), when id and links name none

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "links": [link.to_dict() for link in self.links],
            "claims_without_url": list(self.claims_without_url),
        }
        if self.cited_arxiv_id:
            data["cited_arxiv_id"] = self.cited_arxiv_id
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Paper":
        return cls(
            id=data["id"],
            title=data["title"],
            source=data.get("source", ""),
            links=tuple(Link.from_dict(link) for link in data.get("links", ())),
            claims_without_url=tuple(data.get("claims_without_url", ())),
            cited_arxiv_id=data.get("cited_arxiv_id") or None,
        )


@dataclass(frozen=True)
class Evidence:
    """What the check saw, kept so that every state can be explained and audited."""

    status_code: int | None = None
    final_url: str | None = None
    redirects: tuple[tuple[int, str], ...] = ()  # (status, Location) per hop, logical URLs
    error: str | None = None  # error class and message, e.g. "ConnectTimeout: timed out"
    elapsed_ms: int | None = None
    attempts: int = 1


@dataclass(frozen=True)
class Observation:
    """The result of checking one normalized URL once."""

    url: str  # the normalized URL that was checked
    state: State
    reason: str  # one line a person can act on
    checker: str  # "http", "github", "huggingface"
    evidence: Evidence = field(default_factory=Evidence)
    suggested_url: str | None = None  # for moved links: where the artifact lives now
    facts: Facts | None = None  # what the checker learnt beyond the state (checks.facts); stored as "details"
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if self.facts is not None and not self.facts:  # no facts recorded: none, so that stored and read back are equal
            object.__setattr__(self, "facts", None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "state": self.state.value,
            "reason": self.reason,
            "checker": self.checker,
            "evidence": {
                "status_code": self.evidence.status_code,
                "final_url": self.evidence.final_url,
                "redirects": [list(hop) for hop in self.evidence.redirects],
                "error": self.evidence.error,
                "elapsed_ms": self.evidence.elapsed_ms,
                "attempts": self.evidence.attempts,
            },
            "suggested_url": self.suggested_url,
            "details": facts_to_dict(self.facts),
            "checked_at": self.checked_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Observation":
        ev = data.get("evidence") or {}
        return cls(
            url=data["url"],
            state=State(data["state"]),
            reason=data["reason"],
            checker=data["checker"],
            evidence=Evidence(
                status_code=ev.get("status_code"),
                final_url=ev.get("final_url"),
                redirects=tuple((int(code), str(loc)) for code, loc in ev.get("redirects", ())),
                error=ev.get("error"),
                elapsed_ms=ev.get("elapsed_ms"),
                attempts=ev.get("attempts", 1),
            ),
            suggested_url=data.get("suggested_url"),
            facts=facts_from_dict(data["checker"], data.get("details")),
            checked_at=datetime.fromisoformat(data["checked_at"]),
        )

    def replace(self, **changes: Any) -> "Observation":
        return dataclasses.replace(self, **changes)
