"""paperwatch's settings, assembled: one pydantic-settings model, ``PaperwatchSettings``.

Each part's settings live beside the part that uses them (``checks.settings.CheckSettings``,
``reports.alerts.AlertSettings``, the verdict rule ``[verdicts]`` here, which the monitor flow hands to the reports as a
``reports.vocabulary.ConfirmRule``); this
module reads them from, lowest first: the defaults, ``paperwatch.toml`` in the current directory
(or ``[tool.paperwatch]`` in ``pyproject.toml``, or ``--config FILE``), the environment users know
(``GITHUB_API_URL``, ``HF_ENDPOINT``), then the command line. Notify targets add up instead:
``PAPERWATCH_NOTIFY``, then the file's, then ``--notify``. A value that cannot be used is refused in
one line naming where it came from and the key, e.g.
``config /x/paperwatch.toml: per_host: must be a positive integer (got "ten")``; unknown keys are
refused too, and a notify URL (it holds its channel's secret) is never quoted.

    timeout = 10            # the checks' keys: checks.config
    per_host = 10
    remap = ['^https://old\\.example\\.org/(.*)$ https://new.example.org/$1']
    notify = ["slack://TokenA/TokenB/TokenC/#papers", "prefect-block:slack-webhook/paperwatch"]

    [hosts."github.com"]
    max_concurrency = 4

    [alerts]
    remind_every = 7                # runs between "still dead" reminders; 0: never
    tracking_issue = "lab/papers"   # one GitHub issue listing the dead links
    tracking_label = "paperwatch"

    [verdicts]
    confirm_runs = 2       # K: failing runs whose server said "gone" before a link is called dead
    confirm_hours = 20     # T: ... spanning at least this many hours

    [discovery]            # code a paper forgot to link (checks.discovery_settings)
    enabled = true
    accept = ["2401.10001 https://github.com/lab/code"]
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from checks.archive_settings import ArchiveSettings
from checks.discovery_settings import DiscoverySettings
from checks.config import check_values, file_key
from checks.errors import ConfigError
from checks.setting_types import Hours, PositiveInt, refusal
from checks.settings import ENVIRONMENT, CheckSettings
from flows.notify import NOTIFY_ENV, SENDERS, environment_targets
from reports.alert_settings import AlertSettings
from reports.delivery import NAMED_TARGET
from reports.verdicts import CONFIRM_HOURS, CONFIRM_RUNS

CONFIG_NAMES = ("paperwatch.toml",)
APP_TABLES = ("alerts", "verdicts", "archive", "discovery")  # the file's tables that are not the checks'; ``notify`` is the alerts' too
# command-line option (click's parameter name): the setting it sets
OPTIONS = {
    "github_api": ("checks", "github_api_url"), "hf_endpoint": ("checks", "hf_endpoint"), "remap": ("checks", "remap_rules"),
    "allow_private": ("checks", "allow_private"), "timeout": ("checks", "timeout"),
    "max_concurrency": ("checks", "max_concurrency"), "per_host": ("checks", "per_host"),
    "notify": ("alerts", "notify"), "tracking_issue": ("alerts", "tracking_issue"), "remind_every": ("alerts", "remind_every"),
}


class VerdictSettings(BaseModel):
    """The "K failing runs spanning T hours before dead" rule (``reports.verdicts``), from ``[verdicts]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confirm_runs: PositiveInt = CONFIRM_RUNS
    confirm_hours: Hours = CONFIRM_HOURS


Found = tuple[Path, dict[str, Any]]  # a config file and its paperwatch settings
Layers = list[tuple[str, dict[str, Any]]]  # (where from, values by part), highest first
COMMAND_LINE, ENVIRONMENT_LAYER = "command line", "environment"
_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("paperwatch_file_values", default=None)  # set by ``load``


class PaperwatchSettings(BaseSettings):
    """The application's settings: what checks need, where alerts go, when a link is dead."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    checks: CheckSettings = Field(default_factory=CheckSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    verdicts: VerdictSettings = Field(default_factory=VerdictSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)

    @property
    def confirm_runs(self) -> int:
        return self.verdicts.confirm_runs

    @property
    def confirm_hours(self) -> float:
        return self.verdicts.confirm_hours

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """Command line (the init values) over the public environment over the config file over the defaults."""
        in_file = _FILE_VALUES.get()  # the file ``load`` chose; a bare ``PaperwatchSettings()`` reads the one found here
        return (init_settings, _Values(settings_cls, environment_values()),
                _Values(settings_cls, file_values(find_config()) if in_file is None else in_file))

    @classmethod
    def load(cls, config: str | None = None, options: Mapping[str, Any] | None = None) -> "PaperwatchSettings":
        """The settings for one command: ``config`` (else the file found here) and its options (None: not given).

        Raises ``ConfigError``, one line naming the file, variable or option, and the key.
        """
        found = (Path(config), load_config(config)) if config else find_config()
        file_part, env_part, cli_part = file_values(found), environment_values(), option_values(options or {})
        layers = [(COMMAND_LINE, cli_part), (ENVIRONMENT_LAYER, _merged(env_part, {"alerts": {"notify": environment_targets()}})),
                  (f"config {found[0]}" if found else "config", file_part)]  # highest first, to say where a value came from
        given = _merged(cli_part, _notify_targets(file_part, cli_part))
        token = _FILE_VALUES.set(file_part)
        try:
            settings = cls(**given)
        except ValidationError as exc:
            raise ConfigError(_refused(exc.errors()[0], layers)) from None
        finally:
            _FILE_VALUES.reset(token)
        _check_senders(settings.alerts.notify, layers)
        return settings


class _Values(PydanticBaseSettingsSource):
    """One layer of values already read (the environment's, the file's), as pydantic-settings takes them."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.values


def find_config(directory: Path | None = None) -> Found | None:
    """``paperwatch.toml`` in ``directory`` (default: the current one), else ``[tool.paperwatch]``."""
    base = directory or Path.cwd()
    for name in CONFIG_NAMES:
        candidate = base / name
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


def file_values(found: Found | None) -> dict[str, Any]:
    """The file's settings by part: its top-level keys are the checks' (``checks.config``), ``notify`` and
    ``[alerts]`` the alerts', ``[verdicts]`` the verdict rule's."""
    if found is None:
        return {}
    path, data = found
    source = str(path)
    values: dict[str, Any] = {}
    for table in APP_TABLES:
        if table in data:
            if not isinstance(data[table], dict):
                raise ConfigError(f"config {source}: {table} must be a table")
            values[table] = dict(data[table])
    if "notify" in data:
        values.setdefault("alerts", {})["notify"] = data["notify"]
    checks = {key: value for key, value in data.items() if key not in (*APP_TABLES, "notify")}
    if checks:
        values["checks"] = check_values(checks, source)
    return values


def environment_values() -> dict[str, Any]:
    """The public environment settings users know (``GITHUB_API_URL``, ``HF_ENDPOINT``); empty ones are not set."""
    checks = {key: os.environ[name] for key, name in ENVIRONMENT.items() if os.environ.get(name)}
    return {"checks": checks} if checks else {}


def option_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options given on the command line (None, an empty tuple or an unset flag: not given), by part."""
    values: dict[str, Any] = {}
    for name, value in options.items():
        if value is None or value == () or value is False:
            continue
        part, key = OPTIONS[name]
        values.setdefault(part, {})[key] = value
    return values


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {part: dict(values) for part, values in base.items()}
    for part, values in extra.items():
        merged.setdefault(part, {}).update(values)
    return merged


def _notify_targets(file_part: dict[str, Any], cli_part: dict[str, Any]) -> dict[str, Any]:
    """Notify targets add up: ``PAPERWATCH_NOTIFY``'s, the file's, the command line's, each once (a file's
    ``notify`` that is not a list is left to be refused)."""
    in_file = file_part.get("alerts", {}).get("notify", ())
    if not isinstance(in_file, (list, tuple)):
        return {}
    targets = environment_targets() + tuple(in_file) + tuple(cli_part.get("alerts", {}).get("notify", ()))
    return {"alerts": {"notify": tuple(dict.fromkeys(targets))}} if targets else {}


def _option(path: tuple[str, ...]) -> str:
    name = next((option for option, target in OPTIONS.items() if target == path[:2]), path[-1])
    return "--" + name.replace("_", "-")


def _variable(path: tuple[str, ...]) -> str:
    return NOTIFY_ENV if path[-1] == "notify" else ENVIRONMENT.get(path[-1], path[-1])


def _where(loc: tuple[str | int, ...], value: Any, layers: Layers) -> str:
    """Which layer gave the value at ``loc``: the highest that holds it there (for a list item, holds the item)."""
    path = tuple(str(part) for part in loc if not isinstance(part, int))
    indexed = any(isinstance(part, int) for part in loc)
    for label, data in layers:
        node: Any = data
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            if (value in node if indexed and isinstance(node, (list, tuple)) else node == value):
                return label
    return layers[-1][0]


def _refused(error: ErrorDetails, layers: Layers) -> str:
    """One line: where the value came from (an option, a variable, the file and its key), and what is wrong."""
    loc = tuple(error["loc"])
    path = tuple(str(part) for part in loc if not isinstance(part, int))
    secret = "notify" in path
    label = _where(loc, error.get("input"), layers)
    if label == COMMAND_LINE:  # the option is the key
        return f"{_option(path)}: {refusal(error, None, secret=secret)}"
    if label == ENVIRONMENT_LAYER:
        return f"{_variable(path)}: {refusal(error, None, secret=secret)}"
    return f"{label}: {refusal(error, _file_key(loc), secret=secret)}"


def _file_key(loc: tuple[str | int, ...]) -> str:
    """``checks.per_host`` is written ``per_host``, ``alerts.notify`` is ``notify``: the file's spelling."""
    part, rest = loc[0], loc[1:]
    if part == "checks" or (part == "alerts" and rest[:1] == ("notify",)):
        return file_key(rest)
    return file_key(loc)


def _check_senders(targets: tuple[str, ...], layers: Layers) -> None:
    """A named channel (``KIND:NAME``) needs a sender for its kind here (``flows.notify.SENDERS``)."""
    for target in targets:
        named = NAMED_TARGET.match(target)
        if named and named.group(1) not in SENDERS:
            loc = ("alerts", "notify", 0)
            label = _where(loc, target, layers)
            where = {COMMAND_LINE: "--notify", ENVIRONMENT_LAYER: NOTIFY_ENV}.get(label, f"{label}: notify")
            kinds = " or ".join(f"{kind}:TYPE/NAME" for kind in SENDERS)
            raise ConfigError(f"{where}: expected an Apprise URL (scheme://...) or {kinds}")
