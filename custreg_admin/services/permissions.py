"""Who may do what. Plain functions on the module's notion of a user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def has_role(user: Any, roles: Iterable[str]) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in set(
        roles
    )


def sees_all_invoices(user: Any) -> bool:
    return getattr(user, "role", None) == "admin" or bool(
        getattr(user, "can_view_all_invoices", False)
    )
