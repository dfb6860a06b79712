"""Projects and sales cases, proposals, invoices and costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .customer import Customer
from .settings import InvoiceStatus
from .user import User
from .versioning import version_column

PROJECT_KINDS = ("sales_case", "project")
SALES_STATUSES = ("in_progress", "won", "lost")


class Project(db.Model):
    __tablename__ = "custreg_project"
    __table_args__ = (
        Index("ix_custreg_project_customer_kind_status", "customer_id", "kind", "sales_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20), default="project")
    sales_status: Mapped[str] = mapped_column(String(20), default="in_progress")
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship(back_populates="projects")
    manager: Mapped[User | None] = relationship()
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="project", order_by="Proposal.id", passive_deletes="all"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="project", order_by="Invoice.id", passive_deletes="all"
    )

    @property
    def is_open(self) -> bool:
        return not self.is_closed and self.sales_status != "lost"

    def __str__(self) -> str:
        return self.name


class Proposal(db.Model):
    __tablename__ = "custreg_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_project.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    project: Mapped[Project] = relationship(back_populates="proposals")

    def __str__(self) -> str:
        return self.number


class Invoice(db.Model):
    __tablename__ = "custreg_invoice"
    __table_args__ = (
        Index("ix_custreg_invoice_date_status", "date", "status_id"),
        Index("ix_custreg_invoice_customer_date", "customer_id", "date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="RESTRICT"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_project.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str | None] = mapped_column(String(50))
    date: Mapped[dt.date] = mapped_column(Date)
    status_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_invoice_status.id", ondelete="RESTRICT"), index=True
    )
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship(back_populates="invoices")
    project: Mapped[Project | None] = relationship(back_populates="invoices")
    status: Mapped[InvoiceStatus] = relationship()

    def __str__(self) -> str:
        return self.number or f"(draft #{self.id})"


class Cost(db.Model):
    __tablename__ = "custreg_cost"
    __table_args__ = (Index("ix_custreg_cost_project_date", "project_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_project.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    project: Mapped[Project] = relationship()

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"
