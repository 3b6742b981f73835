"""The simulated world of one scenario phase: repos, Hub artifacts, papers and web pages.

Field names are the YAML keys and type hints are the validation rules (see ``schema``).
Everything here is pure data plus lookups; the faces decide how to answer HTTP.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import ClassVar, Literal, Mapping
from urllib.parse import unquote, urlsplit

from .archive_world import Archives

EPOCH = datetime(2023, 6, 1, tzinfo=timezone.utc)

SpaceStage = Literal[
    "NO_APP_FILE",
    "CONFIG_ERROR",
    "BUILDING",
    "BUILD_ERROR",
    "RUNNING",
    "RUNNING_BUILDING",
    "RUNTIME_ERROR",
    "DELETING",
    "STOPPED",
    "PAUSED",
    "SLEEPING",
    "APP_STARTING",
    "RUNNING_APP_STARTING",
]


def stable_int(text: str, low: int, span: int) -> int:
    """A number derived from text, so ids and sizes stay the same across runs and phases."""
    return low + int(hashlib.sha1(text.encode()).hexdigest()[:12], 16) % span


def stable_sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _check_status(value: int | None, name: str = "status") -> None:
    if value is not None and not 100 <= value <= 599:
        raise ValueError(f"{name}: {value} is not an HTTP status")


def _check_arxiv_id(value: str, name: str) -> None:
    """An arXiv id as the Hub's tags carry it: ``2404.14619``, not ``arxiv:2404.14619`` nor blank."""
    if not value.strip() or value != value.strip() or value.lower().startswith("arxiv:"):
        raise ValueError(f"{name}: {value!r} is not a bare arXiv id (write 2404.14619, quoted)")


def _check_full_name(value: str, name: str) -> None:
    owner, _, repo = value.partition("/")
    if not owner or not repo or "/" in repo:
        raise ValueError(f"{name}: {value!r} is not 'owner/name'")


# --- project web -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """What one URL (or every URL of a host) answers on the project web."""

    status: int = 200
    location: str | None = None  # sent verbatim: absolute logical URL or relative
    headers: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None  # an HTML page is generated around it
    body: str | None = None
    size: int | None = None  # generate and stream a body of this many bytes
    delay: float = 0.0  # seconds before the answer starts
    head: int | None = None  # status for HEAD requests (e.g. 405)
    retry_after: int | None = None
    drop: bool = False  # close the connection without answering
    content_type: str | None = None

    def __post_init__(self) -> None:
        _check_status(self.status)
        _check_status(self.head, "head")
        if self.size is not None and self.size < 0:
            raise ValueError("size: must be >= 0")


def url_key(url: str) -> tuple[str, str, str, str | None]:
    """Matching identity of a logical URL: host case and a trailing slash do not matter."""
    parts = urlsplit(url)
    return (
        parts.scheme.lower(),
        parts.netloc.lower(),
        unquote(parts.path).rstrip("/"),
        parts.query or None,
    )


# --- GitHub ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecondaryLimit:
    """GitHub's secondary limit: too many calls too fast, whatever the hourly budget has left.

    A client (token, or all anonymous callers) making more than ``requests`` calls (REST and
    GraphQL together) within ``window`` seconds of its first is refused until the window ends:
    ``status`` with the "You have exceeded a secondary rate limit" message, ``Retry-After`` when
    ``retry_after`` is set (GitHub: "might be present"), and the usual ``X-RateLimit-*`` headers
    of the primary budget, whose ``Remaining`` is not 0. Refused calls cost no primary points.
    """

    requests: int
    window: int = 60
    retry_after: int | None = 60
    status: Literal[403, 429] = 403


@dataclass(frozen=True)
class RateLimit:
    authenticated: int = 5000
    anonymous: int = 60
    reset_in: int = 3600  # seconds from a client's first request to its budget reset
    exhausted_status: Literal[403, 429] = 403
    retry_after: int | None = None  # set: answer like a secondary limit, with Retry-After
    secondary: SecondaryLimit | None = None  # a burst limit besides the hourly budget


@dataclass(frozen=True)
class Asset:
    name: str
    size: int = 1024
    content_type: str = "application/octet-stream"
    download_count: int = 0


@dataclass(frozen=True)
class Release:
    tag: str
    name: str | None = None
    body: str = ""
    draft: bool = False  # unpublished: invisible to every simulated client
    prerelease: bool = False
    created_at: datetime | None = None
    published_at: datetime | None = None  # default: the repo's pushed_at
    assets: tuple[Asset, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class Repo:
    full_name: str
    id: int | None = None
    description: str | None = None
    homepage: str | None = None
    language: str | None = None
    license: str | None = None  # license key, e.g. mit, apache-2.0
    topics: tuple[str, ...] = ()
    stars: int = 0
    forks: int = 0
    watchers: int = 0  # subscribers_count
    open_issues: int = 0
    size: int | None = None  # KB
    owner_type: Literal["User", "Organization"] = "User"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    pushed_at: datetime | None = None
    default_branch: str = "main"
    branches: tuple[str, ...] = ()  # default: [default_branch]
    files: tuple[str, ...] | None = None  # default: [README.md], none when empty
    readme: str | None = None
    commits: int = 30
    releases: tuple[Release, ...] = ()
    archived: bool = False
    disabled: bool = False  # GitHub disabled it (ToS): API 403 "Repository access blocked"
    private: bool = False  # nobody simulated may see it: 404 everywhere
    fork_of: str | None = None
    empty: bool = False
    renamed_from: tuple[str, ...] = ()
    blocked: Literal["dmca", "tos", "unavailable"] | None = None
    drop: bool = False  # API requests: connection closed without an answer
    status: int | None = None  # API requests: answer this server error instead

    def __post_init__(self) -> None:
        _check_full_name(self.full_name, "full_name")
        for old in self.renamed_from:
            _check_full_name(old, "renamed_from")
        if self.fork_of is not None:
            _check_full_name(self.fork_of, "fork_of")
        if self.status is not None and not 500 <= self.status <= 599:
            raise ValueError(f"status: {self.status} is not a server error (500-599)")

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/")[1]

    @property
    def original_name(self) -> str:
        """The first name the repo had: its id and commit SHAs derive from it, so they survive renames."""
        return self.renamed_from[0] if self.renamed_from else self.full_name

    @property
    def repo_id(self) -> int:
        return self.id if self.id is not None else stable_int(self.original_name.lower(), 100_000_000, 800_000_000)

    @property
    def created(self) -> datetime:
        return self.created_at or EPOCH

    @property
    def pushed(self) -> datetime:
        return self.pushed_at or self.created

    @property
    def updated(self) -> datetime:
        return self.updated_at or max(self.pushed, self.created)

    @property
    def all_branches(self) -> tuple[str, ...]:
        return self.branches or (self.default_branch,)

    @property
    def all_files(self) -> tuple[str, ...]:
        if self.empty:
            return ()
        return self.files if self.files is not None else ("README.md",)

    @property
    def commit_count(self) -> int:
        return 0 if self.empty else max(self.commits, 1)

    @property
    def readme_text(self) -> str:
        if self.readme is not None:
            return self.readme
        return f"# {self.name}\n\n{self.description or ''}\n"

    def has_ref(self, ref: str) -> bool:
        return ref in self.all_branches or any(r.tag == ref for r in self.releases)


@dataclass(frozen=True)
class GitHub:
    tokens: tuple[str, ...] = ()
    users: tuple[str, ...] = ()  # owners that exist without any repo here
    rate_limit: RateLimit = field(default_factory=RateLimit)
    repos: tuple[Repo, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for repo in self.repos:
            key = repo.full_name.lower()
            if key in seen:
                raise ValueError(f"repos: duplicate full_name {repo.full_name!r}")
            seen.add(key)

    @cached_property
    def _by_name(self) -> dict[str, Repo]:
        return {r.full_name.lower(): r for r in self.repos}

    @cached_property
    def _by_old_name(self) -> dict[str, Repo]:
        return {old.lower(): r for r in self.repos for old in r.renamed_from}

    @cached_property
    def _by_id(self) -> dict[int, Repo]:
        return {r.repo_id: r for r in self.repos}

    def find(self, full_name: str) -> Repo | None:
        """Lookup is case-insensitive, as on GitHub."""
        return self._by_name.get(full_name.lower())

    def find_renamed(self, full_name: str) -> Repo | None:
        return self._by_old_name.get(full_name.lower())

    def by_id(self, repo_id: int) -> Repo | None:
        return self._by_id.get(repo_id)

    def owner(self, login: str) -> tuple[str, str] | None:
        """Canonical login and type of an owner that exists, or None."""
        for user in self.users:
            if user.lower() == login.lower():
                return user, "User"
        for repo in self.repos:
            if repo.owner.lower() == login.lower():
                return repo.owner, repo.owner_type
        return None


# --- Hugging Face Hub --------------------------------------------------------------------


@dataclass(frozen=True)
class HubFile:
    name: str
    size: int | None = None


@dataclass(frozen=True)
class HubRepo:
    """Fields shared by models, datasets and Spaces."""

    kind: ClassVar[str] = "model"
    default_files: ClassVar[tuple[str, ...]] = ("README.md",)

    id: str
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    private: bool = False  # nobody simulated may see it: like a missing repo
    gated: Literal[False, "auto", "manual"] = False
    disabled: bool = False
    likes: int = 0
    tags: tuple[str, ...] = ()
    license: str | None = None
    files: tuple[str | HubFile, ...] | None = None
    branches: tuple[str, ...] = ("main",)
    drop: bool = False
    status: int | None = None
    arxiv: tuple[str, ...] = ()  # papers its card cites: tagged arxiv:<id>, linked to those papers
    card: str | None = None  # README.md served verbatim (the model card); default: front matter and a title

    def __post_init__(self) -> None:
        if not self.id or self.id.count("/") > 1:
            raise ValueError(f"id: {self.id!r} is not 'name' or 'owner/name'")
        if self.card is not None and self.file("README.md") is None:
            raise ValueError("card: given, but README.md is not among files (the card is README.md)")
        if self.status is not None and not 500 <= self.status <= 599:
            raise ValueError(f"status: {self.status} is not a server error (500-599)")
        for paper_id in self.arxiv:
            _check_arxiv_id(paper_id, "arxiv")

    @property
    def listed(self) -> bool:
        """Whether the Hub's listings and paper pages show it: private and disabled repos are nobody's to see."""
        return not (self.private or self.disabled)

    @property
    def owner(self) -> str | None:
        return self.author or (self.id.split("/")[0] if "/" in self.id else None)

    @property
    def commit(self) -> str:
        return self.sha or stable_sha(f"{self.kind}:{self.id}")

    @property
    def created(self) -> datetime:
        return self.created_at or EPOCH

    @property
    def modified(self) -> datetime:
        return self.last_modified or self.created

    @property
    def all_files(self) -> tuple[HubFile, ...]:
        entries = self.files if self.files is not None else self.default_files
        return tuple(HubFile(e) if isinstance(e, str) else e for e in entries)

    def file(self, name: str) -> HubFile | None:
        return next((f for f in self.all_files if f.name == name), None)

    def has_revision(self, revision: str) -> bool:
        return revision in self.branches or revision == self.commit


@dataclass(frozen=True)
class Model(HubRepo):
    kind: ClassVar[str] = "model"
    default_files: ClassVar[tuple[str, ...]] = ("README.md", "config.json")

    downloads: int = 0
    library_name: str | None = None
    pipeline_tag: str | None = None


@dataclass(frozen=True)
class Dataset(HubRepo):
    kind: ClassVar[str] = "dataset"

    downloads: int = 0


@dataclass(frozen=True)
class Space(HubRepo):
    kind: ClassVar[str] = "space"
    default_files: ClassVar[tuple[str, ...]] = ("README.md", "app.py")

    stage: SpaceStage = "RUNNING"
    hardware: str | None = "cpu-basic"
    sdk: str = "gradio"

    @property
    def subdomain(self) -> str:
        return self.id.lower().replace("/", "-").replace("_", "-").replace(".", "-")


@dataclass(frozen=True)
class HubRateLimit:
    limit: int  # requests per client per window
    window: int = 300
    retry_after: int | None = None  # default: seconds left in the window


@dataclass(frozen=True)
class Paper:
    id: str  # arXiv id
    title: str
    summary: str = ""
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    submitted_on_daily_at: datetime | None = None
    submitted_by: str | None = None
    upvotes: int = 0
    num_comments: int = 0
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    organization: str | None = None
    models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    spaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hub:
    tokens: tuple[str, ...] = ()
    users: tuple[str, ...] = ()  # owners with a profile page but no repo here
    rate_limit: HubRateLimit | None = None
    paper_linked_limit: int | None = 10  # linked repos per kind in a paper answer; None: no linked lists at all
    list_page_size: int = 1000  # items per page of /api/{models,datasets,spaces}
    models: tuple[Model, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    spaces: tuple[Space, ...] = ()
    papers: tuple[Paper, ...] = ()

    def __post_init__(self) -> None:
        if self.paper_linked_limit is not None and self.paper_linked_limit < 0:
            raise ValueError(f"paper_linked_limit: {self.paper_linked_limit} is negative")
        if self.list_page_size < 1:
            raise ValueError(f"list_page_size: {self.list_page_size} is not a page size (at least 1)")

    @cached_property
    def _by_kind(self) -> dict[str, dict[str, HubRepo]]:
        return {
            kind: {r.id.lower(): r for r in repos}
            for kind, repos in (("model", self.models), ("dataset", self.datasets), ("space", self.spaces))
        }

    @cached_property
    def _cited(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """The arXiv ids each repo cites: its own ``arxiv`` list, then each paper that lists it."""
        cited: dict[tuple[str, str], list[str]] = {}
        for kind, repos in self._by_kind.items():
            for key, repo in repos.items():
                cited[(kind, key)] = list(dict.fromkeys(repo.arxiv))
        for paper in self.papers:
            for kind, ids in (("model", paper.models), ("dataset", paper.datasets), ("space", paper.spaces)):
                for repo_id in ids:
                    found = cited.get((kind, repo_id.lower()))
                    if found is not None and paper.id not in found:
                        found.append(paper.id)
        return {key: tuple(ids) for key, ids in cited.items()}

    @cached_property
    def _citing(self) -> dict[tuple[str, str], tuple[HubRepo, ...]]:
        """(kind, arXiv id) -> the listed repos of that kind citing the paper, in scenario order."""
        citing: dict[tuple[str, str], list[HubRepo]] = {}
        for kind, repos in self._by_kind.items():
            for key, repo in repos.items():
                if repo.listed:
                    for paper_id in self._cited[(kind, key)]:
                        citing.setdefault((kind, paper_id), []).append(repo)
        return {key: tuple(repos) for key, repos in citing.items()}

    def find(self, kind: str, repo_id: str) -> HubRepo | None:
        return self._by_kind[kind].get(repo_id.lower())

    def repos(self, kind: str) -> tuple[HubRepo, ...]:
        return tuple(self._by_kind[kind].values())

    def citations(self, repo: HubRepo) -> tuple[str, ...]:
        """arXiv ids the repo cites, each an ``arxiv:<id>`` tag on it."""
        return self._cited.get((repo.kind, repo.id.lower()), ())

    def linked(self, paper: Paper, kind: str) -> tuple[HubRepo, ...]:
        """A paper's artifacts of one kind: the ones it lists (as found), then every other listed repo citing it."""
        named = {"model": paper.models, "dataset": paper.datasets, "space": paper.spaces}[kind]
        explicit = [r for r in (self.find(kind, i) for i in named) if r is not None]
        tagged = list(self._citing.get((kind, paper.id), ()))
        unique: dict[str, HubRepo] = {}
        for repo in explicit + tagged:
            unique.setdefault(repo.id.lower(), repo)
        return tuple(unique.values())

    def paper(self, arxiv_id: str) -> Paper | None:
        return next((p for p in self.papers if p.id == arxiv_id), None)

    def owner_exists(self, name: str) -> bool:
        lowered = name.lower()
        return any(u.lower() == lowered for u in self.users) or any(
            (r.owner or "").lower() == lowered and not r.private
            for repos in self._by_kind.values()
            for r in repos.values()
        )


# --- trouble -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Faults:
    """Trouble that is nobody's fault in particular, on every face at once.

    ``flaky`` is the share of requests answered with a transient server error, chosen by a
    hash of (seed, face, method, URL, how many times that request was made since the world
    was loaded): the same seed and the same requests give the same failures, and a retry
    may pass. ``outage`` drops every connection, as when the monitor's own network is down.
    """

    flaky: float = 0.0
    seed: int = 0
    statuses: tuple[int, ...] = (502, 503, 504)
    outage: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.flaky <= 1.0:
            raise ValueError(f"flaky: {self.flaky} is not a share between 0 and 1")
        if not self.statuses:
            raise ValueError("statuses: at least one status is needed")
        for status in self.statuses:
            _check_status(status, "statuses")


# --- the whole world ---------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    github: GitHub = field(default_factory=GitHub)
    hub: Hub = field(default_factory=Hub)
    web: Mapping[str, Page] = field(default_factory=dict)  # logical URL -> answer
    hosts: Mapping[str, Page] = field(default_factory=dict)  # host -> answer for all its URLs
    faults: Faults = field(default_factory=Faults)
    archives: Archives = field(default_factory=Archives)  # Software Heritage and the Wayback Machine

    def __post_init__(self) -> None:
        for url in self.web:
            scheme, host, _, _ = url_key(url)
            if scheme not in ("http", "https") or not host:
                raise ValueError(f"web[{url!r}]: not an absolute http(s) URL")

    @cached_property
    def _pages(self) -> dict[tuple[str, str, str, str | None], Page]:
        return {url_key(url): page for url, page in self.web.items()}

    @cached_property
    def _hosts(self) -> dict[str, Page]:
        return {host.lower(): page for host, page in self.hosts.items()}

    def page(self, url: str) -> Page | None:
        """The scenario's answer for a logical URL: exact entry, then query-less entry, then host default."""
        scheme, host, path, query = url_key(url)
        return (
            self._pages.get((scheme, host, path, query))
            or self._pages.get((scheme, host, path, None))
            or self._hosts.get(host)
        )
