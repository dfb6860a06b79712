"""What a new customer starts with, as Severa does: its creator as the account owner and the
status chosen in Settings as "default for new customers" (seeded: Active)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ...extensions import db
from ...models import CustomerStatus, User


def default_status() -> CustomerStatus | None:
    """The status new customers start with, if one is chosen."""
    return db.session.scalars(
        select(CustomerStatus)
        .where(CustomerStatus.is_default_for_new.is_(True))
        .order_by(CustomerStatus.id)
        .limit(1)
    ).first()


def new_customer_defaults(user: Any) -> dict[str, Any]:
    """The values a new customer's form starts with: owner (the creator, when they are a user of
    the module) and status."""
    owner = user if isinstance(user, User) and user.id is not None else None
    return {"owner": owner, "status": default_status()}


def keep_one_default_status(status: CustomerStatus) -> None:
    """At most one default status: ``status``, now the default, replaces the one before."""
    if status.is_default_for_new:
        db.session.execute(
            update(CustomerStatus)
            .where(CustomerStatus.id != status.id, CustomerStatus.is_default_for_new.is_(True))
            .values(is_default_for_new=False)
        )
