"""Who may see which money: the one visibility rule for invoices and costs.

A viewer sees **all** invoices and costs when they are an admin or have
``can_view_all_invoices``. Otherwise they see an invoice when they own its customer
(``Customer.owner_id``) or manage its project (``Project.manager_id``), and a cost when they own
its project's customer or manage its project. Nobody (``None``, an anonymous user) sees none.

Every list, card, KPI figure, report, download and JSON answer that shows invoices, costs or sums
of them asks this module; none re-derives the rule. The predicates are self-contained subqueries
(``correlate(None)``), so they can sit inside any statement, correlated or not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from ..models import Cost, Customer, Invoice, Project


def sees_all_invoices(user: Any) -> bool:
    """Admins and users with ``can_view_all_invoices`` see every invoice and cost."""
    return getattr(user, "role", None) == "admin" or bool(
        getattr(user, "can_view_all_invoices", False)
    )


def _viewer_id(user: Any) -> int | None:
    return getattr(user, "id", None)


def owned_customers(user_id: int):
    """The ids of the customers ``user_id`` owns (a subquery)."""
    return select(Customer.id).where(Customer.owner_id == user_id).correlate(None)


def managed_projects(user_id: int):
    """The ids of the projects ``user_id`` manages (a subquery)."""
    return select(Project.id).where(Project.manager_id == user_id).correlate(None)


def _owner_or_manager(user: Any, owns, manages) -> ColumnElement[bool]:
    """The rule above, once: everything for a viewer who sees all invoices, nothing without a
    user, else ``owns(user_id) OR manages(user_id)`` (conditions the callers build on their
    own columns)."""
    if sees_all_invoices(user):
        return true()
    user_id = _viewer_id(user)
    if user_id is None:
        return false()
    return or_(owns(user_id), manages(user_id))


def visible_through(user: Any, customer_id, project_id) -> ColumnElement[bool]:
    """Condition on a row of money linked to a customer and (perhaps) a project by the columns
    ``customer_id`` and ``project_id``: ``user`` may see it (the rule above). Invoices, and the
    KPI aggregates (:class:`~custreg_admin.models.KpiTotal`, whose cost rows carry the
    project's customer) ask it."""
    return _owner_or_manager(
        user,
        lambda user_id: customer_id.in_(owned_customers(user_id)),
        lambda user_id: project_id.in_(managed_projects(user_id)),
    )


def visible_to_viewer(user: Any, owner_id, manager_id) -> ColumnElement[bool]:
    """The same rule on a row that carries its customer's account owner and its project's
    manager as columns (``owner_id``, ``manager_id``; 0 or NULL: none), as the KPI aggregates
    per viewer (:class:`~custreg_admin.models.KpiViewerMonth`) keep them: ``user`` owns the
    customer or manages the project."""
    return _owner_or_manager(
        user, lambda user_id: owner_id == user_id, lambda user_id: manager_id == user_id
    )


def visible_invoices(user: Any) -> ColumnElement[bool]:
    """Condition on ``Invoice``: the invoices ``user`` may see."""
    return visible_through(user, Invoice.customer_id, Invoice.project_id)


def project_costs_visible(user: Any) -> ColumnElement[bool]:
    """Condition on ``Project`` joined with its ``Customer``: ``user`` may see the project's
    costs (they see all, own the customer, or manage the project)."""
    if sees_all_invoices(user):
        return true()
    user_id = _viewer_id(user)
    if user_id is None:
        return false()
    return or_(Customer.owner_id == user_id, Project.manager_id == user_id)


def visible_costs(user: Any) -> ColumnElement[bool]:
    """Condition on ``Cost``: the costs ``user`` may see (like invoices, through the project)."""
    if sees_all_invoices(user):
        return true()
    if _viewer_id(user) is None:
        return false()
    projects = (
        select(Project.id)
        .join(Customer, Customer.id == Project.customer_id)
        .where(project_costs_visible(user))
        .correlate(None)
    )
    return Cost.project_id.in_(projects)


def sees_money_of_customer(user: Any) -> ColumnElement[bool]:
    """Condition on ``Customer``: ``user`` may see some of its money (they see all, own it, or
    manage one of its projects). Where this is false a per-customer money figure is hidden
    (empty), not zero."""
    if sees_all_invoices(user):
        return true()
    user_id = _viewer_id(user)
    if user_id is None:
        return false()
    manages_one = exists(
        select(Project.id)
        .where(Project.customer_id == Customer.id, Project.manager_id == user_id)
        .correlate(Customer)
    )
    return or_(Customer.owner_id == user_id, manages_one)
