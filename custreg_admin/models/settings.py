"""Settings lists: industries, invoice templates, VAT rates, statuses, segments."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Industry(db.Model):
    __tablename__ = "custreg_industry"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(20), index=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}" if self.code else self.name


class InvoiceTemplate(db.Model):
    __tablename__ = "custreg_invoice_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(10), default="fi")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class VatRate(db.Model):
    __tablename__ = "custreg_vat_rate"
    __table_args__ = (UniqueConstraint("name", "country"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    country: Mapped[str] = mapped_column(String(2), default="FI")

    def __str__(self) -> str:
        """ "General 25.5 % (FI)": the percent once, also when the name already ends with it."""
        percent = format(Decimal(self.percent).normalize(), "f") if self.percent is not None else ""
        name = self.name or ""
        written = re.search(r"\s*(\d+(?:[.,]\d+)?)\s*%$", name)
        if written and written.group(1).replace(",", ".") == percent:
            name = name[: written.start()]
        return f"{name} {percent} % ({self.country})"


class CustomerStatus(db.Model):
    __tablename__ = "custreg_customer_status"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: the status a new customer starts with (one at most; seeded: Active)
    is_default_for_new: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __str__(self) -> str:
        return self.name


class MarketSegment(db.Model):
    __tablename__ = "custreg_market_segment"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_market_segment.id", ondelete="SET NULL"), index=True
    )
    parent: Mapped[MarketSegment | None] = relationship(
        remote_side="MarketSegment.id", back_populates="children"
    )
    children: Mapped[list[MarketSegment]] = relationship(back_populates="parent")

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent else self.name


class InvoiceStatus(db.Model):
    __tablename__ = "custreg_invoice_status"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    counts_as_sent: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.name
