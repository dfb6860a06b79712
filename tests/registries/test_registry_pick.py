"""A registry pick keeps what the user typed (issue 17): only the fields the registry gives change,
with the form's script (the JSON it fills from) and without it (the form posted with the search
and with the pick, and rendered again)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.services import registry_form

from .. import fake_registry as fake
from ..fake_registry import ACME
from ..helpers import csrf_token
from .test_registry_ui import _form_values

NEW = "/admin/customers/new/"


@pytest.fixture
def fake_registry(monkeypatch):
    return fake.install(monkeypatch)


@pytest.fixture
def registry_app(fake_registry, app):
    return app


def _posted(page: str) -> dict:
    """The form as a browser posts it: its inputs, selects and text areas."""
    values = _form_values(page)
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(text.removeprefix("\n").removeprefix("\r\n"))
    return values


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


def _typed(client, owner_id: int) -> dict:
    """The new-customer form as a user left it before searching the registry."""
    values = _posted(client.get(NEW).get_data(as_text=True))
    values.update(
        {
            "csrf_token": csrf_token(client, NEW),
            "notes": "Met at the Tampere fair; wants a quote in May.",
            "owner": str(owner_id),
            "email": "orders@acme.example",
            "name": "acme",
            "addresses-0-kind": "billing",
            "addresses-0-street": "Laskutus PL 5",
            "addresses-0-postal_code": "00100",
            "addresses-0-city": "HELSINKI",
            "addresses-0-country": "FI",
        }
    )
    return values


def _selected(page: str, name: str) -> list[str]:
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_, name
    return re.findall(r'<option selected value="([^"]*)"', select_.group(1))


def test_without_javascript_search_and_pick_keep_what_was_typed(
    registry_app, client, login, make_user
):
    login("manager")
    owner = make_user("user", name="Olli Omistaja")
    typed = _typed(client, owner.id)

    # Search: the whole form is posted with the query; the results come on the same form
    searched = client.post(NEW, data={**typed, "q": "acme oyj", "custreg_registry": "search"})
    assert searched.status_code == 200
    page = searched.get_data(as_text=True)
    assert 'data-testid="registry-results"' in page
    assert 'value="pick:fake:0112038-9"' in page  # "Use this company" posts the form again
    assert "Met at the Tampere fair; wants a quote in May." in page
    assert _selected(page, "owner") == [str(owner.id)]
    assert 'value="Laskutus PL 5"' in page
    assert "Failed to create record" not in page and _count(registry_app) == 0

    # Pick: the registry's fields change, everything else stays
    again = {**_posted(page), "csrf_token": typed["csrf_token"], "q": "acme oyj"}
    picked = client.post(NEW, data={**again, "custreg_registry": "pick:fake:0112038-9"})
    assert picked.status_code == 200
    page = picked.get_data(as_text=True)
    assert 'value="Acme Oyj"' in page and 'value="0112038-9"' in page
    assert 'value="FI01120389"' in page and 'value="https://www.acme.example"' in page
    assert 'value="Karakaari 7"' in page and 'value="c/o Talous, PL 226"' in page
    assert "Met at the Tampere fair; wants a quote in May." in page  # typed: kept
    assert _selected(page, "owner") == [str(owner.id)]
    assert 'value="orders@acme.example"' in page  # the registry gives no e-mail: kept
    assert 'value="Laskutus PL 5"' in page  # a typed billing address stays beside the two
    assert "Filled from Fake Finnish registry: Acme Oyj" in page
    assert re.search(r'data-testid="save" autofocus', page)  # focus: Save (name is filled)
    assert _count(registry_app) == 0  # nothing saved before Save

    saved = client.post(NEW, data={**_posted(page), "csrf_token": typed["csrf_token"]})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    with registry_app.app_context():
        customer = db.session.scalar(select(Customer))
        assert (customer.name, customer.business_id, customer.owner_id) == (
            "Acme Oyj",
            "0112038-9",
            owner.id,
        )
        assert customer.notes == "Met at the Tampere fair; wants a quote in May."
        assert customer.email == "orders@acme.example" and customer.registry_source == "fake"
        assert {(a.kind, a.street) for a in customer.addresses} == {
            ("billing", "Laskutus PL 5"),
            ("visiting", "Karakaari 7"),
            ("postal", "c/o Talous, PL 226"),
        }


def test_a_search_without_javascript_that_fails_says_so_and_keeps_the_form(
    registry_app, fake_registry, client, login, make_user
):
    login("manager")
    typed = _typed(client, make_user("user").id)
    fake_registry.down = True
    page = client.post(NEW, data={**typed, "q": "acme", "custreg_registry": "search"})
    page = page.get_data(as_text=True)
    assert 'data-testid="registry-error"' in page and "did not answer in time" in page
    assert "Met at the Tampere fair; wants a quote in May." in page


def test_the_script_gets_only_the_registry_fields(registry_app, client, login):
    login("manager")
    response = client.get("/admin/customers/registry/fill/?registry=fake&business_id=0112038-9")
    assert response.status_code == 200
    data = response.get_json()
    assert data["fields"]["name"] == "Acme Oyj" and data["fields"]["vat_number"] == "FI01120389"
    assert not {"notes", "owner", "status", "email", "phone"} & set(data["fields"])
    assert [a["kind"] for a in data["addresses"]] == ["visiting", "postal"]
    assert data["industry_offer"] == "26300 Manufacture of communication equipment"
    assert data["messages"][0]["category"] == "info"
    search = client.get("/admin/customers/registry/search/?format=json&country=FI&q=acme")
    found = search.get_json()["results"][0]
    assert found["fill_url"].startswith("/admin/customers/registry/fill/?registry=fake")

    missing = client.get("/admin/customers/registry/fill/?registry=fake&business_id=2331972-7")
    assert missing.status_code == 400 and "has no company" in missing.get_json()["error"]


def test_one_mapping_gives_only_what_the_registry_has(registry_app):
    with registry_app.test_request_context():
        fill = registry_form.form_fill(ACME)
    assert set(fill.fields) == {
        "name",
        "business_id",
        "vat_number",
        "country",
        "website",
        "registry_source",
        "registry_status",
        "industry_suggestion",
    }
    assert registry_form.first_to_fill({"name": "Acme Oyj"}, ["name"]) is None
    assert registry_form.first_to_fill({"name": " "}, ["name"]) == "name"


def test_without_javascript_focus_goes_to_a_required_field_the_pick_left_empty(
    registry_app, client, login, monkeypatch
):
    login("manager")
    values = {
        **_posted(client.get(NEW).get_data(as_text=True)),
        "csrf_token": csrf_token(client, NEW),
    }
    nameless = registry_form.FormFill({"business_id": "0112038-9"}, [], [])
    monkeypatch.setattr(registry_form, "pick", lambda *args: nameless)
    page = client.post(NEW, data={**values, "custreg_registry": "pick:fake:0112038-9"})
    page = page.get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*id="name"|<input[^>]*id="name"[^>]*autofocus', page)
    assert 'data-testid="save" autofocus' not in page
    assert not re.search(r'id="registry-q"[^>]*autofocus', page)
