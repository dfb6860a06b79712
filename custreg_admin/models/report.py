"""Saved reports: a user's report definitions (Reports > Report creation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .user import User


class SavedReport(db.Model):
    """A report definition kept under a name by its owner.

    ``columns`` is the ordered list of column ids, ``filters`` maps filter ids to their values as
    strings, ``sort`` is a column id with ``-`` in front for descending order. Personal unless
    ``is_shared``: then everyone may read and copy it, only the owner changes it.
    """

    __tablename__ = "custreg_saved_report"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    report_type: Mapped[str] = mapped_column(String(30))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort: Mapped[str | None] = mapped_column(String(100))
    csv_delimiter: Mapped[str | None] = mapped_column(String(1))
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )

    owner: Mapped[User] = relationship()

    def __str__(self) -> str:
        return self.name
