"""Issue 17's card details and messages: the inactivated-matches hint, Delete last among the bulk
actions, the registry's display name and no repeated "by hand", VAT shown once, segment paths,
the favicon and /admin/login/."""

from __future__ import annotations

import re
from decimal import Decimal

from custreg_admin.extensions import db
from custreg_admin.models import Customer, MarketSegment, VatRate

from .. import builders as b
from ..helpers import csrf_token


def _customer(app, **fields) -> int:
    with app.app_context():
        row = b.customer(number=fields.pop("number", 5001), **fields)
        db.session.commit()
        return row.id


def test_a_search_matching_only_inactivated_customers_says_so_with_a_link(app, admin_client):
    _customer(app, name="Vanha Oy", is_active=False)
    _customer(app, name="Vanhempi Oy", is_active=False, number=5002)
    page = admin_client.get("/admin/customers/?search=vanh").get_data(as_text=True)
    hint = re.search(r'data-testid="inactivated-matches">\s*<a href="([^"]+)">([^<]+)</a>', page)
    assert hint is not None and hint.group(2) == "2 inactivated customers match"
    listed = admin_client.get(hint.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Vanha Oy" in listed and "Vanhempi Oy" in listed
    assert 'data-testid="inactivated-matches"' not in listed
    # an active match: no hint
    _customer(app, name="Vanhala Oy", number=5003)
    page = admin_client.get("/admin/customers/?search=vanh").get_data(as_text=True)
    assert 'data-testid="inactivated-matches"' not in page


def test_delete_is_the_last_bulk_action(admin_client, app):
    _customer(app, name="Any Oy")
    page = admin_client.get("/admin/customers/").get_data(as_text=True)
    actions = re.findall(r"modelActions\.execute\(&#39;(\w+)&#39;\)|execute\('(\w+)'\)", page)
    names = [a or b for a, b in actions]
    assert names and names[-1] == "delete" and names[0] != "delete"


def test_the_card_names_the_registry_and_the_vat_rate_once(app, admin_client):
    with app.app_context():
        rate = db.session.query(VatRate).filter_by(name="General 25.5%").one()
        assert str(rate) == "General 25.5 % (FI)"
        assert str(VatRate(name="Standard", percent=Decimal("24.00"), country="FI")) == (
            "Standard 24 % (FI)"
        )
        parent = MarketSegment(name="Non-profit")
        child = MarketSegment(name="Foundations", parent=parent)
        db.session.add_all([parent, child])
        db.session.flush()
        customer = Customer(
            number=5010,
            name="Säätiö",
            country="FI",
            vat_rate=rate,
            registry_source="ytj",
            business_id="0528299-1",
        )
        customer.segments = [child, parent]
        db.session.add(customer)
        db.session.commit()
        cid = customer.id
    card = admin_client.get(f"/admin/customers/details/?id={cid}").get_data(as_text=True)
    assert "General 25.5 % (FI)" in card and "25.50%" not in card
    segments = re.search(r'data-testid="segments">(.*?)</dd>', card).group(1)
    assert re.findall(r">([^<]+)</span>", segments) == ["Non-profit", "Non-profit / Foundations"]
    source = re.search(r'data-testid="registry-source">([^<,]+)', card).group(1)
    assert source != "ytj" and "YTJ" in source  # the plugin's display name
    assert '<span class="text-nowrap">Business ID 0528299-1</span>' in card


def test_favicon_and_login_with_a_trailing_slash(client):
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and b"<svg" in icon.data
    icon.close()
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/admin/login").status_code == 200


def test_registry_errors_do_not_repeat_by_hand(app, admin_client):
    token = csrf_token(admin_client, "/admin/customers/new/")
    assert token
    page = admin_client.get("/admin/customers/new/?registry=nosuch&business_id=0112038-9")
    text = page.get_data(as_text=True) + str(
        admin_client.get("/admin/customers/new/").get_data(as_text=True)
    )
    assert text.count("by hand. You can type the details by hand") == 0
