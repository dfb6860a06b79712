"""Customer import cases: a file of ``BENCH_IMPORT_ROWS`` new customers (default 100,000), as CSV
(``;``, UTF-8) and as XLSX, checked (dry run) and applied, each timed in pairs
(:func:`bench.common.paired`) beside a raw baseline on the same file in the same run:

* **dry run**: what the review page does (:func:`custreg_admin.services.imports.jobs.start`,
  inline: read as a stream, map, check and match in batches of 1,000 rows, every row's result
  stored in ``custreg_import_row``) against ``csv.reader`` / openpyxl ``read_only`` plus the
  same validation done raw: the business ID through python-stdnum
  (:func:`~custreg_admin.services.business_ids.normalise_identifiers`) and the website
  (:func:`~custreg_admin.rules.website.normalise_website`) per row. Goal: ≤ 2×.
* **apply**: the stored dry run, then :func:`~custreg_admin.services.imports.jobs.apply_run`
  (the stored plans read back a batch at a time; set-based inserts, the batch's change rows, one
  history entry per customer) against the raw read plus ``executemany`` inserts of the same
  customers and their visiting addresses. Goal: ≤ 3×.
* **memory**: the peak RSS one stored dry run and one apply add, each in a fresh process
  (:func:`bench.common.memory_growth`), at 10,000 and 100,000 rows (``--quick``: 1,000 and
  2,000). Goal: flat.

Each apply run is undone untimed (the rows it inserted deleted) before the next. The file's
columns: name, business ID (valid, not in the database), e-mail, phone, website, visiting
address street, postal code and city. ``result`` is the number of customers (dry run: the
rows found new; apply: the customers inserted), equal on both sides.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, insert, select

from custreg_admin.extensions import db
from custreg_admin.models import Address, Customer, ImportBatch, ImportRow, ImportRun, User
from custreg_admin.rules.website import normalise_website
from custreg_admin.services.business_ids import normalise_identifiers
from custreg_admin.services.imports import jobs, uploads

from .common import BenchEnv, CaseResult, memory_growth, paired, write_heavy

HEADERS = [
    "Name", "Business ID", "E-mail", "Phone", "Website", "Visiting address street",
    "Visiting address postal code", "Visiting address city",
]  # fmt: skip
NAME_PREFIX = "Import Bench"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def _rows_wanted() -> int:
    return int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))


def _business_ids(count: int) -> list[str]:
    taken = set(
        db.session.scalars(select(Customer.business_id).where(Customer.business_id.is_not(None)))
    )
    found: list[str] = []
    base = 3_000_000
    while len(found) < count:
        base += 1
        digits = f"{base:07d}"
        rest = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
        if rest == 1:
            continue
        value = f"{digits}-{0 if rest == 0 else 11 - rest}"
        if value not in taken:
            found.append(value)
    return found


def _table(count: int) -> list[list[str]]:
    return [
        [f"{NAME_PREFIX} {n:06d} Oy", bid, f"info{n}@bench.example", f"09 {n:06d}",
         f"www.bench{n}.example", f"Benchkatu {n % 500 + 1}", f"{n % 990 + 10:05d}", "Helsinki"]
        for n, bid in enumerate(_business_ids(count))
    ]  # fmt: skip


def csv_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_file(rows: list[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _raw_rows(data: bytes, kind: str):
    if kind == "csv":
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";")
        next(reader)
        yield from reader
        return
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    values = book.worksheets[0].iter_rows(values_only=True)
    next(values)
    for row in values:
        yield ["" if v is None else str(v) for v in row]
    book.close()


def _raw_checked(data: bytes, kind: str) -> list[dict[str, Any]]:
    checked = []
    for name, bid, email, phone, website, street, code, city in _raw_rows(data, kind):
        ids = normalise_identifiers("FI", bid, None, derive_vat=True)
        checked.append(
            {"name": name, "business_id": ids.business_id, "vat_number": ids.vat_number,
             "email": email, "phone": phone, "website": normalise_website(website),
             "street": street, "postal_code": code, "city": city}
        )  # fmt: skip
    return checked


def _raw_apply(data: bytes, kind: str) -> int:
    rows = _raw_checked(data, kind)
    start = (db.session.scalar(select(func.max(Customer.number))) or 1000) + 1
    table = Customer.__table__
    customers = [
        {"number": start + i, "name": r["name"], "business_id": r["business_id"],
         "vat_number": r["vat_number"], "country": "FI", "email": r["email"], "phone": r["phone"],
         "website": r["website"], "is_active": True, "version": 1}
        for i, r in enumerate(rows)
    ]  # fmt: skip
    ids = (
        db.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), customers
        )
        .scalars()
        .all()
    )
    db.session.execute(
        insert(Address.__table__),
        [
            {"customer_id": i, "kind": "visiting", "street": r["street"],
             "postal_code": r["postal_code"], "city": r["city"], "country": "FI"}
            for i, r in zip(ids, rows, strict=True)
        ],
    )  # fmt: skip
    db.session.commit()
    return len(ids)


def _imported_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.name.like(f"{NAME_PREFIX} %"))
    )


def _reset_runs() -> None:
    db.session.execute(delete(ImportRow))
    db.session.execute(delete(ImportRun))
    db.session.commit()


def _reset() -> None:
    db.session.execute(delete(Customer).where(Customer.name.like(f"{NAME_PREFIX} %")))
    db.session.execute(delete(ImportBatch))
    db.session.commit()
    _reset_runs()


def _checked_run(admin: User, data: bytes, kind: str) -> ImportRun:
    """The review page's dry run of ``data``, inline: rows checked in batches and stored."""
    key = uploads.store(admin, f"bench.{kind}", data)
    return jobs.start(admin, key, f"bench.{kind}", {"options": {}}, inline=True)


def _admin() -> User:
    return db.session.scalar(select(User).where(User.role == "admin").limit(1))


def _file(kind: str) -> bytes:
    rows = _table(_rows_wanted())
    return csv_file(rows) if kind == "csv" else xlsx_file(rows)


def _dry_run_case(kind: str) -> Callable[[BenchEnv], CaseResult]:
    def case(env: BenchEnv) -> CaseResult:
        data = _file(kind)
        admin = _admin()

        def module() -> int:
            return _checked_run(admin, data, kind).summary["new_customers"]

        measured = paired(
            module, lambda: len(_raw_checked(data, kind)), min(env.runs, 3), reset=_reset_runs
        )
        return CaseResult.of(
            f"import {kind} dry run ({_rows_wanted():,} rows)",
            measured,
            same_result=measured.result == measured.baseline_result,
            result={"new_customers": measured.result},
            baseline_result={"rows": measured.baseline_result},
            goal_ratio=2.0,
        )

    case.__name__ = f"import_{kind}_dry_run"
    return case


def _apply_case(kind: str) -> Callable[[BenchEnv], CaseResult]:
    @write_heavy
    def case(env: BenchEnv) -> CaseResult:
        data = _file(kind)
        admin = _admin()

        def module() -> int:
            run = _checked_run(admin, data, kind)
            return jobs.apply_run(admin, run, skip_errors=False).created_count

        measured = paired(
            module,
            lambda: _raw_apply(data, kind),
            min(env.runs, 3),
            reset=_reset,
            module_after=_imported_count,
            baseline_after=_imported_count,
        )
        return CaseResult.of(
            f"import {kind} apply ({_rows_wanted():,} rows)",
            measured,
            same_result=measured.result == measured.baseline_result,
            result={"customers": measured.result},
            baseline_result={"customers": measured.baseline_result},
            goal_ratio=3.0,
        )

    case.__name__ = f"import_{kind}_apply"
    return case


def memory_dry_run(size: int) -> Callable[[], Any]:
    """For :func:`bench.common.memory_growth`: one stored dry run of ``size`` rows of CSV."""
    data, admin = csv_file(_table(size)), _admin()
    _checked_run(admin, csv_file(_table(10)), "csv")  # warm up: imports, lookups, statements
    _reset_runs()
    return lambda: (_checked_run(admin, data, "csv"), _reset_runs())


def memory_apply(size: int) -> Callable[[], Any]:
    """For :func:`bench.common.memory_growth`: a stored dry run and apply of ``size`` rows."""
    data, admin = csv_file(_table(size)), _admin()

    def run() -> None:
        jobs.apply_run(admin, _checked_run(admin, data, "csv"), skip_errors=False)
        _reset()

    return run


def import_memory(env: BenchEnv) -> list[CaseResult]:
    """Peak memory of a stored dry run and of an apply, in fresh processes, at two sizes."""
    sizes = (1_000, 2_000) if _rows_wanted() < 10_000 else (10_000, 100_000)
    rows = []
    for name, target in (("dry run", "memory_dry_run"), ("apply", "memory_apply")):
        growth = memory_growth(f"bench.imports:{target}", sizes, env.database_url)
        row = CaseResult(
            case=f"import csv {name}: memory at {sizes[0]:,} and {sizes[1]:,} rows",
            median_ms=0.0, baseline_median_ms=0.0, runs_ms=[], baseline_runs_ms=[],
            same_result=True, result=growth.as_dict(), baseline_result={}, paired=False,
            note=growth.describe(),
        )  # fmt: skip
        rows.append(row)
    return rows


CASES = [
    _dry_run_case("csv"),
    _dry_run_case("xlsx"),
    _apply_case("csv"),
    _apply_case("xlsx"),
    import_memory,
]
# An import adds its rows to the bench data: on the 1M set only when --only names it.
for _case_function in CASES:
    _case_function.largest_size = 200_000  # type: ignore[attr-defined]
