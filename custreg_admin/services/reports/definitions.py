"""Reports: what a report type, a column and a filter are, as data (see the package docs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    DateTime,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from ...errors import DomainError
from ...i18n import gettext, lazy_gettext, ngettext

COLUMN_TYPES = ("text", "int", "money", "date", "bool")


class InvalidReport(DomainError):
    """A report definition that names an unknown type, column, filter value or sort."""


# --------------------------------------------------------------------------- the query context


@dataclass(frozen=True)
class QueryContext:
    """What a column's SQL may depend on: the database dialect, the day, the viewer."""

    dialect: str
    today: dt.date
    #: whose money figures: asked of :mod:`custreg_admin.rules.visibility`
    viewer: Any

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def year_start(self) -> dt.date:
        return dt.date(self.today.year, 1, 1)

    @property
    def next_year_start(self) -> dt.date:
        return dt.date(self.today.year + 1, 1, 1)

    @property
    def last_year_start(self) -> dt.date:
        return dt.date(self.today.year - 1, 1, 1)


class _DateOfDateTime(TypeDecorator):
    """A timestamp column read back as its date."""

    impl = DateTime
    cache_ok = True

    def process_result_value(self, value, dialect):
        return value.date() if isinstance(value, dt.datetime) else value


# --------------------------------------------------------------------------- definitions as data


SqlOf = Callable[[QueryContext], ColumnElement[Any]]


@dataclass(frozen=True)
class ReportColumn:
    """A column a report type offers.

    ``sql(ctx)`` builds its value expression; ``joins`` names the joins (of the report type's
    join table) the expression needs; ``width`` is a hint in characters for spreadsheets.
    """

    id: str
    label: str
    type: str
    sql: SqlOf
    default: bool = False
    joins: tuple[str, ...] = ()
    group: Any = lazy_gettext("Customer")
    width: int | None = None
    description: Any = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.id}: unknown type {self.type!r}")


@dataclass(frozen=True)
class ReportFilter:
    """A filter a report type offers.

    ``parse(text)`` checks a value given as a string and returns it typed (raising ValueError
    with a message for the user); ``condition(ctx, value)`` is the SQL condition. ``choices`` lists
    the allowed values as ``(value, label)`` pairs, or loads them (``load_choices``) from the
    database; ``default`` applies when no value is given.
    """

    id: str
    label: str
    kind: str  # "choice" (a select) or "money" (an amount)
    condition: Callable[[QueryContext, Any], ColumnElement[bool]]
    parse: Callable[[str], Any] = str
    format: Callable[[Any], str] = str
    choices: tuple[tuple[str, str], ...] = ()
    load_choices: Callable[[], list[tuple[str, str]]] | None = None
    default: str | None = None


@dataclass(frozen=True)
class ReportType:
    """A kind of report; ``label``, ``description`` and ``no_rows`` are translated when shown,
    ``count_text(n, shown)`` words a row count (``shown``: ``n`` formatted for the viewer)."""

    id: str
    label: Any
    description: Any
    base: Any
    row_id: ColumnElement[int]
    columns: tuple[ReportColumn, ...]
    filters: tuple[ReportFilter, ...]
    default_sort: str
    count_text: Callable[[int, str], str] = lambda n, shown: ngettext(
        "%(num)s row", "%(num)s rows", n, num=shown
    )
    no_rows: Any = lazy_gettext("No rows match these filters.")
    _by_id: Mapping[str, ReportColumn] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {column.id: column for column in self.columns}
        if len(by_id) != len(self.columns):
            raise ValueError(f"report type {self.id}: duplicate column ids")
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))

    def column(self, column_id: str) -> ReportColumn:
        try:
            return self._by_id[column_id]
        except KeyError:
            raise InvalidReport(
                gettext(
                    "%(report)s reports have no column %(column)s.",
                    report=self.label,
                    column=repr(column_id),
                )
            ) from None

    def has_column(self, column_id: str) -> bool:
        return column_id in self._by_id

    def filter(self, filter_id: str) -> ReportFilter:
        for found in self.filters:
            if found.id == filter_id:
                return found
        raise InvalidReport(
            gettext(
                "%(report)s reports have no filter %(filter)s.",
                report=self.label,
                filter=repr(filter_id),
            )
        )

    @property
    def default_columns(self) -> tuple[str, ...]:
        return tuple(column.id for column in self.columns if column.default)

    @property
    def groups(self) -> list[tuple[str, list[ReportColumn]]]:
        """Columns grouped for pickers, in definition order."""
        grouped: dict[str, list[ReportColumn]] = {}
        for column in self.columns:
            grouped.setdefault(column.group, []).append(column)
        return list(grouped.items())
