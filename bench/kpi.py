"""KPI case: ``compute_kpis`` against one hand-written SQL text computing the same figures."""

from __future__ import annotations

import calendar
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text

from custreg_admin.extensions import db
from custreg_admin.models import Customer, User
from custreg_admin.services.kpi import KpiFigures, compute_kpis

from .common import BenchEnv, CaseResult, paired

CENT = Decimal("0.01")

# Visibility for a viewer who does not see all invoices (:uid owns the customer or manages the
# project), written as semi-joins (``IN (SELECT ...)``: each set built once, hashed) as the module
# does, not as an OR over joined rows; empty for one who sees all.
_INVOICE_VISIBILITY = (
    "",
    "AND (i.customer_id IN (SELECT id FROM custreg_customer WHERE owner_id = :uid) "
    "OR i.project_id IN (SELECT id FROM custreg_project WHERE manager_id = :uid))",
)
_COST_VISIBILITY = (
    "",
    "AND c.project_id IN (SELECT vp.id FROM custreg_project vp "
    "JOIN custreg_customer cu ON cu.id = vp.customer_id "
    "WHERE cu.owner_id = :uid OR vp.manager_id = :uid)",
)

BASELINE_SQL = """
SELECT b.year_total, b.month_total, b.last_month_total, k.cost_total,
  (SELECT COUNT(*) FROM custreg_customer c
    WHERE c.is_active = TRUE
      AND c.id IN (SELECT p.customer_id FROM custreg_project p
                    WHERE p.is_internal = FALSE AND p.is_closed = FALSE
                      AND p.sales_status <> 'lost')) AS active_customers,
  (SELECT COUNT(*) FROM custreg_customer c
    WHERE c.is_active = TRUE
      AND c.id IN (SELECT p.customer_id FROM custreg_project p
                    WHERE p.kind = 'sales_case' AND p.sales_status = 'in_progress'
                      AND p.is_internal = FALSE AND p.is_closed = FALSE)
      AND NOT EXISTS (SELECT 1 FROM custreg_invoice i
                        JOIN custreg_invoice_status s ON s.id = i.status_id
                       WHERE i.customer_id = c.id AND s.counts_as_sent = TRUE
                         AND {trim}(i.number, :whitespace) <> '')
      AND NOT EXISTS (SELECT 1 FROM custreg_project p
                       WHERE p.customer_id = c.id AND p.sales_status = 'won')) AS prospects,
  b.last_month_to_date
FROM (
  SELECT SUM(CASE WHEN i.date >= :year_start THEN {invoice_amount} END) AS year_total,
         SUM(CASE WHEN i.date >= :month_start AND i.date < :next_month
                  THEN {invoice_amount} END) AS month_total,
         SUM(CASE WHEN i.date >= :last_month_start AND i.date < :month_start
                  THEN {invoice_amount} END) AS last_month_total,
         SUM(CASE WHEN i.date >= :last_month_start AND i.date < :to_date_end
                  THEN {invoice_amount} END) AS last_month_to_date
    FROM custreg_invoice i
    JOIN custreg_invoice_status s ON s.id = i.status_id AND s.counts_as_sent = TRUE
    {invoice_join}
   WHERE {scan}i.date >= :from_day AND {scan}i.date < :next_year
     AND {trim}(i.number, :whitespace) <> ''
     {invoice_where}
) b, (
  SELECT SUM({cost_amount}) AS cost_total
    FROM custreg_cost c
    JOIN custreg_project p ON p.id = c.project_id AND p.is_internal = FALSE
    {cost_join}
   WHERE {scan}c.date >= :year_start AND {scan}c.date < :next_year
     {cost_where}
) k
"""


def _month(day, back: int):
    index = day.year * 12 + day.month - 1 - back
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def baseline_kpis(user_id: int | None, today) -> KpiFigures:
    """The KPI figures from one raw SQL text; ``user_id=None``: a viewer who sees everything."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"

    def amount(column: str) -> str:  # SQLite keeps NUMERIC as floating point: sum in cents
        return f"CAST(ROUND({column} * 100) AS INTEGER)" if sqlite else column

    invoice_join, invoice_where = _INVOICE_VISIBILITY if user_id is not None else ("", "")
    cost_join, cost_where = _COST_VISIBILITY if user_id is not None else ("", "")
    sql = BASELINE_SQL.format(
        invoice_amount=amount("i.total"),
        cost_amount=amount("c.amount"),
        invoice_join=invoice_join,
        invoice_where=invoice_where,
        cost_join=cost_join,
        cost_where=cost_where,
        trim="TRIM" if sqlite else "BTRIM",
        # the module's planner hint: on SQLite, read the table rather than walk the date index
        # (a ``+column`` keeps SQLite's planner off the index; PostgreSQL plans by statistics)
        scan="+" if sqlite else "",
    )
    year_start = today.replace(month=1, day=1)
    last_month_start = _month(today, 1)
    month_start = _month(today, 0)
    # last month up to the same day; on a month's last day, or past last month's end, all of it
    if today.day == calendar.monthrange(today.year, today.month)[1]:
        to_date_end = month_start
    else:
        to_date_end = min(last_month_start + timedelta(days=today.day), month_start)
    params: dict[str, Any] = {
        "year_start": year_start,
        "next_year": year_start.replace(year=today.year + 1),
        "month_start": month_start,
        "to_date_end": to_date_end,
        "next_month": _month(today, -1),
        "last_month_start": last_month_start,
        "from_day": min(year_start, last_month_start),
        "whitespace": " \t\r\n",
    }
    if user_id is not None:
        params["uid"] = user_id
    row = db.session.execute(text(sql), params).one()

    def money(value) -> Decimal:
        if value is None:
            return Decimal("0.00")
        return (Decimal(int(value)) / 100 if sqlite else Decimal(value)).quantize(CENT)

    return KpiFigures(
        margin_this_year=money(row[0]) - money(row[3]),
        billing_this_month=money(row[1]),
        billing_last_month=money(row[2]),
        active_customers=int(row[4]),
        prospects_in_pipeline=int(row[5]),
        billing_last_month_to_date=money(row[6]),
        billing_this_year=money(row[0]),
        costs_this_year=money(row[3]),
    )


def _figures(figures: KpiFigures) -> dict[str, Any]:
    return {key: str(value) for key, value in asdict(figures).items()}


def _compare(name: str, env: BenchEnv, user: Any, user_id: int | None) -> CaseResult:
    measured = paired(
        lambda: compute_kpis(user, env.today), lambda: baseline_kpis(user_id, env.today), env.runs
    )
    figures, baseline = measured.result, measured.baseline_result
    return CaseResult.of(
        name,
        measured,
        same_result=figures == baseline,
        result=_figures(figures),
        baseline_result=_figures(baseline),
        goal_ratio=1.5,
    )


def _detached(user: User) -> User:
    db.session.expunge(user)
    return user


def kpi_admin(env: BenchEnv) -> CaseResult:
    """The company's figures, as an administrator sees them."""
    admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    if admin is None:
        admin = User(email="bench-admin@example.com", name="Bench admin", role="admin")
    else:
        admin = _detached(admin)
    return _compare("kpi: admin, all customers", env, admin, None)


def kpi_owner(env: BenchEnv) -> CaseResult:
    """An account owner without ``can_view_all_invoices``: the permission joins at work."""
    owner_id = db.session.scalar(
        select(Customer.owner_id)
        .join(User, User.id == Customer.owner_id)
        .where(User.role != "admin", User.can_view_all_invoices.is_(False))
        .group_by(Customer.owner_id)
        .order_by(func.count().desc(), Customer.owner_id)
        .limit(1)
    )
    if owner_id is None:
        raise LookupError("no account owner without can_view_all_invoices in the data")
    owner = _detached(db.session.get(User, owner_id))
    return _compare("kpi: account owner (permissions)", env, owner, owner_id)


CASES = [kpi_admin, kpi_owner]
