"""KPI figures of Customers > Summary and the admin home, computed in SQL aggregates.

The definitions are the contract in DESIGN.md ("KPI figures"); each rule has its home in
:mod:`custreg_admin.rules` and is asked here, never re-derived:

* what counts as billing, the periods, costs left out of margin: :mod:`~custreg_admin.rules.billing`
  (periods are whole calendar periods: "this year" is 1 Jan - 31 Dec of ``today``'s year, "last
  month" of January is December of the previous year);
* which invoices and costs the viewer may see: :mod:`~custreg_admin.rules.visibility`;
* open work, active customers, prospects: :mod:`~custreg_admin.rules.open_work` (the counts are
  not subject to invoice visibility);
* exact money sums: :mod:`~custreg_admin.rules.money`.

Margin this year = visible billing this year - visible costs dated this year (costs on internal
projects left out).

Filters (:class:`~custreg_admin.services.customer_filter.CustomerFilter`) restrict the set of
customers the figures are computed over. Money figures follow the filter fully, including its
``active_state`` (billing of inactivated customers shows under ``active_state='inactive'`` or
``'all'``). The counts never include inactivated customers: under ``active_state='inactive'`` both
counts are 0. ``filters=None`` means all customers (active and inactivated) for money, and all
not-inactivated customers for the counts: the company's totals. Note that ``CustomerFilter()``
(``active_state='active'``, the Summary list's default) leaves out the billing of inactivated
customers, so it differs from ``None`` when inactivated customers have billing.

The drill-down conditions (``active``, ``prospects``) are the ones the figures count with, so
figure and list always agree. All figures are computed in one SQL statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Cost, Customer, Invoice, Project
from ..rules.billing import (
    cost_counts_for_margin,
    in_period,
    invoice_counts_as_billing,
    sent_statuses,
)
from ..rules.money import ZERO, cents, money_value
from ..rules.open_work import active_customer_condition, prospect_condition
from ..rules.visibility import sees_all_invoices, visible_invoices
from . import kpi_days, kpi_viewers
from .customer_filter import CustomerFilter, CustomerSet
from .kpi_rollups import money_rows, scanned

__all__ = [
    "KpiFigures",
    "PERIODS",
    "billing_by_month",
    "billing_invoice_condition",
    "compute_kpis",
    "costs_of_customers",
    "format_period",
    "invoices_of_customers",
    "kpi_periods",
    "local_today",
    "margin_cost_condition",
    "parse_period",
]


# --------------------------------------------------------------------------- results and input


@dataclass(frozen=True)
class KpiFigures:
    margin_this_year: Decimal
    billing_this_month: Decimal
    billing_last_month: Decimal
    active_customers: int
    prospects_in_pipeline: int
    #: Last month's billing up to the same day of the month as ``today`` (see
    #: :func:`kpi_periods`): the month-to-date comparison for ``billing_this_month``.
    billing_last_month_to_date: Decimal = ZERO
    #: The two parts of ``margin_this_year``: billing this year minus the costs this year.
    billing_this_year: Decimal = ZERO
    costs_this_year: Decimal = ZERO

    @property
    def billing_change_percent(self) -> Decimal | None:
        """Change from the whole of last month to this month in %, one decimal (Severa's
        figure); None when last month is 0."""
        return _change_percent(self.billing_this_month, self.billing_last_month)

    @property
    def billing_change_to_date_percent(self) -> Decimal | None:
        """Change from last month up to the same day to this month in %, one decimal; None
        when that part of last month is 0."""
        return _change_percent(self.billing_this_month, self.billing_last_month_to_date)


def _change_percent(now: Decimal, before: Decimal) -> Decimal | None:
    if not before:
        return None
    return ((now - before) / before * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date in the time zone ``tz_name`` (e.g. ``CUSTREG_TIMEZONE``).

    ``now`` defaults to the current time; a naive ``now`` is taken as UTC.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(tz_name)).date()


# --------------------------------------------------------------------------- SQL building blocks


def _restrict_invoices(query: Select, user: Any, filters: CustomerFilter | None) -> Select:
    """Add visibility and filter conditions to a query on Invoice.

    Both are semi-joins (``customer_id IN (...)``, ``project_id IN (...)``) rather than joins:
    the sets are built once per statement instead of a lookup per invoice row.
    """
    if filters is not None:
        filtered = select(Customer.id).where(filters.condition())
        query = query.where(scanned(Invoice.customer_id).in_(filtered))
    return query.where(visible_invoices(user))


def _month_number(day: date) -> int:
    """A date's month as ``KpiTotal.month`` holds it."""
    return day.year * 12 + day.month - 1


def _months(start: date, end: date) -> tuple[int, int]:
    """The first and last month of the whole months ``start <= day < end``."""
    return _month_number(start), _month_number(end - timedelta(days=1))


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


#: The periods of the money figures, by name (see :func:`kpi_periods`).
PERIODS = ("year", "month", "last_month", "last_month_to_date")


def kpi_periods(today: date) -> dict[str, tuple[date, date]]:
    """The periods of the money figures on ``today``, as ``(first day, day after the last)``.

    * ``year``, ``month``, ``last_month``: whole calendar periods;
    * ``last_month_to_date``: last month from its 1st up to the same day of the month as
      ``today``. When last month is shorter (30 or 31 March against February), it ends with last
      month's last day; on the last day of a month (28 February against January) it is the
      whole of last month, since the whole of this month has then been reached.
    """
    month_start, last_month_start = _month_start(today), _month_start(today, 1)
    next_month = _month_start(today, -1)
    if (next_month - today).days == 1:  # the last day of the month
        to_date_end = month_start
    else:
        to_date_end = min(last_month_start + timedelta(days=today.day), month_start)
    return {
        "year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "month": (month_start, next_month),
        "last_month": (last_month_start, month_start),
        "last_month_to_date": (last_month_start, to_date_end),
    }


def format_period(start: date, end: date) -> str:
    """A period ``start <= day < end`` as text for a link: ``2026-12-01..2026-12-31`` (the
    last day included); :func:`parse_period` reads it back."""
    return f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}"


def parse_period(text: Any) -> tuple[date, date] | None:
    """``(start, day after the last)`` of a :func:`format_period` text; None when it is not
    one (or ends before it starts)."""
    first, sep, last = str(text or "").strip().partition("..")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)
    except (ValueError, OverflowError):
        return None
    return (start, end) if sep and start < end else None


# --------------------------------------------------------------------------- drill-downs


def billing_invoice_condition(start: date, end: date) -> ColumnElement[bool]:
    """Condition on ``Invoice``: counts as billing in ``start <= date < end``. With the
    viewer's visibility and the customer filter, the rows of a billing figure."""
    return and_(in_period(Invoice.date, start, end), invoice_counts_as_billing())


def margin_cost_condition(start: date, end: date) -> ColumnElement[bool]:
    """Condition on ``Cost``: dated in ``start <= date < end`` and counting towards margin
    (with visibility and the customer filter, the costs the margin subtracts)."""
    counting = select(Project.id).where(cost_counts_for_margin()).correlate(None)
    return and_(in_period(Cost.date, start, end), Cost.project_id.in_(counting))


def invoices_of_customers(filters: CustomerFilter | CustomerSet) -> ColumnElement[bool]:
    """Condition on ``Invoice``: of a customer matching ``filters``."""
    return Invoice.customer_id.in_(select(Customer.id).where(filters.condition()))


def costs_of_customers(filters: CustomerFilter | CustomerSet) -> ColumnElement[bool]:
    """Condition on ``Cost``: on a project of a customer matching ``filters``."""
    projects = (
        select(Project.id)
        .join(Customer, Customer.id == Project.customer_id)
        .where(filters.condition())
    )
    return Cost.project_id.in_(projects)


# --------------------------------------------------------------------------- the figures


def compute_kpis(user: Any, today: date, filters: CustomerFilter | None = None) -> KpiFigures:
    """The KPI figures as ``user`` may see them on ``today``, in one SQL statement.

    The money comes from the maintained aggregates (:mod:`.kpi_totals`): one pass over the rows
    of the months from last month (or January) to December, whatever the number of invoices.
    Last month up to the same day, when it is not the whole month, comes from the company's day
    totals (:mod:`.kpi_days`) for a viewer who sees everything without a filter, from the day
    totals per viewer (:mod:`.kpi_viewers`) for any other viewer without a filter, and is summed
    from the invoices of those days with a filter. ``filters`` restricts the customers the figures
    are computed over (see the module docs for how ``active_state`` interacts with the counts);
    ``None``: the company's totals.
    """
    periods = kpi_periods(today)
    year = _months(*periods["year"])
    month = _months(*periods["month"])
    last_month = _months(*periods["last_month"])
    whole_to_date = periods["last_month_to_date"] == periods["last_month"]

    rows = money_rows(user, filters, (min(year[0], last_month[0]), year[1]))
    sent = rows.c.status_id.in_(sent_statuses())

    def billed(months: tuple[int, int]):
        return func.sum(case((and_(sent, rows.c.month.between(*months)), rows.c.billed_cents)))

    totals = select(
        billed(year).label("year"),
        billed(month).label("month"),
        billed(last_month).label("last_month"),
        func.sum(case((rows.c.month.between(*year), rows.c.cost_cents))).label("costs"),
    ).subquery("kpi_totals")

    if whole_to_date:
        to_date = totals.c.last_month
    elif sees_all_invoices(user) and filters is None:  # the company's day totals
        to_date = kpi_days.billed_between(*periods["last_month_to_date"], sent_statuses())
    elif filters is None:  # the day totals per viewer
        to_date = kpi_viewers.billed_between(user, *periods["last_month_to_date"], sent_statuses())
    else:  # a part of last month: from its invoices (one month at most)
        to_date_query = (
            select(func.sum(cents(Invoice.total)))
            .select_from(Invoice)
            .where(
                in_period(Invoice.date, *periods["last_month_to_date"]),
                invoice_counts_as_billing(),
            )
        )
        to_date = _restrict_invoices(to_date_query, user, filters).scalar_subquery()

    customers = filters.condition() if filters is not None else true()

    def count(condition: ColumnElement[bool]):
        return (
            select(func.count())
            .select_from(Customer)
            .where(customers, condition)
            .correlate(None)
            .scalar_subquery()
        )

    statement = select(
        totals.c.year,
        totals.c.month,
        totals.c.last_month,
        to_date.label("last_month_to_date"),
        totals.c.costs,
        count(active_customer_condition()).label("active"),
        count(prospect_condition()).label("prospects"),
    ).select_from(totals)
    row = db.session.execute(statement).one()

    billing_this_year, costs_this_year = _cents_money(row.year), _cents_money(row.costs)
    return KpiFigures(
        margin_this_year=billing_this_year - costs_this_year,
        billing_this_month=_cents_money(row.month),
        billing_last_month=_cents_money(row.last_month),
        active_customers=int(row.active or 0),
        prospects_in_pipeline=int(row.prospects or 0),
        billing_last_month_to_date=_cents_money(row.last_month_to_date),
        billing_this_year=billing_this_year,
        costs_this_year=costs_this_year,
    )


def _cents_money(value: Any) -> Decimal:
    return money_value(value, True) or ZERO


def billing_by_month(
    user: Any, today: date, months: int = 12, filters: CustomerFilter | None = None
) -> list[tuple[date, Decimal]]:
    """Billing per calendar month for the ``months`` months ending with ``today``'s month.

    Oldest first, one ``(first day of month, amount)`` per month, months without billing as 0.
    Same rules, visibility and filters as :func:`compute_kpis`; one GROUP BY statement over the
    maintained aggregates.
    """
    if months < 1:
        return []
    first = _month_number(_month_start(today, months - 1))
    last = _month_number(today)
    rows = money_rows(user, filters, (first, last))
    query = (
        select(rows.c.month, func.sum(rows.c.billed_cents))
        .where(rows.c.status_id.in_(sent_statuses()))
        .group_by(rows.c.month)
    )
    totals = {int(m): _cents_money(total) for m, total in db.session.execute(query)}
    result = []
    for back in range(months - 1, -1, -1):
        start = _month_start(today, back)
        result.append((start, totals.get(_month_number(start), Decimal("0.00"))))
    return result
