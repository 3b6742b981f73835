"""A rate-limited answer is read GitHub's way, and the reason says only what the answer said."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from checks.ratelimits import github_limit, is_rate_limit, retry_after_seconds

NOW = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
PRIMARY = "API rate limit exceeded for 127.0.0.1."


@pytest.mark.parametrize(("headers", "message", "seconds", "when", "secondary"), [
    # a secondary limit as GitHub sends it: Retry-After, and the hourly budget's headers with plenty left
    ({"Retry-After": "60", "X-RateLimit-Remaining": "4990", "X-RateLimit-Reset": str(int(NOW) + 3000)}, SECONDARY,
     60.0, "asked to wait 60 s", True),
    # the hourly budget spent: wait for its reset, whatever the message
    ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)}, PRIMARY, 600.0, "resets at 14:23 UTC", False),
    ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)}, SECONDARY, 600.0, "resets at 14:23 UTC", True),
    # a secondary limit with neither: GitHub asks for at least a minute; the hourly reset is not when it lifts
    ({"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": str(int(NOW) + 3000)}, SECONDARY,
     60.0, "no wait given (GitHub asks for at least a minute)", True),
    ({}, SECONDARY, 60.0, "no wait given (GitHub asks for at least a minute)", True),
    # no header at all and no word of a secondary limit: nothing is made up
    ({}, PRIMARY, float("inf"), "no reset time given", False),
])
def test_github_limits_are_read_as_github_documents_them(headers: dict[str, str], message: str, seconds: float,
                                                          when: str, secondary: bool) -> None:
    limit = github_limit(headers, message, now=NOW)
    assert (limit.seconds, limit.when, limit.secondary) == (seconds, when, secondary)
    assert "00:00 UTC" not in limit.when


def test_graphql_points_short_of_a_querys_cost_are_the_hourly_budget_even_with_some_remaining() -> None:
    limit = github_limit({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(int(NOW) + 60)}, budget=True, now=NOW)
    assert limit.reason("GraphQL", authenticated=True) == \
        "not checked: GitHub GraphQL rate limit exhausted (token); resets at 14:14 UTC"


def test_a_reset_a_day_away_gives_its_date() -> None:
    limit = github_limit({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30 * 3600)}, now=NOW)
    assert limit.when == "resets at 2026-09-22 20:13 UTC"


def test_the_reason_names_the_api_the_kind_of_limit_and_the_wait() -> None:
    limit = github_limit({"Retry-After": "120"}, SECONDARY, now=NOW)
    assert limit.reason("API", authenticated=False) == "not checked: GitHub API secondary rate limit hit (no token); asked to wait 120 s"


def test_retry_after_may_be_an_http_date() -> None:
    assert retry_after_seconds(formatdate(NOW + 90, usegmt=True), now=NOW) == 90.0
    assert github_limit({"Retry-After": formatdate(NOW + 90, usegmt=True)}, SECONDARY, now=NOW).when == "asked to wait 90 s"
    assert retry_after_seconds("soon") == float("inf")


@pytest.mark.parametrize(("status", "message", "limited"), [
    (429, "", True), (403, SECONDARY, True), (403, PRIMARY, True), (403, "Repository access blocked", False), (404, "", False)])
def test_what_counts_as_a_rate_limit(status: int, message: str, limited: bool) -> None:
    assert is_rate_limit(status, message) is limited
