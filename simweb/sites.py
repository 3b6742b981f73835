"""github.com and huggingface.co as a browser sees them, derived from the API scenarios.

A paper links https://github.com/o/r/tree/main/x or https://huggingface.co/o/m; the
project-web face answers those from the same repos the APIs serve, so the two views
of one artifact never disagree.
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote

from .github_html import latest_commit_json, repo_page
from .world import GitHub, Hub, HubRepo, Page, Repo

GITHUB = "github.com"
HUB = "huggingface.co"
ALIASES = {"www.github.com": GITHUB, "hf.co": HUB, "www.huggingface.co": HUB}
HUB_SECTIONS = {"docs", "blog", "models", "pricing", "tasks", "learn", "join", "login", "enterprise"}


def ok(title: str) -> Page:
    return Page(title=title)


NOT_FOUND = Page(status=404)


def moved_to(host: str, url: SplitResult, path: str | None = None) -> Page:
    query = f"?{url.query}" if url.query else ""
    return Page(status=301, location=f"https://{host}{url.path if path is None else path}{query}")


def site_of(url: SplitResult) -> str | None:
    """The site a URL belongs to, if it is one this module simulates."""
    host = (url.hostname or "").lower()
    host = ALIASES.get(host, host)
    return host if host in (GITHUB, HUB) else None


def github_page(gh: GitHub, url: SplitResult) -> Page:
    host = (url.hostname or "").lower()
    if url.scheme == "http" or host != GITHUB:
        return moved_to(GITHUB, url)
    parts = [unquote(p) for p in url.path.split("/") if p]
    if not parts:
        return ok("GitHub")
    if len(parts) == 1:
        found = gh.owner(parts[0])
        return ok(f"{found[0]} · GitHub") if found else NOT_FOUND
    full_name = f"{parts[0]}/{parts[1].removesuffix('.git')}"
    repo = gh.find(full_name)
    if repo is None:
        moved = gh.find_renamed(full_name)
        if moved is None or moved.private:
            return NOT_FOUND
        return moved_to(GITHUB, url, "/" + "/".join([moved.full_name, *parts[2:]]))
    if repo.private:
        return NOT_FOUND
    if repo.blocked == "dmca":
        return Page(status=451, title="Repository unavailable due to DMCA takedown.")
    if repo.blocked or repo.disabled:
        return Page(status=403, title="This repository has been disabled.")
    return _github_repo_page(repo, parts[2:])


def _github_repo_page(repo: Repo, rest: list[str]) -> Page:
    """tree/blob links need their ref and path; other repo pages exist whenever the repo does."""
    if not rest:
        return Page(body=repo_page(repo))
    if rest[0] == "latest-commit" and len(rest) >= 2:
        found = repo.has_ref("/".join(rest[1:])) and not repo.empty
        return Page(body=latest_commit_json(repo), content_type="application/json") if found else NOT_FOUND
    title = f"GitHub - {repo.full_name}: {repo.description or ''}".rstrip(": ")
    if rest[0] not in ("tree", "blob") or len(rest) < 2:
        return ok(title)
    kind, spec = rest[0], rest[1:]
    for cut in range(len(spec), 0, -1):  # refs may contain slashes: try the longest first
        ref, path = "/".join(spec[:cut]), "/".join(spec[cut:])
        if repo.has_ref(ref):
            files = repo.all_files
            exists = path in files if kind == "blob" else (not path or any(f.startswith(f"{path}/") for f in files))
            return ok(f"{repo.full_name}/{path} at {ref}") if exists and not repo.empty else NOT_FOUND
    return NOT_FOUND


def hub_page(hub: Hub, url: SplitResult) -> Page:
    host = (url.hostname or "").lower()
    if url.scheme == "http" or host != HUB:
        return moved_to(HUB, url)
    parts = [unquote(p) for p in url.path.split("/") if p]
    if not parts or parts[0] in HUB_SECTIONS:
        return ok("Hugging Face")
    if parts[0] == "papers":
        if len(parts) == 1:
            return ok("Daily Papers")
        paper = hub.paper(parts[1])
        return ok(f"Paper page - {paper.title}") if paper else NOT_FOUND
    kind = "model"
    if parts[0] in ("datasets", "spaces"):
        kind, parts = parts[0][:-1], parts[1:]
        if not parts:
            return ok("Hugging Face")
    repo = hub.find(kind, "/".join(parts[:2])) if len(parts) >= 2 else None
    rest = parts[2:]
    if repo is None:
        repo, rest = hub.find(kind, parts[0]), parts[1:]  # legacy ids have no owner
    if repo is None:
        owner_page = len(parts) == 1 and kind == "model" and hub.owner_exists(parts[0])
        return ok(f"{parts[0]} (Hugging Face)") if owner_page else NOT_FOUND
    return _hub_repo_page(repo, rest)


def _hub_repo_page(repo: HubRepo, rest: list[str]) -> Page:
    if repo.private:
        return NOT_FOUND
    if repo.disabled:
        return Page(status=403, title="Access to this resource is disabled.")
    title = f"{repo.id} · Hugging Face"
    if not rest or rest[0] not in ("resolve", "blob", "tree") or len(rest) < 2:
        return ok(title)
    action, revision, path = rest[0], rest[1], "/".join(rest[2:])
    if not repo.has_revision(revision):
        return NOT_FOUND
    names = [f.name for f in repo.all_files]
    exists = (not path or any(n.startswith(f"{path}/") for n in names)) if action == "tree" else path in names
    if not exists:
        return NOT_FOUND
    if action == "resolve" and repo.gated:
        return Page(status=401, title="Access to this resource is restricted.")
    return ok(f"{path} · {title}")
