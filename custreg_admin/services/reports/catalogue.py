"""Reports: the report types (:data:`REPORT_TYPES`), built from the column and filter catalogues."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ...i18n import lazy_gettext, ngettext
from ...models import (
    Contact,
    Customer,
)
from .contact_columns import _CONTACT_COLUMNS
from .customer_columns import (
    _CUSTOMER_CARD_COLUMNS,
    _EINVOICE_COLUMNS,
    _FIGURE_COLUMNS,
    _address_columns,
)
from .definitions import ReportFilter, ReportType
from .filters import CONTACT_STATE_CHOICES, _active_condition, _choice, _customer_filters

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
