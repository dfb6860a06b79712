"""Moving projects between customers, the rule that guards it on every path, merging duplicate
customers, inactivating and reactivating, and the customer history."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from custreg_admin.errors import DomainError, PermissionDenied
from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    CustomerEvent,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    InvoiceStatus,
    MarketSegment,
    Project,
)
from custreg_admin.rules import moves as move_rule
from custreg_admin.rules.moves import ProjectMoveBlocked
from custreg_admin.services import customers as service
from custreg_admin.services.customers import merge as merge_module
from custreg_admin.services.customers import unit_of_work

from .. import builders as b
from ..helpers import csrf_token, is_postgres, log_in

# --- data -------------------------------------------------------------------------------------


def _customer_of(project_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Project.customer_id).where(Project.id == project_id))


#: What these services write; the history also has the fixtures' own creations (tested in
#: test_history.py).
SERVICE_KINDS = ("project_moved", "merged_into", "merged_from", "inactivated", "reactivated")


def _events(customer_id: int, kind: str | None = None) -> list[CustomerEvent]:
    db.session.expire_all()
    query = select(CustomerEvent).where(
        CustomerEvent.customer_id == customer_id,
        CustomerEvent.kind.in_([kind] if kind else SERVICE_KINDS),
    )
    return list(db.session.scalars(query.order_by(CustomerEvent.id)))


@pytest.fixture
def two(ctx):
    """Two customers, a project on the first; committed."""
    source = b.customer("Acme Oy", number=1001)
    target = b.customer("Nokia Oyj", number=1002)
    work = b.project(source, name="Network audit")
    db.session.commit()
    return source, target, work


def _block(work: Project, blockers: str) -> None:
    source = db.session.get(Customer, work.customer_id)
    if "invoice" in blockers:
        b.invoice(source, "1000.00", date(2026, 3, 1), number="10023", project=work)
    if "proposal" in blockers:
        b.proposal(work, "P-17")
    db.session.commit()


# --- the rule, through the services -----------------------------------------------------------


@pytest.mark.parametrize(
    ("blockers", "named"),
    [
        ("invoice", "invoice 10023"),
        ("proposal", "proposal P-17"),
        ("invoice+proposal", "invoice 10023, proposal P-17"),
    ],
)
def test_project_with_invoices_or_proposals_may_not_change_customer(
    ctx, two, make_user, blockers, named
):
    source, target, work = two
    _block(work, blockers)
    user = make_user("admin")
    with pytest.raises(ProjectMoveBlocked) as refused:
        service.change_project_customer(work, target, user=user)
    message = str(refused.value)
    assert f'Project "Network audit" cannot move to another customer because it has {named}.' in (
        message
    )
    assert refused.value.blocked == {work.id: named}
    assert _customer_of(work.id) == source.id
    assert _events(source.id) == [] and _events(target.id) == []


def test_project_without_invoices_or_proposals_moves_and_both_histories_say_so(ctx, two, make_user):
    source, target, work = two
    user = make_user("manager", name="Maija Myyjä")
    service.change_project_customer(work, target, user=user)
    assert _customer_of(work.id) == target.id
    [left] = _events(source.id)
    [joined] = _events(target.id)
    assert (left.kind, joined.kind) == ("project_moved", "project_moved")
    assert left.message == 'Moved 1 project to 1002 Nokia Oyj: "Network audit".'
    assert joined.message == 'Received 1 project from 1001 Acme Oy: "Network audit".'
    assert (left.user_id, left.user_name) == (user.id, "Maija Myyjä")
    assert left.related_customer_id == target.id and joined.related_customer_id == source.id
    assert left.details["projects"] == [{"id": work.id, "name": "Network audit"}]
    assert left.at is not None


def test_many_invoices_are_counted_not_all_listed(ctx, two):
    source, target, work = two
    for n in range(8):
        b.invoice(source, "1000.00", date(2026, 3, 1), number=f"2000{n}", project=work)
    b.invoice(source, "1000.00", date(2026, 3, 1), number=None, project=work)
    db.session.commit()
    with pytest.raises(ProjectMoveBlocked) as refused:
        service.change_project_customer(work, target)
    assert "invoice 20000, invoice 20001, invoice 20002, invoice 20003, invoice 20004, " in str(
        refused.value
    )
    assert "4 more invoices" in str(refused.value)


def test_draft_invoice_without_number_blocks_too(ctx, two):
    source, target, work = two
    draft = b.invoice(source, "1000.00", date(2026, 3, 1), number=None, project=work)
    db.session.commit()
    with pytest.raises(ProjectMoveBlocked, match=f"draft invoice #{draft.id}"):
        service.change_project_customer(work, target)


def test_move_projects_is_all_or_nothing_and_names_every_blocked_project(ctx, two, make_user):
    source, target, work = two
    free = b.project(source, name="Training")
    quoted = b.project(source, name="5G bid", kind="sales_case")
    b.proposal(quoted, "P-17")
    b.invoice(source, "1000.00", date(2026, 3, 1), number="10023", project=work)
    db.session.commit()
    with pytest.raises(ProjectMoveBlocked) as refused:
        service.move_projects(source, target, [work.id, free.id, quoted.id], user=None)
    message = str(refused.value)
    assert '"5G bid" (proposal P-17)' in message and '"Network audit" (invoice 10023)' in message
    assert "Nothing was moved." in message
    assert _customer_of(free.id) == source.id
    assert service.move_projects(source, target, [free.id], user=make_user()) == ["Training"]
    assert _customer_of(free.id) == target.id


def test_move_projects_moves_several_with_one_history_entry_per_customer(ctx, two):
    source, target, work = two
    other = b.project(source, name="Support")
    db.session.commit()
    moved = service.move_projects(source, target, [other.id, work.id])
    assert moved == ["Network audit", "Support"]
    assert {_customer_of(work.id), _customer_of(other.id)} == {target.id}
    [event] = _events(target.id)
    assert event.message == 'Received 2 projects from 1001 Acme Oy: "Network audit", "Support".'
    assert len(_events(source.id)) == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same", "already belongs to 1001 Acme Oy"),
        ("inactive", "is inactivated; reactivate it before moving projects to it"),
        ("none", "Choose the customer the projects move to."),
    ],
)
def test_change_project_customer_refuses_odd_targets(ctx, two, case, message):
    source, target, work = two
    if case == "inactive":
        target.is_active = False
        db.session.commit()
    chosen = {"same": source, "inactive": target, "none": None}[case]
    with pytest.raises(DomainError, match=message):
        service.change_project_customer(work, chosen)
    assert _customer_of(work.id) == source.id


def test_move_projects_refuses_projects_of_another_customer_and_empty_choice(ctx, two):
    source, target, work = two
    stranger = b.project(target, name="Someone else's")
    db.session.commit()
    with pytest.raises(DomainError, match="no longer belongs to 1001 Acme Oy"):
        service.move_projects(source, target, [work.id, stranger.id])
    with pytest.raises(DomainError, match="Choose at least one project"):
        service.move_projects(source, target, [])
    assert _customer_of(work.id) == source.id


def test_role_user_moves_projects_only_between_own_customers(ctx, two, make_user):
    source, target, work = two
    seller = make_user("user")
    with pytest.raises(PermissionDenied, match="away from only customers you own"):
        service.move_projects(source, target, [work.id], user=seller)
    source = db.session.get(Customer, source.id)
    source.owner_id = seller.id
    db.session.commit()
    with pytest.raises(PermissionDenied, match="onto only customers you own; 1002 Nokia Oyj"):
        service.move_projects(source, target, [work.id], user=seller)
    assert _customer_of(work.id) == source.id
    target = db.session.get(Customer, target.id)
    target.owner_id = seller.id
    db.session.commit()
    service.move_projects(source, target, [work.id], user=seller)
    assert _customer_of(work.id) == target.id


def test_invoice_slipping_in_between_check_and_update_rolls_everything_back(ctx, two, monkeypatch):
    """The move is one guarded UPDATE whose row count is checked (SQLite has no row locks)."""
    source, target, work = two
    b.invoice(source, "1000.00", date(2026, 3, 1), number="10023", project=work)
    db.session.commit()
    monkeypatch.setattr(move_rule, "move_blockers", lambda session, ids: {})  # as if checked
    with pytest.raises(DomainError, match="was just added"):
        service.move_projects(source, target, [work.id])
    assert _customer_of(work.id) == source.id
    assert _events(source.id) == []


@pytest.mark.commits
@pytest.mark.skipif(not is_postgres(), reason="row locks: PostgreSQL")
def test_concurrent_invoice_insert_waits_for_the_lock_and_the_move_sees_it(app, ctx, two):
    """A move locks the project row FOR UPDATE before checking; an uncommitted invoice insert
    holds a KEY SHARE lock on it, so the move waits, then sees the invoice and refuses."""
    source, target, work = two
    sent_id = db.session.scalar(select(InvoiceStatus.id).where(InvoiceStatus.name == "Sent"))
    other = db.engine.connect()
    transaction = other.begin()
    other.execute(
        Invoice.__table__.insert().values(
            customer_id=source.id,
            project_id=work.id,
            number="10099",
            date=date(2026, 3, 1),
            status_id=sent_id,
            total=Decimal("1.00"),
        )
    )
    outcome: list[BaseException | None] = []

    def move() -> None:
        with app.app_context():
            try:
                service.move_projects(
                    db.session.get(Customer, source.id),
                    db.session.get(Customer, target.id),
                    [work.id],
                )
                outcome.append(None)
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                outcome.append(error)
            finally:
                db.session.remove()

    mover = threading.Thread(target=move)
    mover.start()
    time.sleep(0.5)
    waited = mover.is_alive()
    transaction.commit()
    other.close()
    mover.join(10)
    assert waited, "the move should wait for the invoice insert's lock"
    assert isinstance(outcome[0], ProjectMoveBlocked) and "invoice 10099" in str(outcome[0])
    assert _customer_of(work.id) == source.id


# --- the rule on every other path: ORM events -------------------------------------------------


@pytest.mark.parametrize("how", ["relationship", "column", "collection"])
def test_orm_refuses_customer_change_of_an_invoiced_project(ctx, two, how):
    source, target, work = two
    _block(work, "invoice")
    project = db.session.get(Project, work.id)
    if how == "relationship":
        project.customer = db.session.get(Customer, target.id)
    elif how == "column":
        project.customer_id = target.id
    else:
        db.session.get(Customer, target.id).projects.append(project)
    with pytest.raises(ProjectMoveBlocked, match="because it has invoice 10023"):
        db.session.commit()
    db.session.rollback()
    assert _customer_of(work.id) == source.id


def test_orm_allows_customer_change_without_invoices_and_other_edits_with_them(ctx, two):
    source, target, work = two
    other = b.project(source, name="Support")
    b.invoice(source, "1000.00", date(2026, 3, 1), number="10023", project=other)
    db.session.commit()
    db.session.get(Project, work.id).customer_id = target.id
    renamed = db.session.get(Project, other.id)
    renamed.name = "Support 2026"
    renamed.customer_id = source.id  # set, but unchanged
    db.session.commit()
    assert _customer_of(work.id) == target.id
    assert db.session.get(Project, other.id).name == "Support 2026"


def test_orm_refuses_set_based_updates_of_invoiced_projects(ctx, two):
    source, target, work = two
    free = b.project(source, name="Training")
    _block(work, "proposal")
    with pytest.raises(ProjectMoveBlocked, match="proposal P-17"):
        db.session.execute(
            update(Project)
            .where(Project.customer_id == source.id)
            .values(customer_id=target.id)
            .execution_options(synchronize_session=False)
        )
    db.session.rollback()
    with pytest.raises(ProjectMoveBlocked, match="proposal P-17"):
        db.session.execute(
            update(Project), [{"id": work.id, "customer_id": target.id}]
        )  # ORM bulk UPDATE by primary key
    db.session.rollback()
    assert _customer_of(work.id) == source.id and _customer_of(free.id) == source.id
    # a set-based update that moves only free projects, or changes something else, runs
    db.session.execute(
        update(Project)
        .where(Project.id == free.id)
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Project).values(is_closed=True).execution_options(synchronize_session=False)
    )
    db.session.commit()
    assert _customer_of(free.id) == target.id and _customer_of(work.id) == source.id


# --- the rule through the Flask-Admin Project edit form ---------------------------------------


def _edit_form(client, project_id: int, customer_id: int) -> dict:
    return {
        "csrf_token": csrf_token(client, f"/admin/projects/edit/?id={project_id}"),
        "customer": str(customer_id),
        "name": "Network audit",
        "kind": "project",
        "sales_status": "in_progress",
        "manager": "__None",
    }


def _seed_http(app, blockers: str = "invoice") -> tuple[int, int, int]:
    with app.app_context():
        source = b.customer("Acme Oy", number=1001)
        target = b.customer("Nokia Oyj", number=1002)
        work = b.project(source, name="Network audit")
        db.session.commit()
        if blockers:
            _block(work, blockers)
        return source.id, target.id, work.id


def _project_customer(app, project_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Project.customer_id).where(Project.id == project_id))


def test_project_edit_form_cannot_move_an_invoiced_project(app, admin_client):
    source, target, work = _seed_http(app, "invoice+proposal")
    data = _edit_form(admin_client, work, target)
    try:  # FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION is on in tests: the refusal propagates...
        response = admin_client.post(f"/admin/projects/edit/?id={work}", data=data)
        page = response.get_data(as_text=True)  # ...unless the view turns it into a message
    except ProjectMoveBlocked as refused:
        page = str(refused)
    assert "invoice 10023, proposal P-17" in page
    assert _project_customer(app, work) == source


@pytest.mark.commits
def test_project_edit_form_shows_the_refusal_as_a_message(app, app_factory, make_user):
    source, target, work = _seed_http(app, "invoice")
    lenient = app_factory(FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION=False)
    try:
        client = lenient.test_client()
        assert log_in(client, make_user("admin")).status_code == 302
        data = _edit_form(client, work, target)
        response = client.post(f"/admin/projects/edit/?id={work}", data=data)
        page = client.get(f"/admin/projects/edit/?id={work}").get_data(as_text=True)
        page = response.get_data(as_text=True) + page
        assert "Project &#34;Network audit&#34; cannot move to another customer" in page
        assert "because it has invoice 10023" in page
        assert _project_customer(app, work) == source
    finally:
        with lenient.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.commits
@pytest.mark.parametrize("blocked", [True, False])
def test_inline_list_editing_of_the_customer_obeys_the_rule(app, app_factory, make_user, blocked):
    """ProjectView has no inline editing; a subclass that edits the customer in the list goes
    through Flask-Admin's ajax update -> update_model -> commit, and the ORM guard."""
    from custreg_admin.admin.records import ProjectView

    source, target, work = _seed_http(app, "invoice" if blocked else "")
    inline = app_factory(FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION=False)

    class InlineProjectView(ProjectView):
        column_editable_list = ("customer", "name")
        form_ajax_refs = None  # x-editable cannot edit an ajax select

    admin = inline.extensions["custreg_admin"].admin
    admin.add_view(InlineProjectView(Project, db, endpoint="inline_projects", url="inline"))
    try:
        client = inline.test_client()
        assert log_in(client, make_user("admin")).status_code == 302
        response = client.post(
            "/admin/inline/ajax/update/",
            data={
                "list_form_pk": work,
                "customer": target,
                "csrf_token": csrf_token(client, "/admin/inline/"),
            },
        )
        if blocked:
            assert response.status_code == 500  # x-editable shows the body next to the cell
            assert "because it has invoice 10023" in response.get_data(as_text=True)
            assert _project_customer(app, work) == source
        else:
            assert response.status_code == 200, response.get_data(as_text=True)
            assert _project_customer(app, work) == target
    finally:
        with inline.app_context():
            db.session.remove()
            db.engine.dispose()


def test_project_edit_form_moves_a_project_without_invoices(app, admin_client):
    source, target, work = _seed_http(app, "")
    data = _edit_form(admin_client, work, target)
    response = admin_client.post(f"/admin/projects/edit/?id={work}", data=data)
    assert response.status_code == 302
    assert _project_customer(app, work) == target


class ServiceProjectView:
    """What the lead's ProjectView gains (see the report): the form's customer change goes
    through the service, and domain errors become messages."""

    def on_model_change(self, form, model, is_created):
        from flask_login import current_user

        if not is_created:
            service.apply_customer_change(model, user=current_user._get_current_object())

    def handle_view_exception(self, exc):
        from flask import flash

        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


@pytest.mark.commits
@pytest.mark.parametrize("blocked", [True, False])
def test_project_views_calling_the_service_explain_refusals_and_record_moves(
    app, app_factory, make_user, blocked
):
    from custreg_admin.admin.records import ProjectView

    source, target, work = _seed_http(app, "invoice" if blocked else "")
    serviced = app_factory()

    class Edit(ServiceProjectView, ProjectView):
        pass

    class Inline(ServiceProjectView, ProjectView):
        column_editable_list = ("customer",)
        form_ajax_refs = None

    admin = serviced.extensions["custreg_admin"].admin
    admin.add_view(Edit(Project, db, endpoint="serviced_projects", url="serviced"))
    admin.add_view(Inline(Project, db, endpoint="serviced_inline", url="serviced-inline"))
    try:
        client = serviced.test_client()
        user = make_user("manager", name="Maija Myyjä")
        assert log_in(client, user).status_code == 302
        data = _edit_form(client, work, target)
        response = client.post(f"/admin/serviced/edit/?id={work}", data=data)
        inline = client.post(
            "/admin/serviced-inline/ajax/update/",
            data={
                "list_form_pk": work,
                "customer": source if not blocked else target,
                "csrf_token": data["csrf_token"],
            },
        )
        with app.app_context():
            events = _events(source)
        if blocked:
            page = response.get_data(as_text=True)
            assert response.status_code == 200  # the form again, with the message
            assert "Project &#34;Network audit&#34; cannot move to another customer" in page
            assert "Failed to update record" not in page
            assert inline.status_code == 500
            assert "because it has invoice 10023" in inline.get_data(as_text=True)
            assert _project_customer(app, work) == source and events == []
        else:  # moved by the form, then back by inline editing: history on both sides
            assert response.status_code == 302 and inline.status_code == 200
            assert _project_customer(app, work) == source
            assert [e.message for e in events] == [
                'Moved 1 project to 1002 Nokia Oyj: "Network audit".',
                'Received 1 project from 1002 Nokia Oyj: "Network audit".',
            ]
            assert {e.user_name for e in events} == {"Maija Myyjä"}
    finally:
        with serviced.app_context():
            db.session.remove()
            db.engine.dispose()


# --- merging duplicates -----------------------------------------------------------------------


@dataclass
class Duplicates:
    keep: int
    duplicate: int
    training: int
    workshop: int
    audit: int
    bid: int
    datacenter: int
    industry: int
    passive: int


@pytest.fixture
def duplicates(app, make_user) -> Duplicates:
    """Nokia twice: 1002 Nokia Oyj (keep) and 1003 Nokia Corporation, made from a fair list."""
    alice = make_user("manager", name="Alice Owner")
    bob = make_user("manager", name="Bob Owner")
    with app.app_context():
        active = db.session.scalar(select(CustomerStatus).where(CustomerStatus.name == "Active"))
        passive = db.session.scalar(select(CustomerStatus).where(CustomerStatus.name == "Passive"))
        industry = Industry(code="26300", name="Communication equipment")
        telecom, networks, public = (
            MarketSegment(name="Telecom"),
            MarketSegment(name="Networks"),
            MarketSegment(name="Public sector"),
        )
        keep = Customer(
            number=1002,
            name="Nokia Oyj",
            business_id="0112038-9",
            vat_number="FI01120389",
            country="FI",
            owner_id=alice.id,
            status=active,
            website="nokia.com",
            phone="+358 10 44 88000",
            notes="Key account.",
            segments=[telecom, networks],
            addresses=[
                Address(kind="visiting", street="Karakaari 7", postal_code="02610", city="Espoo")
            ],
            einvoice_addresses=[
                EInvoiceAddress(address="003701120389", operator="003721291126", is_default=True)
            ],
            contacts=[Contact(first_name="Pekka", last_name="Lundmark", title="CEO")],
        )
        dup = Customer(
            number=1003,
            name="Nokia Corporation",
            business_id="0112038-9",
            vat_number="FI01120389",
            country="FI",
            owner_id=bob.id,
            status=passive,
            industry=industry,
            website="www.nokia.com",
            email="info@nokia.example",
            phone="+358 10 44 88000 ",
            notes="Created from a trade fair list.",
            segments=[telecom, public],
            addresses=[
                Address(kind="visiting", street="KARAKAARI 7.", postal_code="02 610", city="espoo"),
                Address(kind="billing", street="PL 226", postal_code="00045", city="Nokia Group"),
            ],
            einvoice_addresses=[
                EInvoiceAddress(address="0037 0112 0389", is_default=True),
                EInvoiceAddress(address="0192:923609016", operator="PEPPOL", is_default=True),
            ],
            contacts=[
                Contact(first_name="Anna", last_name="Virtanen", title="Buyer"),
                Contact(last_name="Laine", email="laine@nokia.example"),
            ],
        )
        db.session.add_all([keep, dup])
        db.session.flush()
        audit = b.project(dup, name="Network audit")
        bid = b.project(dup, name="5G bid", kind="sales_case")
        datacenter = b.project(dup, name="Datacenter")
        training = b.project(dup, name="Training")
        workshop = b.project(dup, name="Workshop", kind="sales_case")
        b.invoice(dup, "1000.00", date(2026, 3, 1), number="10023", project=audit)
        b.proposal(bid, "P-17")
        b.invoice(dup, "1000.00", date(2026, 3, 1), number="10031", project=datacenter)
        b.proposal(datacenter, "P-18")
        b.invoice(dup, "1000.00", date(2026, 3, 1), number="10040")
        db.session.commit()
        return Duplicates(
            keep.id,
            dup.id,
            training.id,
            workshop.id,
            audit.id,
            bid.id,
            datacenter.id,
            industry.id,
            passive.id,
        )


def test_merge_preview_shows_what_moves_what_stays_and_what_differs(ctx, duplicates):
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    plan = service.plan_merge(dup, keep)
    assert (plan.keep_label, plan.duplicate_label) == ("1002 Nokia Oyj", "1003 Nokia Corporation")
    assert [p.name for p in plan.projects] == ["Training", "Workshop"]
    assert {p.name: p.blockers for p in plan.blocked_projects} == {
        "Network audit": "invoice 10023",
        "5G bid": "proposal P-17",
        "Datacenter": "invoice 10031, proposal P-18",
    }
    assert [c.label for c in plan.contacts] == ["Laine", "Anna Virtanen"]
    assert [a.label for a in plan.addresses] == ["Billing: PL 226, 00045 Nokia Group"]
    assert [a.label for a in plan.addresses_already_there] == [
        "Visiting: KARAKAARI 7., 02 610 espoo"
    ]
    assert [e.label for e in plan.einvoice_addresses] == ["0192:923609016 (PEPPOL)"]
    assert [e.label for e in plan.einvoice_already_there] == ["0037 0112 0389"]
    assert [s.label for s in plan.segments_added] == ["Public sector"]
    assert plan.segments_after == ("Networks", "Public sector", "Telecom")
    assert plan.invoice_count == 3 and set(plan.invoice_numbers) == {"10023", "10031", "10040"}
    differences = {d.field: (d.keep_value, d.duplicate_value, d.default) for d in plan.differences}
    assert differences == {
        "name": ("Nokia Oyj", "Nokia Corporation", "keep"),
        "owner": ("Alice Owner", "Bob Owner", "keep"),
        "industry": ("", "26300 Communication equipment", "duplicate"),
        "status": ("Active", "Passive", "keep"),
        "website": ("nokia.com", "www.nokia.com", "keep"),
        "email": ("", "info@nokia.example", "duplicate"),
        "notes": ("Key account.", "Created from a trade fair list.", "keep"),
    }  # phone differs only by a trailing space; IDs and country are equal
    assert plan.token == service.plan_merge(dup, keep).token
    assert _events(keep.id) == []  # a preview changes nothing


def test_merge_applies_choices_moves_what_can_move_and_inactivates_the_duplicate(
    ctx, duplicates, make_user
):
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    token = service.plan_merge(dup, keep).token
    maija = make_user("admin", name="Maija Myyjä")
    service.merge_customers(
        dup,
        keep,
        {"website": "duplicate", "status": "duplicate", "name": "keep"},
        user=maija,
        plan_token=token,
    )
    db.session.expire_all()
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    # fields: chosen ones taken, defaults fill the kept customer's empty ones, the rest kept
    assert (keep.name, keep.website, keep.status_id) == (
        "Nokia Oyj",
        "www.nokia.com",
        duplicates.passive,
    )
    assert (keep.email, keep.industry_id) == ("info@nokia.example", duplicates.industry)
    assert keep.notes == "Key account." and keep.owner.name == "Alice Owner"
    # what moves
    assert sorted(p.name for p in keep.projects) == ["Training", "Workshop"]
    assert sorted(c.full_name for c in keep.contacts) == [
        "Anna Virtanen",
        "Laine",
        "Pekka Lundmark",
    ]
    assert sorted(a.kind for a in keep.addresses) == ["billing", "visiting"]
    assert sorted((e.address, e.is_default) for e in keep.einvoice_addresses) == [
        ("003701120389", True),
        ("0192:923609016", False),
    ]
    assert sorted(s.name for s in keep.segments) == ["Networks", "Public sector", "Telecom"]
    # what stays, on the inactivated duplicate with a note
    assert not dup.is_active
    assert sorted(p.name for p in dup.projects) == ["5G bid", "Datacenter", "Network audit"]
    assert len(dup.invoices) == 3 and dup.contacts == []
    assert [a.street for a in dup.addresses] == ["KARAKAARI 7."]
    assert sorted(s.name for s in dup.segments) == ["Public sector", "Telecom"]
    today = unit_of_work._local_now().strftime("%Y-%m-%d")
    assert dup.notes == (
        f"Merged into 1002 Nokia Oyj on {today} by Maija Myyjä.\n\nCreated from a trade fair list."
    )
    # history on both, pointing at each other
    [into] = _events(dup.id)
    [from_] = _events(keep.id)
    assert (into.kind, into.related_customer_id, into.user_name) == (
        "merged_into",
        keep.id,
        "Maija Myyjä",
    )
    assert (from_.kind, from_.related_customer_id) == ("merged_from", dup.id)
    assert into.message.startswith("Merged into 1002 Nokia Oyj: moved 2 projects")
    assert "moved 2 projects, 2 contacts, 1 address, 1 e-invoicing address" in from_.message
    assert '"Network audit"' in from_.message and "3 invoices" in from_.message
    stayed = {p["name"]: p["blockers"] for p in from_.details["merge"]["projects_stayed"]}
    assert stayed["Network audit"] == "invoice 10023"
    # the kept customer's entry has the fields it took, before and after
    assert from_.details["changes"]["website"] == ["nokia.com", "www.nokia.com"]
    assert into.details["changes"]["is_active"] == [True, False]
    assert sorted(from_.details["merge"]["projects_moved"]) == sorted(
        [duplicates.training, duplicates.workshop]
    )
    assert service.merged_into(dup).id == keep.id
    assert [c.id for c in service.merged_from(keep)] == [dup.id]


@pytest.mark.parametrize(
    "failing", ["_move_contacts", "_move_einvoice_addresses", "_add_segments", "_take_fields"]
)
def test_merge_is_all_or_nothing(ctx, duplicates, monkeypatch, failing):
    def snapshot():
        db.session.expire_all()
        rows = {}
        for model in (Project, Contact, Address, EInvoiceAddress):
            rows[model.__name__] = sorted(db.session.execute(select(model.id, model.customer_id)))
        rows["segments"] = sorted(
            (c.id, s.id) for c in db.session.scalars(select(Customer)) for s in c.segments
        )
        rows["customers"] = sorted(
            db.session.execute(
                select(Customer.id, Customer.is_active, Customer.notes, Customer.website)
            )
        )
        rows["events"] = db.session.scalar(select(func.count()).select_from(CustomerEvent))
        return rows

    before = snapshot()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge_module, failing, boom)
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    with pytest.raises(RuntimeError, match="disk full"):
        service.merge_customers(dup, keep, {"website": "duplicate"})
    assert snapshot() == before


def test_merge_refuses_a_plan_that_changed_since_the_preview(ctx, duplicates):
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    token = service.plan_merge(dup, keep).token
    b.invoice(
        dup,
        "1000.00",
        date(2026, 3, 1),
        number="10050",
        project=db.session.get(Project, duplicates.training),
    )  # Training now stays
    db.session.commit()
    with pytest.raises(DomainError, match="changed after the preview"):
        service.merge_customers(dup, keep, {}, plan_token=token)
    assert db.session.get(Customer, duplicates.duplicate).is_active


def test_merge_refuses_odd_pairs_and_bad_choices(ctx, duplicates, make_user):
    keep = db.session.get(Customer, duplicates.keep)
    dup = db.session.get(Customer, duplicates.duplicate)
    with pytest.raises(DomainError, match="cannot be merged into itself"):
        service.plan_merge(dup, dup)
    with pytest.raises(DomainError, match="Unknown customer field"):
        service.merge_customers(dup, keep, {"number": "duplicate"})
    with pytest.raises(DomainError, match="Choose the kept or the duplicate's value for: name"):
        service.merge_customers(dup, keep, {"name": "both"})
    with pytest.raises(PermissionDenied):
        service.merge_customers(dup, keep, {}, user=make_user("user"))
    service.merge_customers(dup, keep, {})
    with pytest.raises(DomainError, match="already merged into 1002 Nokia Oyj"):
        service.plan_merge(db.session.get(Customer, duplicates.duplicate), keep)
    with pytest.raises(DomainError, match="is inactivated; reactivate it first"):
        service.plan_merge(keep, db.session.get(Customer, duplicates.duplicate))


# --- inactivating -----------------------------------------------------------------------------


def test_inactivate_and_reactivate_write_history(ctx, two, make_user):
    source, _, _ = two
    user = make_user("admin", name="Ada Admin")
    service.set_active(source, False, user=user)
    with pytest.raises(DomainError, match="already inactive"):
        service.set_active(source, False, user=user)
    service.set_active(source, True, user=user)
    with pytest.raises(DomainError, match="already active"):
        service.set_active(source, True)
    events = _events(source.id)
    assert [e.kind for e in events] == ["inactivated", "reactivated"]
    assert events[0].message == "Customer inactivated."
    assert events[0].details["changes"] == {"is_active": [True, False]}
    assert all(e.user_name == "Ada Admin" for e in events)


def test_role_user_inactivates_only_own_customers(ctx, two, make_user):
    source, _, _ = two
    with pytest.raises(PermissionDenied):
        service.set_active(source, False, user=make_user("user"))
    assert db.session.get(Customer, source.id).is_active


# --- pages ------------------------------------------------------------------------------------


def test_move_page_lists_projects_with_reasons_and_moves_after_confirmation(app, admin_client):
    source, target, work = _seed_http(app, "invoice")
    with app.app_context():
        free = b.project(db.session.get(Customer, source), name="Training").id
        db.session.commit()
    url = f"/admin/customers/moves/projects/?id={source}"
    page = admin_client.get(url).get_data(as_text=True)
    assert "No: it has invoice 10023" in page
    assert re.search(rf'name="project" value="{work}"[^>]*disabled', page)
    assert f'name="project" value="{free}"' in page
    found = admin_client.get(url + "&q=nokia&action=search").get_data(as_text=True)
    assert f'name="target" id="target-{target}" value="{target}"' in found and "1002 Nokia" in found
    review = admin_client.get(url + f"&target={target}&project={free}&action=review")
    confirm = review.get_data(as_text=True)
    assert "Move this project to 1002 Nokia Oyj?" in confirm
    assert _project_customer(app, free) == source  # a review changes nothing
    data = {"id": source, "target": target, "project": [free]}
    assert admin_client.post("/admin/customers/moves/projects/", data=data).status_code == 400
    data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    response = admin_client.post("/admin/customers/moves/projects/", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customers/details/?id={source}")
    assert _project_customer(app, free) == target
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Moved project “Training” to" in card and "1002 Nokia Oyj</a>" in card


def test_move_page_refuses_a_blocked_choice_with_the_reason(app, admin_client):
    source, target, work = _seed_http(app, "proposal")
    token = csrf_token(admin_client, f"/admin/customers/moves/projects/?id={source}")
    review = admin_client.get(
        f"/admin/customers/moves/projects/?id={source}&target={target}&project={work}&action=review"
    ).get_data(as_text=True)
    assert "cannot move to another customer because it has proposal P-17" in review
    response = admin_client.post(
        "/admin/customers/moves/projects/",
        data={"id": source, "target": target, "project": work, "csrf_token": token},
        follow_redirects=True,
    )
    assert "because it has proposal P-17" in response.get_data(as_text=True)
    assert _project_customer(app, work) == source


def test_search_endpoint_finds_active_customers_by_name_number_and_business_id(app, admin_client):
    source, target, _ = _seed_http(app, "")
    with app.app_context():
        db.session.get(Customer, target).business_id = "0112038-9"
        b.customer("Nokia Old", number=1003, is_active=False)
        db.session.commit()
    for query in ("nokia", "1002", "FI01120389"):
        results = admin_client.get(
            f"/admin/customers/moves/search/?q={query}&exclude={source}"
        ).get_json()["results"]
        assert [r["label"] for r in results] == ["1002 Nokia Oyj"], query


def test_merge_pages_preview_then_merge(app, admin_client, duplicates):
    dup, keep = duplicates.duplicate, duplicates.keep
    pick = admin_client.get(f"/admin/customers/moves/merge/?id={dup}").get_data(as_text=True)
    assert "Same business ID or VAT number" in pick
    assert re.search(rf'value="{keep}"\s+checked', pick)  # the one match comes chosen
    preview = admin_client.get(
        f"/admin/customers/moves/merge/?id={dup}&keep={keep}&action=preview"
    ).get_data(as_text=True)
    for expected in (
        "Merge 1003 Nokia Corporation into",
        "Training",
        "Anna Virtanen",
        "PL 226, 00045 Nokia Group",
        "0192:923609016",
        "Public sector",
        'Network audit <span class="text-danger">— it has invoice 10023</span>',
        "invoice 10031, proposal P-18",
        "Communication equipment",
        'name="field-website"',
    ):
        assert expected in preview, expected
    with app.app_context():
        assert db.session.get(Customer, dup).is_active  # the preview changed nothing
    data = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', preview).group(1),
        "id": dup,
        "keep": keep,
        "token": re.search(r'name="token" value="([^"]+)"', preview).group(1),
        "field-website": "duplicate",
        "field-name": "keep",
    }
    response = admin_client.post("/admin/customers/moves/merge/", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customers/details/?id={keep}")
    with app.app_context():
        assert not db.session.get(Customer, dup).is_active
        assert db.session.get(Customer, keep).website == "www.nokia.com"
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Merged" in card and "1003 Nokia Corporation" in card
    history = admin_client.get(f"/admin/customers/moves/history/?id={dup}").get_data(as_text=True)
    assert "Merged into 1002 Nokia Oyj on" in history
    assert f'href="/admin/customers/details/?id={keep}"' in history
    kept = admin_client.get(f"/admin/customers/moves/history/?id={keep}").get_data(as_text=True)
    assert "Duplicates merged into this customer" in kept and "1003 Nokia Corporation" in kept


def test_history_page_lists_entries_newest_first(app, admin_client, make_user):
    source, target, work = _seed_http(app, "")
    with app.app_context():
        user = make_user("admin", name="Ada Admin")
        service.change_project_customer(
            db.session.get(Project, work), db.session.get(Customer, target), user=user
        )
        service.set_active(db.session.get(Customer, source), False, user=user)
    page = admin_client.get(f"/admin/customers/moves/history/?id={source}").get_data(as_text=True)
    assert page.index("Customer inactivated.") < page.index("Moved 1 project to 1002 Nokia Oyj")
    assert "Ada Admin" in page and "Project moved" in page
    empty = admin_client.get(f"/admin/customers/moves/history/?id={target}&page=3")
    assert empty.status_code == 200


def test_move_pages_need_login_stay_out_of_the_menu_and_handle_unknown_ids(app, client, login):
    assert client.get("/admin/customers/moves/history/?id=1").status_code == 302
    login("user")
    menu = client.get("/admin/customers/").get_data(as_text=True)
    assert "Move and merge" not in menu
    for path in ("projects/?id=999", "merge/?id=abc", "history/?id="):
        response = client.get("/admin/customers/moves/" + path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/admin/customers/")


def test_customer_with_projects_cannot_be_deleted(app, admin_client):
    source, _, _ = _seed_http(app, "invoice")
    token = csrf_token(admin_client, f"/admin/customers/details/?id={source}")
    response = admin_client.post(
        "/admin/customers/delete/",
        data={"id": source, "csrf_token": token},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "cannot be deleted: it has 1 project, 1 invoice" in page
    assert "Inactivate the customer instead." in page
    with app.app_context():
        assert db.session.get(Customer, source) is not None


def test_a_customer_with_only_history_left_can_be_deleted_and_its_history_goes_too(
    app, admin_client
):
    source, target, work = _seed_http(app, "")
    with app.app_context():
        service.change_project_customer(
            db.session.get(Project, work), db.session.get(Customer, target)
        )
    token = csrf_token(admin_client, f"/admin/customers/details/?id={source}")
    response = admin_client.post(
        "/admin/customers/delete/", data={"id": source, "csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, source) is None
        assert _events(source) == []
        [received] = _events(target)
        assert received.related_customer_id is None  # the link goes, the message stays
        assert received.message.startswith("Received 1 project from 1001 Acme Oy")


# --- an invoice's project is one of its customer's ---------------------------------------------


def _invoice_form(client, url: str, customer_id: int, project_id: int, number: str) -> dict:
    sent = db.session.scalar(select(InvoiceStatus.id).where(InvoiceStatus.name == "Sent"))
    return {
        "customer": customer_id,
        "project": project_id,
        "number": number,
        "date": "2026-03-01",
        "status": sent,
        "total": "1200.00",
        "csrf_token": csrf_token(client, url),
    }


def test_an_invoice_cannot_point_at_another_customers_project(app, admin_client, two):
    source, target, work = two  # "Network audit" belongs to Acme Oy
    with app.app_context():
        form = _invoice_form(admin_client, "/admin/invoices/new/", target.id, work.id, "INV-9")
    response = admin_client.post("/admin/invoices/new/", data=form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "belongs to 1001 Acme Oy, not to 1002 Nokia Oyj" in page
    assert 'value="INV-9"' in page  # the form keeps what was typed
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Invoice.number == "INV-9")) == 0
        # the same invoice on its own customer's project is saved
        form = _invoice_form(admin_client, "/admin/invoices/new/", source.id, work.id, "INV-9")
    assert admin_client.post("/admin/invoices/new/", data=form).status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(Invoice).where(Invoice.number == "INV-9"))
        assert (saved.customer_id, saved.project_id) == (source.id, work.id)
        # and cannot be re-pointed at another customer while keeping that project
        url = f"/admin/invoices/edit/?id={saved.id}"
        form = _invoice_form(admin_client, url, target.id, work.id, "INV-9")
    response = admin_client.post(url, data=form, follow_redirects=True)
    assert "belongs to 1001 Acme Oy" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invoice, saved.id).customer_id == source.id


def test_the_project_forms_customer_lookup_offers_only_active_customers(app, admin_client):
    with app.app_context():
        b.customer("Lookup Active Oy", number=2001)
        b.customer("Lookup Gone Oy", number=2002, is_active=False)
        db.session.commit()
    answer = admin_client.get("/admin/projects/ajax/lookup/?name=customer&query=Lookup")
    assert answer.status_code == 200
    names = [name for _id, name in answer.get_json()]
    assert names == ["2001 Lookup Active Oy"]
