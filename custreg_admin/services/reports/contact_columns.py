"""Reports: the Contacts report's own columns (a row per contact)."""

from __future__ import annotations

from sqlalchemy import (
    String,
    func,
    literal,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from ...i18n import lazy_gettext, lazy_pgettext
from ...models import (
    Contact,
    Customer,
)
from .definitions import QueryContext, ReportColumn
from .sql import _owner, _plain


def _contact_name(ctx: QueryContext) -> ColumnElement[str]:
    first = func.coalesce(Contact.first_name, "")
    return type_coerce(func.trim(first + literal(" ") + Contact.last_name), String)


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
