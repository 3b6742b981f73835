"""Scenario files: a base world plus named phases, each a deep-merge patch over the base.

Every phase is merged and validated when the scenario is loaded, so a typo in the
last phase fails at start-up with its key path, not in the middle of a demo.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import yaml

from .schema import ScenarioError, build
from .world import World, url_key

LIST_KEYS = ("full_name", "id", "tag", "name")  # list items carrying one of these merge by it
DELETE = "delete"  # `delete: true` in a keyed list item removes that item


def deep_merge(base: Any, patch: Any) -> Any:
    """Patch ``base``: mappings merge key by key (null deletes), keyed lists merge by key, the rest is replaced."""
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    key = _list_key(base, patch)
    if key is None:
        return copy.deepcopy(patch)
    merged_items = {item[key]: item for item in base}
    for item in patch:
        if item.get(DELETE) is True:
            merged_items.pop(item[key], None)
            continue
        change = {k: v for k, v in item.items() if k != DELETE}
        old = merged_items.get(item[key])
        merged_items[item[key]] = deep_merge(old, change) if old is not None else change
    return list(merged_items.values())


def _list_key(base: Any, patch: Any) -> str | None:
    if not (isinstance(base, list) and isinstance(patch, list)):
        return None
    items = [*base, *patch]
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    return next((k for k in LIST_KEYS if all(k in i for i in items)), None)


def apply_host_defaults(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Fold each ``hosts`` entry under the ``web`` entries of that host (entries win)."""
    if not isinstance(raw.get("hosts"), Mapping) or not isinstance(raw.get("web"), Mapping):
        return dict(raw)  # nothing to fold, or malformed: validation reports it
    hosts = {str(h).lower(): v for h, v in raw["hosts"].items() if isinstance(v, Mapping)}
    web = {}
    for url, entry in raw["web"].items():
        host = url_key(str(url))[1]
        web[url] = deep_merge(hosts[host], entry) if host in hosts and isinstance(entry, Mapping) else entry
    return {**raw, "web": web}


class Scenario:
    """A validated scenario: the base world and one world per phase."""

    def __init__(self, data: Mapping[str, Any] | None, source: str = "scenario") -> None:
        if not isinstance(data or {}, Mapping):
            raise ScenarioError(f"{source}: expected a mapping at the top level")
        raw = dict(data or {})
        phases = raw.pop("phases", None) or []
        self.source = source
        self.base = self._world(raw, source)
        self._phases: dict[str, World] = {}
        if not isinstance(phases, list):
            raise ScenarioError(f"{source}.phases: expected a list of {{name, changes}}")
        for i, phase in enumerate(phases):
            path = f"{source}.phases[{i}]"
            name, changes = self._phase_entry(phase, path)
            if name in self._phases:
                raise ScenarioError(f"{path}.name: duplicate phase {name!r}")
            self._phases[name] = self._world(deep_merge(raw, changes), f"{path}({name}).changes")

    @staticmethod
    def _phase_entry(phase: Any, path: str) -> tuple[str, Mapping[str, Any]]:
        if not isinstance(phase, Mapping):
            raise ScenarioError(f"{path}: expected a mapping with 'name' and 'changes'")
        unknown = sorted(set(phase) - {"name", "changes"})
        if unknown:
            raise ScenarioError(f"{path}: unknown key {unknown[0]!r} (allowed: changes, name)")
        name = phase.get("name")
        if not isinstance(name, str) or not name:
            raise ScenarioError(f"{path}.name: expected a non-empty string")
        changes = phase.get("changes") or {}
        if not isinstance(changes, Mapping):
            raise ScenarioError(f"{path}.changes: expected a mapping")
        return name, changes

    @staticmethod
    def _world(raw: Mapping[str, Any], path: str) -> World:
        return build(World, apply_host_defaults(raw), path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "scenario") -> "Scenario":
        return cls(data, source)

    @classmethod
    def from_yaml(cls, text: str, source: str = "scenario") -> "Scenario":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
        return cls(data, source)

    @classmethod
    def load(cls, path: str | Path) -> "Scenario":
        path = Path(path)
        return cls.from_yaml(path.read_text(encoding="utf-8"), source=path.name)

    @classmethod
    def coerce(cls, value: "Scenario | Mapping[str, Any] | str | Path") -> "Scenario":
        """Accept a Scenario, a dict, a path, or YAML text (a one-line *.yaml/*.yml string is a path)."""
        if isinstance(value, Scenario):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, Path) or ("\n" not in value and value.endswith((".yaml", ".yml"))):
            return cls.load(value)
        return cls.from_yaml(value)

    @property
    def phase_names(self) -> list[str]:
        return list(self._phases)

    @property
    def first_phase(self) -> str | None:
        """Where a simulation starts: the first phase, or the bare base when there are none."""
        return next(iter(self._phases), None)

    def world(self, phase: str | None) -> World:
        if phase is None:
            return self.base
        try:
            return self._phases[phase]
        except KeyError:
            known = ", ".join(self._phases) or "none"
            raise ValueError(f"unknown phase {phase!r} (phases: {known})") from None
