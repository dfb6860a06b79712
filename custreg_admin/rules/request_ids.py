"""Ids and selections: numbers from requests (ids, page numbers) read the one safe way, and id
lists of any length (one bound parameter in SQL, a compact text in links and forms).

``str.isdigit()`` accepts "²" (which ``int()`` refuses) and any length (which PostgreSQL refuses
for an ``integer`` column): both end in a 500. These accept ASCII digits within range only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal
from sqlalchemy import Integer, String, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext

#: the largest value of an ``integer`` column (the module's keys)
MAX_ID = 2**31 - 1
#: a packed id list longer than this is not one the module made
MAX_IDS = 5_000_000
#: customers a selection may name by their ids (ticked rows); larger selections go by their
#: search and filters ("all N matching"), which the server reads itself
MAX_SELECTED_IDS = 1000
_DIGITS = re.compile(r"[0-9]{1,10}")


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` rows fill at ``per_page`` a page; at least one (an empty list
    shows one empty page)."""
    return max(1, -(-total // per_page))


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


class InvalidSelection(DomainError):
    """The selection cannot be read (a forged or outdated spec, no ids)."""


# --- id lists ----------------------------------------------------------------------------------


def in_ids(column, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (ids)`` with the whole list as one bound parameter, whatever its length.

    PostgreSQL: ``IN (SELECT unnest(:ids::INTEGER[]))``; SQLite: ``IN (SELECT value FROM
    json_each(:ids))``. Other databases get an ordinary expanding ``IN``.
    """
    ids = [int(i) for i in ids]
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        rows = func.unnest(literal(ids, ARRAY(Integer))).column_valued("id")
        return column.in_(select(rows))
    if dialect == "sqlite":
        rows = func.json_each(literal(json.dumps(ids), String)).table_valued("value")
        return column.in_(select(rows.c.value))
    return column.in_(ids)


def pack_ids(ids: Iterable[int]) -> str:
    """A compact text for a set of ids: sorted runs as ``gap`` or ``gap+extra`` (``1..100000``
    is ``"1+99999"``). :func:`unpack_ids` reads it back."""
    parts, previous = [], 0
    ordered = sorted(set(ids))
    index = 0
    while index < len(ordered):
        start = end = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == end + 1:
            index += 1
            end = ordered[index]
        gap = start - previous
        parts.append(f"{gap}+{end - start}" if end > start else str(gap))
        previous = end
        index += 1
    return ",".join(parts)


def unpack_ids(text: str) -> list[int]:
    """The ids of :func:`pack_ids`' text; raises :class:`InvalidSelection` on anything else."""
    ids: list[int] = []
    previous = 0
    for part in (text or "").split(","):
        gap, _, extra = part.partition("+")
        if parse_int(gap) is None or (extra and parse_int(extra) is None) or int(gap) < 1:
            raise InvalidSelection(gettext("The list of customers is not valid."))
        start = previous + int(gap)
        end = start + int(extra or 0)
        if end > MAX_ID or len(ids) + end - start >= MAX_IDS:
            raise InvalidSelection(gettext("The list of customers is not valid."))
        ids.extend(range(start, end + 1))
        previous = end
    return ids
