"""Issue 14's scenarios as a hostile plain user would try them (a valid session and CSRF token),
and the session backstop that refuses what no view was asked: all refused with a clear
message, nothing changed, the company's billing untouched."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from custreg_admin.context import acting_as
from custreg_admin.errors import PermissionDenied
from custreg_admin.extensions import db
from custreg_admin.models import Contact, Cost, Customer, Invoice, InvoiceStatus, Project
from custreg_admin.services import mass_update as mu
from custreg_admin.services.kpi import compute_kpis, local_today

from .. import builders as b
from ..helpers import csrf_token, flashes, log_in, snapshot

FORGED = "500000.00"


@pytest.fixture
def office(app, make_user):
    me = make_user("user", name="Hostile Harry")
    colleague = make_user("user", name="Colleague Carla")
    boss = make_user("admin", name="Boss")
    with app.app_context():
        today = local_today(app.config["CUSTREG_TIMEZONE"])
        mine = b.customer("Harry Oy", owner=me)
        theirs = b.customer("Carla Oy", owner=colleague)
        work = b.project(theirs, manager=colleague, name="Carla's project")
        case = b.sales_case(theirs, manager=colleague, name="Carla's sales case")
        b.invoice(theirs, "1234.00", today, project=work)
        b.cost(work, "100.00", today)
        sent = b.invoice_status("Sent").id
        own_invoice = b.invoice(mine, "1.00", today, number="OWN-0").id
        db.session.commit()
        ids = {
            "mine": mine.id,
            "theirs": theirs.id,
            "work": work.id,
            "case": case.id,
            "sent": sent,
            "own_invoice": own_invoice,
        }
        db.session.remove()
    return {"me": me, "colleague": colleague, "boss": boss, "today": today, **ids}


def _project_form(token, customer, manager, **changes) -> dict:
    return {
        "csrf_token": token,
        "customer": customer,
        "name": "Carla's project",
        "kind": "project",
        "sales_status": "in_progress",
        "manager": manager,
        **changes,
    }


def _billing(app, user, today):
    with app.app_context():
        figures = compute_kpis(db.session.merge(user), today)
        db.session.remove()
    return figures.billing_this_month, figures.margin_this_year


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_plain_user_cannot_forge_anything_on_a_colleagues_customer(app, office, client):
    log_in(client, office["me"])
    token = csrf_token(client, "/admin/")
    before = snapshot(app)
    company = _billing(app, office["boss"], office["today"])
    mine_before = _billing(app, office["me"], office["today"])
    theirs, work, case = office["theirs"], office["work"], office["case"]
    project_form = _project_form(token, theirs, office["colleague"].id)

    # delete a colleague's project (its costs would go with it), alone and as a bulk action
    response = client.post(
        "/admin/projects/delete/", data={"csrf_token": token, "id": work}, follow_redirects=True
    )
    assert "projects and sales cases only of customers you own" in _page(response)
    client.post(
        "/admin/projects/action/", data={"csrf_token": token, "action": "delete", "rowid": work}
    )

    # set oneself as the colleague's project's manager: refused, no invoice becomes visible
    response = client.post(
        f"/admin/projects/edit/?id={work}",
        data={**project_form, "manager": office["me"].id},
        follow_redirects=True,
    )
    assert "projects and sales cases only of customers you own" in _page(response)
    assert "1,234.00" not in client.get("/admin/invoices/").get_data(as_text=True)

    # rename it, flag it internal, mark the sales case lost
    for changes, row in (
        ({"name": "Mine now"}, work),
        ({"is_internal": "y"}, work),
        ({"kind": "sales_case", "sales_status": "lost", "name": "Carla's sales case"}, case),
    ):
        response = client.post(
            f"/admin/projects/edit/?id={row}",
            data={**project_form, **changes},
            follow_redirects=True,
        )
        assert "projects and sales cases only of customers you own" in _page(response), changes

    # a won sales case on the colleague's customer
    response = client.post(
        "/admin/projects/new/",
        data={**project_form, "name": "Won", "kind": "sales_case", "sales_status": "won"},
    )
    assert "projects and sales cases only of customers you own" in _page(response)

    # an invoice (Sent, 500,000) on the colleague's customer, and a cost on their project
    invoice_form = {
        "csrf_token": token,
        "customer": theirs,
        "number": "FORGED-1",
        "date": office["today"].isoformat(),
        "status": office["sent"],
        "total": FORGED,
    }
    response = client.post("/admin/invoices/new/", data=invoice_form)
    assert "invoices only of customers you own" in _page(response)
    response = client.post("/admin/invoices/new/", data={**invoice_form, "project": work})
    assert "invoices only of customers you own" in _page(response)
    response = client.post(
        "/admin/costs/new/",
        data={
            "csrf_token": token,
            "project": work,
            "date": office["today"].isoformat(),
            "amount": "-900000",
        },
    )
    assert "costs only of customers you own" in _page(response)

    # move an invoice of one's own customer onto the colleague's (and off it)
    response = client.post(
        f"/admin/invoices/edit/?id={office['own_invoice']}",
        data={**invoice_form, "number": "OWN-0", "total": "1.00"},
        follow_redirects=True,
    )
    assert "invoices only of customers you own; " in _page(response)

    assert snapshot(app) == before
    assert _billing(app, office["boss"], office["today"]) == company
    assert _billing(app, office["me"], office["today"]) == mine_before
    with app.app_context():
        assert db.session.scalar(select(Invoice).where(Invoice.total == Decimal(FORGED))) is None
        assert db.session.get(Project, work).manager_id == office["colleague"].id
        assert db.session.scalars(select(Cost)).all()
        db.session.remove()


def test_the_refused_project_delete_says_why_and_keeps_the_project(app, office, client):
    log_in(client, office["me"])
    token = csrf_token(client, "/admin/")
    before = snapshot(app)
    client.post("/admin/projects/delete/", data={"csrf_token": token, "id": office["work"]})
    messages = flashes(client)
    [(category, message)] = messages
    assert category == "error"
    assert message == (
        "You can add, change or delete projects and sales cases only of customers you own; "
        f"{_number(app, office['theirs'])} Carla Oy is not yours. Ask its account owner or a "
        "manager."
    )
    client.post(
        "/admin/projects/action/",
        data={"csrf_token": token, "action": "delete", "rowid": office["work"]},
    )
    messages = flashes(client)
    assert [c for c, _m in messages] == ["error"]  # one refusal, no "0 records were deleted"
    assert snapshot(app) == before


def _number(app, customer_id):
    with app.app_context():
        number = db.session.get(Customer, customer_id).number
        db.session.remove()
    return number


def test_deleting_a_project_with_invoices_names_them_instead_of_a_database_error(
    app, office, client
):
    log_in(client, office["boss"])
    token = csrf_token(client, "/admin/")
    before = snapshot(app)
    for url, data in (
        ("/admin/projects/delete/", {"id": office["work"]}),
        ("/admin/projects/action/", {"action": "delete", "rowid": office["work"]}),
    ):
        client.post(url, data={"csrf_token": token, **data})
        [(category, message)] = flashes(client)
        assert category == "error"
        assert message.startswith("Carla's project cannot be deleted: it has invoice INV-")
        assert "Close it instead." in message
    assert snapshot(app) == before


def test_a_database_refusal_never_shows_the_drivers_text(app, office, client):
    """An invoice status still used by invoices (the database restricts its deletion)."""
    log_in(client, office["boss"])
    token = csrf_token(client, "/admin/")
    before = snapshot(app)
    client.post(
        "/admin/settings/invoice-statuses/delete/",
        data={"csrf_token": token, "id": office["sent"]},
    )
    messages = flashes(client)
    assert [c for c, _m in messages] == ["error"], messages
    text = messages[0][1]
    assert "Nothing was saved" in text
    for raw in ("Integrity", "FOREIGN KEY", "violates", "psycopg", "sqlite3", "DETAIL"):
        assert raw not in text
    assert snapshot(app) == before


def test_the_backstop_refuses_a_forgotten_path_acting_as_the_user(app, office):
    """A host script (or an inline form) writing as the user: the flush itself is refused."""
    before = snapshot(app)
    with app.app_context():
        me = db.session.merge(office["me"])
        theirs = db.session.get(Customer, office["theirs"])
        with acting_as(me):
            theirs.contacts.append(Contact(first_name="Sneaky", last_name="Contact"))
            with pytest.raises(PermissionDenied, match="contacts and addresses only of customers"):
                db.session.commit()
            db.session.rollback()
            db.session.get(Project, office["work"]).manager_id = me.id
            with pytest.raises(PermissionDenied, match="projects and sales cases only"):
                db.session.flush()
            db.session.rollback()
            db.session.add(
                Invoice(
                    customer_id=office["theirs"],
                    number="FORGED-2",
                    date=office["today"],
                    status_id=office["sent"],
                    total=Decimal(FORGED),
                )
            )
            with pytest.raises(PermissionDenied, match="invoices only of customers you own"):
                db.session.flush()
            db.session.rollback()
            db.session.add(InvoiceStatus(name="Forged", counts_as_sent=True))
            with pytest.raises(PermissionDenied, match="Only administrators and managers"):
                db.session.flush()
            db.session.rollback()
            with pytest.raises(PermissionDenied, match="account owner"):
                mu.apply(me, [office["mine"]], "owner", office["colleague"].id)
        db.session.remove()
    assert snapshot(app) == before
    # the system (no acting user) may; and only the module's own sessions are checked
    with app.app_context():
        with acting_as(None):
            db.session.get(Project, office["work"]).name = "Renamed by the system"
            db.session.commit()
        with acting_as(db.session.merge(office["me"])), Session(db.engine) as other:
            other.get(Project, office["work"]).name = "Renamed by the host's own session"
            other.commit()
        assert db.session.get(Project, office["work"]).name == "Renamed by the host's own session"
        db.session.remove()


def test_role_user_works_freely_on_own_customers(app, office, client):
    """The control: the same requests on the user's own customer are saved."""
    log_in(client, office["me"])
    token = csrf_token(client, "/admin/")
    response = client.post(
        "/admin/projects/new/",
        data=_project_form(token, office["mine"], office["me"].id, name="My own work"),
    )
    assert response.status_code == 302
    with app.app_context():
        work = db.session.scalar(select(Project).where(Project.name == "My own work"))
        assert work is not None and work.customer_id == office["mine"]
        db.session.remove()
    response = client.post(
        "/admin/invoices/new/",
        data={
            "csrf_token": token,
            "customer": office["mine"],
            "project": work.id,
            "number": "OWN-1",
            "date": office["today"].isoformat(),
            "status": office["sent"],
            "total": "10.00",
        },
    )
    assert response.status_code == 302
    assert _billing(app, office["me"], office["today"])[0] == Decimal("11.00")  # 1.00 + 10.00


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_admins_and_managers_may_set_any_project_manager(app, office, client, login, role):
    login(role)
    token = csrf_token(client, "/admin/")
    response = client.post(
        f"/admin/projects/edit/?id={office['work']}",
        data=_project_form(token, office["theirs"], office["me"].id),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Project, office["work"]).manager_id == office["me"].id
        db.session.remove()
