"""Who may do what. Plain functions on the module's notion of a user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from ..i18n import lazy_gettext
from .errors import PermissionDenied


def has_role(user: Any, roles: Iterable[str]) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in set(
        roles
    )


def sees_all_invoices(user: Any) -> bool:
    return getattr(user, "role", None) == "admin" or bool(
        getattr(user, "can_view_all_invoices", False)
    )


#: What role ``user`` may do only to the customers they own (see :func:`ensure_may_change`).
_REFUSALS = {
    "edit": lazy_gettext(
        "You can edit only customers you own; %(customer)s is not yours. Ask its account owner "
        "or a manager."
    ),
    "delete": lazy_gettext(
        "You can delete only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "refresh": lazy_gettext(
        "You can refresh only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "move projects away from": lazy_gettext(
        "You can move projects away from only customers you own; %(customer)s is not yours. "
        "Ask its account owner or a manager."
    ),
    "inactivate": lazy_gettext(
        "You can inactivate only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "reactivate": lazy_gettext(
        "You can reactivate only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "merge": lazy_gettext(
        "You can merge only customers you own; %(customer)s is not yours. Ask its account owner "
        "or a manager."
    ),
    "merge into": lazy_gettext(
        "You can merge into only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
}


def ensure_may_change(user: Any, customer: Any, what: str) -> None:
    """Admins and managers change any customer; role ``user`` only customers they own.
    ``user=None`` is the system (CLI, host code). ``what``: a key of :data:`_REFUSALS`."""
    if user is None:
        return
    role = getattr(user, "role", None)
    if role in ("admin", "manager"):
        return
    if role == "user" and customer.owner_id is not None and customer.owner_id == user.id:
        return
    label = f"{customer.number} {customer.name}"
    raise PermissionDenied(str(_REFUSALS[what]) % {"customer": label})


def visible_invoices(user: Any) -> ColumnElement[bool]:
    """The invoices ``user`` may see: all (admin, "sees all invoices"), else those of the
    customers they own and of the projects they manage (the rule of the KPI figures)."""
    from ..models import Customer, Invoice, Project

    if sees_all_invoices(user):
        return true()
    user_id = getattr(user, "id", None)
    if user_id is None:
        return false()
    return or_(
        Invoice.customer_id.in_(select(Customer.id).where(Customer.owner_id == user_id)),
        Invoice.project_id.in_(select(Project.id).where(Project.manager_id == user_id)),
    )


def visible_costs(user: Any) -> ColumnElement[bool]:
    """The costs ``user`` may see: like invoices, through the cost's project."""
    from ..models import Cost, Customer, Project

    if sees_all_invoices(user):
        return true()
    user_id = getattr(user, "id", None)
    if user_id is None:
        return false()
    mine = (
        select(Project.id)
        .join(Customer, Customer.id == Project.customer_id)
        .where(or_(Customer.owner_id == user_id, Project.manager_id == user_id))
    )
    return Cost.project_id.in_(mine)
