"""Settings lists and users: create, edit, delete through the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import (
    CustomerStatus,
    Industry,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    User,
    VatRate,
)

from ..helpers import PASSWORD, csrf_token, log_in


def _rows(app, model, order=None):
    with app.app_context():
        rows = db.session.scalars(select(model).order_by(order or model.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _post(client, url, **data):
    data["csrf_token"] = csrf_token(client, "/admin/")
    return client.post(url, data=data)


def test_defaults_are_seeded(app):
    assert [s.name for s in _rows(app, CustomerStatus)] == ["Active", "Passive"]
    sent = {s.name: s.counts_as_sent for s in _rows(app, InvoiceStatus)}
    assert sent == {
        "Draft": False,
        "Approved": False,
        "Sent": True,
        "Paid": True,
        "Credited": False,
    }
    assert any(r.country == "FI" and r.percent == Decimal("25.50") for r in _rows(app, VatRate))


@pytest.mark.parametrize(
    ("url", "model", "data", "check"),
    [
        (
            "/admin/settings/industries/",
            Industry,
            {"code": "62010", "name": "Programming"},
            lambda r: (r.code, r.name) == ("62010", "Programming"),
        ),
        (
            "/admin/settings/invoice-templates/",
            InvoiceTemplate,
            {"name": "Nordic EN", "language": "en"},
            lambda r: r.language == "en",
        ),
        (
            "/admin/settings/vat-rates/",
            VatRate,
            {"country": "SE", "name": "General 25%", "percent": "25.00"},
            lambda r: (r.country, r.percent) == ("SE", Decimal("25.00")),
        ),
        (
            "/admin/settings/customer-statuses/",
            CustomerStatus,
            {"name": "Key account"},
            lambda r: r.name == "Key account",
        ),
        (
            "/admin/settings/invoice-statuses/",
            InvoiceStatus,
            {"name": "Sent to e-invoicing", "counts_as_sent": "y"},
            lambda r: r.counts_as_sent,
        ),
        (
            "/admin/settings/market-segments/",
            MarketSegment,
            {"name": "Energy"},
            lambda r: r.name == "Energy" and r.parent_id is None,
        ),
    ],
)
def test_settings_crud(app, admin_client, url, model, data, check):
    before = len(_rows(app, model))
    response = _post(admin_client, url + "new/", **data)
    assert response.status_code == 302, response.get_data(as_text=True)
    created = _rows(app, model)[-1]
    assert len(_rows(app, model)) == before + 1 and check(created)
    listing = admin_client.get(url).get_data(as_text=True)
    assert data["name"] in listing

    edited = dict(data, name=data["name"] + " (edited)")
    response = _post(admin_client, f"{url}edit/?id={created.id}", **edited)
    assert response.status_code == 302
    assert _rows(app, model)[-1].name.endswith("(edited)")

    response = _post(admin_client, url + "delete/", id=created.id)
    assert response.status_code == 302
    assert len(_rows(app, model)) == before


def test_vat_percent_must_be_between_0_and_100(app, admin_client):
    response = _post(
        admin_client, "/admin/settings/vat-rates/new/", country="FI", name="Bad", percent="120"
    )
    assert response.status_code == 200
    assert "Number must be between 0 and 100" in response.get_data(as_text=True)


def test_market_segments_nest(app, admin_client):
    _post(admin_client, "/admin/settings/market-segments/new/", name="Public sector")
    parent = _rows(app, MarketSegment)[-1]
    response = _post(
        admin_client,
        "/admin/settings/market-segments/new/",
        name="Municipalities",
        parent=str(parent.id),
    )
    assert response.status_code == 302
    child = _rows(app, MarketSegment)[-1]
    assert child.parent_id == parent.id
    with app.app_context():
        assert str(db.session.get(MarketSegment, child.id)) == "Public sector / Municipalities"


def test_admin_creates_a_user_who_can_log_in(app, admin_client, client):
    response = _post(
        admin_client,
        "/admin/settings/users/new/",
        name="Maija Myyjä",
        email="Maija@Example.com",
        role="manager",
        can_view_all_invoices="y",
        is_active="y",
        new_password="a-long-password",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = next(u for u in _rows(app, User) if u.name == "Maija Myyjä")
    assert user.email == "maija@example.com"
    assert user.role == "manager" and user.can_view_all_invoices
    assert user.password_hash and "a-long-password" not in user.password_hash
    fresh = app.test_client()
    assert log_in(fresh, user, password="a-long-password").status_code == 302


def test_new_user_needs_a_password_and_a_valid_email(app, admin_client):
    response = _post(
        admin_client,
        "/admin/settings/users/new/",
        name="No Pass",
        email="nopass@example.com",
        role="user",
        is_active="y",
    )
    assert "A new user needs a password." in response.get_data(as_text=True)
    response = _post(
        admin_client,
        "/admin/settings/users/new/",
        name="Bad Mail",
        email="not-an-email",
        role="user",
        new_password="a-long-password",
    )
    assert "Invalid email address." in response.get_data(as_text=True)
    assert {u.name for u in _rows(app, User)} == {"Admin 1"}


def test_editing_a_user_keeps_the_password_when_left_empty(app, admin_client, make_user):
    other = make_user("user", name="Ulla User")
    response = _post(
        admin_client,
        f"/admin/settings/users/edit/?id={other.id}",
        name="Ulla U.",
        email=other.email,
        role="manager",
        is_active="y",
    )
    assert response.status_code == 302
    fresh = app.test_client()
    assert log_in(fresh, other, password=PASSWORD).status_code == 302


def test_admin_cannot_lock_themselves_out(app, client, make_user):
    me = make_user("admin")
    log_in(client, me)
    response = _post(
        client,
        f"/admin/settings/users/edit/?id={me.id}",
        name=me.name,
        email=me.email,
        role="user",
        is_active="y",
    )
    assert "cannot remove your own administrator rights" in response.get_data(as_text=True)
    assert _rows(app, User)[0].role == "admin"
