"""How a run's alerts reach their channels: the Prefect Block sender, and the targets handed over in the environment.

``reports.alerts`` sends Apprise URLs itself and takes the senders of named channels from here
(``SENDERS``, by kind), so reports never import Prefect. Apprise URLs hold their channel's secret:
the command line hands them to the run in ``PAPERWATCH_NOTIFY`` (whitespace-separated), never as
flow parameters, which Prefect stores.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reports.alert_settings import AlertSettings
from reports.delivery import Delivery, Sender

if TYPE_CHECKING:
    from reports.digest import Digest

NOTIFY_ENV = "PAPERWATCH_NOTIFY"  # whitespace-separated Apprise URLs, read when alerts are sent
PREFECT_BLOCK = "prefect-block"


def send_prefect_block(target: str, digest: Digest) -> Delivery:
    """``prefect-block:TYPE/NAME``: a Prefect notification block (Slack, Teams, email, …) sends the text digest."""
    from prefect.blocks.core import Block

    name = target.removeprefix(f"{PREFECT_BLOCK}:")
    block = Block.load(name, _sync=True)  # sync whatever loop a caller left behind
    notify = getattr(block, "notify", None)
    if notify is None:
        return Delivery(target, False, f"block {name} cannot send notifications")
    notify(body=digest.text(), subject=digest.title, _sync=True)
    return Delivery(target, True)


SENDERS: Mapping[str, Sender] = {PREFECT_BLOCK: send_prefect_block}  # named channels' kind: its sender


def environment_targets() -> tuple[str, ...]:
    """The notify targets handed over in ``PAPERWATCH_NOTIFY``."""
    return tuple(os.environ.get(NOTIFY_ENV, "").split())


def hand_over(targets: Sequence[str]) -> None:
    """Notify URLs reach the run through this process's environment, never as (stored) flow parameters."""
    if targets:
        os.environ[NOTIFY_ENV] = " ".join(targets)


def run_alert_settings(notify: Sequence[str] | None, public: Mapping[str, Any] | None) -> AlertSettings:
    """A run's settings: its ``notify`` targets plus those in ``PAPERWATCH_NOTIFY``, and the public part."""
    targets = tuple(notify or ()) + environment_targets()
    return AlertSettings(notify=tuple(dict.fromkeys(targets)), **dict(public or {}))
