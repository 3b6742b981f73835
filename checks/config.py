"""The checks' part of the configuration file: its keys become ``CheckSettings``.

Every ``CheckSettings`` field is a key of the file (``remap`` holds the ``remap_rules``), validated
against the field's type; ``[hosts."name"]`` tables are host rules (limits, headers, family,
redirects, accept: ``checks.host_rules.parse_host_table``; ``"*.example.org"`` matches subdomains). Unknown keys are refused with the file and key named, so
a typo never silently changes what is checked. The application's whole file (alerts, verdicts)
and where it is found are ``flows.settings``'s.

    timeout = 10
    per_host = 10
    exclude = ['^https://twitter\\.com/']
    remap = ['^https://old\\.example\\.org/(.*)$ https://new.example.org/$1']

    [hosts."github.com"]
    max_concurrency = 4
    min_interval = 0.25
    headers = { Accept = "text/html" }
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from checks.errors import ConfigError as ConfigError  # re-exported: where callers met it before checks.errors
from checks.host_rules import parse_host_table
from checks.setting_types import refusal
from checks.settings import CheckSettings

FILE_NAMES = {"remap_rules": "remap"}  # field: the file's key, where they differ
FIELDS = {key: field for field, key in FILE_NAMES.items()}
CHECKS = TypeAdapter(CheckSettings)


def check_values(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The file's check keys by ``CheckSettings`` field, ready to validate; ``[hosts]`` already read."""
    if "remap_rules" in data:  # a field's name that is not a key of the file
        raise ConfigError(f"config {source}: unknown key 'remap_rules'")
    values = {FIELDS.get(key, key): value for key, value in data.items() if key != "hosts"}
    if "hosts" in data:
        values["hosts"] = parse_host_table(data["hosts"], source)
    return values


def file_key(loc: Sequence[str | int]) -> str:
    """A validation error's location as the user wrote the key: ``remap``, ``hosts.x``, ``alerts.remind_every``."""
    names = [str(part) for part in loc if not isinstance(part, int)]
    return ".".join(FILE_NAMES.get(name, name) for name in names)


def apply_config(settings: CheckSettings, data: Mapping[str, Any], source: str) -> CheckSettings:
    """Settings with the file's check keys on top; every key and type checked."""
    values = check_values(data, source)
    try:
        checked = CHECKS.validate_python(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"config {source}: {refusal(error, file_key(error['loc']))}") from None
    return dataclasses.replace(settings, **{key: getattr(checked, key) for key in values})

