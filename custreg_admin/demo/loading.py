"""Loading the demo data: ids taken in blocks, bulk inserts (``COPY`` on PostgreSQL) and the
entry point :func:`generate`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, insert, select, text

from ..extensions import db
from ..models import Customer, Invoice, Project, Proposal
from ..services import customer_keys, kpi_totals
from ..services.customers import FIRST_CUSTOMER_NUMBER, next_customer_number
from ..services.kpi import local_today
from .generator import TABLES, Generator
from .settings import DemoSummary, settings_refs

PROJECTS_PER_CUSTOMER = 3.0
INVOICES_PER_CUSTOMER = 10.0
COSTS_PER_CUSTOMER = 10.0
CHUNK_SIZE = 2000
FIRST_INVOICE_NUMBER = 100001


class _IdSource:
    """Primary keys for rows that others point to (customers, projects), taken in blocks.

    On PostgreSQL they come from the table's own sequence (``nextval``), so ORM inserts made
    later, or at the same time, never collide. Elsewhere (SQLite) they continue after the
    highest id, which is what SQLite itself would do.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.next_id: int | None = None
        self.sequence: str | None = None
        if self.postgres:
            self.sequence = db.session.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
            if self.sequence is None:
                self.postgres = False

    def take(self, count: int) -> list[int]:
        if count <= 0:
            return []
        if self.postgres:
            return list(
                db.session.scalars(
                    text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
                    {"seq": self.sequence, "n": count},
                )
            )
        if self.next_id is None:
            self.next_id = (db.session.scalar(select(func.max(self.table.c.id))) or 0) + 1
        start, self.next_id = self.next_id, self.next_id + count
        return list(range(start, start + count))


_INSERT_BATCH = 10_000


def _plain_defaults(table: Table, columns: list[str]) -> dict[str, Any] | None:
    """The Python-side defaults of the columns that ``columns`` leaves out (``COPY`` does not
    apply them; server defaults apply by themselves); None when one is not a plain value."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in columns or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        defaults[column.name] = column.default.arg
    return defaults


def _bulk_insert(table: Table, rows: list[dict[str, Any]]) -> bool:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.

    PostgreSQL with psycopg 3 gets ``COPY ... FROM STDIN`` (several times faster than a
    multi-row ``INSERT``); other databases get ``executemany`` through SQLAlchemy, which the
    session's events see (:mod:`~custreg_admin.services.kpi_totals`). Returns whether ``COPY``,
    which they do not see, was used.
    """
    if not rows:
        return False
    connection = db.session.connection()
    columns = list(rows[0])
    defaults = _plain_defaults(table, columns)
    if (
        connection.dialect.name == "postgresql"
        and connection.dialect.driver == "psycopg"
        and defaults is not None
    ):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(map(sql.Identifier, [*columns, *defaults])),
        )
        extra = list(defaults.values())
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row([*(row[column] for column in columns), *extra])
        return True
    for start in range(0, len(rows), _INSERT_BATCH):
        db.session.execute(insert(table), rows[start : start + _INSERT_BATCH])
    return False


def generate(
    customers: int,
    seed: int = 42,
    progress: Callable[[int], None] | None = None,
    *,
    today: date | None = None,
    projects_per_customer: float = PROJECTS_PER_CUSTOMER,
    invoices_per_customer: float = INVOICES_PER_CUSTOMER,
    costs_per_customer: float = COSTS_PER_CUSTOMER,
    chunk_size: int = CHUNK_SIZE,
) -> DemoSummary:
    """Create ``customers`` demo customers with everything that hangs on them.

    Call inside an app context. Seeds the default settings, makes the demo users, industries
    and market segments that are missing, then inserts the customers in chunks of
    ``chunk_size``, committing each chunk and calling ``progress(n)`` with the number of
    customers just committed. Totals of projects, invoices and costs are the per-customer
    ratios times ``customers`` (rounded). Invoices and costs are dated from 1 January of last
    year up to ``today`` (default: today in ``CUSTREG_TIMEZONE``).
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    if min(projects_per_customer, invoices_per_customer, costs_per_customer) < 0:
        raise ValueError("per-customer ratios must not be negative")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    started = time.perf_counter()
    today = today or local_today(current_app.config["CUSTREG_TIMEZONE"])
    summary = DemoSummary(seed=seed)
    refs = settings_refs(customers, summary)

    first_number = next_customer_number()
    taken_ids = {
        value
        for value in db.session.scalars(
            select(Customer.business_id).where(Customer.business_id.is_not(None))
        )
    }
    taken_names = set(db.session.scalars(select(Customer.name)))
    numbered = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.number.is_not(None))
    )
    proposals = db.session.scalar(select(func.count()).select_from(Proposal))
    # The same seed on an empty database gives the same data; a second run (numbers going on
    # from the first) gives other companies.
    rng = random.Random(seed if first_number == FIRST_CUSTOMER_NUMBER else f"{seed}/{first_number}")
    generator = Generator(
        rng,
        refs,
        today,
        taken_ids=taken_ids,
        taken_names=taken_names,
        invoice_number=FIRST_INVOICE_NUMBER + numbered,
        proposal_number=proposals + 1,
    )
    customer_ids = _IdSource(Customer.__table__)
    project_ids = _IdSource(Project.__table__)

    done = 0
    while done < customers:
        size = min(chunk_size, customers - done)
        targets = tuple(
            round(ratio * (done + size)) - round(ratio * done)
            for ratio in (projects_per_customer, invoices_per_customer, costs_per_customer)
        )
        numbers = range(first_number + done, first_number + done + size)
        try:
            rows = generator.build(numbers, customer_ids.take(size), project_ids.take, targets)
            copied = False
            for key, table in TABLES:
                copied = _bulk_insert(table, rows[key]) or copied
            # bulk inserts pass the history choke point by: the search and sort keys by hand
            customer_keys.refresh(db.session, [row["id"] for row in rows["customer"]])
            if copied:  # the KPI aggregates of the chunk, in its transaction
                kpi_totals.refresh(db.session, (row["id"] for row in rows["customer"]))
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        summary.customers += size
        summary.inactivated += sum(1 for row in rows["customer"] if not row["is_active"])
        summary.addresses += len(rows["address"])
        summary.einvoice_addresses += len(rows["einvoice"])
        summary.contacts += len(rows["contact"])
        summary.segment_links += len(rows["segment"])
        summary.projects += len(rows["project"])
        summary.sales_cases += sum(1 for row in rows["project"] if row["kind"] == "sales_case")
        summary.internal_projects += sum(1 for row in rows["project"] if row["is_internal"])
        summary.proposals += len(rows["proposal"])
        summary.invoices += len(rows["invoice"])
        summary.costs += len(rows["cost"])
        done += size
        if progress is not None:
            progress(size)
    if customers:
        summary.first_number, summary.last_number = first_number, first_number + customers - 1
    if customers and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # fresh statistics for the planner
        db.session.commit()
    summary.seconds = time.perf_counter() - started
    return summary
