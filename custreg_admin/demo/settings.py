"""The demo's settings rows (few, through the ORM: users, industries, market segments) and the
summary of one run."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Customer,
    CustomerStatus,
    Industry,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    User,
    VatRate,
)
from ..models.user import hash_password
from ..services.setup import (
    DEFAULT_CUSTOMER_STATUSES,
    DEFAULT_INVOICE_STATUSES,
    DEFAULT_INVOICE_TEMPLATES,
    DEFAULT_VAT_RATES,
    seed_defaults,
    seeded_ids,
    seeded_name,
)
from .words import INDUSTRIES, MANAGERS, SEGMENT_WEIGHTS, SEGMENTS, TRANSLITERATION, USERS

DEMO_PASSWORD = "demo-password"
DEMO_EMAIL_DOMAIN = "demo.custreg.example"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_EMAIL_DOMAIN}"
DEMO_ADMIN_NAME = "Demo Administrator"


@dataclass
class DemoSummary:
    """What one :func:`generate` run created."""

    admin_email: str = DEMO_ADMIN_EMAIL
    seed: int = 42
    first_number: int | None = None
    last_number: int | None = None
    customers: int = 0
    inactivated: int = 0
    addresses: int = 0
    einvoice_addresses: int = 0
    contacts: int = 0
    segment_links: int = 0
    projects: int = 0
    sales_cases: int = 0
    internal_projects: int = 0
    proposals: int = 0
    invoices: int = 0
    costs: int = 0
    users: int = 0
    industries: int = 0
    market_segments: int = 0
    default_settings: int = 0
    seconds: float = 0.0
    by_role: dict[str, int] = field(default_factory=dict)
    #: Seconds per phase of the bulk path (:mod:`custreg_admin.demo.bulk`); empty otherwise.
    phases: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        numbers = f" (numbers {self.first_number}-{self.last_number})" if self.customers else ""
        roles = ", ".join(f"{count} {role}" for role, count in self.by_role.items())
        lines = [
            f"Demo data (seed {self.seed}) created in {self.seconds:.1f} s:",
            f"  {self.customers:,} customers{numbers}, {self.inactivated:,} of them inactivated",
            f"  {self.addresses:,} addresses, {self.einvoice_addresses:,} e-invoicing addresses, "
            f"{self.contacts:,} contacts, {self.segment_links:,} market segment links",
            f"  {self.projects:,} projects and sales cases ({self.sales_cases:,} sales cases, "
            f"{self.internal_projects:,} internal), {self.proposals:,} proposals",
            f"  {self.invoices:,} invoices, {self.costs:,} costs",
            f"  {self.users} new users ({roles or 'all existed'}), {self.industries} new "
            f"industries, {self.market_segments} new market segments, "
            f"{self.default_settings} new default settings",
        ]
        if self.phases:
            lines.append(
                "  bulk load phases: "
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
            )
        return "\n".join(lines)


def has_customers() -> bool:
    """Whether the database has any customer at all."""
    return db.session.scalar(select(Customer.id).limit(1)) is not None


def email_part(text_: str) -> str:
    return text_.lower().translate(TRANSLITERATION)


def _user_email(first: str, last: str) -> str:
    return f"{email_part(first)}.{email_part(last)}@{DEMO_EMAIL_DOMAIN}"


def _ensure_users(customers: int, summary: DemoSummary) -> tuple[list[int], list[int]]:
    """The demo users (made when missing): (ids of managers and users, weights as owners).

    One admin, 2-6 managers, 5-40 users depending on the size; the first user may view all
    invoices. Existing users with the same e-mail are reused as they are.
    """
    managers = MANAGERS[: max(2, min(len(MANAGERS), 2 + customers // 10_000))]
    users = USERS[: max(5, min(len(USERS), 5 + customers // 2_500))]
    wanted = [(DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, "admin", False)]
    wanted += [(_user_email(f, s), f"{f} {s}", "manager", False) for f, s in managers]
    wanted += [(_user_email(f, s), f"{f} {s}", "user", i == 0) for i, (f, s) in enumerate(users)]
    emails = [email for email, *_ in wanted]
    existing = {
        user.email.lower(): user
        for user in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))
    }
    password_hash = None
    by_email = {}
    for email, name, role, all_invoices in wanted:
        user = existing.get(email)
        if user is None:
            if password_hash is None:
                password_hash = hash_password(DEMO_PASSWORD)
            user = User(
                email=email,
                name=name,
                role=role,
                can_view_all_invoices=all_invoices,
                is_active=True,
                password_hash=password_hash,
            )
            db.session.add(user)
            summary.users += 1
            summary.by_role[role] = summary.by_role.get(role, 0) + 1
        by_email[email] = user
    db.session.flush()
    ids, weights = [], []
    for email, _name, role, _all in wanted:
        ids.append(by_email[email].id)
        weights.append({"admin": 0.2, "manager": 1.0, "user": 3.0}[role])
    return ids, weights


def _ensure_industries(summary: DemoSummary) -> list[int]:
    existing = {i.name: i for i in db.session.scalars(select(Industry))}
    rows = []
    for code, name, *_ in INDUSTRIES:
        industry = existing.get(name)
        if industry is None:
            industry = Industry(name=name, code=code)
            db.session.add(industry)
            summary.industries += 1
        rows.append(industry)
    db.session.flush()
    return [industry.id for industry in rows]


def _ensure_segments(summary: DemoSummary) -> tuple[list[int], list[float]]:
    existing = {(s.name, s.parent_id): s for s in db.session.scalars(select(MarketSegment))}

    def get(name: str, parent_id: int | None) -> MarketSegment:
        segment = existing.get((name, parent_id))
        if segment is None:
            segment = MarketSegment(name=name, parent_id=parent_id)
            db.session.add(segment)
            db.session.flush()
            existing[(name, parent_id)] = segment
            summary.market_segments += 1
        return segment

    ids, weights = [], []
    for parent_name, children in SEGMENTS:
        parent = get(parent_name, None)
        ids.append(parent.id)
        weights.append(SEGMENT_WEIGHTS[parent_name])
        for child in children:
            ids.append(get(child, parent.id).id)
            weights.append(SEGMENT_WEIGHTS[child])
    return ids, weights


@dataclass
class Refs:
    """Ids of the settings rows the generated rows point to."""

    owners: list[int]
    owner_weights: list[float]
    industries: list[int]
    segments: list[int]
    segment_weights: list[float]
    active: int | None
    passive: int | None
    invoice_status: dict[str, int]
    vat: dict[tuple[str, str], int]
    templates: dict[str, int]


def settings_refs(customers: int, summary: DemoSummary) -> Refs:
    summary.default_settings = seed_defaults()
    owners, owner_weights = _ensure_users(customers, summary)
    industries = _ensure_industries(summary)
    segments, segment_weights = _ensure_segments(summary)
    db.session.commit()
    # the seeded rows by their English names (seeded in the installation's language)
    statuses = seeded_ids(CustomerStatus, DEFAULT_CUSTOMER_STATUSES)
    invoice_statuses = seeded_ids(InvoiceStatus, [name for name, _ in DEFAULT_INVOICE_STATUSES])
    missing = {"Draft", "Approved", "Sent", "Paid", "Credited"} - set(invoice_statuses)
    if missing:
        raise RuntimeError(f"Invoice statuses missing: {', '.join(sorted(missing))}.")
    return Refs(
        owners=owners,
        owner_weights=owner_weights,
        industries=industries,
        segments=segments,
        segment_weights=segment_weights,
        active=statuses.get("Active"),
        passive=statuses.get("Passive"),
        invoice_status=invoice_statuses,
        vat=_seeded_vat_rates(),
        templates=seeded_ids(InvoiceTemplate, [name for name, _ in DEFAULT_INVOICE_TEMPLATES]),
    )


def _seeded_vat_rates() -> dict[tuple[str, str], int]:
    """The seeded VAT rates' ids by (country, English name)."""
    rows = {(v.country, v.name): v.id for v in db.session.scalars(select(VatRate))}
    found = {}
    for name, _, country in DEFAULT_VAT_RATES:
        row = rows.get((country, seeded_name(name))) or rows.get((country, name))
        if row is not None:
            found[(country, name)] = row
    return found
