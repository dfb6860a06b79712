"""Merging a duplicate customer, first step: the plan (what moves, what cannot, which fields
differ), shown as the preview."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext, lazy_gettext, lazy_pgettext
from ...models import (
    Address,
    Contact,
    Customer,
    EInvoiceAddress,
    Invoice,
)
from ...rules.moves import (
    SHOWN_PER_KIND,
)
from ..labels import ADDRESS_KIND_LABELS
from .lookup import merged_into
from .moves import ProjectCheck, project_checks
from .unit_of_work import (
    _label,
)

# Card fields a merge can take from the duplicate: (field, label, column compared and copied);
# the labels are translated when shown.
MERGE_FIELDS: tuple[tuple[str, Any, str], ...] = (
    ("name", lazy_gettext("Name"), "name"),
    ("business_id", lazy_gettext("Business ID"), "business_id"),
    ("vat_number", lazy_gettext("VAT number"), "vat_number"),
    ("country", lazy_gettext("Country"), "country"),
    ("owner", lazy_gettext("Account owner"), "owner_id"),
    ("industry", lazy_gettext("Industry"), "industry_id"),
    ("invoice_template", lazy_gettext("Invoice template"), "invoice_template_id"),
    ("vat_rate", lazy_gettext("Default invoicing VAT"), "vat_rate_id"),
    # TRANSLATORS: a customer's status (a settings list: Active, Passive, ...)
    ("status", lazy_pgettext("field", "Status"), "status_id"),
    ("website", lazy_gettext("Website"), "website"),
    ("email", lazy_gettext("E-mail"), "email"),
    ("phone", lazy_gettext("Phone"), "phone"),
    ("notes", lazy_gettext("Notes"), "notes"),
)
KEEP, TAKE_DUPLICATE = "keep", "duplicate"


# --- merging duplicates ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    id: int
    label: str


@dataclass(frozen=True)
class FieldDifference:
    """A card field whose values differ; ``default`` is the choice offered first."""

    field: str
    label: Any
    keep_value: str
    duplicate_value: str
    default: str  # KEEP, or TAKE_DUPLICATE when the kept customer's value is empty


@dataclass(frozen=True)
class MergePlan:
    """What merging ``duplicate`` into ``keep`` would do, computed by :func:`plan_merge`."""

    duplicate_id: int
    keep_id: int
    duplicate_label: str
    keep_label: str
    projects: tuple[ProjectCheck, ...]  # move
    blocked_projects: tuple[ProjectCheck, ...]  # stay on the duplicate
    contacts: tuple[PlanItem, ...]  # move
    addresses: tuple[PlanItem, ...]  # move
    addresses_already_there: tuple[PlanItem, ...]  # the kept customer has them; they stay
    einvoice_addresses: tuple[PlanItem, ...]  # move
    einvoice_already_there: tuple[PlanItem, ...]
    segments_added: tuple[PlanItem, ...]
    segments_after: tuple[str, ...]
    invoice_count: int  # invoices stay on the duplicate
    invoice_numbers: tuple[str, ...]  # the newest few, to name them
    differences: tuple[FieldDifference, ...]

    @property
    def token(self) -> str:
        """Fingerprint of the plan: a merge confirmed on a preview refuses a changed plan."""
        content = repr(
            (
                self.duplicate_id,
                self.keep_id,
                [p.id for p in self.projects],
                [p.id for p in self.blocked_projects],
                [c.id for c in self.contacts],
                [a.id for a in self.addresses],
                [e.id for e in self.einvoice_addresses],
                [s.id for s in self.segments_added],
                [(d.field, d.keep_value, d.duplicate_value) for d in self.differences],
            )
        )
        return hashlib.sha256(content.encode()).hexdigest()[:20]

    @property
    def nothing_to_move(self) -> bool:
        return not (
            self.projects
            or self.contacts
            or self.addresses
            or self.einvoice_addresses
            or self.segments_added
        )


def _words(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def address_key(address: Address) -> tuple[str, str, str, str]:
    """Kind, street, postal code and city, normalised: "Karakaari 7." equals "KARAKAARI 7"."""
    postal = re.sub(r"[\s-]+", "", address.postal_code or "").upper()
    return (address.kind or "", _words(address.street), postal, _words(address.city))


def einvoice_key(address: EInvoiceAddress) -> str:
    return re.sub(r"[\s-]+", "", address.address or "").upper()


def _display(customer: Customer, field: str) -> str:
    value = getattr(customer, field)
    if value is None or value == "":
        return ""
    return value.name if field == "owner" else str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return (a or "").strip() == (b or "").strip()
    return a == b


def _validate_pair(duplicate: Customer, keep: Customer) -> None:
    if duplicate is None or keep is None:
        raise DomainError(gettext("Choose the customer to keep."))
    if duplicate.id == keep.id:
        raise DomainError(
            gettext("A customer cannot be merged into itself; choose another customer.")
        )
    if not keep.is_active:
        raise DomainError(
            gettext(
                "%(customer)s is inactivated; reactivate it first or keep another customer.",
                customer=_label(keep),
            )
        )
    already = merged_into(duplicate)
    if already is not None:
        raise DomainError(
            gettext(
                "%(customer)s was already merged into %(other)s.",
                customer=_label(duplicate),
                other=_label(already),
            )
        )


def _plan(session: Session, duplicate: Customer, keep: Customer) -> MergePlan:
    checks = project_checks(duplicate)
    contacts = session.scalars(
        select(Contact)
        .where(Contact.customer_id == duplicate.id)
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    ).all()
    addresses = session.scalars(
        select(Address).where(Address.customer_id.in_((duplicate.id, keep.id))).order_by(Address.id)
    ).all()
    taken = {address_key(a) for a in addresses if a.customer_id == keep.id}
    moving_addresses, staying_addresses = [], []
    for address in (a for a in addresses if a.customer_id == duplicate.id):
        kind = str(ADDRESS_KIND_LABELS.get(address.kind, address.kind))
        item = PlanItem(address.id, f"{kind}: {address}")
        key = address_key(address)
        if key in taken:
            staying_addresses.append(item)
        else:
            taken.add(key)  # two equal addresses on the duplicate: the first one moves
            moving_addresses.append(item)
    einvoices = session.scalars(
        select(EInvoiceAddress)
        .where(EInvoiceAddress.customer_id.in_((duplicate.id, keep.id)))
        .order_by(EInvoiceAddress.id)
    ).all()
    taken_e = {einvoice_key(e) for e in einvoices if e.customer_id == keep.id}
    moving_e, staying_e = [], []
    for item in (e for e in einvoices if e.customer_id == duplicate.id):
        key = einvoice_key(item)
        (staying_e if key in taken_e else moving_e).append(PlanItem(item.id, str(item)))
        taken_e.add(key)
    keep_segments = {s.id for s in keep.segments}
    added = [PlanItem(s.id, str(s)) for s in duplicate.segments if s.id not in keep_segments]
    after = sorted({s.name for s in keep.segments} | {s.name for s in duplicate.segments})
    invoice_count = session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.customer_id == duplicate.id)
    )
    invoice_numbers = session.scalars(
        select(func.coalesce(Invoice.number, gettext("(draft)")))
        .where(Invoice.customer_id == duplicate.id)
        .order_by(Invoice.date.desc(), Invoice.id.desc())
        .limit(SHOWN_PER_KIND)
    ).all()
    differences = []
    for name, label, column in MERGE_FIELDS:
        if _same(getattr(keep, column), getattr(duplicate, column)):
            continue
        keep_value, duplicate_value = _display(keep, name), _display(duplicate, name)
        differences.append(
            FieldDifference(
                field=name,
                label=label,
                keep_value=keep_value,
                duplicate_value=duplicate_value,
                default=TAKE_DUPLICATE if not keep_value else KEEP,
            )
        )
    return MergePlan(
        duplicate_id=duplicate.id,
        keep_id=keep.id,
        duplicate_label=_label(duplicate),
        keep_label=_label(keep),
        projects=tuple(c for c in checks if c.can_move),
        blocked_projects=tuple(c for c in checks if not c.can_move),
        contacts=tuple(PlanItem(c.id, c.full_name) for c in contacts),
        addresses=tuple(moving_addresses),
        addresses_already_there=tuple(staying_addresses),
        einvoice_addresses=tuple(moving_e),
        einvoice_already_there=tuple(staying_e),
        segments_added=tuple(added),
        segments_after=tuple(after),
        invoice_count=invoice_count or 0,
        invoice_numbers=tuple(invoice_numbers),
        differences=tuple(differences),
    )


def plan_merge(duplicate: Customer, keep: Customer) -> MergePlan:
    """Preview of merging ``duplicate`` into ``keep``; changes nothing."""
    _validate_pair(duplicate, keep)
    return _plan(db.session, duplicate, keep)
