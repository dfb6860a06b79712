"""Exact money sums, on every database.

Money is ``Decimal`` in ``Numeric(14, 2)``. PostgreSQL sums it as ``numeric``. SQLite keeps
``Numeric`` as floating point, so there a sum is taken over whole cents
(``CAST(ROUND(x * 100) AS INTEGER)``) and read back as ``Decimal``: ``0.10 + 0.20`` is ``0.30``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, cast, func
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def summable(amount, sqlite: bool) -> ColumnElement[Any]:
    """What to SUM for an exact money total: whole cents on SQLite, the numeric value
    elsewhere. Read the sum back with :func:`money_value` (or type it with :func:`money_type`)."""
    return cast(func.round(amount * 100), BigInteger) if sqlite else amount


def cents(amount) -> ColumnElement[Any]:
    """An amount in whole cents as an integer (exact on every database); a sum of them is read
    back with ``money_value(raw, True)``."""
    return cast(func.round(amount * 100), BigInteger)


def money_sum(amount, sqlite: bool) -> ColumnElement[Any]:
    """``COALESCE(SUM(amount), 0)``, exact (see :func:`summable`)."""
    return func.coalesce(func.sum(summable(amount, sqlite)), 0)


def money_value(raw: Any, sqlite: bool) -> Decimal | None:
    """A sum of :func:`summable` values as ``Decimal`` with two decimals (None stays None)."""
    if raw is None:
        return None
    if sqlite:
        return (Decimal(int(raw)) / 100).quantize(CENT)
    return Decimal(raw).quantize(CENT, rounding=ROUND_HALF_UP)


class _CentsAsMoney(TypeDecorator):
    """A sum kept in whole cents (SQLite, exact) read back as ``Decimal`` with two decimals."""

    impl = BigInteger
    cache_ok = True

    def process_result_value(self, value, dialect):
        return money_value(value, True)


class _NumericAsMoney(TypeDecorator):
    """A numeric sum read back as ``Decimal`` with two decimals."""

    impl = Numeric(14, 2)
    cache_ok = True

    def process_result_value(self, value, dialect):
        return money_value(value, False)


def money_type(sqlite: bool) -> TypeDecorator:
    """The type of a :func:`summable` sum, so that rows hold ``Decimal``."""
    return _CentsAsMoney() if sqlite else _NumericAsMoney()
