"""The matrix in SQL: the rows a user may reach, as a condition for a query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from ...models import (
    Cost,
    Customer,
    Invoice,
    MassUpdateBatch,
    Project,
    Proposal,
    SavedReport,
)
from ..visibility import visible_costs, visible_invoices
from .matrix import ALL, NONE, SELF, SHARED, VISIBLE, kind_of, scope

# --- SQL: the rows a user may reach -----------------------------------------------------------


def _own_customers(user_id: Any):
    return select(Customer.id).where(Customer.owner_id == user_id)


def _own_projects(user_id: Any):
    return select(Project.id).where(Project.customer_id.in_(_own_customers(user_id)))


def readable_rows(user: Any, model: type) -> ColumnElement[bool]:
    """The rows of ``model`` that ``user`` may list, see and export."""
    reach = scope(user, "list", model)
    if reach == ALL:
        return true()
    if reach == VISIBLE:
        return visible_invoices(user) if model is Invoice else visible_costs(user)
    if reach == SHARED:
        return or_(SavedReport.owner_id == user.id, SavedReport.is_shared.is_(True))
    return false()


def changeable_rows(user: Any, model: type, action: str = "edit") -> ColumnElement[bool]:
    """The rows of ``model`` that ``user`` may ``action`` (edit, delete...), as stored."""
    reach = scope(user, action, model)
    if reach == ALL:
        return true()
    if reach == NONE or user is None:
        return false()
    user_id = user.id
    if reach == SELF:
        return model.id == user_id
    kind = kind_of(model)
    if kind == "customer":
        return Customer.owner_id == user_id
    if kind == "saved_report":
        return SavedReport.owner_id == user_id
    if kind == "mass_update":
        return MassUpdateBatch.user_id == user_id
    if model in (Proposal, Cost):
        return model.project_id.in_(_own_projects(user_id))
    if model is Invoice:
        own = Invoice.customer_id.in_(_own_customers(user_id))
        return own & (Invoice.project_id.is_(None) | Invoice.project_id.in_(_own_projects(user_id)))
    return model.customer_id.in_(_own_customers(user_id))
