"""Everything paperwatch knows about particular hosts, as one table of data, and the user's rules on top.

A ``HostRule`` says, for one host pattern (an exact host, or ``"*.suffix"`` for that name and
every subdomain of it):

- ``family``: what the extractor calls a project link there (arxiv, doi, shortener, ...);
- politeness: ``max_concurrency``, ``min_interval``, ``headers`` (``checks.hosts.HostGate`` applies them);
- ``redirects``: whether a permanent redirect from there is news (``moved``) or simply how the
  host works (shorteners, DOI and handle resolvers); unset, the family decides;
- ``accept``: statuses that count as alive there, on top of the run's ``accept`` (lychee's ``accept``).

``BUILT_IN`` is the one table of built-in knowledge: adding a host is a change to it (plus a
test). Users extend it with ``[hosts."name"]`` tables (``parse_host_table``). ``rule_for`` finds a
host's rule: the exact host, else the longest matching ``*.suffix``, in the user's rules and in
the built-ins; a user's rule overrides a built-in one field by field (``headers`` and ``accept``
add to it), so ``max_concurrency = 8`` for github.com keeps its family.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from checks.errors import ConfigError


class Redirects(str, Enum):
    """What a permanent redirect (301, 308) from a host means."""

    NEWS = "news"  # the page moved: reported as ``moved``, with where it went
    EXPECTED = "expected"  # redirecting is the host's job (a shortener, a resolver): the link is alive

    def __str__(self) -> str:
        return self.value


# Families whose hosts exist to redirect: unless a rule says otherwise, their permanent redirects are not news.
REDIRECTING_FAMILIES = frozenset({"shortener", "doi"})


@dataclass(frozen=True)
class HostRule:
    """What is known about one host pattern; ``None`` (or empty) means "not said here"."""

    family: str | None = None
    max_concurrency: int | None = None  # None: the run's ``per_host``
    min_interval: float | None = None  # seconds between request starts; None: 0
    headers: Mapping[str, str] = field(default_factory=dict)
    redirects: Redirects | None = None  # None: from the family (``REDIRECTING_FAMILIES``), else news
    accept: tuple[int, ...] = ()  # statuses that count as alive for this host

    @property
    def redirects_expected(self) -> bool:
        """Is a permanent redirect from this host simply how it works (not a ``moved``)?"""
        if self.redirects is not None:
            return self.redirects is Redirects.EXPECTED
        return self.family in REDIRECTING_FAMILIES

    def over(self, base: HostRule) -> HostRule:
        """This rule on top of ``base``: what it says wins, ``headers`` and ``accept`` add up."""
        return HostRule(
            family=self.family if self.family is not None else base.family,
            max_concurrency=self.max_concurrency if self.max_concurrency is not None else base.max_concurrency,
            min_interval=self.min_interval if self.min_interval is not None else base.min_interval,
            headers={**base.headers, **self.headers},
            redirects=self.redirects if self.redirects is not None else base.redirects,
            accept=tuple(dict.fromkeys(base.accept + self.accept)),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (settings travel to Prefect tasks as dicts); unset fields are left out."""
        data: dict[str, Any] = {"family": self.family, "max_concurrency": self.max_concurrency,
                                "min_interval": self.min_interval, "headers": dict(self.headers),
                                "redirects": self.redirects.value if self.redirects else None, "accept": list(self.accept)}
        return {key: value for key, value in data.items() if value not in (None, {}, [])}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostRule:
        interval = data.get("min_interval")
        redirects = data.get("redirects")
        return cls(family=data.get("family"), max_concurrency=data.get("max_concurrency"),
                   min_interval=None if interval is None else float(interval), headers=dict(data.get("headers") or {}),
                   redirects=Redirects(redirects) if redirects else None, accept=tuple(data.get("accept") or ()))


def _each(hosts: str, rule: HostRule) -> dict[str, HostRule]:
    return dict.fromkeys(hosts.split(), rule)


_SHORTENER = HostRule(family="shortener")
_RESOLVER = HostRule(redirects=Redirects.EXPECTED)  # persistent-identifier resolvers: redirecting is their job

# The one table. Patterns with "*." cover the name and its subdomains (www. included); the
# extractor reads ``family`` from here for project links (github.com and huggingface.co links
# are classified by their paths before that).
BUILT_IN: Mapping[str, HostRule] = {
    # github.com serves repository pages (read without a token, 200-600 KB each) to anonymous
    # visitors and answers a burst from one address with 429: few at a time.
    "github.com": HostRule(family="github", max_concurrency=4),
    **_each("huggingface.co hf.co", HostRule(family="hub")),
    **_each("*.arxiv.org *.ar5iv.org", HostRule(family="arxiv")),
    **_each("*.doi.org", HostRule(family="doi")),
    **_each("hdl.handle.net w3id.org purl.org n2t.net identifiers.org", _RESOLVER),
    **_each("*.zenodo.org", HostRule(family="zenodo")),
    "*.figshare.com": HostRule(family="figshare"),
    "*.osf.io": HostRule(family="osf"),
    **_each("*.drive.google.com *.docs.google.com", HostRule(family="drive")),
    **_each("*.dropbox.com *.dl.dropboxusercontent.com", HostRule(family="dropbox")),
    **_each("*.onedrive.live.com *.sharepoint.com", HostRule(family="onedrive")),
    "*.anonymous.4open.science": HostRule(family="anonymous"),
    "*.openreview.net": HostRule(family="openreview"),
    "*.modelscope.cn": HostRule(family="modelscope"),
    "*.kaggle.com": HostRule(family="kaggle"),
    "*.colab.research.google.com": HostRule(family="colab"),
    "*.paperswithcode.com": HostRule(family="paperswithcode"),
    **_each("*.aka.ms *.bit.ly *.tinyurl.com *.t.co *.goo.gl *.ow.ly *.is.gd *.buff.ly *.rb.gy *.cutt.ly "
            "*.shorturl.at *.tiny.cc *.rebrand.ly *.t.ly *.s.id *.git.io *.1drv.ms *.lnkd.in *.amzn.to *.youtu.be",
            _SHORTENER),
}

FAMILIES = frozenset(rule.family for rule in BUILT_IN.values() if rule.family is not None)

# How links name hosts (``checks.link_kinds``): part of a link's identity in the history, so built
# in and not configurable. Other names of the same site, and hosts served only over HTTPS (an
# http:// link to them is the same link; *.github.io too).
HOST_ALIASES: Mapping[str, str] = {"www.github.com": "github.com", "www.huggingface.co": "huggingface.co",
                                   "hf.co": "huggingface.co"}
HTTPS_ONLY = frozenset({"github.com", "gist.github.com", "huggingface.co", "raw.githubusercontent.com"})


def matching(host: str, rules: Mapping[str, HostRule]) -> HostRule | None:
    """The rule for ``host`` (lower case) in ``rules``: the exact host, else the longest ``*.suffix`` that covers it."""
    exact = rules.get(host)
    if exact is not None:
        return exact
    best: tuple[int, HostRule] | None = None
    for pattern, rule in rules.items():
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            if best is None or len(pattern) > best[0]:
                best = (len(pattern), rule)
    return best[1] if best else None


@functools.lru_cache(maxsize=4096)
def built_in_rule(host: str) -> HostRule:
    """The built-in rule for ``host`` (an empty rule when the table says nothing)."""
    return matching(host.lower().rstrip("."), BUILT_IN) or HostRule()


def rule_for(host: str, user: Mapping[str, HostRule] | None = None) -> HostRule:
    """The rule that applies to ``host``: the user's matching rule over the built-in one."""
    host = host.lower().rstrip(".")
    built = built_in_rule(host)
    mine = matching(host, user) if user else None
    return mine.over(built) if mine is not None else built


def family_of(host: str) -> str | None:
    """The built-in family of ``host`` (the extractor's ``Link.family``)."""
    return built_in_rule(host).family


# --- the config file's [hosts."name"] tables -------------------------------------------------------

_KEYS = ("family", "max_concurrency", "min_interval", "headers", "redirects", "accept")


def parse_host_table(value: Any, source: str) -> dict[str, HostRule]:
    """``[hosts."name"]`` tables as rules, every key and type checked; errors name the file and the key."""
    if not isinstance(value, dict):
        raise ConfigError(f"config {source}: hosts must be a table of host names")
    return {host.lower(): _rule(host, table, source) for host, table in value.items()}


def _rule(host: str, table: Any, source: str) -> HostRule:
    def refuse(key: str, problem: str) -> ConfigError:
        return ConfigError(f"config {source}: hosts.{host}.{key} {problem}")

    if not isinstance(table, dict):
        raise ConfigError(f"config {source}: hosts.{host} must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"config {source}: unknown key hosts.{host}.{unknown[0]}")
    family = table.get("family")
    if family is not None and family not in FAMILIES:
        raise refuse("family", f"must be one of {', '.join(sorted(FAMILIES))}")
    limit = table.get("max_concurrency")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise refuse("max_concurrency", "must be a positive integer")
    interval = table.get("min_interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0):
        raise refuse("min_interval", "must be a non-negative number of seconds")
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise refuse("headers", "must be a table of strings")
    redirects = table.get("redirects")
    if redirects is not None and redirects not in {r.value for r in Redirects}:
        raise refuse("redirects", f"must be {' or '.join(repr(r.value) for r in Redirects)}")
    accept = table.get("accept", [])
    if not isinstance(accept, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in accept):
        raise refuse("accept", "must be a list of integers")
    if not all(100 <= s <= 999 for s in accept):
        raise refuse("accept", "must hold HTTP statuses (100 to 999)")
    return HostRule(family=family, max_concurrency=limit, min_interval=None if interval is None else float(interval),
                    headers=headers, redirects=Redirects(redirects) if redirects else None, accept=tuple(accept))
