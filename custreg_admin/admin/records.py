"""Projects, proposals, invoices and costs: lists to see and fix the data behind the figures."""

from __future__ import annotations

import json
from datetime import date

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.model.base import ViewArgs
from wtforms import SelectField

from ..context import current_custreg_user
from ..i18n import lazy_gettext, lazy_pgettext
from ..models import SALES_STATUSES, Cost, Customer, Invoice, Project
from ..services import projects as project_service
from ..services.kpi import (
    CustomerFilter,
    CustomerSet,
    billing_invoice_condition,
    costs_of_customers,
    format_period,
    invoices_of_customers,
    kpi_periods,
    margin_cost_condition,
    parse_period,
)
from ..services.labels import PROJECT_KIND_LABELS, SALES_STATUS_LABELS, label
from .base import ProtectedModelView
from .fields import as_choices
from .versions import VersionedEditMixin

CUSTOMER = lazy_gettext("Customer")
PROJECT = lazy_gettext("Project")
NUMBER = lazy_gettext("Number")
DATE = lazy_gettext("Date")


def _labelled(labels):
    """A list formatter showing a stored code by its label."""
    return lambda view, context, model, name: label(labels, getattr(model, name))


class ProjectView(VersionedEditMixin, ProtectedModelView):
    """Projects and sales cases. A changed customer goes through the service's rule: only while
    the project has no invoices and no proposals."""

    deletion_check = staticmethod(project_service.ensure_project_deletable)

    column_list = (
        "customer",
        "name",
        "kind",
        "sales_status",
        "is_closed",
        "is_internal",
        "manager",
    )
    column_labels = {
        "customer": CUSTOMER,
        "name": lazy_gettext("Name"),
        # TRANSLATORS: project or sales case
        "kind": lazy_gettext("Kind"),
        "sales_status": lazy_gettext("Sales status"),
        # TRANSLATORS: a project that is finished (a checkbox)
        "is_closed": lazy_pgettext("project", "Closed"),
        "is_internal": lazy_gettext("Internal"),
        # TRANSLATORS: the user who manages a project
        "manager": lazy_gettext("Manager"),
        "manager.name": lazy_gettext("Manager"),
    }
    column_formatters = {
        "kind": _labelled(PROJECT_KIND_LABELS),
        "sales_status": _labelled(SALES_STATUS_LABELS),
    }
    column_searchable_list = ("name", "customer.name")
    column_filters = ("kind", "sales_status", "is_closed", "is_internal", "manager.name")
    column_sortable_list = ("name", "kind", "sales_status", ("customer", "customer.name"))
    column_default_sort = "name"
    form_columns = (
        "customer",
        "name",
        "kind",
        "sales_status",
        "manager",
        "is_internal",
        "is_closed",
    )
    form_overrides = {"kind": SelectField, "sales_status": SelectField}
    form_args = {
        "kind": {
            "choices": lambda: as_choices(
                (k, label(PROJECT_KIND_LABELS, k)) for k in ("project", "sales_case")
            )
        },
        "sales_status": {
            "choices": lambda: as_choices(
                (s, label(SALES_STATUS_LABELS, s)) for s in SALES_STATUSES
            )
        },
    }
    # inactivated customers are not offered: projects never move onto them (the service refuses)
    form_ajax_refs = {
        "customer": {
            "fields": (Customer.name,),
            "page_size": 20,
            "filters": ["is_active = true"],
        }
    }

    def on_model_change(self, form, model, is_created):
        if not is_created:  # a changed customer goes through the rule, with history
            project_service.apply_customer_change(model, user=current_custreg_user())


class ProposalView(VersionedEditMixin, ProtectedModelView):
    column_list = ("number", "project", "created_at", "total")
    column_labels = {
        "number": NUMBER,
        "project": PROJECT,
        "created_at": lazy_gettext("Created"),
        "total": lazy_gettext("Total"),
    }
    column_searchable_list = ("number",)
    column_default_sort = ("created_at", True)
    form_columns = ("project", "number", "total")
    form_ajax_refs = {"project": {"fields": (Project.name,), "page_size": 20}}


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


class _KpiRowsMixin:
    """Money lists the KPI figures link to (which rows a viewer sees: the access matrix)."""

    def get_url(self, endpoint, **kwargs):
        # ".index_view" means this view's, also when another view builds the link (the KPIs)
        if endpoint.startswith("."):
            endpoint = self.endpoint + endpoint
        return super().get_url(endpoint, **kwargs)

    def kpi_rows_url(
        self, period: tuple[date, date], customers: CustomerFilter | CustomerSet | None = None
    ) -> str:
        """This list filtered to the rows of a KPI money figure: its period and, when the
        figure is for filtered customers, those customers (visibility: the list's own)."""
        filters = []
        for index, flt in enumerate(self._filters or ()):
            if isinstance(flt, KpiPeriodFilter):
                filters.append((index, flt.name, format_period(*period)))
            elif isinstance(flt, SummaryCustomersFilter) and customers is not None:
                if isinstance(customers, CustomerFilter):
                    customers = CustomerSet(parts=(customers,))
                spec = json.dumps(customers.to_spec(), separators=(",", ":"))
                filters.append((index, flt.name, spec))
        return self._get_list_url(ViewArgs(filters=filters))


class InvoiceView(_KpiRowsMixin, VersionedEditMixin, ProtectedModelView):
    column_list = ("number", "date", "customer", "project", "status", "total")
    column_labels = {
        "number": NUMBER,
        "date": DATE,
        "customer": CUSTOMER,
        "customer.name": CUSTOMER,
        "project": PROJECT,
        # TRANSLATORS: an invoice's status (a settings list: Draft, Sent, ...)
        "status": lazy_pgettext("field", "Status"),
        "status.name": lazy_pgettext("field", "Status"),
        "total": lazy_gettext("Total excl. VAT"),
    }
    column_searchable_list = ("number", "customer.name")
    column_filters = (
        "date",
        "status.name",
        sqla_filters.IntEqualFilter(Invoice.customer_id, lazy_gettext("Customer id")),
        KpiPeriodFilter(Invoice.id, lazy_gettext("Billing"), billing_invoice_condition),
        SummaryCustomersFilter(Invoice.id, lazy_gettext("Customers"), invoices_of_customers),
    )
    column_sortable_list = ("number", "date", "total", ("customer", "customer.name"))
    column_default_sort = ("date", True)
    form_columns = ("customer", "project", "number", "date", "status", "total")
    form_ajax_refs = {
        "customer": {"fields": (Customer.name,), "page_size": 20},
        "project": {"fields": (Project.name,), "page_size": 20},
    }

    def on_model_change(self, form, model, is_created):
        project_service.check_invoice_project(model)


class CostView(_KpiRowsMixin, ProtectedModelView):
    column_list = ("date", "project", "amount")
    column_labels = {"date": DATE, "project": PROJECT, "amount": lazy_gettext("Amount")}
    column_filters = (
        "date",
        # TRANSLATORS: costs subtracted in "Margin this year"
        KpiPeriodFilter(Cost.id, lazy_gettext("Margin costs"), margin_cost_condition),
        SummaryCustomersFilter(Cost.id, lazy_gettext("Customers"), costs_of_customers),
    )
    column_default_sort = ("date", True)
    form_columns = ("project", "date", "amount")
    form_ajax_refs = {"project": {"fields": (Project.name,), "page_size": 20}}


#: Which rows make each KPI money figure: (list view class name, period of :func:`kpi_periods`).
KPI_MONEY_ROWS = {
    "billing_this_year": ("invoices", "year"),
    "costs_this_year": ("costs", "year"),
    "billing_this_month": ("invoices", "month"),
    "billing_last_month": ("invoices", "last_month"),
    "billing_last_month_to_date": ("invoices", "last_month_to_date"),
}


def kpi_money_links(
    views, today: date, customers: CustomerFilter | CustomerSet | None = None
) -> dict[str, str]:
    """Drill-down URLs of the KPI money figures (keys of :data:`KPI_MONEY_ROWS`): the Invoices
    and Costs lists filtered to exactly the rows each figure sums. ``views``: the admin's."""
    lists = {
        "invoices": next((v for v in views if isinstance(v, InvoiceView)), None),
        "costs": next((v for v in views if isinstance(v, CostView)), None),
    }
    periods = kpi_periods(today)
    return {
        figure: lists[kind].kpi_rows_url(periods[period], customers)
        for figure, (kind, period) in KPI_MONEY_ROWS.items()
        if lists[kind] is not None
    }
