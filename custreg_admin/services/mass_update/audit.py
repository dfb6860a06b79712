"""Reading the audit trail: the batches, and a batch's changes in words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    and_,
    func,
    select,
)

from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    MarketSegment,
    MassUpdateBatch,
    MassUpdateChange,
)
from .actions import ACTIONS, Action, _labels
from .undoing import skip_reason_label


def undoing_batch(batch: MassUpdateBatch) -> MassUpdateBatch | None:
    """The mass update that undid ``batch`` (the newest, should there be more), or None."""
    if batch.undone_at is None:
        return None
    return db.session.scalar(
        select(MassUpdateBatch)
        .where(MassUpdateBatch.undo_of_id == batch.id)
        .order_by(MassUpdateBatch.id.desc())
        .limit(1)
    )


def batches(*, page: int = 0, per_page: int = 50) -> tuple[list[MassUpdateBatch], int]:
    """A page of the batches, newest first, and how many there are."""
    total = db.session.scalar(select(func.count()).select_from(MassUpdateBatch)) or 0
    rows = db.session.scalars(
        select(MassUpdateBatch)
        .order_by(MassUpdateBatch.at.desc(), MassUpdateBatch.id.desc())
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


@dataclass(frozen=True)
class ChangeRow:
    """One customer's change in a batch, in words."""

    customer_id: int
    number: int
    name: str
    before: str
    after: str
    skipped_reason: str | None


def batch_changes(
    batch: MassUpdateBatch, *, page: int = 0, per_page: int = 50, skipped_only: bool = False
) -> tuple[list[ChangeRow], int]:
    """A page of a batch's changes in customer order, and how many rows there are in all.

    Field actions: one row per customer, before and after are the field's values by name.
    Segment actions: one row per customer (and, in an undo, per skip reason) naming the
    segments it joined or left. ``skipped_only``: the rows an undo skipped.
    """
    condition = MassUpdateChange.batch_id == batch.id
    if skipped_only:
        condition = and_(condition, MassUpdateChange.skipped_reason.is_not(None))
    act = ACTIONS.get(batch.action)
    if act is not None and act.is_segments:
        return _segment_changes(batch, act, condition, page, per_page)
    total = db.session.scalar(select(func.count()).select_from(MassUpdateChange).where(condition))
    rows = db.session.execute(
        select(MassUpdateChange, Customer.number, Customer.name)
        .join(Customer, Customer.id == MassUpdateChange.customer_id)
        .where(condition)
        .order_by(MassUpdateChange.customer_id, MassUpdateChange.id)
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    model = act.model if act is not None else None
    values = [v for r in rows for v in (r[0].before_value, r[0].after_value)]
    names = _labels(model, values) if model is not None else {}
    result = []
    for change, number, name in rows:
        before = names.get(change.before_value, "—") if change.before_value else "—"
        after = names.get(change.after_value, "—") if change.after_value else "—"
        result.append(
            ChangeRow(
                change.customer_id,
                number,
                name,
                before,
                after,
                skip_reason_label(change.skipped_reason),
            )
        )
    return result, int(total or 0)


def _segment_changes(
    batch: MassUpdateBatch, act: Action, condition, page: int, per_page: int
) -> tuple[list[ChangeRow], int]:
    reason = func.coalesce(MassUpdateChange.skipped_reason, "")
    groups = (
        select(MassUpdateChange.customer_id, reason.label("reason"))
        .where(condition)
        .group_by(MassUpdateChange.customer_id, reason)
    )
    total = db.session.scalar(select(func.count()).select_from(groups.subquery()))
    page_groups = db.session.execute(
        groups.order_by(MassUpdateChange.customer_id, reason)
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    customer_ids = sorted({g.customer_id for g in page_groups})
    if not customer_ids:
        return [], int(total or 0)
    links = db.session.execute(
        select(MassUpdateChange.customer_id, reason, MassUpdateChange.segment_id).where(
            condition, MassUpdateChange.customer_id.in_(customer_ids)
        )
    ).all()
    names = _labels(MarketSegment, (row.segment_id for row in links))
    segments: dict[tuple[int, str], list[str]] = {}
    for customer_id, why, segment_id in links:
        segments.setdefault((customer_id, why), []).append(names.get(segment_id, ""))
    customers = {
        row.id: row
        for row in db.session.execute(
            select(Customer.id, Customer.number, Customer.name).where(Customer.id.in_(customer_ids))
        )
    }
    adds = (act.segments == "add") != (batch.undo_of_id is not None)
    result = []
    for group in page_groups:
        listed = ", ".join(sorted(segments.get((group.customer_id, group.reason), [])))
        present = gettext("in %(segments)s", segments=listed)
        absent = gettext("not in %(segments)s", segments=listed)
        before, after = (absent, present) if adds else (present, absent)
        customer = customers[group.customer_id]
        result.append(
            ChangeRow(
                group.customer_id,
                customer.number,
                customer.name,
                before,
                after,
                skip_reason_label(group.reason) or None,
            )
        )
    return result, int(total or 0)
