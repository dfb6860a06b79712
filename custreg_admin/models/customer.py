"""Customers and what hangs on a customer card: addresses, e-invoicing addresses, contacts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    event,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .settings import CustomerStatus, Industry, InvoiceTemplate, MarketSegment, VatRate
from .user import User
from .versioning import version_column

if TYPE_CHECKING:
    from .project import Invoice, Project

ADDRESS_KINDS = ("visiting", "postal", "billing")

customer_segment = Table(
    "custreg_customer_segment",
    db.Model.metadata,
    Column(
        "customer_id",
        ForeignKey("custreg_customer.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "segment_id",
        ForeignKey("custreg_market_segment.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


#: The longest customer notes (characters): a few pages of text. The customer form refuses more
#: with a message naming the limit; requests are also bounded by ``CUSTREG_MAX_CONTENT_LENGTH``.
NOTES_MAX_LENGTH = 10_000


class Address(db.Model):
    __tablename__ = "custreg_address"
    __table_args__ = (Index("ix_custreg_address_customer_kind", "customer_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="visiting")
    street: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def __str__(self) -> str:
        parts = [self.street, " ".join(p for p in (self.postal_code, self.city) if p)]
        return ", ".join(p for p in parts if p) or "-"


class EInvoiceAddress(db.Model):
    __tablename__ = "custreg_einvoice_address"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(100))
    operator: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    customer: Mapped[Customer] = relationship(back_populates="einvoice_addresses")

    def __str__(self) -> str:
        return f"{self.address} ({self.operator})" if self.operator else self.address


class Contact(db.Model):
    __tablename__ = "custreg_contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    customer: Mapped[Customer] = relationship(back_populates="contacts")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def __str__(self) -> str:
        return self.full_name


# The indexes of custreg_customer and the query each one serves (reviewed with EXPLAIN on
# PostgreSQL at 100,000 customers, issue #15; an index no query uses only slows every update of a
# customer row, a mass update most: migration 0010 dropped those on invoice_template_id and
# vat_rate_id, which only the rare ON DELETE SET NULL of a template or VAT rate could use):
#   primary key (id)      the card, every join and every set-based write (UPDATE ... FROM)
#   number (unique)       the unique customer number; max(number) for the next one
#   name                  the Summary sorted by name (page 1 reads 20 index entries)
#   business_id           the duplicate check on save and the registry refresh (equality);
#   vat_number              the same check's OR ("BitmapOr" of the two)
#   country               the country filter for a rare country; the country choice list
#   owner_id              an account owner's customers: row visibility, KPIs, "my customers"
#                         filter, reassignment when a user is deleted (ON DELETE SET NULL)
#   industry_id           the industry filter (Summary, reports, KPI drill-downs)
#   status_id             the status filter (Summary, reports)
#   is_active             the "inactivated" view (a few per cent of the rows)
#   registry_status       the "ceased, bankrupt or in liquidation" filter (rare values)
class Customer(db.Model):
    __tablename__ = "custreg_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    business_id: Mapped[str | None] = mapped_column(String(40), index=True)
    vat_number: Mapped[str | None] = mapped_column(String(40), index=True)
    country: Mapped[str] = mapped_column(String(2), default="FI", index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_user.id", ondelete="SET NULL"), index=True
    )
    industry_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_industry.id", ondelete="SET NULL"), index=True
    )
    invoice_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_invoice_template.id", ondelete="SET NULL")
    )
    vat_rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_vat_rate.id", ondelete="SET NULL")
    )
    status_id: Mapped[int | None] = mapped_column(
        ForeignKey("custreg_customer_status.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    website: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    #: Long, but bounded: :data:`NOTES_MAX_LENGTH` characters (the customer form says so).
    notes: Mapped[str | None] = mapped_column(Text)
    registry_source: Mapped[str | None] = mapped_column(String(50))
    registry_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The company's state at the last registry fetch: active, liquidation, bankrupt, ceased.
    registry_status: Mapped[str | None] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )
    #: Derived KPI flags, apart from ``is_active``: the customer has open work, and is a prospect
    #: (:mod:`custreg_admin.rules.open_work` defines both; the history choke point keeps them in
    #: step through :mod:`custreg_admin.services.kpi_totals`). Never part of the row's version.
    kpi_open_work: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    kpi_prospect: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}

    owner: Mapped[User | None] = relationship()
    industry: Mapped[Industry | None] = relationship()
    invoice_template: Mapped[InvoiceTemplate | None] = relationship()
    vat_rate: Mapped[VatRate | None] = relationship()
    status: Mapped[CustomerStatus | None] = relationship()
    segments: Mapped[list[MarketSegment]] = relationship(
        secondary=customer_segment, order_by=(MarketSegment.name, MarketSegment.id)
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by=Address.id
    )
    einvoice_addresses: Mapped[list[EInvoiceAddress]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by=EInvoiceAddress.id
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        order_by=(Contact.last_name, Contact.first_name, Contact.id),
    )
    projects: Mapped[list[Project]] = relationship(
        back_populates="customer", order_by="Project.id", passive_deletes="all"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="customer",
        order_by="[Invoice.date.desc(), Invoice.id.desc()]",
        passive_deletes="all",
    )

    def address_of(self, kind: str) -> Address | None:
        return next((a for a in self.addresses if a.kind == kind), None)

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


#: Key columns compared byte by byte: a prefix ``p`` is the range ``[p, p + "~")`` on both
#: databases (PostgreSQL's default collation would order them by language rules).
_KEY = String(40).with_variant(String(40, collation="C"), "postgresql")


class CustomerKey(db.Model):
    """Stored, indexed search and sort keys of a customer (one row each), so that the Summary
    searches and sorts by index on a million customers.

    Derived data only: :mod:`custreg_admin.services.customer_keys` is the one home of how each
    key is made, and the history choke point keeps the rows in step with every write (ORM
    flushes, mass updates); ``custreg keys-rebuild`` and the migration build them from scratch.
    """

    __tablename__ = "custreg_customer_key"
    __table_args__ = (
        Index("ix_custreg_customer_key_city", "city", "customer_id"),
        Index("ix_custreg_customer_key_owner", "owner", "customer_id"),
        Index("ix_custreg_customer_key_industry", "industry", "customer_id"),
        Index("ix_custreg_customer_key_status", "status", "customer_id"),
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("custreg_customer.id", ondelete="CASCADE"), primary_key=True
    )
    #: The customer number, business ID and VAT number as upper-case letters and digits only
    #: (``0112038-9`` -> ``01120389``): matched by equality or prefix.
    number: Mapped[str | None] = mapped_column(_KEY, index=True)
    business_id: Mapped[str | None] = mapped_column(_KEY, index=True)
    vat_number: Mapped[str | None] = mapped_column(_KEY, index=True)
    #: What the Summary sorts by: the visiting address' city, the account owner's, the
    #: industry's and the status' names (as shown).
    city: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(100))


Customer.key = relationship(CustomerKey, uselist=False, viewonly=True)

#: The KPI counts "Active customers" and "Prospects in pipeline" without filters: a count over a
#: partial index whose size is the count, whatever the number of invoices (the conditions are
#: bare columns, as :mod:`custreg_admin.rules.open_work` asks, so the planner matches them).
for _name, _flag in (("active", Customer.kpi_open_work), ("prospect", Customer.kpi_prospect)):
    _where = and_(Customer.is_active, _flag)
    Index(
        f"ix_custreg_customer_kpi_{_name}",
        Customer.id,
        postgresql_where=_where,
        sqlite_where=_where,
    )

#: PostgreSQL: the name search (``ILIKE '%word%'``) by trigram index (extension ``pg_trgm``,
#: created before the tables). SQLite has no such index and scans the names.
Index(
    "ix_custreg_customer_name_trgm",
    Customer.name,
    postgresql_using="gin",
    postgresql_ops={"name": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
event.listen(
    db.Model.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)

# City of the visiting address, for the Summary list; deferred so that only the list loads it,
# in the same statement as the rows (no query per row).
Customer.city = column_property(
    select(Address.city)
    .where(Address.customer_id == Customer.id, Address.kind == "visiting")
    .order_by(Address.id)
    .limit(1)
    .correlate_except(Address)
    .scalar_subquery(),
    deferred=True,
)
