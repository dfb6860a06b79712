"""The set-based write steps that apply and undo share: locks, the batch row, change rows,
the customer and segment-link statements, history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    MarketSegment,
    MassUpdateBatch,
    MassUpdateChange,
    customer_segment,
)
from ...models.history import utcnow
from ...models.versioning import next_version
from ...rules.request_ids import (
    in_ids,
)
from .. import history
from .actions import Action, MassUpdateFailed, SelectionRefused, Value
from .selection import _restricted_to

_change = MassUpdateChange.__table__
_link = customer_segment


def _lock_customers(session: Session, condition, *, links: bool) -> dict[int | None, int]:
    """Lock the customers in id order (PostgreSQL; SQLite: no-op) and count them by owner:
    ``{owner_id: customers}``. The rows stay in the database: one aggregate row per owner
    comes back, not one row per customer.

    ``FOR NO KEY UPDATE`` does not hold back inserts that merely reference the customers
    (invoices, projects); ``links=True`` takes ``FOR UPDATE``, which also holds back concurrent
    inserts of segment links, whose foreign key check takes a ``KEY SHARE`` lock.
    """
    locked = (
        select(Customer.id, Customer.owner_id)
        .where(condition)
        .order_by(Customer.id)
        .with_for_update(key_share=not links)
        .subquery("locked")
    )
    rows = session.execute(select(locked.c.owner_id, func.count()).group_by(locked.c.owner_id))
    return {owner_id: int(count) for owner_id, count in rows}


def _check_owned(user: Any, locked: Mapping[int | None, int]) -> None:
    restricted = _restricted_to(user)
    if restricted is None:
        return
    refused = sum(count for owner_id, count in locked.items() if owner_id != restricted)
    if refused:
        raise SelectionRefused(refused, sum(locked.values()) - refused)


def _start_batch(
    session: Session, user: Any, act: Action, value: Value, **fields
) -> MassUpdateBatch:
    batch = MassUpdateBatch(
        user_id=getattr(user, "id", None) if user is not None else None,
        user_name=getattr(user, "name", None) if user is not None else None,
        at=utcnow(),
        action=act.key,
        value=value.as_json(act),
        value_label=value.label,
        selected_count=0,
        changed_count=0,
        unchanged_count=0,
        skipped_count=0,
        **fields,
    )
    session.add(batch)
    session.flush()
    return batch


def _record_field_changes(session: Session, batch_id: int, act: Action, value: Value, ids):
    column = getattr(Customer, act.column)
    session.execute(
        insert(_change).from_select(
            ["batch_id", "customer_id", "before_value", "after_value"],
            select(
                literal(batch_id, Integer), Customer.id, column, literal(value.id, Integer)
            ).where(in_ids(Customer.id, ids), column.is_distinct_from(value.id)),
        )
    )


def _update_field(session: Session, batch_id: int, act: Action) -> int:
    """One ``UPDATE custreg_customer ... FROM`` the batch's change rows: each customer gets its
    row's after-value, so the update changes exactly what the audit recorded."""
    change = _change.alias("change")
    result = session.execute(
        update(Customer)
        .where(Customer.id == change.c.customer_id, change.c.batch_id == batch_id)
        .values({act.column: change.c.after_value, **next_version(Customer)})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _record_segment_changes(session: Session, batch_id: int, act: Action, value: Value, ids):
    if act.segments == "add":  # the links the customers lack
        missing = ~exists().where(
            _link.c.customer_id == Customer.id, _link.c.segment_id == MarketSegment.id
        )
        source = (
            select(literal(batch_id, Integer), Customer.id, MarketSegment.id)
            .select_from(Customer)
            .join(MarketSegment, true())
            .where(in_ids(Customer.id, ids), MarketSegment.id.in_(value.ids), missing)
        )
    else:  # the links they have
        source = select(literal(batch_id, Integer), _link.c.customer_id, _link.c.segment_id).where(
            in_ids(_link.c.customer_id, ids), _link.c.segment_id.in_(value.ids)
        )
    session.execute(insert(_change).from_select(["batch_id", "customer_id", "segment_id"], source))


def _batch_links(batch_id: int, *, restored_only: bool = False):
    query = select(_change.c.customer_id, _change.c.segment_id).where(
        _change.c.batch_id == batch_id
    )
    return query.where(_change.c.skipped_reason.is_(None)) if restored_only else query


def _add_links(session: Session, batch_id: int, *, restored_only: bool = False) -> int:
    result = session.execute(
        insert(_link)
        .from_select(
            ["customer_id", "segment_id"], _batch_links(batch_id, restored_only=restored_only)
        )
        .execution_options(preserve_rowcount=True)  # else -1 for INSERT on psycopg
    )
    return result.rowcount


def _remove_links(session: Session, batch_id: int, *, restored_only: bool = False) -> int:
    result = session.execute(
        delete(_link).where(
            tuple_(_link.c.customer_id, _link.c.segment_id).in_(
                _batch_links(batch_id, restored_only=restored_only)
            )
        )
    )
    return result.rowcount


def _touch_customers(session: Session, batch_id: int, *, restored_only: bool = False) -> None:
    """``updated_at`` and ``version`` of customers whose segments changed (their row is not
    updated else)."""
    changed = select(_change.c.customer_id).where(_change.c.batch_id == batch_id)
    if restored_only:
        changed = changed.where(_change.c.skipped_reason.is_(None))
    session.execute(
        update(Customer)
        .where(Customer.id.in_(changed))
        .values(updated_at=func.now(), **next_version(Customer))
        .execution_options(synchronize_session=False)
    )


def _record_history(
    session: Session, batch_id: int, act: Action, user: Any, *, undo_of: int | None = None
) -> None:
    """Each changed customer's history entry, from the batch's change rows: one statement."""
    history.record_mass_update(
        session,
        batch_id,
        action=act.key,
        column=act.column,
        model=act.model,
        segments=act.segments,
        undo_of=undo_of,
        user=user,
    )


def _change_counts(session: Session, batch_id: int) -> tuple[int, int, int, int]:
    """(rows, customers, restored rows, customers with a restored row) of a batch."""
    restored = _change.c.skipped_reason.is_(None)
    row = session.execute(
        select(
            func.count(),
            func.count(func.distinct(_change.c.customer_id)),
            func.count(case((restored, 1))),
            func.count(func.distinct(case((restored, _change.c.customer_id)))),
        ).where(_change.c.batch_id == batch_id)
    ).one()
    return tuple(int(x or 0) for x in row)  # type: ignore[return-value]


def _finish_batch(session: Session, batch: MassUpdateBatch, **counts: int) -> None:
    for name, count in counts.items():
        setattr(batch, name, count)
    session.flush()


def _applied_batch(plan_key: str) -> int | None:
    return db.session.scalar(select(MassUpdateBatch.id).where(MassUpdateBatch.plan_key == plan_key))


def _inconsistent() -> MassUpdateFailed:
    return MassUpdateFailed(
        gettext("The customers changed while the mass update ran; nothing was changed. Try again.")
    )
