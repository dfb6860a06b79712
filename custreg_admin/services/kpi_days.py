"""The KPI aggregates per day: numbered invoices per customer, day and invoice status
(:class:`~custreg_admin.models.KpiCustomerDay`) and the company's totals per day and status
(:class:`~custreg_admin.models.KpiDay`).

"Billing last month up to the same day" needs days, not months. :func:`custreg_admin.services.
kpi_totals.refresh` calls :func:`subtract` before it rewrites a batch of customers and :func:`add`
after, in the same transaction; both collect the change of the company's day totals, which
:func:`apply` writes at the end of the write in one upsert in key order (after the month totals:
every writer locks the month rows first, then the day rows, each in key order). Like the month
rows, the rows keep the invoice status, not its ``counts_as_sent`` flag: the reader applies it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..models import Customer, Invoice, KpiCustomerDay, KpiDay, Project
from ..rules.billing import has_number, in_period
from ..rules.money import cents
from .kpi_upsert import add_to_totals

__all__ = ["DayDelta", "add", "apply", "billed_between", "rebuild", "recomputed", "stored"]

_SUMS = ("billed_cents", "billed_count")
_KEY = ("day", "status_id")
_VIEWER = ("owner_id", "manager_id")
_CUSTOMER_DAY = KpiCustomerDay.__table__
_DAY = KpiDay.__table__

#: The company's day totals to change: ``{(day, status_id): [billed_cents, billed_count]}``.
DayDelta = dict[tuple[dt.date, int], list[int]]


def _rows(invoices: ColumnElement[bool]):
    """The per-customer day rows of the invoices matching ``invoices`` (numbered only), with
    the customer's owner and the project's manager now (0: none)."""
    owner = func.coalesce(Customer.owner_id, 0)
    manager = func.coalesce(Project.manager_id, 0)
    return (
        select(
            Invoice.customer_id,
            owner,
            manager,
            Invoice.date,
            Invoice.status_id,
            func.sum(cents(Invoice.total)),
            func.count(),
        )
        .select_from(Invoice)
        .outerjoin(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(Project, Project.id == Invoice.project_id)
        .where(invoices, has_number(Invoice.number))
        .group_by(Invoice.customer_id, owner, manager, Invoice.date, Invoice.status_id)
    )


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _sums(connection: Connection, batch: list[int], sign: int, delta: DayDelta) -> None:
    table = _CUSTOMER_DAY
    rows = connection.execute(
        select(table.c.day, table.c.status_id, *(func.sum(table.c[n]) for n in _SUMS))
        .where(table.c.customer_id.in_(batch))
        .group_by(table.c.day, table.c.status_id)
    )
    for day, status_id, *values in rows:
        sums = delta.setdefault((_day(day), int(status_id)), [0] * len(_SUMS))
        for index, value in enumerate(values):
            sums[index] += sign * int(value or 0)


def subtract(connection: Connection, batch: list[int], delta: DayDelta) -> None:
    """Take these customers' day rows out (into ``delta``) and delete them."""
    _sums(connection, batch, -1, delta)
    connection.execute(delete(_CUSTOMER_DAY).where(_CUSTOMER_DAY.c.customer_id.in_(batch)))


def add(connection: Connection, batch: list[int], delta: DayDelta) -> None:
    """Write these customers' day rows from their invoices and add them to ``delta``."""
    columns = ["customer_id", *_VIEWER, *_KEY, *_SUMS]
    rows = _rows(Invoice.customer_id.in_(batch))
    connection.execute(insert(_CUSTOMER_DAY).from_select(columns, rows))
    _sums(connection, batch, 1, delta)


def apply(connection: Connection, delta: DayDelta) -> None:
    """Change the company's day totals by ``delta`` (keys in sorted order:
    :func:`kpi_upsert.add_to_totals`); rows left with no numbered invoice are removed."""
    add_to_totals(connection, _DAY, _KEY, _SUMS, delta, empty_when=("billed_count",))


def rebuild(connection: Connection) -> None:
    """Both tables from the invoices as they are."""
    connection.execute(delete(_CUSTOMER_DAY))
    connection.execute(delete(_DAY))
    columns = ["customer_id", *_VIEWER, *_KEY, *_SUMS]
    connection.execute(insert(_CUSTOMER_DAY).from_select(columns, _rows(true())))
    key = [_CUSTOMER_DAY.c[name] for name in _KEY]
    totals = select(*key, *(func.sum(_CUSTOMER_DAY.c[n]) for n in _SUMS)).group_by(*key)
    connection.execute(insert(_DAY).from_select([*_KEY, *_SUMS], totals))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {_CUSTOMER_DAY.name}")
        connection.exec_driver_sql(f"ANALYZE {_DAY.name}")


def billed_between(start: dt.date, end: dt.date, statuses) -> Any:
    """The company's billing (cents) of the statuses ``statuses`` (a subquery of ids) dated
    ``start <= day < end``, from the day totals (a scalar subquery)."""
    return (
        select(func.sum(_DAY.c.billed_cents))
        .where(in_period(_DAY.c.day, start, end), _DAY.c.status_id.in_(statuses))
        .scalar_subquery()
    )


def _as_dict(rows, width: int) -> dict[tuple, tuple]:
    return {
        tuple(_day(v) if i == width - 2 else int(v) for i, v in enumerate(row[:width])): tuple(
            int(v) for v in row[width:]
        )
        for row in rows
    }


def stored(session: Session) -> dict[str, dict[tuple, tuple]]:
    """Both tables as ``{key: sums}`` (for checks)."""
    per_customer = select(*(_CUSTOMER_DAY.c[n] for n in ("customer_id", *_VIEWER, *_KEY, *_SUMS)))
    totals = select(*(_DAY.c[n] for n in (*_KEY, *_SUMS)))
    return {
        "customer_day": _as_dict(session.execute(per_customer), 5),
        "day": _as_dict(session.execute(totals), 2),
    }


def recomputed(session: Session) -> dict[str, dict[tuple, tuple]]:
    """What :func:`stored` should hold, from the invoices (for checks)."""
    per_customer = _as_dict(session.execute(_rows(true())), 5)
    company: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_SUMS))
    for (_customer, _owner, _manager, day, status_id), sums in per_customer.items():
        row = company[(day, status_id)]
        for index, value in enumerate(sums):
            row[index] += value
    return {"customer_day": per_customer, "day": {k: tuple(v) for k, v in company.items()}}
