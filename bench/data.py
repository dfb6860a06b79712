"""The benchmark's data: N deterministic demo customers (:func:`custreg_admin.demo.generate`)
in the database of the app whose context is pushed, built once and reused."""

from __future__ import annotations

import sys
import time

from sqlalchemy import func, inspect, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, Invoice


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def prepare_data(customers: int, *, seed: int, rebuild: bool) -> None:
    """Make sure the database holds exactly ``customers`` demo customers."""
    from custreg_admin.demo import generate
    from custreg_admin.services.setup import upgrade_schema

    tables = inspect(db.engine)
    has_schema = tables.has_table(Customer.__tablename__)
    if has_schema and not rebuild and not tables.has_table("custreg_alembic_version"):
        sys.exit("The bench database predates migrations: use --rebuild.")
    if has_schema and not rebuild:
        upgrade_schema()  # data built with an older schema gets the new columns

        existing = count_rows(Customer)
        if existing == customers:
            print(f"Reusing {existing:,} customers, {count_rows(Invoice):,} invoices.", flush=True)
            return
        if existing:
            sys.exit(
                f"The database holds {existing:,} customers, not {customers:,}: "
                "use --rebuild to drop the custreg tables and build the data again."
            )
    if rebuild and has_schema:
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS custreg_alembic_version")
    upgrade_schema()
    print(f"Generating {customers:,} customers (seed {seed})...", flush=True)
    started, done = time.perf_counter(), 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if done % 20_000 < count or done == customers:
            elapsed = time.perf_counter() - started
            print(f"  {done:,} customers, {elapsed:.0f} s", flush=True)

    summary = generate(customers, seed=seed, progress=progress)
    print(summary.describe(), flush=True)
    if db.engine.dialect.name in ("sqlite", "postgresql"):
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
