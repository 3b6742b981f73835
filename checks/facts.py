"""What a checker learnt about a link beyond its state: typed facts, and the one place they become JSON.

Each checker records its own kind of facts: ``RepoFacts`` (a GitHub repository, through the
REST or GraphQL API or its page), ``HubFacts`` (a Hugging Face model, dataset, space or
paper) and ``PageFacts`` (any other page). Every field is optional.

A fact that was recorded is not the same as a fact that is unknown: ``latest_release=None``
means "no release", while a ``RepoFacts`` without ``latest_release`` means nobody asked
(the REST path does not spend a request on releases). So each value remembers which fields
were recorded, in the order they were recorded, and ``to_dict()`` writes exactly those: the
JSON stored in the database and in report.json is the dict the checkers wrote before these
types existed, key order included. ``facts_from_dict`` reads it back, tolerating old rows:
keys this version does not know are kept as they were stored and written back unchanged.

Build facts with ``RepoFacts.of(stars=3, license=None)`` (every keyword is recorded, None
included) or the plain constructor (records the fields that are not None); change them with
``with_`` and ``merged``, which behave as a dict update: a recorded key keeps its place.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from checks.completeness import Completeness

F = TypeVar("F", bound="Facts")


@dataclass(frozen=True)
class Release:
    """A repository's latest release, as the GraphQL API or the repository page states it."""

    tag: str
    published_at: str | None = None
    prerelease: bool | None = None
    url: str | None = None  # the page does not give it, and then it is not written

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"tag": self.tag, "published_at": self.published_at, "prerelease": self.prerelease}
        if self.url is not None:
            data["url"] = self.url
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Release":
        return cls(tag=data["tag"], published_at=data.get("published_at"), prerelease=data.get("prerelease"),
                   url=data.get("url"))


def _plain(value: Any) -> Any:
    """A field's value as JSON data: releases as dicts, tuples as lists."""
    if isinstance(value, (Release, Completeness)):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True, kw_only=True, repr=False)
class Facts:
    """What every kind of facts shares: which fields were recorded, in order, and keys only older or
    newer versions know. Not built directly: use ``RepoFacts``, ``HubFacts`` or ``PageFacts``."""

    recorded: tuple[str, ...] | None = field(default=None, repr=False)  # None: the fields that are not None
    extra: tuple[tuple[str, Any], ...] = field(default=(), repr=False)  # unknown keys, as stored

    _BOOKKEEPING: ClassVar[frozenset[str]] = frozenset({"recorded", "extra"})

    def __post_init__(self) -> None:
        if self.recorded is None:
            names = tuple(name for name in self.field_names() if getattr(self, name) is not None)
            object.__setattr__(self, "recorded", names + tuple(key for key, _ in self.extra))

    @classmethod
    @functools.cache  # per class: every stored observation's facts are built through it
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in cls._BOOKKEEPING)

    @classmethod
    def _build(cls: type[F], values: Mapping[str, Any]) -> F:
        """Facts holding exactly ``values`` (fields and unknown keys), in their order."""
        names = set(cls.field_names())
        return cls(recorded=tuple(values), extra=tuple((k, v) for k, v in values.items() if k not in names),
                   **{k: v for k, v in values.items() if k in names})

    @classmethod
    def of(cls: type[F], **values: Any) -> F:
        """Facts recording each keyword given, None included, in the order given."""
        unknown = set(values) - set(cls.field_names())
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        return cls._build(values)

    def values(self) -> dict[str, Any]:
        """The recorded facts as Python values (``Release``, tuples), in recorded order."""
        extra = dict(self.extra)
        return {key: extra[key] if key in extra else getattr(self, key) for key in self.recorded or ()}

    def has(self, name: str) -> bool:
        """Whether the fact was recorded (its value may still be None: "no release")."""
        return name in (self.recorded or ())

    def with_(self: F, **changes: Any) -> F:
        """These facts with ``changes`` recorded, as ``{**old, **changes}`` would."""
        return self.merged(type(self).of(**changes))

    def merged(self: F, other: "Facts | None") -> F:
        """These facts updated with every fact ``other`` recorded, as ``{**old, **other}`` would."""
        if other is None:
            return self
        return type(self)._build({**self.values(), **other.values()})

    def to_dict(self) -> dict[str, Any]:
        """The JSON data stored for these facts: the recorded keys, in their order."""
        return {key: _plain(value) for key, value in self.values().items()}

    def __bool__(self) -> bool:
        return bool(self.recorded)

    def __repr__(self) -> str:  # only what was recorded: thirty "=None" hide the facts
        return f"{type(self).__name__}({', '.join(f'{key}={value!r}' for key, value in self.values().items())})"


@dataclass(frozen=True, kw_only=True, repr=False)
class RepoFacts(Facts):
    """A GitHub repository, from the REST API (one request), GraphQL (a batch) or its page (no token)."""

    full_name: str | None = None  # owner/name as GitHub has it now (a rename shows here)
    page_full_name: str | None = None  # the same, as the repository page states it
    description: str | None = None
    stars: int | None = None
    forks: int | None = None
    open_issues: int | None = None
    archived: bool | None = None
    disabled: bool | None = None
    fork: bool | None = None
    parent: str | None = None  # the repository forked from
    license: str | None = None  # SPDX id
    default_branch: str | None = None
    topics: tuple[str, ...] | None = None
    pushed_at: str | None = None  # ISO 8601, as GitHub wrote it
    updated_at: str | None = None
    empty: bool | None = None
    last_commit_sha: str | None = None
    last_commit_at: str | None = None  # the default branch's last commit (ISO 8601)
    latest_release: Release | None = None  # recorded as None: no release
    placeholder: bool | None = None  # only a README (and boilerplate): no code yet
    readme_promise: bool | None = None  # the README says code will come
    readme_links_weights_or_data: bool | None = None
    root_files: int | None = None
    release_count: int | None = None
    completeness: Completeness | None = None  # the ML Code Completeness Checklist, from the root listing and README
    slow_facts_at: str | None = None  # when release_count and topics were last fetched (GraphQL)
    activity: str | None = None  # active, quiet, stale, archived or unknown (checks.repo_facts.activity_class)
    etag: str | None = None  # for the next run's conditional request (REST)
    not_modified: bool | None = None  # the REST API answered 304: the facts are last run's
    metadata_not_refreshed: str | None = None  # why the API could not add its facts to the page's


@dataclass(frozen=True, kw_only=True, repr=False)
class HubFacts(Facts):
    """A Hugging Face model, dataset or space (the repository's facts), or paper (the Hub's page of it)."""

    id: str | None = None
    private: bool | None = None
    gated: bool | str | None = None  # False, True, "auto" or "manual"
    disabled: bool | None = None
    likes: int | None = None
    downloads: int | None = None
    last_modified: str | None = None
    file_count: int | None = None
    total_size: int | None = None
    library: str | None = None  # models
    pipeline_tag: str | None = None  # models
    has_weights: bool | None = None  # models
    stage: str | None = None  # spaces: the runtime stage
    sdk: str | None = None  # spaces
    title: str | None = None  # papers
    published_at: str | None = None  # papers
    github_repo: str | None = None  # papers: the code the Hub links
    project_page: str | None = None  # papers
    discovered: Mapping[str, tuple[str, ...]] | None = None  # papers: citing models, datasets, spaces
    discovered_total: Mapping[str, int] | None = None  # papers: how many of each kind the Hub counts
    discovery_incomplete: str | None = None  # papers: why the listing stopped early


@dataclass(frozen=True, kw_only=True, repr=False)
class PageFacts(Facts):
    """Any other page: where a remapped server sent us, which repository a GitHub Pages site is built from."""

    unmapped_redirect: str | None = None  # the physical URL no remap rule maps back
    source_repo: str | None = None  # owner/name a *.github.io site is built from


def _decode_release(value: Any) -> Any:
    """A stored release as a ``Release`` when it writes back identically; any other shape stays as stored."""
    if not isinstance(value, Mapping) or not isinstance(value.get("tag"), str):
        return value
    release = Release.from_dict(value)
    return release if release.to_dict() == dict(value) and list(release.to_dict()) == list(value) else value


def _decode_completeness(value: Any) -> Any:
    """A stored checklist as a ``Completeness`` when it writes back identically; any other shape stays as stored."""
    if not isinstance(value, Mapping) or not ("items" in value or "unscored" in value):
        return value
    try:
        completeness = Completeness.from_dict(value)
    except (AttributeError, TypeError, ValueError):
        return value
    return completeness if completeness.to_dict() == dict(value) and list(completeness.to_dict()) == list(value) else value


def _decode_strings(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _decode_discovered(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {kind: _decode_strings(ids) for kind, ids in value.items()}


# How a stored value becomes a field's type; anything unexpected stays as stored (and is written back so).
_DECODERS = {"latest_release": _decode_release, "topics": _decode_strings, "discovered": _decode_discovered,
             "completeness": _decode_completeness}
_REPO_ONLY = frozenset(RepoFacts.field_names()) - frozenset(PageFacts.field_names())


def facts_type(checker: str, keys: Iterable[str] = ()) -> type[Facts]:
    """The kind of facts a checker records. The page checker records a GitHub repository page's facts
    (``RepoFacts``) or its own (``PageFacts``): the keys tell which."""
    if checker == "github":
        return RepoFacts
    if checker == "huggingface":
        return HubFacts
    return RepoFacts if _REPO_ONLY & set(keys) else PageFacts


def facts_from_dict(checker: str, data: Mapping[str, Any] | None) -> Facts | None:
    """The facts stored as ``data`` by ``checker`` (None when there are none); unknown keys are kept."""
    if not data:
        return None
    decoded = {key: _DECODERS[key](value) if key in _DECODERS else value for key, value in data.items()}
    return facts_type(checker, data.keys())._build(decoded)


def facts_to_dict(facts: Facts | None) -> dict[str, Any]:
    """The JSON data stored for ``facts`` (an empty dict for none)."""
    return facts.to_dict() if facts is not None else {}
