"""KPI figures (DESIGN.md "KPI figures"): each clause of the contract on a hand-built data set."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.rules.open_work import active_customer_condition, prospect_condition
from custreg_admin.services.customer_filter import CustomerFilter
from custreg_admin.services.kpi import (
    KpiFigures,
    billing_by_month,
    compute_kpis,
    local_today,
)

from ..builders import (
    cost,
    customer,
    industry,
    invoice,
    invoice_status,
    many_customers,
    project,
    sales_case,
    segment,
)
from ..helpers import recorded_statements

TODAY = date(2024, 6, 15)
ZERO = Decimal("0.00")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def kpis(user, today=TODAY, filters=None) -> KpiFigures:
    return compute_kpis(user, today, filters)


def drill_down(condition, filters: CustomerFilter | None = None) -> list[int]:
    query = select(Customer.id).where(condition)
    if filters is not None:
        query = query.where(filters.condition())
    return sorted(db.session.scalars(query))


def counting_statements():
    return recorded_statements(db.engine)


# --------------------------------------------------------------------------- billing: what counts


def test_empty_data_gives_zeros(ctx, admin):
    figures = kpis(admin)
    assert figures == KpiFigures(ZERO, ZERO, ZERO, 0, 0)
    assert figures.billing_change_percent is None


def test_status_not_counting_as_sent_is_not_billing(ctx, admin):
    acme = customer()
    invoice(acme, "100.00", TODAY, status="Sent")
    invoice(acme, "20.00", TODAY, status="Paid")  # also counts as sent
    for name in ("Draft", "Approved", "Credited"):
        invoice(acme, "1000.00", TODAY, status=name)
    invoice(acme, "5000.00", TODAY, status=invoice_status("On hold", counts_as_sent=False))
    figures = kpis(admin)
    assert figures.billing_this_month == Decimal("120.00")
    assert figures.margin_this_year == Decimal("120.00")


@pytest.mark.parametrize("number", [None, "", "   ", "\t", " \r\n "])
def test_invoice_with_empty_number_is_not_billing(ctx, admin, number):
    acme = customer()
    invoice(acme, "100.00", TODAY, number=number)
    invoice(acme, "7.00", TODAY, number=" 42 ")
    figures = kpis(admin)
    assert figures.billing_this_month == Decimal("7.00")
    assert figures.margin_this_year == Decimal("7.00")


def test_month_boundaries(ctx, admin):
    acme = customer()
    invoice(acme, "1.00", date(2024, 6, 1))  # first day of this month
    invoice(acme, "2.00", date(2024, 6, 30))  # last day of this month
    invoice(acme, "10.00", date(2024, 5, 1))  # first day of last month
    invoice(acme, "20.00", date(2024, 5, 31))  # last day of last month
    invoice(acme, "100.00", date(2024, 4, 30))  # the month before
    invoice(acme, "200.00", date(2024, 7, 1))  # next month
    figures = kpis(admin)
    assert figures.billing_this_month == Decimal("3.00")
    assert figures.billing_last_month == Decimal("30.00")
    assert figures.margin_this_year == Decimal("333.00")  # all of 2024, later months included
    assert figures.billing_change_percent == Decimal("-90.0")


def test_year_boundaries_and_other_years(ctx, admin):
    acme = customer()
    work = project(acme)
    invoice(acme, "1.00", date(2024, 1, 1))
    invoice(acme, "2.00", date(2024, 12, 31))
    invoice(acme, "10.00", date(2023, 12, 31))
    invoice(acme, "20.00", date(2025, 1, 1))
    invoice(acme, "40.00", date(2023, 6, 15))  # same month, another year
    invoice(acme, "80.00", date(2025, 6, 15))
    cost(work, "0.10", date(2024, 1, 1))
    cost(work, "0.20", date(2024, 12, 31))
    cost(work, "5.00", date(2023, 12, 31))
    cost(work, "5.00", date(2025, 1, 1))
    figures = kpis(admin)
    assert figures.margin_this_year == Decimal("2.70")
    assert figures.billing_this_month == ZERO
    assert figures.billing_last_month == ZERO


def test_january_compares_with_december_of_previous_year(ctx, admin):
    acme = customer()
    invoice(acme, "50.00", date(2023, 12, 1))
    invoice(acme, "25.00", date(2023, 12, 31))
    invoice(acme, "99.00", date(2024, 12, 15))  # December of the wrong year
    invoice(acme, "100.00", date(2024, 1, 31))
    figures = kpis(admin, today=date(2024, 1, 1))
    assert figures.billing_this_month == Decimal("100.00")
    assert figures.billing_last_month == Decimal("75.00")
    assert figures.margin_this_year == Decimal("199.00")  # December of last year is not this year
    assert figures.billing_change_percent == Decimal("33.3")


def test_local_today_near_midnight_helsinki_versus_utc(ctx, admin):
    late = datetime(2024, 12, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 Jan in Helsinki
    assert local_today("UTC", late) == date(2024, 12, 31)
    assert local_today("Europe/Helsinki", late) == date(2025, 1, 1)
    assert local_today("Europe/Helsinki", late.replace(tzinfo=None)) == date(
        2025, 1, 1
    )  # naive=UTC
    early = datetime(2024, 7, 31, 20, 59, tzinfo=UTC)  # 23:59 in Helsinki (summer time, UTC+3)
    assert local_today("Europe/Helsinki", early) == date(2024, 7, 31)
    assert local_today("Europe/Helsinki", early.replace(minute=59, hour=21)) == date(2024, 8, 1)
    assert isinstance(local_today("Europe/Helsinki"), date)

    acme = customer()
    invoice(acme, "100.00", date(2025, 1, 1))
    invoice(acme, "40.00", date(2024, 12, 31))
    helsinki = kpis(admin, today=local_today("Europe/Helsinki", late))
    utc = kpis(admin, today=local_today("UTC", late))
    assert (helsinki.billing_this_month, helsinki.billing_last_month) == (
        Decimal("100.00"),
        Decimal("40.00"),
    )
    assert helsinki.margin_this_year == Decimal("100.00")
    assert (utc.billing_this_month, utc.billing_last_month) == (Decimal("40.00"), ZERO)
    assert utc.margin_this_year == Decimal("40.00")


# --------------------------------------------------------------------------- margin


def test_margin_subtracts_costs_but_not_on_internal_projects(ctx, make_user, admin):
    owner = make_user("user")
    acme = customer(owner=owner)
    work = project(acme)
    internal = project(acme, is_internal=True)
    invoice(acme, "1000.00", date(2024, 3, 1), project=work)
    invoice(acme, "300.00", date(2024, 3, 1), project=internal)  # billing on internal still counts
    cost(work, "250.50", date(2024, 2, 1))
    cost(internal, "999.00", date(2024, 2, 1))  # left out
    assert kpis(admin).margin_this_year == Decimal("1049.50")
    assert kpis(admin, filters=CustomerFilter()).margin_this_year == Decimal("1049.50")
    assert kpis(owner).margin_this_year == Decimal("1049.50")


def test_margin_may_be_negative(ctx, admin):
    work = project(customer())
    cost(work, "12.34", TODAY)
    assert kpis(admin).margin_this_year == Decimal("-12.34")


# --------------------------------------------------------------------------- active customers


def test_active_customers_open_work_only(ctx, admin):
    with_project = customer()
    project(with_project)
    with_sales_case = customer()
    sales_case(with_sales_case)
    won_open = customer()
    project(won_open, sales_status="won")  # won and not closed: still open work
    lost = customer()
    sales_case(lost, sales_status="lost")
    project(lost, sales_status="lost")
    closed = customer()
    project(closed, is_closed=True)
    sales_case(closed, is_closed=True)
    internal = customer()
    project(internal, is_internal=True)
    sales_case(internal, is_internal=True)
    customer()  # nothing at all
    expected = sorted(c.id for c in (with_project, with_sales_case, won_open))
    assert kpis(admin).active_customers == 3
    assert drill_down(active_customer_condition()) == expected


def test_customer_counted_once_however_many_projects(ctx, admin):
    busy = customer()
    for _ in range(4):
        project(busy)
        sales_case(busy)
    prospect = customer()
    for _ in range(3):
        sales_case(prospect)
    figures = kpis(admin)
    assert figures.active_customers == 2
    assert figures.prospects_in_pipeline == 2  # busy has no billing and nothing won either


def test_inactivated_customers_are_not_counted(ctx, admin):
    gone = customer(is_active=False)
    project(gone)
    sales_case(gone)
    invoice(gone, "10.00", TODAY)
    kept = customer()
    project(kept)
    invoice(kept, "1.00", TODAY)

    everything = kpis(admin)  # filters=None: money over every customer, counts over active ones
    assert (everything.active_customers, everything.prospects_in_pipeline) == (1, 0)
    assert everything.billing_this_month == Decimal("11.00")

    summary_default = kpis(admin, filters=CustomerFilter())  # the list's default: active only
    assert summary_default.billing_this_month == Decimal("1.00")
    assert summary_default.active_customers == 1

    only_inactivated = kpis(admin, filters=CustomerFilter(active_state="inactive"))
    assert only_inactivated.billing_this_month == Decimal("10.00")  # money follows the filter
    assert (only_inactivated.active_customers, only_inactivated.prospects_in_pipeline) == (0, 0)

    assert kpis(admin, filters=CustomerFilter(active_state="all")) == everything
    assert drill_down(active_customer_condition()) == [kept.id]
    assert drill_down(prospect_condition()) == []


# --------------------------------------------------------------------------- prospects


def test_prospect_needs_open_in_progress_sales_case_not_internal(ctx, admin):
    prospect = customer()
    sales_case(prospect)
    closed = customer()
    sales_case(closed, is_closed=True)
    lost = customer()
    sales_case(lost, sales_status="lost")
    internal = customer()
    sales_case(internal, is_internal=True)
    only_project = customer()
    project(only_project)  # an open project in progress is not a sales case
    figures = kpis(admin)
    assert figures.prospects_in_pipeline == 1
    assert figures.active_customers == 2  # prospect and only_project
    assert drill_down(prospect_condition()) == [prospect.id]


@pytest.mark.parametrize(
    "won",
    [
        {"kind": "project"},
        {"kind": "sales_case"},
        {"kind": "project", "is_closed": True},
        {"kind": "sales_case", "is_closed": True},
        {"kind": "project", "is_internal": True},  # decision: internal won rows exclude too
    ],
    ids=["project", "sales-case", "closed-project", "closed-sales-case", "internal-project"],
)
def test_anything_won_excludes_customer_from_prospects(ctx, admin, won):
    candidate = customer()
    sales_case(candidate)
    project(candidate, sales_status="won", **won)
    other = customer()
    sales_case(other)
    assert kpis(admin).prospects_in_pipeline == 1
    assert drill_down(prospect_condition()) == [other.id]


@pytest.mark.parametrize(
    "day", [date(2019, 3, 1), date(2023, 12, 31), date(2024, 6, 15), date(2026, 1, 1)]
)
def test_billing_ever_excludes_customer_from_prospects(ctx, admin, day):
    billed = customer()
    sales_case(billed)
    invoice(billed, "0.01", day)  # any date, earlier or later years included
    assert kpis(admin).prospects_in_pipeline == 0


def test_draft_or_unnumbered_invoices_do_not_exclude_from_prospects(ctx, admin):
    candidate = customer()
    sales_case(candidate)
    invoice(candidate, "10.00", date(2020, 1, 1), status="Draft")
    invoice(candidate, "10.00", date(2020, 1, 1), number=None)
    invoice(candidate, "10.00", date(2020, 1, 1), number=" ")
    assert kpis(admin).prospects_in_pipeline == 1


def test_billing_ever_ignores_viewer_permissions(ctx, make_user):
    owner = make_user("user")
    stranger = make_user("user")
    billed = customer(owner=owner)
    sales_case(billed, manager=stranger)
    invoice(billed, "10.00", date(2020, 1, 1))  # the stranger cannot see this invoice
    fresh = customer(owner=owner)
    sales_case(fresh)
    for user in (owner, stranger):
        assert kpis(user).prospects_in_pipeline == 1
        assert kpis(user).active_customers == 2  # counts are not restricted by permissions


# --------------------------------------------------------------------------- permissions


@pytest.fixture
def permission_data(make_user):
    """Two owners' customers, one managed project on the other owner's customer.

    Users first: ``make_user`` commits in a session of its own.
    """
    users = {
        "owner": make_user("user"),
        "other": make_user("user"),
        "manager": make_user("manager"),
        "admin": make_user("admin"),
        "all_invoices": make_user("user", can_view_all_invoices=True),
        "nobody": make_user("manager"),
    }
    owner, other, manager = users["owner"], users["other"], users["manager"]
    mine = customer(owner=owner)
    theirs = customer(owner=other)
    unowned = customer()
    invoice(mine, "1.00", TODAY)  # no project: visible to the owner through the customer
    my_project = project(mine)
    invoice(mine, "2.00", TODAY, project=my_project)
    cost(my_project, "0.50", TODAY)
    managed = project(theirs, manager=manager)  # a project of someone else's customer
    invoice(theirs, "10.00", TODAY, project=managed)
    cost(managed, "5.00", TODAY)
    invoice(theirs, "100.00", TODAY)
    invoice(unowned, "1000.00", TODAY)
    cost(project(unowned), "500.00", TODAY)
    return users


@pytest.mark.parametrize(
    ("who", "billing", "margin"),
    [
        ("admin", "1113.00", "607.50"),
        ("all_invoices", "1113.00", "607.50"),
        ("owner", "3.00", "2.50"),
        ("manager", "10.00", "5.00"),
        ("other", "110.00", "105.00"),
        ("nobody", "0.00", "0.00"),
    ],
)
def test_permissions(ctx, permission_data, who, billing, margin):
    figures = kpis(permission_data[who])
    assert figures.billing_this_month == Decimal(billing)
    assert figures.margin_this_year == Decimal(margin)
    assert figures.active_customers == 3  # counts are the same for everyone


def test_manager_sees_only_the_invoices_of_their_projects(ctx, make_user):
    """A manager sees invoices of their project only, not the rest of that customer's invoices."""
    manager = make_user("user")
    acme = customer()
    managed = project(acme, manager=manager)
    other = project(acme)
    invoice(acme, "10.00", TODAY, project=managed)
    invoice(acme, "20.00", TODAY, project=other)
    invoice(acme, "40.00", TODAY)
    cost(other, "1.00", TODAY)
    figures = kpis(manager)
    assert figures.billing_this_month == Decimal("10.00")
    assert figures.margin_this_year == Decimal("10.00")


def test_anonymous_or_missing_user_sees_no_money(ctx):
    unowned = customer()  # owner_id NULL must not match a user without id
    invoice(unowned, "10.00", TODAY, project=project(unowned))
    for user in (None, object()):
        figures = kpis(user)
        assert figures.billing_this_month == ZERO
        assert figures.active_customers == 1


# --------------------------------------------------------------------------- filters


def test_filters_restrict_figures(ctx, make_user, admin):
    owner = make_user("user")
    retail = segment("Retail")
    tech = industry("Software")
    a = customer("Alpha Oy", owner=owner, segments=[retail], industry=tech)
    project(a)
    invoice(a, "10.00", TODAY)
    b = customer("Beta AB", country="SE", segments=[retail])
    project(b)
    invoice(b, "20.00", TODAY, project=project(b))
    c = customer("Gamma Oy", owner=owner)
    project(c)
    invoice(c, "40.00", TODAY)
    d = customer("Delta Oy", owner=owner, segments=[retail])
    sales_case(d)  # the only prospect

    cases = {
        CustomerFilter(owner_id=owner.id): ("50.00", 3, 1),
        CustomerFilter(segment_id=retail.id): ("30.00", 3, 1),
        CustomerFilter(search="oy"): ("50.00", 3, 1),
        CustomerFilter(search="Beta"): ("20.00", 1, 0),
        CustomerFilter(search=str(b.number)): ("20.00", 1, 0),
        CustomerFilter(industry_id=tech.id): ("10.00", 1, 0),
        CustomerFilter(country="se"): ("20.00", 1, 0),
        CustomerFilter(owner_id=owner.id, segment_id=retail.id): ("10.00", 2, 1),
        CustomerFilter(search="nothing matches"): ("0.00", 0, 0),
        CustomerFilter(search="  "): ("70.00", 4, 1),
        CustomerFilter(): ("70.00", 4, 1),
    }
    for filters, (billing, active, prospects) in cases.items():
        figures = kpis(admin, filters=filters)
        assert (
            figures.billing_this_month,
            figures.active_customers,
            figures.prospects_in_pipeline,
        ) == (Decimal(billing), active, prospects), filters
        assert len(drill_down(active_customer_condition(), filters)) == active, filters
        assert len(drill_down(prospect_condition(), filters)) == prospects, filters


def test_filter_and_permissions_combine_for_costs(ctx, make_user):
    manager = make_user("user")
    retail = segment()
    inside = customer(segments=[retail])
    outside = customer()
    for row, amount in ((inside, "3.00"), (outside, "7.00")):
        work = project(row, manager=manager)
        invoice(row, "100.00", TODAY, project=work)
        cost(work, amount, TODAY)
    assert kpis(manager).margin_this_year == Decimal("190.00")
    assert kpis(manager, filters=CustomerFilter(segment_id=retail.id)).margin_this_year == Decimal(
        "97.00"
    )


def test_customer_filter_rejects_unknown_active_state():
    with pytest.raises(ValueError, match="active_state"):
        CustomerFilter(active_state="yes")


# --------------------------------------------------------------------------- money, statements


def test_money_is_exact_decimal(ctx, admin):
    acme = customer()
    work = project(acme)
    invoice(acme, "0.10", TODAY)
    invoice(acme, "0.20", TODAY)
    for _ in range(30):
        invoice(acme, "0.01", date(2024, 5, 2))
    invoice(acme, "999999999999.99", date(2024, 1, 1))
    cost(work, "0.30", TODAY)
    cost(work, "0.03", TODAY)
    figures = kpis(admin)
    assert figures.billing_this_month == Decimal("0.30")
    assert figures.billing_last_month == Decimal("0.30")
    assert figures.margin_this_year == Decimal("999999999999.99") + Decimal("0.60") - Decimal(
        "0.33"
    )
    for value in (figures.margin_this_year, figures.billing_this_month, figures.billing_last_month):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2
    assert figures.billing_change_percent == Decimal("0.0")
    assert all(
        isinstance(amount, Decimal) and amount.as_tuple().exponent == -2
        for _, amount in billing_by_month(admin, TODAY)
    )


def test_billing_change_percent():
    def figures(this, last):
        return KpiFigures(ZERO, Decimal(this), Decimal(last), 0, 0)

    assert figures("150.00", "100.00").billing_change_percent == Decimal("50.0")
    assert figures("0.00", "100.00").billing_change_percent == Decimal("-100.0")
    assert figures("1.00", "3.00").billing_change_percent == Decimal("-66.7")
    assert figures("100.00", "0.00").billing_change_percent is None


@pytest.mark.parametrize("role", ["admin", "user"])
def test_statement_count_does_not_grow_with_data(ctx, make_user, role):
    viewer = make_user(role)
    filters = CustomerFilter(search="Customer", segment_id=segment().id)
    counts = []
    for size in (5, 50):
        many_customers(size, owner=viewer)
        db.session.commit()
        with counting_statements() as statements:
            compute_kpis(viewer, TODAY)
            compute_kpis(viewer, TODAY, filters)
            billing_by_month(viewer, TODAY)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4 * 2 + 1
    with counting_statements() as statements:
        compute_kpis(viewer, TODAY)
    assert len(statements) <= 4
    assert len(statements) == 1


def test_figures_on_many_customers(ctx, make_user):
    owner = make_user("user")
    many_customers(24, owner=owner)
    figures = kpis(owner)
    assert figures.active_customers == 24
    assert figures.prospects_in_pipeline == 0  # each has billing
    assert figures.billing_this_month == Decimal("20.00")  # June 2024: customers 5 and 17
    assert figures.margin_this_year == Decimal("216.00")
    assert (
        db.session.scalar(
            select(func.count()).select_from(Customer).where(active_customer_condition())
        )
        == 24
    )


# --------------------------------------------------------------------------- billing by month


def test_billing_by_month(ctx, make_user, admin):
    owner = make_user("user")
    acme = customer(owner=owner)
    other = customer()
    invoice(acme, "1.00", date(2024, 2, 1))
    invoice(acme, "2.00", date(2024, 2, 29))
    invoice(acme, "4.00", date(2023, 3, 1))  # oldest month of twelve
    invoice(acme, "8.00", date(2023, 2, 28))  # thirteen months back: left out
    invoice(acme, "16.00", date(2023, 12, 31))
    invoice(acme, "32.00", date(2024, 3, 1))  # next month: left out
    invoice(acme, "64.00", date(2024, 2, 10), status="Draft")
    invoice(other, "128.00", date(2024, 1, 5))
    today = date(2024, 2, 29)

    months = billing_by_month(admin, today)
    assert [start for start, _ in months] == [date(2023, m, 1) for m in range(3, 13)] + [
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]
    amounts = dict(months)
    assert amounts[date(2024, 2, 1)] == Decimal("3.00")
    assert amounts[date(2024, 1, 1)] == Decimal("128.00")
    assert amounts[date(2023, 12, 1)] == Decimal("16.00")
    assert amounts[date(2023, 3, 1)] == Decimal("4.00")
    assert sum(amounts.values()) == Decimal("151.00")

    assert sum(dict(billing_by_month(owner, today)).values()) == Decimal("23.00")
    assert (
        dict(billing_by_month(admin, today, filters=CustomerFilter(owner_id=owner.id)))[
            date(2024, 1, 1)
        ]
        == ZERO
    )
    assert billing_by_month(admin, today, months=1) == [(date(2024, 2, 1), Decimal("3.00"))]
    assert billing_by_month(admin, today, months=0) == []

    figures = kpis(admin, today=today)
    assert (figures.billing_this_month, figures.billing_last_month) == (
        amounts[date(2024, 2, 1)],
        amounts[date(2024, 1, 1)],
    )
