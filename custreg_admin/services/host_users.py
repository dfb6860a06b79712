"""The module's user record for a user of a host app (``CustReg.init_app(user_loader=...)``).

A host that does its own login maps each of its users to a row of ``custreg_user``: the account
owner record that customers, projects and saved reports point at, with the role and invoice
permission the module checks. :func:`sync_user` finds that row by e-mail address (creating it the
first time) and brings its name, role and permission up to date with what the host says.

The row is made only when the host user first *uses* the module and the ``access`` hook admits
them: during a request to one of the module's pages. On the host's own pages (whose admin menu
asks whether the module's views are accessible) and for users the hook refuses, an unsaved
record stands in, so that a host user who never opens the module, or may not, leaves no row
(and never shows up among the account owners).
"""

from __future__ import annotations

from flask import has_request_context
from sqlalchemy.exc import IntegrityError

from ..context import acting_as, custreg_state, is_module_request
from ..extensions import db
from ..models import User
from .users import find_by_email, valid_email, valid_role


def sync_user(
    email: str,
    name: str | None = None,
    role: str = "user",
    can_view_all_invoices: bool = False,
) -> User:
    """The ``custreg_user`` row for the host user with this e-mail address, as the host says.

    Made when missing (with no password: it cannot log in on the module's own login page), else
    updated when the name, role or permission differ; commits only when something changed. The
    row's ``is_active`` stays as the module's administrators set it (an inactive row denies the
    module to that user: :func:`custreg_admin.current_custreg_user` treats it as nobody).
    """
    email = valid_email(email)
    role = valid_role(role)
    name = (name or "").strip() or email
    with acting_as(None):  # the host's word, written by the system (also inside user_loader)
        return _sync(email, name, role, can_view_all_invoices)


def _sync(email: str, name: str, role: str, can_view_all_invoices: bool) -> User:
    user = find_by_email(email)
    if user is None:
        user = User(email=email, name=name, role=role, is_active=True, password_hash="")
        user.can_view_all_invoices = can_view_all_invoices
        if not _may_make_row(user):
            return user  # unsaved: nothing in the module's tables
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:  # made by a concurrent request meanwhile
            db.session.rollback()
            user = find_by_email(email)
            if user is None:
                raise
        else:
            return user
    wanted = {"name": name, "role": role, "can_view_all_invoices": bool(can_view_all_invoices)}
    changed = False
    for attribute, value in wanted.items():
        if getattr(user, attribute) != value:
            setattr(user, attribute, value)
            changed = True
    if changed:
        db.session.commit()
    return user


def _may_make_row(candidate: User) -> bool:
    """Outside a request (host scripts, the CLI): always. In a request: only one to the
    module's own pages, for a user the ``access`` hook admits."""
    if not has_request_context():
        return True
    if not is_module_request():
        return False
    access = custreg_state().access
    return access is None or bool(access(candidate))
