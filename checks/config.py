"""The checks' part of the configuration file: its keys become ``CheckSettings``.

Every ``CheckSettings`` field is a key of the file (``remap`` holds the ``remap_rules``), validated
against the field's type; ``[hosts."name"]`` tables set per-host limits and headers
(``"*.example.org"`` matches subdomains). Unknown keys are refused with the file and key named, so
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
from checks.hosts import HostPolicy
from checks.setting_types import refusal
from checks.settings import CheckSettings

FILE_NAMES = {"remap_rules": "remap"}  # field: the file's key, where they differ
FIELDS = {key: field for field, key in FILE_NAMES.items()}
_HOST_KEYS = {f.name for f in dataclasses.fields(HostPolicy)}
CHECKS = TypeAdapter(CheckSettings)


def check_values(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The file's check keys by ``CheckSettings`` field, ready to validate; ``[hosts]`` already read."""
    if "remap_rules" in data:  # a field's name that is not a key of the file
        raise ConfigError(f"config {source}: unknown key 'remap_rules'")
    values = {FIELDS.get(key, key): value for key, value in data.items() if key != "hosts"}
    if "hosts" in data:
        values["hosts"] = _hosts(data["hosts"], source)
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


def _hosts(value: Any, source: str) -> dict[str, HostPolicy]:
    if not isinstance(value, dict):
        raise ConfigError(f"config {source}: hosts must be a table of host names")
    policies = {}
    for host, table in value.items():
        if not isinstance(table, dict):
            raise ConfigError(f"config {source}: hosts.{host} must be a table")
        unknown = set(table) - _HOST_KEYS
        if unknown:
            raise ConfigError(f"config {source}: unknown key hosts.{host}.{sorted(unknown)[0]}")
        limit = table.get("max_concurrency")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"config {source}: hosts.{host}.max_concurrency must be a positive integer")
        interval = table.get("min_interval", 0.0)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            raise ConfigError(f"config {source}: hosts.{host}.min_interval must be a non-negative number of seconds")
        headers = table.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ConfigError(f"config {source}: hosts.{host}.headers must be a table of strings")
        policies[host.lower()] = HostPolicy(max_concurrency=limit, min_interval=float(interval), headers=headers)
    return policies
