"""Set-based changes, which ORM events do not see: projects moved by one ``UPDATE`` and a
mass update's audit rows, written as entries by ``INSERT ... SELECT``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import JSON

from ...models import (
    Customer,
    CustomerEvent,
    MassUpdateChange,
)
from ...models.history import utcnow
from .. import customer_keys
from .entries import _Entry, _write
from .tracked import DETAILS_VERSION

# --- set-based changes: what ORM events do not see ---------------------------------------------


def _pair_details(source: Customer, target: Customer) -> dict[str, Any]:
    return {"from": str(source), "to": str(target)}


def record_move(session: Session, source: Customer, target: Customer, names: Mapping[int, str]):
    """Projects moved from ``source`` to ``target`` by one set-based ``UPDATE``: an entry on
    both customers, pointing at each other."""
    moved = [{"id": i, "name": names[i]} for i in sorted(names)]
    common = {"projects": moved, **_pair_details(source, target)}
    _write(
        session,
        [
            _Entry(
                source.id,
                "project_moved",
                "project",
                None,
                target.id,
                {**common, "direction": "out"},
            ),
            _Entry(
                target.id,
                "project_moved",
                "project",
                None,
                source.id,
                {**common, "direction": "in"},
            ),
        ],
    )


def _json_object(sqlite: bool, *pairs: Any):
    return (func.json_object if sqlite else func.json_build_object)(*pairs)


def _label_column(model):
    return model.name


def _lit(value: Any, type_: Any = String):
    """A typed bound value (PostgreSQL cannot guess the type of a bare parameter in a select
    list or a JSON builder; the psycopg dialect casts typed ones)."""
    return literal(value, type_)


def record_mass_update(
    session: Session,
    batch_id: int,
    *,
    action: str,
    column: str | None,
    model: Any,
    segments: str | None,
    undo_of: int | None = None,
    user: Any = None,
) -> None:
    """One ``INSERT ... SELECT`` from the batch's audit rows: an entry per changed customer with
    the field's before and after (names), or the segments added or removed. An undo records the
    customers it restored (those with no skipped reason)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    change = MassUpdateChange.__table__
    user_id = getattr(user, "id", None) if user is not None else None
    user_name = getattr(user, "name", None) if user is not None else None
    kind = "mass_update_undone" if undo_of is not None else "mass_updated"
    head = [
        _lit("v"),
        _lit(DETAILS_VERSION, Integer),
        _lit("entity"),
        _lit("customer"),
        _lit("batch"),
        _lit(batch_id, Integer),
        _lit("action"),
        _lit(action),
    ]
    if undo_of is not None:
        head += [_lit("undo_of"), _lit(undo_of, Integer)]
    restored = change.c.skipped_reason.is_(None)
    if segments is None:
        was, now = aliased(model), aliased(model)
        pair = (func.json_array if sqlite else func.json_build_array)(
            _label_column(was), _label_column(now)
        )
        details = _json_object(
            sqlite, *head, _lit("changes"), _json_object(sqlite, _lit(column[:-3]), pair)
        )
        source = (
            select(change.c.customer_id, details.label("details"))
            .select_from(change)
            .outerjoin(was, was.id == change.c.before_value)
            .outerjoin(now, now.id == change.c.after_value)
            .where(change.c.batch_id == batch_id, restored)
        )
    else:
        names = func.json_group_array(model.name) if sqlite else func.json_agg(model.name)
        key = "added" if (segments == "add") == (undo_of is None) else "removed"
        details = _json_object(
            sqlite, *head, _lit("segments"), _json_object(sqlite, _lit(key), names)
        )
        source = (
            select(change.c.customer_id, details.label("details"))
            .select_from(change)
            .join(model, model.id == change.c.segment_id, isouter=True)
            .where(change.c.batch_id == batch_id, restored)
            .group_by(change.c.customer_id)
        )
    source = source.subquery()
    message = (
        f"Undo of mass update #{undo_of}" if undo_of is not None else f"Mass update #{batch_id}"
    )
    at = utcnow()
    session.execute(
        insert(CustomerEvent.__table__).from_select(
            [
                "customer_id",
                "user_id",
                "user_name",
                "at",
                "kind",
                "entity_type",
                "entity_id",
                "related_customer_id",
                "message",
                "details",
            ],
            select(
                source.c.customer_id,
                _lit(user_id, Integer),
                _lit(user_name),
                _lit(at, DateTime),
                _lit(kind),
                _lit("customer"),
                source.c.customer_id,
                _lit(None, Integer),
                _lit(message),
                type_coerce(source.c.details, JSON) if not sqlite else func.json(source.c.details),
            ),
        )
    )
    if segments is None and column:  # the account owner, industry or status: Summary sort keys
        # each restored change row holds the value its customer has now (apply and undo alike)
        customer_keys.set_sort_names(
            session,
            column,
            change.c.customer_id,
            change.c.after_value,
            change.c.batch_id == batch_id,
            restored,
        )


def record_import(session: Session, entries: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
    """A customer import or its undo, written set-based (the ORM events do not see it): one
    entry per customer, ``(customer_id, kind, details)`` with ``kind`` one of
    :data:`~custreg_admin.models.history.IMPORT_KINDS` and ``details`` holding ``file``,
    ``batch``, ``user`` and the ``changes`` ({field: [before, after]}, names)."""
    entries = list(entries)
    _write(session, [_Entry(c, kind, "customer", c, None, d) for c, kind, d in entries])
    customer_keys.refresh(session, {c for c, _kind, _details in entries})  # search and sort keys
