"""Shape helpers for parsing registry answers: a wrong shape raises :class:`UnexpectedAnswer`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class UnexpectedAnswer(Exception):
    """The registry's JSON does not have the shape a plugin expects (raised while parsing)."""


@dataclass(frozen=True)
class JsonAnswer:
    """A decoded registry answer: the HTTP status and the JSON body (``None`` when empty)."""

    status: int
    data: Any
    url: str

    @property
    def ok(self) -> bool:
        return self.status == 200


def expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is of ``kind``, else :class:`UnexpectedAnswer` naming ``what``.

    ``True``/``False`` never pass for a number.
    """
    kinds = (kind,) if isinstance(kind, type) else tuple(kind)
    if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
        return value
    names = "/".join(k.__name__ for k in kinds)
    raise UnexpectedAnswer(f"{what}: expected {names}, got {value!r:.80}")


def required(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """A required field of a JSON object, of the given type."""
    if not isinstance(obj, Mapping):
        raise UnexpectedAnswer(f"{what}: expected an object, got {obj!r:.80}")
    if key not in obj or obj[key] is None:
        raise UnexpectedAnswer(f"{what}.{key} is missing")
    return expect(obj[key], kind, f"{what}.{key}")


def optional(
    obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str, default: Any = None
) -> Any:
    """An optional field (missing or null gives ``default``), of the given type when present."""
    if not isinstance(obj, Mapping):
        raise UnexpectedAnswer(f"{what}: expected an object, got {obj!r:.80}")
    value = obj.get(key)
    if value is None:
        return default
    return expect(value, kind, f"{what}.{key}")


def text(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """An optional string field, stripped; empty strings become ``None``."""
    value = optional(obj, key, str, what)
    if value is None:
        return None
    value = value.strip()
    return value or None


def iso_date(value: Any, what: str) -> date | None:
    """An optional ``YYYY-MM-DD`` date (a longer timestamp keeps its date part)."""
    if value is None or value == "":
        return None
    expect(value, str, what)
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise UnexpectedAnswer(f"{what}: not a date: {value!r:.40}") from error
