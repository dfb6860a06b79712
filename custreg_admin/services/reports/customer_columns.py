"""Reports: the Customers report's columns (card fields, addresses, e-invoicing, figures); the
address columns are shared with the Contacts report.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...i18n import lazy_gettext, lazy_pgettext
from ...models import (
    Customer,
)
from .definitions import ReportColumn
from .sql import (
    _address,
    _as_date,
    _billing,
    _billing_this_year_raw,
    _costs,
    _einvoice,
    _figure,
    _industry,
    _open_count,
    _owner,
    _plain,
    _segments,
    _status,
    _template,
    _vat_rate,
    _visible,
)

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
