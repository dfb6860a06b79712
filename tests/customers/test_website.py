"""A customer's website: http and https only, ``https://`` before a bare domain (issue 17)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.rules.website import InvalidWebsite, link_of, normalise_website

from .. import builders as b
from ..helpers import csrf_token


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("www.acme.fi", "https://www.acme.fi"),
        ("acme.fi/en/", "https://acme.fi/en/"),
        (" https://acme.fi ", "https://acme.fi"),
        ("http://acme.fi", "http://acme.fi"),
        ("HTTPS://Acme.fi/Path", "https://Acme.fi/Path"),
        ("localhost:8080", "https://localhost:8080"),
        ("https://äkkönen.fi", "https://äkkönen.fi"),
        ("", None),
        (None, None),
    ],
)
def test_http_and_https_addresses_are_kept_and_bare_domains_get_https(typed, stored):
    assert normalise_website(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "javascript://%0aalert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://acme.fi",
        "mailto:info@acme.fi",
        "acme",
        "https://",
        "https://acme.fi/a b",
        "https://user:secret@acme.fi",
        "https://acme.fi:99999",
        "//acme.fi",
    ],
)
def test_anything_else_is_refused(typed):
    with pytest.raises(InvalidWebsite, match="is not a website address"):
        normalise_website(typed)
    assert link_of(typed) is None


def _create(client, website):
    data = {
        "csrf_token": csrf_token(client, "/admin/customers/new/"),
        "name": "Acme Oy",
        "country": "FI",
        "website": website,
    }
    return client.post("/admin/customers/new/", data=data)


def test_the_form_refuses_javascript_and_stores_https_for_a_bare_domain(app, admin_client):
    response = _create(admin_client, "javascript:alert(1)")
    assert response.status_code == 200
    assert "is not a website address: use an http or https address" in response.get_data(True)
    with app.app_context():
        assert db.session.scalar(select(Customer)) is None

    response = _create(admin_client, "www.acme.example")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Customer.website)) == "https://www.acme.example"
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="https://www.acme.example"' in card


def test_a_stored_script_address_is_shown_but_never_linked(app, admin_client):
    with app.app_context():
        customer = b.customer("Old Oy", number=9, website="javascript://%0a1")
        db.session.commit()
        cid = customer.id
    card = admin_client.get(f"/admin/customers/details/?id={cid}").get_data(as_text=True)
    assert "javascript://%0a1" in card
    assert 'href="javascript://' not in card and 'href="https://javascript' not in card
