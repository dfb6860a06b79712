"""Hostile values sent to every form and action of the module.

For each target (a form field, a query parameter, an action's ids) and each hostile value:

* the answer is never a 5xx;
* a value with a NUL byte is refused with a clear message (PostgreSQL cannot store it);
* otherwise the value is either refused with a visible message, leaving the database as it
  was (nothing half-saved), or stored exactly as sent (it round-trips);
* HTML and JavaScript are never echoed unescaped, on the answer or on any page after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import (
    Contact,
    Cost,
    Customer,
    Industry,
    Invoice,
    SavedReport,
    User,
    VatRate,
)

from .. import builders as b
from ..helpers import csrf_token

SCRIPT = '<script>alert("xss")</script>'
HOSTILE = {
    "very long": "Ä" * 5000,
    "html and script": f'{SCRIPT}<img src=x onerror="alert(1)">',
    "sql fragment": "x'; DROP TABLE custreg_customer; --",
    "nul byte": "before\x00after",
    "unicode digits": "²³",
    "negative": "-1",
    "huge number": "99999999999999999999999999",
    "not a number": "NaN",
    "right-to-left and emoji": "\u202eKO\U0001f600",
    "json-ish": '{"$gt": ""}',
}
#: what a refusal looks like on a page: a flashed alert, a field error, or Flask's error page
REFUSAL_MARKS = ("alert-danger", "alert-warning", "invalid-feedback", "help-block", "Bad Request")


@dataclass
class Attempt:
    client: FlaskClient
    token: str
    value: str
    ids: dict[str, int]

    def post(self, url: str, data: dict[str, Any]):
        return self.client.post(url, data={"csrf_token": self.token, **data})

    def get(self, path: str, **params):
        return self.client.get(path, query_string=params)


def _stored(model, column, **where) -> Callable[[], list[str]]:
    def read() -> list[str]:
        query = select(column)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return [str(v) for v in db.session.scalars(query) if v is not None]

    return read


# --- the targets: (how to send the value, where it would be stored) ------------------------------


def _customer_create(a: Attempt):
    return a.post("/admin/customers/new/", {"name": a.value, "country": "FI"}), _stored(
        Customer, Customer.name
    )


def _customer_fields(a: Attempt):
    data = {
        "name": "Hostile Fields Oy",
        "country": "FI",
        "website": a.value,
        "email": a.value,
        "phone": a.value,
        "notes": a.value,
    }
    return a.post("/admin/customers/new/", data), _stored(Customer, Customer.notes)


def _customer_identifiers(a: Attempt):
    data = {"name": "Hostile Ids Oy", "country": "FI", "business_id": a.value, "number": a.value}
    return a.post("/admin/customers/new/", data), _stored(Customer, Customer.business_id)


def _customer_inline_rows(a: Attempt):
    data = {
        "name": "Inline Oy",
        "country": "FI",
        "addresses-0-kind": "visiting",
        "addresses-0-street": a.value,
        "addresses-0-city": a.value,
        "einvoice_addresses-0-address": a.value,
        "contacts-0-first_name": a.value,
        "contacts-0-email": a.value,
    }
    return a.post("/admin/customers/new/", data), _stored(Contact, Contact.first_name)


def _customer_edit(a: Attempt):
    url = f"/admin/customers/edit/?id={a.ids['customer']}"
    data = {"name": a.value, "country": "FI", "number": "5001"}
    return a.post(url, data), _stored(Customer, Customer.name, id=a.ids["customer"])


def _industry(a: Attempt):
    data = {"name": a.value, "code": a.value}
    return a.post("/admin/settings/industries/new/", data), _stored(Industry, Industry.name)


def _vat_rate(a: Attempt):
    data = {"name": "Hostile VAT", "percent": a.value, "country": a.value}
    return a.post("/admin/settings/vat-rates/new/", data), _stored(VatRate, VatRate.country)


def _user(a: Attempt):
    data = {"name": a.value, "email": a.value, "role": a.value, "new_password": a.value}
    return a.post("/admin/settings/users/new/", data), _stored(User, User.name)


def _settings_lists(a: Attempt):
    return [
        a.post("/admin/settings/customer-statuses/new/", {"name": a.value}),
        a.post("/admin/settings/invoice-templates/new/", {"name": a.value, "language": a.value}),
        a.post("/admin/settings/market-segments/new/", {"name": "Segment", "parent": a.value}),
        a.post(
            "/admin/settings/invoice-statuses/new/", {"name": a.value, "counts_as_sent": a.value}
        ),
    ], None


def _project_and_proposal(a: Attempt):
    data = {
        "customer": a.ids["customer"],
        "name": a.value,
        "kind": a.value,
        "sales_status": a.value,
        "manager": a.value,
    }
    responses = [
        a.post("/admin/projects/new/", data),
        a.post(f"/admin/projects/edit/?id={a.ids['project']}", data),
        a.post(
            "/admin/proposals/new/",
            {"project": a.ids["project"], "number": a.value, "total": a.value},
        ),
    ]
    return responses, None


def _invoice(a: Attempt):
    data = {
        "customer": a.ids["customer"],
        "number": a.value,
        "date": a.value,
        "status": a.value,
        "total": a.value,
    }
    return a.post("/admin/invoices/new/", data), _stored(Invoice, Invoice.number)


def _cost(a: Attempt):
    data = {"project": a.ids["project"], "date": "2024-01-01", "amount": a.value}
    return a.post("/admin/costs/new/", data), _stored(Cost, Cost.amount)


def _list_action(a: Attempt):
    data = {"action": "delete", "rowid": [a.value, a.value]}
    return a.post("/admin/settings/industries/action/", data), None


def _list_action_name(a: Attempt):
    return a.post("/admin/customers/action/", {"action": a.value, "rowid": a.ids["customer"]}), None


def _details_ids(a: Attempt):
    responses = [
        a.get(f"/admin/{view}/{page}/", id=a.value, url=a.value)
        for view in ("customers", "invoices", "projects", "settings/industries", "settings/users")
        for page in ("details", "edit")
    ]
    responses += [
        a.get("/admin/customers/inactivate/", id=a.value),
        a.post("/admin/customers/inactivate/", {"id": a.value}),
        a.post("/admin/settings/industries/delete/", {"id": a.value}),
    ]
    return responses, None


def _summary_list(a: Attempt):
    return [
        a.get("/admin/customers/", search=a.value),
        a.get("/admin/customers/", flt0_0=a.value, flt1_41=a.value),
        a.get("/admin/customers/", sort=a.value, desc=a.value, page=a.value, page_size=a.value),
        a.get("/admin/invoices/", search=a.value, sort=a.value, page=a.value),
        a.get("/admin/invoices/ajax/lookup/", name="customer", query=a.value),
        a.get("/admin/invoices/ajax/lookup/", name=a.value, query="x"),
    ], None


def _registry_search(a: Attempt):
    return [  # ZZ and the hostile "country" have no registry: nothing goes to the network
        a.get("/admin/customers/registry/search/", country="ZZ", q=a.value),
        a.get("/admin/customers/registry/search/", country="ZZ", q=a.value, format="json"),
        a.get("/admin/customers/registry/search/", country=a.value, q="acme", format="json"),
        a.get("/admin/customers/new/", registry=a.value, business_id=a.value, q=a.value),
    ], None


def _mass_update(a: Attempt):
    customer = a.ids["customer"]
    return [
        a.get("/admin/customers/mass-update/", ids=a.value),
        a.get("/admin/customers/mass-update/", spec=a.value),
        a.get("/admin/customers/mass-update/", ids=customer, action=a.value, value=a.value),
        a.post(
            "/admin/customers/mass-update/preview/",
            {"ids": customer, "action": "status", "value": a.value, "return_url": a.value},
        ),
        a.post(
            "/admin/customers/mass-update/preview/",
            {"ids": a.value, "action": a.value, "value": a.value},
        ),
        a.post("/admin/customers/mass-update/apply/", {"token": a.value, "return_url": a.value}),
        a.post("/admin/customers/mass-update/from-report/", {"customer_ids": a.value}),
        a.get("/admin/customers/mass-update/history/", page=a.value),
    ], None


def _report_builder(a: Attempt):
    return [
        a.get("/admin/reports/build/", type=a.value),
        a.get("/admin/reports/build/", type="customers", columns=a.value, sort=a.value),
        a.get("/admin/reports/build/", type="customers", f_country=a.value, f_name=a.value),
        a.get("/admin/reports/build/", report=a.value),
        a.get("/admin/reports/download/csv/", type="customers", columns=a.value),
        a.post(
            "/admin/reports/build/",
            {"type": "customers", "columns": "name", "move": a.value, "page_size": a.value},
        ),
    ], None


def _saved_report_name(a: Attempt):
    data = {"type": "customers", "columns": "name", "action": "save_as", "new_name": a.value}
    return a.post("/admin/reports/build/", data), _stored(SavedReport, SavedReport.name)


def _saved_report_rename(a: Attempt):
    url = f"/admin/reports/saved/{a.ids['report']}/rename/"
    return a.post(url, {"name": a.value}), _stored(SavedReport, SavedReport.name)


def _moves(a: Attempt):
    customer = a.ids["customer"]
    return [
        a.get("/admin/customers/moves/projects/", id=customer, target=a.value, project=a.value),
        a.post(
            "/admin/customers/moves/projects/",
            {"id": customer, "target": a.value, "project": a.value},
        ),
        a.get("/admin/customers/moves/merge/", id=customer, keep=a.value, q=a.value),
        a.post("/admin/customers/moves/merge/", {"id": customer, "keep": a.value, "token": "x"}),
        a.get("/admin/customers/moves/search/", q=a.value, exclude=a.value),
        a.get("/admin/customers/moves/history/", id=a.value, page=a.value),
    ], None


TARGETS = {
    "customer create": _customer_create,
    "customer contact fields": _customer_fields,
    "customer identifiers and number": _customer_identifiers,
    "customer inline rows": _customer_inline_rows,
    "customer edit": _customer_edit,
    "industry": _industry,
    "VAT rate": _vat_rate,
    "user": _user,
    "settings lists": _settings_lists,
    "project and proposal": _project_and_proposal,
    "invoice": _invoice,
    "cost": _cost,
    "list action ids": _list_action,
    "list action name": _list_action_name,
    "malformed ids": _details_ids,
    "list search, filters, sort, lookups": _summary_list,
    "registry search": _registry_search,
    "mass update steps": _mass_update,
    "report builder": _report_builder,
    "saved report name": _saved_report_name,
    "saved report rename": _saved_report_rename,
    "moves and merge": _moves,
}


@pytest.fixture
def hostile_world(app, make_user):
    admin = make_user("admin")
    with app.app_context():
        customer = b.customer("Target Oy", owner=admin)
        project = b.project(customer, manager=admin)
        b.invoice(customer, "10.00", date(2024, 1, 1), project=project)
        db.session.commit()
        from custreg_admin.services.reports import make_spec
        from custreg_admin.services.reports import saved as saved_reports

        spec = make_spec("customers", ["name"], {}, None, viewer=admin)
        report = saved_reports.create_report(admin, "Target report", spec)
        ids = {"customer": customer.id, "project": project.id, "report": report.id}
        db.session.remove()
    return admin, ids


def _snapshot(app) -> dict[str, list[tuple]]:
    with app.app_context():
        rows = {
            t.name: sorted(tuple(map(str, r)) for r in db.session.execute(t.select()))
            for t in db.metadata.sorted_tables
            if t.name not in ("custreg_customer_history",)
        }
        db.session.remove()
    return rows


def _round_trips(value: str, stored: list[str]) -> bool:
    """Stored as sent (a number: the same number, "-1" stored as -1.00)."""
    if value in stored or value.strip() in stored:
        return True
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and any(_same_number(number, s) for s in stored)


def _same_number(number: Decimal, text: str) -> bool:
    try:
        return Decimal(text) == number
    except InvalidOperation:
        return False


def _as_list(responses) -> list:
    return responses if isinstance(responses, list) else [responses]


@pytest.mark.parametrize("target", list(TARGETS))
def test_hostile_values(app, client, hostile_world, target):
    from ..helpers import log_in

    admin, ids = hostile_world
    assert log_in(client, admin).status_code == 302
    token = csrf_token(client, "/admin/")
    for label, value in HOSTILE.items():
        before = _snapshot(app)
        responses, read_stored = TARGETS[target](Attempt(client, token, value, ids))
        texts = []
        for response in _as_list(responses):
            assert response.status_code < 500, (target, label, response.status_code)
            follow = response
            if response.status_code in (301, 302, 303):
                follow = client.get(response.headers["Location"])
                assert follow.status_code < 500, (target, label, response.headers["Location"])
            text = response.get_data(as_text=True) + follow.get_data(as_text=True)
            assert SCRIPT not in text, (target, label)
            assert 'onerror="alert(1)"' not in text, (target, label)
            texts.append(text)
        if "\x00" in value and read_stored is not None:
            [response] = _as_list(responses)
            assert response.status_code == 400, (target, label)
            assert "NUL" in texts[0], (target, label)
            assert _snapshot(app) == before, (target, label)
            continue
        if read_stored is None:
            continue
        with app.app_context():
            stored = read_stored()
            db.session.remove()
        if _round_trips(value, stored):
            continue  # stored exactly as sent
        assert _snapshot(app) == before, (target, label, "half-saved")
        assert any(mark in t for t in texts for mark in REFUSAL_MARKS), (
            target,
            label,
            "refused without a message",
        )
    # what was stored is shown escaped on the pages that list it
    for page in (
        "/admin/customers/",
        f"/admin/customers/details/?id={ids['customer']}",
        "/admin/settings/industries/",
        "/admin/settings/users/",
        "/admin/invoices/",
        "/admin/reports/",
        "/admin/customers/mass-update/history/",
    ):
        text = client.get(page).get_data(as_text=True)
        assert SCRIPT not in text and 'onerror="alert(1)"' not in text, page
