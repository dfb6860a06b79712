"""Access to every URL of the module, from the app's url_map (nothing hand-listed):

* without a login: every page sends to the login page; every POST is refused (no CSRF token:
  400; with a token: to the login page) and changes nothing;
* logged in, without or with a forged CSRF token: every POST answers 400 and changes nothing;
* role ``user``: other owners' customers, saved reports and mass updates are refused where the
  rules say so (edit, delete, inactivate, move, merge, undo, saved-report actions), and no page,
  download or JSON answer shows money of customers whose invoices the user may not see.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from flask import url_for
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, Invoice, MassUpdateBatch, SavedReport, User
from custreg_admin.services import mass_update as mu
from custreg_admin.services.imports import uploads
from custreg_admin.services.kpi import local_today
from custreg_admin.services.reports import make_spec
from custreg_admin.services.reports import saved as saved_reports

from .. import builders as b
from ..helpers import csrf_token, snapshot

SECRET_BILLING = Decimal("987654.32")  # the other owner's invoices, this month, last year
SECRET_COST = Decimal("876543.21")  # the other owner's project's cost, today
MY_BILLING = Decimal("111.11")
#: money as any page or file may write it: 987654.32, 987 654,32, 987,654.32, 987.654,32...
_MONEY = re.compile(r"(?<![\d.,])(\d{4,}|\d{1,3}(?:[ \u00a0\u202f.,']\d{3})*)[.,](\d{2})(?!\d)")
#: the smallest figure that can only come from the other owner's money (alone or in a sum)
LEAK_THRESHOLD = Decimal("800000")

#: sample values for the url_map's path arguments
STATIC_ENDPOINTS = (".static", "static")


def _money_in(text: str) -> list[Decimal]:
    found = []
    for whole, cents in _MONEY.findall(text):
        digits = re.sub(r"\D", "", whole)
        found.append(Decimal(f"{digits}.{cents}"))
    return found


def _leaks(text: str) -> list[Decimal]:
    return [value for value in _money_in(text) if value >= LEAK_THRESHOLD]


def test_the_money_pattern_finds_every_spelling():
    for text in ("987654.32", "987 654,32", "987,654.32", "987.654,32", "987\u00a0654,32 €"):
        assert _leaks(text) == [SECRET_BILLING], text
    assert _leaks("1 864 197,53") == [Decimal("1864197.53")]  # a sum holding it
    assert _leaks("111,11 and 2024-05-01 and 100234") == []


@pytest.fixture
def world(app, make_user):
    """Me (role ``user``), another owner, a manager; customers, money, a saved report and a
    mass update of the other owner."""
    me = make_user("user", name="Me Myself")
    other = make_user("user", name="Other Owner")
    manager = make_user("manager")
    with app.app_context():
        today = local_today(app.config["CUSTREG_TIMEZONE"])
        mine = b.customer("My Customer Oy", owner=me)
        theirs = b.customer("Their Customer Oy", owner=other)
        my_work = b.project(mine, manager=me, name="My project")
        their_work = b.project(theirs, manager=other, name="Their project")
        b.sales_case(theirs, manager=other, name="Their sales case")
        b.invoice(mine, MY_BILLING, today, project=my_work)
        their_invoice = b.invoice(theirs, SECRET_BILLING, today, project=their_work)
        b.invoice(theirs, SECRET_BILLING, date(today.year - 1, 6, 1), project=their_work)
        their_cost = b.cost(their_work, SECRET_COST, today)
        db.session.commit()
        spec = make_spec("customers", ["name", "billing_this_year"], {}, None, viewer=other)
        report = saved_reports.create_report(other, "Other's private report", spec)
        plan = mu.plan(other, mu.Selection.of_ids([theirs.id]), "status", b.customer_status().id)
        batch = mu.apply(other, plan)
        upload = uploads.store(manager, "theirs.csv", b"Name;Business ID\nTheir New Oy;\n")
        ids = {
            "mine": mine.id,
            "theirs": theirs.id,
            "their_project": their_work.id,
            "my_project": my_work.id,
            "their_invoice": their_invoice.id,
            "their_cost": their_cost.id,
            "report": report.id,
            "batch": batch.id,
            "upload": upload,
            "other": other.id,
        }
        db.session.remove()
    return {"me": me, "other": other, "manager": manager, **ids}


def _module_rules(app):
    blueprints = app.extensions["custreg_admin"].blueprints
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        owner = rule.endpoint.rsplit(".", 1)[0]
        if owner not in blueprints or rule.endpoint.endswith(STATIC_ENDPOINTS):
            continue
        yield rule


def _sample_query(endpoint: str, world) -> dict:
    """An object of the other owner for pages that take an ``id``."""
    view, _, name = endpoint.partition(".")
    ids = {
        "custreg_customer": world["theirs"],
        "custreg_project": world["their_project"],
        "custreg_invoice": world["their_invoice"],
        "custreg_cost": world["their_cost"],
        "custreg_user": world["other"],
        "custreg_moves": world["theirs"],
    }
    query = {}
    if view in ids and name not in ("index_view", "index", "create_view", "action_view"):
        query["id"] = ids[view]
    if endpoint == "custreg_moves.merge":
        query["keep"] = world["mine"]
    if endpoint == "custreg_moves.projects":
        query.update(target=world["mine"], project=world["their_project"])
    if endpoint == "custreg_customer.registry_search_view":
        query.update(q="acme", format="json", country="ZZ")  # no registry: no network
    if endpoint == "custreg_reports.build_view" or endpoint == "custreg_reports.download_view":
        query = {
            "type": "customers",
            "columns": [
                "name",
                "billing_this_year",
                "billing_last_year",
                "costs_this_year",
                "margin_this_year",
            ],
        }
    return query


def _urls(app, world, methods: set[str]) -> list[tuple[str, str]]:
    args = {
        "batch_id": world["batch"],
        "key": world["upload"],
        "report_id": world["report"],
        "export_type": "csv",
        "action": "rename",
    }
    urls = []
    with app.test_request_context():
        for rule in _module_rules(app):
            if not methods & rule.methods:
                continue
            values = {name: args[name] for name in rule.arguments if name in args}
            formats = ["csv", "xlsx"] if "fmt" in rule.arguments else [None]
            for fmt in formats:
                if fmt:
                    values["fmt"] = fmt
                url = url_for(rule.endpoint, **values)
                query = _sample_query(rule.endpoint, world)
                if query:
                    url += "?" + urlencode(query, doseq=True)
                urls.append((rule.endpoint, url))
    return urls


def test_the_enumeration_covers_the_module(app, world):
    endpoints = {endpoint for endpoint, _ in _urls(app, world, {"GET", "POST"})}
    assert len(endpoints) > 100
    for expected in (
        "custreg_admin_home.index",
        "custreg_customer.details_view",
        "custreg_invoice.export",
        "custreg_mass_update.undo_view",
        "custreg_reports.download_view",
        "custreg_auth.login",
        "custreg_auth.logout",
    ):
        assert expected in endpoints


# --- without a login -----------------------------------------------------------------------------


def test_every_page_sends_to_the_login_page_without_a_login(app, world):
    client = app.test_client()
    for endpoint, url in _urls(app, world, {"GET"}):
        response = client.get(url)
        if endpoint == "custreg_auth.login":
            assert response.status_code == 200
            continue
        assert response.status_code == 302, (url, response.status_code)
        assert response.headers["Location"].startswith("/admin/login?next="), url


def test_every_post_without_a_login_is_refused_and_changes_nothing(app, world):
    before = snapshot(app)
    client = app.test_client()
    token = csrf_token(client)
    for endpoint, url in _urls(app, world, {"POST"}):
        if endpoint == "custreg_auth.login":
            continue
        data = {"id": world["theirs"], "name": "Changed", "rowid": world["theirs"]}
        assert client.post(url, data=data).status_code == 400, url  # no CSRF token
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 302, (url, response.status_code)
        if endpoint == "custreg_language.set_language":
            # open to all: the login page's language choice, kept in the session until a
            # login saves it to the profile; nothing else changes (the snapshot below)
            assert response.headers["Location"].startswith("/admin/"), url
            continue
        assert "/admin/login" in response.headers["Location"], url
    assert snapshot(app) == before


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged.token.value", "IjEyMyI.ZZZ.abc"])
def test_every_post_needs_the_sessions_csrf_token(app, world, client, login, token):
    login("admin")
    other_session = app.test_client()
    stolen = csrf_token(other_session)  # valid, but another session's
    before = snapshot(app)
    for _endpoint, url in _urls(app, world, {"POST"}):
        data = {"id": world["theirs"], "name": "Changed", "action": "delete"}
        data["rowid"] = world["theirs"]
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url, data=data)
        assert response.status_code == 400, (url, response.status_code)
        assert "CSRF" in response.get_data(as_text=True), url
        data["csrf_token"] = stolen
        assert client.post(url, data=data).status_code == 400, url
    assert snapshot(app) == before
    assert client.get("/admin/").status_code == 200  # still logged in


# --- role user: other owners' objects ------------------------------------------------------------


def _customer(app, customer_id):
    with app.app_context():
        row = db.session.get(Customer, customer_id)
        values = (row.name, row.owner_id, row.is_active)
        db.session.remove()
    return values


def test_role_user_cannot_change_other_owners_customers(app, world, client):
    from ..helpers import log_in

    log_in(client, world["me"])
    token = csrf_token(client, "/admin/")
    theirs = world["theirs"]
    before = snapshot(app)

    response = client.post(
        f"/admin/customers/edit/?id={theirs}",
        data={"csrf_token": token, "name": "Taken Over Oy", "country": "FI"},
        follow_redirects=True,
    )
    assert "You can edit only customers you own" in response.get_data(as_text=True)
    response = client.post(
        "/admin/customers/delete/",
        data={"csrf_token": token, "id": theirs},
        follow_redirects=True,
    )
    assert "You can delete only customers you own" in response.get_data(as_text=True)
    client.post(
        "/admin/customers/action/",
        data={"csrf_token": token, "action": "delete", "rowid": theirs},
    )
    response = client.post(
        "/admin/customers/inactivate/",
        data={"csrf_token": token, "id": theirs},
        follow_redirects=True,
    )
    assert "You can inactivate only customers you own" in response.get_data(as_text=True)
    client.post(
        "/admin/customers/moves/projects/",
        data={
            "csrf_token": token,
            "id": theirs,
            "target": world["mine"],
            "project": world["their_project"],
        },
    )
    assert snapshot(app) == before
    assert _customer(app, theirs) == ("Their Customer Oy", world["other"], True)

    # their own customer: the same user may edit it
    response = client.post(
        f"/admin/customers/edit/?id={world['mine']}",
        data={"csrf_token": token, "name": "My Renamed Oy", "country": "FI"},
    )
    assert response.status_code == 302
    assert _customer(app, world["mine"])[0] == "My Renamed Oy"


def test_role_user_cannot_touch_other_users_reports_and_mass_updates(app, world, client):
    from ..helpers import log_in

    log_in(client, world["me"])
    token = csrf_token(client, "/admin/")
    before = snapshot(app)
    for action in ("rename", "share", "unshare", "delete", "update"):
        response = client.post(
            f"/admin/reports/saved/{world['report']}/{action}/",
            data={"csrf_token": token, "name": "Mine now"},
        )
        assert response.status_code in (302, 403, 404), (action, response.status_code)
    client.post(
        f"/admin/customers/mass-update/batch/{world['batch']}/undo/",
        data={"csrf_token": token},
    )
    page = client.get(f"/admin/reports/build/?report={world['report']}", follow_redirects=True)
    assert "Other&#39;s private report" not in page.get_data(as_text=True)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.get(SavedReport, world["report"]).name == "Other's private report"
        assert db.session.get(MassUpdateBatch, world["batch"]).undone_at is None
        db.session.remove()


def _bodies(response) -> str:
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(
            " ".join(
                f"{cell:.2f}" if isinstance(cell, (Decimal, float)) else str(cell) for cell in row
            )
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.get_data(as_text=True)


@pytest.mark.commits
@pytest.mark.parametrize("locale_header", ["en-GB", "fi-FI"])
def test_invoice_money_never_leaks_across_owners(app, world, client, locale_header):
    from ..helpers import log_in

    log_in(client, world["me"])
    reached = 0
    for _endpoint, url in _urls(app, world, {"GET"}):
        response = client.get(url, headers={"Accept-Language": locale_header})
        assert response.status_code < 500, url
        text = _bodies(response)
        assert not _leaks(text), (url, _leaks(text))
        reached += response.status_code == 200
    assert reached > 30
    # the pages that do show money show the user's own
    card = client.get(f"/admin/customers/details/?id={world['mine']}").get_data(as_text=True)
    assert Decimal("111.11") in _money_in(card)
    theirs = client.get(f"/admin/customers/details/?id={world['theirs']}")
    assert theirs.status_code == 200 and "Their Customer Oy" in theirs.get_data(as_text=True)
    listing = client.get("/admin/invoices/").get_data(as_text=True)
    assert Decimal("111.11") in _money_in(listing)
    assert client.get(f"/admin/invoices/details/?id={world['their_invoice']}").status_code == 302


def test_a_manager_with_all_invoices_sees_the_figures_the_user_may_not(app, world, client, login):
    """The control: the same URLs do show the figures to someone who may see them."""
    login("user", can_view_all_invoices=True)
    card = client.get(f"/admin/customers/details/?id={world['theirs']}").get_data(as_text=True)
    assert SECRET_BILLING in _money_in(card)
    with app.app_context():
        count = db.session.scalar(select(db.func.count()).select_from(Invoice))
        assert count == 3 and db.session.scalar(select(db.func.count()).select_from(User)) >= 3
        db.session.remove()
