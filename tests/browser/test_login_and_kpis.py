"""Logging in, and the KPI cards of Customers > Summary against compute_kpis."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from custreg_admin.demo import DEMO_PASSWORD
from custreg_admin.extensions import db
from custreg_admin.models import Customer, User
from custreg_admin.services.kpi import compute_kpis, local_today

from .. import builders as b
from ..helpers import PASSWORD
from .ui import menu


def test_log_in_through_the_form(page, live_server, make_user):
    user = make_user("manager", name="Maija Manager")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))

    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail or password")
    expect(page.get_by_label("E-mail")).to_have_value(user.email)
    expect(page.get_by_label("Password")).to_have_value("")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_test_id("current-user")).to_contain_text("Maija Manager")
    expect(page.get_by_role("alert")).to_have_count(0)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.goto("/admin/customers/")
    expect(page).to_have_url(re.compile(r"/admin/login"))


def test_kpi_cards_match_compute_kpis_and_drill_down(page, live_server, demo_data, log_in):
    app = live_server.app
    today = local_today(app.config["CUSTREG_TIMEZONE"])
    with app.app_context():
        # a manager without can_view_all_invoices: the money figures are of their customers
        viewer = db.session.scalars(
            select(User).where(User.role == "manager").order_by(User.id).limit(1)
        ).one()
        # billing this month whatever the day of the month
        theirs = db.session.scalars(select(Customer).order_by(Customer.number).limit(1)).one()
        theirs.owner_id = viewer.id
        b.invoice(theirs, "1234.50", today)
        db.session.commit()
        email = viewer.email
        expected = compute_kpis(viewer, today)
        db.session.remove()
    log_in(page, email, DEMO_PASSWORD)

    menu(page, "Customers", "Summary")
    # the list renders at once; the cards arrive in their own request and take the
    # placeholder's place
    cards = page.get_by_test_id("kpi-cards").first
    expect(cards).to_be_visible()
    expect(page.get_by_test_id("kpi-slot")).to_have_count(0)

    def shown(name: str) -> str:
        return cards.locator(f'[data-kpi="{name}"]').get_attribute("data-value")

    assert Decimal(shown("margin_this_year")) == expected.margin_this_year
    assert Decimal(shown("billing_this_month")) == expected.billing_this_month
    assert Decimal(shown("billing_last_month")) == expected.billing_last_month
    assert int(shown("active_customers")) == expected.active_customers
    assert int(shown("prospects_in_pipeline")) == expected.prospects_in_pipeline
    assert expected.active_customers > 0 and expected.billing_this_month >= Decimal("1234.50")

    active = cards.locator('[data-kpi="active_customers"] a')
    expect(active).to_have_text(str(expected.active_customers))
    active.click()
    expect(page.get_by_role("link", name=re.compile(r"^List \(\d+\)$"))).to_have_text(
        f"List ({expected.active_customers})"
    )
    # the list's own cards (fetched with the drill-down's filter) now count the same customers
    drilled = page.get_by_test_id("kpi-cards").first
    expect(drilled.locator('[data-kpi="active_customers"]')).to_have_attribute(
        "data-value", str(expected.active_customers)
    )


def test_kpi_cards_that_cannot_load_leave_a_link_to_them(page, live_server, demo_data, log_in):
    with live_server.app.app_context():
        email = db.session.scalars(
            select(User.email).where(User.role == "admin").order_by(User.id).limit(1)
        ).one()
        db.session.remove()
    log_in(page, email, DEMO_PASSWORD)
    page.aborted_on_purpose = True  # the conftest's console check: this failure is the test's
    page.route(re.compile(r"/admin/customers/kpis/"), lambda route: route.abort())
    page.goto("/admin/customers/?search=oy")

    expect(page.get_by_role("link", name=re.compile(r"^List \(\d+\)$"))).to_be_visible()
    failed = page.get_by_test_id("kpi-slot").get_by_role("alert")
    expect(failed).to_contain_text("could not be loaded")
    page.unroute(re.compile(r"/admin/customers/kpis/"))
    failed.get_by_role("link").click()  # the cards on a page of their own, same search
    expect(page).to_have_url(re.compile(r"/admin/customers/kpis/\?.*search=oy"))
    expect(page.get_by_test_id("kpi-cards")).to_be_visible()
    page.get_by_test_id("back-to-list").click()
    expect(page).to_have_url(re.compile(r"/admin/customers/\?.*search=oy"))
