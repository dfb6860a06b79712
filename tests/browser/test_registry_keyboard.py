"""Issue 17 in the browser: a registry pick fills the new-customer form in place and keeps what
was typed; adding a customer from the registry and a mass update from the Summary with the
keyboard alone, focus asserted at each step (``document.activeElement``) and the key presses
counted (printed with ``-s``)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer

from .. import builders as b
from .ui import registry_box_ready

NOTES = "Met at the Tampere fair; wants a quote in May."


class Keys:
    """The keyboard, counting: key presses (Enter, Tab, arrows...) and characters typed."""

    def __init__(self, page) -> None:
        self.page = page
        self.presses = 0
        self.typed = 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.presses += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.typed += len(text)

    def tab_to(self, selector: str, limit: int = 30, back: bool = False) -> int:
        """Tab (Shift+Tab ``back``) until the element matching ``selector`` has focus; the
        presses it took."""
        for count in range(limit + 1):
            if focused(self.page, selector):
                return count
            self.press("Shift+Tab" if back else "Tab")
        raise AssertionError(f"{selector} not reached in {limit} Tabs; at {active(self.page)}")


def focused(page, selector: str) -> bool:
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def active(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement; return e ? e.outerHTML.slice(0, 160) : '' }"
    )


def assert_focus(page, selector: str) -> None:
    expect(page.locator(selector).first).to_be_focused()
    assert focused(page, selector), active(page)


def test_a_registry_pick_keeps_the_typed_notes_and_owner(page, live_server, make_user, log_in):
    me = make_user("manager")
    owner = make_user("user", name="Olli Omistaja")
    log_in(page, me.email)
    page.goto("/admin/customers/new/")
    expect(page.locator("#owner")).to_have_value(str(me.id))  # the default: the creator
    page.locator("#notes").fill(NOTES)
    page.locator("#s2id_owner a.select2-choice").click()  # the select2 box, as a user does
    page.keyboard.type("Olli")
    expect(page.locator(".select2-drop-active .select2-highlighted")).to_have_text("Olli Omistaja")
    page.keyboard.press("Enter")
    expect(page.locator("#owner")).to_have_value(str(owner.id))
    page.locator("#email").fill("orders@acme.example")

    search = page.locator("#registry-q")
    registry_box_ready(page)
    search.fill("acme")
    search.press("Enter")
    results = page.locator("#registry-results li")
    expect(results).to_have_count(2)
    results.nth(0).click()

    expect(page.locator("#registry-message")).to_contain_text(
        "Filled from Fake Finnish registry: Acme Oyj"
    )
    expect(page.locator("#name")).to_have_value("Acme Oyj")
    expect(page.locator("#business_id")).to_have_value("0112038-9")
    expect(page.locator("#vat_number")).to_have_value("FI01120389")
    expect(page.locator("#website")).to_have_value("https://www.acme.example")
    streets = page.locator("input[name^='addresses-'][name$='-street']")
    cities = page.locator("input[name^='addresses-'][name$='-city']")
    for n, (street, city) in enumerate(
        (("Karakaari 7", "ESPOO"), ("c/o Talous, PL 226", "NOKIA GROUP"))
    ):
        expect(streets.nth(n)).to_have_value(street)
        expect(cities.nth(n)).to_have_value(city)
    offer = page.get_by_text("which is not in the settings yet")
    expect(offer).to_contain_text("26300 Manufacture of communication equipment")
    # what was typed stays
    expect(page.locator("#notes")).to_have_value(NOTES)
    expect(page.locator("#owner")).to_have_value(str(owner.id))
    expect(page.locator("#s2id_owner")).to_contain_text("Olli Omistaja")
    expect(page.locator("#email")).to_have_value("orders@acme.example")
    expect(page).to_have_url(re.compile(r"/admin/customers/new/$"))  # no reload
    assert_focus(page, "[data-testid=save]")  # the name is filled: Save is next

    page.keyboard.press("Enter")
    card = page.get_by_test_id("customer-card")
    expect(card.get_by_role("heading", level=2)).to_have_text("Acme Oyj")
    expect(card).to_contain_text(NOTES)
    with live_server.app.app_context():
        saved = db.session.scalars(select(Customer)).one()
        assert (saved.owner_id, saved.notes, saved.email) == (
            owner.id,
            NOTES,
            "orders@acme.example",
        )
        assert saved.industry is not None and saved.industry.code == "26300"  # offer ticked
        db.session.remove()


def test_add_a_customer_from_the_registry_with_the_keyboard_only(
    page, live_server, make_user, log_in
):
    log_in(page, make_user("manager").email)
    page.goto("/admin/customers/new/")
    keys = Keys(page)
    registry_box_ready(page)
    assert_focus(page, "#registry-q")  # 0 key presses to the magnifier
    keys.type("acme")
    keys.press("Enter")  # search
    results = page.locator("#registry-results li")
    expect(results).to_have_count(2)
    assert_focus(page, "#registry-q")  # focus stays in the combobox; the list follows it
    expect(results.nth(0)).to_have_class(re.compile(r"\bactive\b"))
    keys.press("ArrowDown")
    expect(page.locator("#registry-q")).to_have_attribute(
        "aria-activedescendant", "registry-option-1"
    )
    keys.press("Enter")  # pick Acme Logistiikka Oy
    expect(page.locator("#name")).to_have_value("Acme Logistiikka Oy")
    assert_focus(page, "[data-testid=save]")
    keys.press("Enter")  # save
    card = page.get_by_test_id("customer-card")
    expect(card.get_by_role("heading", level=2)).to_have_text("Acme Logistiikka Oy")
    expect(card).to_contain_text("Business ID 1927400-1")
    print(f"\nadd from registry: {keys.presses} key presses + {keys.typed} characters typed")
    assert (keys.presses, keys.typed) == (4, 4)


def test_a_mass_update_from_the_summary_with_the_keyboard_only(
    page, live_server, make_user, log_in
):
    admin = make_user("admin", name="Zoe Admin")
    anna = make_user("user", name="Anna Account")  # first among the owners to choose
    with live_server.app.app_context():
        ids = [
            b.customer(name, owner=admin).id
            for name in ("Aalto Oy", "Borealis Oy", "Celsius Oy", "Delta Oy")
        ]
        db.session.commit()
        db.session.remove()
    log_in(page, admin.email)
    page.goto("/admin/customers/")
    keys = Keys(page)
    assert_focus(page, "input[name=search]")  # where the Summary starts
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(4)
    tabs = []
    for n in range(3):  # Aalto, Borealis, Celsius: Tab to the row's box, Space ticks it
        box = f"input.action-checkbox[value='{ids[n]}']"
        tabs.append(keys.tab_to(box))
        keys.press("Space")
        expect(page.locator(box)).to_be_checked()
    tabs.append(keys.tab_to("a[data-toggle=dropdown]", back=True))  # "With selected", above
    keys.press("Enter")  # opens the menu
    expect(page.locator(".dropdown-menu.show")).to_be_visible()
    keys.press("ArrowDown")  # the first item: Mass update…
    assert_focus(page, ".dropdown-menu.show a.dropdown-item")
    expect(page.locator(".dropdown-menu.show a.dropdown-item:focus")).to_have_text("Mass update…")
    keys.press("Enter")

    expect(page.get_by_role("heading", level=2)).to_have_text("Mass update of 3 customers")
    assert_focus(page, "[data-testid=actions] a[data-action=owner]")  # what to change first
    keys.press("Enter")  # Change account owner
    expect(page.get_by_test_id("value-form")).to_be_visible()
    assert_focus(page, "#value")  # then the value
    keys.press("ArrowDown")  # from "Choose…" to the first owner
    expect(page.locator("#value")).to_have_value(str(anna.id))
    keys.press("Tab")
    assert_focus(page, "[data-testid=preview]")
    keys.press("Enter")

    expect(page.get_by_test_id("changing")).to_have_text("3")
    assert_focus(page, "[data-testid=confirm]")  # the confirmation's button
    keys.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("3 customers updated.")
    with live_server.app.app_context():
        owners = dict(db.session.execute(select(Customer.name, Customer.owner_id)).all())
        db.session.remove()
    assert owners == {
        "Aalto Oy": anna.id,
        "Borealis Oy": anna.id,
        "Celsius Oy": anna.id,
        "Delta Oy": admin.id,
    }
    print(f"\nmass update of 3 owners: {keys.presses} key presses (Tabs to the rows: {tabs})")
