"""How checks are made: endpoints, limits, remap rules.

Settings hold no secrets. Tokens are read from the environment (``GITHUB_TOKEN``,
``HF_TOKEN``) at the moment a client is built, so they can never travel through
Prefect parameters, logs, reports or the history database.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from checks.host_rules import HostRule
from checks.remap import RemapError as RemapError  # re-exported: settings are where users meet rules
from checks.remap import RemapRule as RemapRule
from checks.remap import canonical
from checks.remap import remap as remap

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_USER_AGENT = "paperwatch/0.1 (link-health monitor for research papers)"


@dataclass(frozen=True)
class CheckSettings:
    """Everything a check needs to know, as plain data (safe to pass to Prefect tasks)."""

    github_api_url: str = DEFAULT_GITHUB_API_URL
    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    remap_rules: tuple[RemapRule, ...] = ()
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 10.0  # seconds per request
    total_timeout: float = 60.0  # seconds per URL, all attempts and redirects included
    max_concurrency: int = 128
    per_host: int = 10
    max_redirects: int = 10
    max_body_bytes: int = 256 * 1024
    retries: int = 2  # extra attempts after a transient failure
    backoff: float = 0.5  # seconds, doubled per attempt, with jitter
    max_retry_after: float = 30.0  # longest Retry-After we are willing to wait within a run
    canaries: tuple[str, ...] = ()  # URLs that tell whether *we* have network
    accept: tuple[int, ...] = ()  # extra statuses that count as alive (e.g. 403 for a site known to refuse bots)
    exclude: tuple[str, ...] = ()  # regexes: matching URLs are skipped, never requested
    include: tuple[str, ...] = ()  # regexes: matching URLs are checked even when excluded
    soft404: bool = True  # look for "not found" pages served with 200, and parked domains
    hosts: Mapping[str, HostRule] = field(default_factory=dict)  # the user's host rules, over checks.host_rules.BUILT_IN
    github_token_env: str = "GITHUB_TOKEN"
    hf_token_env: str = "HF_TOKEN"

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
        """Defaults, then the public environment settings users already know."""
        base = cls(
            github_api_url=os.environ.get("GITHUB_API_URL", DEFAULT_GITHUB_API_URL).rstrip("/"),
            hf_endpoint=os.environ.get("HF_ENDPOINT", DEFAULT_HF_ENDPOINT).rstrip("/"),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


NOTIFY_ENV = "PAPERWATCH_NOTIFY"  # whitespace-separated Apprise URLs, read when alerts are sent
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go and how often; plain data.

    ``notify`` holds Apprise URLs (``slack://…``, ``mailto://…``, ``json://…``) or
    ``prefect-block:TYPE/NAME``. Apprise URLs carry their channel's secret, so they never travel
    as flow parameters (Prefect stores those): the command line hands them over in
    ``PAPERWATCH_NOTIFY``, and ``public_dict`` leaves them out.
    """

    notify: tuple[str, ...] = ()
    remind_every: int = 0  # runs between "still dead" reminders; 0: never
    tracking_issue: str | None = None  # "owner/repo" holding one issue that lists the dead links
    tracking_label: str = "paperwatch"

    def __post_init__(self) -> None:
        if self.remind_every < 0:
            raise ValueError("remind_every must be 0 (never) or a number of runs")
        if self.tracking_issue is not None and not _REPO_NAME.match(self.tracking_issue):
            raise ValueError(f"tracking issue repository {self.tracking_issue!r}: expected OWNER/REPO")
        for target in self.notify:
            if not (target.startswith("prefect-block:") or "://" in target):
                raise ValueError("notify: expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME")

    @property
    def enabled(self) -> bool:
        return bool(self.notify or self.tracking_issue)

    def public_dict(self) -> dict[str, Any]:
        """The settings that may be stored and shown: everything but the URLs."""
        return {"remind_every": self.remind_every, "tracking_issue": self.tracking_issue, "tracking_label": self.tracking_label}

    @classmethod
    def from_run(cls, notify: Sequence[str] | None, public: Mapping[str, Any] | None) -> "AlertSettings":
        """A run's settings: its ``notify`` targets plus those in ``PAPERWATCH_NOTIFY``, and the public part."""
        targets = tuple(notify or ()) + tuple(os.environ.get(NOTIFY_ENV, "").split())
        return cls(notify=tuple(dict.fromkeys(targets)), **dict(public or {}))
