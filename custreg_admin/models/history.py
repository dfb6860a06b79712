"""Customer history: who changed what on a customer card, and when.

One row per affected customer and change, written by one choke point
(:mod:`custreg_admin.services.history`): the customer itself and what hangs on it (contacts,
addresses, e-invoicing addresses, projects, proposals, invoices, costs, segments). A project
move writes a row on the customer it left and on the one it joined; a merge writes
``merged_into`` on the duplicate and ``merged_from`` on the kept customer.
``related_customer_id`` points to the other customer of such a pair, so a card can find "merged
into" / "merged from" without reading JSON. ``entity_type`` / ``entity_id`` name the row the
entry is about (``"contact"``, 17), to find a row's changes since a moment.

``details`` holds the structured change (``{"v": 2, "changes": {field: [before, after]}}``,
values as names); the text is made from it when shown, in the viewer's language. ``message`` is
an English summary without money (older entries have only it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import lazy_gettext
from .customer import Customer
from .user import User

#: How each kind of event reads in the history (translated when shown), in the order the
#: History page's filter offers them.
EVENT_KINDS = {
    "created": lazy_gettext("Created"),
    "edited": lazy_gettext("Edited"),
    "registry_refreshed": lazy_gettext("Refreshed from the registry"),
    "inactivated": lazy_gettext("Inactivated"),
    "reactivated": lazy_gettext("Reactivated"),
    "merged_into": lazy_gettext("Merged into another customer"),
    "merged_from": lazy_gettext("Duplicate merged in"),
    "mass_updated": lazy_gettext("Mass update"),
    "mass_update_undone": lazy_gettext("Mass update undone"),
    "imported": lazy_gettext("Imported"),
    "import_undone": lazy_gettext("Import undone"),
    "contact_added": lazy_gettext("Contact added"),
    "contact_changed": lazy_gettext("Contact changed"),
    "contact_removed": lazy_gettext("Contact deleted"),
    "contact_moved": lazy_gettext("Contact moved"),
    "address_added": lazy_gettext("Address added"),
    "address_changed": lazy_gettext("Address changed"),
    "address_removed": lazy_gettext("Address deleted"),
    "address_moved": lazy_gettext("Address moved"),
    "einvoice_added": lazy_gettext("E-invoicing address added"),
    "einvoice_changed": lazy_gettext("E-invoicing address changed"),
    "einvoice_removed": lazy_gettext("E-invoicing address deleted"),
    "einvoice_moved": lazy_gettext("E-invoicing address moved"),
    "project_added": lazy_gettext("Project added"),
    "project_changed": lazy_gettext("Project changed"),
    "project_removed": lazy_gettext("Project deleted"),
    "project_moved": lazy_gettext("Project moved"),
    "proposal_added": lazy_gettext("Proposal added"),
    "proposal_changed": lazy_gettext("Proposal changed"),
    "proposal_removed": lazy_gettext("Proposal deleted"),
    "proposal_moved": lazy_gettext("Proposal moved"),
    "invoice_added": lazy_gettext("Invoice added"),
    "invoice_changed": lazy_gettext("Invoice changed"),
    "invoice_removed": lazy_gettext("Invoice deleted"),
    "invoice_moved": lazy_gettext("Invoice moved"),
    "cost_added": lazy_gettext("Cost added"),
    "cost_changed": lazy_gettext("Cost changed"),
    "cost_removed": lazy_gettext("Cost deleted"),
    "cost_moved": lazy_gettext("Cost moved"),
}


#: the kinds a mass update and its undo write (named from their batch where shown)
MASS_UPDATE_KINDS = ("mass_updated", "mass_update_undone")
#: the kinds a customer import and its undo write
IMPORT_KINDS = ("imported", "import_undone")


def utcnow() -> datetime:
    """Naive UTC, as the timestamp columns of the module store it."""
    return datetime.now(UTC).replace(tzinfo=None)


class CustomerEvent(db.Model):
    __tablename__ = "custreg_customer_event"
    __table_args__ = (
        Index("ix_custreg_customer_event_customer_kind", "customer_id", "kind"),
        Index("ix_custreg_customer_event_entity", "entity_type", "entity_id"),
    )
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
    #: the row the entry is about: "customer", "contact", "address", "einvoice", "project",
    #: "proposal", "invoice", "cost" (None: older entries; several projects of a move)
    entity_type: Mapped[str | None] = mapped_column(String(20))
    entity_id: Mapped[int | None] = mapped_column(Integer)
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
