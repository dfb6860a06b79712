"""The registry magnifier on Add new > Customer, refresh from registry, the Registries page.

A fake provider is registered through a fake entry point (the core's tests never depend on
which plugins are installed); one end-to-end test runs the real YTJ plugin against a local
server serving a recorded answer.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from sqlalchemy import select

from custreg_admin import registries
from custreg_admin.extensions import db
from custreg_admin.models import Customer, Industry
from custreg_admin.registries import (
    RegistryProvider,
)

from .. import builders as b
from ..fake_registry import ACME, GONE, FakeRegistry, entry_point
from ..helpers import csrf_token, summary_filter


class FakeProvider(FakeRegistry):
    """The fake registry with a bankrupt company beside Acme."""

    records = (ACME, GONE)


class BrokenProvider(RegistryProvider):
    id = "broken"
    country = "NO"
    label = "Broken"

    def __init__(self, config):
        raise RuntimeError("no credentials configured")

    def search(self, query, *, limit=20):  # pragma: no cover - never built
        return []


def _ep(name: str, attribute: str) -> EntryPoint:
    return entry_point(name, __name__, attribute)


@pytest.fixture
def fake_registry(monkeypatch):
    FakeProvider.down = False
    FakeProvider.calls = []
    monkeypatch.setattr(
        registries,
        "discover_entry_points",
        lambda: [_ep("fake", "FakeProvider"), _ep("broken", "BrokenProvider")],
    )
    return FakeProvider


@pytest.fixture
def registry_app(fake_registry, app):
    return app


@pytest.fixture
def user_client(registry_app, login, client):
    login("manager")
    return client


def test_json_search_lists_matches_with_status(user_client):
    response = user_client.get("/admin/customers/registry/search/?format=json&country=FI&q=acme")
    assert response.status_code == 200
    data = response.get_json()
    assert data["registry"] == "Fake Finnish registry"
    [found] = data["results"]
    assert found["name"] == "Acme Oyj" and found["business_id"] == "0112038-9"
    assert found["company_form"] == "Osakeyhtiö" and found["city"] == "ESPOO"
    assert found["status_label"] == "Active"
    assert "registry=fake" in found["use_url"] and "business_id=0112038-9" in found["use_url"]


@pytest.mark.parametrize("spelling", ["0112038-9", "FI01120389", "01120389", "FI 0112038-9"])
def test_business_id_spellings_reach_the_registry(user_client, spelling):
    from urllib.parse import quote

    data = user_client.get(
        f"/admin/customers/registry/search/?format=json&country=FI&q={quote(spelling)}"
    ).get_json()
    assert [r["name"] for r in data["results"]] == ["Acme Oyj"]


def test_search_without_javascript_is_a_results_page(user_client):
    page = user_client.get("/admin/customers/registry/search/?country=FI&q=oy").get_data(True)
    assert "2 results for “oy”" in page
    assert "Acme Oyj" in page and "Gone Oy" in page and "Bankrupt" in page
    assert "Use this company" in page


def test_a_country_without_registry_and_an_empty_query_say_so(user_client):
    data = user_client.get("/admin/customers/registry/search/?format=json&country=SE&q=volvo")
    assert data.status_code == 400
    assert "No business registry is installed for SE" in data.get_json()["error"]
    data = user_client.get("/admin/customers/registry/search/?format=json&country=FI&q=%20")
    assert "Type a company name" in data.get_json()["error"]


def test_registry_down_gives_a_clear_message_and_the_page_works(user_client, fake_registry):
    fake_registry.down = True
    response = user_client.get("/admin/customers/registry/search/?format=json&country=FI&q=acme")
    assert response.status_code == 503
    assert "did not answer in time" in response.get_json()["error"]
    page = user_client.get("/admin/customers/registry/search/?country=FI&q=acme").get_data(True)
    assert "did not answer in time" in page and "Type the details by hand" in page
    response = user_client.get("/admin/customers/new/?registry=fake&business_id=0112038-9")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "did not answer in time" in page and "type the details by hand" in page
    assert 'name="name"' in page


def test_create_form_has_the_magnifier(user_client):
    page = user_client.get("/admin/customers/new/").get_data(as_text=True)
    assert 'data-testid="registry-box"' in page
    assert "Finland (FI) · Fake Finnish registry" in page
    assert "registry_search.js" in page


def test_pick_fills_the_form_save_keeps_it_and_the_card_shows_it(registry_app, user_client):
    with registry_app.app_context():
        db.session.add(Industry(code="26300", name="Manufacture of communication equipment"))
        db.session.commit()
    page = user_client.get("/admin/customers/new/?registry=fake&business_id=0112038-9")
    page = page.get_data(as_text=True)
    assert 'value="Acme Oyj"' in page
    assert 'value="0112038-9"' in page and 'value="FI01120389"' in page
    assert 'value="Karakaari 7"' in page and 'value="ESPOO"' in page
    assert 'value="c/o Talous, PL 226"' in page
    assert 'value="https://www.acme.example"' in page
    assert re.search(r'<option selected value="\d+">26300 Manufacture', page)
    assert 'data-testid="industry-offer"' not in page  # matched by code
    assert "nothing is saved until you do" in page
    with registry_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Customer)) == 0

    form = _form_values(page)
    form["csrf_token"] = csrf_token(user_client, "/admin/customers/new/")
    response = user_client.post("/admin/customers/new/", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with registry_app.app_context():
        customer = db.session.scalar(select(Customer))
        assert customer.name == "Acme Oyj" and customer.vat_number == "FI01120389"
        assert customer.registry_source == "fake" and customer.registry_status == "active"
        assert customer.registry_fetched_at is not None
        assert customer.industry.code == "26300"
        assert {(a.kind, a.city) for a in customer.addresses} == {
            ("visiting", "ESPOO"),
            ("postal", "NOKIA GROUP"),
        }
    card = user_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Karakaari 7" in card and "Fake Finnish registry" in card
    assert "Refresh from registry" in card


def test_unknown_industry_is_offered_and_created_on_save(registry_app, user_client):
    page = user_client.get("/admin/customers/new/?registry=fake&business_id=0112038-9")
    page = page.get_data(as_text=True)
    assert 'data-testid="industry-offer"' in page
    assert "26300 Manufacture of communication equipment" in page
    form = _form_values(page)
    form["csrf_token"] = csrf_token(user_client, "/admin/customers/new/")
    assert user_client.post("/admin/customers/new/", data=form).status_code == 302
    with registry_app.app_context():
        customer = db.session.scalar(select(Customer))
        assert (customer.industry.code, customer.industry.name) == (
            "26300",
            "Manufacture of communication equipment",  # the installation's language
        )

    # unticking the offer leaves the industry empty
    page = user_client.get("/admin/customers/new/?registry=fake&business_id=1572860-0")
    form = _form_values(page.get_data(as_text=True))
    form.pop("create_industry", None)
    form["csrf_token"] = csrf_token(user_client, "/admin/customers/new/")
    assert user_client.post("/admin/customers/new/", data=form).status_code == 302
    with registry_app.app_context():
        gone = db.session.scalar(select(Customer).where(Customer.name == "Gone Oy"))
        assert gone.industry is None and gone.registry_status == "bankrupt"
        assert gone.vat_number is None  # not VAT-registered: nothing derived


def test_bankrupt_company_is_flagged_and_filterable(registry_app, user_client):
    with registry_app.app_context():
        db.session.add_all(
            [
                Customer(number=1, name="Gone Oy", country="FI", registry_status="bankrupt"),
                Customer(number=2, name="Fine Oy", country="FI", registry_status="active"),
                Customer(number=3, name="Typed Oy", country="FI"),
            ]
        )
        db.session.commit()
        gone_id = db.session.scalar(select(Customer.id).where(Customer.name == "Gone Oy"))
    card = user_client.get(f"/admin/customers/details/?id={gone_id}").get_data(as_text=True)
    assert 'data-testid="registry-status"' in card and "Bankrupt (registry)" in card
    arg = summary_filter(registry_app, "Registry status")
    listed = user_client.get(f"/admin/customers/?{arg}=not_active").get_data(as_text=True)
    assert "Gone Oy" in listed and "Fine Oy" not in listed and "Typed Oy" not in listed


def test_refresh_from_registry_applies_only_ticked_fields(registry_app, user_client):
    with registry_app.app_context():
        customer = b.customer(
            "Acme (old name)", number=7, business_id="0112038-9", website="old.example"
        )
        db.session.commit()
        cid = customer.id
    page = user_client.get(f"/admin/customers/registry/refresh/?id={cid}").get_data(True)
    assert "Acme (old name)" in page and "Acme Oyj" in page and "old.example" in page
    crumbs = re.search(r'<ol class="breadcrumb">(.*?)</ol>', page, re.S).group(1)
    assert "Customers" in crumbs and "Refresh from registry" in crumbs  # like Move and Merge
    assert '<h4 class="mb-4">' not in page  # no longer headed "Summary"
    token = csrf_token(user_client, "/admin/")
    response = user_client.post(
        "/admin/customers/registry/refresh/",
        data={"id": cid, "field": ["name", "address_visiting"], "csrf_token": token},
    )
    assert response.status_code == 302
    with registry_app.app_context():
        customer = db.session.get(Customer, cid)
        assert customer.name == "Acme Oyj"
        assert customer.website == "old.example"  # not ticked
        assert customer.vat_number is None  # not ticked
        assert [(a.kind, a.street) for a in customer.addresses] == [("visiting", "Karakaari 7")]
        assert customer.registry_source == "fake" and customer.registry_status == "active"
    assert (
        user_client.post(
            "/admin/customers/registry/refresh/", data={"id": cid, "field": "website"}
        ).status_code
        == 400
    )


def test_registries_page_lists_loaded_and_failed_plugins(user_client):
    page = user_client.get("/admin/settings/registries/").get_data(as_text=True)
    assert "Fake Finnish registry" in page and "loaded" in page
    assert "broken" in page and "failed" in page and "no credentials configured" in page


def _form_values(page: str) -> dict:
    """The create form's inputs as a browser would post them (text, hidden, checked boxes,
    selected options)."""
    form = (
        page[page.index('<form action="" method="POST"') :] if '<form action=""' in page else page
    )
    values: dict = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        value = re.search(r'value="([^"]*)"', tag)
        if kind == "checkbox":
            if " checked" in tag:
                values[name.group(1)] = value.group(1) if value else "y"
            continue
        if kind in ("submit", "button"):
            continue
        values[name.group(1)] = _unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.findall(r'<option selected value="([^"]*)"', body) or re.findall(
            r'<option value="([^"]*)" selected', body
        )
        if chosen:
            values[name] = chosen
    return values


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


# --- end to end with the real YTJ plugin and a local server ----------------------------------

YTJ_DATA = Path(__file__).parents[2] / "plugins/registry_ytj/tests/data"


def test_magnifier_end_to_end_with_the_ytj_plugin(app, app_factory, httpserver, make_user):
    """``app`` empties the test database; this test builds its own app on it."""
    pytest.importorskip("custreg_registry_ytj")
    recorded = json.loads((YTJ_DATA / "companies_business_id_0112038-9.json").read_text("utf-8"))
    httpserver.expect_request(
        "/ytj/companies", query_string={"businessId": "0112038-9"}
    ).respond_with_json(recorded)
    ytj_app = app_factory(
        CUSTREG_REGISTRIES="ytj",
        CUSTREG_YTJ_BASE_URL=httpserver.url_for("/ytj"),
        CUSTREG_REGISTRY_BACKOFF=0,
    )
    client = ytj_app.test_client()
    from ..helpers import log_in

    log_in(client, make_user("admin"))
    data = client.get("/admin/customers/registry/search/?format=json&country=FI&q=FI01120389")
    results = data.get_json()["results"]
    assert results and results[0]["business_id"] == "0112038-9"
    page = client.get(results[0]["use_url"]).get_data(as_text=True)
    form = _form_values(page)
    assert form["name"] and form["business_id"] == "0112038-9"
    form["csrf_token"] = csrf_token(client, "/admin/customers/new/")
    response = client.post("/admin/customers/new/", data=form)
    assert response.status_code == 302
    card = client.get(response.headers["Location"]).get_data(as_text=True)
    assert form["name"] in card and "0112038-9" in card and "YTJ" in card and ">ytj<" not in card


SKATTEETATEN = registries.CompanyRecord(
    source="fakeno",
    country="NO",
    business_id="974761076",
    name="SKATTEETATEN",
    vat_number="NO974761076MVA",
    company_form="Organisasjonsledd",
    addresses=(
        registries.RegistryAddress("visiting", "Fredrik Selmers vei 4", "0663", "OSLO", "NO"),
        registries.RegistryAddress("postal", "Postboks 9200 Grønland", "0134", "OSLO", "NO"),
    ),
    email="postmottak@skatteetaten.no",
    phone="+47 800 80 000",
    parent_business_id="972417807",
)


class FakeNorwegianProvider(RegistryProvider):
    id = "fakeno"
    country = "NO"
    label = "Fake Norwegian registry"

    def search(self, query, *, limit=20):
        digits = "".join(c for c in query if c.isdigit())
        found = digits == SKATTEETATEN.business_id or "skatt" in query.lower()
        return [SKATTEETATEN] if found else []


@pytest.fixture
def norwegian_client(monkeypatch, app, login, client):
    monkeypatch.setattr(
        registries, "discover_entry_points", lambda: [_ep("fakeno", "FakeNorwegianProvider")]
    )
    login("manager")
    return client


def test_a_norwegian_pick_fills_email_phone_and_shows_the_parent(norwegian_client):
    data = norwegian_client.get(
        "/admin/customers/registry/search/?format=json&country=NO&q=skatteetaten"
    ).get_json()
    [found] = data["results"]
    assert found["parent_business_id"] == "972417807"
    assert found["parent_label"] == "Part of 972417807"
    page = norwegian_client.get("/admin/customers/registry/search/?country=NO&q=skatteetaten")
    assert "Part of 972417807" in page.get_data(as_text=True)

    page = norwegian_client.get("/admin/customers/new/?registry=fakeno&business_id=974761076")
    page = page.get_data(as_text=True)
    assert 'value="974761076"' in page and 'value="NO974761076MVA"' in page
    assert 'value="Fredrik Selmers vei 4"' in page  # the main unit's business address
    assert 'value="postmottak@skatteetaten.no"' in page
    assert 'value="+47 800 80 000"' in page
