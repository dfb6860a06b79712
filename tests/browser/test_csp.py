"""Under the Content-Security-Policy the controls that Flask-Admin drives with inline handlers
still work (the ``page`` fixture fails any test with a CSP violation or console error)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Industry

from .. import builders as b


def test_pages_are_served_with_a_nonce_policy(page, live_server, make_user, log_in):
    log_in(page, make_user("admin").email)
    response = page.goto("/admin/customers/")
    policy = response.headers["content-security-policy"]
    assert "'nonce-" in policy and "frame-ancestors 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_delete_asks_first_and_filters_and_inline_rows_work(page, live_server, make_user, log_in):
    with live_server.app.app_context():
        b.industry("Keep me")
        b.industry("Delete me")
        db.session.commit()
        db.session.remove()
    log_in(page, make_user("admin").email)

    # the trash button's confirm (faHelpers.safeConfirm): dismissed, nothing happens
    page.goto("/admin/settings/industries/")
    row = page.locator("table.model-list tbody tr").filter(has_text="Delete me")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_title("Delete Record").click()
    expect(row).to_be_visible()
    # accepted: the row goes
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_title("Delete Record").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("table.model-list tbody tr").filter(has_text="Delete me")).to_have_count(0)
    with live_server.app.app_context():
        names = db.session.scalars(select(Industry.name)).all()
        db.session.remove()
    assert "Keep me" in names and "Delete me" not in names

    # "Add Filter" menu entries (onclick="return false;"): a filter row appears, no navigation
    page.goto("/admin/customers/")
    filters = page.locator("#filter_form .remove-filter")
    before = filters.count()
    page.get_by_role("link", name="Add Filter").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Country", exact=True).click()
    expect(filters).to_have_count(before + 1)
    expect(page).to_have_url(re.compile(r"/admin/customers/$"))

    # "Add Address" on the customer form (faForm.addInlineField)
    page.goto("/admin/customers/new/")
    streets = page.locator("input[name^='addresses-'][name$='-street']")
    before = streets.count()
    page.get_by_role("button", name="Add Address").click()
    expect(streets).to_have_count(before + 1)
