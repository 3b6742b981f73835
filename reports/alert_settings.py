"""Where alerts go and how often: the ``notify`` list and the ``[alerts]`` table, as plain data.

Kept apart from ``reports.alerts`` (the alert step, which needs the store and the GitHub client)
so that reading settings, for any command, imports neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict

from checks.setting_types import Count, Name, said
from reports.delivery import NAMED_TARGET

_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def notify_target(target: str) -> str:
    """An Apprise URL (``scheme://…``) or a named channel (``prefect-block:TYPE/NAME``); never quoted: it holds a secret."""
    if "://" in target or NAMED_TARGET.match(target):
        return target
    raise ValueError("expected an Apprise URL (scheme://...) or prefect-block:TYPE/NAME")


def repository(name: str) -> str:
    if not _REPO_NAME.match(name):
        raise ValueError(f"tracking issue repository {name!r}: expected OWNER/REPO")
    return name


NotifyTargets = Annotated[tuple[Annotated[str, AfterValidator(notify_target)], ...], said("a list of notify URLs")]


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go and how often; plain data (the file's ``notify`` and ``[alerts]`` table).

    ``notify`` holds Apprise URLs (``slack://…``, ``mailto://…``, ``json://…``) or named channels
    (``prefect-block:TYPE/NAME``). Apprise URLs carry their channel's secret, so they never travel
    as flow parameters (Prefect stores those): the command line hands them over in the environment
    (``flows.notify``), and ``public_dict`` leaves them out.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    notify: NotifyTargets = ()
    remind_every: Count = 0  # runs between "still dead" reminders; 0: never
    tracking_issue: Annotated[Name, AfterValidator(repository)] | None = None  # "owner/repo" holding one issue that lists the dead links
    tracking_label: Name = "paperwatch"

    def __post_init__(self) -> None:
        if self.remind_every < 0:
            raise ValueError("remind_every must be 0 (never) or a number of runs")
        if self.tracking_issue is not None:
            repository(self.tracking_issue)
        for target in self.notify:
            notify_target(target)

    @property
    def enabled(self) -> bool:
        return bool(self.notify or self.tracking_issue)

    def public_dict(self) -> dict[str, Any]:
        """The settings that may be stored and shown: everything but the URLs."""
        return {"remind_every": self.remind_every, "tracking_issue": self.tracking_issue, "tracking_label": self.tracking_label}
