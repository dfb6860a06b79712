"""The demo's bulk path (PostgreSQL): the same kinds of data as the row-by-row path, exact
totals, derived data consistent, and the schema (indexes, keys, triggers) as it was."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from custreg_admin import demo
from custreg_admin.demo import bulk_sql
from custreg_admin.extensions import db
from custreg_admin.models import (
    PROJECT_KINDS,
    SALES_STATUSES,
    Address,
    Contact,
    Cost,
    Customer,
    CustomerKey,
    CustomerStatus,
    EInvoiceAddress,
    Invoice,
    InvoiceStatus,
    Project,
    Proposal,
    customer_segment,
)
from custreg_admin.services import customer_keys, kpi_totals

from ..helpers import is_postgres
from .test_demo import _fingerprint, _wipe

TODAY = date(2025, 6, 16)
postgres_only = pytest.mark.skipif(not is_postgres(), reason="the bulk path is PostgreSQL's")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _schema() -> tuple:
    """The loaded tables' indexes, foreign keys and enabled triggers, as the catalogue has them."""

    def rows(sql: str) -> list:
        return sorted(tuple(r) for r in db.session.execute(text(sql)))

    return (
        rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'custreg%'"),
        rows(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f'"
        ),
        rows(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE NOT tgisinternal"
        ),
    )


def test_sqlite_and_small_sets_take_the_row_path(ctx):
    assert demo.uses_bulk(demo.BULK_FROM - 1) is False
    assert demo.uses_bulk(demo.BULK_FROM) is is_postgres()
    assert demo.progress_length(120, False) == 120
    if not is_postgres():
        with pytest.raises(ValueError, match="PostgreSQL"):
            demo.generate(5, bulk=True)
        assert _count(Customer) == 0


@postgres_only
def test_bulk_counts_and_exact_totals(ctx):
    calls: list[int] = []
    phases: list[str] = []
    summary = demo.generate(
        400, seed=5, today=TODAY, bulk=True, progress=calls.append, phase=phases.append
    )
    assert summary.customers == _count(Customer) == 400
    assert (summary.first_number, summary.last_number) == (1001, 1400)
    assert summary.projects == _count(Project) == 1200
    assert summary.invoices == _count(Invoice) == 4000
    assert summary.costs == _count(Cost) == 4000
    assert summary.proposals == _count(Proposal) > 0
    assert summary.addresses == _count(Address)
    assert summary.einvoice_addresses == _count(EInvoiceAddress)
    assert summary.contacts == _count(Contact)
    assert summary.segment_links == _count(customer_segment)
    assert summary.sales_cases == db.session.scalar(
        select(func.count()).where(Project.kind == "sales_case")
    )
    assert summary.internal_projects == db.session.scalar(
        select(func.count()).where(Project.is_internal.is_(True))
    )
    assert phases == list(demo.bulk.PHASE_UNITS) == list(summary.phases)
    assert sum(calls) == demo.progress_length(400, True)
    assert "bulk load phases: customers" in summary.describe()


@postgres_only
def test_bulk_data_follows_the_demo_rules(ctx):
    demo.generate(300, today=TODAY, bulk=True)
    combos = set(db.session.execute(select(Project.kind, Project.sales_status).distinct()))
    assert {(kind, status) for kind in PROJECT_KINDS for status in SALES_STATUSES} <= combos
    assert db.session.scalar(
        select(func.count())
        .select_from(Invoice)
        .join(Project, Project.id == Invoice.project_id)
        .where(Project.customer_id != Invoice.customer_id)
    ) == 0  # fmt: skip
    by_status = {
        name: (total, numbered)
        for name, total, numbered in db.session.execute(
            select(InvoiceStatus.name, func.count(Invoice.id), func.count(Invoice.number))
            .join(Invoice, Invoice.status_id == InvoiceStatus.id)
            .group_by(InvoiceStatus.name)
        )
    }
    assert set(by_status) == {"Draft", "Approved", "Sent", "Paid", "Credited"}
    assert by_status["Draft"][1] == 0
    assert 0 < by_status["Approved"][1] < by_status["Approved"][0]
    numbered = select(Invoice.number).where(Invoice.number.is_not(None))
    numbers = sorted(int(number) for number in db.session.scalars(numbered))
    first_number = demo.FIRST_INVOICE_NUMBER
    assert numbers == list(range(first_number, first_number + len(numbers)))  # no gaps
    for column in (Invoice.date, Cost.date):
        first, last = db.session.execute(select(func.min(column), func.max(column))).one()
        assert date(2024, 1, 1) <= first < date(2024, 3, 1) and date(2025, 5, 1) < last <= TODAY
    # dormant (Passive) customers were invoiced last year only
    passive = select(CustomerStatus.id).where(CustomerStatus.name == "Passive").scalar_subquery()
    assert db.session.scalar(
        select(func.max(Invoice.date))
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Customer.status_id == passive)
    ) < date(2025, 1, 1)
    # every prospect (an active customer without invoices) has a sales case in progress
    no_invoice = ~select(Invoice.id).where(Invoice.customer_id == Customer.id).exists()
    in_progress = (
        select(Project.id)
        .where(Project.customer_id == Customer.id, Project.kind == "sales_case")
        .where(Project.sales_status == "in_progress", Project.is_closed.is_(False))
        .exists()
    )
    prospects = select(func.count()).where(Customer.status_id != passive, no_invoice)
    assert db.session.scalar(prospects) > 0
    assert db.session.scalar(prospects.where(~in_progress)) == 0
    proposal_numbers = list(db.session.scalars(select(Proposal.number)))
    assert len(set(proposal_numbers)) == len(proposal_numbers)
    assert all(len(n.split("-")[1]) == 5 for n in proposal_numbers)


@postgres_only
def test_bulk_rebuilds_keys_and_kpi_aggregates(ctx):
    demo.generate(200, today=TODAY, bulk=True)
    assert _count(CustomerKey) == 200
    assert kpi_totals.stored(db.session) == kpi_totals.recomputed(db.session)
    customer = db.session.scalars(select(Customer).order_by(Customer.id.desc())).first()
    found = db.session.scalars(
        select(Customer.id).where(customer_keys.search_condition(customer.business_id))
    ).all()
    assert customer.id in found


@postgres_only
def test_bulk_leaves_the_schema_as_it_was_and_triggers_work(ctx):
    before = _schema()
    demo.generate(100, today=TODAY, bulk=True)
    assert _schema() == before
    project = db.session.execute(select(Project.id, Project.customer_id).limit(1)).one()
    other = db.session.scalar(select(Customer.id).where(Customer.id != project.customer_id))
    status = db.session.scalar(select(InvoiceStatus.id).limit(1))
    db.session.commit()
    with pytest.raises(IntegrityError):  # the invoice-project trigger refuses again
        db.session.execute(
            insert(Invoice).values(
                customer_id=other, project_id=project.id, date=TODAY, status_id=status, total=1
            )
        )
    db.session.rollback()


@postgres_only
def test_a_failed_bulk_load_changes_nothing(ctx, monkeypatch):
    before = _schema()

    def broken() -> str:
        return "SELECT no_such_column FROM custreg_project"

    monkeypatch.setattr(bulk_sql, "insert_costs", broken)
    with pytest.raises(Exception, match="no_such_column"):
        demo.generate(50, today=TODAY, bulk=True)
    assert _count(Customer) == _count(Invoice) == _count(CustomerKey) == 0
    assert _schema() == before


@postgres_only
@pytest.mark.commits  # two loads in one test: each load's temporary tables go at its commit
def test_bulk_same_seed_gives_the_same_data(ctx):
    demo.generate(60, seed=3, today=TODAY, bulk=True)
    first = _fingerprint()
    _wipe()
    demo.generate(60, seed=3, today=TODAY, bulk=True)
    assert _fingerprint() == first


def test_cli_bulk_option(app):
    result = app.test_cli_runner().invoke(args=["custreg", "demo", "--customers", "20", "--bulk"])
    if is_postgres():
        assert result.exit_code == 0, result.output
        assert "20 customers" in result.output and "bulk load phases" in result.output
    else:
        assert result.exit_code != 0 and "PostgreSQL" in result.output
