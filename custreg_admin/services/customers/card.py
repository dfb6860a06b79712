"""A customer card's rules: what blocks deletion, the rows the card lists, e-invoicing addresses
(one default) and the website."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import exists, func, select, true
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload

from ...errors import DomainError, InvalidIdentifier
from ...extensions import db
from ...i18n import gettext, ngettext
from ...models import (
    Customer,
    EInvoiceAddress,
    Invoice,
    Project,
    Proposal,
)
from ...rules import einvoice as einvoice_rule
from ...rules.visibility import visible_invoices
from ...rules.website import InvalidWebsite, link_of, normalise_website


def deletion_blockers(customer_id: int) -> list[str]:
    """What keeps a customer from being deleted: its projects, invoices and proposals."""
    blockers = []
    projects = db.session.scalar(
        select(func.count()).select_from(Project).where(Project.customer_id == customer_id)
    )
    invoices = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.customer_id == customer_id)
    )
    proposals = db.session.scalar(
        select(func.count())
        .select_from(Proposal)
        .where(
            exists().where(Project.id == Proposal.project_id, Project.customer_id == customer_id)
        )
    )
    if projects:
        blockers.append(ngettext("%(num)s project", "%(num)s projects", projects))
    if invoices:
        blockers.append(ngettext("%(num)s invoice", "%(num)s invoices", invoices))
    if proposals:
        blockers.append(ngettext("%(num)s proposal", "%(num)s proposals", proposals))
    return blockers


def ensure_deletable(customer: Customer) -> None:
    blockers = deletion_blockers(customer.id)
    if blockers:
        raise DomainError(
            gettext(
                "Customer %(number)s %(name)s cannot be deleted: it has %(blockers)s. Inactivate "
                "the customer instead.",
                number=customer.number,
                name=customer.name,
                blockers=", ".join(blockers),
            )
        )


_SYSTEM: Any = object()


def stored(customer: Customer) -> Any:
    """The customer as the database has it: a form may have changed ``customer`` already (its
    owner, say), and permissions go by the stored row."""
    with db.session.no_autoflush:
        owner_id, number, name = db.session.execute(
            select(Customer.owner_id, Customer.number, Customer.name).where(
                Customer.id == customer.id
            )
        ).one()
    return SimpleNamespace(id=customer.id, owner_id=owner_id, number=number, name=name)


@dataclass(frozen=True)
class CardRecords:
    """What the customer card lists besides the customer's own rows."""

    projects: list[Project]
    sales_cases: list[Project]
    invoices: list[Invoice]  # the newest, at most ``invoice_rows``
    invoice_count: int


def card_records(
    customer: Customer, *, invoice_rows: int = 20, viewer: Any = _SYSTEM
) -> CardRecords:
    """The card's projects, sales cases and newest invoices, in three statements. Invoices as
    ``viewer`` may see them (:func:`~custreg_admin.rules.visibility.visible_invoices`);
    without a viewer (the system) all of them."""
    visible = true() if viewer is _SYSTEM else visible_invoices(viewer)
    invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, visible)
        .options(selectinload(Invoice.status), selectinload(Invoice.project))
        .order_by(Invoice.date.desc(), Invoice.id.desc())
        .limit(invoice_rows)
    ).all()
    invoice_count = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.customer_id == customer.id, visible)
    )
    work = db.session.scalars(
        select(Project)
        .where(Project.customer_id == customer.id)
        .options(selectinload(Project.manager))
        .order_by(Project.kind, Project.is_closed, Project.name, Project.id)
    ).all()
    return CardRecords(
        projects=[p for p in work if p.kind == "project"],
        sales_cases=[p for p in work if p.kind == "sales_case"],
        invoices=list(invoices),
        invoice_count=invoice_count or 0,
    )


# --------------------------------------------------------------------------- e-invoicing


def einvoice_values(
    address: str | None,
    operator: str | None,
    *,
    country: str | None = None,
    business_id: str | None = None,
) -> tuple[str, str | None]:
    """An e-invoicing address and operator code in standard form, checked by
    :mod:`custreg_admin.rules.einvoice` (the address against the customer's business ID).
    Raises :class:`InvalidIdentifier` naming the field (``address`` or ``operator``)."""
    owner = einvoice_rule.Customer(country=country, business_id=business_id)
    try:
        address = einvoice_rule.normalise_address(address, owner)
    except einvoice_rule.EInvoiceProblem as problem:
        raise InvalidIdentifier("address", str(problem)) from problem
    try:
        operator = einvoice_rule.normalise_operator(operator)
    except einvoice_rule.EInvoiceProblem as problem:
        raise InvalidIdentifier("operator", str(problem)) from problem
    return address, operator


def _stored_default(row: EInvoiceAddress) -> bool:
    """Whether the row was the default as stored (False for a new row)."""
    state = sa_inspect(row)
    if not state.persistent:
        return False
    history = state.attrs.is_default.history
    stored = history.deleted or history.unchanged
    return bool(stored[0]) if stored else False


def keep_one_default(customer: Customer) -> list[EInvoiceAddress]:
    """At most one default e-invoicing address on the customer (its rows in the session, as a
    form left them): a newly ticked default replaces the one stored before. Returns the
    addresses that stopped being the default (for the form to say so)."""
    rows = list(customer.einvoice_addresses)
    flags = einvoice_rule.settle_default([(_stored_default(r), bool(r.is_default)) for r in rows])
    replaced = [row for row, keep in zip(rows, flags, strict=True) if row.is_default and not keep]
    for row, keep in zip(rows, flags, strict=True):
        row.is_default = keep
    return replaced


# --------------------------------------------------------------------------- website


def website_value(value: str | None) -> str | None:
    """The website as stored (an http(s) address; ``https://`` added to a bare domain).
    Raises :class:`InvalidIdentifier` (field ``website``) for anything else."""
    try:
        return normalise_website(value)
    except InvalidWebsite as problem:
        raise InvalidIdentifier("website", str(problem)) from problem


#: the address a card may link to for a stored website (None: not an http(s) address)
website_link = link_of
