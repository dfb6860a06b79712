"""Customer history: who changed what on a customer card, and when.

One row per affected customer and change: a project move writes a row on the customer it left
and on the one it joined; a merge writes ``merged_into`` on the duplicate and ``merged_from`` on
the kept customer. ``related_customer_id`` points to the other customer of such a pair, so a
card can find "merged into" / "merged from" without reading JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import lazy_gettext
from .customer import Customer
from .user import User

#: How each kind of event reads in the history (translated when shown). The events' messages
#: are written in the language of the user who made the change.
EVENT_KINDS = {
    "project_moved": lazy_gettext("Project moved"),
    "merged_into": lazy_gettext("Merged into another customer"),
    "merged_from": lazy_gettext("Duplicate merged in"),
    "inactivated": lazy_gettext("Inactivated"),
    "reactivated": lazy_gettext("Reactivated"),
}


def utcnow() -> datetime:
    """Naive UTC, as the timestamp columns of the module store it."""
    return datetime.now(UTC).replace(tzinfo=None)


class CustomerEvent(db.Model):
    __tablename__ = "custreg_customer_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    # The user's name when it happened: history keeps saying who, even after the user is gone.
    user_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    kind: Mapped[str] = mapped_column(String(30))
    related_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    related_customer: Mapped[Customer | None] = relationship(foreign_keys=[related_customer_id])
    user: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return str(EVENT_KINDS.get(self.kind, self.kind.replace("_", " ").capitalize()))

    def __str__(self) -> str:
        return self.message
