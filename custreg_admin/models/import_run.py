"""A review of an uploaded import file, stored: the run (the job: its settings, state, progress
and summary) and one row per data row of the file (its values as read, its errors per cell, what
becomes of it, before/after for updates, and on the first row of each customer the plan that
:mod:`custreg_admin.services.imports.applying` applies).

The review page pages through the stored rows, so memory does not grow with the file; the run's
``state`` and ``heartbeat_at`` let a validation that died with its process be restarted
(:mod:`custreg_admin.services.imports.jobs`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .history import utcnow


class ImportRun(db.Model):
    __tablename__ = "custreg_import_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the upload's key (services.imports.uploads); one run per upload, a new check replaces it
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255))
    #: mapping, options, encoding, separator as chosen
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="running")  # running, done, failed
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: what was read (headers, kind, encoding, separator, mapping) and, once done, the counts
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ImportRow(db.Model):
    __tablename__ = "custreg_import_row"
    __table_args__ = (
        Index("ix_custreg_import_row_run_line", "run_id", "line"),
        Index("ix_custreg_import_row_run_plan", "run_id", "plan_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("custreg_import_run.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    plan_no: Mapped[int] = mapped_column(Integer)
    raw: Mapped[list[Any]] = mapped_column(JSON, default=list)
    errors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    has_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str] = mapped_column(String(20))
    customer: Mapped[str | None] = mapped_column(String(320))
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: on a customer's first row, when it is applied: the plan (services.imports.jobs)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: the customer number a new customer's plan asks for (numbers given to others avoid it)
    number: Mapped[int | None] = mapped_column(Integer)
