"""Keyboard and phone (issue 17): where focus starts, the skip link, and no sideways scrolling at
390 px on the Summary, the card and the form."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from custreg_admin.extensions import db

from .. import builders as b


def _customer(live_server, admin) -> int:
    with live_server.app.app_context():
        customer = b.customer(
            "Pohjoisen Rakennus- ja Kiinteistöpalvelut Osakeyhtiö",
            owner=admin,
            business_id="0528299-1",
        )
        db.session.commit()
        customer_id = customer.id
        db.session.remove()
    return customer_id


def test_focus_starts_in_the_search_and_the_skip_link_leads_to_the_content(
    page, live_server, make_user, log_in
):
    admin = make_user("admin")
    _customer(live_server, admin)
    log_in(page, admin.email)
    page.goto("/admin/customers/")
    expect(page.locator("input[name=search]")).to_be_focused()  # 0 Tabs to the search
    page.keyboard.type("Pohjoisen")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"search=Pohjoisen"))
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)

    page.goto("/admin/customers/new/")
    expect(page.locator("#registry-q")).to_be_focused()  # the magnifier

    page.goto("/admin/")
    page.keyboard.press("Tab")
    skip = page.get_by_test_id("skip-link")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#custreg-main")).to_be_focused()


def test_no_page_scrolls_sideways_at_390_px(page, live_server, make_user, log_in):
    admin = make_user("admin")
    customer_id = _customer(live_server, admin)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, admin.email)
    for path in (
        "/admin/customers/",
        f"/admin/customers/details/?id={customer_id}",
        "/admin/customers/new/",
        f"/admin/customers/edit/?id={customer_id}",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at 390 px"
        expect(page.locator(".navbar-brand")).to_be_visible()
        if "/details/" in path:  # Edit stays one line beside (or below) a long name
            edit = page.get_by_test_id("customer-card").get_by_role("link", name="Edit")
            assert edit.evaluate("e => e.getClientRects().length") == 1
            line = edit.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
            assert edit.bounding_box()["height"] < 2 * line, "Edit wraps inside its button"
    page.goto("/admin/customers/")
    header = page.locator("table.model-list thead")
    for column in ("Name", "Business ID", "Account owner"):
        expect(header.get_by_text(column, exact=True)).to_be_visible()
    expect(page.locator("table.model-list td.col-business_id").first).to_have_css(
        "white-space", "nowrap"
    )
