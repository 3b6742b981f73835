"""Whose failure was it: a run's view of the network, and the judgement that keeps our outage from killing links.

A page that failed without any answer is ``dead`` only when the failure is the host's: a name
that does not exist while the rest of the web answered. When nothing answered, or the canary
URLs fell silent, the monitor was offline, and such failures are ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checks.model import Observation, State


@dataclass(frozen=True)
class PageCheckResult:
    """Observations for a batch of page URLs, and whether *we* were offline."""

    observations: tuple[Observation, ...]
    offline: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutageEvidence:
    """What a run saw of the network: enough to tell "this host is gone" from "we were offline"."""

    network_failures: frozenset[str]  # URLs that failed without any answer
    nxdomain: frozenset[str]  # URLs whose host name does not exist
    responses_seen: int  # answers of any kind, from any host
    canaries_after: bool  # a canary URL still answered after the run

    def __add__(self, other: OutageEvidence) -> OutageEvidence:
        return OutageEvidence(self.network_failures | other.network_failures, self.nxdomain | other.nxdomain,
                              self.responses_seen + other.responses_seen, self.canaries_after and other.canaries_after)


def judge_outage(observations: Sequence[Observation], seen: OutageEvidence) -> PageCheckResult:
    """Network failures are ours when nothing answered (or the canaries fell silent); a host name
    that does not exist is dead only when the rest of the web answered."""
    requested = len(seen.network_failures)
    offline = requested > 0 and (seen.responses_seen == 0 or not seen.canaries_after)
    notes: list[str] = []
    if offline:
        why = "the canary URLs stopped answering during the run" if not seen.canaries_after else \
            f"none of the {requested} failed page requests reached any host, and no host answered at all"
        notes.append(f"the monitor was offline ({why}): network failures are reported as unknown, not dead")
    judged = []
    for obs in observations:
        if obs.url in seen.network_failures and offline:
            obs = obs.replace(state=State.UNKNOWN, reason=f"not checked: the monitor had no network ({obs.reason})")
        elif obs.url in seen.nxdomain:
            obs = obs.replace(state=State.DEAD, reason=f"{obs.reason} (other hosts answered, so the name is gone)")
        judged.append(obs)
    return PageCheckResult(tuple(judged), offline=offline, notes=tuple(notes))
