"""POST /graphql on the GitHub face: GitHub's GraphQL API, executed by graphql-core over the simulated world.

GitHub answers GraphQL unlike REST: anonymous callers are refused outright (401), the
budget is the token's separate `graphql` resource counted in points (the query's
static cost, see `graphql_schema.measure`), and almost every failure is HTTP 200 with
an `errors` array: validation, pagination and node-limit errors, NOT_FOUND/FORBIDDEN
for single repositories, and RATE_LIMITED for an exhausted budget. A repo fault
(`drop`, `status`) anywhere in the query breaks the whole request, as a backend
failure does on GitHub.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from graphql import GraphQLError, GraphQLSyntaxError, execute_sync, get_operation_ast, parse, validate

from . import github_json as js
from .graphql_schema import ROOT, SCHEMA, Context, measure
from .ratelimit import Budget
from .respond import bearer, drop, json_response
from .state import SimState

if TYPE_CHECKING:
    from .github import Call, GitHubFace

# /graphql for a base URL without a path; /api/graphql for GitHub Enterprise's /api/v3 (PyGithub derives both)
PATHS = ("/graphql", "/api/graphql")
DOCS = "https://docs.github.com/graphql"
AUTH_DOCS = f"{DOCS}/guides/forming-calls-with-graphql#authenticating-with-graphql"

Body = dict[str, Any]


def _errors(*messages: str) -> Body:
    return {"errors": [{"message": m} for m in messages]}


def github_error(error: GraphQLError) -> Body:
    """graphql-core's error in GitHub's key order, with GitHub's `type` when a resolver gave one."""
    kind = getattr(error.original_error, "type", None)
    body: Body = {"type": kind} if kind else {}
    if error.path:
        body["path"] = list(error.path)
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    body["message"] = error.message
    return body


class GraphQLFace:
    def __init__(self, state: SimState, rest: GitHubFace) -> None:
        self.state = state
        self.rest = rest  # for the shared headers and the secondary-limit answer

    async def handle(self, request: web.Request, call: Call) -> web.StreamResponse:
        """Authenticate, read the body, run the query; every answer carries the `graphql` budget."""
        rate = call.gh.rate_limit
        windows = self.state.graphql_windows
        points = 0
        if not call.authenticated:
            budget = Budget(0, 0, int(time.time()) + rate.reset_in)
            if bearer(request):
                response = json_response(js.error("Bad credentials", DOCS, 401), 401)
            else:
                message = "This endpoint requires you to be authenticated."
                response = json_response(js.error(message, AUTH_DOCS, 401), 401)
        else:
            budget = windows.peek(call.client, rate.authenticated, rate.reset_in)
            try:
                payload = json.loads(await request.read())
            except ValueError:
                response = json_response({"message": "Problems parsing JSON", "documentation_url": DOCS}, 400)
            else:
                outcome = self.run(payload, call, budget)
                if outcome is None:
                    self.state.record("graphql", request.method, request.path_qs, call.client, None)
                    return drop(request)
                response, points = outcome
            if points:
                budget = windows.charge(call.client, rate.authenticated, rate.reset_in, points)
        self.rest.add_headers(response, call, budget, "graphql")
        self.state.record("graphql", request.method, request.path_qs, call.client, response.status, points)
        return response

    def run(self, payload: Any, call: Call, budget: Budget) -> tuple[web.Response, int] | None:
        """The answer and the points it costs; None for a dropped connection.

        Refusals before execution (syntax, validation, pagination, node limit, budget)
        cost nothing; an executed query costs its points even when a repo fault turns
        the answer into a 5xx (GitHub counts timeouts against the limit too).
        """
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        if isinstance(variables, str):
            try:
                variables = json.loads(variables) if variables.strip() else None
            except ValueError:
                return json_response(_errors("Variables are invalid JSON.")), 0
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            return json_response(_errors("A query attribute must be specified and must be a string.")), 0
        variables = variables or {}
        operation_name = payload.get("operationName") or None
        try:
            document = parse(query)
        except GraphQLSyntaxError as error:
            return json_response({"errors": [github_error(error)]}), 0
        invalid = validate(SCHEMA, document)
        if invalid:
            return json_response({"errors": [github_error(e) for e in invalid]}), 0
        operation = get_operation_ast(document, operation_name)
        cost = measure(document, operation, variables) if operation else None
        if cost and cost.errors:
            return json_response({"data": None, "errors": cost.errors}), 0
        points = cost.cost if cost else 1
        if points > budget.remaining:
            return self.exhausted(call, budget), 0
        after = Budget(budget.limit, budget.used + points, budget.reset_at)
        rate_limit = {
            "cost": points,
            "limit": after.limit,
            "nodeCount": cost.nodes if cost else 0,
            "remaining": after.remaining,
            "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(after.reset_at)),
            "used": after.used,
        }
        context = Context(call.gh, rate_limit)
        result = execute_sync(
            SCHEMA, document, ROOT, context, variable_values=variables, operation_name=operation_name
        )
        if any(repo.drop for repo in context.touched):
            return None
        failing = next((repo.status for repo in context.touched if repo.status is not None), None)
        if failing is not None:
            message = (
                "Something went wrong while executing your query. This may be the result of a timeout, or it "
                f"could be a GitHub bug. Please include `{call.request_id}` when reporting this issue."
            )
            return json_response({"data": None, **_errors(message)}, failing), points
        body: Body = {"data": result.data}
        if result.errors:
            body["errors"] = [github_error(e) for e in result.errors]
        return json_response(body), points if result.data is not None else 0

    def exhausted(self, call: Call, budget: Budget) -> web.Response:
        """A primary limit is HTTP 200 with a RATE_LIMITED error; a scenario's secondary limit answers like REST."""
        if call.gh.rate_limit.retry_after is not None:
            return self.rest.exhausted(call, budget)
        message = f"API rate limit exceeded for user ID {js.user_id(call.client)}."
        return json_response({"errors": [{"type": "RATE_LIMITED", "message": message}]})
