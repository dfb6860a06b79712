"""Undoing an applied import, like a mass update's undo: one transaction; the updated fields
restored where they still hold the imported value; the contacts, addresses, e-invoicing
addresses and segment links the import added removed where untouched since; the customers it
created removed where nothing was added to or changed on them since. What cannot be undone is
named (:attr:`ImportBatch.undo_report`) and left as it is.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext
from ...models import (
    Address,
    Contact,
    Customer,
    CustomerEvent,
    EInvoiceAddress,
    ImportBatch,
    ImportChange,
    customer_segment,
)
from ...models.history import IMPORT_KINDS, utcnow
from ...rules import access
from .. import history
from ..transactions import all_or_nothing

log = logging.getLogger(__name__)
_customer = Customer.__table__
_PARTS = {"contact": Contact, "address": Address, "einvoice": EInvoiceAddress}


def _later_events(batch: ImportBatch, customer_ids: list[int]) -> dict[int, set[tuple]]:
    """(entity, id) of what changed on each customer after the import, by anyone."""
    found: dict[int, set[tuple]] = defaultdict(set)
    for start in range(0, len(customer_ids), 1000):
        chunk = customer_ids[start : start + 1000]
        rows = db.session.execute(
            select(
                CustomerEvent.customer_id, CustomerEvent.entity_type, CustomerEvent.entity_id
            ).where(
                CustomerEvent.customer_id.in_(chunk),
                CustomerEvent.at >= batch.at,
                CustomerEvent.kind.not_in(IMPORT_KINDS),
            )
        )
        for customer_id, entity, entity_id in rows:
            found[customer_id].add((entity, entity_id))
    return found


def undo(user: Any, batch_id: int) -> ImportBatch:
    with all_or_nothing(
        user,
        "undo of a customer import",
        lambda _error: DomainError(
            gettext("The undo failed in the database; nothing was changed. Try again.")
        ),
    ) as session:
        access.ensure(user, "edit", ImportBatch)
        batch = session.get(ImportBatch, batch_id, with_for_update=True)
        if batch is None:
            raise DomainError(gettext("There is no import #%(id)s.", id=batch_id))
        if batch.undone_at is not None:
            raise DomainError(gettext("Import #%(id)s has already been undone.", id=batch_id))
        report = _undo(session, batch, user)
        batch.undone_at = utcnow()
        batch.undone_by_id = getattr(user, "id", None)
        batch.undone_by_name = getattr(user, "name", None)
        batch.undo_report = report
    return batch


def _undo(session, batch: ImportBatch, user: Any) -> list[dict[str, Any]]:
    changes = list(session.scalars(select(ImportChange).where(ImportChange.batch_id == batch.id)))
    ids = [c.customer_id for c in changes if c.customer_id is not None]
    if ids:
        session.execute(
            select(_customer.c.id).where(_customer.c.id.in_(ids)).with_for_update()
        ).all()
    later = _later_events(batch, ids)
    report: list[dict[str, Any]] = []
    remove_customers: list[int] = []
    remove_parts: dict[str, list[int]] = defaultdict(list)
    remove_links: list[dict[str, int]] = []
    restores: list[tuple[int, dict[str, Any]]] = []
    entries = []
    for change in changes:
        customer_id = change.customer_id
        if customer_id is None:
            report.append(_skip(change, gettext("The customer has been deleted since.")))
            continue
        changed_since = later.get(customer_id, set())
        if change.created:
            if changed_since:
                report.append(_skip(change, gettext("Changed or added to since the import; kept.")))
            else:
                remove_customers.append(customer_id)
            continue
        restored = _restorable(session, change, changed_since, report)
        if restored:
            restores.append((customer_id, {k: change.before[k] for k in restored}))
        for kind, row_ids in (change.added or {}).items():
            if kind == "segment":
                remove_links += [{"c": customer_id, "s": s} for s in row_ids]
                continue
            for row_id in row_ids:
                if (kind, row_id) in changed_since:
                    report.append(
                        _skip(
                            change,
                            gettext("A %(what)s it added was changed since; kept.", what=kind),
                        )
                    )
                else:
                    remove_parts[kind].append(row_id)
        shown = {k: [v, change.before.get(k)] for k, v in restored.items()}
        details = {"label": change.label, "file": batch.file_name, "batch": batch.id}
        entries.append((customer_id, "import_undone", {**details, "changes": shown}))
    _apply_undo(session, restores, remove_parts, remove_links, remove_customers)
    history.record_import(session, entries)
    return report


def _skip(change: ImportChange, reason: str) -> dict[str, Any]:
    return {"customer_id": change.customer_id, "label": change.label, "reason": reason}


def _restorable(session, change: ImportChange, changed_since: set, report: list) -> dict[str, Any]:
    """The fields still holding the imported value: field -> the imported value (to restore
    ``before``)."""
    if not change.before:
        return {}
    columns = [_customer.c[k] for k in change.before]
    current = session.execute(select(*columns).where(_customer.c.id == change.customer_id)).first()
    restored = {}
    for key, now in zip(change.before, current or (), strict=False):
        if now == change.after.get(key):
            restored[key] = now
        else:
            report.append(
                _skip(
                    change,
                    gettext("%(field)s was changed since; kept.", field=key.removesuffix("_id")),
                )
            )
    return restored


def _apply_undo(session, restores, remove_parts, remove_links, remove_customers) -> None:
    for customer_id, values in restores:
        session.execute(
            update(_customer)
            .where(_customer.c.id == customer_id)
            .values({**values, "version": _customer.c.version + 1, "updated_at": func.now()})
        )
    for kind, row_ids in remove_parts.items():
        table = _PARTS[kind].__table__
        for start in range(0, len(row_ids), 1000):
            session.execute(delete(table).where(table.c.id.in_(row_ids[start : start + 1000])))
    if remove_links:
        session.connection().execute(
            delete(customer_segment).where(
                customer_segment.c.customer_id == bindparam("c"),
                customer_segment.c.segment_id == bindparam("s"),
            ),
            remove_links,
        )
    for start in range(0, len(remove_customers), 1000):
        chunk = remove_customers[start : start + 1000]
        session.execute(delete(_customer).where(_customer.c.id.in_(chunk)))


def recent_batches(limit: int = 50) -> list[ImportBatch]:
    """The newest imports, for the import page."""
    return list(
        db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit))
    )


def batch_changes(batch_id: int, limit: int = 500) -> list[ImportChange]:
    """What an import changed, in order (the batch page shows the first ``limit``)."""
    return list(
        db.session.scalars(
            select(ImportChange)
            .where(ImportChange.batch_id == batch_id)
            .order_by(ImportChange.id)
            .limit(limit)
        )
    )
