"""The KPI aggregates per viewer: :class:`~custreg_admin.models.KpiViewerMonth` and
:class:`~custreg_admin.models.KpiViewerDay`, the per-customer rows (:class:`~custreg_admin.models.
KpiCustomerMonth`, :class:`~custreg_admin.models.KpiCustomerDay`) summed per (account owner,
project manager, ...). A plain user's figures without a filter read them: their rows are the
ones they own or manage (:func:`custreg_admin.rules.visibility.visible_to_viewer`), a handful per
month whatever the number of invoices.

Kept like the company's totals: :func:`custreg_admin.services.kpi_totals.refresh` collects each
rewritten batch's old rows (``sign`` -1, before they are deleted) and new rows (+1) into a delta,
applied at the end of the write in one upsert in key order (after the company's months and days:
every writer locks months, days, viewer months, viewer days, each in key order). The rows carry
the owner and manager they were written with, so the old key of a change is the stored one. An
account owner's change that does not go through a refresh (mass updates, imports: set-based)
moves the rows with :func:`move_owners`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause

from ..models import (
    Customer,
    KpiCustomerDay,
    KpiCustomerMonth,
    KpiViewerDay,
    KpiViewerMonth,
    Project,
    User,
)
from ..rules.billing import in_period
from ..rules.visibility import visible_to_viewer
from .kpi_upsert import add_to_totals

__all__ = [
    "DAY",
    "MONTH",
    "Rollup",
    "billed_between",
    "move_owners",
    "rebuild",
    "recomputed",
    "stored",
]

#: Customers per statement (the IN list).
_BATCH = 500

Delta = dict[tuple, list[int]]


def _value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return int(value)


class Rollup:
    """One per-viewer table (``target``) summed from a per-customer table (``source``) by
    ``key`` (its first column the owner). Rows whose ``count`` reaches 0 are removed."""

    def __init__(self, source, target, key: tuple[str, ...], sums: tuple[str, ...], counts):
        self.source, self.target = source.__table__, target.__table__
        self.key, self.sums, self.counts = key, sums, counts

    def _normal(self, row) -> tuple:
        return tuple(
            bool(v) if name == "is_internal" else _value(v)
            for name, v in zip(self.key, row, strict=True)
        )

    def collect(self, connection: Connection, batch: list[int], sign: int, delta: Delta) -> None:
        """Add (``sign`` 1) or subtract (-1) the source rows of the customers ``batch``,
        summed per key, to ``delta``."""
        key = [self.source.c[name] for name in self.key]
        rows = connection.execute(
            select(*key, *(func.sum(self.source.c[n]) for n in self.sums))
            .where(self.source.c.customer_id.in_(batch))
            .group_by(*key)
        )
        width = len(self.key)
        for row in rows:
            sums = delta.setdefault(self._normal(row[:width]), [0] * len(self.sums))
            for index, value in enumerate(row[width:]):
                sums[index] += sign * int(value or 0)

    def move_owners(self, connection: Connection, customers: Any, delta: Delta) -> bool:
        """The source rows of the customers ``customers`` (ids, or a subquery of them) whose
        stored owner is not the customer's owner now: their sums go from the old key to the
        new one (into ``delta``) and the rows take the owner now. Whether any moved."""
        source = self.source
        owner_now = func.coalesce(Customer.owner_id, 0)
        differs = and_(source.c.customer_id.in_(customers), source.c.owner_id != owner_now)
        key = [source.c[name] for name in self.key]
        rows = connection.execute(
            select(owner_now, *key, *(func.sum(source.c[n]) for n in self.sums))
            .select_from(source.join(Customer, Customer.id == source.c.customer_id))
            .where(differs)
            .group_by(owner_now, *key)
        )
        width = len(self.key)
        moved = False
        for new_owner, *row in rows:
            moved = True
            old = self._normal(row[:width])
            new = (int(new_owner), *old[1:])
            for found, sign in ((old, -1), (new, 1)):
                sums = delta.setdefault(found, [0] * len(self.sums))
                for index, value in enumerate(row[width:]):
                    sums[index] += sign * int(value or 0)
        if moved:
            now = (
                select(owner_now)
                .where(Customer.id == source.c.customer_id)
                .correlate(source)
                .scalar_subquery()
            )
            connection.execute(
                update(source)
                .where(source.c.customer_id.in_(customers), source.c.owner_id != now)
                .values(owner_id=now)
            )
        return moved

    def apply(self, connection: Connection, delta: Delta) -> None:
        """Change the totals by ``delta`` (keys in sorted order, in chunks:
        :func:`kpi_upsert.add_to_totals`); rows left with nothing counted are removed."""
        add_to_totals(connection, self.target, self.key, self.sums, delta, empty_when=self.counts)

    def _totals(self):
        key = [self.source.c[name] for name in self.key]
        return select(*key, *(func.sum(self.source.c[n]) for n in self.sums)).group_by(*key)

    def rebuild(self, connection: Connection) -> None:
        """The totals from the source rows as they are."""
        connection.execute(delete(self.target))
        connection.execute(insert(self.target).from_select([*self.key, *self.sums], self._totals()))
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {self.target.name}")

    def stored(self, session: Session) -> dict[tuple, tuple]:
        query = select(*(self.target.c[n] for n in (*self.key, *self.sums)))
        return self._as_dict(session.execute(query))

    def recomputed(self, session: Session) -> dict[tuple, tuple]:
        """The totals summed from the source rows (which the other checks compare with their
        own recomputation)."""
        rows = self._as_dict(session.execute(self._totals()))
        return {key: sums for key, sums in rows.items() if any(sums)}

    def _as_dict(self, rows) -> dict[tuple, tuple]:
        width = len(self.key)
        return {self._normal(row[:width]): tuple(int(v) for v in row[width:]) for row in rows}


_MONTH_SUMS = ("billed_cents", "billed_count", "invoice_count", "cost_cents", "cost_count")
MONTH = Rollup(
    KpiCustomerMonth,
    KpiViewerMonth,
    ("owner_id", "manager_id", "month", "status_id", "is_internal"),
    _MONTH_SUMS,
    ("invoice_count", "cost_count"),
)
DAY = Rollup(
    KpiCustomerDay,
    KpiViewerDay,
    ("owner_id", "manager_id", "day", "status_id"),
    ("billed_cents", "billed_count"),
    ("billed_count",),
)
ROLLUPS = (MONTH, DAY)


def new_deltas() -> tuple[Delta, ...]:
    return tuple({} for _rollup in ROLLUPS)


def collect(connection: Connection, batch: list[int], sign: int, deltas: tuple[Delta, ...]):
    for rollup, delta in zip(ROLLUPS, deltas, strict=True):
        rollup.collect(connection, batch, sign, delta)


def apply(connection: Connection, deltas: tuple[Delta, ...]) -> None:
    for rollup, delta in zip(ROLLUPS, deltas, strict=True):
        rollup.apply(connection, delta)


def _move(connection: Connection, customers: Any, deltas: tuple[Delta, ...]) -> None:
    # the day rows are written with the month rows and carry the same owner: when no month
    # row of these customers moved, no day row did either
    if MONTH.move_owners(connection, customers, deltas[0]):
        DAY.move_owners(connection, customers, deltas[1])


def move_owners(session: Session, customer_ids: Iterable[int | None] = (), *, where=None) -> None:
    """These customers' account owner may have changed by a set-based statement: their rows
    move to the owner now, in the session's transaction. ``where``: a condition on
    ``Customer`` picking them instead (read as the database holds it now)."""
    connection = session.connection()
    deltas = new_deltas()
    if where is not None:
        _move(connection, select(Customer.id).where(where), deltas)
    ids = sorted({int(i) for i in customer_ids if i is not None})
    for start in range(0, len(ids), _BATCH):
        _move(connection, ids[start : start + _BATCH], deltas)
    apply(connection, deltas)


def _reads_owner(where: Any) -> bool:
    return any(
        getattr(element, "table", None) is Customer.__table__ and element.key == "owner_id"
        for element in visitors.iterate(where)
        if isinstance(element, ColumnClause)
    )


def on_owner_update(state: Any, rows: list[dict]) -> Any:
    """Run a set-based ``UPDATE`` of customers setting their account owner (the session's
    ``do_orm_execute`` ``state``; ``rows`` its parameter sets): the rows per viewer of the
    customers it matches (read before it runs) move to their owner now."""
    session, statement = state.session, state.statement
    customers = {row["id"] for row in rows if "id" in row}  # ORM bulk UPDATE by primary key
    where = statement.whereclause
    if where is None and not customers:
        where = true()
    if where is not None and _reads_owner(where):  # it may match others once it ran
        customers |= set(session.connection().execute(select(Customer.id).where(where)).scalars())
        where = None
    result = state.invoke_statement()
    move_owners(session, customers, where=where)
    return result


def customers_of_users_leaving(session: Session) -> set[int]:
    """The customers of the users the session deletes (owned, or with a project they manage):
    the database sets their owner or manager to NULL (``ON DELETE SET NULL``), so they are
    refreshed and no row keeps the user's id."""
    gone = sorted(obj.id for obj in session.deleted if isinstance(obj, User) and obj.id)
    if not gone:
        return set()
    connection = session.connection()
    owned = select(Customer.id).where(Customer.owner_id.in_(gone))
    managed = select(Project.customer_id).where(Project.manager_id.in_(gone))
    return {*connection.execute(owned).scalars(), *connection.execute(managed).scalars()}


def rebuild(connection: Connection) -> None:
    for rollup in ROLLUPS:
        rollup.rebuild(connection)


def stored(session: Session) -> dict[str, dict[tuple, tuple]]:
    """Both tables as ``{key: sums}`` (for checks)."""
    return {"viewer_month": MONTH.stored(session), "viewer_day": DAY.stored(session)}


def recomputed(session: Session) -> dict[str, dict[tuple, tuple]]:
    """What :func:`stored` should hold, from the per-customer rows (for checks)."""
    return {"viewer_month": MONTH.recomputed(session), "viewer_day": DAY.recomputed(session)}


def billed_between(user: Any, start: dt.date, end: dt.date, statuses) -> Any:
    """The billing (cents) ``user`` may see of the statuses ``statuses`` (a subquery of ids)
    dated ``start <= day < end``, from the day totals per viewer (a scalar subquery)."""
    table = KpiViewerDay
    return (
        select(func.sum(table.billed_cents))
        .where(
            visible_to_viewer(user, table.owner_id, table.manager_id),
            in_period(table.day, start, end),
            table.status_id.in_(statuses),
        )
        .scalar_subquery()
    )


def totals_of(user: Any, months: tuple[int, int]):
    """Condition and table for the month rows ``user`` may see (see :func:`money_rows
    <custreg_admin.services.kpi_rollups.money_rows>`)."""
    return and_(
        visible_to_viewer(user, KpiViewerMonth.owner_id, KpiViewerMonth.manager_id),
        KpiViewerMonth.month.between(*months),
    )
