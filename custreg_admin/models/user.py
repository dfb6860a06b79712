"""Users: administrators, managers, account owners."""

from __future__ import annotations

import functools
import secrets

from flask import current_app, has_app_context
from sqlalchemy import Boolean, String, event
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db

ROLES = ("admin", "manager", "user")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    """``password`` hashed with the installation's method (:func:`default_hash_method`)."""
    return generate_password_hash(password, **_method_argument())


def default_hash_method() -> str:
    """The method new password hashes use, with its parameters, e.g. ``scrypt:32768:8:1``:
    ``CUSTREG_PASSWORD_HASH_METHOD`` where set, else werkzeug's current default. A stored hash
    made otherwise is hashed again at the user's next log-in."""
    return _method_prefix(_method_argument().get("method"))


def _method_argument() -> dict[str, str]:
    method = current_app.config.get("CUSTREG_PASSWORD_HASH_METHOD") if has_app_context() else None
    return {"method": method} if method else {}


@functools.cache
def _method_prefix(method: str | None) -> str:
    probe = (
        generate_password_hash("probe", method=method)
        if method
        else generate_password_hash("probe")
    )
    return probe.split("$", 1)[0]


class User(db.Model):
    __tablename__ = "custreg_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[str] = mapped_column(String(20), default="user")
    can_view_all_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    #: What the user's session and remember-me cookies carry instead of the id (Flask-Login's
    #: "alternative token"): a new one ends every session of the user (:meth:`end_sessions`).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session token (never the id): cookies made before :meth:`end_sessions` name a
        token nobody has any more, so they log nobody in."""
        if not self.session_token:
            self.session_token = new_session_token()
        return self.session_token

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this user (a new session token). Done by
        logout, and whenever the password changes or the user is deactivated."""
        self.session_token = new_session_token()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str, *, end_sessions: bool = True) -> None:
        """A new password; ends the user's sessions (``end_sessions=False``: the same password
        hashed again, as :func:`~custreg_admin.services.users.authenticate` does)."""
        self.password_hash = hash_password(password)
        if end_sessions:
            self.end_sessions()

    def password_needs_rehash(self) -> bool:
        """Whether the hash was made with other parameters than werkzeug's current default."""
        return bool(self.password_hash) and (
            self.password_hash.split("$", 1)[0] != default_hash_method()
        )

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.name


@event.listens_for(User.is_active, "set")
def _deactivation_ends_sessions(user: User, value: bool, old: object, _initiator: object) -> None:
    """Deactivating a user, by any path (the users page, a service, a host script), ends their
    sessions: reactivating them later does not revive old cookies."""
    if old is True and not value:
        user.end_sessions()
