"""What a github.com repository page tells a visitor without a token: pure parsing.

Without a token the REST budget is 60 requests an hour, so the repository page (which
costs none of it) answers whether the repository has code: its root listing and README
come from the page's ``repos-overview`` embedded JSON, its releases from the sidebar,
archived and fork status from the header. GitHub changes its HTML without notice, so
every fact is optional: a page we cannot read yields no facts, never wrong ones.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit

from checks.facts import Release, RepoFacts
from checks.readme_html import readme_markdown
from checks.repo_facts import activity_class, completeness_facts, placeholder_facts

# Enough for the page's head, the overview partial and a long README; a repository page
# is 200–600 KB, so this is larger than the 256 KB cap for other pages.
READ_LIMIT = 2 * 1024 * 1024
HOSTS = frozenset({"github.com", "www.github.com"})  # where repository overview pages are served

# First path segments of github.com that are not owners.
_RESERVED = frozenset({
    "about", "apps", "collections", "contact", "customer-stories", "enterprise", "events", "explore", "features",
    "issues", "login", "marketplace", "new", "notifications", "orgs", "organizations", "pricing", "pulls",
    "readme", "search", "security", "settings", "signup", "site", "sponsors", "stars", "topics", "trending", "users",
})
_EMBEDDED = re.compile(
    r'<script type="application/json" data-target="react-(?:partial|app)\.embeddedData">(.*?)</script>', re.DOTALL)
_RELEASES = re.compile(r'href="/[^"/]+/[^"/]+/releases"[^>]*>\s*Releases\s*<span title="([\d,]+)"[^>]*class="Counter"')
_LATEST = re.compile(
    r'href="/[^"/]+/[^"/]+/releases/tag/([^"]+)"[^>]*>.*?'
    r'<span title="Label: (Latest|Pre-release)".*?<relative-time datetime="([^"]+)"', re.DOTALL)
_NO_RELEASES = re.compile(r"No releases published")
_ARCHIVED = re.compile(r"This repository was archived by the owner")
_EMPTY = re.compile(r"This repository is empty\.")
_FORKED = re.compile(r'forked from\s*<a[^>]*href="/([^"/]+/[^"/]+)"')
_NWO = re.compile(r'<meta name="octolytics-dimension-repository_nwo" content="([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


def is_repo_root(url: str) -> bool:
    """``https://github.com/owner/name`` itself, where the overview page (tree, README) is served."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return ((parts.hostname or "").lower() in HOSTS and len(segments) == 2
            and segments[0].lower() not in _RESERVED and not parts.query)


def _overview(page: str) -> dict[str, Any] | None:
    for match in _EMBEDDED.finditer(page):
        try:
            data = json.loads(match.group(1))
        except ValueError:
            continue
        payload = (data.get("props") or {}).get("initialPayload") or data.get("payload") if isinstance(data, dict) else None
        if isinstance(payload, dict) and isinstance(payload.get("tree"), dict):
            return payload
    return None


def _readme_text(payload: dict[str, Any]) -> str | None:
    files = (payload.get("overview") or {}).get("overviewFiles") or []
    readme = next((f for f in files if isinstance(f, dict) and f.get("preferredFileType") == "readme"), None)
    if not readme or not isinstance(readme.get("richText"), str):
        return None
    rich = readme["richText"]
    links = " ".join(unescape(href) for href in re.findall(r'href="([^"]+)"', rich))
    return unescape(_TAGS.sub(" ", rich)) + " " + links


def _readme_markdown(payload: dict[str, Any]) -> str | None:
    """The rendered README as Markdown shapes (headings, fences, tables) for the checklist; None if not rendered."""
    files = (payload.get("overview") or {}).get("overviewFiles") or []
    readme = next((f for f in files if isinstance(f, dict) and f.get("preferredFileType") == "readme"), None)
    if not readme or not isinstance(readme.get("richText"), str) or readme.get("timedOut"):
        return None
    return readme_markdown(readme["richText"])


def _root_entries(payload: dict[str, Any]) -> list[str]:
    """The root listing's names, directories marked with a trailing ``/``."""
    return [item["name"] + ("/" if item.get("contentType") == "directory" else "")
            for item in payload["tree"].get("items") or [] if isinstance(item, dict) and isinstance(item.get("name"), str)]


def repo_page_facts(body: bytes) -> RepoFacts | None:
    """Facts the repository page states; None when the page is not one we can read."""
    page = body.decode("utf-8", "replace")
    facts = RepoFacts()
    if nwo := _NWO.search(page):
        facts = facts.with_(page_full_name=unescape(nwo.group(1)))
    if _ARCHIVED.search(page):
        facts = facts.with_(archived=True)
    if forked := _FORKED.search(page):
        facts = facts.with_(fork=True, parent=unquote(forked.group(1)))
    payload = _overview(page)
    if payload is None:
        if _EMPTY.search(page):
            facts = facts.merged(placeholder_facts([], None, empty=True)).with_(empty=True).merged(completeness_facts([], ""))
        return facts if facts.has("page_full_name") else None
    names = [item["name"] for item in payload["tree"].get("items") or [] if isinstance(item, dict) and "name" in item]
    branch = (payload.get("repo") or {}).get("defaultBranch") or (payload.get("refInfo") or {}).get("name")
    if isinstance(branch, str) and branch:
        facts = facts.with_(default_branch=branch)
    facts = facts.merged(placeholder_facts(names, _readme_text(payload), empty=False)).with_(empty=False)
    count, latest = _RELEASES.search(page), _LATEST.search(page)
    if count and latest:
        facts = facts.with_(release_count=int(count.group(1).replace(",", "")),
                            latest_release=Release(tag=unquote(unescape(latest.group(1))), published_at=latest.group(3),
                                                   prerelease=latest.group(2) == "Pre-release"))
    elif _NO_RELEASES.search(page):
        facts = facts.with_(release_count=0, latest_release=None)
    return facts.merged(completeness_facts(_root_entries(payload), _readme_markdown(payload), releases=facts.release_count,
                                           full_name=facts.page_full_name if facts.has("page_full_name") else None))


def latest_commit_url(page_url: str, facts: RepoFacts) -> str | None:
    """Where the overview page itself asks for the default branch's newest commit (JSON), if it has one."""
    branch = facts.default_branch
    if not branch or facts.empty:
        return None
    return f"{page_url.rstrip('/')}/latest-commit/{quote(branch, safe='')}"


def with_latest_commit(facts: RepoFacts, body: bytes) -> RepoFacts:
    """The page's facts plus the last commit's date and the activity class it gives; unchanged if unreadable."""
    try:
        data = json.loads(body)
        when = datetime.fromisoformat(str(data["date"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return facts
    if when.tzinfo is None:
        return facts
    return facts.with_(last_commit_at=when.isoformat(), last_commit_sha=data.get("oid"),
                       activity=activity_class(when, bool(facts.archived)))
