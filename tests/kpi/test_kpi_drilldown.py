"""KPI money figures (issue 17): the month-to-date comparison of "Billing this month" and the
drill-downs of Margin and Billing to exactly the invoices and costs that make each figure."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Cost, Invoice
from custreg_admin.services.kpi import (
    KpiFigures,
    compute_kpis,
    format_period,
    kpi_periods,
    local_today,
    parse_period,
)

from .. import builders as b
from ..helpers import log_in, summary_cards, summary_filter

ZERO = Decimal("0.00")


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("today", "to_date"),
    [
        (date(2027, 3, 15), (date(2027, 2, 1), date(2027, 2, 16))),  # 1-15 February
        (date(2027, 3, 1), (date(2027, 2, 1), date(2027, 2, 2))),  # the 1st: 1 February
        (date(2027, 3, 30), (date(2027, 2, 1), date(2027, 3, 1))),  # February is shorter
        (date(2027, 3, 31), (date(2027, 2, 1), date(2027, 3, 1))),  # month end: all February
        (date(2027, 2, 28), (date(2027, 1, 1), date(2027, 2, 1))),  # month end: all January
        (date(2028, 2, 28), (date(2028, 1, 1), date(2028, 1, 29))),  # leap year: not the end
        (date(2028, 2, 29), (date(2028, 1, 1), date(2028, 2, 1))),
        (date(2027, 4, 30), (date(2027, 3, 1), date(2027, 4, 1))),  # end of April: all March
        (date(2027, 5, 30), (date(2027, 4, 1), date(2027, 5, 1))),  # 30 May: all of April
        (date(2027, 5, 29), (date(2027, 4, 1), date(2027, 4, 30))),
        (date(2027, 1, 3), (date(2026, 12, 1), date(2026, 12, 4))),  # over the year's turn
    ],
)
def test_last_month_to_date_period(today, to_date):
    periods = kpi_periods(today)
    assert periods["last_month_to_date"] == to_date
    assert periods["last_month"][0] == to_date[0]  # from the same first day
    assert periods["month"] == (today.replace(day=1), periods["month"][1])


def test_period_text_round_trip():
    period = (date(2027, 2, 1), date(2027, 3, 1))
    assert format_period(*period) == "2027-02-01..2027-02-28"
    assert parse_period("2027-02-01..2027-02-28") == period
    for bad in ("", "2027-02-01", "2027-02-28..2027-02-01", "x..y", None):
        assert parse_period(bad) is None


def test_change_percent_to_date_and_whole_month():
    figures = KpiFigures(
        ZERO, Decimal("300.00"), Decimal("1000.00"), 0, 0, billing_last_month_to_date=Decimal("200")
    )
    assert figures.billing_change_percent == Decimal("-70.0")  # Severa's figure, kept
    assert figures.billing_change_to_date_percent == Decimal("50.0")
    assert KpiFigures(ZERO, ZERO, ZERO, 0, 0).billing_change_to_date_percent is None


# --------------------------------------------------------------------------- compute_kpis


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def test_billing_last_month_to_date_on_the_3rd(ctx, admin):
    acme = b.customer()
    b.invoice(acme, "50.00", date(2027, 5, 2))  # this month
    b.invoice(acme, "100.00", date(2027, 4, 1))
    b.invoice(acme, "200.00", date(2027, 4, 3))  # the same day: included
    b.invoice(acme, "400.00", date(2027, 4, 4))  # after the same day
    b.invoice(acme, "800.00", date(2027, 4, 30))
    figures = compute_kpis(admin, date(2027, 5, 3))
    assert figures.billing_this_month == Decimal("50.00")
    assert figures.billing_last_month == Decimal("1500.00")
    assert figures.billing_last_month_to_date == Decimal("300.00")
    assert figures.billing_change_percent == Decimal("-96.7")
    assert figures.billing_change_to_date_percent == Decimal("-83.3")


def test_billing_last_month_to_date_at_month_ends(ctx, admin):
    acme = b.customer()
    b.invoice(acme, "10.00", date(2027, 2, 1))
    b.invoice(acme, "20.00", date(2027, 2, 28))
    b.invoice(acme, "40.00", date(2027, 3, 31))
    b.invoice(acme, "1.00", date(2027, 1, 30))
    b.invoice(acme, "2.00", date(2027, 1, 31))
    on_31_march = compute_kpis(admin, date(2027, 3, 31))
    assert on_31_march.billing_last_month_to_date == on_31_march.billing_last_month
    assert on_31_march.billing_last_month == Decimal("30.00")
    on_30_march = compute_kpis(admin, date(2027, 3, 30))  # February has no 30th: all of it
    assert on_30_march.billing_last_month_to_date == Decimal("30.00")
    on_27_feb = compute_kpis(admin, date(2027, 2, 27))
    assert on_27_feb.billing_last_month_to_date == ZERO  # 1-27 January
    assert on_27_feb.billing_last_month == Decimal("3.00")
    on_28_feb = compute_kpis(admin, date(2027, 2, 28))  # February's last day: all January
    assert on_28_feb.billing_last_month_to_date == Decimal("3.00")


def test_margin_parts(ctx, admin):
    acme = b.customer()
    work = b.project(acme)
    internal = b.project(acme, is_internal=True)
    b.invoice(acme, "1000.00", date(2027, 1, 5), project=work)
    b.cost(work, "300.00", date(2027, 2, 1))
    b.cost(internal, "99.00", date(2027, 2, 1))
    figures = compute_kpis(admin, date(2027, 5, 3))
    assert (figures.billing_this_year, figures.costs_this_year) == (
        Decimal("1000.00"),
        Decimal("300.00"),
    )
    assert figures.margin_this_year == Decimal("700.00")


# --------------------------------------------------------------------------- drill-downs


@pytest.fixture
def data(app, make_user):
    """Two owners, billing and costs in and around every period, rows that do not count."""
    alice = make_user("user", name="Alice")
    bob = make_user("manager", name="Bob")
    today = local_today(app.config["CUSTREG_TIMEZONE"])
    periods = kpi_periods(today)
    month, last_month = periods["month"][0], periods["last_month"][0]
    days = sorted(
        {
            today,
            month,
            periods["month"][1] - timedelta(days=1),
            last_month,
            periods["last_month_to_date"][1] - timedelta(days=1),
            month - timedelta(days=1),
            date(today.year, 1, 1),
            date(today.year, 1, 1) - timedelta(days=1),
            date(today.year, 12, 31),
        }
    )
    with app.app_context():
        retail = b.segment("Retail")
        a1 = b.customer("Alpha Oy", owner=alice, segments=[retail])
        a2 = b.customer("Aava Oy", owner=alice)
        b1 = b.customer("Beta AS", owner=bob, country="NO", segments=[retail])
        gone = b.customer("Gone Oy", owner=alice, is_active=False)
        alpha_work = b.project(a1, manager=alice)
        beta_work = b.project(b1, manager=alice)  # Alice manages a project of Bob's customer
        beta_other = b.project(b1, manager=bob)
        internal = b.project(a2, is_internal=True, manager=alice)
        gone_work = b.project(gone, manager=alice)
        for n, day in enumerate(days, start=1):
            b.invoice(a1, f"{n}00.10", day, project=alpha_work)
            b.invoice(a2, f"{n}0.20", day)
            b.invoice(b1, f"{n}000.30", day, project=beta_work)
            b.invoice(b1, f"{n}0000.40", day, project=beta_other)
            b.invoice(gone, f"{n}.50", day, project=gone_work)
            b.invoice(a1, "77777.00", day, status="Draft")
            b.invoice(a1, "88888.00", day, number=None)
            b.cost(alpha_work, f"{n}1.00", day)
            b.cost(beta_work, f"{n}2.00", day)
            b.cost(beta_other, f"{n}3.00", day)
            b.cost(internal, "9999.00", day)
            b.cost(gone_work, f"{n}4.00", day)
        db.session.commit()
        return {"alice": alice, "bob": bob, "retail": retail.id}


FIGURES = (
    "billing_this_year",
    "costs_this_year",
    "billing_this_month",
    "billing_last_month",
    "billing_last_month_to_date",
)


def _cards(page: str) -> dict[str, tuple[str, str | None]]:
    """data-kpi -> (data-value, drill-down link or None) of the first set of cards."""
    block = page.split('data-testid="kpi-cards"')[1]
    found = {}
    for tag in re.findall(r"<(?:a|span|div)\b[^>]*data-kpi=[^>]*>", block):
        name = re.search(r'data-kpi="(\w+)"', tag).group(1)
        value = re.search(r'data-value="([^"]+)"', tag)
        link = re.search(r'href="([^"]+)"', tag)
        found.setdefault(
            name,
            (
                value.group(1) if value else None,
                link.group(1).replace("&amp;", "&") if link else None,
            ),
        )
    return found


def _listed_ids(client, link: str) -> list[int]:
    assert "page_size=20" in link
    page = client.get(link.replace("page_size=20", "page_size=500"))
    assert page.status_code == 200, link
    text = page.get_data(as_text=True)
    return [int(i) for i in re.findall(r"details/\?id=(\d+)", text)]


def _sum(model, column, ids) -> Decimal:
    total = db.session.scalar(select(func.sum(column)).where(model.id.in_(ids))) if ids else None
    return Decimal(total or 0).quantize(Decimal("0.01"))


def _check_drill_downs(app, client, page: str) -> dict[str, Decimal]:
    cards = _cards(page)
    sums = {}
    for figure in FIGURES:
        value, link = cards[figure]
        assert link, f"{figure} has no drill-down"
        ids = sorted(set(_listed_ids(client, link)))
        with app.app_context():
            if figure == "costs_this_year":
                assert link.startswith("/admin/costs/")
                sums[figure] = _sum(Cost, Cost.amount, ids)
            else:
                assert link.startswith("/admin/invoices/")
                sums[figure] = _sum(Invoice, Invoice.total, ids)
        assert sums[figure] == Decimal(value), figure
    margin = Decimal(cards["margin_this_year"][0])
    assert sums["billing_this_year"] - sums["costs_this_year"] == margin
    assert Decimal(cards["billing_this_month"][0]) == sums["billing_this_month"]
    return sums


@pytest.mark.parametrize("viewer", ["admin", "alice", "bob"])
def test_every_money_figure_drills_down_to_its_rows(app, client, data, make_user, viewer):
    """Each money figure links to the Invoices or Costs list filtered to its rows, as the viewer
    may see them and for the Summary's filters: the listed rows sum to the figure."""
    log_in(client, make_user("admin") if viewer == "admin" else data[viewer])
    summaries = [
        "/admin/customers/",
        f"/admin/customers/?{summary_filter(app, 'Account owner')}={data['alice'].id}",
        f"/admin/customers/?{summary_filter(app, 'Market segment')}={data['retail']}",
        f"/admin/customers/?{summary_filter(app, 'Active state')}=all&search=oy",
    ]
    seen = set()
    for url in summaries:
        seen.add(tuple(_check_drill_downs(app, client, summary_cards(client, url)).values()))
    if viewer != "bob":  # Bob sees no billing of Alice's customers: zeros twice
        assert len(seen) == len(summaries)  # the filters make a difference every time
    home = client.get("/admin/").get_data(as_text=True)
    company, own = home.split('data-testid="kpi-cards"')[1:3]
    _check_drill_downs(app, client, 'data-testid="kpi-cards"' + company)
    _check_drill_downs(app, client, 'data-testid="kpi-cards"' + own)


def test_drill_down_list_names_its_filters(app, client, data, login):
    login("admin")
    cards = _cards(summary_cards(client))
    page = client.get(cards["billing_this_month"][1]).get_data(as_text=True)
    assert "counted in the figure of" in page
