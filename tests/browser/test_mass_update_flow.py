"""Customers > Summary: a mass update of every customer matching a search (across pages), with
its preview and confirmation, then undone from the Mass updates history."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from custreg_admin.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD
from custreg_admin.extensions import db
from custreg_admin.models import Customer, CustomerStatus
from custreg_admin.services import customers as customer_service

from .ui import menu

SEARCH = "i"  # 28 of the 40 demo customers: more than the list's page of 20


def _statuses(app) -> dict[int, str | None]:
    with app.app_context():
        rows = db.session.execute(
            select(Customer.id, CustomerStatus.name).outerjoin(Customer.status)
        ).all()
        db.session.remove()
    return dict(rows)


def test_mass_update_all_matching_with_preview_confirm_and_undo(
    page, live_server, demo_data, log_in
):
    app = live_server.app
    before = _statuses(app)
    with app.app_context():
        matching = set(
            db.session.scalars(
                select(Customer.id).where(
                    customer_service.search_condition(SEARCH), Customer.is_active
                )
            )
        )
        db.session.remove()
    already = {cid for cid in matching if before[cid] == "Passive"}
    assert len(matching) > 20 and 0 < len(already) < len(matching)

    log_in(page, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
    menu(page, "Customers", "Summary")
    search = page.locator("form[role=search] input[name=search]")
    search.fill(SEARCH)
    search.press("Enter")
    expect(page.get_by_role("link", name=f"List ({len(matching)})")).to_be_visible()
    expect(page.locator("table.model-list tbody tr")).to_have_count(20)  # the first page

    # ticked rows: Flask-Admin's "With selected" action
    rows = page.locator("table.model-list tbody tr")
    rows.nth(0).locator("input.action-checkbox").check()
    rows.nth(3).locator("input.action-checkbox").check()
    page.get_by_role("button", name="With selected").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Mass update…").click()
    expect(page).to_have_url(re.compile(r"/admin/customers/mass-update/\?ids="))
    expect(page.get_by_role("heading", level=2)).to_have_text("Mass update of 2 customers")
    expect(page.get_by_test_id("selection-label")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()  # back to the list as it was
    expect(search).to_have_value(SEARCH)
    expect(page.get_by_role("link", name=f"List ({len(matching)})")).to_be_visible()

    # every customer matching the search, on every page
    page.get_by_test_id("select-all").get_by_role(
        "link", name=f"Select all {len(matching)} customers matching this search"
    ).click()

    expect(page).to_have_url(re.compile(r"/admin/customers/mass-update/"))
    expect(page.get_by_role("heading", level=2)).to_have_text(
        f"Mass update of {len(matching)} customers"
    )
    page.get_by_test_id("actions").get_by_role("link", name="Change status").click()
    page.get_by_label("Status").select_option(label="Passive")
    page.get_by_test_id("preview").click()

    changing = len(matching) - len(already)
    expect(page.get_by_role("heading", level=2)).to_have_text("Change status to Passive")
    expect(page.get_by_test_id("changing")).to_have_text(str(changing))
    expect(page.get_by_test_id("unchanged")).to_have_text(str(len(already)))
    preview = page.get_by_test_id("preview-table").locator("tbody tr")
    expect(preview.first).to_be_visible()
    first = preview.filter(has_not=page.locator(".badge")).first  # a row that changes
    expect(first.locator("td").nth(2)).to_have_text("Active")
    expect(first.locator("td").nth(4)).to_have_text("Passive")
    assert _statuses(app) == before  # nothing changed before the confirmation

    page.get_by_test_id("confirm").click()
    expect(page).to_have_url(re.compile(r"/admin/customers/"))
    expect(page.locator(".alert-success")).to_contain_text(f"{changing} customers updated.")
    expect(search).to_have_value(SEARCH)  # back on the list it started from
    after = _statuses(app)
    assert {cid for cid, status in after.items() if status == "Passive"} >= matching
    assert {cid: s for cid, s in after.items() if cid not in matching} == {
        cid: s for cid, s in before.items() if cid not in matching
    }

    menu(page, "Customers", "Mass updates")
    history = page.get_by_test_id("history")
    row = history.locator("tbody tr").first
    expect(row).to_contain_text("Change status: Passive")
    expect(row).to_contain_text("Applied")
    row.get_by_role("link", name="Undo…").click()
    expect(page.get_by_test_id("undo-counts")).to_contain_text(f"{changing} customers will get")
    page.get_by_test_id("confirm").click()

    expect(page.locator(".alert-success")).to_contain_text(f"{changing} customers restored.")
    assert _statuses(app) == before
    page.get_by_label("breadcrumb").get_by_role("link", name="Mass updates").click()
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").nth(1)).to_contain_text("Undone")
