"""How checks are made: endpoints, limits, remap rules (``CheckSettings``).

The fields are the configuration file's check keys (``remap`` holds ``remap_rules``); their types
say what a value may be (``checks.setting_types``), so pydantic validates the file against them and
refuses a bad value naming the key (``checks.config``).

Settings hold no secrets. Tokens are read from the environment (``GITHUB_TOKEN``, ``HF_TOKEN``) at
the moment a client is built, so they can never travel through Prefect parameters, logs, reports
or the history database.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, BeforeValidator, ConfigDict, SkipValidation, Strict
from pydantic_core import PydanticCustomError

from checks.host_rules import HostRule
from checks.patterns import user_pattern_problem
from checks.remap import RemapError as RemapError  # re-exported: settings are where users meet rules
from checks.remap import RemapRule as RemapRule
from checks.remap import canonical
from checks.remap import remap as remap
from checks.setting_types import Count, Flag, PositiveInt, PositiveSeconds, RequestMethod, Seconds, Statuses, Strings, Text, said

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_USER_AGENT = "paperwatch/0.1 (link-health monitor for research papers)"
ENVIRONMENT = {"github_api_url": "GITHUB_API_URL", "hf_endpoint": "HF_ENDPOINT"}  # field: the public variable users know


def _endpoint(url: str) -> str:
    return url.rstrip("/")


def _rules(value: Any) -> Any:
    """Remap rules as written (``'REGEX REPLACEMENT'``), parsed; a bad one refused in its own words."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(rule, (str, RemapRule)) for rule in value):
        raise PydanticCustomError("refused", "must be a list of 'REGEX REPLACEMENT' strings")
    try:
        return tuple(rule if isinstance(rule, RemapRule) else RemapRule.parse(rule) for rule in value)
    except RemapError as exc:
        raise ValueError(str(exc)) from None


def _pattern(pattern: str) -> str:
    problem = user_pattern_problem(pattern)
    if problem:
        raise ValueError(f"regex {pattern!r}: {problem}")
    return pattern


Endpoint = Annotated[str, Strict(), said("a URL"), AfterValidator(_endpoint)]
RemapRules = Annotated[tuple[SkipValidation[RemapRule], ...], BeforeValidator(_rules)]
Patterns = Annotated[tuple[Annotated[str, Strict(), AfterValidator(_pattern)], ...], said("a list of regexes")]


@dataclass(frozen=True)
class CheckSettings:
    """Everything a check needs to know, as plain data (safe to pass to Prefect tasks)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # an unknown key in the file is refused, never ignored

    github_api_url: Endpoint = DEFAULT_GITHUB_API_URL
    hf_endpoint: Endpoint = DEFAULT_HF_ENDPOINT
    remap_rules: RemapRules = ()
    allow_private: Flag = False
    user_agent: Text = DEFAULT_USER_AGENT
    timeout: PositiveSeconds = 10.0  # seconds per request
    total_timeout: PositiveSeconds = 60.0  # seconds per URL, all attempts and redirects included
    max_concurrency: PositiveInt = 128
    per_host: PositiveInt = 10
    max_redirects: Count = 10
    max_body_bytes: PositiveInt = 256 * 1024
    retries: Count = 2  # extra attempts after a transient failure
    backoff: Seconds = 0.5  # seconds, doubled per attempt, with jitter
    max_retry_after: Seconds = 30.0  # longest Retry-After we are willing to wait within a run
    canaries: Strings = ()  # URLs that tell whether *we* have network
    accept: Statuses = ()  # extra statuses that count as alive (e.g. 403 for a site known to refuse bots)
    exclude: Patterns = ()  # regexes: matching URLs are skipped, never requested
    include: Patterns = ()  # regexes: matching URLs are checked even when excluded
    soft404: Flag = True  # look for "not found" pages served with 200, and parked domains
    # "get": one GET per hop, reading only what a verdict needs; "head": HEAD, then GET to confirm a failure or read HTML
    method: RequestMethod = "get"
    hosts: SkipValidation[Mapping[str, HostRule]] = field(default_factory=dict)  # the user's host rules over checks.host_rules.BUILT_IN, read by checks.host_rules.parse_host_table
    github_token_env: Text = "GITHUB_TOKEN"
    hf_token_env: Text = "HF_TOKEN"

    def excluded(self, url: str) -> bool:
        """Whether ``url`` is skipped: an ``exclude`` pattern matches and no ``include`` pattern does.

        Patterns see the canonical (WHATWG) form, as remap rules and lychee's patterns do:
        ``https://example.org`` is matched as ``https://example.org/``.
        """
        if not self.exclude:
            return False
        url = canonical(url)
        if any(re.search(pattern, url) for pattern in self.include):
            return False
        return any(re.search(pattern, url) for pattern in self.exclude)

    def github_token(self) -> str | None:
        return os.environ.get(self.github_token_env) or None

    def hf_token(self) -> str | None:
        return os.environ.get(self.hf_token_env) or None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form; never contains a token."""
        return {
            "github_api_url": self.github_api_url,
            "hf_endpoint": self.hf_endpoint,
            "remap_rules": [f"{r.pattern} {r.replacement}" for r in self.remap_rules],
            "allow_private": self.allow_private,
            "user_agent": self.user_agent,
            "timeout": self.timeout,
            "total_timeout": self.total_timeout,
            "max_concurrency": self.max_concurrency,
            "per_host": self.per_host,
            "max_redirects": self.max_redirects,
            "max_body_bytes": self.max_body_bytes,
            "retries": self.retries,
            "backoff": self.backoff,
            "max_retry_after": self.max_retry_after,
            "canaries": list(self.canaries),
            "accept": list(self.accept),
            "exclude": list(self.exclude),
            "include": list(self.include),
            "soft404": self.soft404,
            "method": self.method,
            "hosts": {host: rule.to_dict() for host, rule in self.hosts.items()},
            "github_token_env": self.github_token_env,
            "hf_token_env": self.hf_token_env,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CheckSettings":
        values = dict(data)
        values["remap_rules"] = tuple(RemapRule.parse(r) for r in values.get("remap_rules", ()))
        for key in ("canaries", "accept", "exclude", "include"):
            values[key] = tuple(values.get(key, ()))
        values["hosts"] = {host: HostRule.from_dict(rule) for host, rule in (values.get("hosts") or {}).items()}
        return cls(**values)

    @classmethod
    def from_environment(cls, **overrides: Any) -> "CheckSettings":
        """Defaults, then the public environment settings users already know (``ENVIRONMENT``)."""
        base = cls(**{key: _endpoint(os.environ[name]) for key, name in ENVIRONMENT.items() if os.environ.get(name)})
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
