"""The Summary's filters (owner, industry, status, segment, country, active state, registry
status, KPI counted-in) and the filters of the KPI money drill-downs (Invoices and Costs lists)."""

from __future__ import annotations

import json

from flask import g, has_app_context
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla import filters as sqla_filters

from ...i18n import lazy_gettext, lazy_pgettext
from ...models import Customer
from ...registries import STATUS_LABELS
from ...rules.open_work import KPI_CONDITIONS
from ...rules.request_ids import parse_id
from ...services import choices
from ...services.customer_filter import ACTIVE_STATES, CustomerFilter, CustomerSet
from ...services.kpi import parse_period
from ..fields import country_name


class CustomerFieldFilter(sqla_filters.BaseSQLAFilter):
    """A Summary filter that is one field of the service's :class:`CustomerFilter`.

    The list, the KPI cards and the drill-down links all read the same definition.
    """

    def __init__(self, field: str, name: str, options, *, numeric: bool = True) -> None:
        super().__init__(Customer.id, name, options=options)
        self.field = field
        self.numeric = numeric

    def clean(self, value):
        if self.numeric:
            return parse_id(value)
        value = str(value).strip()
        return value.upper() if self.field == "country" else value

    def validate(self, value):
        return parse_id(value) is not None if self.numeric else bool(str(value).strip())

    def customer_filter(self, value) -> CustomerFilter:
        return CustomerFilter(active_state="all", **{self.field: self.clean(value)})

    def apply(self, query, value, alias=None):
        return query.filter(CustomerFilter(active_state="all", **{self.field: value}).condition())

    def operation(self):
        return admin_gettext("equals")  # Flask-Admin's word, in the viewer's language


REGISTRY_STATUS_OPTIONS = (
    ("not_active", lazy_gettext("Ceased, bankrupt or in liquidation")),
    ("active", STATUS_LABELS["active"]),
    ("liquidation", STATUS_LABELS["liquidation"]),
    ("bankrupt", STATUS_LABELS["bankrupt"]),
    ("ceased", STATUS_LABELS["ceased"]),
)


class ActiveStateFilter(sqla_filters.BaseSQLAFilter):
    """Active / inactivated / all. Without it in the URL the list shows active customers."""

    def __init__(self) -> None:
        super().__init__(
            Customer.is_active,
            lazy_gettext("Active state"),
            options=(
                # TRANSLATORS: customers that are not inactivated (a filter choice)
                ("active", lazy_pgettext("customers", "Active")),
                ("inactive", lazy_gettext("Inactivated")),
                ("all", lazy_gettext("All")),
            ),
        )

    def customer_filter(self, value) -> CustomerFilter:
        return CustomerFilter(active_state=value)

    def apply(self, query, value, alias=None):
        return query.filter(CustomerFilter(active_state=value).condition())

    def operation(self):
        return "is"

    def validate(self, value):
        return value in ACTIVE_STATES


class KpiFilter(sqla_filters.BaseSQLAFilter):
    """The customers a KPI card counts: the drill-down target of its link."""

    CONDITIONS = KPI_CONDITIONS

    def __init__(self) -> None:
        super().__init__(
            Customer.id,
            lazy_gettext("Counted in"),
            options=(
                ("active", lazy_gettext("Active customers")),
                ("prospects", lazy_gettext("Prospects in pipeline")),
            ),
        )

    def apply(self, query, value, alias=None):
        return query.filter(self.CONDITIONS[value]())

    def operation(self):
        return "KPI"

    def validate(self, value):
        return value in self.CONDITIONS


def _filter_choices(name: str):
    """A Summary filter's choices, read per request (Flask-Admin asks once at start-up, with no
    app context: no choices) from the module's cache; the five lists are one cache entry, read
    once per request (see ``choices.cached_summary_filter_choices``)."""

    def read_choices():
        if not has_app_context():
            return []
        lists = g.get("_custreg_summary_choices")
        if lists is None:
            lists = g._custreg_summary_choices = choices.cached_summary_filter_choices()
        if name == "countries":
            return [(code, country_name(code)) for code in lists[name]]
        return lists[name]

    return read_choices


class KpiPeriodFilter(sqla_filters.BaseSQLAFilter):
    """The rows a KPI money figure is made of in a period (``2026-12-01..2026-12-31``):
    ``condition(start, end)`` is the figure's own condition from :mod:`..services.kpi`."""

    def __init__(self, column, name, condition) -> None:
        super().__init__(column, name)
        self.condition = condition

    def validate(self, value):
        return parse_period(value) is not None

    def apply(self, query, value, alias=None):
        return query.filter(self.condition(*parse_period(value)))

    def operation(self):
        # TRANSLATORS: a list filter: the rows that make a KPI figure, in a period
        return lazy_gettext("counted in the figure of")


class SummaryCustomersFilter(sqla_filters.BaseSQLAFilter):
    """Rows of the customers matching the Summary's search and filters (a customer set as
    :meth:`CustomerSet.to_spec` JSON): the KPI cards' figures follow the same filters."""

    def __init__(self, column, name, condition) -> None:
        super().__init__(column, name)
        self.condition = condition

    @staticmethod
    def customer_set(value) -> CustomerSet | None:
        try:
            return CustomerSet.from_spec(json.loads(value))
        except (ValueError, TypeError):
            return None

    def validate(self, value):
        return self.customer_set(value) is not None

    def apply(self, query, value, alias=None):
        return query.filter(self.condition(self.customer_set(value)))

    def operation(self):
        # TRANSLATORS: a list filter: rows of the customers the Summary list shows
        return lazy_gettext("matching the Summary's search and filters")
