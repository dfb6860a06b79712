"""Mass updates: each applied update is a batch, with one change row per customer it changed.

A batch records who, when, the action and its value (the ids as JSON, and their names at the time),
the selection (ticked ids, or the Summary's filters and search as a
:meth:`~custreg_admin.services.customer_filter.CustomerSet.to_spec` spec, or a report's filters) and
its counts. An undo is a batch of its own (``undo_of_id``) whose change rows restore the original's
before-values; customers it could not restore carry a ``skipped_reason``.

Change rows of the field actions (owner, industry, invoice template, VAT rate, status) hold the
field's id before and after (``None``: empty). Segment actions write one row per link added or
removed, with the segment's id in ``segment_id`` and no before/after. The values are plain ids
rather than foreign keys: the record outlives a deleted industry or segment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .customer import Customer
from .history import utcnow
from .user import User


class MassUpdateBatch(db.Model):
    __tablename__ = "custreg_mass_update_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    #: the user's name when it happened: the record keeps saying who after the user is gone
    user_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # naive UTC
    #: a key of :data:`custreg_admin.services.mass_update.ACTIONS`
    action: Mapped[str] = mapped_column(String(30))
    #: ``{"id": 5}``, ``{"id": null}`` (cleared) or ``{"ids": [1, 2]}`` (segments)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    value_label: Mapped[str] = mapped_column(Text, default="")
    #: ``{"ids": [...]}``, ``{"spec": {...}}`` or ``{"report": {...}}``, and ``"own_only"``
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    selection_label: Mapped[str] = mapped_column(Text, default="")
    selected_count: Mapped[int] = mapped_column(Integer, default=0)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    #: set on an undo: the batch it undid
    undo_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_mass_update_batch.id", ondelete="SET NULL"), index=True
    )
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    undone_by_name: Mapped[str | None] = mapped_column(String(200))
    #: the confirmation page's key: one confirmation applies once
    plan_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])
    undo_of: Mapped[MassUpdateBatch | None] = relationship(
        remote_side="MassUpdateBatch.id", foreign_keys=[undo_of_id]
    )

    def __str__(self) -> str:
        return f"Mass update #{self.id}"


class MassUpdateChange(db.Model):
    __tablename__ = "custreg_mass_update_change"
    __table_args__ = (
        Index("ix_custreg_mass_update_change_batch_customer", "batch_id", "customer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_mass_update_batch.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), index=True
    )
    #: segment actions: the segment whose link was added or removed
    segment_id: Mapped[int | None] = mapped_column(Integer)
    #: field actions: the field's id before and after (None: empty)
    before_value: Mapped[int | None] = mapped_column(Integer)
    after_value: Mapped[int | None] = mapped_column(Integer)
    #: undo batches: why this customer was not restored (None: restored)
    skipped_reason: Mapped[str | None] = mapped_column(String(200))

    batch: Mapped[MassUpdateBatch] = relationship()
    customer: Mapped[Customer] = relationship()
