"""The demo generator's bulk path: a million customers on PostgreSQL in minutes.

Used on PostgreSQL with psycopg 3 from :data:`BULK_FROM` customers on (or when asked for,
:func:`uses_bulk`); SQLite and smaller sets take the row-by-row path of
:func:`~custreg_admin.demo.loading.generate`, whose data this one resembles.

One transaction, in phases (their seconds in :attr:`DemoSummary.phases`):

1. **customers**: the customers, addresses, e-invoicing addresses, contacts and segment links
   made in Python by the same :class:`~custreg_admin.demo.generator.Generator` (names, valid
   business IDs, cities...), ``COPY``-ed in chunks, with each customer's profile and size into
   a temporary table;
2. **projects**, **proposals**, **invoices**, **costs**: ``INSERT ... SELECT`` from those
   (:mod:`.bulk_sql`), the same probability tables, the same totals per customer;
3. **indexes**: the secondary indexes, foreign keys and row triggers set aside before the load
   (:mod:`.set_aside`) are made again, which checks every row; the invoice-project rule is
   checked in one query;
4. **search keys** (:func:`customer_keys.rebuild_all <custreg_admin.services.customer_keys.
   rebuild_all>`) and **KPI aggregates** (:func:`kpi_totals.rebuild <custreg_admin.services.
   kpi_totals.rebuild>`), set-based, from scratch; then commit and ``ANALYZE``.

The loaded tables are locked while it runs (the indexes are dropped in its transaction).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import text

from ..extensions import db
from ..models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerKey,
    EInvoiceAddress,
    Invoice,
    KpiTotal,
    Project,
    Proposal,
    customer_segment,
)
from ..services import customer_keys, kpi_totals
from . import bulk_sql
from .copying import IdSource, bulk_insert
from .generator import Generator
from .set_aside import check_rules, set_aside
from .settings import DemoSummary

#: From this many customers on, PostgreSQL with psycopg 3 takes the bulk path by default.
BULK_FROM = 50_000
#: Progress units per customer of each phase (the customers phase counts one per customer),
#: roughly their share of the time.
PHASE_UNITS = {
    "customers": 1.0,
    "projects": 0.45,
    "proposals": 0.25,
    "invoices": 0.65,
    "costs": 0.9,
    "indexes": 1.0,
    "search keys": 0.15,
    "KPI aggregates": 1.2,
    "keys and checks": 1.6,
    "ANALYZE": 0.3,
}
_CUSTOMER_TABLES = (
    ("customer", Customer.__table__),
    ("address", Address.__table__),
    ("einvoice", EInvoiceAddress.__table__),
    ("contact", Contact.__table__),
    ("segment", customer_segment),
)
_LOADED = [
    *(table.name for _key, table in _CUSTOMER_TABLES),
    Project.__tablename__,
    Proposal.__tablename__,
    Invoice.__tablename__,
    Cost.__tablename__,
    CustomerKey.__tablename__,
    KpiTotal.__tablename__,
]
_DERIVED = {CustomerKey.__tablename__, KpiTotal.__tablename__}


def can_bulk_load() -> bool:
    dialect = db.session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def uses_bulk(customers: int, bulk: bool | None = None) -> bool:
    """Whether :func:`~custreg_admin.demo.loading.generate` takes the bulk path: ``bulk``
    when given (True on a database that cannot raises), else from :data:`BULK_FROM` on."""
    if bulk is None:
        return customers >= BULK_FROM and can_bulk_load()
    if bulk and not can_bulk_load():
        raise ValueError("the bulk demo load needs PostgreSQL with psycopg 3")
    return bulk


def progress_length(customers: int, bulk: bool) -> int:
    """The progress units of a run (what ``progress`` is called with adds up to this)."""
    if not bulk:
        return customers
    return sum(round(units * customers) for units in PHASE_UNITS.values())


class _Phases:
    def __init__(self, summary: DemoSummary, customers: int, progress, phase) -> None:
        self.summary, self.customers = summary, customers
        self.progress, self.phase = progress, phase
        self.name: str | None = None
        self.started = time.perf_counter()

    def next(self, name: str) -> None:
        self.done()
        self.name, self.started = name, time.perf_counter()
        if self.phase is not None:
            self.phase(name)

    def done(self) -> None:
        if self.name is None:
            return
        self.summary.phases[self.name] = time.perf_counter() - self.started
        if self.progress is not None and self.name != "customers":
            self.progress(round(PHASE_UNITS[self.name] * self.customers))
        self.name = None


def load(
    generator: Generator,
    summary: DemoSummary,
    *,
    customers: int,
    first_number: int,
    totals: tuple[int, int, int],
    chunk_size: int,
    seed: str,
    progress: Callable[[int], None] | None,
    phase: Callable[[str], None] | None,
) -> None:
    """Load ``customers`` customers numbered from ``first_number`` and ``totals`` (projects,
    invoices, costs) in one transaction; fills ``summary`` (its counts and phases)."""
    phases = _Phases(summary, customers, progress, phase)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")  # same draws
    connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
    aside = set_aside(connection, _LOADED)
    connection.exec_driver_sql(bulk_sql.CREATE_CUSTOMERS)

    phases.next("customers")
    _load_customers(generator, summary, customers, first_number, chunk_size, progress)

    refs, today = generator.refs, generator.today
    window_start = date(today.year - 1, 1, 1)
    params = {
        "projects": totals[0],
        "invoices": totals[1],
        "costs": totals[2],
        "today": today,
        "window_start": window_start,
        "days": (today - window_start).days + 1,
        "last_year_days": (date(today.year, 1, 1) - window_start).days,
        "reference": datetime(today.year, today.month, today.day, 12, 0),
    }

    def run(sql: str) -> int:
        return connection.execute(text(sql), params).rowcount

    connection.execute(text("SELECT setseed(:seed)"), {"seed": random.Random(seed).uniform(-1, 1)})
    phases.next("projects")
    connection.exec_driver_sql(f"ANALYZE {bulk_sql.CUSTOMERS}")
    run(bulk_sql.allot())
    summary.projects = run(bulk_sql.insert_projects(generator.project_managers))
    counts = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE kind = 'sales_case'), count(*) FILTER (WHERE "
            f"is_internal) FROM {Project.__tablename__} p JOIN {bulk_sql.CUSTOMERS} d "
            "ON d.customer_id = p.customer_id"
        )
    ).one()
    summary.sales_cases, summary.internal_projects = counts

    phases.next("proposals")
    _sequence(bulk_sql.PROPOSAL_NUMBERS, generator.proposal_number)
    summary.proposals = run(bulk_sql.insert_proposals())

    phases.next("invoices")
    _sequence(bulk_sql.INVOICE_NUMBERS, generator.invoice_number)
    run(bulk_sql.billable())
    connection.exec_driver_sql(f"ANALYZE {bulk_sql.BILLABLE}")
    summary.invoices = run(bulk_sql.insert_invoices(refs.invoice_status))

    phases.next("costs")
    run(bulk_sql.allot_costs())
    summary.costs = run(bulk_sql.insert_costs())
    for sequence in (bulk_sql.PROPOSAL_NUMBERS, bulk_sql.INVOICE_NUMBERS):
        connection.exec_driver_sql(f"DROP SEQUENCE {sequence}")

    phases.next("indexes")
    aside.restore_indexes(connection, set(_LOADED) - _DERIVED)
    phases.next("search keys")
    customer_keys.rebuild_all(db.session)
    phases.next("KPI aggregates")
    kpi_totals.rebuild(db.session)
    phases.next("keys and checks")
    aside.restore(connection)  # the derived tables' indexes, the foreign keys, the triggers
    check_rules(connection)
    db.session.commit()

    phases.next("ANALYZE")
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    phases.done()


def _sequence(name: str, start: int) -> None:
    db.session.connection().exec_driver_sql(
        f"CREATE TEMPORARY SEQUENCE {name} START WITH {int(start)}"
    )


def _load_customers(
    generator: Generator,
    summary: DemoSummary,
    customers: int,
    first_number: int,
    chunk_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    """The customers and their own rows, chunk by chunk (``COPY``), and their profiles and
    sizes into the temporary table."""
    customer_ids = IdSource(Customer.__table__)
    connection = db.session.connection()
    codes = bulk_sql.PROFILE_CODES
    done = 0
    while done < customers:
        size = min(chunk_size, customers - done)
        numbers = range(first_number + done, first_number + done + size)
        rows: dict[str, list] = {key: [] for key, _table in _CUSTOMER_TABLES}
        made = generator.customers(numbers, customer_ids.take(size), rows)
        for key, table in _CUSTOMER_TABLES:
            bulk_insert(table, rows[key])
        sizes = generator.sizes(len(made))
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {bulk_sql.CUSTOMERS} FROM STDIN") as copy,
        ):
            for (row, profile), weight in zip(made, sizes, strict=True):
                copy.write_row((row["id"], row["owner_id"], codes[profile], weight))
        summary.customers += size
        summary.inactivated += sum(1 for row, _profile in made if not row["is_active"])
        summary.addresses += len(rows["address"])
        summary.einvoice_addresses += len(rows["einvoice"])
        summary.contacts += len(rows["contact"])
        summary.segment_links += len(rows["segment"])
        done += size
        if progress is not None:
            progress(size)


__all__ = ["BULK_FROM", "can_bulk_load", "load", "progress_length", "uses_bulk"]
