"""Projects, proposals, invoices and costs: lists to see and fix the data behind the figures."""

from __future__ import annotations

from flask_admin.contrib.sqla import filters as sqla_filters
from wtforms import SelectField

from ..context import current_custreg_user
from ..i18n import lazy_gettext, lazy_pgettext
from ..models import SALES_STATUSES, Cost, Customer, Invoice, Project
from ..services import customers as customer_service
from ..services.kpi import (
    billing_invoice_condition,
    costs_of_customers,
    invoices_of_customers,
    margin_cost_condition,
)
from ..services.labels import PROJECT_KIND_LABELS, SALES_STATUS_LABELS, label
from .base import ProtectedModelView
from .customers.filters import KpiPeriodFilter, SummaryCustomersFilter
from .customers.kpi_cards import KpiRowsMixin
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

    deletion_check = staticmethod(customer_service.ensure_project_deletable)

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
            customer_service.apply_customer_change(model, user=current_custreg_user())


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


class InvoiceView(KpiRowsMixin, VersionedEditMixin, ProtectedModelView):
    kpi_rows = "invoices"
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
        customer_service.check_invoice_project(model)


class CostView(KpiRowsMixin, ProtectedModelView):
    kpi_rows = "costs"
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
