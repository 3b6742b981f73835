"""Which checker answers for which link: the API when one knows more than the page does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from checks.huggingface import HF_KINDS
from checks.model import Link, LinkKind, Paper

API_CHECKERS = {"github": frozenset({LinkKind.GITHUB_REPO}), "huggingface": HF_KINDS}


def checker_for(link: Link) -> str:
    """``github``, ``huggingface`` or ``http``."""
    for checker, kinds in API_CHECKERS.items():
        if link.kind in kinds:
            return checker
    return "http"


@dataclass(frozen=True)
class CheckPlan:
    """Unique links of a run, grouped by the checker that will answer for them."""

    github: tuple[Link, ...]
    huggingface: tuple[Link, ...]
    http: tuple[Link, ...]

    @property
    def pages_sites(self) -> dict[str, Link]:
        return {link.normalized: link for link in self.http if link.kind is LinkKind.GITHUB_PAGES}

    @property
    def total(self) -> int:
        return len(self.github) + len(self.huggingface) + len(self.http)


def plan_checks(papers: Iterable[Paper]) -> CheckPlan:
    """Each normalized URL is checked once, however many papers cite it."""
    unique: dict[str, Link] = {}
    for paper in papers:
        for link in paper.links:
            unique.setdefault(link.normalized, link)
    groups: dict[str, list[Link]] = {"github": [], "huggingface": [], "http": []}
    for link in unique.values():
        groups[checker_for(link)].append(link)
    return CheckPlan(**{name: tuple(links) for name, links in groups.items()})
