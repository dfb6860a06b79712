"""Customer cards in the browser: add a customer through the registry magnifier, inactivate and
reactivate from the Actions menu, move projects and see a blocked move explained."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, Project

from .. import builders as b
from .ui import menu, registry_box_ready


def test_add_a_customer_through_the_registry_magnifier(page, live_server, make_user, log_in):
    log_in(page, make_user("manager").email)
    menu(page, "Add new", "Customer")
    expect(page).to_have_url(re.compile(r"/admin/customers/new/"))
    expect(page.get_by_test_id("registry-box")).to_contain_text("Fake Finnish registry")

    search = page.get_by_role("combobox", name="Find the company in a public registry")
    registry_box_ready(page)
    search.fill("acme")
    search.press("Enter")
    results = page.locator("#registry-results li")
    expect(results).to_have_count(2)
    expect(page.locator("#registry-results")).to_be_visible()
    expect(results.nth(0)).to_contain_text("Acme Oyj")
    expect(results.nth(1)).to_contain_text("Acme Logistiikka Oy")
    expect(results.nth(1)).to_contain_text("1927400-1")
    expect(page.locator("#registry-message")).to_contain_text("2 found in Fake Finnish registry")
    expect(results.nth(0)).to_have_class(re.compile(r"\bactive\b"))

    search.press("ArrowDown")
    expect(results.nth(1)).to_have_class(re.compile(r"\bactive\b"))
    expect(search).to_have_attribute("aria-activedescendant", "registry-option-1")
    search.press("Enter")

    expect(page.locator("#registry-message")).to_contain_text("Filled from Fake Finnish registry")
    expect(page).to_have_url(re.compile(r"/admin/customers/new/$"))  # filled in place
    expect(page.locator("#name")).to_have_value("Acme Logistiikka Oy")
    expect(page.locator("#business_id")).to_have_value("1927400-1")
    expect(page.locator("#vat_number")).to_have_value("FI19274001")
    expect(page.locator("#website")).to_have_value(
        "https://www.acmelogistiikka.example"
    )  # as stored
    streets = page.locator("input[name^='addresses-'][name$='-street']")
    expect(streets).to_have_count(2)
    expect(streets.nth(0)).to_have_value("Satamakatu 3")
    expect(streets.nth(1)).to_have_value("PL 88")
    expect(page.locator("input[name^='addresses-'][name$='-city']").nth(0)).to_have_value("TAMPERE")
    expect(page.locator("input[name^='addresses-'][name$='-postal_code']").nth(0)).to_have_value(
        "33200"
    )
    with live_server.app.app_context():  # nothing saved before Save
        assert db.session.scalar(select(db.func.count()).select_from(Customer)) == 0
        db.session.remove()

    page.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(re.compile(r"/admin/customers/details/\?id=\d+"))
    card = page.get_by_test_id("customer-card")
    expect(card.get_by_role("heading", level=2)).to_have_text("Acme Logistiikka Oy")
    expect(card).to_contain_text("Business ID 1927400-1")
    expect(card).to_contain_text("VAT FI19274001")
    expect(card).to_contain_text("Satamakatu 3")
    expect(card).to_contain_text("33200 TAMPERE")
    expect(card).to_contain_text("PL 88")
    expect(card).to_contain_text("www.acmelogistiikka.example")
    with live_server.app.app_context():
        saved = db.session.scalars(select(Customer)).one()
        assert (saved.name, saved.business_id, saved.registry_source) == (
            "Acme Logistiikka Oy",
            "1927400-1",
            "fake",
        )
        assert {(a.kind, a.street, a.city) for a in saved.addresses} == {
            ("visiting", "Satamakatu 3", "TAMPERE"),
            ("postal", "PL 88", "TAMPERE"),
        }
        db.session.remove()


def _open_actions(page):
    """The card's Actions dropdown, opened by a click (Bootstrap's JavaScript must run)."""
    page.get_by_test_id("card-actions").click()
    opened = page.locator(".dropdown-menu.show")
    expect(opened).to_be_visible()
    expect(page.get_by_test_id("card-actions")).to_have_attribute("aria-expanded", "true")
    return opened


def test_inactivate_and_reactivate_from_the_card(page, live_server, make_user, log_in):
    admin = make_user("admin")
    with live_server.app.app_context():
        for name in ("Aalto Oy", "Borealis Oy", "Celsius Oy"):
            b.customer(name, owner=admin)
        db.session.commit()
        db.session.remove()
    log_in(page, admin.email)
    page.goto("/admin/customers/")
    names = page.locator("table.model-list tbody").get_by_role("link", name=re.compile(" Oy$"))
    expect(names).to_have_text(["Aalto Oy", "Borealis Oy", "Celsius Oy"])
    expect(page.get_by_role("link", name="List (3)")).to_be_visible()

    page.get_by_role("link", name="Borealis Oy").click()
    expect(page.get_by_test_id("customer-card")).to_be_visible()
    expect(page.get_by_test_id("customer-card").locator(".dropdown-menu-right")).to_be_hidden()
    _open_actions(page).get_by_role("link", name="Inactivate customer").click()
    expect(
        page.get_by_role("heading", name=re.compile("Inactivate customer .*Borealis Oy"))
    ).to_be_visible()
    page.get_by_test_id("confirm").click()

    expect(page.get_by_test_id("inactive-badge")).to_have_text("Inactivated")
    expect(page.locator(".alert-success")).to_contain_text("Borealis Oy inactivated")

    page.get_by_label("breadcrumb").get_by_role("link", name="Summary").click()
    expect(page.get_by_role("link", name="List (2)")).to_be_visible()
    expect(names).to_have_text(["Aalto Oy", "Celsius Oy"])
    with live_server.app.app_context():
        gone = db.session.scalars(select(Customer).where(Customer.name == "Borealis Oy")).one()
        assert gone.is_active is False
        card = f"/admin/customers/details/?id={gone.id}"
        db.session.remove()

    page.goto(card)
    _open_actions(page).get_by_role("link", name="Reactivate customer").click()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("inactive-badge")).to_have_count(0)
    expect(page.locator(".alert-success")).to_contain_text("Borealis Oy reactivated")
    page.goto("/admin/customers/")
    expect(names).to_have_text(["Aalto Oy", "Borealis Oy", "Celsius Oy"])


def test_move_a_project_and_see_a_blocked_move_explained(page, live_server, make_user, log_in):
    admin = make_user("admin")
    manager = make_user("manager", name="Pekka Projektipäällikkö")
    with live_server.app.app_context():
        source = b.customer("Kallio Oy", owner=admin)
        target = b.customer("Lahti Oy", owner=admin)
        b.customer("Lahtinen Ky", owner=admin, is_active=False)  # inactivated: never offered
        website = b.project(source, name="Website renewal", manager=manager)
        intranet = b.project(source, name="Intranet")
        support = b.project(source, name="Support contract")
        b.invoice(source, "1200.00", date(2024, 5, 31), project=support, number="INV-2024-7")
        db.session.commit()
        ids = {"source": source.id, "target": target.id, "support": support.id}
        ids.update(website=website.id, intranet=intranet.id, target_number=target.number)
        db.session.remove()
    log_in(page, admin.email)
    page.goto(f"/admin/customers/details/?id={ids['source']}")
    _open_actions(page).get_by_role("link", name="Move projects…").click()
    expect(page.get_by_role("heading", name="Move projects to another customer")).to_be_visible()

    blocked = page.get_by_test_id(f"project-{ids['support']}")
    expect(blocked).to_contain_text("No: it has invoice INV-2024-7")
    expect(blocked.get_by_role("checkbox")).to_be_disabled()
    expect(page.get_by_test_id(f"project-{ids['website']}")).to_contain_text("Yes")

    page.get_by_label("Website renewal").check()
    page.get_by_role("searchbox", name="Search for the customer the projects move to").fill("Laht")
    candidate = page.get_by_label(f"{ids['target_number']} Lahti Oy")
    expect(candidate).to_be_visible()  # search-as-you-type
    expect(page.get_by_text("Lahtinen Ky")).to_have_count(0)
    page.locator("label", has_text=f"{ids['target_number']} Lahti Oy").click()  # Bootstrap's
    expect(candidate).to_be_checked()  # custom radio: the label covers the input
    page.get_by_test_id("review").click()

    confirm = page.get_by_test_id("confirm-move")
    expect(confirm).to_contain_text(f"Move this project to {ids['target_number']} Lahti Oy?")
    expect(confirm).to_contain_text("Website renewal")
    expect(confirm).not_to_contain_text("Support contract")
    confirm.get_by_test_id("confirm").click()

    expect(page).to_have_url(re.compile(rf"/admin/customers/details/\?id={ids['source']}$"))
    expect(page.locator(".alert-success")).to_contain_text(
        f"Moved project “Website renewal” to {ids['target_number']} Lahti Oy."
    )
    card = page.get_by_test_id("customer-card")
    expect(card).not_to_contain_text("Website renewal")
    expect(card).to_contain_text("Support contract")
    page.locator(".alert-success").get_by_role("link", name="Lahti Oy").click()
    expect(page.get_by_test_id("customer-card")).to_contain_text("Website renewal")

    # asking for the blocked project anyway: the review refuses and says why
    page.goto(
        f"/admin/customers/moves/projects/?id={ids['source']}&project={ids['support']}"
        f"&target={ids['target']}&action=review"
    )
    expect(page.locator(".alert-danger")).to_contain_text(
        'Project "Support contract" cannot move to another customer because it has invoice '
        "INV-2024-7"
    )
    expect(page.get_by_test_id("confirm-move")).to_have_count(0)

    # an invoice arrives while the confirmation is open: nothing moves and the message names it
    page.goto(
        f"/admin/customers/moves/projects/?id={ids['source']}&project={ids['intranet']}"
        f"&target={ids['target']}&action=review"
    )
    expect(page.get_by_test_id("confirm-move")).to_contain_text("Intranet")
    with live_server.app.app_context():
        intranet = db.session.get(Project, ids["intranet"])
        b.invoice(
            intranet.customer, "80.00", date(2024, 6, 1), project=intranet, number="INV-2024-9"
        )
        db.session.commit()
        db.session.remove()
    page.get_by_test_id("confirm-move").get_by_test_id("confirm").click()
    expect(page.locator(".alert-danger")).to_contain_text("INV-2024-9")
    expect(page.locator(".alert-danger")).to_contain_text("Nothing was moved")
    expect(page.get_by_test_id(f"project-{ids['intranet']}")).to_contain_text(
        "No: it has invoice INV-2024-9"
    )
