"""The KPI figures' maintained aggregates: sums per customer, project, invoice status and month.

One row per (customer, project, invoice status, month) for invoices, and per (customer, project,
month) for costs (``status_id`` NULL). ``month`` is ``year * 12 + month - 1`` of the row's date.
Money is kept in whole cents (exact on every database). Invoices count here with their status,
not with its ``counts_as_sent`` flag, which the KPI query applies: changing the flag changes no
row. Internal projects are likewise left out when read. The rows are written only by
:mod:`custreg_admin.services.kpi_totals`, in the transaction of the write that changes them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class KpiSums:
    """The sums every aggregate row keeps."""

    #: Invoices with a non-empty number: their totals (cents) and how many.
    billed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    billed_count: Mapped[int] = mapped_column(Integer, default=0)
    #: All invoices, numbered or not.
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    cost_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_count: Mapped[int] = mapped_column(Integer, default=0)


class KpiTotal(KpiSums, db.Model):
    __tablename__ = "custreg_kpi_total"
    __table_args__ = (
        Index("ix_custreg_kpi_total_customer_month", "customer_id", "month"),
        Index("ix_custreg_kpi_total_project", "project_id"),
        Index("ix_custreg_kpi_total_month_status", "month", "status_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int | None] = mapped_column(Integer)
    #: The invoices' status; NULL on a row of costs.
    status_id: Mapped[int | None] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)


class KpiCustomerMonth(KpiSums, db.Model):
    """The rows of :class:`KpiTotal` without the project: one per (customer, month, invoice
    status) for invoices and per (customer, month, internal flag) for costs (``status_id`` 0).
    ``is_internal`` is the project's flag when the row was written (always false on invoice
    rows): a project's flag changing rewrites its customer's rows. Read for filtered figures and
    an account owner's own customers."""

    __tablename__ = "custreg_kpi_customer_month"
    __table_args__ = (Index("ix_custreg_kpi_customer_month_customer", "customer_id", "month"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    status_id: Mapped[int] = mapped_column(Integer)
    is_internal: Mapped[bool] = mapped_column(Boolean)
    #: The customer's account owner and the project's manager when the row was written (0:
    #: none; invoices without a project have manager 0): a change of either rewrites or moves
    #: the rows. Summed per viewer key into :class:`KpiViewerMonth`.
    owner_id: Mapped[int] = mapped_column(Integer, default=0)
    manager_id: Mapped[int] = mapped_column(Integer, default=0)


class KpiViewerMonth(KpiSums, db.Model):
    """:class:`KpiCustomerMonth` summed over customers per (account owner, project manager,
    month, invoice status or 0 for costs, internal flag), owner and manager 0 for none. A plain
    user sees the rows they own or manage (:func:`custreg_admin.rules.visibility.
    visible_to_viewer`), read without a filter. Kept like :class:`KpiMonth`."""

    __tablename__ = "custreg_kpi_viewer_month"
    __table_args__ = (
        UniqueConstraint(
            "owner_id",
            "manager_id",
            "month",
            "status_id",
            "is_internal",
            name="uq_custreg_kpi_viewer_month_key",
        ),
        Index("ix_custreg_kpi_viewer_month_manager", "manager_id", "month"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    manager_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    status_id: Mapped[int] = mapped_column(Integer)
    is_internal: Mapped[bool] = mapped_column(Boolean)


class KpiMonth(KpiSums, db.Model):
    """The company's totals: :class:`KpiCustomerMonth` summed over customers, one row per
    (month, invoice status or 0 for costs, internal flag). Kept by adding each refreshed
    customer's new rows and subtracting its old ones; rows whose counts reach 0 are removed.
    Read for a viewer who sees every invoice, without a filter."""

    __tablename__ = "custreg_kpi_month"
    __table_args__ = (
        UniqueConstraint("month", "status_id", "is_internal", name="uq_custreg_kpi_month_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer)
    status_id: Mapped[int] = mapped_column(Integer)
    is_internal: Mapped[bool] = mapped_column(Boolean)


class KpiDaySums:
    """The sums of numbered invoices a day row keeps (the month-to-date comparison's part)."""

    billed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    billed_count: Mapped[int] = mapped_column(Integer, default=0)


class KpiCustomerDay(KpiDaySums, db.Model):
    """Numbered invoices per (customer, day, invoice status): the day grain that "last month up
    to the same day" needs, written with :class:`KpiTotal` by the same refresh. Only days with
    a numbered invoice have a row."""

    __tablename__ = "custreg_kpi_customer_day"
    __table_args__ = (Index("ix_custreg_kpi_customer_day_customer", "customer_id", "day"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date)
    status_id: Mapped[int] = mapped_column(Integer)
    #: As on :class:`KpiCustomerMonth` (the invoice's project's manager, 0: none).
    owner_id: Mapped[int] = mapped_column(Integer, default=0)
    manager_id: Mapped[int] = mapped_column(Integer, default=0)


class KpiViewerDay(KpiDaySums, db.Model):
    """:class:`KpiCustomerDay` summed over customers per (account owner, project manager, day,
    invoice status): a plain user's month-to-date figure. Kept like :class:`KpiDay`."""

    __tablename__ = "custreg_kpi_viewer_day"
    __table_args__ = (
        UniqueConstraint(
            "owner_id", "manager_id", "day", "status_id", name="uq_custreg_kpi_viewer_day_key"
        ),
        Index("ix_custreg_kpi_viewer_day_manager", "manager_id", "day"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    manager_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date)
    status_id: Mapped[int] = mapped_column(Integer)


class KpiDay(KpiDaySums, db.Model):
    """The company's numbered invoices per (day, invoice status): :class:`KpiCustomerDay` summed
    over customers, kept by adding each refreshed customer's new rows and subtracting its old
    ones. Read for a viewer who sees every invoice, without a filter."""

    __tablename__ = "custreg_kpi_day"
    __table_args__ = (UniqueConstraint("day", "status_id", name="uq_custreg_kpi_day_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    status_id: Mapped[int] = mapped_column(Integer)
