"""Projects, proposals, invoices and costs: lists to see and fix the data behind the figures."""

from __future__ import annotations

from flask import flash
from flask_admin.contrib.sqla import filters as sqla_filters
from wtforms import SelectField

from ..extension import current_custreg_user
from ..models import SALES_STATUSES, Customer, Invoice, Project
from ..services import projects as project_service
from ..services.errors import DomainError
from ..services.ids import parse_id
from ..services.permissions import visible_costs, visible_invoices
from .base import ProtectedModelView
from .fields import as_choices


class ProjectView(ProtectedModelView):
    """Projects and sales cases. A changed customer goes through the service's rule: only while
    the project has no invoices and no proposals."""

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
        "is_closed": "Closed",
        "is_internal": "Internal",
        "sales_status": "Sales status",
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
        "kind": {"choices": as_choices([("project", "Project"), ("sales_case", "Sales case")])},
        "sales_status": {
            "choices": as_choices((s, s.replace("_", " ").capitalize()) for s in SALES_STATUSES)
        },
    }
    form_ajax_refs = {"customer": {"fields": (Customer.name,), "page_size": 20}}

    def on_model_change(self, form, model, is_created):
        if not is_created:  # a changed customer goes through the rule, with history
            project_service.apply_customer_change(model, user=current_custreg_user())

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


class ProposalView(ProtectedModelView):
    column_list = ("number", "project", "created_at", "total")
    column_searchable_list = ("number",)
    column_default_sort = ("created_at", True)
    form_columns = ("project", "number", "total")
    form_ajax_refs = {"project": {"fields": (Project.name,), "page_size": 20}}


class _VisibleRowsMixin:
    """Lists, details, edits and exports of money rows show only what the viewer may see
    (``visible``: a condition from :mod:`custreg_admin.services.permissions`)."""

    @staticmethod
    def visible(user):  # pragma: no cover - each view sets its own
        raise NotImplementedError

    def get_query(self):
        return super().get_query().filter(self.visible(current_custreg_user()))

    def get_count_query(self):
        return super().get_count_query().filter(self.visible(current_custreg_user()))

    def get_one(self, id):
        row_id = parse_id(id)
        if row_id is None:
            return None
        return self.get_query().filter(self.model.id == row_id).one_or_none()


class InvoiceView(_VisibleRowsMixin, ProtectedModelView):
    visible = staticmethod(visible_invoices)
    column_list = ("number", "date", "customer", "project", "status", "total")
    column_labels = {"total": "Total excl. VAT"}
    column_searchable_list = ("number", "customer.name")
    column_filters = (
        "date",
        "status.name",
        sqla_filters.IntEqualFilter(Invoice.customer_id, "Customer id"),
    )
    column_sortable_list = ("number", "date", "total", ("customer", "customer.name"))
    column_default_sort = ("date", True)
    form_columns = ("customer", "project", "number", "date", "status", "total")
    form_ajax_refs = {
        "customer": {"fields": (Customer.name,), "page_size": 20},
        "project": {"fields": (Project.name,), "page_size": 20},
    }


class CostView(_VisibleRowsMixin, ProtectedModelView):
    visible = staticmethod(visible_costs)
    column_list = ("date", "project", "amount")
    column_filters = ("date",)
    column_default_sort = ("date", True)
    form_columns = ("project", "date", "amount")
    form_ajax_refs = {"project": {"fields": (Project.name,), "page_size": 20}}
