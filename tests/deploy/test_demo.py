"""Demo data: deterministic, valid identifiers, every status present, bulk-safe ids."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, select
from sqlalchemy.orm import aliased

from custreg_admin import demo
from custreg_admin.demo import loading as demo_loading
from custreg_admin.extensions import db
from custreg_admin.models import (
    ADDRESS_KINDS,
    PROJECT_KINDS,
    SALES_STATUSES,
    Address,
    Contact,
    Cost,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    InvoiceStatus,
    MarketSegment,
    Project,
    Proposal,
    User,
    customer_segment,
)
from custreg_admin.services.business_ids import normalise_identifiers
from custreg_admin.services.customers import next_customer_number

TODAY = date(2025, 6, 16)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _wipe() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()


def _fingerprint() -> str:
    """A digest of the generated data that leaves out database ids."""
    owner, manager = aliased(User), aliased(User)
    parts: list[object] = []
    parts += db.session.execute(
        select(
            Customer.number, Customer.name, Customer.business_id, Customer.vat_number,
            Customer.country, owner.email, Industry.code, CustomerStatus.name, Customer.is_active,
            Customer.website, Customer.email, Customer.phone, Customer.notes,
            Customer.registry_source, Customer.registry_fetched_at, Customer.created_at,
        )
        .outerjoin(owner, owner.id == Customer.owner_id)
        .outerjoin(Industry, Industry.id == Customer.industry_id)
        .outerjoin(CustomerStatus, CustomerStatus.id == Customer.status_id)
        .order_by(Customer.number)
    ).all()  # fmt: skip
    parts += db.session.execute(
        select(Customer.number, Address.kind, Address.street, Address.postal_code, Address.city)
        .join(Address)
        .order_by(Customer.number, Address.kind, Address.street)
    ).all()
    parts += db.session.execute(
        select(Customer.number, Contact.first_name, Contact.last_name, Contact.email)
        .join(Contact)
        .order_by(Customer.number, Contact.last_name, Contact.first_name, Contact.email)
    ).all()
    parts += db.session.execute(
        select(Customer.number, MarketSegment.name)
        .join(customer_segment, customer_segment.c.customer_id == Customer.id)
        .join(MarketSegment, MarketSegment.id == customer_segment.c.segment_id)
        .order_by(Customer.number, MarketSegment.name)
    ).all()
    parts += db.session.execute(
        select(
            Customer.number, Project.name, Project.kind, Project.sales_status, Project.is_closed,
            Project.is_internal, manager.email,
            select(func.count()).where(Proposal.project_id == Project.id).scalar_subquery(),
            select(func.sum(Cost.amount)).where(Cost.project_id == Project.id).scalar_subquery(),
        )
        .join(Project, Project.customer_id == Customer.id)
        .outerjoin(manager, manager.id == Project.manager_id)
        .order_by(Customer.number, Project.name, Project.kind, Project.sales_status)
    ).all()  # fmt: skip
    parts += db.session.execute(
        select(Customer.number, Invoice.number, Invoice.date, InvoiceStatus.name, Invoice.total)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .join(InvoiceStatus)
        .order_by(Customer.number, Invoice.date, Invoice.number, Invoice.total)
    ).all()
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_counts_match_the_summary(ctx):
    calls: list[int] = []
    summary = demo.generate(120, seed=7, today=TODAY, progress=calls.append, chunk_size=50)
    assert calls == [50, 50, 20]
    assert summary.customers == _count(Customer) == 120
    assert (summary.first_number, summary.last_number) == (1001, 1120)
    # The default ratios are exact: 3 projects, 10 invoices, 10 costs per customer.
    assert summary.projects == _count(Project) == 360
    assert summary.invoices == _count(Invoice) == 1200
    assert summary.costs == _count(Cost) == 1200
    assert summary.addresses == _count(Address)
    assert summary.einvoice_addresses == _count(EInvoiceAddress)
    assert summary.contacts == _count(Contact)
    assert summary.proposals == _count(Proposal)
    assert summary.segment_links == _count(customer_segment)
    assert summary.users == _count(User)
    assert summary.industries == _count(Industry)
    assert summary.market_segments == _count(MarketSegment)
    assert summary.inactivated == db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.is_active.is_(False))
    )
    assert summary.sales_cases == db.session.scalar(
        select(func.count()).select_from(Project).where(Project.kind == "sales_case")
    )
    assert summary.internal_projects == db.session.scalar(
        select(func.count()).select_from(Project).where(Project.is_internal.is_(True))
    )
    text = summary.describe()
    for figure in (
        "120 customers", "360 projects", "1,200 invoices", "1,200 costs",
        f"{summary.addresses:,} addresses", f"{summary.contacts:,} contacts",
        f"{summary.proposals:,} proposals", f"{summary.einvoice_addresses:,} e-invoicing",
    ):  # fmt: skip
        assert figure in text
    assert summary.admin_email == demo.DEMO_ADMIN_EMAIL


def test_other_ratios_and_chunking_give_the_same_totals(ctx):
    summary = demo.generate(
        37, today=TODAY, projects_per_customer=1.5, invoices_per_customer=2,
        costs_per_customer=0, chunk_size=10,
    )  # fmt: skip
    assert (summary.projects, summary.invoices, summary.costs) == (56, 74, 0)
    assert (_count(Project), _count(Invoice), _count(Cost)) == (56, 74, 0)


def test_business_ids_and_vat_numbers_are_valid_and_normalised(ctx):
    demo.generate(150, today=TODAY)
    rows = db.session.execute(
        select(Customer.country, Customer.business_id, Customer.vat_number)
    ).all()
    assert {country for country, _, _ in rows} == {"FI", "NO"}
    for country, business_id, vat in rows:
        found = normalise_identifiers(country, business_id, vat)
        assert (found.business_id, found.vat_number) == (business_id, vat)
        if country == "FI":
            assert re.fullmatch(r"\d{7}-\d", business_id)
            assert vat == "FI" + business_id.replace("-", "")
        else:
            assert re.fullmatch(r"[89]\d{8}", business_id)
            assert vat == f"NO{business_id}MVA"
    assert len({business_id for _, business_id, _ in rows}) == len(rows)


def test_identifier_helpers_match_known_numbers():
    assert demo.fi_business_id(112038) == "0112038-9"
    assert demo.no_business_id(92360901) == "923609016"
    assert demo.vat_number("FI", "0112038-9") == "FI01120389"
    assert demo.vat_number("NO", "923609016") == "NO923609016MVA"
    # Bases without a check digit are refused rather than given a wrong one.
    assert demo.fi_business_id(6) is None  # weighted sum 12: the check digit would be 10
    assert demo.no_business_id(6) is None  # weighted sum 12: the check digit would be 10


def test_every_status_and_kind_is_present(ctx):
    demo.generate(150, today=TODAY)
    combos = set(db.session.execute(select(Project.kind, Project.sales_status).distinct()))
    assert {(kind, status) for kind in PROJECT_KINDS for status in SALES_STATUSES} <= combos
    assert db.session.scalar(select(func.count()).where(Project.is_closed.is_(True))) > 0
    assert db.session.scalar(select(func.count()).where(Project.is_internal.is_(True))) > 0
    assert _count(Proposal) > 0

    by_status = dict(
        db.session.execute(
            select(InvoiceStatus.name, func.count(Invoice.id))
            .join(Invoice, Invoice.status_id == InvoiceStatus.id)
            .group_by(InvoiceStatus.name)
        ).all()
    )
    assert set(by_status) == {"Draft", "Approved", "Sent", "Paid", "Credited"}
    numbered = dict(
        db.session.execute(
            select(InvoiceStatus.name, func.count(Invoice.number))
            .join(Invoice, Invoice.status_id == InvoiceStatus.id)
            .group_by(InvoiceStatus.name)
        ).all()
    )
    assert numbered["Draft"] == 0  # drafts have no number
    assert 0 < numbered["Approved"] < by_status["Approved"]  # some approved ones have none yet
    for name in ("Sent", "Paid", "Credited"):
        assert numbered[name] == by_status[name]
    numbers = list(db.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    assert len(numbers) == len(set(numbers))

    statuses = set(
        db.session.scalars(
            select(CustomerStatus.name).join(Customer, Customer.status_id == CustomerStatus.id)
        )
    )
    assert statuses == {"Active", "Passive"}
    assert db.session.scalar(select(func.count()).where(Customer.is_active.is_(False))) > 0
    kinds = set(db.session.scalars(select(Address.kind).distinct()))
    assert kinds == set(ADDRESS_KINDS)


def test_dates_lie_in_the_last_two_calendar_years(ctx):
    demo.generate(80, today=TODAY)
    for column in (Invoice.date, Cost.date):
        first, last = db.session.execute(select(func.min(column), func.max(column))).one()
        assert date(2024, 1, 1) <= first < date(2024, 3, 1)
        assert date(2025, 5, 1) < last <= TODAY
    years = set(db.session.scalars(select(func.extract("year", Invoice.date)).distinct()))
    assert years == {2024, 2025}


def test_invoices_belong_to_projects_of_their_customer(ctx):
    demo.generate(80, today=TODAY)
    mismatched = db.session.scalar(
        select(func.count())
        .select_from(Invoice)
        .join(Project, Project.id == Invoice.project_id)
        .where(Project.customer_id != Invoice.customer_id)
    )
    assert mismatched == 0
    assert db.session.scalar(select(func.count()).where(Invoice.project_id.is_(None))) > 0
    # Prospects: an open sales case in progress and no invoices at all.
    has_invoice = select(Invoice.id).where(Invoice.customer_id == Customer.id).exists()
    open_case = (
        select(Project.id)
        .where(
            Project.customer_id == Customer.id,
            Project.kind == "sales_case",
            Project.sales_status == "in_progress",
            Project.is_closed.is_(False),
        )
        .exists()
    )
    prospects = select(func.count()).select_from(Customer).where(open_case, ~has_invoice)
    assert db.session.scalar(prospects) > 0


def test_settings_users_and_e_invoicing(ctx):
    demo.generate(60, today=TODAY)
    admin = db.session.scalar(select(User).where(User.email == demo.DEMO_ADMIN_EMAIL))
    assert admin is not None and admin.role == "admin" and admin.is_active
    assert admin.check_password(demo.DEMO_PASSWORD)
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["admin"] == 1 and roles["manager"] >= 2 and roles["user"] >= 5
    viewers = list(db.session.scalars(select(User).where(User.can_view_all_invoices.is_(True))))
    assert [user.role for user in viewers] == ["user"]
    assert all(user.check_password(demo.DEMO_PASSWORD) for user in viewers)
    # Every customer has an owner who is a demo user.
    assert db.session.scalar(select(func.count()).where(Customer.owner_id.is_(None))) == 0

    children = list(
        db.session.scalars(select(MarketSegment).where(MarketSegment.parent_id.is_not(None)))
    )
    assert children and {child.parent.name for child in children} >= {"Public sector"}
    linked_children = db.session.scalar(
        select(func.count())
        .select_from(customer_segment)
        .join(MarketSegment, MarketSegment.id == customer_segment.c.segment_id)
        .where(MarketSegment.parent_id.is_not(None))
    )
    assert linked_children > 0
    codes = list(db.session.scalars(select(Industry.code)))
    assert codes and all(re.fullmatch(r"\d{5}", code) for code in codes)

    rows = db.session.execute(
        select(Customer.country, Customer.business_id, EInvoiceAddress.address,
               EInvoiceAddress.operator, EInvoiceAddress.is_default)
        .join(EInvoiceAddress)
    ).all()  # fmt: skip
    assert {country for country, *_ in rows} == {"FI", "NO"}
    for country, business_id, address, operator, _default in rows:
        assert operator
        if country == "FI":
            assert address.startswith("0037" + business_id.replace("-", ""))
        else:
            assert address == f"0192:{business_id}"
    defaults = db.session.execute(
        select(EInvoiceAddress.customer_id, func.count())
        .where(EInvoiceAddress.is_default.is_(True))
        .group_by(EInvoiceAddress.customer_id)
    ).all()
    assert all(count == 1 for _, count in defaults)


def test_same_seed_gives_the_same_data(ctx):
    demo.generate(60, seed=3, today=TODAY, chunk_size=25)
    first = _fingerprint()
    _wipe()
    demo.generate(60, seed=3, today=TODAY, chunk_size=25)
    assert _fingerprint() == first
    _wipe()
    demo.generate(60, seed=4, today=TODAY)
    assert _fingerprint() != first


def test_running_twice_adds_customers_after_the_highest_number(ctx):
    assert not demo.has_customers()
    first = demo.generate(40, today=TODAY)
    assert demo.has_customers()
    users = _count(User)
    second = demo.generate(30, today=TODAY)
    assert (second.first_number, second.last_number) == (1041, 1070)
    assert second.users == 0 and _count(User) == users  # the demo users are reused
    assert second.industries == second.market_segments == 0
    assert _count(Customer) == 70
    assert _count(Invoice) == first.invoices + second.invoices
    business_ids = list(db.session.scalars(select(Customer.business_id)))
    assert len(set(business_ids)) == 70
    names = list(db.session.scalars(select(Customer.name)))
    assert len(set(names)) == 70
    numbers = list(db.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    assert len(numbers) == len(set(numbers))


def test_numbers_continue_after_a_hand_made_customer(ctx):
    db.session.add(Customer(number=5000, name="Hand-made Oy", country="FI"))
    db.session.commit()
    summary = demo.generate(5, today=TODAY)
    assert (summary.first_number, summary.last_number) == (5001, 5005)


def test_orm_inserts_work_after_generate(ctx):
    demo.generate(30, today=TODAY)
    customer = Customer(number=next_customer_number(), name="After Demo Oy", country="FI")
    db.session.add(customer)
    db.session.flush()
    project = Project(customer_id=customer.id, name="After demo", kind="project")
    db.session.add(project)
    db.session.add(Address(customer=customer, kind="visiting", street="Testikatu 1"))
    db.session.commit()
    assert customer.id > db.session.scalar(
        select(func.max(Customer.id)).where(Customer.id != customer.id)
    )
    assert customer.number == 1031
    assert project.id > 0
    # And the demo goes on after the hand-made rows.
    assert demo.generate(5, today=TODAY).first_number == 1032


def test_default_today_and_empty_run(ctx):
    summary = demo.generate(0)
    assert summary.customers == 0 and summary.first_number is None
    assert "0 customers" in summary.describe()
    demo.generate(3, invoices_per_customer=30)
    last = db.session.scalar(select(func.max(Invoice.date)))
    assert last is not None and last.year >= 2025


def test_cli_demo_command(app):
    result = app.test_cli_runner().invoke(args=["custreg", "demo", "--customers", "12"])
    assert result.exit_code == 0, result.output
    assert "12 customers" in result.output
    assert demo.DEMO_ADMIN_EMAIL in result.output and demo.DEMO_PASSWORD in result.output
    again = app.test_cli_runner().invoke(args=["custreg", "demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert _count(Customer) == 12


def test_copy_fills_in_plain_python_defaults():
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("kind", String, default="visiting"),
        Column("name", String),
        Column("made", String, default=lambda: "now"),
    )
    assert demo_loading._plain_defaults(table, ["id", "name", "made"]) == {"kind": "visiting"}
    assert demo_loading._plain_defaults(table, ["id", "name"]) is None  # a callable: not for COPY
