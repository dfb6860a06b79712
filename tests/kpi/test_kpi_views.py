"""KPI cards on Customers > Summary and the dashboard: the page shows what compute_kpis says,
follows the list's filters, and every count links to exactly the customers it counts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.services.customer_filter import CustomerFilter
from custreg_admin.services.kpi import (
    billing_by_month,
    compute_kpis,
    local_today,
)

from .. import builders as b
from ..helpers import summary_cards, summary_filter


def _figures(page: str) -> dict[str, str]:
    """data-kpi -> data-value of the first set of KPI cards on the page."""
    block = page.split('data-testid="kpi-cards"')[1].split('data-testid="kpi-cards"')[0]
    return dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', block))


def _list_count(page: str) -> int:
    return int(re.search(r"List \((\d+)\)", page).group(1))


@pytest.fixture
def data(app, make_user):
    """Two owners' customers with billing this month and last month, costs, sales cases."""
    alice = make_user("user", name="Alice")
    bob = make_user("manager", name="Bob")
    today = local_today(app.config["CUSTREG_TIMEZONE"])
    this_month = today.replace(day=1)
    last_month = (this_month.replace(day=1) - __import__("datetime").timedelta(days=1)).replace(
        day=1
    )
    with app.app_context():
        retail = b.segment("Retail")
        a1 = b.customer("Alpha Oy", owner=alice, segments=[retail])
        a2 = b.customer("Aava Oy", owner=alice)
        b1 = b.customer("Beta AS", owner=bob, country="NO")
        b2 = b.customer("Bravo AS", owner=bob, country="NO", segments=[retail])
        b.customer("Gone Oy", owner=alice, is_active=False)
        work = b.project(a1, manager=alice)
        b.invoice(a1, "1000.00", this_month, project=work)
        b.invoice(a1, "500.00", last_month, project=work)
        b.cost(work, "300.00", this_month)
        b.sales_case(a2)  # a prospect
        deal = b.sales_case(b1, manager=bob)
        b.invoice(b1, "2500.50", this_month, project=deal)
        b.sales_case(b2)  # a prospect
        db.session.commit()
        return {"alice": alice, "bob": bob, "retail": retail.id, "today": today}


def _user(app, user) -> User:
    return db.session.get(User, user.id)


def test_summary_cards_show_compute_kpis(app, client, data, login):
    login("admin")
    page = summary_cards(client)
    with app.app_context():
        admin = db.session.scalars(db.select(User).where(User.role == "admin")).one()
        expected = compute_kpis(admin, data["today"])
    shown = _figures(page)
    assert Decimal(shown["margin_this_year"]) == expected.margin_this_year
    assert Decimal(shown["billing_this_month"]) == expected.billing_this_month == Decimal("3500.50")
    assert Decimal(shown["billing_last_month"]) == expected.billing_last_month
    assert int(shown["active_customers"]) == expected.active_customers == 4
    assert int(shown["prospects_in_pipeline"]) == expected.prospects_in_pipeline == 2
    assert "€3,500.50" in page  # money with thousands separator and currency
    assert "How is this calculated?" in page
    assert "in total" not in page  # unfiltered: no second figure


def test_drill_down_lists_exactly_the_counted_customers(app, client, data, login):
    login("admin")
    page = summary_cards(client)
    shown = _figures(page)
    for kpi, figure in (("active", "active_customers"), ("prospects", "prospects_in_pipeline")):
        pattern = rf'data-kpi="{figure}"[^>]*>\s*<a href="([^"]+)"'
        link = re.search(pattern, page).group(1)
        listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert _list_count(listed) == int(shown[figure]), kpi
    prospects_link = re.search(
        r'data-kpi="prospects_in_pipeline"[^>]*>\s*<a href="([^"]+)"', page
    ).group(1)
    listed = client.get(prospects_link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Aava Oy" in listed and "Bravo AS" in listed and "Alpha Oy" not in listed


def test_cards_follow_filters_and_search_with_the_total_beside(app, client, data, login):
    login("admin")
    view = app.extensions["custreg_admin"].views[0]
    with app.test_request_context():
        args = {f.name: f"flt{i}_{view.get_filter_arg(i, f)}" for i, f in enumerate(view._filters)}
    url = f"/admin/customers/?{args['Account owner']}={data['alice'].id}"
    page = summary_cards(client, url)
    shown = _figures(page)
    with app.app_context():
        admin = db.session.scalars(db.select(User).where(User.role == "admin")).one()
        mine = compute_kpis(admin, data["today"], CustomerFilter(owner_id=data["alice"].id))
    assert Decimal(shown["billing_this_month"]) == mine.billing_this_month == Decimal("1000.00")
    assert int(shown["active_customers"]) == mine.active_customers == 2
    assert int(shown["prospects_in_pipeline"]) == mine.prospects_in_pipeline == 1
    assert "of €3,500.50 in total" in page
    # drill down keeps the owner filter
    link = re.search(r'data-kpi="prospects_in_pipeline"[^>]*>\s*<a href="([^"]+)"', page).group(1)
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert _list_count(listed) == 1 and "Aava Oy" in listed

    page = summary_cards(client, "/admin/customers/?search=bravo")
    shown = _figures(page)
    assert int(shown["prospects_in_pipeline"]) == 1 and int(shown["active_customers"]) == 1
    assert Decimal(shown["billing_this_month"]) == 0

    seg = f"/admin/customers/?{args['Market segment']}={data['retail']}"
    shown = _figures(summary_cards(client, seg))
    assert int(shown["active_customers"]) == 2  # Alpha (project) and Bravo (sales case)


def test_summary_list_renders_without_the_figures_and_names_their_url(app, client, data, login):
    login("admin")
    page = client.get("/admin/customers/?search=oy&sort=1&desc=1").get_data(as_text=True)
    assert "Alpha Oy" in page and _list_count(page) == 2  # the list is there at once
    assert "data-kpi=" not in page  # the figures come in their own request
    url = re.search(r'data-kpi-url="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert url.startswith("/admin/customers/kpis/?")
    assert {"search=oy", "sort=1", "desc=1"} <= set(url.split("?")[1].split("&"))
    assert f'<noscript><p class="small"><a href="{url.replace("&", "&amp;")}">' in page

    cards = client.get(url, headers={"X-Custreg-Fragment": "1"})
    assert "X-Custreg-Fragment" in cards.headers["Vary"]
    shown = _figures(cards.get_data(as_text=True))
    assert int(shown["active_customers"]) == 2  # Alpha Oy (project), Aava Oy (sales case)
    assert int(shown["prospects_in_pipeline"]) == 1  # Aava Oy: never billed
    # drill-down keeps the list's search and sort
    link = re.search(
        r'data-kpi="prospects_in_pipeline"[^>]*>\s*<a href="([^"]+)"', cards.get_data(as_text=True)
    ).group(1)
    link = link.replace("&amp;", "&")
    assert link.startswith("/admin/customers/?")
    assert {"search=oy", "sort=1", "desc=1"} <= set(link.split("?")[1].split("&"))


def test_kpi_cards_page_without_javascript(app, client, data, login):
    login("admin")
    owner_arg = summary_filter(app, "Account owner")
    query = f"{owner_arg}={data['alice'].id}"
    page = client.get(f"/admin/customers/kpis/?{query}").get_data(as_text=True)
    assert "<html" in page and "Customers" in page  # a whole page, with the menu
    shown = _figures(page)
    assert Decimal(shown["billing_this_month"]) == Decimal("1000.00")
    assert "of €3,500.50 in total" in page
    back = re.search(r'<a href="([^"]+)" data-testid="back-to-list"', page).group(1)
    listed = client.get(back.replace("&amp;", "&")).get_data(as_text=True)
    assert _list_count(listed) == 2  # Alice's active customers: Alpha, Aava (not Gone)
    assert "Alpha Oy" in listed and "Gone Oy" not in listed


def test_kpi_cards_need_a_login(app, client, data):
    response = client.get("/admin/customers/kpis/", headers={"X-Custreg-Fragment": "1"})
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_a_user_sees_only_billing_they_may_see(app, client, data):
    from ..helpers import log_in

    log_in(client, data["alice"])
    shown = _figures(summary_cards(client))
    assert Decimal(shown["billing_this_month"]) == Decimal("1000.00")  # not Bob's 2,500.50
    assert Decimal(shown["margin_this_year"]) == Decimal("1200.00")  # 1000 + 500 - 300
    assert int(shown["active_customers"]) == 4  # counts are not about invoices


def test_dashboard_shows_company_and_own_figures_and_the_chart(app, client, data):
    from ..helpers import log_in

    log_in(client, data["bob"])  # a manager without can_view_all_invoices
    page = client.get("/admin/").get_data(as_text=True)
    company, own = page.split('data-testid="kpi-cards"')[1:3]
    company_values = dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', company))
    own_values = dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', own))
    with app.app_context():
        bob = _user(app, data["bob"])
        expected = compute_kpis(bob, data["today"])
        months = billing_by_month(bob, data["today"], months=12)
    assert Decimal(company_values["billing_this_month"]) == expected.billing_this_month
    assert Decimal(own_values["billing_this_month"]) == Decimal("2500.50")
    assert int(own_values["active_customers"]) == 2  # Beta (billed sales case), Bravo
    assert int(own_values["prospects_in_pipeline"]) == 1  # Bravo: Beta has billing
    bars = re.findall(r'<rect class="bar"[^>]*data-value="([^"]+)"', page)
    assert [Decimal(v) for v in bars] == [value for _, value in months]
    assert len(bars) == 12
    assert months[-1][0] == data["today"].replace(day=1)


def test_local_today_is_the_date_in_the_configured_timezone(app):
    from datetime import datetime

    assert local_today("Europe/Helsinki", datetime(2026, 12, 31, 22, 30)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    "spec",
    [
        {"parts": [{"search": 5}]},
        {"parts": [{"owner_id": "1"}]},
        {"parts": [{"owner_id": True}]},
        {"parts": [{"active_state": "sometimes"}]},
        {"parts": [{"no_such_field": 1}]},
        {"counted_in": [["active"]]},
        {"counted_in": ["nonsense"]},
        ["not", "an", "object"],
    ],
)
def test_forged_customer_set_specs_are_refused(spec):
    from custreg_admin.services.customer_filter import CustomerSet

    with pytest.raises(ValueError):
        CustomerSet.from_spec(spec)


def test_customer_set_spec_round_trip():
    from custreg_admin.services.customer_filter import CustomerSet

    original = CustomerSet(
        parts=(CustomerFilter(owner_id=3, search="oy"), CustomerFilter(active_state="all")),
        counted_in=("prospects",),
    )
    assert CustomerSet.from_spec(original.to_spec()) == original
