"""Merging a duplicate customer into the one kept: one transaction carrying out the plan, and
which card was merged into which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, func, insert, literal, select, update

from ...errors import DomainError
from ...i18n import gettext
from ...models import (
    Address,
    Contact,
    Customer,
    EInvoiceAddress,
    Project,
    customer_segment,
)
from ...models.versioning import advance
from ...rules.access import ensure_may_change as _ensure_may_change
from .. import history
from .merge_plan import (
    KEEP,
    MERGE_FIELDS,
    TAKE_DUPLICATE,
    MergePlan,
    _plan,
    _validate_pair,
)
from .moves import _guarded_move
from .unit_of_work import _lock_projects, _on_by, _unit_of_work


def _choices(plan: MergePlan, field_choices: Mapping[str, str] | None) -> dict[str, str]:
    known = {name for name, _, _ in MERGE_FIELDS}
    given = dict(field_choices or {})
    unknown = sorted(set(given) - known)
    if unknown:
        raise DomainError(
            gettext(
                "Unknown customer field(s) in the merge: %(fields)s.", fields=", ".join(unknown)
            )
        )
    wrong = sorted(f for f, choice in given.items() if choice not in (KEEP, TAKE_DUPLICATE))
    if wrong:
        raise DomainError(
            gettext(
                "Choose the kept or the duplicate's value for: %(fields)s.", fields=", ".join(wrong)
            )
        )
    return {d.field: given.get(d.field, d.default) for d in plan.differences}


# Merge steps: each one set-based where it matters; merge_customers runs them in one transaction.


def _take_fields(session, duplicate, keep, plan, choices) -> dict[str, dict[str, str]]:
    taken = {}
    for difference in plan.differences:
        if choices[difference.field] != TAKE_DUPLICATE:
            continue
        column = next(c for name, _, c in MERGE_FIELDS if name == difference.field)
        setattr(keep, column, getattr(duplicate, column))
        taken[difference.field] = {
            "before": difference.keep_value,
            "after": difference.duplicate_value,
        }
    session.flush()
    return taken


def _move_merge_projects(session, duplicate, keep, plan) -> None:
    _guarded_move(session, duplicate.id, keep.id, [p.id for p in plan.projects])


def _move_rows(session, model, rows, duplicate, keep) -> None:
    """Re-point rows of a customer's child table (contacts, addresses) to the kept customer."""
    ids = [row.id for row in rows]
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids), model.customer_id == duplicate.id)
            .values(customer_id=keep.id)
            .execution_options(synchronize_session=False)
        )


def _move_contacts(session, duplicate, keep, plan) -> None:
    _move_rows(session, Contact, plan.contacts, duplicate, keep)


def _move_addresses(session, duplicate, keep, plan) -> None:
    _move_rows(session, Address, plan.addresses, duplicate, keep)


def _move_einvoice_addresses(session, duplicate, keep, plan) -> None:
    ids = [e.id for e in plan.einvoice_addresses]
    if not ids:
        return
    keep_has_default = session.scalar(
        select(
            exists().where(
                EInvoiceAddress.customer_id == keep.id, EInvoiceAddress.is_default.is_(True)
            )
        )
    )
    values: dict[str, Any] = {"customer_id": keep.id}
    if keep_has_default:  # the kept customer's default stays the default
        values["is_default"] = False
    session.execute(
        update(EInvoiceAddress)
        .where(EInvoiceAddress.id.in_(ids), EInvoiceAddress.customer_id == duplicate.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not keep_has_default:  # at most one default: the lowest id of the moved defaults
        first_default = session.scalar(
            select(func.min(EInvoiceAddress.id)).where(
                EInvoiceAddress.customer_id == keep.id, EInvoiceAddress.is_default.is_(True)
            )
        )
        if first_default is not None:
            session.execute(
                update(EInvoiceAddress)
                .where(
                    EInvoiceAddress.customer_id == keep.id,
                    EInvoiceAddress.id != first_default,
                    EInvoiceAddress.is_default.is_(True),
                )
                .values(is_default=False)
                .execution_options(synchronize_session=False)
            )


def _add_segments(session, duplicate, keep, plan) -> None:
    ids = [s.id for s in plan.segments_added]
    if ids:
        already = select(customer_segment.c.segment_id).where(
            customer_segment.c.customer_id == keep.id
        )
        session.execute(
            insert(customer_segment).from_select(
                ["customer_id", "segment_id"],
                select(literal(keep.id), customer_segment.c.segment_id).where(
                    customer_segment.c.customer_id == duplicate.id,
                    customer_segment.c.segment_id.in_(ids),
                    customer_segment.c.segment_id.not_in(already),
                ),
            )
        )


def merge_customers(
    duplicate: Customer,
    keep: Customer,
    field_choices: Mapping[str, str] | None = None,
    *,
    user: Any = None,
    plan_token: str | None = None,
) -> MergePlan:
    """Merge ``duplicate`` into ``keep`` in one transaction and inactivate ``duplicate``.

    ``field_choices`` maps a field of :data:`MERGE_FIELDS` to ``"keep"`` or ``"duplicate"``;
    a differing field left out gets its :attr:`FieldDifference.default`. Projects without
    invoices or proposals, contacts, addresses and e-invoicing addresses the kept customer lacks
    move; market segments are united; projects with invoices or proposals and all invoices stay
    on the duplicate, which gets a note pointing to the kept customer. Given the ``plan_token``
    of a preview, the merge is refused when the plan has changed since. Returns the plan that
    was carried out.
    """
    with _unit_of_work(user) as session:
        if duplicate is None or keep is None:
            raise DomainError(gettext("Choose the customer to keep."))
        for customer in sorted({duplicate, keep}, key=lambda c: c.id):  # one order: no deadlock
            session.refresh(customer, with_for_update=True)
        _validate_pair(duplicate, keep)
        _ensure_may_change(user, duplicate, "merge")
        _ensure_may_change(user, keep, "merge into")
        _lock_projects(session, Project.customer_id == duplicate.id)
        plan = _plan(session, duplicate, keep)
        if plan_token is not None and plan_token != plan.token:
            raise DomainError(
                gettext(
                    "The customers changed after the preview was made. Nothing was merged; "
                    "check the new preview and confirm again."
                )
            )
        choices = _choices(plan, field_choices)
        merge = {
            "duplicate_id": plan.duplicate_id,
            "keep_id": plan.keep_id,
            "projects_moved": [p.id for p in plan.projects],
            "projects_stayed": [
                {"id": p.id, "name": p.name, "blockers": p.blockers} for p in plan.blocked_projects
            ],
            "contacts_moved": [c.id for c in plan.contacts],
            "addresses_moved": [a.id for a in plan.addresses],
            "addresses_already_there": [a.id for a in plan.addresses_already_there],
            "einvoice_addresses_moved": [e.id for e in plan.einvoice_addresses],
            "segments_added": [s.label for s in plan.segments_added],
            "invoices_stayed": plan.invoice_count,
        }
        pair = {"merge": merge, "from": plan.duplicate_label, "to": plan.keep_label}
        # The kept customer's entry: the fields it takes (written when they are flushed), or
        # the merge alone; the duplicate's: inactivated, with the note below.
        history.note(keep, "merged_from", related_customer_id=plan.duplicate_id, **pair)
        _take_fields(session, duplicate, keep, plan, choices)
        for step in (  # looked up at call time, so a test can make one fail
            _move_merge_projects,
            _move_contacts,
            _move_addresses,
            _move_einvoice_addresses,
            _add_segments,
        ):
            step(session, duplicate, keep, plan)
        session.expire_all()  # set-based statements changed rows the session had loaded
        advance(keep)  # its projects, contacts and addresses changed: forms opened before are stale

        history.note(duplicate, "merged_into", related_customer_id=plan.keep_id, **pair)
        note = gettext(
            "Merged into %(customer)s %(on_by)s.", customer=plan.keep_label, on_by=_on_by(user)
        )
        duplicate.is_active = False
        duplicate.notes = f"{note}\n\n{duplicate.notes}" if duplicate.notes else note
    return plan
