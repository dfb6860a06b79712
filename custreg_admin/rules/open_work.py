"""Open work, active customers and prospects: what the KPI counts and the Summary drill-downs
select.

* *Open work*: a sales case or project that is not closed, not in sales status ``lost`` and not
  internal.
* *Active customer*: not inactivated, with at least one open sales case or project.
* *Prospect*: not inactivated; an open sales case in status ``in_progress``; no billing ever
  (any date, whoever looks: a customer that has been billed is not a prospect); and no sales case
  or project in status ``won`` - *any* such row, internal or not, open or closed.

The counts are not subject to invoice visibility: they count customers, which every user sees.

Whether a customer has open work or is a prospect (apart from its own active flag) is kept in two
derived columns, ``Customer.kpi_open_work`` and ``Customer.kpi_prospect`` (:data:`KPI_FLAGS`
defines them; the history choke point rewrites them with every write that can change them), so
that the counts and drill-downs read an index instead of the projects and invoices.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, select
from sqlalchemy.sql.elements import ColumnElement

from ..models import Customer, KpiTotal, Project
from .billing import sent_statuses


def is_open_work() -> ColumnElement[bool]:
    """Condition on ``Project``: open work (not closed, not ``lost``, not internal)."""
    return and_(
        Project.is_internal.is_(False),
        Project.is_closed.is_(False),
        Project.sales_status != "lost",
    )


def open_work_of_customer(*, kind: str | None = None, sales_status: str | None = None) -> Select:
    """The open work of the (correlated) ``Customer``, optionally of one kind and sales status."""
    query = (
        select(Project.id)
        .where(Project.customer_id == Customer.id, is_open_work())
        .correlate(Customer)  # only the customer: these conditions also run inside queries
    )  # on invoices and costs joined to projects, which must not be correlated away
    if kind is not None:
        query = query.where(Project.kind == kind)
    if sales_status is not None:
        query = query.where(Project.sales_status == sales_status)
    return query


def has_open_work() -> ColumnElement[bool]:
    """Condition on ``Customer``, whatever its own active flag: it has open work. What the
    maintained flag ``Customer.kpi_open_work`` holds (written by
    :mod:`custreg_admin.services.kpi_totals`)."""
    return open_work_of_customer().exists()


def is_prospect_apart_from_active() -> ColumnElement[bool]:
    """Condition on ``Customer``, whatever its own active flag: an open sales case in progress,
    no billing ever, no sales case or project won. What ``Customer.kpi_prospect`` holds."""
    # Any billing ever, from the maintained aggregates (services/kpi_totals.py): an index probe
    # per customer however many invoices it has. The same as an invoice that counts as billing.
    billed = (
        select(KpiTotal.id)
        .where(
            KpiTotal.customer_id == Customer.id,
            KpiTotal.status_id.in_(sent_statuses()),
            KpiTotal.billed_count > 0,
        )
        .correlate(Customer)
    )
    won = (
        select(Project.id)
        .where(Project.customer_id == Customer.id, Project.sales_status == "won")
        .correlate(Customer)
    )
    return and_(
        open_work_of_customer(kind="sales_case", sales_status="in_progress").exists(),
        ~billed.exists(),
        ~won.exists(),
    )


#: The maintained flags and their definitions (for writing and checking them).
KPI_FLAGS = {"kpi_open_work": has_open_work, "kpi_prospect": is_prospect_apart_from_active}


def active_customer_condition() -> ColumnElement[bool]:
    """Condition on ``Customer``: counted in "Active customers" (not inactivated, open work),
    read from the maintained flag: a partial index holds exactly these customers. (Bare
    columns, not ``IS true``: PostgreSQL matches a partial index's predicate only as written,
    and the index is declared with these very expressions in ``models/customer.py``.)"""
    return and_(Customer.is_active, Customer.kpi_open_work)


def prospect_condition() -> ColumnElement[bool]:
    """Condition on ``Customer``: counted in "Prospects in pipeline" (not inactivated, and
    :func:`is_prospect_apart_from_active`), read from the maintained flag (a partial index)."""
    return and_(Customer.is_active, Customer.kpi_prospect)


#: The KPI counts by name, as the Summary's "Counted in" drill-down and saved selections name them.
KPI_CONDITIONS = {"active": active_customer_condition, "prospects": prospect_condition}
