"""Who may change which customer (what the rest of this module held moved to
:mod:`custreg_admin.rules`: roles, visibility)."""

from __future__ import annotations

from typing import Any

from ..errors import PermissionDenied
from ..i18n import lazy_gettext

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
