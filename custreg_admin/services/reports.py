"""Reports > Report creation: report types, their columns and filters as data, one SQL statement.

A *report type* names the entity a row stands for (:data:`REPORT_TYPES`: ``customers``, a row per
customer; ``contacts``, a row per contact) and lists what it offers:

* columns (:class:`ReportColumn`): an id, a label, a value type (``text``, ``int``, ``money``,
  ``date``, ``bool``), the SQL expression of the value, whether it is shown by default, and the
  joins the expression needs;
* filters (:class:`ReportFilter`): an id, a label, how a value given as a string is checked and
  the SQL condition it becomes.

A :class:`ReportSpec` is a chosen type, columns in order, filter values and a sort, for one
viewer on one day (:func:`make_spec` checks and builds it). :func:`report_statement` turns it into
*one* SELECT: choices and addresses are outer joins, segments and per-customer figures correlated
subqueries, so no statement runs per row. :func:`page` reads a page of it, :func:`iter_rows`
streams all of it in chunks (:func:`iter_batches` a batch of rows at a time, what downloads
read), :func:`count_rows` counts the rows; all three see the same rows in the same order (the
sort column, then the row's id as a tiebreak; empty values last).

The per-customer figures follow DESIGN.md "KPI figures": billing is the total of invoices that
count as billing (status ``counts_as_sent``, non-empty number) dated in the period, "this year"
and "last year" being calendar years of ``today`` in ``CUSTREG_TIMEZONE``; costs this year are
costs dated this year on the customer's projects that are not internal, so margin this year is
billing this year minus costs this year; open projects and open sales cases count the customer's
projects of that kind that are not closed, not ``lost`` and not internal.

Billing and cost figures are money only the viewer may see, by the one rule in
:mod:`custreg_admin.rules.visibility` (the card, the KPI figures and the invoice list ask the same):
each figure adds up the invoices and costs the viewer may see, and is empty (NULL) on the rows of
customers whose money they may not see at all (neither own the customer nor manage one of its
projects). Filters and sorts on those figures work on what the viewer sees (a hidden figure never
matches an amount filter), so neither leaks them. Counts of projects are not restricted (they are
not invoice figures; the KPI cards count them for everyone too).

:func:`customer_ids` gives the ids of the customers behind a report's rows (every page) as a
subquery: the "all N matching" selection the mass update takes from a Customers report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    DateTime,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext, lazy_gettext, lazy_pgettext, ngettext
from ..models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    InvoiceTemplate,
    MarketSegment,
    Project,
    User,
    VatRate,
    customer_segment,
)
from ..rules.billing import cost_counts_for_margin, in_period, invoice_counts_as_billing
from ..rules.money import CENT, money_sum, money_type
from ..rules.open_work import is_open_work
from ..rules.request_ids import parse_id
from ..rules.visibility import (
    project_costs_visible,
    sees_all_invoices,
    sees_money_of_customer,
    visible_invoices,
)
from . import choices
from .kpi import local_today

__all__ = [
    "COLUMN_TYPES",
    "REPORT_TYPES",
    "InvalidReport",
    "ReportColumn",
    "ReportFilter",
    "ReportSpec",
    "ReportType",
    "count_rows",
    "customer_ids",
    "default_delimiter",
    "filter_choices",
    "iter_batches",
    "iter_rows",
    "stream_batches",
    "stream_rows",
    "joined_strings",
    "make_spec",
    "page",
    "report_statement",
]

COLUMN_TYPES = ("text", "int", "money", "date", "bool")
MAX_PAGE_SIZE = 500
SEMICOLON_LOCALES = ("fi", "nb", "nn", "no")


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


# --------------------------------------------------------------------------- SQL building blocks


def joined_strings(
    ctx_or_dialect: QueryContext | str,
    value: ColumnElement[Any],
    *,
    where: Sequence[ColumnElement[bool]],
    order_by: ColumnElement[Any],
    correlate: Any,
    separator: str = ", ",
) -> ColumnElement[str]:
    """A correlated subquery joining ``value`` of the matching rows into one string, in order.

    PostgreSQL: ``string_agg(value, sep ORDER BY ...)``. SQLite (before 3.44 it has no ORDER BY
    inside aggregates): ``group_concat`` over an ordered derived table, which SQLite reads in order.
    """
    dialect = ctx_or_dialect if isinstance(ctx_or_dialect, str) else ctx_or_dialect.dialect
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        aggregate = func.string_agg(value, aggregate_order_by(literal(separator), order_by))
        return select(aggregate).where(*where).correlate(correlate).scalar_subquery()
    ordered = (
        select(value.label("v")).where(*where).order_by(order_by).correlate(correlate).subquery()
    )
    return select(func.group_concat(ordered.c.v, separator)).scalar_subquery()


def _money_type(ctx: QueryContext) -> TypeDecorator:
    return money_type(ctx.sqlite)


def _billing(ctx: QueryContext, start: dt.date, end: dt.date) -> ColumnElement[Any]:
    """The customer's billing in the period, of the invoices the viewer may see."""
    return (
        select(money_sum(Invoice.total, ctx.sqlite))
        .where(
            Invoice.customer_id == Customer.id,
            in_period(Invoice.date, start, end),
            invoice_counts_as_billing(),
            visible_invoices(ctx.viewer),
        )
        .correlate(Customer)
        .scalar_subquery()
    )


def _costs(ctx: QueryContext) -> ColumnElement[Any]:
    """The customer's costs this year that count for margin, of those the viewer may see."""
    return (
        select(money_sum(Cost.amount, ctx.sqlite))
        .select_from(Cost)
        .join(Project, Project.id == Cost.project_id)
        .where(
            Project.customer_id == Customer.id,  # the correlated customer is the project's
            cost_counts_for_margin(),
            project_costs_visible(ctx.viewer),
            in_period(Cost.date, ctx.year_start, ctx.next_year_start),
        )
        .correlate(Customer)
        .scalar_subquery()
    )


def _visible(ctx: QueryContext, expression: ColumnElement[Any]) -> ColumnElement[Any]:
    """The money figure where the viewer may see some of the customer's money, NULL (hidden)
    elsewhere (raw, in SQL units)."""
    if sees_all_invoices(ctx.viewer):
        return expression
    if getattr(ctx.viewer, "id", None) is None:  # typed: PostgreSQL must not get untyped NULL
        return cast(null(), BigInteger() if ctx.sqlite else Numeric(14, 2))
    return case((sees_money_of_customer(ctx.viewer), expression), else_=null())


def _billing_this_year_raw(ctx: QueryContext) -> ColumnElement[Any]:
    return _visible(ctx, _billing(ctx, ctx.year_start, ctx.next_year_start))


def _figure(raw: SqlOf) -> SqlOf:
    """A money column: the raw (restricted) figure, typed so that rows hold ``Decimal``."""
    return lambda ctx: type_coerce(raw(ctx), _money_type(ctx))


def _open_count(kind: str) -> SqlOf:
    def sql(ctx: QueryContext) -> ColumnElement[int]:
        return (
            select(func.count(Project.id))
            .where(Project.customer_id == Customer.id, Project.kind == kind, is_open_work())
            .correlate(Customer)
            .scalar_subquery()
        )

    return sql


def _segments(ctx: QueryContext) -> ColumnElement[str]:
    return joined_strings(
        ctx,
        MarketSegment.name,
        where=(
            customer_segment.c.segment_id == MarketSegment.id,
            customer_segment.c.customer_id == Customer.id,
        ),
        order_by=MarketSegment.name,
        correlate=Customer,
    )


def _non_empty(column) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.trim(column) != "")


# Lookups and the one address of each kind, joined under their own names.
_owner = aliased(User, name="report_owner")
_industry = aliased(Industry, name="report_industry")
_template = aliased(InvoiceTemplate, name="report_template")
_vat_rate = aliased(VatRate, name="report_vat_rate")
_status = aliased(CustomerStatus, name="report_status")
_einvoice = aliased(EInvoiceAddress, name="report_einvoice")
_address = {
    kind: aliased(Address, name=f"report_{kind}_address")
    for kind in ("visiting", "postal", "billing")
}


def _first_address_id(kind: str) -> ColumnElement[int]:
    """The customer's address of this kind: the first one (like the Summary list's city)."""
    return (
        select(func.min(Address.id))
        .where(Address.customer_id == Customer.id, Address.kind == kind)
        .correlate(Customer)
        .scalar_subquery()
    )


def _default_einvoice_id() -> ColumnElement[int]:
    """The default e-invoicing address; without one marked default, the first."""
    return (
        select(EInvoiceAddress.id)
        .where(EInvoiceAddress.customer_id == Customer.id)
        .order_by(EInvoiceAddress.is_default.desc(), EInvoiceAddress.id)
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )


# name: (target, ON clause); joined in this order, only when a column needs them
_JOINS: dict[str, tuple[Any, Callable[[], ColumnElement[bool]]]] = {
    "owner": (_owner, lambda: _owner.id == Customer.owner_id),
    "industry": (_industry, lambda: _industry.id == Customer.industry_id),
    "template": (_template, lambda: _template.id == Customer.invoice_template_id),
    "vat_rate": (_vat_rate, lambda: _vat_rate.id == Customer.vat_rate_id),
    "status": (_status, lambda: _status.id == Customer.status_id),
    "visiting": (
        _address["visiting"],
        lambda: _address["visiting"].id == _first_address_id("visiting"),
    ),
    "postal": (_address["postal"], lambda: _address["postal"].id == _first_address_id("postal")),
    "billing": (
        _address["billing"],
        lambda: _address["billing"].id == _first_address_id("billing"),
    ),
    "einvoice": (_einvoice, lambda: _einvoice.id == _default_einvoice_id()),
}


def _plain(expression) -> SqlOf:
    return lambda ctx: expression


#: The address columns' labels (and their group's): kind -> (group, {part: label}).
_ADDRESS_LABELS = {
    "visiting": (
        lazy_gettext("Visiting address"),
        {
            "street": lazy_gettext("Visiting address street"),
            "postal_code": lazy_gettext("Visiting address postal code"),
            "city": lazy_gettext("Visiting address city"),
            "country": lazy_gettext("Visiting address country"),
        },
    ),
    "postal": (
        lazy_gettext("Postal address"),
        {
            "street": lazy_gettext("Postal address street"),
            "postal_code": lazy_gettext("Postal address postal code"),
            "city": lazy_gettext("Postal address city"),
            "country": lazy_gettext("Postal address country"),
        },
    ),
    "billing": (
        lazy_gettext("Billing address"),
        {
            "street": lazy_gettext("Billing address street"),
            "postal_code": lazy_gettext("Billing address postal code"),
            "city": lazy_gettext("Billing address city"),
            "country": lazy_gettext("Billing address country"),
        },
    ),
}


def _address_columns(kind: str, *, defaults: Sequence[str] = ()) -> list[ReportColumn]:
    target = _address[kind]
    group, labels = _ADDRESS_LABELS[kind]
    parts = (("street", 30), ("postal_code", 11), ("city", 18), ("country", 9))
    return [
        ReportColumn(
            f"{kind}_{part}",
            labels[part],
            "text",
            _plain(getattr(target, part)),
            default=part in defaults,
            joins=(kind,),
            group=group,
            width=width,
        )
        for part, width in parts
    ]


def _as_date(column) -> SqlOf:
    return lambda ctx: type_coerce(column, _DateOfDateTime())


def _contact_name(ctx: QueryContext) -> ColumnElement[str]:
    first = func.coalesce(Contact.first_name, "")
    return type_coerce(func.trim(first + literal(" ") + Contact.last_name), String)


_CUSTOMER_CARD_COLUMNS = [
    ReportColumn(
        "number", lazy_gettext("Customer number"), "int", _plain(Customer.number), True, width=10
    ),
    ReportColumn("name", lazy_gettext("Name"), "text", _plain(Customer.name), True, width=36),
    ReportColumn(
        "business_id", lazy_gettext("Business ID"), "text", _plain(Customer.business_id), True
    ),
    ReportColumn("vat_number", lazy_gettext("VAT number"), "text", _plain(Customer.vat_number)),
    ReportColumn("country", lazy_gettext("Country"), "text", _plain(Customer.country), width=8),
    ReportColumn(
        "owner",
        lazy_gettext("Account owner"),
        "text",
        _plain(_owner.name),
        True,
        joins=("owner",),
        width=20,
    ),
    ReportColumn(
        "industry",
        lazy_gettext("Industry"),
        "text",
        _plain(_industry.name),
        True,
        joins=("industry",),
        width=28,
    ),
    ReportColumn(
        "industry_code",
        lazy_gettext("Industry code"),
        "text",
        _plain(_industry.code),
        joins=("industry",),
    ),
    ReportColumn(
        "status",
        lazy_pgettext("field", "Status"),
        "text",
        _plain(_status.name),
        True,
        joins=("status",),
    ),
    ReportColumn(
        "invoice_template",
        lazy_gettext("Invoice template"),
        "text",
        _plain(_template.name),
        joins=("template",),
    ),
    ReportColumn(
        "vat_rate",
        lazy_gettext("Default invoicing VAT"),
        "text",
        _plain(_vat_rate.name),
        joins=("vat_rate",),
    ),
    ReportColumn("segments", lazy_gettext("Market segments"), "text", _segments, width=30),
    # TRANSLATORS: the customer is not inactivated
    ReportColumn(
        "is_active",
        lazy_pgettext("customer", "Active"),
        "bool",
        _plain(Customer.is_active),
        width=8,
    ),
    ReportColumn("website", lazy_gettext("Website"), "text", _plain(Customer.website), width=28),
    ReportColumn("email", lazy_gettext("E-mail"), "text", _plain(Customer.email), True, width=30),
    ReportColumn("phone", lazy_gettext("Phone"), "text", _plain(Customer.phone), True, width=16),
    ReportColumn("notes", lazy_gettext("Notes"), "text", _plain(Customer.notes), width=50),
    ReportColumn(
        "registry_source", lazy_gettext("Registry source"), "text", _plain(Customer.registry_source)
    ),
    ReportColumn(
        "registry_fetched_at",
        lazy_gettext("Fetched from registry"),
        "date",
        _as_date(Customer.registry_fetched_at),
    ),
    ReportColumn("created_at", lazy_gettext("Created"), "date", _as_date(Customer.created_at)),
    ReportColumn("updated_at", lazy_gettext("Updated"), "date", _as_date(Customer.updated_at)),
]

_EINVOICE_COLUMNS = [
    ReportColumn(
        "einvoice_address",
        lazy_gettext("E-invoicing address"),
        "text",
        _plain(_einvoice.address),
        joins=("einvoice",),
        group=lazy_gettext("E-invoicing"),
        width=22,
    ),
    ReportColumn(
        "einvoice_operator",
        lazy_gettext("E-invoicing operator"),
        "text",
        _plain(_einvoice.operator),
        joins=("einvoice",),
        group=lazy_gettext("E-invoicing"),
        width=18,
    ),
]

_FIGURE_COLUMNS = [
    ReportColumn(
        "billing_this_year",
        lazy_gettext("Billing this year"),
        "money",
        _figure(_billing_this_year_raw),
        True,
        group=lazy_gettext("Figures"),
        description=lazy_gettext(
            "Invoices that count as sent, dated this calendar year (excl. VAT)."
        ),
    ),
    ReportColumn(
        "billing_last_year",
        lazy_gettext("Billing last year"),
        "money",
        _figure(lambda ctx: _visible(ctx, _billing(ctx, ctx.last_year_start, ctx.year_start))),
        group=lazy_gettext("Figures"),
        description=lazy_gettext(
            "Invoices that count as sent, dated last calendar year (excl. VAT)."
        ),
    ),
    ReportColumn(
        "costs_this_year",
        lazy_gettext("Costs this year"),
        "money",
        _figure(lambda ctx: _visible(ctx, _costs(ctx))),
        group=lazy_gettext("Figures"),
        description=lazy_gettext(
            "Costs dated this year on the customer's projects that are not internal."
        ),
    ),
    ReportColumn(
        "margin_this_year",
        lazy_gettext("Margin this year"),
        "money",
        _figure(
            lambda ctx: _visible(
                ctx, _billing(ctx, ctx.year_start, ctx.next_year_start) - _costs(ctx)
            )
        ),
        group=lazy_gettext("Figures"),
        description=lazy_gettext("Billing this year minus costs this year."),
    ),
    ReportColumn(
        "open_projects",
        lazy_gettext("Open projects"),
        "int",
        _open_count("project"),
        group=lazy_gettext("Figures"),
        description=lazy_gettext("Projects not closed, not lost and not internal."),
    ),
    ReportColumn(
        "open_sales_cases",
        lazy_gettext("Open sales cases"),
        "int",
        _open_count("sales_case"),
        group=lazy_gettext("Figures"),
        description=lazy_gettext("Sales cases not closed, not lost and not internal."),
    ),
]

_CONTACT_COLUMNS = [
    ReportColumn(
        "customer_number",
        lazy_gettext("Customer number"),
        "int",
        _plain(Customer.number),
        True,
        width=10,
    ),
    ReportColumn(
        "customer_name", lazy_gettext("Customer"), "text", _plain(Customer.name), True, width=36
    ),
    ReportColumn(
        "contact_name",
        lazy_gettext("Contact"),
        "text",
        _contact_name,
        True,
        group=lazy_gettext("Contact"),
        width=26,
    ),
    ReportColumn(
        "first_name",
        lazy_gettext("First name"),
        "text",
        _plain(Contact.first_name),
        group=lazy_gettext("Contact"),
    ),
    ReportColumn(
        "last_name",
        lazy_gettext("Last name"),
        "text",
        _plain(Contact.last_name),
        group=lazy_gettext("Contact"),
    ),
    ReportColumn(
        "title",
        lazy_pgettext("job title", "Title"),
        "text",
        _plain(Contact.title),
        True,
        group=lazy_gettext("Contact"),
        width=24,
    ),
    ReportColumn(
        "contact_email",
        lazy_gettext("E-mail"),
        "text",
        _plain(Contact.email),
        True,
        group=lazy_gettext("Contact"),
        width=30,
    ),
    ReportColumn(
        "contact_phone",
        lazy_gettext("Phone"),
        "text",
        _plain(Contact.phone),
        True,
        group=lazy_gettext("Contact"),
        width=16,
    ),
    ReportColumn(
        "contact_active",
        lazy_gettext("Contact active"),
        "bool",
        _plain(Contact.is_active),
        group=lazy_gettext("Contact"),
    ),
    ReportColumn("business_id", lazy_gettext("Business ID"), "text", _plain(Customer.business_id)),
    ReportColumn(
        "owner",
        lazy_gettext("Account owner"),
        "text",
        _plain(_owner.name),
        joins=("owner",),
        width=20,
    ),
]


# --------------------------------------------------------------------------- filters


def _parse_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise ValueError(gettext("choose one from the list"))
    return value


def _parse_owner(text: str) -> int | str:
    return "none" if text == "none" else _parse_id(text)


def _parse_country(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(gettext("give a two-letter country code"))
    return code


def _parse_money(text: str) -> Decimal:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(gettext("%(text)s is not an amount", text=repr(text))) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValueError(gettext("%(text)s is not an amount", text=repr(text)))
    return value.quantize(CENT)


def _format_money(value: Decimal) -> str:
    return f"{value:.2f}"


def _choice(options: Sequence[tuple[str, str]]) -> Callable[[str], str]:
    allowed = {value for value, _ in options}

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(gettext("choose one from the list"))
        return text

    return parse


def _owner_condition(ctx: QueryContext, value) -> ColumnElement[bool]:
    return Customer.owner_id.is_(None) if value == "none" else Customer.owner_id == value


def _segment_condition(ctx: QueryContext, value: int) -> ColumnElement[bool]:
    members = select(customer_segment.c.customer_id).where(customer_segment.c.segment_id == value)
    return Customer.id.in_(members)


def _active_condition(column) -> Callable[[QueryContext, str], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: str) -> ColumnElement[bool]:
        if value == "active":
            return column.is_(True)
        if value == "inactive":
            return column.is_(False)
        return true()

    return condition


def _email_condition(column) -> Callable[[QueryContext, str], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: str) -> ColumnElement[bool]:
        return _non_empty(column) if value == "yes" else ~_non_empty(column)

    return condition


def _billing_bound(*, at_least: bool) -> Callable[[QueryContext, Decimal], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: Decimal) -> ColumnElement[bool]:
        figure = _billing_this_year_raw(ctx)  # NULL where hidden: never matches
        bound = int(value * 100) if ctx.sqlite else value
        return figure >= bound if at_least else figure <= bound

    return condition


def _load_users() -> list[tuple[str, str]]:
    return [("none", gettext("(no owner)")), *choices.user_choices()]


def _load(model) -> Callable[[], list[tuple[str, str]]]:
    return lambda: choices.named_choices(model)


def _load_countries() -> list[tuple[str, str]]:
    return [(code, code) for code in choices.customer_countries()]


ACTIVE_STATE_CHOICES = (
    # TRANSLATORS: customers that are not inactivated (a filter choice)
    ("active", lazy_pgettext("customers", "Active")),
    ("inactive", lazy_gettext("Inactivated")),
    ("all", lazy_gettext("All")),
)
CONTACT_STATE_CHOICES = (
    # TRANSLATORS: contact persons who still work there (a filter choice)
    ("active", lazy_pgettext("contacts", "Active")),
    ("inactive", lazy_gettext("Inactive")),
    ("all", lazy_gettext("All")),
)
HAS_EMAIL_CHOICES = (("yes", lazy_gettext("Has e-mail")), ("no", lazy_gettext("No e-mail")))


def _customer_filters(*, email_column, email_label: Any) -> tuple[ReportFilter, ...]:
    return (
        ReportFilter(
            "owner",
            lazy_gettext("Account owner"),
            "choice",
            _owner_condition,
            parse=_parse_owner,
            load_choices=_load_users,
        ),
        ReportFilter(
            "industry",
            lazy_gettext("Industry"),
            "choice",
            lambda ctx, v: Customer.industry_id == v,
            parse=_parse_id,
            load_choices=_load(Industry),
        ),
        ReportFilter(
            "status",
            lazy_pgettext("field", "Status"),
            "choice",
            lambda ctx, v: Customer.status_id == v,
            parse=_parse_id,
            load_choices=_load(CustomerStatus),
        ),
        ReportFilter(
            "segment",
            lazy_gettext("Market segment"),
            "choice",
            _segment_condition,
            parse=_parse_id,
            load_choices=choices.segment_choices,
        ),
        ReportFilter(
            "country",
            lazy_gettext("Country"),
            "choice",
            lambda ctx, v: Customer.country == v,
            parse=_parse_country,
            load_choices=_load_countries,
        ),
        ReportFilter(
            "active_state",
            lazy_gettext("Customers"),
            "choice",
            _active_condition(Customer.is_active),
            parse=_choice(ACTIVE_STATE_CHOICES),
            choices=ACTIVE_STATE_CHOICES,
            default="active",
        ),
        ReportFilter(
            "has_email",
            email_label,
            "choice",
            _email_condition(email_column),
            parse=_choice(HAS_EMAIL_CHOICES),
            choices=HAS_EMAIL_CHOICES,
        ),
        ReportFilter(
            "billing_min",
            lazy_gettext("Billing this year at least"),
            "money",
            _billing_bound(at_least=True),
            parse=_parse_money,
            format=_format_money,
        ),
        ReportFilter(
            "billing_max",
            lazy_gettext("Billing this year at most"),
            "money",
            _billing_bound(at_least=False),
            parse=_parse_money,
            format=_format_money,
        ),
    )


REPORT_TYPES: Mapping[str, ReportType] = MappingProxyType(
    {
        "customers": ReportType(
            id="customers",
            label=lazy_gettext("Customers"),
            description=lazy_gettext(
                "A row per customer: card fields, addresses, e-invoicing and figures."
            ),
            base=Customer,
            row_id=Customer.id,
            columns=tuple(
                _CUSTOMER_CARD_COLUMNS
                + _address_columns("visiting", defaults=("city",))
                + _address_columns("postal")
                + _address_columns("billing")
                + _EINVOICE_COLUMNS
                + _FIGURE_COLUMNS
            ),
            filters=_customer_filters(
                email_column=Customer.email, email_label=lazy_gettext("E-mail")
            ),
            default_sort="name",
            count_text=lambda n, shown: ngettext(
                "%(num)s customer", "%(num)s customers", n, num=shown
            ),
            no_rows=lazy_gettext("No customers match these filters."),
        ),
        "contacts": ReportType(
            id="contacts",
            label=lazy_gettext("Contacts & addresses"),
            description=lazy_gettext(
                "A row per contact, with the customer's visiting and postal address."
            ),
            base=Contact,
            row_id=Contact.id,
            columns=tuple(
                _CONTACT_COLUMNS
                + _address_columns("visiting", defaults=("street", "postal_code", "city"))
                + _address_columns("postal", defaults=("street", "postal_code", "city"))
            ),
            filters=_customer_filters(
                email_column=Contact.email, email_label=lazy_gettext("Contact e-mail")
            )
            + (
                ReportFilter(
                    "contact_state",
                    lazy_gettext("Contacts"),
                    "choice",
                    _active_condition(Contact.is_active),
                    parse=_choice(CONTACT_STATE_CHOICES),
                    choices=CONTACT_STATE_CHOICES,
                    default="active",
                ),
            ),
            default_sort="customer_name",
            count_text=lambda n, shown: ngettext(
                "%(num)s contact", "%(num)s contacts", n, num=shown
            ),
            no_rows=lazy_gettext("No contacts match these filters."),
        ),
    }
)


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
