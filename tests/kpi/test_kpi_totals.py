"""The KPI aggregates (services/kpi_totals.py) stay equal to a full recomputation through every
write path: ORM edits, set-based statements, project moves, merges, mass updates, status and
internal flags; the rebuild command repairs them after raw SQL writes."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, text, update

from custreg_admin.errors import DomainError
from custreg_admin.extensions import db
from custreg_admin.models import (
    Cost,
    Customer,
    Invoice,
    InvoiceStatus,
    KpiTotal,
    Project,
    User,
)
from custreg_admin.services import imports, kpi_days, kpi_rollups, kpi_totals, kpi_viewers
from custreg_admin.services import mass_update as mu
from custreg_admin.services.customer_filter import CustomerFilter
from custreg_admin.services.customers import merge_customers, move_projects
from custreg_admin.services.imports import Options
from custreg_admin.services.kpi import compute_kpis
from custreg_admin.services.setup import seed_defaults

from ..builders import cost, customer, invoice, invoice_status, project

FIRST_DAY = date(2024, 1, 1)
OPERATIONS = (
    "add_invoice",
    "edit_invoice",
    "move_invoice",
    "delete_invoice",
    "add_cost",
    "edit_cost",
    "move_cost",
    "delete_cost",
    "move_project",
    "delete_project",
    "flip_sent_flag",
    "flip_internal",
    "bulk_flip_internal",
    "merge",
    "mass_update_owner",
    "bulk_insert_invoices",
    "bulk_update_invoices",
    "add_project",
    "edit_project",
    "bulk_update_projects",
    "flip_active",
    "change_owner",
    "change_manager",
    "bulk_change_managers",
    "bulk_change_owners",
)
SALES_STATUSES = ("in_progress", "won", "lost")


def _in_step() -> None:
    recomputed = kpi_totals.recomputed(db.session)
    assert kpi_totals.stored(db.session) == recomputed
    # the coarser rollups (per customer and month, the company's months) likewise
    assert kpi_rollups.stored(db.session) == kpi_rollups.recomputed(db.session, recomputed)
    # the day rows (per customer, and the company's)
    assert kpi_days.stored(db.session) == kpi_days.recomputed(db.session)
    # the totals per viewer (account owner, project manager)
    assert kpi_viewers.stored(db.session) == kpi_viewers.recomputed(db.session)
    # and the customers' open-work and prospect flags
    assert kpi_totals.flags(db.session) == kpi_totals.recomputed_flags(db.session)


def _pick(data, rows):
    return data.draw(st.sampled_from(sorted(rows, key=lambda row: row.id)))


def _all(model):
    return list(db.session.scalars(select(model)))


def _day(data) -> date:
    return FIRST_DAY + timedelta(days=data.draw(st.integers(0, 500)))


def _money(data) -> Decimal:
    return Decimal(data.draw(st.integers(-5_000, 500_000))) / 100


def _number(data) -> str | None:
    return data.draw(st.sampled_from(["AUTO", "AUTO", None, "", " \t"]))


def _apply(data, operation: str, admin) -> None:  # noqa: C901 - one branch per write path
    customers, projects = _all(Customer), _all(Project)
    invoices, costs = _all(Invoice), _all(Cost)
    statuses = _all(InvoiceStatus)
    if operation == "add_invoice":
        owner = _pick(data, customers)
        mine = [p for p in projects if p.customer_id == owner.id]
        chosen = data.draw(st.sampled_from([None, *sorted(mine, key=lambda p: p.id)]))
        number = _number(data)
        invoice(
            owner,
            _money(data),
            _day(data),
            project=chosen,
            status=_pick(data, statuses),
            **({} if number == "AUTO" else {"number": number}),
        )
    elif operation == "edit_invoice" and invoices:
        row = _pick(data, invoices)
        row.total, row.date = _money(data), _day(data)
        row.status_id = _pick(data, statuses).id
        row.number = data.draw(st.sampled_from([row.number, None, "", f"E-{row.id}"]))
    elif operation == "move_invoice" and invoices:
        row = _pick(data, invoices)
        row.customer, row.project = _pick(data, customers), None
    elif operation == "delete_invoice" and invoices:
        db.session.delete(_pick(data, invoices))
    elif operation == "add_cost" and projects:
        cost(_pick(data, projects), _money(data), _day(data))
    elif operation == "edit_cost" and costs:
        row = _pick(data, costs)
        row.amount, row.date = _money(data), _day(data)
    elif operation == "move_cost" and costs and projects:
        _pick(data, costs).project = _pick(data, projects)
    elif operation == "delete_cost" and costs:
        db.session.delete(_pick(data, costs))
    elif operation == "move_project" and projects:
        moved = _pick(data, projects)
        source = db.session.get(Customer, moved.customer_id)
        target = _pick(data, customers)
        try:
            move_projects(source, target, [moved.id], user=admin)
        except DomainError:  # invoices or proposals: refused, nothing changed
            db.session.rollback()
    elif operation == "delete_project" and projects:
        row = _pick(data, projects)
        if not db.session.scalar(select(Invoice.id).where(Invoice.project_id == row.id).limit(1)):
            db.session.delete(row)  # its costs go with it (ON DELETE CASCADE)
    elif operation == "flip_sent_flag":
        row = _pick(data, statuses)
        row.counts_as_sent = not row.counts_as_sent
    elif operation == "flip_internal" and projects:
        row = _pick(data, projects)
        row.is_internal = not row.is_internal
    elif operation == "bulk_flip_internal" and projects:
        owner = _pick(data, customers)
        db.session.execute(
            update(Project)
            .where(Project.customer_id == owner.id)
            .values(is_internal=data.draw(st.booleans()))
            .execution_options(synchronize_session=False)
        )
    elif operation == "merge" and len(customers) > 1:
        duplicate, keep = data.draw(
            st.lists(
                st.sampled_from([c.id for c in customers]), min_size=2, max_size=2, unique=True
            )
        )
        try:
            merge_customers(
                db.session.get(Customer, duplicate), db.session.get(Customer, keep), user=admin
            )
        except DomainError:
            db.session.rollback()
    elif operation == "mass_update_owner":
        ids = data.draw(st.lists(st.sampled_from([c.id for c in customers]), min_size=1))
        new_owner = _pick(data, _all(User))
        try:
            mu.apply(admin, sorted(set(ids)), "owner", new_owner.id)
        except mu.NothingToApply:  # all of them were the admin's already
            db.session.rollback()
    elif operation == "bulk_insert_invoices":
        owner = _pick(data, customers)
        rows = [
            {
                "customer_id": owner.id,
                "project_id": None,
                "number": f"B-{owner.id}-{n}-{data.draw(st.integers(0, 10**9))}",
                "date": _day(data),
                "status_id": _pick(data, statuses).id,
                "total": _money(data),
            }
            for n in range(data.draw(st.integers(1, 3)))
        ]
        db.session.execute(insert(Invoice), rows)
    elif operation == "bulk_update_invoices" and invoices:
        owner = _pick(data, customers)
        db.session.execute(
            update(Invoice)
            .where(Invoice.customer_id == owner.id)
            .values(status_id=_pick(data, statuses).id, date=_day(data))
            .execution_options(synchronize_session=False)
        )
    elif operation == "add_project":
        project(
            _pick(data, customers),
            kind=data.draw(st.sampled_from(["sales_case", "project"])),
            sales_status=data.draw(st.sampled_from(SALES_STATUSES)),
            is_closed=data.draw(st.booleans()),
        )
    elif operation == "edit_project" and projects:
        row = _pick(data, projects)
        row.is_closed = data.draw(st.booleans())
        row.sales_status = data.draw(st.sampled_from(SALES_STATUSES))
        row.kind = data.draw(st.sampled_from(["sales_case", "project"]))
    elif operation == "bulk_update_projects" and projects:
        owner = _pick(data, customers)
        db.session.execute(
            update(Project)
            .where(Project.customer_id == owner.id)
            .values(sales_status=data.draw(st.sampled_from(SALES_STATUSES)))
            .execution_options(synchronize_session=False)
        )
    elif operation == "flip_active":
        row = _pick(data, customers)
        row.is_active = not row.is_active
    elif operation == "change_owner":
        row = _pick(data, customers)
        row.owner_id = data.draw(st.sampled_from([None, *sorted(u.id for u in _all(User))]))
    elif operation == "change_manager" and projects:
        row = _pick(data, projects)
        row.manager_id = data.draw(st.sampled_from([None, *sorted(u.id for u in _all(User))]))
    elif operation == "bulk_change_managers" and projects:
        owner = _pick(data, customers)
        db.session.execute(
            update(Project)
            .where(Project.customer_id == owner.id)
            .values(manager_id=data.draw(st.sampled_from([None, *(u.id for u in _all(User))])))
            .execution_options(synchronize_session=False)
        )
    elif operation == "bulk_change_owners":  # a set-based UPDATE, not through mass update
        ids = data.draw(st.lists(st.sampled_from([c.id for c in customers]), min_size=1))
        db.session.execute(
            update(Customer)
            .where(Customer.id.in_(sorted(set(ids))))
            .values(owner_id=data.draw(st.sampled_from([None, *(u.id for u in _all(User))])))
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def _fresh(make_user):
    """An empty database with the default settings, two users and four customers: every
    example starts from the same state (hypothesis replays and shrinks examples)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.drop_all()
        db.create_all()
    seed_defaults()
    admin = make_user("admin")
    plain = make_user("user")
    for n in range(4):
        owner = customer(f"Base {n}", owner=plain if n % 2 else None)
        work = project(owner)
        work.manager_id = plain.id if n == 2 else None
        invoice(owner, "100.00", date(2024, 3, 1), project=work)
        cost(work, "40.00", date(2024, 3, 2))
    db.session.commit()
    return admin


@pytest.mark.long
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_aggregates_equal_a_full_recomputation_after_any_writes(ctx, make_user, data):
    admin = _fresh(make_user)
    _in_step()
    for operation in data.draw(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=8)):
        _apply(data, operation, admin)
        _in_step()
    # the company's months and the per-customer rows give the same figures; for a plain user
    # the totals per viewer and the rows per project likewise
    users = [admin, *db.session.scalars(select(User).where(User.role == "user"))]
    for today in (date(2024, 6, 30), date(2024, 6, 15), date(2025, 3, 14)):
        for viewer in users:
            everyone = compute_kpis(viewer, today, CustomerFilter(active_state="all"))
            assert compute_kpis(viewer, today) == everyone
    # the counts read from the flags equal the rules' definitions
    figures = compute_kpis(admin, date(2024, 6, 30))
    active = db.session.scalars(select(Customer).where(Customer.is_active.is_(True))).all()
    recomputed = kpi_totals.recomputed_flags(db.session)
    assert figures.active_customers == sum(recomputed[c.id][0] for c in active)
    assert figures.prospects_in_pipeline == sum(recomputed[c.id][1] for c in active)


def test_each_write_path_changes_the_aggregates(ctx, make_user):
    """Not vacuous: the paths above do reach the table (a sum moves with the invoice)."""
    admin = make_user("admin")
    first, second = customer("First"), customer("Second")
    row = invoice(first, "10.00", date(2024, 5, 2))
    db.session.commit()
    assert {k[0] for k in kpi_totals.stored(db.session)} == {first.id}
    row.customer = second
    db.session.commit()
    assert {k[0] for k in kpi_totals.stored(db.session)} == {second.id}
    work = project(first)
    cost(work, "5.00", date(2024, 5, 3))
    db.session.commit()
    move_projects(first, second, [work.id], user=admin)
    assert {k[0] for k in kpi_totals.stored(db.session)} == {second.id}
    rollups = kpi_rollups.stored(db.session)
    assert {k[0] for k in rollups["customer_month"]} == {second.id}
    assert sorted(v[0] for v in rollups["month"].values()) == [0, 1000]  # cents: cost, invoice
    _in_step()


def test_rebuild_repairs_raw_writes(app, ctx):
    first = customer("Raw")
    db.session.commit()
    status = invoice_status("Sent").id
    db.session.execute(
        text(
            "INSERT INTO custreg_invoice (customer_id, number, date, status_id, total, version) "
            "VALUES (:c, 'R-1', :d, :s, 12.34, 1)"
        ),
        {"c": first.id, "d": date(2024, 2, 3), "s": status},
    )
    db.session.commit()
    assert kpi_totals.stored(db.session) != kpi_totals.recomputed(db.session)  # raw SQL: unseen
    result = app.test_cli_runner().invoke(args=["custreg", "kpi-rebuild"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    _in_step()
    assert db.session.scalar(select(KpiTotal.billed_cents)) == 1234


def test_figures_follow_the_sent_flag_without_rewriting_rows(ctx, make_user):
    admin = make_user("admin")
    owner = customer("Flag")
    invoice(owner, "50.00", date(2024, 6, 1), status="Paid")
    db.session.commit()
    before = kpi_totals.stored(db.session)
    paid = invoice_status("Paid")
    assert compute_kpis(admin, date(2024, 6, 15)).billing_this_month == Decimal("50.00")
    paid.counts_as_sent = False
    db.session.commit()
    assert kpi_totals.stored(db.session) == before
    assert compute_kpis(admin, date(2024, 6, 15)).billing_this_month == Decimal("0.00")


@pytest.mark.commits
def test_writers_moving_invoices_across_the_same_months_both_succeed(app):
    """Two writers change the company's month totals of the same two months in crossed order
    (one moves an invoice from March to April, the other from April to March). Each takes the
    rows' locks in one statement in key order, so the second waits for the first instead of
    deadlocking (on PostgreSQL; SQLite runs one writer at a time)."""
    with app.app_context():
        march, april = date(2024, 3, 5), date(2024, 4, 5)
        first = invoice(customer("First writer"), "10.00", march, number="X-1")
        second = invoice(customer("Second writer"), "20.00", april, number="X-2")
        db.session.commit()
        moves = {"first": (first.id, april), "second": (second.id, march)}
    holding = threading.Event()
    outcome: dict[str, object] = {}

    def hold(conn, cursor, statement, parameters, context, executemany):
        # the first writer keeps the locks of its first statement on the totals for a while,
        # so that the second one comes to them meanwhile
        first = threading.current_thread().name == "first"
        if first and "custreg_kpi_month" in statement and not holding.is_set():
            holding.set()
            time.sleep(0.8)

    def run(name: str) -> None:
        with app.app_context():
            try:
                if name == "second":
                    assert holding.wait(10)
                invoice_id, day = moves[name]
                db.session.get(Invoice, invoice_id).date = day
                db.session.commit()
                outcome[name] = "ok"
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                outcome[name] = error
            finally:
                db.session.remove()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", hold)
    assert outcome == {"first": "ok", "second": "ok"}, outcome
    with app.app_context():
        _in_step()
        totals = kpi_rollups.stored(db.session)["month"]
        billed = {key[0]: sums[0] for key, sums in totals.items()}
        assert billed == {2024 * 12 + 2: 2000, 2024 * 12 + 3: 1000}


def test_an_import_changing_the_account_owner_moves_the_owners_figures(ctx, make_user):
    admin = make_user("admin")
    seller = make_user("user", email="seller@example.com")
    row = customer("Moving Oy", number=9301)
    invoice(row, "250.00", date(2024, 5, 2), project=project(row))
    db.session.commit()
    today = date(2024, 5, 20)
    assert compute_kpis(seller, today).billing_this_month == Decimal("0.00")
    data = b"Customer number;Account owner's e-mail\r\n9301;seller@example.com\r\n"
    review = imports.review_file(data, "file.csv", Options(update_existing=True))[1]
    imports.apply(admin, review, file_name="owners.csv")
    db.session.commit()
    assert compute_kpis(seller, today).billing_this_month == Decimal("250.00")
    assert kpi_viewers.stored(db.session) == kpi_viewers.recomputed(db.session)
    recomputed = kpi_totals.recomputed(db.session)
    assert kpi_rollups.stored(db.session) == kpi_rollups.recomputed(db.session, recomputed)
    assert kpi_days.stored(db.session) == kpi_days.recomputed(db.session)


def test_deleting_a_user_leaves_no_rows_under_their_id(ctx, make_user):
    seller = make_user("user")
    row = customer("Owned Oy", owner=seller)
    invoice(row, "250.00", date(2024, 5, 2))
    other = customer("Managed Oy")
    invoice(other, "100.00", date(2024, 5, 3), project=project(other, manager=seller))
    db.session.commit()
    seller_id = seller.id
    stored = kpi_viewers.stored(db.session)["viewer_month"]
    assert {key[0] for key in stored} | {key[1] for key in stored} >= {seller_id}
    db.session.delete(db.session.get(User, seller_id))
    db.session.commit()
    assert kpi_viewers.stored(db.session) == kpi_viewers.recomputed(db.session)
    recomputed = kpi_totals.recomputed(db.session)
    assert kpi_rollups.stored(db.session) == kpi_rollups.recomputed(db.session, recomputed)
    stored = kpi_viewers.stored(db.session)["viewer_month"]
    assert seller_id not in {key[0] for key in stored} | {key[1] for key in stored}


def test_thousands_of_keys_per_viewer_change_in_one_write(ctx):
    """A mass update of owners moves thousands of keys: more than one statement's parameters."""
    delta = {(1, 2, month, 3, False): [100, 1, 1, 0, 0] for month in range(7_000)}
    kpi_viewers.MONTH.apply(db.session.connection(), delta)
    assert len(kpi_viewers.stored(db.session)["viewer_month"]) == 7_000
