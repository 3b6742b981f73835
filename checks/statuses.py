"""From an HTTP status to a state and a reason: one table that every checker reads.

Pages (``checks.http``), the GitHub API (``checks.github``) and the Hugging Face Hub
(``checks.huggingface``) all ask ``state_for_status``. Where a service's answer means something
else, the exception is a row of ``STATUS_TABLE`` naming that service (and, if it matters, words
of the answer's message), above the rows every service shares; the first row that fits wins.
Statuses a host accepts (``HostRule.accept``, the run's ``accept``) count as alive before the table.

The project's rule: a link is never ``dead`` because *we* failed. A 429 after our retries means
the host rate-limited us, so it is ``unknown`` everywhere, saying why; 401/403/999 are
``blocked`` (the site refused us), never evidence that the artifact is gone.
"""

from __future__ import annotations

import functools

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from checks.host_rules import HostRule
from checks.model import State


class Service(str, Enum):
    """Who answered: any web page, or one of the APIs paperwatch reads."""

    PAGE = "page"
    GITHUB_API = "github-api"
    HUB_API = "hub-api"
    GITHUB_GRAPHQL = "github-graphql"  # its errors are typed, not statuses: GRAPHQL_STATUS maps them

    @property
    def who(self) -> str:
        """How a reason names the one who answered."""
        return {"page": "the site", "github-api": "GitHub", "hub-api": "the Hugging Face Hub",
                "github-graphql": "GitHub"}[self.value]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StatusRule:
    """One row: these statuses (from ``service``, or any when None) mean ``state``.

    ``reason`` is a template over ``{status}``, ``{message}`` (the answer's own words),
    ``{detail}`` (``": message"``, or nothing), ``{what}`` (model, dataset, ...) and ``{who}``.
    ``message_has``: the row applies only when the answer's message contains these words.
    """

    statuses: Collection[int] | None  # None: every status, and none (an API error without a response)
    state: State
    reason: str
    service: Service | None = None
    message_has: str | None = None

    def fits(self, status: int | None, service: Service, message: str) -> bool:
        return ((self.service is None or self.service is service)
                and (self.statuses is None or (status is not None and status in self.statuses))
                and (self.message_has is None or self.message_has in message.lower()))


STATUS_TABLE: tuple[StatusRule, ...] = (
    # every service: a 429 that outlasted our retries is our limit, not the link's
    StatusRule((429,), State.UNKNOWN, "not checked: {who} rate-limited us (HTTP 429)"),
    # the GitHub API (its 404 arrives as PyGithub's UnknownObjectException, its rate limits are judged before)
    StatusRule((404,), State.DEAD, "repository not found (GitHub API answered 404)", Service.GITHUB_API),
    StatusRule((451,), State.DEAD, "repository access blocked for legal reasons (HTTP 451)", Service.GITHUB_API),
    StatusRule((401,), State.UNKNOWN, "not checked: GitHub refused our token (401 Bad credentials)", Service.GITHUB_API),
    StatusRule((403,), State.DEAD, "repository access blocked by GitHub ({message})", Service.GITHUB_API,
               message_has="blocked"),  # a DMCA or terms-of-service block: the repository is gone for readers
    StatusRule((403,), State.BLOCKED, "GitHub refused the request (HTTP {status}: {message})", Service.GITHUB_API),
    StatusRule(None, State.ERROR, "GitHub API error (HTTP {status}{detail})", Service.GITHUB_API),
    # GitHub's GraphQL API: an error's type, as the status the REST API gives for it (GRAPHQL_STATUS);
    # a ToS or DMCA block is a 451 there, as on REST, and any other missing answer is an error
    StatusRule((404,), State.DEAD, "repository not found (GitHub GraphQL: NOT_FOUND)", Service.GITHUB_GRAPHQL),
    StatusRule((451,), State.DEAD, "repository access blocked by GitHub ({message})", Service.GITHUB_GRAPHQL,
               message_has="blocked"),
    StatusRule(None, State.ERROR, "GitHub GraphQL gave no answer for this repository ({what}: {message})",
               Service.GITHUB_GRAPHQL),
    # the Hugging Face Hub (gated, disabled and missing repositories arrive as huggingface_hub's errors, judged before)
    StatusRule((404,), State.DEAD, "{what} not found on the Hub (HTTP 404)", Service.HUB_API),
    StatusRule((401, 403), State.BLOCKED, "the Hub refused us (HTTP {status})", Service.HUB_API),
    StatusRule(None, State.ERROR, "Hub API error (HTTP {status})", Service.HUB_API),
    # web pages
    StatusRule(range(200, 300), State.ALIVE, "HTTP {status}"),
    StatusRule((404,), State.DEAD, "not found (HTTP 404)"),
    StatusRule((410,), State.DEAD, "gone (HTTP 410)"),
    StatusRule((451,), State.DEAD, "unavailable for legal reasons (HTTP 451)"),
    StatusRule((401, 403, 999), State.BLOCKED, "the site refused us (HTTP {status}); not evidence that the page is gone"),
    StatusRule(range(500, 1000), State.ERROR, "server error (HTTP {status})"),
    StatusRule(None, State.ERROR, "unexpected answer (HTTP {status})"),
)


GRAPHQL_STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 451}  # a GraphQL error type: the REST status it stands for


def state_for_status(status: int | None, rule: HostRule | None = None, service: Service = Service.PAGE, *,
                     accept: Collection[int] = (), message: str = "", what: str = "") -> tuple[State, str]:
    """The state and reason for a final ``status`` from ``service``; pure, so every checker agrees.

    ``rule`` is the answering host's rule (its ``accept``), ``accept`` the run's accepted statuses.
    """
    if status is not None and (status in accept or (rule is not None and status in rule.accept)):
        return State.ALIVE, f"HTTP {status}"
    if not message and not what:
        return _plain(status, service)
    return _judge(status, service, message, what)


def _judge(status: int | None, service: Service, message: str, what: str) -> tuple[State, str]:
    row = next(row for row in STATUS_TABLE if row.fits(status, service, message))
    return row.state, row.reason.format(status=status, message=message, detail=f": {message}" if message else "",
                                        what=what, who=service.who)


@functools.lru_cache(maxsize=4096)
def _plain(status: int | None, service: Service) -> tuple[State, str]:
    """A page's (or an API's) status without a message: the same few answers over and over, judged once each."""
    return _judge(status, service, "", "")
