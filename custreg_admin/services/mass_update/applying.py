"""Apply a mass update to the frozen customers in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ...context import acts_as_user
from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    MassUpdateBatch,
)
from ...rules import access
from ...rules.request_ids import (
    InvalidSelection,
    in_ids,
)
from .actions import (
    Action,
    AlreadyApplied,
    InvalidValue,
    MassUpdateFailed,
    NothingToApply,
    _as_id,
    check_value,
    get_action,
)
from .planning import Plan
from .selection import Selection, _restricted_to, describe_selection
from .steps import (
    _add_links,
    _applied_batch,
    _change_counts,
    _check_owned,
    _finish_batch,
    _inconsistent,
    _lock_customers,
    _record_field_changes,
    _record_history,
    _record_segment_changes,
    _remove_links,
    _start_batch,
    _touch_customers,
    _update_field,
)

log = logging.getLogger(__name__)


@acts_as_user
def apply(
    user: Any,
    plan_or_ids: Plan | Iterable[int],
    action: str | Action | None = None,
    value: Any = None,
    *,
    selection: Selection | None = None,
    plan_key: str | None = None,
) -> MassUpdateBatch:
    """Apply an action to the frozen customers in one transaction; returns the recorded batch.

    ``plan_or_ids`` is a :class:`Plan` (its action, value and selection are used) or the frozen
    ids of one, with ``action`` and ``value`` (and ``selection`` to describe where the ids came
    from; default: the ids themselves). Customers deleted since the plan are left out.
    ``plan_key`` makes a confirmation apply once (:class:`AlreadyApplied` the second time).
    Raises :class:`SelectionRefused` when the user may not change all of the customers,
    :class:`NothingToApply` when every customer already has the value (no empty batch is
    recorded), :class:`InvalidValue`, and :class:`MassUpdateFailed` when the database fails;
    in every case nothing was changed.
    """
    if isinstance(plan_or_ids, Plan):
        given = plan_or_ids
        if action is not None and get_action(action) != given.action:
            raise ValueError("the action differs from the plan's")
        action, value = given.action, given.value.raw(given.action)
        selection = selection or given.selection
        ids = list(given.ids)
        label = given.selection_label if selection is given.selection else None
    else:
        what = gettext("Customer")  # once: a translation lookup per id costs seconds at 100k
        ids = sorted({_as_id(i, what) for i in plan_or_ids})
        label = None
    if action is None:
        raise InvalidValue(gettext("Choose what to change."))
    if not ids:
        raise InvalidSelection(gettext("Select at least one customer."))
    _restricted_to(user)  # refuses users of no known role at once
    access.ensure(user, "mass_update", Customer, get_action(action).column)
    session = db.session
    try:
        act, val = check_value(action, value)
        if selection is None:
            selection = Selection.of_ids(ids)
        if label is None:
            label = describe_selection(selection)
        if plan_key is not None:
            applied = _applied_batch(plan_key)
            if applied is not None:
                raise AlreadyApplied(applied)
        batch = _start_batch(
            session,
            user,
            act,
            val,
            selection=selection.as_json(),
            selection_label=label,
            plan_key=plan_key,
        )
        batch_id = batch.id
        locked = _lock_customers(session, in_ids(Customer.id, ids), links=act.is_segments)
        _check_owned(user, locked)
        selected = sum(locked.values())
        if not selected:  # every one of them deleted since the plan
            raise InvalidSelection(
                gettext("No customers match the selection any more; nothing to update.")
            )
        if act.is_segments:
            _record_segment_changes(session, batch_id, act, val, ids)
            rows, changed, _, _ = _change_counts(session, batch_id)
            if not rows:
                raise NothingToApply(selected)
            done = _add_links(session, batch_id) if act.segments == "add" else None
            if done is None:
                done = _remove_links(session, batch_id)
            if done != rows:
                raise _inconsistent()
            _touch_customers(session, batch_id)
        else:
            _record_field_changes(session, batch_id, act, val, ids)
            _, changed, _, _ = _change_counts(session, batch_id)
            if not changed:
                raise NothingToApply(selected)
            if _update_field(session, batch_id, act) != changed:
                raise _inconsistent()
        _record_history(session, batch_id, act, user)
        _finish_batch(
            session,
            batch,
            selected_count=selected,
            changed_count=changed,
            unchanged_count=selected - changed,
        )
        session.commit()
    except DomainError:
        session.rollback()
        raise
    except IntegrityError as error:
        session.rollback()
        if plan_key is not None:
            applied = _applied_batch(plan_key)
            if applied is not None:
                raise AlreadyApplied(applied) from None
        log.warning("mass update refused by the database: %s", error)
        raise MassUpdateFailed(
            gettext(
                "The database refused the mass update (a customer or a chosen value was changed "
                "or deleted at the same time); nothing was changed. Try again."
            )
        ) from error
    except SQLAlchemyError as error:
        session.rollback()
        log.exception("mass update failed")
        raise MassUpdateFailed(
            gettext(
                "The mass update failed in the database; nothing was changed. Try again, and if "
                "it fails again, tell your administrator."
            )
        ) from error
    except BaseException:
        session.rollback()
        raise
    return batch
