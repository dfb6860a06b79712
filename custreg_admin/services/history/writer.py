"""The choke point: session events on the module's own sessions that note each followed row
before a flush, compare after it, and write the transaction's entries before the commit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    event,
    select,
)
from sqlalchemy.orm import Session, attributes, sessionmaker

from ...extensions import db
from ...models import (
    Cost,
    Customer,
    Project,
    Proposal,
)
from .. import customer_keys, kpi_totals
from .entries import (
    _all_values,
    _apply_notes,
    _changes,
    _coalesce,
    _customers_of,
    _entity_label,
    _Entry,
    _noted_only,
    _write,
)
from .tracked import (
    _INFO_BEFORE,
    _INFO_NOTES,
    _INFO_PENDING,
    ENTITIES,
    _columns,
    _current,
    _notes,
    _plain,
    _segment_history,
    _snapshot,
)

# --- the choke point ---------------------------------------------------------------------------


def register(factory: sessionmaker | None = None) -> None:
    """Write the history from the sessions ``factory`` makes (default: ``db.session``'s). Only
    those: a host's own sessions are left alone. Registering twice changes nothing."""
    target = factory if factory is not None else db.session.session_factory
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("after_flush", customer_keys.after_flush),  # the stored search and sort keys
        ("before_commit", _before_commit),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
    kpi_totals.register(target)  # the KPI aggregates: same writes, same transaction


def _forget(session: Session, transaction) -> None:
    """The transaction is over (committed: written already; rolled back: nothing happened)."""
    if transaction.parent is None:
        for key in (_INFO_NOTES, _INFO_BEFORE, _INFO_PENDING):
            session.info.pop(key, None)


@dataclass
class _Before:
    values: dict[int, dict[str, Any]] = field(default_factory=dict)  # id(obj) -> values
    segments: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)
    cascaded_costs: list[dict[str, Any]] = field(default_factory=list)
    projects: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> (customer, name)


def _tracked(objs: Iterable[Any]) -> Iterator[Any]:
    for obj in objs:
        if type(obj) in ENTITIES:
            yield obj


def _project_info(session: Session, ids: Iterable[int | None], known: dict) -> None:
    wanted = sorted({i for i in ids if i is not None and i not in known})
    if wanted:
        rows = session.execute(
            select(Project.id, Project.customer_id, Project.name).where(Project.id.in_(wanted))
        )
        for row in rows:
            known[row.id] = (row.customer_id, row.name)


def _before_flush(session: Session, flush_context, instances) -> None:
    before = _Before()
    project_ids: set[int] = set()
    with session.no_autoflush:
        for obj in _tracked(session.deleted):
            state = attributes.instance_state(obj)
            for key, _ in _columns(state.mapper):
                if key not in state.dict and state.key is not None:
                    getattr(obj, key)  # load it while the row is still there
        for obj in _tracked([*session.dirty, *session.deleted]):
            state = attributes.instance_state(obj)
            if state.key is None:
                continue
            before.values[id(obj)] = _snapshot(session, state)
            if isinstance(obj, Customer):
                segments = _segment_history(state)
                if segments is not None:
                    before.segments[id(obj)] = segments
            if isinstance(obj, Proposal | Cost):
                project_ids.add(before.values[id(obj)].get("project_id"))
        gone = [p.id for p in session.deleted if isinstance(p, Project) and p.id is not None]
        if gone:
            deleted_ids = {c.id for c in session.deleted if isinstance(c, Cost)}
            for row in session.execute(
                select(Cost.id, Cost.project_id, Cost.date, Cost.amount).where(
                    Cost.project_id.in_(gone)
                )
            ):
                if row.id not in deleted_ids:
                    before.cascaded_costs.append(row._asdict())
                    project_ids.add(row.project_id)
        project_ids.update(gone)
        _project_info(session, project_ids, before.projects)
    session.info[_INFO_BEFORE] = before


def _after_flush(session: Session, flush_context) -> None:
    before: _Before = session.info.pop(_INFO_BEFORE, None) or _Before()
    notes = _notes(session)
    entries: list[_Entry] = []
    deleted_customers = {c.id for c in session.deleted if isinstance(c, Customer)}
    projects = before.projects
    with session.no_autoflush:
        new_project_ids = [
            _current(attributes.instance_state(o)).get("project_id")
            for o in _tracked([*session.new, *session.dirty])
            if isinstance(o, Proposal | Cost)
        ]
        for obj in session.new:
            if isinstance(obj, Project):
                projects[obj.id] = (obj.customer_id, obj.name)
        _project_info(session, new_project_ids, projects)
        for obj in _tracked(session.new):
            entries.extend(_created(session, obj, projects))
        for obj in _tracked(session.dirty):
            if (
                id(obj) in before.values
                and not session.is_modified(obj)
                and id(obj) not in before.segments
            ):
                continue
            entries.extend(_changed(session, obj, before, projects))
        for obj in _tracked(session.deleted):
            if isinstance(obj, Customer) or id(obj) not in before.values:
                continue
            old = {**before.values[id(obj)], "id": obj.id}
            prefix = ENTITIES[type(obj)]
            customer_id = _customers_of(obj, old, projects)
            if customer_id is None:
                continue
            details = {
                **_entity_label(obj, old, projects),
                "changes": _all_values(session, obj, old, after=False),
            }
            entries.append(_Entry(customer_id, f"{prefix}_removed", prefix, obj.id, None, details))
        for row in before.cascaded_costs:
            project = projects.get(row["project_id"])
            if project is None:
                continue
            details = {
                "label": _plain(row["date"]),
                "project": project[1],
                "cascade": True,
                "changes": {
                    "date": [_plain(row["date"]), None],
                    "amount": [_plain(row["amount"]), None],
                },
            }
            entries.append(_Entry(project[0], "cost_removed", "cost", row["id"], None, details))
    _apply_notes(entries, notes)
    pending = session.info.setdefault(_INFO_PENDING, [])
    pending.extend(e for e in entries if e.customer_id not in deleted_customers)


def _created(session: Session, obj: Any, projects) -> list[_Entry]:
    state = attributes.instance_state(obj)
    values = {**_current(state), "id": obj.id}
    prefix = ENTITIES[type(obj)]
    customer_id = _customers_of(obj, values, projects)
    if customer_id is None:
        return []
    changes = _all_values(session, obj, values, after=True)
    if isinstance(obj, Customer):
        segments = sorted(str(s) for s in obj.segments) if "segments" in state.dict else []
        if segments:
            changes["segments"] = [None, segments]
        kind = "created"
    else:
        kind = f"{prefix}_added"
    details = {**_entity_label(obj, values, projects), "changes": changes}
    return [_Entry(customer_id, kind, prefix, obj.id, None, details)]


def _changed(session: Session, obj: Any, before: _Before, projects) -> list[_Entry]:
    state = attributes.instance_state(obj)
    old = {**before.values.get(id(obj), {}), "id": obj.id}
    new = {**old, **_current(state), "id": obj.id}
    prefix = ENTITIES[type(obj)]
    changes = _changes(session, obj, old, new)
    if id(obj) in before.segments:
        changes["segments"] = list(before.segments[id(obj)])
    if isinstance(obj, Customer):
        if not changes and id(obj) not in _notes(session):
            return []
        kind = "edited"
        if set(changes) == {"is_active"}:
            kind = "reactivated" if changes["is_active"][1] else "inactivated"
        details = {**_entity_label(obj, new, {}), "changes": changes}
        return [_Entry(obj.id, kind, prefix, obj.id, None, details)]
    if isinstance(obj, Proposal | Cost):
        _project_info(session, [old.get("project_id"), new.get("project_id")], projects)
    was = _customers_of(obj, old, projects)
    now = _customers_of(obj, new, projects)
    label = _entity_label(obj, new, projects)
    if was is not None and now is not None and was != now:
        moved = {**label, "changes": changes}
        return [
            _Entry(was, f"{prefix}_moved", prefix, obj.id, now, {**moved, "direction": "out"}),
            _Entry(now, f"{prefix}_moved", prefix, obj.id, was, {**moved, "direction": "in"}),
        ]
    if not changes or now is None:
        return []
    return [_Entry(now, f"{prefix}_changed", prefix, obj.id, None, {**label, "changes": changes})]


def _before_commit(session: Session) -> None:
    """The transaction's entries, written once its last flush is done."""
    session.flush()  # the commit's own flush comes after this event: do it now
    pending = session.info.pop(_INFO_PENDING, [])
    notes = session.info.pop(_INFO_NOTES, {})
    if not pending and not notes:
        return
    pending.extend(_noted_only(pending, notes))
    _write(session, _coalesce(pending))
