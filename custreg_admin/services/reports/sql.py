"""Reports: SQL building blocks the column and filter catalogues share: figures the viewer may
see, segments, the lookups and addresses joined under their own names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Numeric,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from ...models import (
    Address,
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
from ...rules.billing import cost_counts_for_margin, in_period, invoice_counts_as_billing
from ...rules.money import money_sum, money_type
from ...rules.open_work import is_open_work
from ...rules.visibility import (
    project_costs_visible,
    sees_all_invoices,
    sees_money_of_customer,
    visible_invoices,
)
from .definitions import QueryContext, SqlOf, _DateOfDateTime

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


def _as_date(column) -> SqlOf:
    return lambda ctx: type_coerce(column, _DateOfDateTime())
