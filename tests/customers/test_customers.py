"""Add new > Customer, the customer card, inactivation, Customers > Summary."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    MarketSegment,
    Project,
)

from .. import builders as b
from ..helpers import csrf_token, recorded_statements


def _form(client, **fields) -> dict:
    data = {"csrf_token": csrf_token(client, "/admin/customers/new/"), "country": "FI"}
    data.update(fields)
    return data


def _customers(app) -> list[Customer]:
    with app.app_context():
        rows = db.session.scalars(select(Customer).order_by(Customer.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _add(app, **fields) -> int:
    with app.app_context():
        number = fields.pop("number", None) or 1000 + (
            db.session.scalar(select(db.func.count()).select_from(Customer)) + 1
        )
        customer = b.customer(number=number, **fields)
        db.session.commit()
        return customer.id


def test_create_customer_normalises_ids_and_leads_to_the_card(app, admin_client):
    data = _form(
        admin_client,
        name="Nokia Oyj",
        business_id="0112038-9",
        vat_number="",
        **{
            "addresses-0-kind": "visiting",
            "addresses-0-street": "Karakaari 7",
            "addresses-0-postal_code": "02610",
            "addresses-0-city": "Espoo",
            "addresses-0-country": "FI",
            "einvoice_addresses-0-address": "003701120389",
            "einvoice_addresses-0-operator": "003721291126",
            "einvoice_addresses-0-is_default": "y",
        },
    )
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    [customer] = _customers(app)
    assert response.headers["Location"].startswith("/admin/customers/details/")
    assert f"id={customer.id}" in response.headers["Location"]
    assert customer.business_id == "0112038-9"
    assert customer.vat_number == "FI01120389"
    assert customer.number == 1001
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    for expected in (
        "Nokia Oyj",
        "0112038-9",
        "FI01120389",
        "Karakaari 7",
        "02610 Espoo",
        "003701120389",
        "003721291126",
    ):
        assert expected in card


@pytest.mark.parametrize(
    ("country", "business_id", "vat_number", "stored_id", "stored_vat"),
    [
        ("FI", "", "FI 0112038-9", "0112038-9", "FI01120389"),
        ("FI", "01120389", "", "0112038-9", "FI01120389"),
        ("NO", "923 609 016", "", "923609016", "NO923609016MVA"),
        ("NO", "", "NO 923 609 016 MVA", "923609016", "NO923609016MVA"),
        ("SE", "556016-0680", "", "556016-0680", None),
    ],
)
def test_ids_are_normalised_per_country(
    app, admin_client, country, business_id, vat_number, stored_id, stored_vat
):
    data = _form(
        admin_client, name="Firma", country=country, business_id=business_id, vat_number=vat_number
    )
    assert admin_client.post("/admin/customers/new/", data=data).status_code == 302
    [customer] = _customers(app)
    assert (customer.business_id, customer.vat_number, customer.country) == (
        stored_id,
        stored_vat,
        country,
    )


def test_a_norwegian_number_typed_with_the_default_country_sets_the_country(app, admin_client):
    data = _form(admin_client, name="Equinor ASA", business_id="NO 923 609 016")
    assert data["country"] == "FI"  # the form's default
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    [customer] = _customers(app)
    assert (customer.business_id, customer.vat_number, customer.country) == (
        "923609016",
        "NO923609016MVA",
        "NO",
    )
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The country is now NO: 923609016 is a valid NO business ID" in card


@pytest.mark.parametrize(
    ("country", "field", "value", "message"),
    [
        ("FI", "business_id", "0112038-8", "is not a valid FI business ID"),
        ("FI", "vat_number", "FI01120388", "is not a valid FI VAT number"),
        ("NO", "business_id", "923609017", "is not a valid NO business ID"),
        ("NO", "vat_number", "NO923609016", "is not a valid NO VAT number"),
    ],
)
def test_invalid_ids_get_a_message_and_keep_what_was_typed(
    app, admin_client, country, field, value, message
):
    data = _form(
        admin_client,
        name="Typo Oy",
        country=country,
        website="https://typo.example",
        email="info@typo.example",
        **{field: value},
    )
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Typo Oy"' in page and 'value="https://typo.example"' in page
    assert f'value="{value}"' in page
    assert _customers(app) == []


def test_mismatched_business_id_and_vat_number_are_refused(app, admin_client):
    data = _form(admin_client, name="Mix Oy", business_id="0112038-9", vat_number="FI15728600")
    page = admin_client.post("/admin/customers/new/", data=data).get_data(as_text=True)
    assert "does not belong to business ID 0112038-9" in page
    assert _customers(app) == []


def test_duplicate_business_id_warns_with_a_link_then_saves_on_confirmation(app, admin_client):
    first = _add(
        app, name="Nokia Oyj", business_id="0112038-9", vat_number="FI01120389", country="FI"
    )
    data = _form(admin_client, name="Nokia (again)", business_id="FI01120389")
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "already used by" in page
    assert f"/admin/customers/details/?id={first}" in page
    assert len(_customers(app)) == 1
    assert "Failed to create record" not in page  # one message: the warning
    assert len(re.findall(r'class="alert alert-\w+ alert-dismissable"', page)) == 1
    assert "invalid-feedback" not in page and "is-invalid" not in page
    token = re.search(r'name="confirm_duplicate"[^>]*value="([^"]+)"', page)
    assert token, "the form carries the confirmation"
    data["confirm_duplicate"] = token.group(1).replace("&#124;", "|")
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 302
    assert [c.business_id for c in _customers(app)] == ["0112038-9", "0112038-9"]


def _edit(client, cid, **fields):
    path = f"/admin/customers/edit/?id={cid}"
    data = {"csrf_token": csrf_token(client, path), "country": "FI"}
    data.update(fields)
    return client.post(path, data=data)


def test_after_a_merge_the_kept_customer_saves_at_the_first_try(app, admin_client, make_user):
    from custreg_admin.services import customers as projects

    keep_id = _add(
        app, name="Nokia Oyj", business_id="0112038-9", vat_number="FI01120389", country="FI"
    )
    duplicate_id = _add(
        app, name="Nokia (dup)", business_id="0112038-9", vat_number="FI01120389", country="FI"
    )
    with app.app_context():
        duplicate, keep = db.session.get(Customer, duplicate_id), db.session.get(Customer, keep_id)
        projects.merge_customers(duplicate, keep, {})
        assert not db.session.get(Customer, duplicate_id).is_active
    for name in ("Nokia Corporation", "Nokia Oyj"):  # every later edit too
        response = _edit(admin_client, keep_id, name=name, business_id="0112038-9", number="1001")
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "already used by" not in card and "Failed to save record" not in card
    assert _customers(app)[0].name == "Nokia Oyj"


def test_an_inactivated_customer_never_blocks_and_gets_a_quiet_note_on_create(app, admin_client):
    old = _add(
        app,
        name="Vanha Oy",
        business_id="0112038-9",
        vat_number="FI01120389",
        country="FI",
        is_active=False,
    )
    data = _form(admin_client, name="Uusi Oy", business_id="0112038-9")
    response = admin_client.post("/admin/customers/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "An inactivated customer has the same business ID or VAT number" in card
    assert f"/admin/customers/details/?id={old}" in card
    assert "already used by" not in card


def test_an_edit_that_keeps_a_confirmed_business_id_does_not_ask_again(app, admin_client):
    first = _add(app, name="A Oy", business_id="0112038-9", country="FI", number=1001)
    second = _add(app, name="B Oy", business_id="0112038-9", country="FI", number=1002)
    response = _edit(admin_client, second, name="B Oy Ab", business_id="0112038-9", number="1002")
    assert response.status_code == 302
    # changing to a number another active customer has asks, with one message
    third = _add(app, name="C Oy", business_id="1572860-0", country="FI", number=1003)
    response = _edit(admin_client, third, name="C Oy", business_id="0112038-9", number="1003")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "already used by" in page and f"/admin/customers/details/?id={first}" in page
    assert "Failed to save record" not in page


def test_editing_a_customer_does_not_warn_about_itself(app, admin_client):
    cid = _add(
        app, name="Nokia Oyj", business_id="0112038-9", vat_number="FI01120389", country="FI"
    )
    data = {
        "csrf_token": csrf_token(admin_client, f"/admin/customers/edit/?id={cid}"),
        "name": "Nokia Corporation",
        "country": "FI",
        "business_id": "0112038-9",
        "number": "1001",
    }
    response = admin_client.post(f"/admin/customers/edit/?id={cid}", data=data)
    assert response.status_code == 302
    assert _customers(app)[0].name == "Nokia Corporation"


def test_create_form_offers_blank_choices_and_defaults_the_country(admin_client):
    page = admin_client.get("/admin/customers/new/").get_data(as_text=True)
    assert ">__None<" not in page  # a blank choice reads as blank
    assert '<option selected value="FI">' in page or '<option value="FI" selected>' in page


def test_name_is_required(app, admin_client):
    response = admin_client.post("/admin/customers/new/", data=_form(admin_client, name=""))
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert _customers(app) == []


def test_numbers_continue_from_the_highest(app, admin_client):
    _add(app, name="Old", number=5000, country="FI")
    assert (
        admin_client.post("/admin/customers/new/", data=_form(admin_client, name="New")).status_code
        == 302
    )
    assert [c.number for c in _customers(app)] == [5000, 5001]


def test_card_shows_everything_on_the_customer(app, admin_client, make_user):
    owner = make_user("manager", name="Maija Myyjä")
    with app.app_context():
        customer = b.customer(
            "Elisa Oyj",
            number=2001,
            business_id="0116510-6",
            owner=owner,
            industry=b.industry("Wired telecommunications", code="61100"),
            status=b.customer_status("Active"),
            segments=[b.segment("Telecom")],
            website="elisa.fi",
            addresses=[Address(kind="postal", street="PL 1", postal_code="00061", city="ELISA")],
            contacts=[
                Contact(
                    first_name="Veli", last_name="Virtanen", title="CFO", email="veli@elisa.example"
                )
            ],
            einvoice_addresses=[EInvoiceAddress(address="003701165106", is_default=True)],
        )
        project = b.project(customer, name="Network audit", sales_status="won", manager=owner)
        b.sales_case(customer, name="5G rollout bid")
        b.invoice(customer, "1234.50", date(2026, 3, 1), project=project, number="10023")
        db.session.commit()
        cid = customer.id
    page = admin_client.get(f"/admin/customers/details/?id={cid}").get_data(as_text=True)
    for expected in (
        "Elisa Oyj",
        "Maija Myyjä",
        "61100 Wired telecommunications",
        "Active",
        "Telecom",
        "PL 1",
        "00061 ELISA",
        "Veli Virtanen",
        "CFO",
        "003701165106",
        "Network audit",
        "5G rollout bid",
        "10023",
        "€1,234.50",  # money in the locale (Babel, en), currency CUSTREG_CURRENCY
        "Inactivate customer",
    ):
        assert expected in page, expected


@pytest.mark.parametrize("raw_id", ["999999", "abc", "-1"])
def test_card_of_a_missing_customer_redirects_with_a_message(admin_client, raw_id):
    response = admin_client.get(f"/admin/customers/details/?id={raw_id}")
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith("/admin/customers/")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Record does not exist." in page


def test_inactivate_asks_first_then_hides_from_summary_and_reactivates(app, admin_client):
    cid = _add(app, name="Duplicate Oy", country="FI")
    _add(app, name="Keeper Oy", country="FI")
    confirm = admin_client.get(f"/admin/customers/inactivate/?id={cid}")
    assert confirm.status_code == 200
    assert "Inactivate customer" in confirm.get_data(as_text=True)
    assert _customers(app)[0].is_active  # a GET changes nothing

    assert admin_client.post("/admin/customers/inactivate/", data={"id": cid}).status_code == 400
    token = csrf_token(admin_client, f"/admin/customers/inactivate/?id={cid}")
    response = admin_client.post(
        "/admin/customers/inactivate/", data={"id": cid, "csrf_token": token}
    )
    assert response.status_code == 302
    assert not _customers(app)[0].is_active
    assert _names(admin_client) == ["Keeper Oy"]
    card = admin_client.get(f"/admin/customers/details/?id={cid}").get_data(as_text=True)
    assert "Inactivated" in card and "Reactivate customer" in card

    response = admin_client.post(
        "/admin/customers/reactivate/", data={"id": cid, "csrf_token": token}
    )
    assert response.status_code == 302
    assert _customers(app)[0].is_active
    assert _names(admin_client) == ["Duplicate Oy", "Keeper Oy"]


def test_customer_with_projects_cannot_be_deleted(app, admin_client):
    cid = _add(app, name="Busy Oy", country="FI")
    with app.app_context():
        db.session.add(Project(customer_id=cid, name="P1"))
        db.session.commit()
    token = csrf_token(admin_client, "/admin/customers/")
    response = admin_client.post(
        "/admin/customers/delete/", data={"id": cid, "csrf_token": token}, follow_redirects=True
    )
    assert "cannot be deleted: it has 1 project" in response.get_data(as_text=True)
    assert len(_customers(app)) == 1


# --- Customers > Summary ---------------------------------------------------------------------


@pytest.fixture
def listed(app, make_user):
    alice = make_user("user", name="Alice Owner")
    bob = make_user("user", name="Bob Owner")
    with app.app_context():
        it = Industry(code="62010", name="Computer programming")
        law = Industry(code="69100", name="Legal activities")
        passive = db.session.scalar(select(CustomerStatus).where(CustomerStatus.name == "Passive"))
        retail = MarketSegment(name="Retail")
        public = MarketSegment(name="Public sector")
        rows = [
            Customer(
                number=1001,
                name="Alpha Oy",
                business_id="0112038-9",
                vat_number="FI01120389",
                country="FI",
                owner_id=alice.id,
                industry=it,
                segments=[retail],
                addresses=[
                    Address(kind="visiting", city="Helsinki"),
                    Address(kind="postal", city="Vantaa"),
                ],
            ),
            Customer(
                number=1002,
                name="Beta AS",
                business_id="923609016",
                vat_number="NO923609016MVA",
                country="NO",
                owner_id=bob.id,
                industry=law,
                segments=[public, retail],
                addresses=[Address(kind="visiting", city="Oslo")],
            ),
            Customer(
                number=1003,
                name="Gamma Oy",
                country="FI",
                owner_id=alice.id,
                status=passive,
                addresses=[Address(kind="visiting", city="Turku")],
            ),
            Customer(number=1004, name="Delta Oy (old)", country="FI", is_active=False),
        ]
        db.session.add_all(rows)
        db.session.commit()
        return {
            "alice": alice.id,
            "bob": bob.id,
            "it": it.id,
            "passive": passive.id,
            "public": public.id,
            "retail": retail.id,
        }


def _names(client, query="") -> list[str]:
    page = client.get("/admin/customers/" + query).get_data(as_text=True)
    return re.findall(r'<a href="/admin/customers/details/\?id=\d+">([^<]+)</a>', page)


def test_summary_columns_and_default_hides_inactivated(admin_client, listed):
    page = admin_client.get("/admin/customers/").get_data(as_text=True)
    for header in (
        "Number",
        "Name",
        "Business ID",
        "Country",
        "Account owner",
        "Industry",
        "Status",
        "Market segments",
        "City",
    ):
        assert header in page
    assert _names(admin_client) == ["Alpha Oy", "Beta AS", "Gamma Oy"]
    assert "Helsinki" in page and "Vantaa" not in page  # the visiting address' city
    assert "Public sector, Retail" in page


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("alpha", ["Alpha Oy"]),
        ("1002", ["Beta AS"]),
        ("0112038-9", ["Alpha Oy"]),
        ("FI01120389", ["Alpha Oy"]),
        ("01120389", ["Alpha Oy"]),
        ("NO 923 609 016 MVA", ["Beta AS"]),
        ("923609016", ["Beta AS"]),
        ("oy", ["Alpha Oy", "Gamma Oy"]),
        ("no-such-customer", []),
        ("100%", []),
    ],
)
def test_summary_search(admin_client, listed, search, expected):
    from urllib.parse import quote

    assert _names(admin_client, f"?search={quote(search)}") == expected


def _filters(app) -> dict[str, str]:
    """Filter label -> URL argument, as Flask-Admin numbers them."""
    view = app.extensions["custreg_admin"].views[0]
    with app.test_request_context():
        return {
            flt.name: f"flt{i}_{view.get_filter_arg(i, flt)}" for i, flt in enumerate(view._filters)
        }


def test_summary_filters(app, admin_client, listed):
    f = _filters(app)
    assert _names(admin_client, f"?{f['Account owner']}={listed['alice']}") == [
        "Alpha Oy",
        "Gamma Oy",
    ]
    assert _names(admin_client, f"?{f['Industry']}={listed['it']}") == ["Alpha Oy"]
    assert _names(admin_client, f"?{f['Status']}={listed['passive']}") == ["Gamma Oy"]
    assert _names(admin_client, f"?{f['Market segment']}={listed['public']}") == ["Beta AS"]
    assert _names(admin_client, f"?{f['Market segment']}={listed['retail']}") == [
        "Alpha Oy",
        "Beta AS",
    ]
    assert _names(admin_client, f"?{f['Country']}=NO") == ["Beta AS"]
    assert _names(admin_client, f"?{f['Active state']}=inactive") == ["Delta Oy (old)"]
    assert len(_names(admin_client, f"?{f['Active state']}=all")) == 4
    both = f"?{f['Account owner']}={listed['alice']}&{f['Country']}=FI&search=gamma"
    assert _names(admin_client, both) == ["Gamma Oy"]


def test_summary_filter_choices_list_current_values(app, admin_client, listed):
    page = admin_client.get("/admin/customers/").get_data(as_text=True)
    for option in ("Alice Owner", "Bob Owner", "Computer programming", "Public sector", "Norway"):
        assert option in page


def test_summary_sorting(app, admin_client, listed):
    view = app.extensions["custreg_admin"].views[0]
    columns = [name for name, _ in view.get_list_columns()]

    def sort(column, desc=False):
        query = f"?sort={columns.index(column)}" + ("&desc=1" if desc else "")
        return _names(admin_client, query)

    assert sort("name", desc=True) == ["Gamma Oy", "Beta AS", "Alpha Oy"]
    assert sort("number", desc=True) == ["Gamma Oy", "Beta AS", "Alpha Oy"]
    assert sort("city") == ["Alpha Oy", "Beta AS", "Gamma Oy"]  # Helsinki, Oslo, Turku
    assert sort("country", desc=True)[0] == "Beta AS"
    assert sort("owner")[-1] == "Beta AS"  # Alice, Alice, Bob


def test_summary_page_size_choice(app, admin_client, listed):
    with app.app_context():
        db.session.add_all(
            Customer(number=3000 + i, name=f"Bulk {i:02d}", country="FI") for i in range(30)
        )
        db.session.commit()
    assert len(_names(admin_client)) == 20
    assert len(_names(admin_client, "?page_size=50")) == 33


def test_summary_statement_count_does_not_grow_with_page_size(app, admin_client, make_user):
    owner = make_user("manager")
    with app.app_context():
        segments = [MarketSegment(name=f"Segment {i}") for i in range(3)]
        for i in range(120):
            db.session.add(
                Customer(
                    number=5000 + i,
                    name=f"Customer {i:03d}",
                    country="FI",
                    owner_id=owner.id,
                    industry=Industry(code=f"{i:05d}", name=f"Industry {i}"),
                    segments=segments[: i % 3 + 1],
                    addresses=[Address(kind="visiting", city=f"City {i}")],
                )
            )
        db.session.commit()
        engine = db.engine

    def statements(query: str) -> int:
        with recorded_statements(engine) as seen:
            response = admin_client.get("/admin/customers/" + query)
        assert response.status_code == 200
        return len(seen)

    statements("?page_size=20")  # the first request reads the filter choice lists into the cache
    small, large = statements("?page_size=20"), statements("?page_size=100")
    assert len(_names(admin_client, "?page_size=100")) == 100
    assert small == large
    assert small <= 12


def test_summary_reads_segment_parents_with_the_segments(app, admin_client):
    """Segments show as paths ("Parent / Child"): their parents come with them, not one
    statement per parent (each was a round trip per page at a million customers)."""
    with app.app_context():
        parents = [MarketSegment(name=f"Parent {i}") for i in range(4)]
        children = [MarketSegment(name=f"Child {i}", parent=parents[i]) for i in range(4)]
        for i in range(8):
            db.session.add(
                Customer(number=7000 + i, name=f"Nested {i}", segments=[children[i % 4]])
            )
            db.session.add(Customer(number=7100 + i, name=f"Flat {i}", segments=[parents[i % 4]]))
        db.session.commit()
        engine = db.engine

    def statements(query: str) -> tuple[int, str]:
        with recorded_statements(engine) as seen:
            response = admin_client.get("/admin/customers/" + query)
        assert response.status_code == 200
        return len(seen), response.get_data(as_text=True)

    # the first request of each reads the filter choices and counts into the cache
    statements("?search=flat"), statements("?search=nested")
    flat, _page = statements("?search=flat")
    nested, page = statements("?search=nested")
    assert "Parent 3 / Child 3" in page
    assert nested == flat


def test_summary_leads_to_mass_update_for_ticked_rows_and_for_all_matching(
    app, admin_client, listed
):
    from urllib.parse import parse_qs, urlsplit

    page = admin_client.get("/admin/customers/?search=oy").get_data(as_text=True)
    link = re.search(r'data-testid="select-all">\s*<a href="([^"]+)">Select all 2 customers', page)
    assert link, "the select-all link names the match count"
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    spec = __import__("json").loads(query["spec"][0])
    assert {"search": "oy", "active_state": "all"} in spec["parts"]
    chosen = admin_client.get(link.group(1).replace("&amp;", "&"))
    assert chosen.status_code == 200

    token = csrf_token(admin_client, "/admin/customers/")
    with app.app_context():
        ids = [str(i) for i in db.session.scalars(select(Customer.id).limit(2))]
    response = admin_client.post(
        "/admin/customers/action/",
        data={"action": "mass_update", "rowid": ids, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "/admin/customers/mass-update/" in response.headers["Location"]
    assert "ids=" + ",".join(ids) in response.headers["Location"]
