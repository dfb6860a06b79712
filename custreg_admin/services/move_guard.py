"""The project-move guard of the module's own sessions.

A project may change customer only while no invoices and no proposals exist for it (the rule and
its message: :mod:`custreg_admin.rules.moves`). :func:`install` listens on the module's
session factory (``db.session``'s sessionmaker; ``CustReg.init_app`` calls it), never on
SQLAlchemy's ``Session`` class: a host's own sessions in the same process are left alone. Two
listeners refuse, with ``ProjectMoveBlocked`` and its friendly message, every way of changing a
project's customer through the module's sessions:

* ``before_flush``: a ``Project`` whose ``customer`` / ``customer_id`` changed in the unit of work
  (Flask-Admin edit form, inline list editing, code setting the attribute or appending to
  ``Customer.projects``);
* ``do_orm_execute``: ``session.execute(update(Project)...)`` statements that set ``customer_id``
  (set-based mass actions, ORM bulk updates by primary key).

Whatever else writes (a host's session, a script that imports only the models, raw SQL) meets
the database's trigger (:mod:`custreg_admin.models.constraints`), which refuses the same moves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, event, inspect, select, true
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter

from ..models import Project
from ..rules.moves import refuse_blocked_moves
from .customers.unit_of_work import _lock_projects


def _refuse_blocked_customer_changes(session: Session, flush_context, instances) -> None:
    """``before_flush``: refuse a changed ``Project.customer`` when invoices or proposals exist."""
    candidates: dict[int, int | None] = {}
    for obj in session.dirty:
        if not isinstance(obj, Project) or obj in session.deleted:
            continue
        state = inspect(obj)
        if state.key is None:
            continue
        by_relation = state.attrs.customer.history
        by_column = state.attrs.customer_id.history
        if not (by_relation.has_changes() or by_column.has_changes()):
            continue
        if by_relation.added:  # the relationship wins over the column at flush time
            new = by_relation.added[0]
            candidates[obj.id] = None if new is None else new.id  # None: a new customer
        else:
            candidates[obj.id] = obj.customer_id
    if not candidates:
        return
    stored = _lock_projects(session, Project.id.in_(sorted(candidates)))
    changed = [
        pid
        for pid, new_id in candidates.items()
        if pid in stored and (new_id is None or new_id != stored[pid])
    ]
    refuse_blocked_moves(session, changed)


def _column_key(key: Any) -> str | None:
    if isinstance(key, str):
        return key
    return getattr(key, "key", None)


def _refuse_blocked_bulk_updates(state) -> None:
    """``do_orm_execute``: refuse ``UPDATE custreg_project SET customer_id`` statements that
    would move projects with invoices or proposals."""
    if not state.is_update:
        return
    statement = state.statement
    table = getattr(statement, "table", None)
    if getattr(table, "name", None) != Project.__tablename__:
        return
    session = state.session
    values = {_column_key(k): v for k, v in (getattr(statement, "_values", None) or {}).items()}
    if "customer_id" in values:
        condition = statement.whereclause if statement.whereclause is not None else true()
        new_value = values["customer_id"]
        if isinstance(new_value, BindParameter) and new_value.callable is None:
            new_value = new_value.value
        if isinstance(new_value, int):
            condition = and_(condition, Project.customer_id != new_value)
        targeted = select(Project.id).where(condition)
        _lock_projects(session, Project.id.in_(targeted))
        refuse_blocked_moves(session, targeted)
    else:  # ORM bulk UPDATE by primary key: update(Project) with a list of parameter dicts
        parameters = state.parameters
        rows = parameters if isinstance(parameters, list) else [parameters or {}]
        wanted = {
            row["id"]: row["customer_id"] for row in rows if "customer_id" in row and "id" in row
        }
        if not wanted:
            return
        stored = _lock_projects(session, Project.id.in_(sorted(wanted)))
        refuse_blocked_moves(
            session, [pid for pid, new in wanted.items() if pid in stored and stored[pid] != new]
        )


LISTENERS = (
    ("before_flush", _refuse_blocked_customer_changes),
    ("do_orm_execute", _refuse_blocked_bulk_updates),
)


def install(session_factory: sessionmaker) -> None:
    """Guard the sessions ``session_factory`` makes (idempotent)."""
    for name, listener in LISTENERS:
        if not event.contains(session_factory, name, listener):
            event.listen(session_factory, name, listener)


def installed(session_factory: sessionmaker) -> bool:
    return all(event.contains(session_factory, name, fn) for name, fn in LISTENERS)
