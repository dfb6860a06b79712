"""Reports: the spec (:func:`make_spec`) and its one SELECT, paged, counted and streamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask import current_app
from sqlalchemy import (
    Select,
    func,
    select,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
)
from ..kpi import local_today
from .catalogue import REPORT_TYPES
from .definitions import InvalidReport, QueryContext, ReportColumn, ReportType
from .sql import _JOINS

MAX_PAGE_SIZE = 500
SEMICOLON_LOCALES = ("fi", "nb", "nn", "no")


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class ReportSpec:
    """A report to run: type, columns in order, typed filter values, sort, viewer and day."""

    report_type: str
    columns: tuple[str, ...]
    filters: Mapping[str, Any]
    sort: str
    descending: bool
    viewer: Any
    today: dt.date

    @property
    def type(self) -> ReportType:
        return REPORT_TYPES[self.report_type]

    @property
    def column_defs(self) -> list[ReportColumn]:
        return [self.type.column(column_id) for column_id in self.columns]

    @property
    def sort_key(self) -> str:
        """The sort as stored: the column id, with ``-`` in front when descending."""
        return f"-{self.sort}" if self.descending else self.sort

    def filter_strings(self) -> dict[str, str]:
        """The filter values as strings, as saved reports and URLs keep them."""
        return {
            item.id: item.format(self.filters[item.id])
            for item in self.type.filters
            if item.id in self.filters
        }


def make_spec(
    report_type: str,
    columns: Sequence[str] | None = None,
    filters: Mapping[str, str | None] | None = None,
    sort: str | None = None,
    *,
    viewer: Any,
    today: dt.date | None = None,
    strict: bool = True,
) -> ReportSpec:
    """Check a report definition and build its :class:`ReportSpec`.

    ``columns`` in display order (empty or None: the type's defaults); ``filters`` maps filter
    ids to strings (empty or missing: the filter's default, if any); ``sort`` is a column id,
    with ``-`` in front for descending (None: the type's default). ``today`` defaults to today
    in ``CUSTREG_TIMEZONE``. With ``strict=False`` (saved reports after a column was retired)
    unknown columns and invalid filter values are dropped instead of raising
    :class:`InvalidReport`.
    """
    kind = REPORT_TYPES.get(report_type or "")
    if kind is None:
        raise InvalidReport(gettext("There is no report type %(type)s.", type=repr(report_type)))

    chosen: list[str] = []
    for column_id in columns or ():
        if not kind.has_column(column_id):
            if strict:
                kind.column(column_id)  # raises
            continue
        if column_id not in chosen:
            chosen.append(column_id)
    if not chosen:
        chosen = list(kind.default_columns)

    given = dict(filters or {})
    if strict:
        for filter_id in given:
            kind.filter(filter_id)  # raises on an unknown filter
    parsed: dict[str, Any] = {}
    for item in kind.filters:
        text = given.get(item.id)
        text = "" if text is None else str(text).strip()
        if not text:
            text = item.default or ""
        if not text:
            continue
        try:
            parsed[item.id] = item.parse(text)
        except ValueError as error:
            if strict:
                raise InvalidReport(f"{item.label}: {error}.") from None
            if item.default:
                parsed[item.id] = item.parse(item.default)

    sort = (sort or "").strip() or kind.default_sort
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if not kind.has_column(sort):
        if strict:
            raise InvalidReport(
                gettext(
                    "%(report)s reports cannot be sorted by %(column)s.",
                    report=kind.label,
                    column=repr(sort),
                )
            )
        sort, descending = kind.default_sort, False

    if today is None:
        today = local_today(current_app.config["CUSTREG_TIMEZONE"])
    return ReportSpec(
        report_type=kind.id,
        columns=tuple(chosen),
        filters=MappingProxyType(parsed),
        sort=sort,
        descending=descending,
        viewer=viewer,
        today=today,
    )


def default_delimiter(locale: str | None) -> str:
    """The CSV delimiter a spreadsheet of this locale expects: ``;`` for fi/nb, else ``,``."""
    language = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return ";" if language in SEMICOLON_LOCALES else ","


def filter_choices(report_type: str) -> dict[str, list[tuple[str, str]]]:
    """Each filter's choices as ``(value, label)`` pairs, loaded from the database as needed."""
    kind = REPORT_TYPES[report_type]
    return {
        item.id: item.load_choices() if item.load_choices else list(item.choices)
        for item in kind.filters
        if item.kind == "choice"
    }


# --------------------------------------------------------------------------- the statement


def _context(spec: ReportSpec) -> QueryContext:
    viewer = spec.viewer
    return QueryContext(
        dialect=db.session.get_bind().dialect.name,
        today=spec.today,
        viewer=viewer,
    )


def _from(kind: ReportType, statement: Select, joins: set[str]) -> Select:
    statement = statement.select_from(kind.base)
    if kind.base is not Customer:
        statement = statement.join(Customer, Customer.id == kind.base.customer_id)
    for name, (target, on) in _JOINS.items():
        if name in joins:
            statement = statement.outerjoin(target, on())
    return statement


def _conditions(spec: ReportSpec, ctx: QueryContext) -> list[ColumnElement[bool]]:
    kind = spec.type
    return [kind.filter(fid).condition(ctx, value) for fid, value in spec.filters.items()]


def _ordering(
    spec: ReportSpec, ctx: QueryContext, labelled: Mapping[str, ColumnElement[Any]] | None = None
) -> tuple[list[ColumnElement[Any]], set[str]]:
    """The ORDER BY of the report (sort column, empty values last, then the row id) and the
    joins it needs."""
    kind = spec.type
    sort_column = kind.column(spec.sort)
    if sort_column.type == "text":  # case-insensitive, the same on both databases
        expression: ColumnElement[Any] = func.lower(sort_column.sql(ctx))
    elif labelled and sort_column.id in labelled:
        expression = labelled[sort_column.id]
    else:
        expression = sort_column.sql(ctx)
    order = expression.desc() if spec.descending else expression.asc()
    return [order.nulls_last(), kind.row_id], set(sort_column.joins)


def report_statement(spec: ReportSpec, *, with_customer_ids: bool = False) -> Select:
    """The report's one SELECT, ordered, without paging.

    With ``with_customer_ids`` each row starts with the customer's id (for selections).
    """
    ctx = _context(spec)
    kind = spec.type
    joins: set[str] = set()
    labelled: dict[str, ColumnElement[Any]] = {}
    for column in spec.column_defs:
        labelled[column.id] = column.sql(ctx).label(f"c_{column.id}")
        joins.update(column.joins)
    order, order_joins = _ordering(spec, ctx, labelled)

    selected = list(labelled.values())
    if with_customer_ids:
        selected.insert(0, Customer.id.label("customer_id"))
    statement = _from(kind, select(*selected), joins | order_joins)
    return statement.where(*_conditions(spec, ctx)).order_by(*order)


def count_rows(spec: ReportSpec) -> int:
    """How many rows the report has (one COUNT statement)."""
    ctx = _context(spec)
    statement = _from(spec.type, select(func.count(spec.type.row_id)), set())
    return int(db.session.scalar(statement.where(*_conditions(spec, ctx))) or 0)


def page(
    spec: ReportSpec, page: int = 1, page_size: int = 20, *, with_customer_ids: bool = False
) -> list[tuple]:
    """Rows of page ``page`` (1-based) of ``page_size`` rows, as tuples (one statement).

    The statement picks the page's row ids first, in a derived table that needs only the
    filters and the sort key, and computes the columns (joins, segments, figures) for those
    rows only: a page of a 100,000-customer report does not compute 100,000 rows of figures
    unless it is sorted by one.
    """
    page = max(int(page), 1)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    ctx = _context(spec)
    kind = spec.type
    order, order_joins = _ordering(spec, ctx)
    rows = (
        _from(kind, select(kind.row_id.label("row_id")), order_joins)
        .where(*_conditions(spec, ctx))
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("report_page")
    )
    statement = report_statement(spec, with_customer_ids=with_customer_ids).join(
        rows, rows.c.row_id == kind.row_id
    )
    return [tuple(row) for row in db.session.execute(statement)]


def iter_batches(
    spec: ReportSpec, chunk_size: int = 2000, *, session: Session | None = None
) -> Iterator[Sequence[Row]]:
    """Every row of the report, in order, in batches of up to ``chunk_size`` rows.

    One statement, run on the session's connection as a Core statement: the rows are
    SQLAlchemy ``Row`` objects (tuple-like, typed by the columns' result processors, the same
    values :func:`page` gives) without the ORM's per-row loading. A server-side cursor on
    PostgreSQL (``yield_per``), SQLite's own cursor stepping elsewhere, so memory holds one
    batch whatever the row count. ``session``: the session to read in (default the module's
    ``db.session``); it is flushed first when it autoflushes, as a query through it would be.
    """
    session = session or db.session
    if session.autoflush:
        session.flush()
    statement = report_statement(spec).execution_options(yield_per=chunk_size)
    result = session.connection().execute(statement)
    try:
        yield from result.partitions()
    finally:
        result.close()


def iter_rows(
    spec: ReportSpec, chunk_size: int = 2000, *, session: Session | None = None
) -> Iterator[tuple]:
    """Every row of the report, in order, as tuples, read in chunks of ``chunk_size``
    (:func:`iter_batches`)."""
    batches = iter_batches(spec, chunk_size, session=session)
    try:
        for batch in batches:
            yield from map(tuple, batch)
    finally:
        batches.close()


#: Rows per chunk of :func:`stream_batches`.
STREAM_CHUNK_ROWS = 2000


def stream_batches(spec: ReportSpec, chunk_size: int | None = None) -> Iterator[Sequence[Row]]:
    """:func:`iter_batches` for a response body that outlives the request: a download.

    The rows are read in a database session of their own, opened at the first batch and closed
    when the iteration ends or is closed. The request's session is removed when its app context
    ends, which Flask does when the view returns, before the server iterates the body; a
    server-side cursor (PostgreSQL) would die with it after the first chunk.
    """
    session = Session(db.engine)
    batches = iter_batches(spec, chunk_size or STREAM_CHUNK_ROWS, session=session)
    try:
        yield from batches
    finally:
        batches.close()
        session.close()


def stream_rows(spec: ReportSpec, chunk_size: int | None = None) -> Iterator[tuple]:
    """:func:`stream_batches` row by row, as tuples."""
    batches = stream_batches(spec, chunk_size)
    try:
        for batch in batches:
            yield from map(tuple, batch)
    finally:
        batches.close()


def customer_ids(spec: ReportSpec) -> Select:
    """``SELECT customer id`` of the customers behind every row of the report (no order).

    The mass update's "all N matching" selection from a report: use it as
    ``Customer.id.in_(customer_ids(spec))``. For a Contacts report, the contacts' customers.
    """
    ctx = _context(spec)
    statement = _from(spec.type, select(Customer.id), set()).where(*_conditions(spec, ctx))
    return statement.distinct() if spec.type.base is not Customer else statement
