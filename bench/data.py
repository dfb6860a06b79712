"""The benchmark's data: N deterministic demo customers (:func:`custreg_admin.demo.generate`)
in the database of the app whose context is pushed, built once and reused."""

from __future__ import annotations

import sys
import time

from sqlalchemy import func, inspect, select, text

from custreg_admin.extensions import db
from custreg_admin.models import Customer, Invoice


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def prepare_data(customers: int, *, seed: int, rebuild: bool, search_set: bool = False) -> None:
    """Make sure the database holds exactly ``customers`` demo customers (``search_set``:
    customers and addresses only, by :func:`load_search_set`)."""
    from custreg_admin.demo import generate, uses_bulk
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
    if search_set:
        load_search_set(customers)
        return
    upgrade_schema()
    print(f"Generating {customers:,} customers (seed {seed})...", flush=True)
    started, done = time.perf_counter(), 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if done % 20_000 < count or done == customers:
            elapsed = time.perf_counter() - started
            print(f"  {done:,} customers, {elapsed:.0f} s", flush=True)

    if uses_bulk(customers):  # PostgreSQL, large: the bulk path reports phases

        def phase(name: str) -> None:
            print(f"  {name}... ({time.perf_counter() - started:.0f} s)", flush=True)

        summary = generate(customers, seed=seed, phase=phase)
    else:
        summary = generate(customers, seed=seed, progress=progress)
    print(summary.describe(), flush=True)
    if db.engine.dialect.name in ("sqlite", "postgresql"):
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


# --------------------------------------------------------------------------- the search set

#: Words of the generated names: 60 x 20 x 3 names, so a word of the first list is in 1/60 of
#: the customers (about 16,700 of a million), a two-word name in 1/1,200.
_FIRST = [
    "Aalto",
    "Berg",
    "Kallio",
    "Laine",
    "Mäki",
    "Niemi",
    "Salo",
    "Heikkilä",
    "Koski",
    "Lahti",
    "Järvi",
    "Virta",
    "Rinne",
    "Harju",
    "Nurmi",
    "Lehto",
    "Saari",
    "Kivi",
    "Vaara",
    "Ranta",
    "Hovi",
    "Kangas",
    "Kari",
    "Lampi",
    "Mets",
    "Paju",
    "Pelto",
    "Rauta",
    "Sora",
    "Talvi",
    "Tammi",
    "Tuuli",
    "Uusi",
    "Valo",
    "Aro",
    "Haka",
    "Ilves",
    "Jokela",
    "Karhu",
    "Kotka",
    "Kuusi",
    "Lumi",
    "Marja",
    "Nummi",
    "Oja",
    "Pihlaja",
    "Rauha",
    "Suvi",
    "Tuisku",
    "Ukko",
    "Vesa",
    "Aurora",
    "Borea",
    "Fjord",
    "Nord",
    "Sol",
    "Vik",
    "Dal",
    "Lund",
    "Strand",
]
_SECOND = [
    "Rakennus",
    "Kuljetus",
    "Konsultointi",
    "Tekniikka",
    "Sähkö",
    "Putki",
    "Metalli",
    "Puu",
    "Kauppa",
    "Logistiikka",
    "Data",
    "Media",
    "Ravintola",
    "Hotelli",
    "Maalaus",
    "Siivous",
    "Huolto",
    "Energia",
    "Design",
    "Talotekniikka",
]
_SUFFIX = ("Oy", "Ab", "Ky")
_CITIES = [
    "Helsinki",
    "Espoo",
    "Tampere",
    "Vantaa",
    "Oulu",
    "Turku",
    "Jyväskylä",
    "Lahti",
    "Kuopio",
    "Pori",
    "Kouvola",
    "Joensuu",
    "Lappeenranta",
    "Hämeenlinna",
    "Vaasa",
    "Seinäjoki",
    "Rovaniemi",
    "Mikkeli",
    "Kotka",
    "Salo",
    "Porvoo",
    "Kokkola",
    "Hyvinkää",
    "Lohja",
    "Järvenpää",
    "Rauma",
    "Kajaani",
    "Kerava",
    "Savonlinna",
    "Nokia",
]


def _array(words) -> str:
    return "ARRAY[" + ", ".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def load_search_set(customers: int) -> None:
    """PostgreSQL: ``customers`` customers with a visiting address each, by set-based SQL in
    seconds (no projects, invoices or costs: the search, sort and paging cases need none).

    Names from :data:`_FIRST` x :data:`_SECOND` x :data:`_SUFFIX`; numbers 1001...; distinct
    Finnish business IDs with a valid check digit (the 1 in 11 whose check would be 1 have none)
    and the VAT numbers derived from them; owners, industries and statuses spread over the demo
    ones; 1 in 10 inactivated. The keys (:mod:`custreg_admin.services.customer_keys`) are built
    from scratch, then ``VACUUM ANALYZE``.
    """
    from custreg_admin.demo.settings import DemoSummary, _ensure_industries, _ensure_users
    from custreg_admin.models import CustomerStatus
    from custreg_admin.services import customer_keys
    from custreg_admin.services.setup import seed_defaults, upgrade_schema

    from .common import vacuum_analyze

    if db.engine.dialect.name != "postgresql":
        sys.exit("--search-set loads PostgreSQL only (it uses generate_series).")
    upgrade_schema()
    if count_rows(Customer):
        sys.exit("--search-set needs a database without customers (use --rebuild).")
    seed_defaults()
    owners, _weights = _ensure_users(customers, DemoSummary())
    industries = _ensure_industries(DemoSummary())
    statuses = list(db.session.scalars(select(CustomerStatus.id).order_by(CustomerStatus.id)))
    db.session.commit()
    started = time.perf_counter()
    print(f"Loading {customers:,} customers and addresses by SQL...", flush=True)
    digits = "lpad(((g.i * 7919 + 1234567) % 10000000)::text, 7, '0')"
    weights = (7, 9, 10, 5, 8, 4, 2)
    remainder = " + ".join(
        f"substr(d.digits, {k + 1}, 1)::int * {w}" for k, w in enumerate(weights)
    )
    statement = f"""
        INSERT INTO custreg_customer (number, name, business_id, vat_number, country, owner_id,
            industry_id, status_id, is_active, created_at, updated_at, version)
        SELECT 1000 + g.i,
               ({_array(_FIRST)})[1 + g.i % {len(_FIRST)}] || ' '
                 || ({_array(_SECOND)})[1 + (g.i / {len(_FIRST)}) % {len(_SECOND)}] || ' '
                 || ({_array(_SUFFIX)})[1 + (g.i / 7) % {len(_SUFFIX)}],
               CASE WHEN c.r = 1 THEN NULL
                    ELSE d.digits || '-' || (CASE WHEN c.r = 0 THEN 0 ELSE 11 - c.r END) END,
               CASE WHEN c.r = 1 THEN NULL
                    ELSE 'FI' || d.digits || (CASE WHEN c.r = 0 THEN 0 ELSE 11 - c.r END) END,
               'FI',
               (ARRAY{owners})[1 + (g.i * 31) % {len(owners)}],
               (ARRAY{industries})[1 + (g.i * 17) % {len(industries)}],
               (ARRAY{statuses})[1 + (g.i * 13) % {len(statuses)}],
               g.i % 10 <> 0, now(), now(), 1
        FROM generate_series(1::bigint, {customers}) AS g(i)
        CROSS JOIN LATERAL (SELECT {digits} AS digits) d
        CROSS JOIN LATERAL (SELECT ({remainder}) % 11 AS r) c
    """
    with db.engine.begin() as connection:
        connection.execute(text(statement))
        print(f"  customers: {time.perf_counter() - started:.0f} s", flush=True)
        connection.execute(
            text(
                f"""
            INSERT INTO custreg_address (customer_id, kind, street, postal_code, city, country)
            SELECT id, 'visiting', 'Katu ' || (id % 97 + 1), lpad((id % 99000)::text, 5, '0'),
                   ({_array(_CITIES)})[1 + (id * 7) % {len(_CITIES)}], 'FI'
            FROM custreg_customer
            """
            )
        )
        print(f"  addresses: {time.perf_counter() - started:.0f} s", flush=True)
    customer_keys.rebuild_all(db.session)
    db.session.commit()
    print(f"  keys: {time.perf_counter() - started:.0f} s", flush=True)
    print(f"  VACUUM ANALYZE: {vacuum_analyze():.0f} s", flush=True)
