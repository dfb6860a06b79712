"""Coarser KPI aggregates derived from :class:`~custreg_admin.models.KpiTotal`, kept with it.

* :class:`~custreg_admin.models.KpiCustomerMonth`: the project key dropped (per customer, month,
  invoice status; costs per customer, month and the project's internal flag);
* :class:`~custreg_admin.models.KpiMonth`: the company's totals per month, status and flag.

:func:`custreg_admin.services.kpi_totals.refresh` calls :func:`subtract` before it rewrites a
batch of customers' rows and :func:`add` after, in the same transaction: the customers' old
rows leave the totals, their new rows (written from the fresh ``KpiTotal`` rows and the projects'
flags as they are now) come in. Both only collect the change of the company's totals; the
write's whole change is applied at its end by :func:`apply`, one upsert in key order (so that
concurrent writers lock the month rows in one order and never deadlock on them). A project
whose ``is_internal`` changes has its customer refreshed like any other write (the flag is part
of the rows here). Changing an invoice status's ``counts_as_sent`` changes no row: the status
is a key, the flag is applied when read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, false, func, insert, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..models import Customer, KpiCustomerMonth, KpiMonth, KpiTotal, KpiViewerMonth, Project
from ..rules.billing import cost_counts_for_margin
from ..rules.visibility import sees_all_invoices, visible_through
from . import kpi_viewers
from .kpi_upsert import add_to_totals

if TYPE_CHECKING:
    from .customer_filter import CustomerFilter

__all__ = [
    "MonthDelta",
    "add",
    "apply",
    "money_rows",
    "rebuild",
    "recomputed",
    "scanned",
    "stored",
    "subtract",
]

_SUMS = ("billed_cents", "billed_count", "invoice_count", "cost_cents", "cost_count")
_MONTH_KEY = ("month", "status_id", "is_internal")
_VIEWER = ("owner_id", "manager_id")
_CUSTOMER_MONTH = KpiCustomerMonth.__table__
_MONTH = KpiMonth.__table__


def _customer_month_rows(customers: ColumnElement[bool]):
    """``KpiCustomerMonth`` rows of the customers matching ``customers`` (a condition on
    ``KpiTotal``), from their ``KpiTotal`` rows, their projects' flags and managers and their
    account owners now."""
    status = func.coalesce(KpiTotal.status_id, 0)
    internal = case(
        (KpiTotal.status_id.is_(None), func.coalesce(Project.is_internal, false())),
        else_=false(),
    )
    owner = func.coalesce(Customer.owner_id, 0)
    manager = func.coalesce(Project.manager_id, 0)
    return (
        select(
            KpiTotal.customer_id,
            KpiTotal.month,
            status,
            internal,
            owner,
            manager,
            *(func.sum(getattr(KpiTotal, name)) for name in _SUMS),
        )
        .select_from(KpiTotal)
        .outerjoin(Project, Project.id == KpiTotal.project_id)
        .outerjoin(Customer, Customer.id == KpiTotal.customer_id)
        .where(customers)
        .group_by(KpiTotal.customer_id, KpiTotal.month, status, internal, owner, manager)
    )


#: The company's totals to change, by key: ``{(month, status_id, is_internal): [sums]}``.
MonthDelta = dict[tuple[int, int, bool], list[int]]


def _month_sums(connection: Connection, batch: list[int], sign: int, delta: MonthDelta) -> None:
    """Add (``sign`` 1) or subtract (-1) the ``KpiCustomerMonth`` rows of ``batch``, summed per
    key of the company's totals, to ``delta``."""
    table = _CUSTOMER_MONTH
    key = [table.c[name] for name in _MONTH_KEY]
    rows = connection.execute(
        select(*key, *(func.sum(table.c[name]) for name in _SUMS))
        .where(table.c.customer_id.in_(batch))
        .group_by(*key)
    )
    for row in rows:
        sums = delta.setdefault((int(row[0]), int(row[1]), bool(row[2])), [0] * len(_SUMS))
        for index, value in enumerate(row[3:]):
            sums[index] += sign * int(value or 0)


def subtract(connection: Connection, batch: list[int], delta: MonthDelta) -> None:
    """Take these customers' rows out (into ``delta``) and delete them (before ``KpiTotal`` is
    rewritten)."""
    _month_sums(connection, batch, -1, delta)
    connection.execute(delete(_CUSTOMER_MONTH).where(_CUSTOMER_MONTH.c.customer_id.in_(batch)))


def add(connection: Connection, batch: list[int], delta: MonthDelta) -> None:
    """Write these customers' rows from their new ``KpiTotal`` rows and add them to ``delta``."""
    columns = ["customer_id", *_MONTH_KEY, *_VIEWER, *_SUMS]
    rows = _customer_month_rows(KpiTotal.customer_id.in_(batch))
    connection.execute(insert(_CUSTOMER_MONTH).from_select(columns, rows))
    _month_sums(connection, batch, 1, delta)


def apply(connection: Connection, delta: MonthDelta) -> None:
    """Change the company's totals by ``delta``, the whole write's change (keys in sorted
    order: :func:`kpi_upsert.add_to_totals`). Totals left with no invoice and no cost are
    removed."""
    add_to_totals(
        connection, _MONTH, _MONTH_KEY, _SUMS, delta, empty_when=("invoice_count", "cost_count")
    )


def rebuild(connection: Connection) -> None:
    """Both tables from ``KpiTotal`` as it is (after it was rebuilt)."""
    connection.execute(delete(_CUSTOMER_MONTH))
    connection.execute(delete(_MONTH))
    columns = ["customer_id", *_MONTH_KEY, *_VIEWER, *_SUMS]
    connection.execute(insert(_CUSTOMER_MONTH).from_select(columns, _customer_month_rows(true())))
    key = [_CUSTOMER_MONTH.c[name] for name in _MONTH_KEY]
    totals = select(*key, *(func.sum(_CUSTOMER_MONTH.c[n]) for n in _SUMS)).group_by(*key)
    connection.execute(insert(_MONTH).from_select([*_MONTH_KEY, *_SUMS], totals))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {_CUSTOMER_MONTH.name}")
        connection.exec_driver_sql(f"ANALYZE {_MONTH.name}")


def _as_dict(rows, width: int) -> dict[tuple, tuple]:
    return {tuple(int(v) for v in row[:width]): tuple(int(v) for v in row[width:]) for row in rows}


def stored(session: Session) -> dict[str, dict[tuple, tuple]]:
    """Both tables as ``{key: sums}`` (for checks)."""
    per_customer = select(
        *(_CUSTOMER_MONTH.c[n] for n in ("customer_id", *_MONTH_KEY, *_VIEWER, *_SUMS))
    )
    totals = select(*(_MONTH.c[n] for n in (*_MONTH_KEY, *_SUMS)))
    return {
        "customer_month": _as_dict(session.execute(per_customer), 6),
        "month": _as_dict(session.execute(totals), 3),
    }


def recomputed(session: Session, totals: dict[tuple, tuple]) -> dict[str, dict[tuple, tuple]]:
    """What :func:`stored` should hold, summed in Python from ``totals`` (the rows of
    ``KpiTotal`` recomputed from the invoices and costs), the projects' flags and managers and
    the customers' owners now."""
    internal = dict(session.execute(select(Project.id, Project.is_internal)).all())
    managers = dict(session.execute(select(Project.id, Project.manager_id)).all())
    owners = dict(session.execute(select(Customer.id, Customer.owner_id)).all())
    per_customer: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_SUMS))
    for (customer_id, project_id, status_id, month), sums in totals.items():
        flag = bool(internal.get(project_id)) if status_id is None else False
        viewers = (owners.get(customer_id) or 0, managers.get(project_id) or 0)
        row = per_customer[(customer_id, month, status_id or 0, int(flag), *viewers)]
        for index, value in enumerate(sums):
            row[index] += value
    company: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_SUMS))
    for key, sums in per_customer.items():
        row = company[key[1:4]]
        for index, value in enumerate(sums):
            row[index] += value
    return {
        "customer_month": {k: tuple(v) for k, v in per_customer.items()},
        "month": {k: tuple(v) for k, v in company.items() if v[2] or v[4]},
    }


# --------------------------------------------------------------------------- reading


class scanned(FunctionElement):
    """A column in a condition meant to be checked while reading the table: written ``+column``
    on SQLite, which keeps SQLite's planner from driving the query through an index on it.

    Without range statistics SQLite takes "this year" (or "customers in this unselective set")
    for a small part of the table; on 1M invoices an index walk with a row lookup per entry is
    then several times slower than reading the table. Used for the date ranges and the filter
    sets, not for the viewer's own (small) sets. Other databases plan with real statistics and
    get the column as it is.
    """

    name = "scanned"
    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(scanned)
def _scanned_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(scanned, "sqlite")
def _scanned_sqlite(element, compiler, **kw):
    return f"+{compiler.process(element.clauses, **kw)}"


def money_rows(user: Any, filters: CustomerFilter | None, months: tuple[int, int]):
    """The aggregate rows of ``months`` (first, last) that ``user`` may see, of the customers
    ``filters`` matches, as a subquery: ``month``, ``status_id`` (0 on costs), ``billed_cents``
    and ``cost_cents`` (costs counting towards margin only).

    A viewer who sees everything reads the company's totals (:class:`KpiMonth`) without a
    filter and the rows per customer and month (:class:`KpiCustomerMonth`) with one. Any other
    viewer reads the totals per viewer (:class:`KpiViewerMonth`: the rows they own or manage)
    without a filter, and the rows per project (:class:`KpiTotal`) with one.
    """

    def counted(table, cost_counts):
        return (
            table.month.label("month"),
            func.coalesce(table.status_id, 0).label("status_id"),
            table.billed_cents.label("billed_cents"),
            case((cost_counts, table.cost_cents), else_=0).label("cost_cents"),
        )

    filtered = select(Customer.id).where(filters.condition()) if filters is not None else None
    if sees_all_invoices(user) and filtered is None:
        totals = select(*counted(KpiMonth, cost_counts_for_margin(KpiMonth.is_internal)))
        return totals.where(KpiMonth.month.between(*months)).subquery("kpi_rows")
    if filtered is None:  # the viewer's own rows of the totals per viewer
        viewer = KpiViewerMonth
        totals = select(*counted(viewer, cost_counts_for_margin(viewer.is_internal)))
        return totals.where(kpi_viewers.totals_of(user, months)).subquery("kpi_rows")
    if sees_all_invoices(user):
        table = KpiCustomerMonth
        cost_counts = cost_counts_for_margin(KpiCustomerMonth.is_internal)
    else:
        internal = select(Project.id).where(~cost_counts_for_margin())
        table, cost_counts = KpiTotal, KpiTotal.project_id.not_in(internal)
    rows = select(*counted(table, cost_counts)).where(scanned(table.month).between(*months))
    if filtered is not None:
        rows = rows.where(scanned(table.customer_id).in_(filtered))
    if table is KpiTotal:
        rows = rows.where(visible_through(user, KpiTotal.customer_id, KpiTotal.project_id))
    return rows.subquery("kpi_rows")
