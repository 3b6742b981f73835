"""The plain data of batch checking and how a run's links are cut into batches (pure; no Prefect).

``Batch`` is one task's links; ``CheckedBatch`` what it found, as plain data that crosses process
and shard boundaries; ``plan_batches`` cuts the run into batches.

Pages run in ``PAGE_LANES`` lanes, each a sequence of batch tasks, one at a time. Every host
belongs to one lane (hosts go to the least-loaded lane, largest first), so a host is never
checked by two batches at once and its politeness limit holds; within its lane a host's links
are spread evenly over the lane's batches, so every batch interleaves all the lane's hosts and
keeps the run's concurrency full however large each host is. A run then takes about
``max(N·D/G, n·D/P)`` (N links, D seconds an answer, G requests in flight, n links of the busiest
host, P its limit) instead of the sum over hosts. A lane's batches are large (``LANE_BATCHES``
at most, of at least ``BATCH_SIZE`` links), since each batch ends with the tail of its slowest
answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.http import OutageEvidence
from checks.model import Link, Observation
from checks.plan import CheckPlan

BATCH_SIZE = 500  # links a task: a task run costs ~0.1-0.5 s to start, a batch seconds to check
# Page batches in flight at once; they share the run's max_concurrency. Two keep the tail of one batch
# (a slow host) from idling the run; a third added no throughput on 2 cores (bench/flow_bench.py).
PAGE_LANES = 2
LANE_BATCHES = 4  # at most this many page batches a lane (more only when BATCH_SIZE asks): few tails, steady progress


@dataclass(frozen=True)
class Batch:
    """One task's worth of links for one API (``pages``, ``github``, ``huggingface``)."""

    api: str
    links: tuple[Link, ...]
    hosts: tuple[str, ...] = ()
    lane: int = 0  # pages: the lane that runs it (a host is checked in one lane only)

    @property
    def label(self) -> str:
        if self.api != "pages":
            return f"{self.api} API, {len(self.links)} links"
        shown = ", ".join(self.hosts[:3]) + (f" +{len(self.hosts) - 3}" if len(self.hosts) > 3 else "")
        return (f"pages of {len(self.hosts)} host{'s' if len(self.hosts) != 1 else ''} ({shown}), {len(self.links)} links, "
                f"lane {self.lane + 1}")


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


def plan_batches(pages: Sequence[Link], github: Sequence[Link], hub: Sequence[Link], size: int = BATCH_SIZE,
                 lanes: int = PAGE_LANES) -> list[Batch]:
    """Page batches lane by lane (``plan_page_lanes``), then API links cut into ``size`` pieces."""
    batches = plan_page_lanes(pages, size, lanes)
    batches += [Batch("github", piece) for piece in chunks(github, size)]
    batches += [Batch("huggingface", piece) for piece in chunks(hub, size)]
    return batches


def plan_page_lanes(pages: Sequence[Link], size: int = BATCH_SIZE, lanes: int = PAGE_LANES) -> list[Batch]:
    """Hosts to lanes (largest first, to the least-loaded lane); each lane's links interleaved by host
    (the k-th of a host's n links sorts at (k + ½)/n) and cut into at most ``LANE_BATCHES`` batches
    of at least ``size`` links, in the order the lane runs them."""
    groups = by_host(pages)
    loads = [0] * max(1, lanes)
    members: list[list[str]] = [[] for _ in loads]
    for host, links in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        lane = min(range(len(loads)), key=lambda i: (loads[i], i))
        members[lane].append(host)
        loads[lane] += len(links)
    batches = []
    for lane, hosts in enumerate(members):
        order = sorted(((k + 0.5) / len(groups[host]), h, k) for h, host in enumerate(hosts) for k in range(len(groups[host])))
        links = [groups[hosts[h]][k] for _, h, k in order]
        if not links:
            continue
        piece = max(size, math.ceil(len(links) / LANE_BATCHES))
        for part in chunks(links, piece):
            batches.append(Batch("pages", part, tuple(dict.fromkeys(host_of(link) for link in part)), lane))
    return batches
