"""Issues on the simulated GitHub: list, open, read, edit (close, reopen) and comment, as PyGithub calls them.

Unlike everything else on the GitHub face, issues are not in the scenario: clients create
them, so they live in the simulation's mutable state (``IssueBook``), keyed by repository
id so they follow renames, and they survive phase switches and ``load()``. Bodies follow
the recorded real exchanges (PyGithub's ``Issue.setUp`` of 2025 for the issue object,
``Issue.testCreateComment`` and ``Issue.testEditWithAllParameters`` for the calls).
"""

from __future__ import annotations

import base64
import functools
import itertools
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from . import github_json as js
from .respond import json_response
from .world import Repo, stable_int

if TYPE_CHECKING:
    from .github import GitHubFace

ISSUE_DOCS = "https://docs.github.com/rest/issues/issues"
COMMENT_DOCS = "https://docs.github.com/rest/issues/comments"
TOKEN_USER = "simweb-user"  # the login every accepted token acts as
LABEL_COLOR = "ededed"  # what GitHub gives a label created on the fly
STATES = ("open", "closed")
STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class Comment:
    id: int
    body: str
    author: str
    created: datetime
    updated: datetime


@dataclass
class Issue:
    number: int
    title: str
    body: str | None
    author: str
    labels: list[str]
    created: datetime
    updated: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: list[Comment] = field(default_factory=list)


class IssueBook:
    """Every issue opened through the API, per repository id; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issues: dict[int, list[Issue]] = {}
        self._comment_ids = itertools.count(2_400_000_001)

    def open(self, repo_id: int, title: str, body: str | None, labels: list[str], author: str) -> Issue:
        with self._lock:
            issues = self._issues.setdefault(repo_id, [])
            now = _now()
            issue = Issue(len(issues) + 1, title, body, author, _unique(labels), now, now)
            issues.append(issue)
            return issue

    def get(self, repo_id: int, number: int) -> Issue | None:
        with self._lock:
            issues = self._issues.get(repo_id, [])
            return issues[number - 1] if 0 < number <= len(issues) else None

    def all(self, repo_id: int) -> list[Issue]:
        with self._lock:
            return list(self._issues.get(repo_id, []))

    def edit(self, issue: Issue, changes: dict[str, Any], who: str) -> None:
        with self._lock:
            for key in ("title", "body"):
                if key in changes:
                    setattr(issue, key, changes[key])
            if "labels" in changes:
                issue.labels = _unique(changes["labels"])
            state = changes.get("state")
            if state == "closed" and issue.state == "open":
                issue.state, issue.closed_at, issue.closed_by = "closed", _now(), who
                issue.state_reason = changes.get("state_reason") or "completed"
            elif state == "open" and issue.state == "closed":
                issue.state, issue.closed_at, issue.closed_by, issue.state_reason = "open", None, None, "reopened"
            elif "state_reason" in changes and issue.state == "closed":
                issue.state_reason = changes["state_reason"]
            issue.updated = _now()

    def comment(self, issue: Issue, body: str, author: str) -> Comment:
        with self._lock:
            now = _now()
            comment = Comment(next(self._comment_ids), body, author, now, now)
            issue.comments.append(comment)
            issue.updated = now
            return comment


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in labels:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


# --- JSON, in the key order of the recorded responses -------------------------------------

def _user(login: str, base: str) -> dict[str, Any]:
    return js.owner(login, "User", base)


def _reactions(url: str) -> dict[str, Any]:
    return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
            "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}


def _node_id(prefix: str, *parts: int) -> str:
    return prefix + base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def label_json(repo: Repo, name: str, base: str) -> dict[str, Any]:
    number = stable_int(f"label:{repo.repo_id}:{name.lower()}", 1_000_000_000, 8_000_000_000)
    return {"id": number, "node_id": _node_id("LA_kwDO", repo.repo_id, number),
            "url": f"{base}/repos/{repo.full_name}/labels/{quote(name, safe='')}", "name": name,
            "color": LABEL_COLOR, "default": False, "description": None}


def issue_json(repo: Repo, issue: Issue, base: str, single: bool = True) -> dict[str, Any]:
    """The issue object; ``closed_by`` only on single-issue answers, as GitHub sends it."""
    url = f"{base}/repos/{repo.full_name}/issues/{issue.number}"
    number = stable_int(f"issue:{repo.repo_id}:{issue.number}", 1_000_000_000, 2_000_000_000)
    body: dict[str, Any] = {
        "url": url,
        "repository_url": f"{base}/repos/{repo.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{js.WEB}/{repo.full_name}/issues/{issue.number}",
        "id": number,
        "node_id": _node_id("I_kwDO", repo.repo_id, issue.number),
        "number": issue.number,
        "title": issue.title,
        "user": _user(issue.author, base),
        "labels": [label_json(repo, name, base) for name in issue.labels],
        "state": issue.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": len(issue.comments),
        "created_at": js.stamp(issue.created),
        "updated_at": js.stamp(issue.updated),
        "closed_at": js.stamp(issue.closed_at),
        "author_association": "NONE",
        "type": None,
        "active_lock_reason": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0, "total_blocking": 0},
        "body": issue.body,
    }
    if single:
        body["closed_by"] = _user(issue.closed_by, base) if issue.closed_by else None
    body |= {"reactions": _reactions(url), "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
             "state_reason": issue.state_reason}
    return body


def comment_json(repo: Repo, issue: Issue, comment: Comment, base: str) -> dict[str, Any]:
    url = f"{base}/repos/{repo.full_name}/issues/comments/{comment.id}"
    return {
        "url": url,
        "html_url": f"{js.WEB}/{repo.full_name}/issues/{issue.number}#issuecomment-{comment.id}",
        "issue_url": f"{base}/repos/{repo.full_name}/issues/{issue.number}",
        "id": comment.id,
        "node_id": _node_id("IC_kwDO", repo.repo_id, comment.id),
        "user": _user(comment.author, base),
        "created_at": js.stamp(comment.created),
        "updated_at": js.stamp(comment.updated),
        "author_association": "NONE",
        "body": comment.body,
        "reactions": _reactions(url),
        "performed_via_github_app": None,
    }


# --- HTTP -------------------------------------------------------------------------------------

def _error(message: str, docs: str, status: int, errors: list[dict[str, Any]] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return json_response(body | {"documentation_url": docs, "status": str(status)}, status)


def _invalid(field_name: str, value: Any, docs: str) -> web.Response:
    return _error("Validation Failed", docs, 422, [{"value": value, "resource": "Issue", "field": field_name, "code": "invalid"}])


class _Refusal(Exception):
    """GitHub's answer instead of the one asked for (missing, moved, read-only, bad body): raised, and sent."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


def _answers_refusals(handler: Callable[[IssuesFace, web.Request], Awaitable[web.Response]]
                      ) -> Callable[[IssuesFace, web.Request], Awaitable[web.Response]]:
    @functools.wraps(handler)
    async def handle(face: IssuesFace, request: web.Request) -> web.Response:
        try:
            return await handler(face, request)
        except _Refusal as refusal:
            return refusal.response
    return handle


class IssuesFace:
    """The issue routes of the GitHub face; the middleware around them (tokens, budget) is the REST face's."""

    def __init__(self, rest: GitHubFace) -> None:
        self.rest = rest
        self.book = rest.state.issues

    def add_routes(self, app: web.Application) -> None:
        for prefix in ("/repos/{owner}/{repo}", r"/repositories/{id:\d+}"):
            issues = f"{prefix}/issues"
            app.router.add_get(issues, self.list_issues)
            app.router.add_post(issues, self.create)
            app.router.add_get(issues + r"/{number:\d+}", self.get)
            app.router.add_patch(issues + r"/{number:\d+}", self.edit)
            app.router.add_get(issues + r"/{number:\d+}/comments", self.list_comments)
            app.router.add_post(issues + r"/{number:\d+}/comments", self.create_comment)

    def _repo(self, request: web.Request, docs: str, write: bool) -> Repo:
        """The repository, or GitHub's answer: moved (301, or 307 for writes), missing, refused, read-only."""
        call = self.rest.call(request)
        if "id" in request.match_info:
            repo = call.gh.by_id(int(request.match_info["id"]))
        else:
            full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
            repo = call.gh.find(full_name)
            renamed = call.gh.find_renamed(full_name) if repo is None else None
            if renamed is not None and not renamed.private:
                rest = request.path.split(f"/{request.match_info['repo']}/", 1)[1]
                raise _Refusal(self.rest.moved(request, renamed, rest, temporary=write))
        if repo is None:
            raise _Refusal(_error("Not Found", docs, 404))
        refusal = self.rest.refusal(repo)
        if refusal is not None:
            raise _Refusal(refusal)
        if write and not call.authenticated:
            raise _Refusal(_error("Requires authentication", docs, 401))
        if write and repo.archived:
            raise _Refusal(_error("Repository was archived so is read-only.", docs, 403))
        return repo

    def _issue(self, repo: Repo, request: web.Request, docs: str) -> Issue:
        issue = self.book.get(repo.repo_id, int(request.match_info["number"]))
        if issue is None:
            raise _Refusal(_error("Not Found", docs, 404))
        return issue

    @staticmethod
    async def _json(request: web.Request, docs: str) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _Refusal(_error("Problems parsing JSON", docs, 400))
        return data

    @staticmethod
    def _labels(value: Any) -> list[str] | None:
        if not isinstance(value, list):
            return None
        names = [item.get("name") if isinstance(item, dict) else item for item in value]
        return names if all(isinstance(name, str) and name for name in names) else None

    @_answers_refusals
    async def list_issues(self, request: web.Request) -> web.Response:
        docs = f"{ISSUE_DOCS}#list-repository-issues"
        repo = self._repo(request, docs, write=False)
        state = request.query.get("state", "open")
        wanted = {name.strip().lower() for name in request.query.get("labels", "").split(",") if name.strip()}
        chosen = [issue for issue in self.book.all(repo.repo_id)
                  if (state == "all" or issue.state == state) and wanted <= {name.lower() for name in issue.labels}]
        key = (lambda i: i.updated) if request.query.get("sort") == "updated" else (lambda i: i.created)
        chosen.sort(key=lambda i: (key(i), i.number), reverse=request.query.get("direction", "desc") != "asc")
        call = self.rest.call(request)
        return self.rest.page(request, call, repo, "issues", chosen, lambda i: issue_json(repo, i, call.base, single=False))

    @_answers_refusals
    async def create(self, request: web.Request) -> web.Response:
        docs = f"{ISSUE_DOCS}#create-an-issue"
        repo = self._repo(request, docs, write=True)
        data = await self._json(request, docs)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            return _error('Invalid request.\n\n"title" wasn\'t supplied.', docs, 422)
        labels = self._labels(data.get("labels", []))
        body = data.get("body")
        if labels is None:
            return _invalid("labels", data.get("labels"), docs)
        if body is not None and not isinstance(body, str):
            return _invalid("body", body, docs)
        issue = self.book.open(repo.repo_id, title, body, labels, TOKEN_USER)
        answer = issue_json(repo, issue, self.rest.call(request).base)
        return json_response(answer, 201, {"Location": answer["url"]})

    @_answers_refusals
    async def get(self, request: web.Request) -> web.Response:
        docs = f"{ISSUE_DOCS}#get-an-issue"
        repo = self._repo(request, docs, write=False)
        issue = self._issue(repo, request, docs)
        return json_response(issue_json(repo, issue, self.rest.call(request).base))

    @_answers_refusals
    async def edit(self, request: web.Request) -> web.Response:
        docs = f"{ISSUE_DOCS}#update-an-issue"
        repo = self._repo(request, docs, write=True)
        issue = self._issue(repo, request, docs)
        data = await self._json(request, docs)
        if "state" in data and data["state"] not in STATES:
            return _invalid("state", data["state"], docs)
        if data.get("state_reason") is not None and data["state_reason"] not in STATE_REASONS:
            return _invalid("state_reason", data["state_reason"], docs)
        if "title" in data and (not isinstance(data["title"], str) or not data["title"].strip()):
            return _invalid("title", data["title"], docs)
        if "body" in data and data["body"] is not None and not isinstance(data["body"], str):
            return _invalid("body", data["body"], docs)
        if "labels" in data:
            labels = self._labels(data["labels"])
            if labels is None:
                return _invalid("labels", data["labels"], docs)
            data = {**data, "labels": labels}
        self.book.edit(issue, data, TOKEN_USER)
        return json_response(issue_json(repo, issue, self.rest.call(request).base))

    @_answers_refusals
    async def list_comments(self, request: web.Request) -> web.Response:
        docs = f"{COMMENT_DOCS}#list-issue-comments"
        repo = self._repo(request, docs, write=False)
        issue = self._issue(repo, request, docs)
        call = self.rest.call(request)
        return self.rest.page(request, call, repo, f"issues/{issue.number}/comments", list(issue.comments),
                              lambda c: comment_json(repo, issue, c, call.base))

    @_answers_refusals
    async def create_comment(self, request: web.Request) -> web.Response:
        docs = f"{COMMENT_DOCS}#create-an-issue-comment"
        repo = self._repo(request, docs, write=True)
        issue = self._issue(repo, request, docs)
        data = await self._json(request, docs)
        body = data.get("body")
        if not isinstance(body, str) or not body.strip():
            return _error('Invalid request.\n\n"body" wasn\'t supplied.', docs, 422)
        comment = self.book.comment(issue, body, TOKEN_USER)
        answer = comment_json(repo, issue, comment, self.rest.call(request).base)
        return json_response(answer, 201, {"Location": answer["url"]})
