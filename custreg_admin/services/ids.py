"""Numbers from requests (ids, page numbers) read the one safe way.

``str.isdigit()`` accepts "²" (which ``int()`` refuses) and any length (which PostgreSQL refuses
for an ``integer`` column): both end in a 500. These accept ASCII digits within range only.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal

from ..i18n import gettext

#: the largest value of an ``integer`` column (the module's keys)
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_int(raw: Any, *, maximum: int = MAX_ID) -> int | None:
    """A non-negative integer of ASCII digits up to ``maximum``; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not _DIGITS.fullmatch(text):
            return None
        value = int(text)
    return value if 0 <= value <= maximum else None


def parse_id(raw: Any) -> int | None:
    """A row id (1 to :data:`MAX_ID`) from request text; None for anything else."""
    value = parse_int(raw)
    return value if value else None


def parse_ids(values: Any) -> list[int]:
    """The valid ids among ``values``, sorted, each once."""
    return sorted({i for i in map(parse_id, values) if i is not None})


def number_problem(column: sa.Column, value: Any) -> str | None:
    """Why ``value`` does not fit ``column`` (a number too large for it, NaN, Infinity), or
    None when it does or is not a number."""
    if value is None or isinstance(value, bool):
        return None
    kind = column.type
    if isinstance(value, Decimal) and not value.is_finite():
        return gettext("Enter a number.")
    if isinstance(kind, sa.Numeric) and isinstance(value, (int, Decimal)):
        if kind.precision is None:
            return None
        limit = Decimal(10) ** (kind.precision - (kind.scale or 0))
        if abs(Decimal(value)) >= limit:
            return gettext(
                "The number must be smaller than %(limit)s (and larger than -%(limit)s).",
                limit=format_decimal(limit),
            )
    elif (
        isinstance(kind, sa.Integer)
        and isinstance(value, int)
        and not -MAX_ID - 1 <= value <= MAX_ID
    ):
        return gettext(
            "The number must be between %(low)s and %(high)s.",
            low=format_decimal(-MAX_ID - 1),
            high=format_decimal(MAX_ID),
        )
    return None
