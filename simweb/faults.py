"""Transient failures and outages (``faults`` in a scenario), decided the same way on every face.

Which requests fail is a pure function of the seed and the request's place in the sequence
of identical requests since the world was loaded, so a test that replays the same checks
sees the same failures, while a retry of a failed request is a new draw, as in life.
"""

from __future__ import annotations

import hashlib

from .state import SimState

DROPPED = 0  # the fault is a closed connection, not an HTTP answer


def trouble(state: SimState, face: str, method: str, url: str) -> int | None:
    """The fault for this request: an HTTP status, ``DROPPED``, or None when it may be answered."""
    faults = state.world.faults
    if faults.outage:
        return DROPPED
    if faults.flaky <= 0.0:
        return None
    attempt = state.count_attempt(face, method, url)
    digest = hashlib.sha256(f"{faults.seed}\0{face}\0{method}\0{url}\0{attempt}".encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= faults.flaky:
        return None
    return faults.statuses[digest[8] % len(faults.statuses)]
