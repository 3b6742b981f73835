"""The simulated GitHub REST API, as PyGithub calls it.

One middleware does what GitHub does around every call (token check, per-client
budget, ETag/304, the standard headers); handlers only find the repository and build
the body. POST /graphql leaves it right after the token is known: `graphql_face`
charges its own resource.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable
from urllib.parse import unquote, urlencode

from aiohttp import web

from . import github_json as js
from .faults import DROPPED, trouble
from .graphql_face import PATHS as GRAPHQL_PATHS
from .graphql_face import GraphQLFace
from .issues import IssuesFace
from .pages import reason
from .ratelimit import Budget
from .respond import Drop, bearer, drop, json_response
from .state import SimState
from .world import GitHub, Repo

ANONYMOUS = "anonymous"
DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
STATIC_HEADERS = {
    "Server": "github.com",
    "X-GitHub-Media-Type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
    "Access-Control-Expose-Headers": (
        "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, "
        "X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, "
        "X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"
    ),
    "Access-Control-Allow-Origin": "*",
    "Strict-Transport-Security": "max-age=31536000; includeSubdomains; preload",
    "X-Frame-Options": "deny",
    "X-Content-Type-Options": "nosniff",
    "X-XSS-Protection": "0",
    "Referrer-Policy": "origin-when-cross-origin, strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'none'",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """What every handler needs about the request in flight."""

    gh: GitHub
    base: str  # the simulator's own address, as the client reached it
    client: str  # token or "anonymous"
    authenticated: bool
    request_id: str


CALL = web.RequestKey("call", Call)


def request_id() -> str:
    """Shaped like GitHub's, e.g. C484:49F3:317517:31F05B:6459ED9B."""
    parts = [secrets.token_hex(n).upper() for n in (2, 2, 3, 3)]
    return ":".join([*parts, f"{int(time.time()):X}"])


def not_found(documentation_url: str = DOCS, message: str = "Not Found") -> web.Response:
    return json_response(js.error(message, documentation_url, 404), 404)


def etag_of(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as HTTP prescribes for If-None-Match."""
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


class GitHubFace:
    def __init__(self, state: SimState) -> None:
        self.state = state
        self.graphql = GraphQLFace(state, self)
        self.issues = IssuesFace(self)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        app.router.add_get("/rate_limit", self.rate_limit)
        self.issues.add_routes(app)  # before the catch-all repository routes
        app.router.add_get("/repos/{owner}/{repo}", self.repo_by_name)
        app.router.add_get("/repos/{owner}/{repo}/{rest:.*}", self.repo_by_name)
        app.router.add_get(r"/repositories/{id:\d+}", self.repo_by_id)
        app.router.add_get(r"/repositories/{id:\d+}/{rest:.*}", self.repo_by_id)
        app.router.add_get("/users/{login}", self.user)
        app.router.add_route("*", "/{tail:.*}", self.unknown_route)
        return app

    # --- around every call -------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        gh = self.state.world.github
        token = bearer(request)
        bad_token = token is not None and token not in gh.tokens
        client = ANONYMOUS if token is None or bad_token else token
        call = Call(gh, f"http://{request.host}", client, client != ANONYMOUS, request_id())
        request[CALL] = call
        fault = trouble(self.state, "github", request.method, request.path_qs)
        if fault is not None:
            self.state.record("github", request.method, request.path_qs, client, fault or None)
            if fault == DROPPED:
                return drop(request)
            return json_response(js.error(reason(fault), DOCS, fault), fault)
        graphql = request.method == "POST" and request.path in GRAPHQL_PATHS
        if not bad_token and request.path != "/rate_limit" and self.too_fast(call):
            return self.secondary_limited(request, call, graphql)
        if graphql:
            return await self.graphql.handle(request, call)
        rate = gh.rate_limit
        limit = rate.authenticated if call.authenticated else rate.anonymous
        windows = self.state.github_windows
        budget = windows.peek(client, limit, rate.reset_in)
        charge = request.path != "/rate_limit"
        if bad_token:
            response: web.StreamResponse = json_response(js.error("Bad credentials", DOCS, 401), 401)
        elif charge and budget.exhausted:
            response, charge = self.exhausted(call, budget), False
        else:
            try:
                response = await handler(request)
            except Drop:
                self.state.record("github", request.method, request.path_qs, client, None)
                return drop(request)
            response, free = self.conditional(request, response, call)
            charge = charge and not free
        if charge:
            budget = windows.charge(client, limit, rate.reset_in)
        self.add_headers(response, call, budget)
        self.state.record("github", request.method, request.path_qs, client, response.status, int(charge))
        return response

    def conditional(
        self, request: web.Request, response: web.StreamResponse, call: Call
    ) -> tuple[web.StreamResponse, bool]:
        """Tag every 200 and answer 304 to a matching If-None-Match (free when authenticated, as on GitHub)."""
        if response.status != 200 or not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return response, False
        etag = etag_of(response.body)
        response.headers["ETag"] = etag
        inm = request.headers.get("If-None-Match")
        last_modified = response.headers.get("Last-Modified")
        ims = request.headers.get("If-Modified-Since")
        fresh = _matches(inm, etag) if inm else bool(ims and last_modified and _not_newer(last_modified, ims))
        if not fresh:
            return response, False
        not_modified = web.Response(status=304, headers={"ETag": etag})
        if last_modified:
            not_modified.headers["Last-Modified"] = last_modified
        return not_modified, call.authenticated

    def too_fast(self, call: Call) -> bool:
        """Count this call against the client's secondary (burst) limit; True once it is over it."""
        secondary = call.gh.rate_limit.secondary
        if secondary is None:
            return False
        spent = self.state.secondary_windows.charge(call.client, secondary.requests, secondary.window)
        return spent.used > secondary.requests

    def secondary_limited(self, request: web.Request, call: Call, graphql: bool) -> web.Response:
        """The secondary-limit refusal, with the primary budget's headers as they stand (Remaining not 0)."""
        rate = call.gh.rate_limit
        secondary = rate.secondary
        assert secondary is not None
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {call.request_id}."
        )
        headers = {"Retry-After": str(secondary.retry_after)} if secondary.retry_after is not None else {}
        response = json_response(js.error(message, SECONDARY_DOCS, secondary.status), secondary.status, headers)
        if graphql:
            budget = self.state.graphql_windows.peek(call.client, rate.authenticated, rate.reset_in)
        else:
            limit = rate.authenticated if call.authenticated else rate.anonymous
            budget = self.state.github_windows.peek(call.client, limit, rate.reset_in)
        self.add_headers(response, call, budget, "graphql" if graphql else "core")
        self.state.record("graphql" if graphql else "github", request.method, request.path_qs, call.client,
                          secondary.status)
        return response

    def exhausted(self, call: Call, budget: Budget) -> web.Response:
        """The real rate-limit-exceeded answer: primary by default, secondary style with Retry-After."""
        rate = call.gh.rate_limit
        status = rate.exhausted_status
        if rate.retry_after is not None:
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                f"If you reach out to GitHub Support for help, please include the request ID {call.request_id}."
            )
            return json_response(
                js.error(message, SECONDARY_DOCS, status), status, {"Retry-After": str(rate.retry_after)}
            )
        if call.authenticated:
            message = (
                f"API rate limit exceeded for user ID {js.user_id(call.client)}. If you reach out to GitHub Support "
                f"for help, please include the request ID {call.request_id} and timestamp "
                f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}."
            )
        else:
            message = (
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a "
                "higher rate limit. Check out the documentation for more details.)"
            )
        return json_response(js.error(message, RATE_DOCS, status), status)

    @staticmethod
    def add_headers(response: web.StreamResponse, call: Call, budget: Budget, resource: str = "core") -> None:
        cached = response.status in (200, 304)
        headers = response.headers
        headers.update(STATIC_HEADERS)
        if cached:
            headers["Cache-Control"] = f"{'private' if call.authenticated else 'public'}, max-age=60, s-maxage=60"
            headers["Vary"] = (
                "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, Accept, X-Requested-With"
                if call.authenticated
                else "Accept, Accept-Encoding, Accept, X-Requested-With"
            )
        else:
            headers.setdefault("Cache-Control", "no-cache")
            headers["Vary"] = "Accept-Encoding, Accept, X-Requested-With"
        headers["X-RateLimit-Limit"] = str(budget.limit)
        headers["X-RateLimit-Remaining"] = str(budget.remaining)
        headers["X-RateLimit-Reset"] = str(budget.reset_at)
        headers["X-RateLimit-Used"] = str(min(budget.used, budget.limit))
        headers["X-RateLimit-Resource"] = resource
        headers["X-GitHub-Request-Id"] = call.request_id

    # --- routes ------------------------------------------------------------------------

    async def rate_limit(self, request: web.Request) -> web.Response:
        call = request[CALL]
        rate = call.gh.rate_limit
        limit = rate.authenticated if call.authenticated else rate.anonymous
        budget = self.state.github_windows.peek(call.client, limit, rate.reset_in)
        core = {"limit": budget.limit, "used": budget.used, "remaining": budget.remaining, "reset": budget.reset_at}
        body = js.rate_limit(core, call.authenticated, int(time.time()))
        if call.authenticated:
            spent = self.state.graphql_windows.peek(call.client, rate.authenticated, rate.reset_in)
            body["resources"]["graphql"] = {
                "limit": spent.limit, "used": spent.used, "remaining": spent.remaining, "reset": spent.reset_at
            }
        response = json_response(body)
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def unknown_route(self, request: web.Request) -> web.Response:
        return not_found()

    async def user(self, request: web.Request) -> web.Response:
        call = request[CALL]
        found = call.gh.owner(request.match_info["login"])
        if found is None:
            return not_found(f"{DOCS}/users/users#get-a-user")
        login, kind = found
        return json_response(js.user(login, kind, call.gh, call.base))

    async def repo_by_name(self, request: web.Request) -> web.Response:
        call = request[CALL]
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        rest = request.match_info.get("rest", "")
        repo = call.gh.find(full_name)
        if repo is not None:
            return self.serve(request, repo, rest)
        moved = call.gh.find_renamed(full_name)
        if moved is not None and not moved.private:
            return self.moved(request, moved, rest)
        return not_found(f"{DOCS}/repos/repos#get-a-repository")

    async def repo_by_id(self, request: web.Request) -> web.Response:
        call = request[CALL]
        repo = call.gh.by_id(int(request.match_info["id"]))
        if repo is None:
            return not_found()
        return self.serve(request, repo, request.match_info.get("rest", ""))

    @staticmethod
    def call(request: web.Request) -> Call:
        return request[CALL]

    @staticmethod
    def moved(request: web.Request, repo: Repo, rest: str, temporary: bool = False) -> web.Response:
        """A renamed or transferred repo: 301 to /repositories/{id}, as GitHub answers (307 for writes)."""
        call = request[CALL]
        location = f"{call.base}/repositories/{repo.repo_id}" + (f"/{rest}" if rest else "")
        if request.query_string:
            location += f"?{request.query_string}"
        body = {
            "message": "Temporary Redirect" if temporary else "Moved Permanently",
            "url": location,
            "documentation_url": "https://docs.github.com/v3/#http-redirects",
        }
        return json_response(body, 307 if temporary else 301, {"Location": location})

    def refusal(self, repo: Repo) -> web.Response | None:
        """Faults first (they stand for the infrastructure), then visibility; None when the repo may be served."""
        if repo.drop:
            raise Drop
        if repo.status is not None:
            message = "Server Error" if repo.status == 500 else reason(repo.status)
            return json_response(js.error(message, DOCS, repo.status), repo.status)
        if repo.private:
            return not_found(f"{DOCS}/repos/repos#get-a-repository")
        if repo.blocked or repo.disabled:
            return self.blocked(repo)
        return None

    def serve(self, request: web.Request, repo: Repo, rest: str) -> web.Response:
        """The repository or one of its sub-resources, unless the repo itself is refused."""
        call = request[CALL]
        refused = self.refusal(repo)
        if refused is not None:
            return refused
        parts = rest.strip("/").split("/") if rest.strip("/") else []
        head, tail = (parts[0], parts[1:]) if parts else ("", [])
        if head == "":
            return self.repository(call, repo)
        if head == "commits" and not tail:
            return self.commits(request, call, repo)
        if head == "releases":
            return self.releases(request, call, repo, tail)
        if head == "contents":
            return self.contents(request, call, repo, unquote("/".join(tail)))
        if head == "readme" and not tail:
            return self.readme(request, call, repo)
        if head == "branches" and tail:
            name = unquote("/".join(tail))
            if name in repo.all_branches and not repo.empty:
                return json_response(js.branch(repo, name, call.base))
            return not_found(f"{DOCS}/branches/branches#get-a-branch", "Branch not found")
        return not_found()

    @staticmethod
    def blocked(repo: Repo) -> web.Response:
        """DMCA takedowns answer 451; ToS-disabled repos answer 403, both with the block object."""
        why = repo.blocked or "tos"
        created = js.stamp(repo.updated)
        if why == "dmca":
            notice = f"https://github.com/github/dmca/blob/master/{repo.updated:%Y/%m/%Y-%m-%d}-{repo.name.lower()}.md"
        else:
            notice = "https://github.com/tos"
        body = {
            "message": "Repository access blocked",
            "block": {"reason": why, "created_at": created, "html_url": notice},
        }
        return json_response(body, 451 if why == "dmca" else 403)

    @staticmethod
    def repository(call: Call, repo: Repo) -> web.Response:
        response = json_response(js.repository(repo, call.gh, call.base, call.authenticated))
        response.headers["Last-Modified"] = repo.updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return response

    def commits(self, request: web.Request, call: Call, repo: Repo) -> web.Response:
        if repo.empty:
            return json_response(
                js.error("Git Repository is empty.", f"{DOCS}/commits/commits#list-commits", 409), 409
            )
        sha = request.query.get("sha")
        known = {js.commit_sha(repo, i) for i in range(repo.commit_count)}
        if sha and not repo.has_ref(sha) and sha not in known:
            return not_found(f"{DOCS}/commits/commits#list-commits", f"No commit found for SHA: {sha}")
        newest_first = list(range(repo.commit_count - 1, -1, -1))
        return self.page(request, call, repo, "commits", newest_first, lambda i: js.commit(repo, i, call.base))

    def releases(self, request: web.Request, call: Call, repo: Repo, tail: list[str]) -> web.Response:
        listed = js.visible_releases(repo)
        docs = f"{DOCS}/releases/releases"
        if not tail:
            return self.page(request, call, repo, "releases", listed, lambda r: js.release(repo, r, call.base))
        if tail == ["latest"]:
            latest = js.latest_release(repo)
            if latest is None:
                return not_found(f"{docs}#get-the-latest-release")
            return json_response(js.release(repo, latest, call.base))
        if len(tail) >= 2 and tail[0] == "tags":
            tag = unquote("/".join(tail[1:]))
            match = next((r for r in listed if r.tag == tag), None)
        elif len(tail) == 1 and tail[0].isdigit():
            match = next((r for r in listed if js.release_id(repo, r) == int(tail[0])), None)
        else:
            match = None
        if match is None:
            return not_found(f"{docs}#get-a-release")
        return json_response(js.release(repo, match, call.base))

    def contents(self, request: web.Request, call: Call, repo: Repo, path: str) -> web.Response:
        docs = f"{DOCS}/repos/contents#get-repository-content"
        if repo.empty:
            return not_found(docs, "This repository is empty.")
        ref = request.query.get("ref") or repo.default_branch
        if not repo.has_ref(ref):
            return not_found(docs, f"No commit found for the ref {ref}")
        path = path.strip("/")
        files = repo.all_files
        if path in files:
            return json_response(js.content_file(repo, path, ref, call.base))
        prefix = f"{path}/" if path else ""
        children: dict[str, bool] = {}
        for f in files:
            if f.startswith(prefix):
                name, _, deeper = f[len(prefix) :].partition("/")
                children[name] = children.get(name, False) or bool(deeper)
        if not children:
            return not_found(docs)
        entries = sorted(children.items(), key=lambda item: (not item[1], item[0].lower()))
        return json_response(
            [js.content_entry(repo, f"{prefix}{name}", ref, is_dir, call.base) for name, is_dir in entries]
        )

    def readme(self, request: web.Request, call: Call, repo: Repo) -> web.Response:
        ref = request.query.get("ref") or repo.default_branch
        name = next((f for f in repo.all_files if "/" not in f and f.lower().startswith("readme")), None)
        if name is None or not repo.has_ref(ref):
            return not_found(f"{DOCS}/repos/contents#get-a-repository-readme")
        return json_response(js.content_file(repo, name, ref, call.base))

    @staticmethod
    def page(
        request: web.Request, call: Call, repo: Repo, resource: str, items: list[Any], render: Callable[[Any], Any]
    ) -> web.Response:
        """One page of a list, with the Link header GitHub sends (it points at /repositories/{id}/...)."""
        per_page = _int_param(request.query.get("per_page"), 30, 1, 100)
        page = _int_param(request.query.get("page"), 1, 1, 10**9)
        last = max(math.ceil(len(items) / per_page), 1)
        response = json_response([render(i) for i in items[(page - 1) * per_page : page * per_page]])
        if last > 1:
            params = [(k, v) for k, v in request.query.items() if k != "page"]

            def link(number: int, rel: str) -> str:
                query = urlencode([*params, ("page", number)])
                return f'<{call.base}/repositories/{repo.repo_id}/{resource}?{query}>; rel="{rel}"'

            rels = []
            if page > 1:
                rels.append(link(min(page - 1, last), "prev"))
            if page < last:
                rels += [link(page + 1, "next"), link(last, "last")]
            if page > 1:
                rels.append(link(1, "first"))
            response.headers["Link"] = ", ".join(rels)
        return response


def _int_param(text: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        value = default
    return min(max(value, low), high)


def _not_newer(last_modified: str, if_modified_since: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
