"""Applying a reviewed import: one transaction, set-based statements, the access matrix
asked, the history written through its choke point (:func:`history.record_import`) as
"imported from <file> by <user>", and a batch that :mod:`.undo` can take back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from ...errors import DomainError
from ...i18n import gettext
from ...models import (
    Address,
    Contact,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    ImportBatch,
    ImportChange,
    Industry,
    MarketSegment,
    customer_segment,
)
from ...rules import access
from .. import history, kpi_viewers
from ..transactions import all_or_nothing
from .validation import Plan, Review, has_work

log = logging.getLogger(__name__)
#: plans applied per statement batch
APPLY_BATCH = 1000
_customer = Customer.__table__
_SETTING_MODELS = {"industry": Industry, "segment": MarketSegment, "status": CustomerStatus}
CUSTOMER_INSERT_COLUMNS = (
    "name", "business_id", "vat_number", "country", "owner_id", "industry_id", "status_id",
    "invoice_template_id", "vat_rate_id", "website", "email", "phone", "notes",
)  # fmt: skip


class ImportRefused(DomainError):
    """The import cannot be applied as reviewed."""


def _create_settings(session, new_settings: dict[str, Any]) -> dict[tuple[str, str], int]:
    """The new settings values the review listed (through the ORM: the access backstop and the
    settings' own rules see them)."""
    created: dict[tuple[str, str], int] = {}
    for kind in sorted(new_settings):
        for name in sorted(new_settings[kind]):
            row = _SETTING_MODELS[kind](name=name)
            session.add(row)
            session.flush()
            created[kind, name] = row.id
    return created


def _resolved(value: Any, created: dict) -> Any:
    return created[value] if isinstance(value, tuple) else value


def _check_access(user: Any, session, updates: list[Plan], creates: bool) -> None:
    if creates:
        access.ensure(user, "create", Customer)
    if updates:
        access.ensure(user, "edit", Customer)
        ids = [p.existing_id for p in updates]
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            allowed = session.scalar(
                select(func.count())
                .select_from(_customer)
                .where(_customer.c.id.in_(chunk), access.changeable_rows(user, Customer))
            )
            if allowed != len(chunk):
                raise access.PermissionDenied(
                    gettext("You may not change some of the customers this import updates.")
                )


def _insert_customers(
    session,
    plans: list[Plan],
    created: dict,
    default_country: str,
    taken: set[int],
    next_number: int,
) -> int:
    """Insert the new customers; the next free number (``taken``: the numbers the file gives)."""
    rows = []
    for plan in plans:
        number = plan.values.get("number")
        if not number:
            while next_number in taken:
                next_number += 1
            number = next_number
            taken.add(number)
            plan.values["number"] = number
        row = {c: _resolved(plan.values.get(c), created) for c in CUSTOMER_INSERT_COLUMNS}
        row.update(number=number, is_active=True, version=1)
        row["country"] = row["country"] or default_country
        rows.append(row)
    ids = session.execute(
        insert(_customer).returning(_customer.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    for plan, customer_id in zip(plans, ids, strict=True):
        plan.existing_id = customer_id
        plan.label = f"{plan.values['number']} {plan.values.get('name', '')}"
    return next_number


def _update_customers(session, plans: list[Plan], created: dict) -> None:
    groups: dict[tuple[str, ...], list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.values:
            groups[tuple(sorted(plan.values))].append(plan)
    for columns, members in groups.items():
        statement = (
            update(_customer)
            .where(_customer.c.id == bindparam("b_id"))
            .values(
                {
                    **{c: bindparam(f"b_{c}") for c in columns},
                    "version": _customer.c.version + 1,
                    "updated_at": func.now(),
                }
            )
        )
        params = [
            {"b_id": p.existing_id, **{f"b_{c}": _resolved(p.values[c], created) for c in columns}}
            for p in members
        ]
        session.connection().execute(statement, params)
        if "owner_id" in columns:  # the KPI rows per viewer follow the owner
            kpi_viewers.move_owners(session, [p.existing_id for p in members])


def _insert_parts(session, plans: list[Plan], created: dict) -> dict[int, dict[str, list[int]]]:
    """Contacts, addresses, e-invoicing addresses and segment links; the ids each got."""
    added: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for kind, model, attr in (
        ("contact", Contact, "contacts"),
        ("address", Address, "addresses"),
        ("einvoice", EInvoiceAddress, "einvoices"),
    ):
        owners, rows = [], []
        for plan in plans:
            for part in getattr(plan, attr):
                row = {"customer_id": plan.existing_id, **part}
                if kind == "contact":
                    row["is_active"] = True
                if kind == "einvoice":
                    row["is_default"] = False
                owners.append(plan.existing_id)
                rows.append(row)
        if kind == "einvoice":
            _first_is_default(session, rows)
        if rows:
            table = model.__table__
            ids = session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
            ).scalars()
            for customer_id, row_id in zip(owners, ids, strict=True):
                added[customer_id][kind].append(row_id)
    links = [
        {"customer_id": p.existing_id, "segment_id": _resolved(s, created)}
        for p in plans
        for s in p.segments
    ]
    if links:
        session.execute(insert(customer_segment), links)
        for link in links:
            added[link["customer_id"]]["segment"].append(link["segment_id"])
    return added


def _first_is_default(session, rows: list[dict[str, Any]]) -> None:
    """A customer's first e-invoicing address is its default when it has none yet."""
    owners = {r["customer_id"] for r in rows}
    with_default = set(
        session.scalars(
            select(EInvoiceAddress.customer_id).where(
                EInvoiceAddress.customer_id.in_(owners), EInvoiceAddress.is_default.is_(True)
            )
        )
    ) if owners else set()  # fmt: skip
    for row in rows:
        if row["customer_id"] not in with_default:
            row["is_default"] = True
            with_default.add(row["customer_id"])


def apply(user: Any, review: Review, *, file_name: str, default_country: str = "FI") -> ImportBatch:
    """Apply the reviewed rows in one transaction; returns the batch. Refused when rows have
    errors and the review was not told to skip them."""
    refuse_errors(review.error_rows, review.options.skip_errors)
    plans = [p for p in review.plans if not p.error]
    taken = {p.values["number"] for p in plans if p.existing_id is None and p.values.get("number")}
    return apply_plans(
        user,
        lambda: (plans[i : i + APPLY_BATCH] for i in range(0, len(plans), APPLY_BATCH)),
        review.new_settings,
        file_name=file_name,
        skipped=sum(1 for r in review.rows if r.action in ("skip", "error")),
        taken=taken,
        default_country=default_country,
    )


def refuse_errors(error_rows: int, skip_errors: bool) -> None:
    if error_rows and not skip_errors:
        raise ImportRefused(
            gettext(
                "%(num)s rows have errors: fix them, or choose to skip the rows with errors.",
                num=error_rows,
            )
        )


def apply_plans(
    user: Any,
    batches: Callable[[], Iterable[list[Plan]]],
    new_settings: dict[str, Any],
    *,
    file_name: str,
    skipped: int,
    taken: set[int],
    default_country: str = "FI",
) -> ImportBatch:
    """Apply the plans (none of them in error), given in batches, in one transaction: each
    batch's customers inserted or updated and its parts inserted set-based."""
    user_name = getattr(user, "name", None) if user is not None else None
    with all_or_nothing(
        user,
        "customer import",
        lambda error: ImportRefused(
            gettext(
                "The import failed in the database; nothing was saved. (%(error)s)",
                error=type(error).__name__,
            )
        ),
    ) as session:
        access.ensure(user, "create", ImportBatch)
        batch = ImportBatch(
            user_id=getattr(user, "id", None), user_name=user_name, file_name=file_name[:255]
        )
        session.add(batch)
        session.flush()
        created = _create_settings(session, new_settings)
        next_number = max(session.scalar(select(func.max(_customer.c.number))) or 1000, 1000) + 1
        batch.created_count = batch.updated_count = 0
        for plans in batches():
            creates = [p for p in plans if p.existing_id is None]
            updates = [p for p in plans if p.existing_id is not None and has_work(p)]
            _check_access(user, session, updates, bool(creates))
            if updates:
                session.execute(
                    select(_customer.c.id)
                    .where(_customer.c.id.in_([p.existing_id for p in updates]))
                    .with_for_update()
                ).all()
            _update_customers(session, updates, created)
            if creates:
                next_number = _insert_customers(
                    session, creates, created, default_country, taken, next_number
                )
            added = _insert_parts(session, creates + updates, created)
            _record(session, batch, creates, updates, added, created, user_name)
            batch.created_count += len(creates)
            batch.updated_count += len(updates)
        batch.skipped_count = skipped
        settings: dict[str, list[str]] = defaultdict(list)
        for kind, name in created:
            settings[kind].append(name)
        batch.settings_created = dict(settings)
    return batch


def _record(session, batch, creates, updates, added, created, user_name) -> None:
    changes, entries = [], []
    for is_new, plan in [(True, p) for p in creates] + [(False, p) for p in updates]:
        after = {k: _resolved(v, created) for k, v in plan.values.items()}
        parts = {k: list(v) for k, v in added.get(plan.existing_id, {}).items()}
        changes.append(
            {
                "batch_id": batch.id,
                "customer_id": plan.existing_id,
                "label": plan.label[:320],
                "created": is_new,
                "before": {} if is_new else dict(plan.before),
                "after": after,
                "added": parts,
            }
        )
        shown = plan.shown
        counts = {k: len(v) for k, v in parts.items()}
        entries.append(
            (
                plan.existing_id,
                "imported",
                {"label": plan.label, "file": batch.file_name, "batch": batch.id,
                 "user": user_name, "created": is_new, "changes": shown, "added": counts},
            )
        )  # fmt: skip
    if changes:
        session.execute(insert(ImportChange.__table__), changes)
    history.record_import(session, entries)
