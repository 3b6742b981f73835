"""``paperwatch.toml`` (or ``[tool.paperwatch]`` in pyproject.toml): how checks are made.

Keys are the ``CheckSettings`` fields; ``[hosts."name"]`` tables are host rules (limits, headers,
family, redirects, accept: ``checks.host_rules.parse_host_table``; ``"*.example.org"`` matches
subdomains). Unknown keys are refused with the file and key named, so a typo never silently
changes what is checked.

    timeout = 10
    max_concurrency = 128
    per_host = 10
    retries = 2
    accept = [200, 204]
    exclude = ['^https://twitter\\.com/']
    remap = ['^https://old\\.example\\.org/(.*)$ https://new.example.org/$1']
    canaries = ["https://www.wikipedia.org/"]

    [hosts."github.com"]
    max_concurrency = 4
    min_interval = 0.25
    headers = { Accept = "text/html" }

Alerts take ``notify`` (Apprise URLs, or ``prefect-block:TYPE/NAME``) and an ``[alerts]``
table (``remind_every``, ``tracking_issue = "owner/repo"``, ``tracking_label``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from checks.errors import ConfigError as ConfigError  # re-exported: callers catch it from here
from checks.host_rules import parse_host_table
from checks.patterns import user_pattern_problem
from checks.settings import AlertSettings, CheckSettings, RemapError, RemapRule

CONFIG_NAMES = ("paperwatch.toml",)
_SETTING_KEYS = {f.name for f in dataclasses.fields(CheckSettings)} - {"remap_rules", "hosts"}
ALERT_KEYS = ("notify", "alerts")  # the file's keys that are alert settings, read by ``alert_config``
_ALERT_TABLE_KEYS = {"remind_every", "tracking_issue", "tracking_label"}


def find_config(directory: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """``paperwatch.toml`` in ``directory`` (default: the current one), else ``[tool.paperwatch]``."""
    base = directory or Path.cwd()
    candidate = base / "paperwatch.toml"
    if candidate.is_file():
        return candidate, _read(candidate)
    pyproject = base / "pyproject.toml"
    if pyproject.is_file():
        section = _read(pyproject).get("tool", {}).get("paperwatch")
        if section is not None:
            return pyproject, section
    return None


def load_config(path: str | Path) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config {path}: not found")
    data = _read(file)
    if file.name == "pyproject.toml":
        return data.get("tool", {}).get("paperwatch", {})
    return data


def _read(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {file}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {file}: not valid TOML ({exc})") from None


def apply_config(settings: CheckSettings, data: dict[str, Any], source: str) -> CheckSettings:
    """Settings with the file's values on top; every key and type checked."""
    changes: dict[str, Any] = {}
    defaults = CheckSettings()
    for key, value in data.items():
        if key == "remap":
            changes["remap_rules"] = tuple(_remap_rule(rule, source) for rule in _list_of(value, str, source, key))
        elif key == "hosts":
            changes["hosts"] = parse_host_table(value, source)
        elif key in ALERT_KEYS:
            alert_config(AlertSettings(), {key: value}, source)  # refused here too, so every command names a typo
        elif key in _SETTING_KEYS:
            changes[key] = _typed(key, value, getattr(defaults, key), source)
        else:
            raise ConfigError(f"config {source}: unknown key {key!r}")
    for pattern in changes.get("exclude", ()) + changes.get("include", ()):
        problem = user_pattern_problem(pattern)
        if problem:
            raise ConfigError(f"config {source}: regex {pattern!r}: {problem}")
    return dataclasses.replace(settings, **changes)


def _typed(key: str, value: Any, default: Any, source: str) -> Any:
    if isinstance(default, tuple):
        item_type = int if key == "accept" else str
        return tuple(_list_of(value, item_type, source, key))
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config {source}: {key} must be true or false")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"config {source}: {key} must be a non-negative number")
        return type(default)(value)
    if not isinstance(value, str):
        raise ConfigError(f"config {source}: {key} must be a string")
    return value


def _list_of(value: Any, item_type: type, source: str, key: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(item, item_type) and not isinstance(item, bool) for item in value):
        raise ConfigError(f"config {source}: {key} must be a list of {item_type.__name__}s")
    return value


def _remap_rule(text: str, source: str) -> RemapRule:
    try:
        return RemapRule.parse(text)
    except RemapError as exc:
        raise ConfigError(f"config {source}: {exc}") from None


def alert_config(settings: AlertSettings, data: dict[str, Any], source: str) -> AlertSettings:
    """Alert settings with the file's ``notify`` and ``[alerts]`` on top; other keys are left to ``apply_config``.

    Messages never quote a notify URL: it holds the channel's secret.
    """
    changes: dict[str, Any] = {}
    if "notify" in data:
        changes["notify"] = tuple(_list_of(data["notify"], str, source, "notify"))
    table = data.get("alerts", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config {source}: alerts must be a table")
    unknown = sorted(set(table) - _ALERT_TABLE_KEYS)
    if unknown:
        raise ConfigError(f"config {source}: unknown key alerts.{unknown[0]}")
    if "remind_every" in table:
        every = table["remind_every"]
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise ConfigError(f"config {source}: alerts.remind_every must be a number of runs (0: never)")
        changes["remind_every"] = every
    for key in ("tracking_issue", "tracking_label"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise ConfigError(f"config {source}: alerts.{key} must be a non-empty string")
            changes[key] = table[key]
    try:
        return dataclasses.replace(settings, **changes)
    except ValueError as exc:
        raise ConfigError(f"config {source}: {exc}") from None
