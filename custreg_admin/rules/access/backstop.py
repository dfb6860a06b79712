"""The enforcement hook: every flush of the module's sessions is checked against the matrix for
the acting user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ...context import acting_user
from ...errors import PermissionDenied
from .checks import changed_fields, check_write
from .matrix import kind_of

# --- the backstop: every flush of the module's session ------------------------------------------


def check_flush(session: Session, user: Any) -> None:
    """Refuse (:class:`PermissionDenied`) a flush that writes what ``user`` may not: every
    new, changed and deleted row of a kind in :data:`MATRIX`. ``user=None``: the system."""
    if user is None:
        return
    for action, rows in (
        ("create", session.new),
        ("edit", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in list(rows):
            if kind_of(obj) is None:
                continue
            fields: list[str] = []
            if action == "edit":
                if not session.is_modified(obj):
                    continue
                fields = changed_fields(obj)
            elif action == "create":
                fields = [name for name in changed_fields(obj) if getattr(obj, name) is not None]
            decision = check_write(user, action, obj, fields)
            if not decision:
                raise PermissionDenied(decision.reason)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    check_flush(session, acting_user())


def install_backstop(session_factory: Any) -> None:
    """Check every flush of sessions made by ``session_factory`` (the module's own, never
    SQLAlchemy's global ``Session`` class) against the matrix, for :func:`acting_user`."""
    if not event.contains(session_factory, "before_flush", _before_flush):
        event.listen(session_factory, "before_flush", _before_flush)
