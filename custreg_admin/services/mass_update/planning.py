"""The plan of a mass update: the frozen ids, the counts and the preview; changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    case,
    func,
    select,
    true,
)
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    MarketSegment,
    customer_segment,
)
from ...rules import access
from ...rules.request_ids import (
    InvalidSelection,
    in_ids,
)
from .actions import Action, Value, _labels, check_value
from .selection import Selection, _restricted_to, _selection_condition, describe_selection

_link = customer_segment


PREVIEW_ROWS = 20


@dataclass(frozen=True)
class PreviewRow:
    customer_id: int
    number: int
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    changes: bool
    refused: bool


@dataclass(frozen=True)
class Plan:
    """What :func:`apply` would do, and the frozen selection it will do it to.

    ``changing``, ``unchanged`` and ``refused`` partition ``ids``: the customers the user may
    change that would change, those already at the value, and (role ``user``) those owned by
    someone else.
    """

    action: Action
    value: Value
    selection: Selection
    selection_label: str
    ids: tuple[int, ...]
    changing: int
    unchanged: int
    refused_ids: tuple[int, ...]
    preview: tuple[PreviewRow, ...]

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def refused(self) -> int:
        return len(self.refused_ids)

    @property
    def permitted(self) -> int:
        return self.total - self.refused

    @property
    def may_apply(self) -> bool:
        return not self.refused_ids and self.changing > 0


def _changes_condition(act: Action, value: Value) -> ColumnElement[bool]:
    """Condition on ``Customer``: the action would change this customer."""
    if act.is_segments:
        links = (
            select(func.count())
            .select_from(_link)
            .where(_link.c.customer_id == Customer.id, _link.c.segment_id.in_(value.ids))
            .correlate(Customer)
            .scalar_subquery()
        )
        return links < len(value.ids) if act.segments == "add" else links > 0
    return getattr(Customer, act.column).is_distinct_from(value.id)


def plan(user: Any, selection: Selection, action: str | Action, value: Any) -> Plan:
    """Check the value, freeze the selection into ids, count and preview; changes nothing."""
    restricted = _restricted_to(user)
    act, val = check_value(action, value)
    access.ensure(user, "mass_update", Customer, act.column)
    label = describe_selection(selection)
    changes = _changes_condition(act, val)
    condition = _selection_condition(selection, user)
    # The ids as one column, the counts as one aggregate: no Python row per customer (a
    # 100,000-customer selection is a list of ints, not 100,000 result rows to walk).
    ids = list(db.session.scalars(select(Customer.id).where(condition).order_by(Customer.id)))
    if not ids:
        raise InvalidSelection(
            gettext("No customers match the selection any more; nothing to update.")
        )
    refused: list[int] = []
    permitted: ColumnElement[bool] = true()
    if restricted is not None:
        permitted = Customer.owner_id == restricted
        refused = list(
            db.session.scalars(
                select(Customer.id)
                .where(condition, Customer.owner_id.is_distinct_from(restricted))
                .order_by(Customer.id)
            )
        )
    changing = (
        db.session.scalar(
            select(func.count()).select_from(Customer).where(condition, permitted, changes)
        )
        or 0
    )
    return Plan(
        action=act,
        value=val,
        selection=selection,
        selection_label=label,
        ids=tuple(ids),
        changing=changing,
        unchanged=max(len(ids) - len(refused) - changing, 0),
        refused_ids=tuple(refused),
        preview=_preview(act, val, ids, restricted, changes),
    )


def _preview(
    act: Action, value: Value, ids: Sequence[int], restricted: int | None, changes
) -> tuple[PreviewRow, ...]:
    order = [case((changes, 0), else_=1), Customer.name, Customer.number, Customer.id]
    if restricted is not None:
        order.insert(0, case((Customer.owner_id == restricted, 0), else_=1))
    query = select(Customer).where(in_ids(Customer.id, ids)).order_by(*order).limit(PREVIEW_ROWS)
    if act.is_segments:
        query = query.options(selectinload(Customer.segments).selectinload(MarketSegment.parent))
        chosen = _labels(MarketSegment, value.ids)
    else:
        query = query.options(selectinload(getattr(Customer, act.key)))
    rows = []
    for customer in db.session.scalars(query):
        if act.is_segments:
            current = {s.id: str(s) for s in customer.segments}
            before = tuple(sorted(current.values()))
            if act.segments == "add":
                after = tuple(sorted({**chosen, **current}.values()))
            else:
                after = tuple(sorted(v for k, v in current.items() if k not in chosen))
            changed = before != after
        else:
            related = getattr(customer, act.key)
            before = (str(related),) if related is not None else ()
            after = (value.label,) if value.id is not None else ()
            changed = getattr(customer, act.column) != value.id
        rows.append(
            PreviewRow(
                customer_id=customer.id,
                number=customer.number,
                name=customer.name,
                before=before,
                after=after,
                changes=changed,
                refused=restricted is not None and customer.owner_id != restricted,
            )
        )
    return tuple(rows)
