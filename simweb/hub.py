"""The simulated Hugging Face Hub, as ``HfApi(endpoint=...)`` calls it.

huggingface_hub turns errors into exceptions from the X-Error-Code / X-Error-Message
headers, not from the status, so every refusal here carries the pair the real Hub
sends: RepoNotFound (401 anonymous, 404 with a token), GatedRepo (401/403),
"Access to this resource is disabled." (403; anonymous callers get the 401
RepoNotFound instead, as huggingface_hub PR #1965 records), RevisionNotFound,
EntryNotFound.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import date, datetime
from typing import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from . import hub_json as js
from .faults import DROPPED, trouble
from .pages import reason
from .respond import Drop, bearer, drop, json_response, stream
from .state import SimState
from .world import Hub, HubRepo, Paper, Space

ANONYMOUS = "anonymous"
KINDS = {"models": "model", "datasets": "dataset", "spaces": "space"}
REPO_SUFFIXES = {"revision", "auth-check", "runtime", "resolve", "tree"}
DISABLED = "Access to this resource is disabled."
STREAM_ABOVE = 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HUB = web.RequestKey("hub", Hub)
TOKEN = web.RequestKey("token", str)  # absent for anonymous callers


def hub_error(status: int, message: str, code: str | None = None) -> web.Response:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return json_response({"error": message}, status, headers)


def split_repo(parts: list[str]) -> tuple[str, list[str]]:
    """``org/name/...`` or a legacy single ``name/...``: the repo id and what follows it."""
    if len(parts) >= 2 and parts[1] not in REPO_SUFFIXES:
        return f"{parts[0]}/{parts[1]}", parts[2:]
    return parts[0], parts[1:]


class HubFace:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        app.router.add_get("/api/papers/search", self.paper_search)
        app.router.add_get("/api/papers/{id}", self.paper)
        app.router.add_get("/api/daily_papers", self.daily_papers)
        app.router.add_get("/api/{kind:models|datasets|spaces}", self.repo_list)
        app.router.add_get("/api/{kind:models|datasets|spaces}/{rest:.+}", self.repo_api)
        app.router.add_route("*", "/{tail:.*}", self.files)
        return app

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        hub = self.state.world.hub
        token = bearer(request)
        client = token or ANONYMOUS
        request[HUB] = hub
        if token is not None:
            request[TOKEN] = token
        fault = trouble(self.state, "hub", request.method, request.path_qs)
        if fault is not None:
            self.state.record("hub", request.method, request.path_qs, client, fault or None)
            return drop(request) if fault == DROPPED else hub_error(fault, reason(fault))
        limit = hub.rate_limit
        windows = self.state.hub_windows
        budget = windows.peek(client, limit.limit, limit.window) if limit else None
        points = 0
        if token is not None and token not in hub.tokens:
            response: web.StreamResponse = hub_error(401, "Invalid credentials in Authorization header")
        elif limit and budget and budget.exhausted:
            left = budget.seconds_left(time.time())
            response = json_response(
                {"error": "You have exceeded our rate limit. Please retry later."},
                429,
                {"Retry-After": str(limit.retry_after if limit.retry_after is not None else left)},
            )
        else:
            try:
                response = await handler(request)
            except Drop:
                self.state.record("hub", request.method, request.path_qs, client, None)
                return drop(request)
            if limit:
                budget, points = windows.charge(client, limit.limit, limit.window), 1
        if limit and budget:
            left = budget.seconds_left(time.time())
            response.headers["RateLimit"] = f'"api";r={budget.remaining};t={left}'
            response.headers["RateLimit-Policy"] = f'"fixed window";"api";q={limit.limit};w={limit.window}'
        response.headers["X-Request-Id"] = f"Root=1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"
        self.state.record("hub", request.method, request.path_qs, client, response.status, points)
        return response

    # --- access rules shared by the API and file downloads -------------------------------

    @staticmethod
    def refusal(repo: HubRepo | None, token: str | None) -> web.Response | None:
        """Why this caller may not see the repo at all (None: it may)."""
        if repo is not None and repo.drop:
            raise Drop
        if repo is not None and repo.status is not None:
            return json_response({"error": "Internal Error"}, repo.status)
        if repo is None or repo.private or (repo.disabled and token is None):
            return hub_error(401 if token is None else 404, "Repository not found", "RepoNotFound")
        if repo.disabled:
            return hub_error(403, DISABLED)
        return None

    @staticmethod
    def gated(repo: HubRepo, token: str | None) -> web.Response:
        label = f"{repo.kind} {repo.id}"
        if token is None:
            message = (
                f"Access to {label} is restricted. You must have access to it and be authenticated to access it. "
                "Please log in."
            )
            return hub_error(401, message, "GatedRepo")
        message = (
            f"Access to {label} is restricted and you are not in the authorized list. "
            f"Visit https://huggingface.co/{repo.id} to ask for access."
        )
        return hub_error(403, message, "GatedRepo")

    # --- /api/{models,datasets,spaces}/... ---------------------------------------------

    async def repo_api(self, request: web.Request) -> web.Response:
        hub = request[HUB]
        token = request.get(TOKEN)
        kind = KINDS[request.match_info["kind"]]
        raw = request.raw_path.split("?")[0].split("/")[3:]  # split before decoding: revisions may hold %2F
        repo_id, tail = split_repo([unquote(p) for p in raw])
        repo = hub.find(kind, repo_id)
        refused = self.refusal(repo, token)
        if refused is not None:
            return refused
        assert repo is not None
        head = tail[0] if tail else ""
        query = request.query
        if head in ("revision", "tree") and len(tail) > 1 and not repo.has_revision(tail[1]):
            return hub_error(404, f"Invalid rev id: {tail[1]}", "RevisionNotFound")
        if head == "tree" and len(tail) > 1:
            path = "/".join(tail[2:])
            listing = js.tree(repo, path, recursive=query.get("recursive", "").lower() == "true")
            if listing is None:
                return hub_error(404, f'{path} does not exist on "{tail[1]}"', "EntryNotFound")
            return json_response(listing)
        if tail == ["auth-check"]:
            return self.gated(repo, token) if repo.gated else json_response({})
        if tail == ["runtime"] and isinstance(repo, Space):
            return json_response(js.runtime(repo))
        if tail and not (head == "revision" and len(tail) == 2):
            return hub_error(404, "Not Found")
        return json_response(
            js.repo_info(
                repo,
                blobs=query.get("blobs", "").lower() == "true",
                expand=query.getall("expand", []),
                security=query.get("securityStatus", "").lower() == "true",
                cites=hub.citations(repo),
            )
        )

    async def repo_list(self, request: web.Request) -> web.Response:
        """GET /api/{models,datasets,spaces}: every ``filter`` a tag, ``author``, ``search`` in the id; cursor pages.

        A page holds ``hub.list_page_size`` items (``limit`` lowers it); when more remain, a
        ``Link: <...&cursor=...>; rel="next"`` header carries the query on, as the Hub's does.
        """
        hub = request[HUB]
        kind = KINDS[request.match_info["kind"]]
        query = request.query
        try:
            offset = _offset(query.get("cursor"))
        except ValueError:
            return hub_error(400, "Invalid cursor")
        wanted = set(query.getall("filter", []))
        author = query.get("author", "").lower()
        words = [w.lower() for w in query.getall("search", [])]
        found = [
            r
            for r in hub.repos(kind)
            if r.listed
            and wanted <= set(js.tags(r, hub.citations(r)))
            and (not author or (r.owner or "").lower() == author)
            and all(w in r.id.lower() for w in words)
        ]
        limit = _int(query.get("limit"), 0)
        size = min(limit, hub.list_page_size) if limit else hub.list_page_size
        page = found[offset : offset + size]
        expand = query.getall("expand", [])
        full = query.get("full", "").lower() == "true"
        body = [js.list_item(r, hub.citations(r), expand, full) for r in page]
        headers: dict[str, str] = {}
        if offset + size < len(found):
            rest = [(k, v) for k, v in query.items() if k != "cursor"] + [("cursor", _cursor(offset + size))]
            headers["Link"] = f'<{request.url.with_query(rest)}>; rel="next"'
        return json_response(body, headers=headers)

    # --- /{repo}/resolve/{rev}/{file} (and datasets/, spaces/) -------------------------

    async def files(self, request: web.Request) -> web.StreamResponse:
        hub = request[HUB]
        token = request.get(TOKEN)
        parts = [p for p in request.raw_path.split("?")[0].split("/") if p]
        kind = "model"
        if parts and parts[0] in KINDS and parts[0] != "models":
            kind, parts = KINDS[parts[0]], parts[1:]
        if not parts or request.method not in ("GET", "HEAD"):
            return hub_error(404, "Not Found")
        repo_id, tail = split_repo([unquote(p) for p in parts])
        if len(tail) < 3 or tail[0] != "resolve":
            return hub_error(404, "Not Found")
        repo = hub.find(kind, repo_id)
        refused = self.refusal(repo, token)
        if refused is not None:
            return refused
        assert repo is not None
        if repo.gated:
            return self.gated(repo, token)
        revision, name = tail[1], "/".join(tail[2:])
        if not repo.has_revision(revision):
            return hub_error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        f = repo.file(name)
        if f is None:
            return hub_error(404, "Entry not found", "EntryNotFound")
        size = js.file_size(repo, f)
        text = name.endswith((".md", ".txt", ".json", ".py", ".yaml", ".yml"))
        headers = {
            "ETag": f'"{js.file_etag(repo, f)}"',
            "X-Repo-Commit": repo.commit,
            "Accept-Ranges": "bytes",
            "Content-Type": "text/plain; charset=utf-8" if text else "application/octet-stream",
            "Content-Disposition": f"inline; filename*=UTF-8''{name.rsplit('/', 1)[-1]}",
        }
        if size > STREAM_ABOVE:
            return await stream(request, 200, size, headers)
        return web.Response(body=js.file_body(repo, f), headers=headers)

    # --- papers ------------------------------------------------------------------------

    async def paper(self, request: web.Request) -> web.Response:
        hub = request[HUB]
        found = hub.paper(request.match_info["id"])
        if found is None:
            return json_response({"error": "Paper not found"}, 404)
        return json_response(js.paper(found, hub))

    async def paper_search(self, request: web.Request) -> web.Response:
        hub = request[HUB]
        words = request.query.get("q", "").lower()
        found = [p for p in hub.papers if words in p.title.lower() or words in p.summary.lower()]
        limit = _int(request.query.get("limit"), 50)
        return json_response([js.daily_item(p, hub) for p in found[:limit]])

    async def daily_papers(self, request: web.Request) -> web.Response:
        """Filter by date/week/month/submitter, sort, then page with p/limit, as the client asks."""
        hub = request[HUB]
        query = request.query
        listed = [p for p in hub.papers if p.submitted_on_daily_at is not None]
        try:
            listed = _select_period(listed, query.get("date"), query.get("week"), query.get("month"))
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        if "submitter" in query:
            listed = [p for p in listed if p.submitted_by == query["submitter"]]
        if query.get("sort") == "trending":
            listed.sort(key=lambda p: p.upvotes, reverse=True)
        else:
            listed.sort(key=lambda p: p.submitted_on_daily_at or datetime.min, reverse=True)
        limit = _int(query.get("limit"), 50)
        page = _int(query.get("p"), 0)
        return json_response([js.daily_item(p, hub) for p in listed[page * limit : (page + 1) * limit]])


def _select_period(papers: list[Paper], day: str | None, week: str | None, month: str | None) -> list[Paper]:
    def when(p: Paper) -> date:
        assert p.submitted_on_daily_at is not None
        return p.submitted_on_daily_at.date()

    if day:
        wanted = date.fromisoformat(day)
        return [p for p in papers if when(p) == wanted]
    if week:
        year, _, number = week.partition("-W")
        return [p for p in papers if when(p).isocalendar()[:2] == (int(year), int(number))]
    if month:
        return [p for p in papers if when(p).strftime("%Y-%m") == month]
    latest = max((when(p) for p in papers), default=None)
    return [p for p in papers if when(p) == latest]


def _cursor(offset: int) -> str:
    """An opaque page cursor, as the Hub's are: clients only hand it back."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    """Where a cursor points; ValueError for anything this simulator did not hand out."""
    if cursor is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["offset"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(cursor) from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(cursor)
    return offset


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text), 0) if text is not None else default
    except ValueError:
        return default
