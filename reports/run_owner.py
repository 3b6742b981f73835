"""Which process owns a run, and labelling runs whose process is gone as ``interrupted``.

A run row stays ``running`` until it is finished; the next run to start probes the owner of
every other running run (same host: by pid and process start time; same host after a reboot:
gone; another host: presumed gone after FOREIGN_RUN_STALE) and labels the gone ones interrupted,
with the counts of what they did commit.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reports.queries import state_counts
from reports.schema import run_owners, runs

# A run owned by a process on another machine cannot be probed: it is presumed dead after this.
FOREIGN_RUN_STALE = timedelta(hours=24)


@dataclass(frozen=True)
class Owner:
    """A process as another process can recognise it later: host, boot, pid and start time."""

    host: str
    boot_id: str | None
    pid: int
    process_start: str | None

    @classmethod
    def current(cls) -> "Owner":
        pid = os.getpid()
        stat = _proc_stat(pid)
        return cls(socket.gethostname(), _boot_id(), pid, stat[1] if stat else None)


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) from Linux /proc, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], fields[19]


def _process_alive(pid: int, process_start: str | None) -> bool | None:
    """Whether that very process still runs on this host; None when this system cannot tell."""
    if Path("/proc/self/stat").exists():
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):  # gone, or a zombie nobody has reaped yet
            return False
        return process_start is None or stat[1] == process_start  # same pid, another process: reused
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def why_gone(owner: Any, started_at: str, me: Owner, now: datetime) -> str | None:
    """Why a ``running`` run's process is known to be gone, or None while it may still be running."""
    stale = now - datetime.fromisoformat(started_at) > FOREIGN_RUN_STALE
    if owner.host is None:
        return "its process is unknown" if stale else None
    where = f"pid {owner.pid} on {owner.host}"
    if owner.host == me.host and owner.boot_id and me.boot_id and owner.boot_id != me.boot_id:
        return f"{where} ended when the host restarted"
    alive = _process_alive(owner.pid, owner.process_start) if owner.host == me.host else None
    if alive is None:  # another machine's process, or a system without /proc or signals: only time tells
        hours = FOREIGN_RUN_STALE.total_seconds() / 3600
        return f"{where} had not finished it {hours:g} hours after it started" if stale else None
    return None if alive else f"{where} ended before finishing it"


def record_owner(conn: Connection, run_id: int, me: Owner) -> None:
    conn.execute(sa.insert(run_owners).values(run_id=run_id, host=me.host, boot_id=me.boot_id, pid=me.pid,
                                              process_start=me.process_start))


def label_interrupted(conn: Connection, run_id: int, why: str) -> None:
    """A run whose process is gone: ``interrupted``, with the counts of what it did commit."""
    notes = conn.execute(sa.select(runs.c.notes).where(runs.c.id == run_id)).scalar() or []
    conn.execute(sa.update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(
        status="interrupted", counts=state_counts(conn, run_id), notes=[*notes, f"interrupted: {why}"]))


def label_gone_runs(conn: Connection, new_run: int, me: Owner, now: datetime) -> None:
    """Label every other ``running`` run whose process is gone as interrupted, noticed by ``new_run``."""
    query = (sa.select(runs.c.id, runs.c.started_at, run_owners.c.host, run_owners.c.boot_id, run_owners.c.pid,
                       run_owners.c.process_start)
             .select_from(runs.outerjoin(run_owners, run_owners.c.run_id == runs.c.id))
             .where(runs.c.status == "running", runs.c.id != new_run))
    for row in conn.execute(query).all():
        why = why_gone(row, row.started_at, me, now)
        if why:
            label_interrupted(conn, row.id, f"{why}; noticed at {now.isoformat()} by run {new_run}")
