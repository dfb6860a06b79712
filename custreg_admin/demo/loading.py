"""Loading the demo data: the entry point :func:`generate`, row by row in chunks (``COPY`` on
PostgreSQL), or by the bulk path for large sets on PostgreSQL (:mod:`.bulk`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date

from flask import current_app
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Customer, Invoice, Project, Proposal
from ..services import customer_keys, kpi_totals
from ..services.customers import FIRST_CUSTOMER_NUMBER, next_customer_number
from ..services.kpi import local_today
from . import bulk as bulk_path
from .copying import IdSource, bulk_insert, plain_defaults
from .generator import TABLES, Generator
from .settings import DemoSummary, settings_refs

PROJECTS_PER_CUSTOMER = 3.0
INVOICES_PER_CUSTOMER = 10.0
COSTS_PER_CUSTOMER = 10.0
CHUNK_SIZE = 2000
#: Customers per ``COPY`` on the bulk path.
BULK_CHUNK_SIZE = 20_000
FIRST_INVOICE_NUMBER = 100001


#: Kept importable here (tests).
_plain_defaults = plain_defaults


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
    bulk: bool | None = None,
    phase: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Create ``customers`` demo customers with everything that hangs on them.

    Call inside an app context. Seeds the default settings, makes the demo users, industries
    and market segments that are missing, then inserts the customers in chunks of
    ``chunk_size``, committing each chunk and calling ``progress(n)`` with the number of
    customers just committed. Totals of projects, invoices and costs are the per-customer
    ratios times ``customers`` (rounded). Invoices and costs are dated from 1 January of last
    year up to ``today`` (default: today in ``CUSTREG_TIMEZONE``).

    ``bulk``: take the bulk path (:mod:`.bulk`: one transaction, set-based; PostgreSQL with
    psycopg 3 only) or not; by default from :data:`.bulk.BULK_FROM` customers on where it can.
    There ``progress`` counts :func:`.bulk.progress_length` units in all, and ``phase(name)`` is
    called as each phase starts.
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
    if bulk_path.uses_bulk(customers, bulk):
        try:
            bulk_path.load(
                generator,
                summary,
                customers=customers,
                first_number=first_number,
                totals=tuple(
                    round(ratio * customers)
                    for ratio in (projects_per_customer, invoices_per_customer, costs_per_customer)
                ),
                chunk_size=max(chunk_size, BULK_CHUNK_SIZE),
                seed=f"{seed}/{first_number}",
                progress=progress,
                phase=phase,
            )
        except BaseException:
            db.session.rollback()
            raise
        summary.first_number, summary.last_number = first_number, first_number + customers - 1
        summary.seconds = time.perf_counter() - started
        return summary
    customer_ids = IdSource(Customer.__table__)
    project_ids = IdSource(Project.__table__)

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
                copied = bulk_insert(table, rows[key]) or copied
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
