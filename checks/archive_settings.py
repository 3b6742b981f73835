"""How the archives are asked: the config file's ``[archive]`` table (``ArchiveSettings``).

Software Heritage and the Wayback Machine are small non-profits with low limits, so the lookups
are time-boxed (an archive that is slow or down costs a run at most ``time_box`` seconds and never
changes a link's state) and their answers are kept in the history (``reports.archive_store``).
Save Code Now is opt-in: it asks Software Heritage to archive live repositories whose latest
visit is missing or older than ``save_after_days``.

The Software Heritage token is read from the environment (``swh_token_env``, default
``SWH_TOKEN``) when the client is built, or from a Prefect Secret block (the flow's
``swh_token_secret``); it never travels in settings, parameters, logs or the database.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Strict

from checks.setting_types import Count, Flag, PositiveInt, PositiveSeconds, Text, said

DEFAULT_SOFTWARE_HERITAGE_URL = "https://archive.softwareheritage.org/api/1"
DEFAULT_WAYBACK_URL = "https://web.archive.org"


def _endpoint(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"must be an http(s) URL (got {url!r})")
    return url.rstrip("/")


Endpoint = Annotated[str, Strict(), said("an http(s) URL"), AfterValidator(_endpoint)]


@dataclass(frozen=True)
class ArchiveSettings:
    """The ``[archive]`` table; plain data, safe to pass to Prefect tasks (no secret in it)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    lookup: Flag = True  # look up the archived copy of every dead or failing link
    software_heritage_url: Endpoint = DEFAULT_SOFTWARE_HERITAGE_URL  # its API root
    wayback_url: Endpoint = DEFAULT_WAYBACK_URL
    time_box: PositiveSeconds = 60.0  # the most a run spends on the archives; the rest is asked next run
    timeout: PositiveSeconds = 10.0  # seconds per request
    save_code_now: Flag = False  # ask Software Heritage to archive live repositories (opt-in)
    save_after_days: PositiveInt = 30  # ... whose latest visit is missing or older than this
    max_saves_per_run: Count = 10  # Save Code Now requests per run (Software Heritage allows few an hour)
    swh_token_env: Text = "SWH_TOKEN"

    def swh_token(self) -> str | None:
        return os.environ.get(self.swh_token_env) or None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "ArchiveSettings":
        return cls(**(data or {}))
