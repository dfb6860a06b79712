"""Reading the history: a customer's page of entries, its kinds, the changes to one row since
a time, and which money rows a viewer may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Cost,
    Customer,
    CustomerEvent,
    Invoice,
    Project,
    Proposal,
)
from ...rules.visibility import (
    project_costs_visible,
    sees_all_invoices,
    visible_costs,
    visible_invoices,
)
from .tracked import ENTITIES, MONEY_FIELDS

# --- reading -----------------------------------------------------------------------------------


def kinds_of(customer_id: int) -> list[str]:
    """The kinds of the customer's entries (for the History page's filter)."""
    return sorted(
        db.session.scalars(
            select(CustomerEvent.kind).where(CustomerEvent.customer_id == customer_id).distinct()
        )
    )


def customer_history(
    customer: Customer, *, page: int = 0, per_page: int = 50, kind: str | None = None
) -> tuple[list[CustomerEvent], int]:
    """A page of the customer's history, newest first, and how many entries there are."""
    condition = CustomerEvent.customer_id == customer.id
    if kind:
        condition = condition & (CustomerEvent.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(CustomerEvent).where(condition))
    rows = db.session.scalars(
        select(CustomerEvent)
        .where(condition)
        .options(selectinload(CustomerEvent.related_customer))
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total or 0


def changes_since(model: Any, row_id: int, since: dt.datetime) -> list[CustomerEvent]:
    """Entries about one row written after ``since`` (naive UTC), oldest first: who changed
    what meanwhile (a stale edit's message)."""
    entity = ENTITIES[model]
    return list(
        db.session.scalars(
            select(CustomerEvent)
            .where(
                CustomerEvent.entity_type == entity,
                CustomerEvent.entity_id == row_id,
                CustomerEvent.at > since,
            )
            .order_by(CustomerEvent.at, CustomerEvent.id)
        )
    )


def money_visibility(viewer: Any, events: Iterable[CustomerEvent]) -> set[tuple[str, int]]:
    """(entity, id) of the money rows among ``events`` whose amounts ``viewer`` may see: the
    visibility rule (:mod:`custreg_admin.rules.visibility`; a proposal like its project's costs)
    for rows that still exist; rows deleted since only for viewers who see all invoices and
    costs (the rule needs the row)."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.entity_type in MONEY_FIELDS and e.entity_id is not None:
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    if not wanted:
        return set()
    if sees_all_invoices(viewer):
        return {(entity, i) for entity, ids in wanted.items() for i in ids}
    visible: set[tuple[str, int]] = set()
    proposals = (
        select(Proposal.id)
        .join(Project, Project.id == Proposal.project_id)
        .join(Customer, Customer.id == Project.customer_id)
    )
    checks = {  # a proposal's money: like its project's costs
        "invoice": (select(Invoice.id), Invoice.id, visible_invoices(viewer)),
        "cost": (select(Cost.id), Cost.id, visible_costs(viewer)),
        "proposal": (proposals, Proposal.id, project_costs_visible(viewer)),
    }
    for entity, (query, id_column, condition) in checks.items():
        ids = sorted(wanted.get(entity, ()))
        if ids:
            found = db.session.scalars(query.where(id_column.in_(ids), condition))
            visible.update((entity, i) for i in found)
    return visible
