"""Undo a mass update: restore the before-values, record the skipped customers and why."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from ...context import acts_as_user
from ...errors import DomainError
from ...extensions import db
from ...i18n import N_, gettext
from ...models import (
    Customer,
    MarketSegment,
    MassUpdateBatch,
    MassUpdateChange,
    User,
    customer_segment,
)
from ...models.history import utcnow
from ...models.versioning import next_version
from ...rules import access
from ...rules.request_ids import (
    parse_id,
)
from ..transactions import all_or_nothing
from .actions import ACTIONS, Action, MassUpdateFailed, Value
from .selection import _restricted_to
from .steps import (
    _add_links,
    _change_counts,
    _finish_batch,
    _inconsistent,
    _lock_customers,
    _record_history,
    _remove_links,
    _start_batch,
    _touch_customers,
)

log = logging.getLogger(__name__)

_change = MassUpdateChange.__table__
_link = customer_segment


# Why an undo skips a customer: kept in English in the database and translated when shown
# (:func:`skip_reason_label`).
CHANGED_SINCE = N_("Changed again since the mass update")
OWNED_BY_OTHERS = N_("Owned by someone else; you may only update your own customers")
OWNER_INACTIVE = N_("The previous account owner is no longer an active user")
ALREADY_REMOVED = N_("No longer in the segment")
ALREADY_BACK = N_("Already back in the segment")
SEGMENT_GONE = N_("The segment no longer exists")


def _value_gone(act: Action) -> str:
    return act.previous_gone


def skip_reason_label(reason: str | None) -> str | None:
    """A stored skip reason in the viewer's language."""
    return gettext(reason) if reason else reason


def _skip_reason(act: Action, restricted: int | None, original):
    """CASE over the original batch's change rows (``original``) joined to ``Customer``: why a
    row cannot be restored, NULL when it can."""
    whens = []
    if act.is_segments:
        linked = exists().where(
            _link.c.customer_id == original.c.customer_id,
            _link.c.segment_id == original.c.segment_id,
        )
        if act.segments == "add":
            whens.append((~linked, ALREADY_REMOVED))
        else:
            whens.append((linked, ALREADY_BACK))
    else:
        whens.append(
            (getattr(Customer, act.column).is_distinct_from(original.c.after_value), CHANGED_SINCE)
        )
    if restricted is not None:
        whens.append((Customer.owner_id.is_distinct_from(restricted), OWNED_BY_OTHERS))
    if act.is_segments:
        if act.segments == "remove":
            gone = ~exists().where(MarketSegment.id == original.c.segment_id)
            whens.append((gone, SEGMENT_GONE))
    else:
        model = act.model
        valid = exists().where(model.id == original.c.before_value)
        if model is User:
            valid = exists().where(User.id == original.c.before_value, User.is_active.is_(True))
        missing = and_(original.c.before_value.is_not(None), ~valid)
        whens.append((missing, OWNER_INACTIVE if model is User else _value_gone(act)))
    return case(*((cond, literal(text, String)) for cond, text in whens), else_=null())


@dataclass(frozen=True)
class UndoPlan:
    """What :func:`undo` would do now: customers restored, and skipped by reason."""

    batch: MassUpdateBatch
    restorable: int
    skipped: tuple[tuple[str, int], ...]

    @property
    def skipped_total(self) -> int:
        return sum(count for _, count in self.skipped)


def _undo_target(user: Any, batch_id: Any) -> MassUpdateBatch:
    batch = None
    if parse_id(batch_id) is not None:
        batch = db.session.get(MassUpdateBatch, parse_id(batch_id))
    if batch is None:
        raise DomainError(gettext("That mass update does not exist."))
    if batch.undo_of_id is not None:
        raise DomainError(
            gettext(
                "Mass update #%(id)s is itself an undo and cannot be undone; run a new mass "
                "update instead.",
                id=batch.id,
            )
        )
    if batch.undone_at is not None:
        if batch.undone_by_name:
            raise DomainError(
                gettext(
                    "Mass update #%(id)s has already been undone by %(name)s.",
                    id=batch.id,
                    name=batch.undone_by_name,
                )
            )
        raise DomainError(gettext("Mass update #%(id)s has already been undone.", id=batch.id))
    _restricted_to(user)  # refuses users of no known role at once
    access.ensure(user, "edit", batch)
    if batch.action not in ACTIONS:
        raise DomainError(
            gettext("Mass update #%(id)s cannot be undone: its action is unknown.", id=batch.id)
        )
    return batch


def plan_undo(user: Any, batch_id: Any) -> UndoPlan:
    """Counts for the undo confirmation; changes nothing."""
    batch = _undo_target(user, batch_id)
    act = ACTIONS[batch.action]
    original = _change.alias("original")
    reason = _skip_reason(act, _restricted_to(user), original).label("reason")
    rows = db.session.execute(
        select(reason, func.count(func.distinct(original.c.customer_id)))
        .select_from(original.join(Customer, Customer.id == original.c.customer_id))
        .where(original.c.batch_id == batch.id)
        .group_by(reason)
    ).all()
    restorable = sum(int(n) for r, n in rows if r is None)
    skipped = tuple(sorted(((r, int(n)) for r, n in rows if r is not None), key=lambda x: -x[1]))
    return UndoPlan(batch=batch, restorable=restorable, skipped=skipped)


def _undo_failed(_error) -> MassUpdateFailed:
    return MassUpdateFailed(
        gettext("The undo failed in the database; nothing was changed. Try again.")
    )


@acts_as_user
def undo(user: Any, batch_id: Any) -> MassUpdateBatch:
    """Undo a batch in one transaction; returns the undo's own batch.

    Restores the before-values of the customers whose field still holds the batch's
    after-value; a segment add is undone by removing exactly the links it added, a removal by
    adding back exactly the links it removed. Customers that cannot be restored are recorded
    as skipped with the reason (:func:`batch_changes` lists them).
    """
    with all_or_nothing(user, "undo of a mass update", _undo_failed) as session:
        original = _undo_target(user, batch_id)
        act = ACTIONS[original.action]
        restricted = _restricted_to(user)
        original_id = original.id
        undo_batch = _start_batch(
            session,
            user,
            act,
            _value_of(original, act),
            selection={"undo_of": original_id},
            selection_label=gettext("The customers changed by mass update #%(id)s", id=original_id),
            undo_of_id=original_id,
        )
        undo_id = undo_batch.id
        # the original's row: one undo at a time
        # (NO KEY: the undo batch's foreign key already holds a KEY SHARE lock on it)
        session.refresh(original, with_for_update={"key_share": True})
        if original.undone_at is not None:
            raise DomainError(
                gettext("Mass update #%(id)s has already been undone.", id=original_id)
            )
        customers = select(_change.c.customer_id).where(_change.c.batch_id == original_id)
        _lock_customers(session, Customer.id.in_(customers), links=act.is_segments)
        _record_undo(session, undo_id, original_id, act, restricted)
        rows, customers_count, restored_rows, restored = _change_counts(session, undo_id)
        skipped = session.scalar(
            select(func.count(func.distinct(_change.c.customer_id))).where(
                _change.c.batch_id == undo_id, _change.c.skipped_reason.is_not(None)
            )
        )
        if act.is_segments:
            if act.segments == "add":
                done = _remove_links(session, undo_id, restored_only=True)
            else:
                done = _add_links(session, undo_id, restored_only=True)
            if done != restored_rows:
                raise _inconsistent()
            _touch_customers(session, undo_id, restored_only=True)
        elif _restore_field(session, undo_id, act) != restored_rows:
            raise _inconsistent()
        _record_history(session, undo_id, act, user, undo_of=original_id)
        _finish_batch(
            session,
            undo_batch,
            selected_count=customers_count,
            changed_count=restored,
            unchanged_count=0,
            skipped_count=int(skipped or 0),
        )
        original.undone_at = utcnow()
        original.undone_by_id = getattr(user, "id", None) if user is not None else None
        original.undone_by_name = getattr(user, "name", None) if user is not None else None
    return undo_batch


def _value_of(batch: MassUpdateBatch, act: Action) -> Value:
    stored = batch.value or {}
    if act.is_segments:
        return Value(tuple(stored.get("ids") or ()), batch.value_label)
    found = stored.get("id")
    return Value((found,) if found is not None else (), batch.value_label)


def _record_undo(
    session: Session, undo_id: int, original_id: int, act: Action, restricted: int | None
) -> None:
    original = _change.alias("original")
    reason = _skip_reason(act, restricted, original)
    if act.is_segments:
        columns = ["batch_id", "customer_id", "segment_id", "skipped_reason"]
        values = [original.c.segment_id, reason]
    else:  # before: the value now; after: the value to restore
        columns = ["batch_id", "customer_id", "before_value", "after_value", "skipped_reason"]
        values = [getattr(Customer, act.column), original.c.before_value, reason]
    session.execute(
        insert(_change).from_select(
            columns,
            select(literal(undo_id, Integer), original.c.customer_id, *values)
            .select_from(original.join(Customer, Customer.id == original.c.customer_id))
            .where(original.c.batch_id == original_id)
            .order_by(original.c.customer_id, original.c.id),
        )
    )


def _restore_field(session: Session, undo_id: int, act: Action) -> int:
    restore = _change.alias("restore")
    result = session.execute(
        update(Customer)
        .where(
            Customer.id == restore.c.customer_id,
            restore.c.batch_id == undo_id,
            restore.c.skipped_reason.is_(None),
        )
        .values({act.column: restore.c.after_value, **next_version(Customer)})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
