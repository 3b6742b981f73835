"""JSON bodies of the simulated GitHub REST API, shaped like the recorded real ones.

Every API URL inside a body points at the simulator's own base URL, because PyGithub
follows those fields for later calls; html/download URLs stay logical (github.com).
Kept apart from the HTTP layer so that a GraphQL face can build on the same objects.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from .world import GitHub, Release, Repo, stable_int, stable_sha

WEB = "https://github.com"
RAW = "https://raw.githubusercontent.com"

LICENSES = {
    "mit": ("MIT License", "MIT"),
    "apache-2.0": ("Apache License 2.0", "Apache-2.0"),
    "bsd-3-clause": ('BSD 3-Clause "New" or "Revised" License', "BSD-3-Clause"),
    "bsd-2-clause": ('BSD 2-Clause "Simplified" License', "BSD-2-Clause"),
    "gpl-3.0": ("GNU General Public License v3.0", "GPL-3.0"),
    "lgpl-3.0": ("GNU Lesser General Public License v3.0", "LGPL-3.0"),
    "agpl-3.0": ("GNU Affero General Public License v3.0", "AGPL-3.0"),
    "cc-by-4.0": ("Creative Commons Attribution 4.0 International", "CC-BY-4.0"),
    "cc0-1.0": ("Creative Commons Zero v1.0 Universal", "CC0-1.0"),
    "other": ("Other", "NOASSERTION"),
}

COMMIT_MESSAGES = (
    "Update README.md",
    "Fix typo in training script",
    "Add evaluation code",
    "Release checkpoints",
    "Refactor data loading",
    "Add requirements.txt",
    "Update citation",
)


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def legacy_node_id(kind: str, number: int) -> str:
    """GitHub's first node id format, still served for older objects: base64 of '0NN:KindID'."""
    return base64.b64encode(f"{len(kind):03d}:{kind}{number}".encode()).decode()


def error(message: str, documentation_url: str, status: int) -> dict[str, Any]:
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}


def user_id(login: str) -> int:
    return stable_int(f"user:{login.lower()}", 1_000_000, 150_000_000)


def owner(login: str, kind: str, base: str) -> dict[str, Any]:
    number = user_id(login)
    api = f"{base}/users/{login}"
    return {
        "login": login,
        "id": number,
        "node_id": legacy_node_id(kind, number),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def user(login: str, kind: str, gh: GitHub, base: str) -> dict[str, Any]:
    """GET /users/{login}: the owner object plus the public profile counters."""
    public = [r for r in gh.repos if r.owner.lower() == login.lower() and not r.private]
    since = min((r.created for r in public), default=None)
    return owner(login, kind, base) | {
        "name": login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": len(public),
        "public_gists": 0,
        "followers": sum(r.stars for r in public) // 20,
        "following": 0,
        "created_at": stamp(since - timedelta(days=400)) if since else "2015-01-01T00:00:00Z",
        "updated_at": stamp(max((r.updated for r in public), default=since)) or "2015-01-01T00:00:00Z",
    }


def license_object(key: str | None, base: str) -> dict[str, Any] | None:
    if key is None:
        return None
    name, spdx = LICENSES.get(key.lower(), (key, key.upper()))
    return {
        "key": key.lower(),
        "name": name,
        "spdx_id": spdx,
        "url": f"{base}/licenses/{key.lower()}" if spdx != "NOASSERTION" else None,
        "node_id": legacy_node_id("License", stable_int(key.lower(), 1, 40)),
    }


def _repo_urls(api: str) -> dict[str, str]:
    return {
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
    }


def repository(repo: Repo, gh: GitHub, base: str, authenticated: bool, nested: bool = False) -> dict[str, Any]:
    """The modern repository object (keys in the order real GitHub sends them)."""
    api = f"{base}/repos/{repo.full_name}"
    html = f"{WEB}/{repo.full_name}"
    body: dict[str, Any] = {
        "id": repo.repo_id,
        "node_id": legacy_node_id("Repository", repo.repo_id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": owner(repo.owner, repo.owner_type, base),
        "html_url": html,
        "description": repo.description,
        "fork": repo.fork_of is not None,
        "url": api,
        **_repo_urls(api),
        "created_at": stamp(repo.created),
        "updated_at": stamp(repo.updated),
        "pushed_at": stamp(repo.pushed),
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": repo.homepage,
        "size": repo.size if repo.size is not None else (0 if repo.empty else 40 * repo.commit_count + 120),
        "stargazers_count": repo.stars,
        "watchers_count": repo.stars,
        "language": repo.language,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": repo.forks,
        "mirror_url": None,
        "archived": repo.archived,
        "disabled": repo.disabled,
        "open_issues_count": repo.open_issues,
        "license": license_object(repo.license, base),
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": list(repo.topics),
        "visibility": "private" if repo.private else "public",
        "forks": repo.forks,
        "open_issues": repo.open_issues,
        "watchers": repo.stars,
        "default_branch": repo.default_branch,
    }
    if nested:
        return body
    if authenticated:
        body["permissions"] = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}
    body["temp_clone_token"] = None
    if repo.owner_type == "Organization":
        body["organization"] = owner(repo.owner, "Organization", base)
    if repo.fork_of is not None:
        parent = gh.find(repo.fork_of) or Repo(full_name=repo.fork_of)
        body["parent"] = repository(parent, gh, base, authenticated, nested=True)
        body["source"] = body["parent"]
    body["network_count"] = repo.forks
    body["subscribers_count"] = repo.watchers
    return body


def release_id(repo: Repo, release: Release) -> int:
    if release.id is not None:
        return release.id
    return stable_int(f"{repo.original_name}@{release.tag}", 10_000_000, 90_000_000)


def release(repo: Repo, rel: Release, base: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    number = release_id(repo, rel)
    published = rel.published_at or repo.pushed
    created = rel.created_at or published
    author = owner(repo.owner, repo.owner_type, base)
    return {
        "url": f"{api}/releases/{number}",
        "assets_url": f"{api}/releases/{number}/assets",
        "upload_url": f"https://uploads.github.com/repos/{repo.full_name}/releases/{number}/assets{{?name,label}}",
        "html_url": f"{WEB}/{repo.full_name}/releases/tag/{rel.tag}",
        "id": number,
        "node_id": legacy_node_id("Release", number),
        "tag_name": rel.tag,
        "target_commitish": repo.default_branch,
        "name": rel.name if rel.name is not None else rel.tag,
        "draft": rel.draft,
        "author": author,
        "prerelease": rel.prerelease,
        "created_at": stamp(created),
        "published_at": stamp(published),
        "assets": [
            {
                "url": f"{api}/releases/assets/{number * 10 + i}",
                "id": number * 10 + i,
                "node_id": legacy_node_id("ReleaseAsset", number * 10 + i),
                "name": asset.name,
                "label": None,
                "uploader": author,
                "content_type": asset.content_type,
                "state": "uploaded",
                "size": asset.size,
                "download_count": asset.download_count,
                "created_at": stamp(created),
                "updated_at": stamp(created),
                "browser_download_url": f"{WEB}/{repo.full_name}/releases/download/{rel.tag}/{asset.name}",
            }
            for i, asset in enumerate(rel.assets)
        ],
        "tarball_url": f"{api}/tarball/{rel.tag}",
        "zipball_url": f"{api}/zipball/{rel.tag}",
        "body": rel.body,
    }


def visible_releases(repo: Repo) -> list[Release]:
    """Newest first, as GitHub lists them; drafts are visible only to pushers, which no simulated client is."""
    published = [r for r in repo.releases if not r.draft]
    return sorted(published, key=lambda r: r.published_at or r.created_at or repo.pushed, reverse=True)


def latest_release(repo: Repo) -> Release | None:
    return next((r for r in visible_releases(repo) if not r.draft and not r.prerelease), None)


def commit_sha(repo: Repo, index: int) -> str:
    """Commit ``index`` counted from the oldest: stable when later phases add commits."""
    return stable_sha(f"{repo.original_name.lower()}#{index}")


def commit(repo: Repo, index: int, base: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    sha = commit_sha(repo, index)
    total = repo.commit_count
    span = repo.pushed - repo.created
    when = repo.created + span * (index / (total - 1)) if total > 1 else repo.pushed
    person = {"name": repo.owner, "email": f"{repo.owner.lower()}@users.noreply.github.com", "date": stamp(when)}
    parents = [commit_sha(repo, index - 1)] if index > 0 else []
    message = "Initial commit" if index == 0 else COMMIT_MESSAGES[stable_int(sha, 0, len(COMMIT_MESSAGES))]
    author = owner(repo.owner, repo.owner_type, base)
    return {
        "sha": sha,
        "node_id": legacy_node_id("Commit", stable_int(sha, 1, 10**9)),
        "commit": {
            "author": person,
            "committer": person,
            "message": message,
            "tree": {"sha": stable_sha(f"tree:{sha}"), "url": f"{api}/git/trees/{stable_sha(f'tree:{sha}')}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{WEB}/{repo.full_name}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": author,
        "committer": author,
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{WEB}/{repo.full_name}/commit/{p}"} for p in parents
        ],
    }


def file_bytes(repo: Repo, path: str) -> bytes:
    if path.lower() == "readme.md":
        return repo.readme_text.encode()
    lines = stable_int(f"{repo.full_name}/{path}", 5, 300)
    return "".join(f"# {path}: line {i}\n" for i in range(lines)).encode()


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def content_entry(repo: Repo, path: str, ref: str, is_dir: bool, base: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    data = b"" if is_dir else file_bytes(repo, path)
    sha = stable_sha(f"tree:{repo.full_name}/{path}") if is_dir else blob_sha(data)
    html = f"{WEB}/{repo.full_name}/{'tree' if is_dir else 'blob'}/{ref}/{path}"
    self_url = f"{api}/contents/{path}?ref={ref}"
    git_url = f"{api}/git/{'trees' if is_dir else 'blobs'}/{sha}"
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": len(data),
        "url": self_url,
        "html_url": html,
        "git_url": git_url,
        "download_url": None if is_dir else f"{RAW}/{repo.full_name}/{ref}/{path}",
        "type": "dir" if is_dir else "file",
        "_links": {"self": self_url, "git": git_url, "html": html},
    }


def content_file(repo: Repo, path: str, ref: str, base: str) -> dict[str, Any]:
    """A file with its content, base64 in 60-character lines as GitHub sends it."""
    entry = content_entry(repo, path, ref, False, base)
    encoded = base64.b64encode(file_bytes(repo, path)).decode()
    lines = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    links = entry.pop("_links")
    return entry | {"content": lines + "\n", "encoding": "base64", "_links": links}


def branch(repo: Repo, name: str, base: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    return {
        "name": name,
        "commit": commit(repo, repo.commit_count - 1, base),
        "_links": {"self": f"{api}/branches/{name}", "html": f"{WEB}/{repo.full_name}/tree/{name}"},
        "protected": name == repo.default_branch,
        "protection_url": f"{api}/branches/{name}/protection",
    }


def rate_limit(core: dict[str, int], authenticated: bool, now: int) -> dict[str, Any]:
    """GET /rate_limit: the caller's core budget and the other resources at rest."""

    def bucket(limit: int, reset_in: int) -> dict[str, int]:
        return {"limit": limit, "used": 0, "remaining": limit, "reset": now + reset_in}

    resources = {
        "core": core,
        "search": bucket(30 if authenticated else 10, 60),
        "graphql": bucket(5000 if authenticated else 0, 3600),
        "integration_manifest": bucket(5000, 3600),
        "source_import": bucket(100, 60),
        "code_scanning_upload": bucket(1000, 3600),
        "code_scanning_autofix": bucket(10, 60),
        "actions_runner_registration": bucket(10000, 3600),
        "scim": bucket(15000, 3600),
        "dependency_snapshots": bucket(100, 60),
        "audit_log": bucket(1750, 3600),
        "audit_log_streaming": bucket(15, 3600),
        "code_search": bucket(10, 60),
    }
    return {"resources": resources, "rate": core}
