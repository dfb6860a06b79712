"""Users: authentication and creation."""

from __future__ import annotations

import functools
import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext
from ..models import ROLES, User
from ..models.user import default_hash_method, hash_password


def valid_email(email: str) -> str:
    """``email`` stripped and in lower case, when it is an address one can log in with; else a
    :class:`DomainError` saying why. The one rule for the login form, ``flask custreg
    create-user``, :func:`create_user` and a host's ``sync_user`` (email-validator, without a
    DNS lookup: special-use domains such as ``.test`` or ``.local`` are refused everywhere
    alike)."""
    from email_validator import EmailNotValidError, validate_email

    text = (email or "").strip()
    if not text:
        raise DomainError(gettext("An e-mail address is required."))
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(
            gettext(
                "%(email)s is not a valid e-mail address: %(reason)s",
                email=text,
                reason=str(error),
            )
        ) from error
    return text.lower()


def valid_role(role: str) -> str:
    """``role`` when it is one of :data:`~custreg_admin.models.ROLES`; else a
    :class:`DomainError` naming them (users made here and users a host syncs)."""
    if role not in ROLES:
        raise DomainError(
            gettext(
                "Unknown role %(role)s; choose one of %(roles)s.",
                role=repr(role),
                roles=", ".join(ROLES),
            )
        )
    return role


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made with the current method (what an unknown e-mail
    address is checked against: the same work as a known one)."""
    return _dummy_hash_made_with(default_hash_method())


@functools.cache
def _dummy_hash_made_with(method: str) -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None.

    A password hashed with an older method than werkzeug's current default is hashed again
    (the password is at hand only now)."""
    user = find_by_email(email or "")
    if user is None or not user.password_hash:
        # the same work as a wrong password: the answer's timing tells nothing about accounts
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    if user.password_needs_rehash():
        user.set_password(password, end_sessions=False)
        db.session.commit()
    return user


def create_user(
    email: str,
    name: str,
    password: str,
    role: str = "user",
    can_view_all_invoices: bool = False,
) -> User:
    email = valid_email(email)
    role = valid_role(role)
    if len(password) < 8:
        raise DomainError(gettext("The password must have at least 8 characters."))
    if find_by_email(email) is not None:
        raise DomainError(gettext("A user with e-mail %(email)s already exists.", email=email))
    user = User(
        email=email,
        name=name.strip() or email,
        role=role,
        can_view_all_invoices=can_view_all_invoices,
        is_active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_by_session_token(token: str) -> User | None:
    """The active user whose sessions carry ``token`` (Flask-Login's user loader), else None."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.session_token == token))
    return user if user is not None and user.is_active else None


def end_sessions(user: User) -> None:
    """Log ``user`` out everywhere: every session and remember-me cookie stops working."""
    user.end_sessions()
    db.session.commit()


def set_locale(user_id: int, locale: str | None) -> User | None:
    """Save a user's UI language (``None``: the browser's); returns the user, None if unknown.

    ``locale`` must already be one the module offers (the caller checks it)."""
    user = db.session.get(User, user_id)
    if user is None:
        return None
    if user.locale != locale:
        user.locale = locale
        db.session.commit()
    return user
