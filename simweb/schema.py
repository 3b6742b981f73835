"""Build frozen dataclasses from plain YAML data, with errors that name the key path.

The dataclasses in ``simweb.world`` are the scenario format: their field names are the
YAML keys and their type hints are the validation rules, so the format cannot drift
from the code that reads it.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any, Literal, Mapping, TypeVar, Union

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


class ScenarioError(ValueError):
    """A scenario that does not match the format; the message starts with the key path."""


def build(cls: type[T], data: Any, path: str) -> T:
    """Return ``cls`` filled from the mapping ``data``; unknown or ill-typed keys raise ScenarioError."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{path}: expected a mapping, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise ScenarioError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(fields))})")
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = convert(data[name], hints[name], f"{path}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ScenarioError(f"{path}: missing required key {name!r}")
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def convert(value: Any, hint: Any, path: str) -> Any:
    """Check ``value`` against one type hint and return it in the hinted form."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return _convert_union(value, args, path)
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise ScenarioError(f"{path}: expected one of {', '.join(map(repr, args))}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ScenarioError(f"{path}: expected a list, got {_describe(value)}")
        return tuple(convert(item, args[0], f"{path}[{i}]") for i, item in enumerate(value))
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, Mapping):
            raise ScenarioError(f"{path}: expected a mapping, got {_describe(value)}")
        return {str(k): convert(v, args[1], f"{path}[{str(k)!r}]") for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, value, path)
    return _convert_scalar(value, hint, path)


def _convert_union(value: Any, args: tuple[Any, ...], path: str) -> Any:
    if value is None and type(None) in args:
        return None
    errors = []
    for alternative in (a for a in args if a is not type(None)):
        try:
            return convert(value, alternative, path)
        except ScenarioError as exc:
            errors.append(str(exc))
    if len(errors) == 1:
        raise ScenarioError(errors[0])
    raise ScenarioError(f"{path}: {_describe(value)} matches none of the allowed forms ({'; '.join(errors)})")


def _convert_scalar(value: Any, hint: Any, path: str) -> Any:
    if hint is datetime:
        return _timestamp(value, path)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ScenarioError(f"{path}: expected int, got bool")
    if isinstance(value, hint):
        return value
    raise ScenarioError(f"{path}: expected {hint.__name__}, got {_describe(value)}")


def _timestamp(value: Any, path: str) -> datetime:
    """YAML gives datetimes, dates or strings; all become aware UTC datetimes."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=timezone.utc)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{path}: expected an ISO 8601 timestamp, got {value!r}") from None
    else:
        raise ScenarioError(f"{path}: expected a timestamp, got {_describe(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} ({text[:40]})" if value is not None else "null"
