"""The customer history: one choke point records every change to a customer and to what hangs on
it, with the before and after of each field, who and when; the History page shows it newest
first, filtered by kind, in the viewer's language, with money only for those who may see it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from custreg_admin import registries
from custreg_admin.context import acting_as
from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerEvent,
    EInvoiceAddress,
    Project,
    Proposal,
    User,
)
from custreg_admin.services import customers as customer_service
from custreg_admin.services import history, registry_search
from custreg_admin.services import mass_update as mu

from .. import builders as b
from ..fake_registry import ACME, entry_points
from ..helpers import csrf_token, log_in, recorded_statements
from ..registries.test_registry_ui import _form_values


@pytest.fixture
def fake_registry(monkeypatch):
    monkeypatch.setattr(registries, "discover_entry_points", entry_points)


@pytest.fixture
def registry_app(fake_registry, app):
    return app


def _events(customer_id: int, kind: str | None = None) -> list[CustomerEvent]:
    db.session.expire_all()
    query = select(CustomerEvent).where(CustomerEvent.customer_id == customer_id)
    if kind:
        query = query.where(CustomerEvent.kind == kind)
    return list(db.session.scalars(query.order_by(CustomerEvent.id)))


def _one(customer_id: int, kind: str) -> CustomerEvent:
    [found] = _events(customer_id, kind)
    return found


def _user(ctx_user) -> User:
    return db.session.get(User, ctx_user.id)


@pytest.fixture
def people(ctx, make_user):
    return {
        "ada": make_user("admin", name="Ada Admin"),
        "maija": make_user("user", name="Maija Myyjä"),
        "olli": make_user("user", name="Olli Omistaja"),
    }


@pytest.fixture
def acme(ctx, people):
    """A customer made by Ada, owned by Maija, with a project; the history starts after."""
    with acting_as(_user(people["ada"])):
        customer = b.customer("Acme Oy", owner=people["maija"], number=1001)
        work = b.project(customer, name="Network audit", manager=people["maija"])
        db.session.commit()
    return customer.id, work.id


# --- creation and hand edits ----------------------------------------------------------------


def test_creation_records_each_field_the_rows_it_brings_and_who(ctx, people):
    retail = b.industry("Retail trade", code="47")
    public = b.segment("Public sector")
    db.session.commit()
    ada = _user(people["ada"])
    with acting_as(ada):
        customer = Customer(
            number=2001,
            name="Nokia Oyj",
            business_id="0112038-9",
            country="FI",
            owner_id=people["maija"].id,
            industry=retail,
            phone="+358 10 4488000",
        )
        customer.segments = [public]
        customer.contacts.append(Contact(first_name="Pekka", last_name="Lundmark"))
        customer.addresses.append(Address(kind="visiting", street="Karakaari 7", city="ESPOO"))
        customer.einvoice_addresses.append(EInvoiceAddress(address="003701120389"))
        db.session.add(customer)
        db.session.commit()
    created = _one(customer.id, "created")
    assert (created.user_id, created.user_name) == (ada.id, "Ada Admin")
    assert created.at is not None
    assert (created.entity_type, created.entity_id) == ("customer", customer.id)
    changes = created.details["changes"]
    assert changes["name"] == [None, "Nokia Oyj"]
    assert changes["owner"] == [None, "Maija Myyjä"]  # a name, not an id
    assert changes["industry"] == [None, "47 Retail trade"]
    assert changes["segments"] == [None, ["Public sector"]]
    assert changes["is_active"] == [None, True]
    contact = _one(customer.id, "contact_added")
    assert contact.details["label"] == "Pekka Lundmark"
    assert contact.details["changes"]["last_name"] == [None, "Lundmark"]
    assert _one(customer.id, "address_added").details["changes"]["street"] == [None, "Karakaari 7"]
    assert _one(customer.id, "einvoice_added").details["label"] == "003701120389"


def test_a_hand_edit_records_before_and_after_of_each_changed_field(ctx, people, acme):
    customer_id, _ = acme
    other = b.industry("Telecom")
    seg = b.segment("Telecom")
    db.session.commit()
    customer = db.session.get(Customer, customer_id)
    # an admin: a plain user may not hand a customer to another owner (the access matrix)
    ada = _user(people["ada"])
    with acting_as(ada):
        customer.name = "Acme Oyj"
        customer.phone = "+358 40 1"
        customer.owner = _user(people["olli"])
        customer.industry = other
        customer.segments.append(seg)
        db.session.commit()
    edited = _one(customer_id, "edited")
    assert edited.details["changes"] == {
        "name": ["Acme Oy", "Acme Oyj"],
        "phone": [None, "+358 40 1"],
        "owner": ["Maija Myyjä", "Olli Omistaja"],
        "industry": [None, "Telecom"],
        "segments": [[], ["Telecom"]],
    }
    assert (edited.user_id, edited.user_name) == (ada.id, "Ada Admin")
    # an unchanged save writes nothing
    customer.name = "Acme Oyj"
    db.session.commit()
    assert len(_events(customer_id, "edited")) == 1


def test_the_edit_form_records_the_logged_in_user(app, client, login):
    admin = login("admin")
    with app.app_context():
        customer = b.customer("Acme Oy", number=1001, phone="1")
        db.session.commit()
        customer_id = customer.id
    page = client.get(f"/admin/customers/edit/?id={customer_id}").get_data(as_text=True)
    form = _form_values(page)
    token = csrf_token(client, f"/admin/customers/edit/?id={customer_id}")
    form.update(phone="2", csrf_token=token)
    response = client.post(f"/admin/customers/edit/?id={customer_id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        edited = _one(customer_id, "edited")
        assert edited.details["changes"] == {"phone": ["1", "2"]}
        assert (edited.user_id, edited.user_name) == (admin.id, admin.name)


# --- registry -------------------------------------------------------------------------------


def test_registry_fill_and_refresh_name_the_registry(registry_app, client, login):
    user = login("manager")
    page = client.get("/admin/customers/new/?registry=fake&business_id=0112038-9")
    form = _form_values(page.get_data(as_text=True))
    form["csrf_token"] = csrf_token(client, "/admin/customers/new/")
    assert client.post("/admin/customers/new/", data=form).status_code == 302
    with registry_app.app_context():
        customer = db.session.scalar(select(Customer))
        created = _one(customer.id, "created")
        assert created.details["registry"] == {"id": "fake", "label": "Fake Finnish registry"}
        assert created.user_name == user.name
        assert history.describe(created).summary == ("Customer created from Fake Finnish registry.")
        customer.name, customer.website = "Acme (old name)", "old.example"
        db.session.commit()
        customer_id = customer.id
    token = csrf_token(client, "/admin/")
    response = client.post(
        "/admin/customers/registry/refresh/",
        data={"id": customer_id, "field": ["name", "website"], "csrf_token": token},
    )
    assert response.status_code == 302
    with registry_app.app_context():
        refreshed = _one(customer_id, "registry_refreshed")
        assert refreshed.details["registry"]["label"] == "Fake Finnish registry"
        assert refreshed.details["changes"] == {
            "name": ["Acme (old name)", "Acme Oyj"],
            "website": ["old.example", "https://www.acme.example"],
        }
        assert refreshed.user_name == user.name


def test_refresh_of_addresses_is_recorded_as_from_the_registry(ctx, people):
    customer = b.customer("Acme (old)", business_id="0112038-9", number=1001)
    db.session.commit()
    with acting_as(_user(people["ada"])):
        registry_search.apply_refresh(customer, ACME, {"address_visiting"})
    refreshed = _one(customer.id, "registry_refreshed")
    assert refreshed.details["registry"]["id"] == "fake"
    added = _one(customer.id, "address_added")
    assert added.details["via"] == "registry_refreshed"
    assert added.details["changes"]["street"] == [None, "Karakaari 7"]


# --- inactivate, move, merge ----------------------------------------------------------------


def test_inactivate_and_reactivate(ctx, people, acme):
    customer_id, _ = acme
    ada = _user(people["ada"])
    customer_service.set_active(db.session.get(Customer, customer_id), False, user=ada)
    customer_service.set_active(db.session.get(Customer, customer_id), True, user=ada)
    off, on = _one(customer_id, "inactivated"), _one(customer_id, "reactivated")
    assert off.details["changes"] == {"is_active": [True, False]}
    assert on.details["changes"] == {"is_active": [False, True]}
    assert off.user_name == on.user_name == "Ada Admin"
    assert not _events(customer_id, "edited")  # one entry each, not a second one


def test_a_project_moving_writes_on_both_customers(ctx, people, acme):
    customer_id, work_id = acme
    target = b.customer("Nokia Oyj", number=1002)
    db.session.commit()
    ada = _user(people["ada"])
    customer_service.move_projects(
        db.session.get(Customer, customer_id), target, [work_id], user=ada
    )
    left, joined = _one(customer_id, "project_moved"), _one(target.id, "project_moved")
    assert (left.related_customer_id, joined.related_customer_id) == (target.id, customer_id)
    assert left.details["projects"] == [{"id": work_id, "name": "Network audit"}]
    assert left.user_name == joined.user_name == "Ada Admin"
    # moved by setting the column (a host script; no invoices, so the guard lets it go)
    project = db.session.get(Project, work_id)
    project.customer_id = customer_id
    db.session.commit()
    back_out = _events(target.id, "project_moved")[-1]
    back_in = _events(customer_id, "project_moved")[-1]
    assert (back_out.details["direction"], back_in.details["direction"]) == ("out", "in")
    assert back_out.related_customer_id == customer_id
    assert back_in.details["label"] == "Network audit"


def test_merge_keeps_its_kinds_on_both_customers(ctx, people):
    keep = b.customer("Nokia Oyj", number=1002)
    dup = b.customer("Nokia Corporation", number=1003, website="nokia.com")
    dup.contacts.append(Contact(last_name="Lundmark"))
    db.session.commit()
    contact_id = dup.contacts[0].id
    customer_service.merge_customers(dup, keep, {"website": "duplicate"}, user=_user(people["ada"]))
    into, from_ = _one(dup.id, "merged_into"), _one(keep.id, "merged_from")
    assert into.related_customer_id == keep.id and from_.related_customer_id == dup.id
    assert into.details["changes"]["is_active"] == [True, False]
    assert from_.details["changes"]["website"] == [None, "nokia.com"]
    assert from_.details["merge"]["contacts_moved"] == [contact_id]
    assert not _events(dup.id, "edited") and not _events(keep.id, "edited")
    assert history.describe(from_).summary.startswith(
        "Duplicate 1003 Nokia Corporation merged in: moved 0 projects, 1 contact"
    )


# --- mass updates ---------------------------------------------------------------------------


def test_mass_update_and_its_undo_write_an_entry_per_customer_set_based(ctx, people):
    old, new = b.industry("Old trade"), b.industry("New trade")
    seg = b.segment("Big")
    ids = [b.customer(f"Bulk {n}", industry=old if n else None).id for n in range(3)]
    db.session.commit()
    ada = _user(people["ada"])
    batch = mu.apply(ada, ids, "industry", new.id)
    for n, customer_id in enumerate(ids):
        entry = _one(customer_id, "mass_updated")
        assert entry.details["batch"] == batch.id and entry.details["action"] == "industry"
        assert entry.details["changes"] == {"industry": ["Old trade" if n else None, "New trade"]}
        assert (entry.user_id, entry.user_name) == (ada.id, "Ada Admin")
        assert (entry.entity_type, entry.entity_id) == ("customer", customer_id)
    undo = mu.undo(ada, batch.id)
    entry = _one(ids[1], "mass_update_undone")
    assert entry.details["changes"] == {"industry": ["New trade", "Old trade"]}
    assert (entry.details["batch"], entry.details["undo_of"]) == (undo.id, batch.id)
    segments = mu.apply(ada, ids[:2], "add_segments", [seg.id])
    entry = _events(ids[0], "mass_updated")[-1]
    assert (entry.details["batch"], entry.details["segments"]) == (segments.id, {"added": ["Big"]})
    mu.undo(ada, segments.id)
    assert _events(ids[0], "mass_update_undone")[-1].details["segments"] == {"removed": ["Big"]}
    text = history.describe(entry)
    assert text.summary == f"Mass update #{segments.id}."
    assert [(c.label, c.after) for c in text.changes] == [("Market segments added", "Big")]


def test_the_mass_update_history_is_one_statement_whatever_the_number_of_customers(ctx, people):
    other = b.industry("Other")
    ids = [b.customer(f"Bulk {n}").id for n in range(30)]
    db.session.commit()
    ada = _user(people["ada"])
    counts = []
    for chosen in (ids[:3], ids[3:]):
        with recorded_statements(db.engine) as seen:
            mu.apply(ada, chosen, "industry", other.id)
        counts.append(sum("INSERT INTO custreg_customer_event" in s for s in seen))
    assert counts == [1, 1]
    assert db.session.scalar(
        select(db.func.count())
        .select_from(CustomerEvent)
        .where(CustomerEvent.kind == "mass_updated")
    ) == len(ids)


# --- what hangs on a customer ---------------------------------------------------------------


def test_contacts_addresses_and_einvoicing_addresses_added_changed_deleted(ctx, people, acme):
    customer_id, _ = acme
    customer = db.session.get(Customer, customer_id)
    with acting_as(_user(people["maija"])):
        contact = Contact(customer=customer, first_name="Pia", last_name="Ostaja")
        address = Address(customer=customer, kind="billing", street="PL 1", city="Oulu")
        einvoice = EInvoiceAddress(customer=customer, address="003701120389", operator="X")
        db.session.add_all([contact, address, einvoice])
        db.session.commit()
        contact.title, contact.is_active = "CFO", False
        address.city = "OULU"
        einvoice.is_default = True
        db.session.commit()
        db.session.delete(contact)
        db.session.delete(address)
        db.session.delete(einvoice)
        db.session.commit()
    for prefix, change, removed in (
        ("contact", {"title": [None, "CFO"], "is_active": [True, False]}, "Pia Ostaja"),
        ("address", {"city": ["Oulu", "OULU"]}, "PL 1, OULU"),
        ("einvoice", {"is_default": [False, True]}, "003701120389"),
    ):
        assert _one(customer_id, f"{prefix}_added").details["changes"]
        changed = _one(customer_id, f"{prefix}_changed")
        assert changed.details["changes"] == change, prefix
        assert changed.user_name == "Maija Myyjä"
        gone = _one(customer_id, f"{prefix}_removed")
        assert gone.details["label"] == removed
    gone = _one(customer_id, "contact_removed")
    assert gone.details["changes"]["last_name"] == ["Ostaja", None]


def test_projects_proposals_invoices_and_costs_added_changed_deleted(ctx, people, acme):
    customer_id, work_id = acme
    customer = db.session.get(Customer, customer_id)
    with acting_as(_user(people["ada"])):
        deal = b.sales_case(customer, name="5G bid")
        proposal = Proposal(project_id=deal.id, number="P-17", total=Decimal("900.00"))
        db.session.add(proposal)
        bill = b.invoice(customer, "500.00", date(2026, 3, 1), number="10023", project=deal)
        spent = b.cost(deal, "40.00", date(2026, 3, 2))
        db.session.commit()
        bill_id = bill.id
        deal.sales_status, deal.manager_id = "won", people["olli"].id
        proposal.total = Decimal("950.00")
        bill.total = Decimal("550.00")
        spent.amount = Decimal("45.50")
        db.session.commit()
        for row in (spent, bill, proposal):
            db.session.delete(row)
        db.session.commit()
        db.session.delete(deal)
        db.session.commit()
    project = _events(customer_id, "project_added")[-1]
    assert project.details["label"] == "5G bid" and project.details["project_kind"] == "sales_case"
    assert _one(customer_id, "project_changed").details["changes"] == {
        "manager": [None, "Olli Omistaja"],
        "sales_status": ["in_progress", "won"],
    }
    assert _one(customer_id, "proposal_added").details["changes"]["total"] == [None, "900.00"]
    assert _one(customer_id, "proposal_changed").details["changes"] == {
        "total": ["900.00", "950.00"]
    }
    invoice = _one(customer_id, "invoice_changed")
    assert invoice.details["changes"] == {"total": ["500.00", "550.00"]}
    assert (invoice.entity_type, invoice.entity_id) == ("invoice", bill_id)
    assert _one(customer_id, "invoice_added").details["changes"]["status"] == [None, "Sent"]
    cost = _one(customer_id, "cost_changed")
    assert cost.details["changes"] == {"amount": ["40.00", "45.50"]}
    assert cost.details["project"] == "5G bid"
    for kind in ("cost_removed", "invoice_removed", "proposal_removed", "project_removed"):
        assert _one(customer_id, kind).user_name == "Ada Admin"
    assert _one(customer_id, "invoice_removed").details["changes"]["total"] == ["550.00", None]


def test_deleting_a_project_records_the_costs_it_takes_along(ctx, people, acme):
    customer_id, work_id = acme
    work = db.session.get(Project, work_id)
    costs = [b.cost(work, "10.00", date(2026, 1, 5)).id, b.cost(work, "20.00", date(2026, 1, 6)).id]
    db.session.commit()
    with acting_as(_user(people["ada"])):
        db.session.delete(work)
        db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Cost)) == 0
    removed = _events(customer_id, "cost_removed")
    assert sorted(e.details["changes"]["amount"][0] for e in removed) == ["10.00", "20.00"]
    assert all(e.details["cascade"] and e.details["project"] == "Network audit" for e in removed)
    assert sorted(e.entity_id for e in removed) == sorted(costs)
    assert _one(customer_id, "project_removed").details["label"] == "Network audit"


def test_a_deleted_customer_takes_its_history_and_writes_none(ctx, people):
    customer = b.customer("Gone Oy")
    customer.contacts.append(Contact(last_name="X"))
    db.session.commit()
    customer_id = customer.id
    db.session.delete(customer)
    db.session.commit()
    assert _events(customer_id) == []


def test_host_sessions_are_left_alone(ctx, people):
    """The choke point listens on the module's sessions only, not SQLAlchemy's Session."""
    from sqlalchemy.orm import Session

    with Session(db.engine) as other:
        other.add(Customer(number=4242, name="Host-made", country="FI"))
        other.commit()
    customer_id = db.session.scalar(select(Customer.id).where(Customer.number == 4242))
    assert _events(customer_id) == []


def test_raw_statements_in_the_module_session_write_no_orm_entries(ctx, people, acme):
    customer_id, _ = acme
    before = len(_events(customer_id))
    db.session.execute(update(Customer).where(Customer.id == customer_id).values(phone="9"))
    db.session.execute(delete(Contact).where(Contact.customer_id == customer_id))
    db.session.commit()
    assert len(_events(customer_id)) == before


# --- the History page -----------------------------------------------------------------------


def _seed_page(app, people_owner_id):
    with app.app_context():
        customer = b.customer("Acme Oy", number=1001, owner=people_owner_id)
        work = b.project(customer, name="Network audit")
        b.invoice(customer, "500000.00", date(2026, 3, 1), number="10023", project=work)
        b.cost(work, "1234.50", date(2026, 3, 2))
        db.session.commit()
        customer.phone = "+358 1"
        db.session.commit()
        return customer.id


def test_history_page_newest_first_and_filtered_by_kind(app, client, login):
    login("admin")
    customer_id = _seed_page(app, None)
    url = f"/admin/customers/moves/history/?id={customer_id}"
    page = client.get(url).get_data(as_text=True)
    kinds = re.findall(r'<tr data-kind="([a-z_]+)"', page)
    assert kinds[0] == "edited" and "created" in kinds and "invoice_added" in kinds
    assert page.index("Customer details changed.") < page.index("Customer created.")
    assert '<option value="invoice_added"' in page
    only = client.get(url + "&kind=invoice_added").get_data(as_text=True)
    assert re.findall(r'<tr data-kind="([a-z_]+)"', only) == ["invoice_added"]
    assert "Invoice 10023 added." in only and "500000.00" in only
    # an unknown kind shows everything rather than failing
    assert len(re.findall(r"<tr data-kind=", client.get(url + "&kind=nope").get_data(True))) == (
        len(kinds)
    )


def test_money_in_the_history_follows_the_visibility_rule(app, client, login, make_user):
    colleague = make_user("user", name="Colleague")
    customer_id = _seed_page(app, colleague.id)
    login("user")  # owns nothing, manages nothing, may not see all invoices
    page = client.get(f"/admin/customers/moves/history/?id={customer_id}").get_data(True)
    assert "Invoice 10023 added." in page and "Cost dated 2026-03-02" in page
    assert "500000.00" not in page and "1234.50" not in page
    assert 'data-testid="money-hidden"' in page
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == colleague.id).values(can_view_all_invoices=True)
        )
        db.session.commit()
    seer = app.test_client()
    assert log_in(seer, colleague).status_code == 302
    page = seer.get(f"/admin/customers/moves/history/?id={customer_id}").get_data(True)
    assert "500000.00" in page and "1234.50" in page


def test_money_of_a_deleted_invoice_is_shown_only_to_who_sees_all(ctx, people, acme):
    customer_id, work_id = acme
    customer = db.session.get(Customer, customer_id)
    bill = b.invoice(customer, "77.00", date(2026, 1, 1), number="1")
    db.session.commit()
    db.session.delete(bill)
    db.session.commit()
    gone = _one(customer_id, "invoice_removed")
    maija, ada = _user(people["maija"]), _user(people["ada"])
    assert history.money_visibility(maija, [gone]) == set()  # owns it, but the row is gone
    assert history.money_visibility(ada, [gone]) == {("invoice", gone.entity_id)}
    assert "total" not in {c.label for c in history.describe(gone).changes}


@pytest.mark.parametrize(
    ("locale", "kind_label", "summary"),
    [
        ("fi", "Lasku lisätty", "Lasku 10023 lisätty."),
        ("nb", "Faktura lagt til", "Faktura 10023 lagt til."),
    ],
)
def test_history_is_shown_in_the_viewers_language(app, client, login, locale, kind_label, summary):
    admin = login("admin")
    with app.app_context():
        db.session.get(User, admin.id).locale = locale
        db.session.commit()
    customer_id = _seed_page(app, None)
    page = client.get(f"/admin/customers/moves/history/?id={customer_id}").get_data(True)
    assert kind_label in page and summary in page
    assert "Invoice added" not in page
