"""Roles: whether a user is logged in with one of the given roles (``admin``, ``manager``,
``user``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def has_role(user: Any, roles: Iterable[str]) -> bool:
    """``user`` is authenticated and their role is one of ``roles``."""
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in set(
        roles
    )
