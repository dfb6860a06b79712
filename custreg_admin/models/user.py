"""Users: administrators, managers, account owners."""

from __future__ import annotations

import functools

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db

ROLES = ("admin", "manager", "user")


@functools.cache
def default_hash_method() -> str:
    """werkzeug's current default method with its parameters, e.g. ``scrypt:32768:8:1``."""
    return generate_password_hash("probe").split("$", 1)[0]


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

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_all_invoices(self) -> bool:
        return self.is_admin or bool(self.can_view_all_invoices)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def password_needs_rehash(self) -> bool:
        """Whether the hash was made with other parameters than werkzeug's current default."""
        return bool(self.password_hash) and (
            self.password_hash.split("$", 1)[0] != default_hash_method()
        )

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.name
