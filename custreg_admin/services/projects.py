"""Moving projects between customers, merging duplicate customers, inactivating and reactivating.

The rule (it comes from Severa): **a project may change customer only while no invoices and no
proposals exist for it.** The functions here check it first and refuse with a message that names
what blocks the move ("invoice 10023, proposal P-17"). The same rule guards every other way of
changing a project's customer: the module's sessions refuse it (:mod:`.move_guard`, registered by
``CustReg.init_app``) and so does the database (a trigger, :mod:`custreg_admin.models.constraints`).

Every public function that changes something is one unit of work: it commits on success, and on
any failure it rolls the session back (nothing is half done) and re-raises. Each writes a
:class:`~custreg_admin.models.CustomerEvent` on every customer it changes.

Concurrency. On PostgreSQL the project rows are locked (``SELECT ... FOR UPDATE``) before the
check. Inserting an invoice or a proposal takes a ``KEY SHARE`` lock on its project row (the
foreign key check), which conflicts with ``FOR UPDATE``: a concurrent insert either committed
before our check (and the check sees it) or waits until the move has committed. On SQLite there
are no row locks (SQLAlchemy does not render ``FOR UPDATE`` there) and pysqlite starts the write
transaction only at the first write; instead the move itself is one guarded statement,
``UPDATE ... WHERE id IN (...) AND customer_id = :source AND NOT EXISTS (invoice) AND NOT EXISTS
(proposal)``, which SQLite runs atomically under its database write lock. Its row count is
checked, so an invoice that slipped in between the check and the update makes the whole
operation roll back with a "try again" message. PostgreSQL runs the same guarded statement too.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import exists, func, insert, inspect, literal, select, update
from sqlalchemy.orm import Session, selectinload

from ..context import acting_as
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext, lazy_gettext, lazy_pgettext
from ..models import (
    Address,
    Contact,
    Customer,
    CustomerEvent,
    EInvoiceAddress,
    Invoice,
    Project,
    Proposal,
    customer_segment,
)
from ..models.versioning import advance, advanced_by_statement, next_version
from ..rules.access import ensure_may_change as _ensure_may_change
from ..rules.moves import (
    SHOWN_PER_KIND,
    ProjectMoveBlocked,
    move_blockers,
    move_problem,
    project_names,
)
from . import history
from .customers import find_duplicates, search_condition
from .labels import ADDRESS_KIND_LABELS

SHOWN_NAMES = 10  # project names in a history message; the details keep all ids
DEFAULT_TIMEZONE = "Europe/Helsinki"

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


def _lock_projects(session: Session, condition) -> dict[int, int]:
    """Project id -> customer id as stored, locking the rows (``FOR UPDATE`` on PostgreSQL)."""
    rows = session.execute(
        select(Project.id, Project.customer_id).where(condition).with_for_update()
    )
    return {row.id: row.customer_id for row in rows}


# --- small helpers --------------------------------------------------------------------------


def _label(customer: Customer) -> str:
    return f"{customer.number} {customer.name}"


def _who(user: Any) -> tuple[int | None, str | None]:
    if user is None or not getattr(user, "is_authenticated", True):
        return None, None
    return getattr(user, "id", None), getattr(user, "name", None)


def _local_now() -> datetime:
    name = current_app.config.get("CUSTREG_TIMEZONE") if has_app_context() else None
    return datetime.now(ZoneInfo(name or DEFAULT_TIMEZONE))


def _on_by(user: Any) -> str:
    """ "on 2026-11-27 by Maija Myyjä": the date in ``CUSTREG_TIMEZONE``."""
    _, name = _who(user)
    day = f"{_local_now():%Y-%m-%d}"
    if name:
        return gettext("on %(date)s by %(name)s", date=day, name=name)
    return gettext("on %(date)s", date=day)


def _listing(names: Sequence[str]) -> str:
    quoted = [f'"{name}"' for name in names[:SHOWN_NAMES]]
    if len(names) > SHOWN_NAMES:
        quoted.append(gettext("%(num)s more", num=len(names) - SHOWN_NAMES))
    return ", ".join(quoted)


@contextmanager
def _unit_of_work(user: Any) -> Iterator[Session]:
    """The module's session, committed at the end (rolled back on any error), written as
    ``user`` (``None``: the system) for the access backstop and the history."""
    session = db.session
    try:
        with acting_as(user):
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise


# --- projects of a card ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectCheck:
    """A project of a customer and whether it may move; ``blockers`` is empty when it may."""

    id: int
    name: str
    kind: str
    sales_status: str
    is_closed: bool
    manager: str
    blockers: str = ""

    @property
    def can_move(self) -> bool:
        return not self.blockers


def project_checks(customer: Customer) -> list[ProjectCheck]:
    """The customer's projects and sales cases, each with what (if anything) keeps it there."""
    session = db.session
    projects = session.scalars(
        select(Project)
        .where(Project.customer_id == customer.id)
        .options(selectinload(Project.manager))
        .order_by(Project.kind, Project.is_closed, Project.name, Project.id)
    ).all()
    blocked = move_blockers(session, select(Project.id).where(Project.customer_id == customer.id))
    return [
        ProjectCheck(
            id=p.id,
            name=p.name,
            kind=p.kind,
            sales_status=p.sales_status,
            is_closed=p.is_closed,
            manager=p.manager.name if p.manager else "",
            blockers=blocked.get(p.id, ""),
        )
        for p in projects
    ]


def find_customers(text: str, *, exclude_id: int | None = None, limit: int = 20) -> list[Customer]:
    """Active customers matching the Summary search (name, number, business ID, VAT number)."""
    condition = search_condition(text)
    if condition is None:
        return []
    query = select(Customer).where(condition, Customer.is_active.is_(True))
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    return list(db.session.scalars(query.order_by(Customer.name, Customer.number).limit(limit)))


def likely_duplicates(customer: Customer) -> list[Customer]:
    """Active customers with the same business ID or VAT number, to offer first in a merge."""
    found = find_duplicates(customer.business_id, customer.vat_number, exclude_id=customer.id)
    return [c for c in found if c.is_active]


# --- moving projects ------------------------------------------------------------------------


def _expire_moved(session: Session, ids: Iterable[int], *customers: Customer) -> None:
    """Forget what the session remembers of moved rows after a set-based UPDATE."""
    ids = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Project) and obj.id in ids:
            session.expire(obj, ["customer_id", "customer"])
            advanced_by_statement(obj)
    for customer in customers:
        session.expire(customer, ["projects"])


def _guarded_move(session: Session, source_id: int, target_id: int, ids: Sequence[int]) -> None:
    """``UPDATE custreg_project SET customer_id = :target WHERE id IN (...) AND customer_id =
    :source AND NOT EXISTS (invoice) AND NOT EXISTS (proposal)``; all rows move or none."""
    if not ids:
        return
    result = session.execute(
        update(Project)
        .where(
            Project.id.in_(ids),
            Project.customer_id == source_id,
            ~exists().where(Invoice.project_id == Project.id),
            ~exists().where(Proposal.project_id == Project.id),
        )
        .values(customer_id=target_id, **next_version(Project))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(ids):
        raise DomainError(
            gettext(
                "An invoice or a proposal was just added to one of the projects, or a project "
                "was moved by someone else. Nothing was changed; check the projects and try "
                "again."
            )
        )


def _move(
    session: Session, source: Customer, target: Customer, project_ids: Iterable[int], *, user: Any
) -> dict[int, str]:
    """Check and move; returns id -> name of the moved projects. No history, no commit."""
    ids = sorted({int(i) for i in project_ids})
    _ensure_may_change(user, source, "move projects away from")
    _ensure_may_change(user, target, "move projects onto")
    with session.no_autoflush:  # a form may have set project.customer already: check the DB
        stored = _lock_projects(session, Project.id.in_(ids)) if ids else {}
        problem = move_problem(
            session, source, target, ids, stored=stored, done=gettext("Nothing was moved.")
        )
        if problem is not None:
            raise problem
        names = project_names(session, ids)
        _guarded_move(session, source.id, target.id, ids)
    _expire_moved(session, ids, source, target)
    return names


def _record_move(
    session: Session, source: Customer, target: Customer, names: Mapping[int, str], *, user: Any
) -> None:
    """The move was one set-based UPDATE, which ORM events do not see: tell the history."""
    history.record_move(session, source, target, names)


def change_project_customer(project: Project, target: Customer | None, *, user: Any = None) -> None:
    """Move one project to ``target``; refused while invoices or proposals exist for it.

    The customer it leaves is the one stored in the database, so a caller (a Flask-Admin form,
    say) may already have set ``project.customer`` to ``target`` in the session.
    """
    with _unit_of_work(user) as session:
        with session.no_autoflush:
            stored = _lock_projects(session, Project.id == project.id)
            if project.id not in stored:
                raise DomainError(gettext("That project no longer exists."))
            source = session.get(Customer, stored[project.id])
        names = _move(session, source, target, [project.id], user=user)
        _record_move(session, source, target, names, user=user)


def ensure_project_deletable(project: Project) -> None:
    """A project with invoices or proposals cannot be deleted (they refer to it): refused with
    :class:`DomainError` naming them, before the database would refuse it."""
    blockers = move_blockers(db.session, [project.id]).get(project.id)
    if blockers:
        raise DomainError(
            gettext(
                "%(project)s cannot be deleted: it has %(blockers)s. Close it instead. Nothing "
                "was deleted.",
                project=project.name,
                blockers=blockers,
            )
        )


def check_invoice_project(invoice: Invoice) -> None:
    """An invoice's project, when it has one, is a project of the invoice's customer: refused
    with :class:`DomainError` otherwise (the figures and the move rule count the invoice on
    both)."""
    with db.session.no_autoflush:  # check before the database's trigger sees the row
        project = invoice.project
        customer = invoice.customer
        if project is None or customer is None or project.customer_id == customer.id:
            return
        owner = db.session.get(Customer, project.customer_id)
    raise DomainError(
        gettext(
            "The project %(project)s belongs to %(owner)s, not to %(customer)s: choose one of "
            "%(customer)s's projects, or leave the project empty. Nothing was saved.",
            project=project.name,
            owner=_label(owner) if owner is not None else "?",
            customer=_label(customer),
        )
    )


def apply_customer_change(project: Project, *, user: Any = None) -> bool:
    """For a form that has already set ``project.customer`` (Flask-Admin edit form, inline list
    edit): when that differs from the customer stored in the database, carry the change out
    with :func:`change_project_customer` (check, history, commit). Returns whether it moved.
    """
    session = db.session
    state = inspect(project)
    if state.key is None:  # a new project: nothing to move
        return False
    with session.no_autoflush:
        stored = session.scalar(select(Project.customer_id).where(Project.id == project.id))
        changed = state.attrs.customer.history.added
        target = changed[0] if changed else session.get(Customer, project.customer_id)
    if target is None or stored is None or target.id == stored:
        return False
    change_project_customer(project, target, user=user)
    return True


def move_refusal(
    source: Customer, target: Customer | None, project_ids: Iterable[int]
) -> str | None:
    """Why moving ``project_ids`` from ``source`` to ``target`` would be refused by the rule
    (:func:`custreg_admin.rules.moves.move_problem`), or None: for the review page, which asks
    before the user confirms."""
    problem = move_problem(db.session, source, target, [int(i) for i in project_ids])
    return None if problem is None else str(problem)


def move_projects(
    source: Customer, target: Customer | None, project_ids: Iterable[int], *, user: Any = None
) -> list[str]:
    """Move the chosen projects of ``source`` to ``target``: all of them or none.

    Refused with :class:`ProjectMoveBlocked` naming every chosen project that has invoices or
    proposals. Returns the names of the moved projects.
    """
    with _unit_of_work(user) as session:
        names = _move(session, source, target, project_ids, user=user)
        _record_move(session, source, target, names, user=user)
    return [names[i] for i in sorted(names)]


# --- inactivating ---------------------------------------------------------------------------


def inactivate_customer(customer: Customer, *, user: Any = None) -> None:
    """Inactivate a customer: it leaves the default Summary list, nothing is deleted."""
    with _unit_of_work(user):
        if not customer.is_active:
            raise DomainError(
                gettext(
                    "Customer %(number)s %(name)s is already inactive.",
                    number=customer.number,
                    name=customer.name,
                )
            )
        _ensure_may_change(user, customer, "inactivate")
        customer.is_active = False  # the history's choke point records "inactivated"


def reactivate_customer(customer: Customer, *, user: Any = None) -> None:
    with _unit_of_work(user):
        if customer.is_active:
            raise DomainError(
                gettext(
                    "Customer %(number)s %(name)s is already active.",
                    number=customer.number,
                    name=customer.name,
                )
            )
        _ensure_may_change(user, customer, "reactivate")
        customer.is_active = True  # the history's choke point records "reactivated"


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


# --- history --------------------------------------------------------------------------------


def merged_into(customer: Customer) -> Customer | None:
    """The customer this one was merged into (its newest merge), if any."""
    return db.session.scalar(
        select(Customer)
        .join(CustomerEvent, CustomerEvent.related_customer_id == Customer.id)
        .where(CustomerEvent.customer_id == customer.id, CustomerEvent.kind == "merged_into")
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .limit(1)
    )


def merged_from(customer: Customer) -> list[Customer]:
    """The duplicates merged into this customer (they keep what could not move)."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(
                Customer.id.in_(
                    select(CustomerEvent.related_customer_id).where(
                        CustomerEvent.customer_id == customer.id,
                        CustomerEvent.kind == "merged_from",
                    )
                )
            )
            .order_by(Customer.number)
        )
    )


__all__ = [
    "KEEP",
    "MERGE_FIELDS",
    "TAKE_DUPLICATE",
    "FieldDifference",
    "MergePlan",
    "PlanItem",
    "ProjectCheck",
    "ProjectMoveBlocked",
    "address_key",
    "apply_customer_change",
    "change_project_customer",
    "einvoice_key",
    "find_customers",
    "inactivate_customer",
    "likely_duplicates",
    "merge_customers",
    "merged_from",
    "merged_into",
    "move_projects",
    "plan_merge",
    "project_checks",
    "reactivate_customer",
]
