"""Facts about a repository that do not depend on which GitHub API told us: pure functions."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import StrEnum

from collections.abc import Sequence

from checks.code_links import repo_key, repository_urls
from checks.completeness import readme_or_absent, score_completeness, unscored
from checks.facts import Release, RepoFacts
from checks.model import Evidence, Link, Observation, State

ACTIVE_DAYS = 90
STALE_DAYS = 365
SUBSTANTIAL_README_CHARS = 3000
SUBSTANTIAL_README_LINKS = 20

# Files a "code coming soon" repository typically holds and nothing else.
_BOILERPLATE = re.compile(
    r"^(readme|license|licence|copying|citations?|contributing|code_of_conduct|security|changelog|notice)(\.\w+)?$"
    r"|^[^/]+\.(bib|pdf)$"  # the paper's BibTeX, the paper or its poster: not code
    r"|^\.(gitignore|gitattributes|github|gitmodules)$|^(assets|images|imgs|figures|figs|docs|static|media)$",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"coming soon|will be (?:released|available|made (?:public|available)|open[- ]?sourced|uploaded)|to be released"
    r"|stay tuned|under construction|code (?:is )?(?:not yet|coming)|release (?:the )?code (?:soon|later)",
    re.IGNORECASE,
)
_WEIGHTS_OR_DATA = re.compile(
    r"huggingface\.co/|\bhf\.co/|drive\.google\.com|zenodo\.org|dropbox\.com|figshare|kaggle\.com/datasets"
    r"|\.(?:safetensors|ckpt|pth|pt|gguf|onnx)\b|(?:pre-?trained|download) (?:weights|checkpoints|models)",
    re.IGNORECASE,
)


_LINK = re.compile(r"https?://", re.IGNORECASE)


class Activity(StrEnum):
    """How maintained a repository looks (its facts' ``activity``; ``reports.verdicts`` reads it)."""

    ACTIVE = "active"  # a commit within ACTIVE_DAYS
    QUIET = "quiet"  # within STALE_DAYS
    STALE = "stale"
    ARCHIVED = "archived"  # its owner archived it (read-only)
    UNKNOWN = "unknown"  # no last commit known


def activity_class(last_commit: datetime | None, archived: bool, now: datetime | None = None) -> str:
    """OpenSSF-Scorecard-like maintenance class (an ``Activity`` value, stored as its word)."""
    if archived:
        activity = Activity.ARCHIVED
    elif last_commit is None:
        activity = Activity.UNKNOWN
    else:
        age_days = ((now or datetime.now(timezone.utc)) - last_commit).days
        activity = Activity.ACTIVE if age_days <= ACTIVE_DAYS else Activity.QUIET if age_days <= STALE_DAYS else Activity.STALE
    return activity.value


def repo_web_url(full_name: str) -> str:
    return f"https://github.com/{full_name}"


def substantial_readme(text: str) -> bool:
    """A README that is the artifact itself (a curated paper list, a survey's companion), not a stub."""
    return len(text) >= SUBSTANTIAL_README_CHARS or len(_LINK.findall(text)) >= SUBSTANTIAL_README_LINKS


def placeholder_facts(root_names: list[str], readme: str | None, *, empty: bool) -> RepoFacts:
    """Is there code, or only a README promising it? Does the README point at weights or data?

    A repository with only boilerplate files is a placeholder unless its README is the content
    (an "awesome" list or a survey's reading list) and promises nothing more.
    """
    code = [name for name in root_names if not _BOILERPLATE.match(name)]
    text = readme or ""
    promise = bool(_PROMISE.search(text))
    return RepoFacts.of(
        placeholder=empty or (bool(root_names) and not code and (promise or not substantial_readme(text))),
        readme_promise=promise,
        readme_links_weights_or_data=bool(_WEIGHTS_OR_DATA.search(text)),
        root_files=len(root_names),
    )


def completeness_facts(root: Sequence[str] | None, readme_markdown: str | None, *,
                       releases: int | None = None, full_name: str | None = None) -> RepoFacts:
    """The ML Code Completeness Checklist from what the check already read: the root entries (directories
    end with ``/``; None: not read) and the README as Markdown (None: not read, though the listing may show
    there is none). Unscored when either could not be read, and when the repository is a reading list (no code
    among its root files, a substantial README that promises nothing): the checklist is about code. A reading
    list that links its owner's other repositories (``full_name`` tells whose) is an index of them, and the
    reason names them: that is where a reader will find the code."""
    if root is not None and readme_markdown is not None and is_reading_list(root, readme_markdown):
        siblings = owners_repositories(readme_markdown, full_name) if full_name else []
        if siblings:
            more = f" and {len(siblings) - MAX_NAMED} more" if len(siblings) > MAX_NAMED else ""
            return RepoFacts.of(completeness=unscored(f"{INDEX}: {', '.join(siblings[:MAX_NAMED])}{more}"))
        return RepoFacts.of(completeness=unscored(READING_LIST))
    return RepoFacts.of(completeness=score_completeness(root, readme_or_absent(root, readme_markdown), releases=releases))


READING_LIST = "a reading list, not code: its README is the content"
INDEX = "no code here, an index of the owner's other repositories"
MAX_NAMED = 3


def owners_repositories(readme: str, full_name: str) -> list[str]:
    """The repositories of ``full_name``'s owner that a README links, other than itself, in order, once each
    (``owner/name`` as written)."""
    owner = full_name.lower().partition("/")[0]
    return [url.removeprefix("https://github.com/") for url in repository_urls(readme)
            if repo_key(url).partition("/")[0] == owner and repo_key(url) != full_name.lower()]


def is_reading_list(root: Sequence[str], readme: str) -> bool:
    """No code at the root (only boilerplate such as README, LICENSE, assets/) and a README that is the
    artifact (``substantial_readme``) and promises no code: an "awesome" list or a survey's companion."""
    names = [name.rstrip("/") for name in root if name.strip()]
    return bool(names) and all(_BOILERPLATE.match(name) for name in names) \
        and substantial_readme(readme) and not _PROMISE.search(readme)


def summary(facts: RepoFacts) -> str:
    """One line a reader can act on: "repository exists, active; latest release v1.0"."""
    activity = facts.activity if facts.has("activity") else "activity unknown"
    parts = ["repository exists, archived (read-only)" if facts.archived else f"repository exists, {activity}"]
    if facts.empty:
        parts.append("empty: no commits")
    elif facts.placeholder:
        parts.append("placeholder: no code yet" + (", README promises it" if facts.readme_promise else ""))
    if facts.has("latest_release"):  # the REST path does not spend a request on releases
        release = facts.latest_release
        parts.append(f"latest release {release.tag}" if isinstance(release, Release) else "no release")
    return "; ".join(parts)


def repo_observation(link: Link, facts: RepoFacts, evidence: Evidence) -> Observation:
    """The state of an existing repository: renamed (moved), disabled (dead) or there (alive)."""
    wanted = f"{link.owner}/{link.name}"
    full_name = str(facts.full_name)
    if full_name.lower() != wanted.lower():
        return Observation(url=link.normalized, state=State.MOVED, checker="github", evidence=evidence, facts=facts,
                           reason=f"repository renamed or transferred to {full_name}",
                           suggested_url=repo_web_url(full_name))
    if facts.disabled:
        return Observation(url=link.normalized, state=State.DEAD, checker="github", evidence=evidence, facts=facts,
                           reason="repository disabled by GitHub")
    return Observation(url=link.normalized, state=State.ALIVE, checker="github", evidence=evidence, facts=facts,
                       reason=summary(facts))


def pages_source_repo(owner: str | None, path: str | None) -> str | None:
    """The repository a ``*.github.io`` site is built from: ``owner/project`` or ``owner/owner.github.io``."""
    if not owner:
        return None
    first = (path or "").strip("/").split("/", 1)[0]
    return f"{owner}/{first}" if first else f"{owner}/{owner}.github.io"
