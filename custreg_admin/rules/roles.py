"""Roles and who may use the module at all: a logged-in, active user with one of a view's roles
(``admin``, ``manager``, ``user``) whom the host's ``access(user)`` hook (if any) lets in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..context import custreg_state


def has_role(user: Any, roles: Iterable[str]) -> bool:
    """``user`` is authenticated and their role is one of ``roles``."""
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in set(
        roles
    )


def may_use_module(user: Any, roles: Iterable[str] | None = None) -> bool:
    """Whether ``user`` (the logged-in user, or None) may use the module, and has one of
    ``roles`` if given: the host's ``CustReg.init_app(access=...)`` hook has the last word."""
    if user is None:
        return False
    if roles is not None and not has_role(user, roles):
        return False
    access = custreg_state().access
    return access is None or bool(access(user))
