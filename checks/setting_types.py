"""The shapes a setting's value may take, in words a user reads, and one line for a refused value.

Settings are plain frozen dataclasses (``CheckSettings``, ``AlertSettings``, …) whose field types
carry their constraints (``PositiveInt``, ``Seconds``, …). pydantic validates a configuration file,
the environment and the command line against those types; a value of the wrong shape is refused
with the words given here: ``per_host: must be a positive integer (got "ten")``. TOML is typed, so
values are strict: ``"10"`` is not a number, ``1`` is not ``true``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import ErrorDetails, PydanticCustomError

UNKNOWN_KEY = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
_OWN = frozenset({"value_error", "refused"})  # errors that already say what is wrong in our words


def said(words: str) -> WrapValidator:
    """Refuse a value of the wrong shape saying it ``must be <words>``; our own refusals inside
    (a bad regex, a bad remap rule) pass through as they are."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if any(error["type"] in _OWN for error in exc.errors()):
                raise
            raise PydanticCustomError("refused", "must be {words}", {"words": words}) from None

    return WrapValidator(check)


Text = Annotated[str, Strict(), said("a string")]
Name = Annotated[str, Strict(), Field(min_length=1), said("a non-empty string")]
Flag = Annotated[bool, Strict(), said("true or false")]
PositiveInt = Annotated[int, Strict(), Field(gt=0), said("a positive integer")]
Count = Annotated[int, Strict(), Field(ge=0), said("a non-negative integer")]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True), said("a non-negative number of seconds")]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False, strict=True), said("a positive number of seconds")]
Hours = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True), said("a non-negative number of hours")]
RequestMethod = Annotated[Literal["get", "head"], said('"get" or "head"')]
Strings = Annotated[tuple[Annotated[str, Strict()], ...], said("a list of strings")]
Statuses = Annotated[tuple[Annotated[int, Strict(), Field(ge=100, le=999)], ...], said("a list of HTTP statuses (100-999)")]


def refusal(error: ErrorDetails, key: str | None, *, secret: bool = False) -> str:
    """One pydantic error as one phrase: ``per_host: must be … (got …)``, ``unknown key 'x'``.

    ``key`` is how the user wrote the setting (None when the source is itself the key, such as a
    command-line option); a ``secret`` value is never quoted.
    """
    if error["type"] in UNKNOWN_KEY:
        return f"unknown key {key!r}"
    if error["type"] == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        text = error["msg"] + ("" if secret else f" (got {shown(error['input'])})")
    return f"{key}: {text}" if key else text


def shown(value: Any, limit: int = 80) -> str:
    """A value as the user wrote it in TOML, on one line and shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
