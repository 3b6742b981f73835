"""The plain data of batch checking and how a run's links are cut into batches (pure; no Prefect).

``Batch`` is one task's links; ``CheckedBatch`` what it found, as plain data that crosses process
and shard boundaries; ``plan_batches`` packs pages by host and cuts API links into pieces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.http import OutageEvidence
from checks.model import Link, Observation
from checks.plan import CheckPlan

BATCH_SIZE = 500  # links a task: a task run costs ~0.1-0.5 s to start, a batch seconds to check


@dataclass(frozen=True)
class Batch:
    """One task's worth of links for one API (``pages``, ``github``, ``huggingface``)."""

    api: str
    links: tuple[Link, ...]
    hosts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.api != "pages":
            return f"{self.api} API, {len(self.links)} links"
        shown = ", ".join(self.hosts[:3]) + (f" +{len(self.hosts) - 3}" if len(self.hosts) > 3 else "")
        return f"pages of {len(self.hosts)} host{'s' if len(self.hosts) != 1 else ''} ({shown}), {len(self.links)} links"


@dataclass(frozen=True)
class CheckedBatch:
    """What one batch found, as plain data. Page batches leave the outage judgement to ``merge``:
    their network failures, "host not found" answers and response count travel with them."""

    api: str
    observations: tuple[Observation, ...]
    network_failures: tuple[str, ...] = ()
    nxdomain: tuple[str, ...] = ()
    responses_seen: int = 0
    canaries_after: bool = True
    offline: bool = False  # decided before checking: no canary answered
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"api": self.api, "observations": [o.to_dict() for o in self.observations],
                "network_failures": list(self.network_failures), "nxdomain": list(self.nxdomain),
                "responses_seen": self.responses_seen, "canaries_after": self.canaries_after,
                "offline": self.offline, "notes": list(self.notes)}

    def outage_evidence(self) -> OutageEvidence:
        return OutageEvidence(frozenset(self.network_failures), frozenset(self.nxdomain), self.responses_seen,
                              self.canaries_after)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CheckedBatch":
        return cls(api=data["api"], observations=tuple(Observation.from_dict(o) for o in data["observations"]),
                   network_failures=tuple(data.get("network_failures", ())), nxdomain=tuple(data.get("nxdomain", ())),
                   responses_seen=int(data.get("responses_seen", 0)), canaries_after=bool(data.get("canaries_after", True)),
                   offline=bool(data.get("offline", False)), notes=tuple(data.get("notes", ())))


@dataclass
class CheckOutcome:
    """A run's observations, one per unique link, with its outage view and notes for the report."""

    observations: list[Observation]
    offline: bool = False
    notes: list[str] = field(default_factory=list)


def page_links(plan: CheckPlan, with_token: bool) -> tuple[Link, ...]:
    """Without a token the API budget is 60 requests an hour: repository pages say whether repos exist."""
    return plan.http + (() if with_token else plan.github)


def host_of(link: Link) -> str:
    return (urlsplit(link.normalized).hostname or "").lower()


def by_host(links: Iterable[Link]) -> dict[str, list[Link]]:
    groups: dict[str, list[Link]] = {}
    for link in links:
        groups.setdefault(host_of(link), []).append(link)
    return groups


def chunks(links: Sequence[Link], size: int) -> list[tuple[Link, ...]]:
    return [tuple(links[start:start + size]) for start in range(0, len(links), size)]


def plan_batches(pages: Sequence[Link], github: Sequence[Link], hub: Sequence[Link], size: int = BATCH_SIZE) -> list[Batch]:
    """Pages packed by host (largest hosts first, first fit; a host larger than ``size`` is a batch
    of its own), API links cut into ``size`` pieces. Largest batches first, so the tail is short."""
    bins: list[tuple[list[str], list[Link]]] = []
    for host, links in sorted(by_host(pages).items(), key=lambda item: (-len(item[1]), item[0])):
        target = next((b for b in bins if len(b[1]) + len(links) <= size), None)
        if target is None:
            target = ([], [])
            bins.append(target)
        target[0].append(host)
        target[1].extend(links)
    batches = [Batch("pages", tuple(links), tuple(hosts)) for hosts, links in bins]
    batches += [Batch("github", piece) for piece in chunks(github, size)]
    batches += [Batch("huggingface", piece) for piece in chunks(hub, size)]
    return sorted(batches, key=lambda b: -len(b.links))
