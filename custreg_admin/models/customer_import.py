"""Customer imports: each applied import is a batch, with one change row per customer it touched.

A batch records who, when, which file and its counts. A change row names the customer, whether
the import created it, the customer fields it overwrote with their values before (``before``:
field -> stored value, ids for related rows) and the rows it added (``added``: ``{"contact":
[ids], "address": [...], "einvoice": [...], "segment": [...]}``). Undo reads these back.

The mass update's batch model (:mod:`.mass_update`) records one field or one set of segments
per batch as integer ids; an import writes many fields, text values and whole customers, so it
keeps its own rows. Saved column mappings (:class:`ImportMapping`) are reused by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .history import utcnow
from .user import User


class ImportBatch(db.Model):
    __tablename__ = "custreg_import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    user_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # naive UTC
    file_name: Mapped[str] = mapped_column(String(255))
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    #: settings values the import created: ``{"industry": [names], "segment": [...]}``
    settings_created: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    undone_by_name: Mapped[str | None] = mapped_column(String(200))
    #: what the undo could not undo: ``[{"customer_id": .., "label": .., "reason": ..}]``
    undo_report: Mapped[list[Any] | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    def __str__(self) -> str:
        return f"Import #{self.id}"


class ImportChange(db.Model):
    __tablename__ = "custreg_import_change"
    __table_args__ = (Index("ix_custreg_import_change_batch_customer", "batch_id", "customer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("custreg_import_batch.id", ondelete="CASCADE"))
    #: None once the customer is gone (an undo removed it, or someone deleted it)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="SET NULL"), index=True
    )
    label: Mapped[str] = mapped_column(String(320))
    created: Mapped[bool] = mapped_column(Boolean, default=False)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    added: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    batch: Mapped[ImportBatch] = relationship()


class ImportMapping(db.Model):
    """A saved column mapping: file header -> import field (``""``: ignored)."""

    __tablename__ = "custreg_import_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def __str__(self) -> str:
        return self.name
