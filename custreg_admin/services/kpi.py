"""KPI figures of Customers > Summary and the admin home, computed in SQL aggregates.

The definitions are the contract in DESIGN.md ("KPI figures"). The rules, as implemented here:

* An invoice *counts as billing* when its status has ``counts_as_sent``, its number is non-empty
  (NULL, ``''`` and whitespace only - spaces, tabs, CR, LF - are empty) and its date lies in the
  period. Periods are whole calendar periods: "this year" is 1 Jan - 31 Dec of ``today``'s year
  (an invoice dated later this year counts), "this month" likewise; "last month" of January is
  December of the previous year.
* The viewer *may see* an invoice when they are an admin or have ``can_view_all_invoices``, or own
  the invoice's customer (``Customer.owner_id``), or manage the invoice's project
  (``Project.manager_id``). A cost likewise through its project: the project's customer's owner or
  the project's manager.
* Margin this year = visible billing this year - visible costs dated this year; costs on internal
  projects are left out (invoices on internal projects are billing like any other).
* Active customers: customers not inactivated with at least one open sales case or project that
  is not internal (open = not closed and sales status not ``lost``); each customer counted once.
* Prospects in pipeline: customers not inactivated with an open, not internal sales case in
  status ``in_progress``; and no billing ever (any date, earlier and later years included); and
  no sales case or project in status ``won`` - *any* such row, internal or not, open or closed:
  DESIGN qualifies the in-progress sales case with "not internal" but puts no qualifier on
  "won", and a customer that has won business is not a prospect.
* The two counts are *not* subject to invoice permissions: they count customers, which every
  user sees in the Summary list. "No billing ever" is not subject to permissions either: a
  customer that has been billed is not a prospect, whoever looks.

Filters (:class:`CustomerFilter`) restrict the set of customers the figures are computed over.
Money figures follow the filter fully, including its ``active_state`` (billing of inactivated
customers shows under ``active_state='inactive'`` or ``'all'``). The counts never include
inactivated customers: under ``active_state='inactive'`` both counts are 0. ``filters=None``
means all customers (active and inactivated) for money, and all not-inactivated customers for
the counts: the company's totals. Note that ``CustomerFilter()`` (``active_state='active'``, the
Summary list's default) leaves out the billing of inactivated customers, so it differs from
``None`` when inactivated customers have billing.

The drill-down conditions :func:`active_customer_condition` and :func:`prospect_condition` are the
single source of truth: :func:`compute_kpis` counts with them and the Summary list filters with
them, so figure and list always agree.

Money is summed exactly: on PostgreSQL as ``numeric``; on SQLite (which keeps ``Numeric`` as
floating point) as whole cents (``CAST(ROUND(x * 100) AS INTEGER)``), so ``0.10 + 0.20`` is
``0.30``. All figures are computed in one SQL statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import Cost, Customer, Invoice, InvoiceStatus, Project, customer_segment
from .customers import search_condition
from .permissions import sees_all_invoices

CENT = Decimal("0.01")
ACTIVE_STATES = ("active", "inactive", "all")

__all__ = [
    "ACTIVE_STATES",
    "CustomerFilter",
    "KpiFigures",
    "active_customer_condition",
    "billing_by_month",
    "compute_kpis",
    "invoice_counts_as_billing",
    "local_today",
    "prospect_condition",
]


# --------------------------------------------------------------------------- results and input


@dataclass(frozen=True)
class KpiFigures:
    margin_this_year: Decimal
    billing_this_month: Decimal
    billing_last_month: Decimal
    active_customers: int
    prospects_in_pipeline: int

    @property
    def billing_change_percent(self) -> Decimal | None:
        """Change from last month to this month in %, one decimal; None when last month is 0."""
        if not self.billing_last_month:
            return None
        change = (self.billing_this_month - self.billing_last_month) / self.billing_last_month
        return (change * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CustomerFilter:
    """The Summary list's filters and search, as a restriction of the customer set.

    Every field left at ``None`` (or empty search) restricts nothing; ``active_state`` defaults to
    ``'active'`` like the Summary list. ``segment_id`` matches customers in exactly that segment
    (like the list's segment filter; child segments are not included).
    """

    owner_id: int | None = None
    industry_id: int | None = None
    status_id: int | None = None
    segment_id: int | None = None
    country: str | None = None
    active_state: str = "active"
    search: str | None = None
    #: The registry's word on the company: active, liquidation, bankrupt, ceased, or
    #: ``not_active`` for any of the last three.
    registry_status: str | None = None

    def __post_init__(self) -> None:
        if self.active_state not in ACTIVE_STATES:
            raise ValueError(
                f"active_state must be one of {', '.join(ACTIVE_STATES)}, not {self.active_state!r}"
            )

    def condition(self) -> ColumnElement[bool]:
        """SQL condition on ``Customer`` (``true()`` when the filter restricts nothing)."""
        parts: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            parts.append(Customer.owner_id == self.owner_id)
        if self.industry_id is not None:
            parts.append(Customer.industry_id == self.industry_id)
        if self.status_id is not None:
            parts.append(Customer.status_id == self.status_id)
        if self.segment_id is not None:
            members = select(customer_segment.c.customer_id).where(
                customer_segment.c.segment_id == self.segment_id
            )
            parts.append(Customer.id.in_(members))
        if self.country:
            parts.append(Customer.country == self.country.strip().upper())
        if self.active_state == "active":
            parts.append(Customer.is_active.is_(True))
        elif self.active_state == "inactive":
            parts.append(Customer.is_active.is_(False))
        if self.registry_status == "not_active":
            parts.append(Customer.registry_status.in_(("liquidation", "bankrupt", "ceased")))
        elif self.registry_status:
            parts.append(Customer.registry_status == self.registry_status)
        if self.search and self.search.strip():
            found = search_condition(self.search)
            if found is not None:
                parts.append(found)
        return and_(true(), *parts)


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


WHITESPACE = " \t\r\n"


class _trimmed(FunctionElement):
    """``text`` without leading and trailing ``characters``: ``btrim(text, characters)`` on
    PostgreSQL, ``trim(text, characters)`` on SQLite (one function call per row)."""

    type = String()
    name = "trimmed"
    inherit_cache = True


@compiles(_trimmed)
def _trimmed_default(element, compiler, **kw):
    return f"btrim({compiler.process(element.clauses, **kw)})"


@compiles(_trimmed, "sqlite")
def _trimmed_sqlite(element, compiler, **kw):
    return f"trim({compiler.process(element.clauses, **kw)})"


class _scanned(FunctionElement):
    """A column in a condition meant to be checked while reading the table: written ``+column``
    on SQLite, which keeps SQLite's planner from driving the query through an index on it.

    Without range statistics SQLite takes "this year" (or "customers in this unselective set")
    for a small part of the table; on 1M invoices an index walk with a row lookup per entry is
    then several times slower than reading the table. Used for the date ranges and the filter
    sets, not for the viewer's own (small) sets. Other databases plan with real statistics and
    get the column as it is.
    """

    name = "scanned"
    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_scanned)
def _scanned_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_scanned, "sqlite")
def _scanned_sqlite(element, compiler, **kw):
    return f"+{compiler.process(element.clauses, **kw)}"


def _has_number(column) -> ColumnElement[bool]:
    """The invoice number is non-empty: not NULL, not '' and not only whitespace."""
    return _trimmed(column, WHITESPACE) != ""


def invoice_counts_as_billing() -> ColumnElement[bool]:
    """Condition on ``Invoice``: its status counts as sent and it has an invoice number.

    The period (date range) is up to the caller.
    """
    sent = select(InvoiceStatus.id).where(InvoiceStatus.counts_as_sent.is_(True))
    return and_(Invoice.status_id.in_(sent), _has_number(Invoice.number))


def _open_work(*, kind: str | None = None, sales_status: str | None = None) -> Select:
    """Projects of the (correlated) customer that are open and not internal."""
    query = (
        select(Project.id)
        .where(
            Project.customer_id == Customer.id,
            Project.is_internal.is_(False),
            Project.is_closed.is_(False),
            Project.sales_status != "lost",
        )
        .correlate(Customer)  # only the customer: these conditions also run inside queries
    )  # on invoices and costs joined to projects, which must not be correlated away
    if kind is not None:
        query = query.where(Project.kind == kind)
    if sales_status is not None:
        query = query.where(Project.sales_status == sales_status)
    return query


def active_customer_condition() -> ColumnElement[bool]:
    """Condition on ``Customer``: counted in "Active customers".

    Not inactivated, with at least one open (not closed, sales status not ``lost``) sales case
    or project that is not internal.
    """
    return and_(Customer.is_active.is_(True), _open_work().exists())


def prospect_condition() -> ColumnElement[bool]:
    """Condition on ``Customer``: counted in "Prospects in pipeline".

    Not inactivated; an open, not internal sales case in progress; no billing ever (any date,
    whatever the viewer may see); no sales case or project, of any kind, internal or not, open
    or closed, in status ``won``.
    """
    billed = (
        select(Invoice.id)
        .where(Invoice.customer_id == Customer.id, invoice_counts_as_billing())
        .correlate(Customer)
    )
    won = (
        select(Project.id)
        .where(Project.customer_id == Customer.id, Project.sales_status == "won")
        .correlate(Customer)
    )
    return and_(
        Customer.is_active.is_(True),
        _open_work(kind="sales_case", sales_status="in_progress").exists(),
        ~billed.exists(),
        ~won.exists(),
    )


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _summable(amount, sqlite: bool):
    """What to SUM for an exact money total: cents on SQLite, the numeric value elsewhere."""
    return cast(func.round(amount * 100), BigInteger) if sqlite else amount


def _money(value: Any, sqlite: bool) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if sqlite:
        return (Decimal(int(value)) / 100).quantize(CENT)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _user_id(user: Any) -> int | None:
    return getattr(user, "id", None)


def _restrict_invoices(query: Select, user: Any, filters: CustomerFilter | None) -> Select:
    """Add visibility and filter conditions to a query on Invoice.

    Both are semi-joins (``customer_id IN (...)``, ``project_id IN (...)``) rather than joins:
    the sets are built once per statement instead of a lookup per invoice row.
    """
    if filters is not None:
        filtered = select(Customer.id).where(filters.condition())
        query = query.where(_scanned(Invoice.customer_id).in_(filtered))
    if not sees_all_invoices(user):
        user_id = _user_id(user)
        if user_id is None:
            return query.where(false())
        owned = select(Customer.id).where(Customer.owner_id == user_id)
        managed = select(Project.id).where(Project.manager_id == user_id)
        query = query.where(or_(Invoice.customer_id.in_(owned), Invoice.project_id.in_(managed)))
    return query


def _costs_this_year(
    year_start: date, next_year: date, user: Any, filters: CustomerFilter | None, sqlite: bool
) -> Select:
    """Sum of the costs dated in the year, on projects not internal, as the viewer may see them
    and restricted to the filtered customers."""
    query = (
        select(func.sum(_summable(Cost.amount, sqlite)).label("costs"))
        .select_from(Cost)
        .where(_between(_scanned(Cost.date), year_start, next_year))
    )
    see_all = sees_all_invoices(user)
    if filters is None and see_all:
        # Internal projects are few: leaving them out is one small lookup set.
        internal = select(Project.id).where(Project.is_internal.is_(True))
        return query.where(Cost.project_id.not_in(internal))
    projects = (
        select(Project.id)
        .join(Customer, Customer.id == Project.customer_id)
        .where(Project.is_internal.is_(False))
    )
    if filters is not None:
        projects = projects.where(filters.condition())
    if not see_all:
        user_id = _user_id(user)
        if user_id is None:
            return query.where(false())
        projects = projects.where(or_(Customer.owner_id == user_id, Project.manager_id == user_id))
        return query.where(Cost.project_id.in_(projects))  # the viewer's: a small set
    return query.where(_scanned(Cost.project_id).in_(projects))


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _between(column, start: date, end: date) -> ColumnElement[bool]:
    """start <= column < end"""
    return and_(column >= start, column < end)


# --------------------------------------------------------------------------- the figures


def compute_kpis(user: Any, today: date, filters: CustomerFilter | None = None) -> KpiFigures:
    """The four KPI figures as ``user`` may see them on ``today``, in one SQL statement.

    ``filters`` restricts the customers the figures are computed over (see the module docs for
    how ``active_state`` interacts with the counts); ``None``: the company's totals.
    """
    sqlite = _is_sqlite()
    year_start, next_year = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    month_start, last_month_start = _month_start(today), _month_start(today, 1)
    next_month = _month_start(today, -1)

    amount = _summable(Invoice.total, sqlite)
    invoices = (
        select(
            func.sum(case((_between(Invoice.date, year_start, next_year), amount))).label("year"),
            func.sum(case((_between(Invoice.date, month_start, next_month), amount))).label(
                "month"
            ),
            func.sum(case((_between(Invoice.date, last_month_start, month_start), amount))).label(
                "last_month"
            ),
        )
        .select_from(Invoice)
        .where(
            _between(_scanned(Invoice.date), min(year_start, last_month_start), next_year),
            invoice_counts_as_billing(),
        )
    )
    invoices = _restrict_invoices(invoices, user, filters).subquery("kpi_invoices")

    costs = _costs_this_year(year_start, next_year, user, filters, sqlite).subquery("kpi_costs")

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
        invoices.c.year,
        invoices.c.month,
        invoices.c.last_month,
        costs.c.costs,
        count(active_customer_condition()).label("active"),
        count(prospect_condition()).label("prospects"),
    ).select_from(invoices.join(costs, true()))
    row = db.session.execute(statement).one()

    return KpiFigures(
        margin_this_year=_money(row.year, sqlite) - _money(row.costs, sqlite),
        billing_this_month=_money(row.month, sqlite),
        billing_last_month=_money(row.last_month, sqlite),
        active_customers=int(row.active or 0),
        prospects_in_pipeline=int(row.prospects or 0),
    )


def billing_by_month(
    user: Any, today: date, months: int = 12, filters: CustomerFilter | None = None
) -> list[tuple[date, Decimal]]:
    """Billing per calendar month for the ``months`` months ending with ``today``'s month.

    Oldest first, one ``(first day of month, amount)`` per month, months without billing as 0.
    Same rules, visibility and filters as :func:`compute_kpis`; one GROUP BY statement.
    """
    if months < 1:
        return []
    sqlite = _is_sqlite()
    first = _month_start(today, months - 1)
    end = _month_start(today, -1)
    year = extract("year", Invoice.date)
    month = extract("month", Invoice.date)
    query = (
        select(year.label("y"), month.label("m"), func.sum(_summable(Invoice.total, sqlite)))
        .select_from(Invoice)
        .where(_between(_scanned(Invoice.date), first, end), invoice_counts_as_billing())
    )
    query = _restrict_invoices(query, user, filters).group_by(year, month)
    totals = {(int(y), int(m)): _money(total, sqlite) for y, m, total in db.session.execute(query)}
    result = []
    for back in range(months - 1, -1, -1):
        start = _month_start(today, back)
        result.append((start, totals.get((start.year, start.month), Decimal("0.00"))))
    return result


# --------------------------------------------------------------------------- combined filters

KPI_CONDITIONS = {"active": active_customer_condition, "prospects": prospect_condition}


@dataclass(frozen=True)
class CustomerSet:
    """Several filters at once, as the Summary list combines them (all must hold).

    ``parts`` are :class:`CustomerFilter` objects; ``counted_in`` names KPI drill-down
    conditions (``"active"``, ``"prospects"``) the customers must also meet.
    """

    parts: tuple[CustomerFilter, ...] = ()
    counted_in: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.counted_in) - set(KPI_CONDITIONS)
        if unknown:
            raise ValueError(f"unknown KPI condition(s): {', '.join(sorted(unknown))}")

    def condition(self) -> ColumnElement[bool]:
        return and_(
            true(),
            *(part.condition() for part in self.parts),
            *(KPI_CONDITIONS[name]() for name in self.counted_in),
        )

    def to_spec(self) -> dict:
        """A JSON-able description (for links, forms and audit records)."""
        fields = CustomerFilter.__dataclass_fields__
        return {
            "parts": [
                {
                    name: getattr(part, name)
                    for name in fields
                    if getattr(part, name) != fields[name].default
                }
                for part in self.parts
            ],
            "counted_in": list(self.counted_in),
        }

    @classmethod
    def from_spec(cls, spec: dict) -> CustomerSet:
        """The inverse of :meth:`to_spec`; raises ValueError on anything it does not know."""
        if not isinstance(spec, dict):
            raise ValueError("a customer set is described by an object")
        known = set(CustomerFilter.__dataclass_fields__)
        parts = []
        for part in spec.get("parts") or []:
            if not isinstance(part, dict) or set(part) - known:
                raise ValueError(f"unknown customer filter: {part!r}")
            for key in ("owner_id", "industry_id", "status_id", "segment_id"):
                value = part.get(key)
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise ValueError(f"{key} must be a number")
            for key in ("country", "active_state", "search", "registry_status"):
                if part.get(key) is not None and not isinstance(part[key], str):
                    raise ValueError(f"{key} must be text")
            parts.append(CustomerFilter(**part))
        counted_in = spec.get("counted_in") or []
        if not isinstance(counted_in, list) or not all(isinstance(c, str) for c in counted_in):
            raise ValueError("counted_in must be a list of names")
        return cls(parts=tuple(parts), counted_in=tuple(counted_in))
