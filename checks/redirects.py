"""What a chain of redirects means: which hops are trivial, and where a permanent move leads, if that is news.

Whether a host's permanent redirect is news is its host rule's ``redirects_expected``
(``checks.host_rules``: shorteners and resolvers redirect for a living); the caller hands it in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit


def is_trivial_hop(source: str, target: str) -> bool:
    """http→https, adding or dropping ``www.`` or a trailing slash: not a move worth reporting."""
    a, b = urlsplit(source), urlsplit(target)
    host_a = (a.hostname or "").removeprefix("www.")
    host_b = (b.hostname or "").removeprefix("www.")
    return host_a == host_b and a.path.rstrip("/") == b.path.rstrip("/") and a.query == b.query


def permanent_move(url: str, hops: Sequence[tuple[int, str]], redirects_expected: Callable[[str], bool]) -> str | None:
    """Where a run of permanent redirects (301, 308) from ``url`` says the page now lives, if that is news.

    A hop that is trivial, or from a host whose redirects are expected (``redirects_expected(source_url)``),
    is followed but not reported.
    """
    source, moved_to = url, None
    for status, target in hops:
        if status not in (301, 308):
            break
        if not is_trivial_hop(source, target) and not redirects_expected(source):
            moved_to = target
        source = target
    return moved_to
