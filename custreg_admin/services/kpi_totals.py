"""The KPI aggregates (:class:`~custreg_admin.models.KpiTotal`) kept in step with every write.

Every write through the module's sessions that can change a sum (an invoice or a cost added,
edited or deleted, a project moved between customers or deleted, merges, imports, mass updates)
marks the customers it touches, and their rows are recomputed from their invoices and costs in
the same transaction, before it commits: :func:`refresh` deletes a customer's rows and inserts
them again with one ``INSERT ... SELECT ... GROUP BY``. Two session events see the writes
(:func:`register`, called by the history's choke point :func:`custreg_admin.services.history.
register`):

* ``after_flush``: ORM units of work (forms, services, imports through the ORM);
* ``do_orm_execute``: set-based ``INSERT``/``UPDATE``/``DELETE`` statements on invoices, costs
  and projects' ``customer_id`` run through the session (project moves, merges, ORM bulk
  inserts). The customers are read before the statement runs (the rows it matches) and after
  (the customer it sets).

An invoice status's ``counts_as_sent`` flag is not part of a row (the KPI query applies it when
it reads), so changing it changes no row; it does rewrite the prospect flags of the customers
billed in that status. A project's ``is_internal`` flag is part of the coarser rows of
:mod:`.kpi_rollups` (kept by :func:`refresh` too): changing it refreshes the project's customer.
The customer's account owner and a project's manager are part of the per-customer rows and of
the totals per viewer (:mod:`.kpi_viewers`): a project's manager changing refreshes its customer
like its flag does; an owner changed through the ORM refreshes the customer, and a set-based
``UPDATE`` of customers setting ``owner_id`` (mass updates and their undo) moves the customers'
rows to the new owner (:func:`.kpi_viewers.move_owners`); imports, which write through the
connection, call it themselves. The customer's other fields (industry, active) are in no row.

:func:`refresh` also rewrites the customers' KPI flags (``Customer.kpi_open_work``,
``kpi_prospect``; :data:`custreg_admin.rules.open_work.KPI_FLAGS` defines them) where they
changed: a project added, moved, deleted or changed in kind, sales status, closed or internal
flag, and any billing, refresh its customer.
Writes that bypass the module's sessions (raw SQL, ``COPY`` of the demo loader) are followed by
:func:`rebuild` (``flask custreg kpi-rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    case,
    cast,
    delete,
    event,
    extract,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from ..models import Cost, Customer, Invoice, InvoiceStatus, KpiTotal, Project
from ..rules.billing import has_number
from ..rules.money import cents
from ..rules.open_work import KPI_FLAGS
from . import kpi_days, kpi_rollups, kpi_viewers

__all__ = [
    "flags",
    "month_index",
    "rebuild",
    "recomputed",
    "recomputed_flags",
    "refresh",
    "register",
    "stored",
]

_TABLE = KpiTotal.__table__
_COLUMNS = (
    "customer_id",
    "project_id",
    "status_id",
    "month",
    "billed_cents",
    "billed_count",
    "invoice_count",
    "cost_cents",
    "cost_count",
)
#: Customers per statement (the IN list).
_BATCH = 500


def month_index(column) -> ColumnElement[int]:
    """``year * 12 + month - 1`` of a date column, as stored in ``KpiTotal.month``."""
    return cast(extract("year", column) * 12 + extract("month", column) - 1, Integer)


def _rows(invoices: ColumnElement[bool], costs: ColumnElement[bool]):
    """The aggregate rows of the invoices and costs matching the conditions (a SELECT with
    :data:`_COLUMNS`)."""
    numbered = has_number(Invoice.number)
    invoice_month = month_index(Invoice.date)
    of_invoices = (
        select(
            Invoice.customer_id,
            Invoice.project_id,
            Invoice.status_id,
            invoice_month,
            func.coalesce(func.sum(case((numbered, cents(Invoice.total)), else_=0)), 0),
            func.coalesce(func.sum(case((numbered, 1), else_=0)), 0),
            func.count(),
            literal(0, BigInteger),
            literal(0, Integer),
        )
        .where(invoices)
        .group_by(Invoice.customer_id, Invoice.project_id, Invoice.status_id, invoice_month)
    )
    cost_month = month_index(Cost.date)
    of_costs = (
        select(
            Project.customer_id,
            Cost.project_id,
            cast(null(), Integer),
            cost_month,
            literal(0, BigInteger),
            literal(0, Integer),
            literal(0, Integer),
            func.sum(cents(Cost.amount)),
            func.count(),
        )
        .join(Project, Project.id == Cost.project_id)
        .where(costs)
        .group_by(Project.customer_id, Cost.project_id, cost_month)
    )
    return union_all(of_invoices, of_costs)


def refresh(session: Session, customer_ids: Iterable[int | None]) -> None:
    """Recompute the aggregate rows of these customers from their invoices and costs, in the
    session's transaction."""
    ids = sorted({int(i) for i in customer_ids if i is not None})
    connection = session.connection()
    delta: kpi_rollups.MonthDelta = {}
    day_delta: kpi_days.DayDelta = {}
    viewer_deltas = kpi_viewers.new_deltas()
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        kpi_viewers.collect(connection, batch, -1, viewer_deltas)
        kpi_rollups.subtract(connection, batch, delta)
        kpi_days.subtract(connection, batch, day_delta)
        connection.execute(delete(_TABLE).where(_TABLE.c.customer_id.in_(batch)))
        rows = _rows(Invoice.customer_id.in_(batch), Project.customer_id.in_(batch))
        connection.execute(insert(_TABLE).from_select(list(_COLUMNS), rows))
        kpi_rollups.add(connection, batch, delta)
        kpi_days.add(connection, batch, day_delta)
        kpi_viewers.collect(connection, batch, 1, viewer_deltas)
        _write_flags(connection, Customer.id.in_(batch))
    # the totals: once per write, the company's months then days, then the viewers' months
    # then days, each in key order
    kpi_rollups.apply(connection, delta)
    kpi_days.apply(connection, day_delta)
    kpi_viewers.apply(connection, viewer_deltas)


_CUSTOMER = Customer.__table__


def _write_flags(connection: Any, customers: ColumnElement[bool]) -> None:
    """Rewrite the maintained flags (``Customer.kpi_open_work``, ``kpi_prospect``) of the
    customers matching ``customers`` where they changed; after ``KpiTotal`` is up to date (the
    prospect flag asks for billing ever). The row's version and ``updated_at`` stay."""
    new = {name: definition() for name, definition in KPI_FLAGS.items()}
    changed = or_(*(_CUSTOMER.c[name] != value for name, value in new.items()))
    statement = (
        update(_CUSTOMER).where(customers, changed).values(**new, updated_at=_CUSTOMER.c.updated_at)
    )
    connection.execute(statement)


def refresh_status_flags(session: Session, status_ids: Iterable[int] | None) -> None:
    """An invoice status's ``counts_as_sent`` changed (``None``: some statuses, unknown which):
    the prospect flags of the customers billed in it may change."""
    billed = select(KpiTotal.customer_id).where(KpiTotal.billed_count > 0)
    if status_ids is not None:
        billed = billed.where(KpiTotal.status_id.in_(sorted(status_ids)))
    _write_flags(session.connection(), Customer.id.in_(billed))


def rebuild(session: Session) -> int:
    """Recompute every aggregate row from scratch (after raw writes, e.g. the demo's ``COPY``);
    returns the number of rows. The caller commits."""
    connection = session.connection()
    connection.execute(delete(_TABLE))
    connection.execute(insert(_TABLE).from_select(list(_COLUMNS), _rows(true(), true())))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {_TABLE.name}")
    kpi_rollups.rebuild(connection)
    kpi_days.rebuild(connection)
    kpi_viewers.rebuild(connection)
    _write_flags(connection, true())
    return session.scalar(select(func.count()).select_from(_TABLE)) or 0


def _key(row) -> tuple:
    return tuple(row[:4])


def stored(session: Session) -> dict[tuple, tuple]:
    """The aggregate rows as ``{(customer, project, status, month): sums}`` (for checks)."""
    query = select(*(_TABLE.c[name] for name in _COLUMNS))
    return {_key(row): tuple(int(v) for v in row[4:]) for row in session.execute(query)}


def recomputed(session: Session) -> dict[tuple, tuple]:
    """What :func:`stored` would hold after :func:`rebuild`, computed from the invoices and
    costs without touching the table (for checks)."""
    return {
        _key(row): tuple(int(v) for v in row[4:]) for row in session.execute(_rows(true(), true()))
    }


def flags(session: Session) -> dict[int, tuple[bool, ...]]:
    """The maintained flags as ``{customer id: (kpi_open_work, kpi_prospect)}`` (for checks)."""
    query = select(Customer.id, *(_CUSTOMER.c[name] for name in KPI_FLAGS))
    return {row[0]: tuple(bool(v) for v in row[1:]) for row in session.execute(query)}


def recomputed_flags(session: Session) -> dict[int, tuple[bool, ...]]:
    """What :func:`flags` should hold, from their definitions (for checks)."""
    query = select(Customer.id, *(definition() for definition in KPI_FLAGS.values()))
    return {row[0]: tuple(bool(v) for v in row[1:]) for row in session.execute(query)}


# --------------------------------------------------------------------------- the session events


_INFO_SEEN = "custreg_kpi_totals_seen"
#: The column linking each followed row type to what decides its customer.
_LINKS = {Invoice: "customer_id", Cost: "project_id", Project: "customer_id"}
#: A project's columns that the rows or the flags depend on (its costs' customer, their internal
#: flag, open work).
_PROJECT_KEYS = ("customer_id", "is_internal", "is_closed", "sales_status", "kind", "manager_id")


def _links(obj: Any, *, before: bool) -> Any:
    """The value(s) of ``obj``'s link column: as loaded and as stored before the flush
    (``before``), or as written (after it). Never loads anything."""
    state = inspect(obj)
    key = _LINKS[type(obj)]
    found = {state.dict.get(key)}
    if before:
        found.add(state.committed_state.get(key))
    return found


def _seen(session: Session) -> dict[str, set[int]]:
    return session.info.setdefault(_INFO_SEEN, {"customers": set(), "projects": set()})


def _collect(session: Session, objs: Any, *, before: bool) -> None:
    seen = _seen(session)
    for obj in objs:
        if isinstance(obj, Project):
            # a moved or deleted project takes its costs along (deletes cascade); a new one
            # has no costs yet but may be open work
            seen["customers"].update(_links(obj, before=before))
        elif isinstance(obj, Invoice):
            seen["customers"].update(_links(obj, before=before))
        elif isinstance(obj, Cost):
            seen["projects"].update(_links(obj, before=before))
        elif isinstance(obj, Customer) and (
            obj in session.deleted
            or (obj in session.dirty and inspect(obj).attrs.owner_id.history.has_changes())
        ):  # a deleted customer's rows go; an owner change moves them (the rows per viewer)
            seen["customers"].add(obj.id)


def _before_flush(session: Session, flush_context, instances) -> None:
    """What the rows about to be written or deleted are linked to now (their old customers).
    A link not loaded (expired after a commit) is read from the database."""
    objs = [o for o in (*session.dirty, *session.deleted) if type(o) in _LINKS]
    _collect(session, objs, before=True)
    _seen(session)["customers"].update(kpi_viewers.customers_of_users_leaving(session))
    unloaded: dict[type, list[int]] = {}
    for obj in objs:
        state = inspect(obj)
        if state.key is not None and _LINKS[type(obj)] not in state.dict:
            unloaded.setdefault(type(obj), []).append(state.key[1][0])
    seen = _seen(session)
    for model, ids in unloaded.items():
        column = getattr(model, _LINKS[model])
        found = session.connection().execute(select(column).where(model.id.in_(ids))).scalars()
        seen["projects" if model is Cost else "customers"].update(found)


def _customers_of_projects(session: Session, project_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(project_ids))
    found: set[int] = set()
    for start in range(0, len(ids), _BATCH):
        query = select(Project.customer_id).where(Project.id.in_(ids[start : start + _BATCH]))
        found.update(session.connection().execute(query).scalars())
    return found


def _sent_flag_changed(session: Session) -> set[int]:
    return {
        obj.id
        for obj in session.dirty
        if isinstance(obj, InvoiceStatus)
        and inspect(obj).attrs.counts_as_sent.history.has_changes()
    }


def _after_flush(session: Session, flush_context) -> None:
    """Add what the written rows are linked to now, and refresh those customers."""
    statuses = _sent_flag_changed(session)
    if statuses:
        refresh_status_flags(session, statuses)
    _collect(session, (*session.new, *session.dirty, *session.deleted), before=False)
    seen = session.info.pop(_INFO_SEEN)
    customers = {c for c in seen["customers"] if c is not None}
    projects = {p for p in seen["projects"] if p is not None}
    if projects:
        customers |= _customers_of_projects(session, projects)
    if customers:
        refresh(session, customers)


def _column_key(key: Any) -> str | None:
    return key if isinstance(key, str) else getattr(key, "key", None)


def _sets(statement: Any, rows: list[dict], names: Iterable[str]) -> bool:
    """Whether the statement sets one of the columns ``names`` (to whatever value, NULL too)."""
    keys = {_column_key(k) for k in (getattr(statement, "_values", None) or {})}
    return any(name in keys or any(name in row for row in rows) for name in names)


def _set_value(statement: Any, name: str) -> Any:
    values = {_column_key(k): v for k, v in (getattr(statement, "_values", None) or {}).items()}
    value = values.get(name)
    if isinstance(value, BindParameter) and value.callable is None:
        value = value.value
    return value


def _statement_customers(session: Session, model: Any, where: Any) -> set[int]:
    """The customers of the rows of ``model`` that ``where`` matches, as stored now."""
    where = where if where is not None else true()
    if model is Cost:
        query = select(Project.customer_id).where(
            Project.id.in_(select(Cost.project_id).where(where))
        )
    else:
        query = select(model.customer_id).where(where)
    return set(session.connection().execute(query.distinct()).scalars())


def _on_execute(state) -> Any:
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    statement = state.statement
    name = getattr(getattr(statement, "table", None), "name", None)
    if name == InvoiceStatus.__tablename__ and state.is_update:
        result = state.invoke_statement()
        refresh_status_flags(state.session, None)
        return result
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    if name == Customer.__tablename__ and state.is_update and _sets(statement, rows, ["owner_id"]):
        return kpi_viewers.on_owner_update(state, rows)
    model = {m.__tablename__: m for m in (Invoice, Cost, Project)}.get(name)
    if model is None:
        return None
    link = "project_id" if model is Cost else "customer_id"
    if model is Project and state.is_update and not _sets(statement, rows, _PROJECT_KEYS):
        return None  # a project's other fields: no row or flag changes
    session = state.session
    customers: set[int] = set()
    projects: set[int] = set()
    if state.is_insert:
        linked = {row.get(link) for row in rows} | {_set_value(statement, link)}
        (projects if model is Cost else customers).update(v for v in linked if v is not None)
    else:
        by_key = [row["id"] for row in rows if "id" in row]
        if by_key:  # ORM bulk UPDATE by primary key
            customers |= _statement_customers(session, model, model.id.in_(by_key))
        if statement.whereclause is not None or not by_key:
            customers |= _statement_customers(session, model, statement.whereclause)
        new = {row.get(link) for row in rows} | {_set_value(statement, link)}
        (projects if model is Cost else customers).update(v for v in new if v is not None)
    result = state.invoke_statement()
    if projects:
        customers |= _customers_of_projects(session, projects)
    refresh(session, customers)
    return result


LISTENERS = (
    ("before_flush", _before_flush),
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
)


def register(factory: sessionmaker) -> None:
    """Keep the aggregates in step in the sessions ``factory`` makes (idempotent)."""
    for name, listener in LISTENERS:
        if not event.contains(factory, name, listener):
            event.listen(factory, name, listener)
