"""Customer import cases: a file of ``BENCH_IMPORT_ROWS`` new customers (default 100,000), as CSV
(``;``, UTF-8) and as XLSX, checked (dry run) and applied, each timed in pairs
(:func:`bench.common.paired`) beside a raw baseline on the same file in the same run:

* **dry run** (:func:`custreg_admin.services.imports.review_file`: read, map, check, match)
  against ``csv.reader`` / openpyxl ``read_only`` plus the same validation done raw: the
  business ID through python-stdnum (:func:`~custreg_admin.services.business_ids
  .normalise_identifiers`)
  and the website (:func:`~custreg_admin.rules.website.normalise_website`) per row. Goal: ≤ 2×.
* **apply** (dry run, then :func:`~custreg_admin.services.imports.apply`: set-based inserts,
  the batch's change rows, one history entry per customer) against the raw read plus
  ``executemany`` inserts of the same customers and their visiting addresses. Goal: ≤ 3×.

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
from custreg_admin.models import Address, Customer, ImportBatch, User
from custreg_admin.rules.website import normalise_website
from custreg_admin.services import imports
from custreg_admin.services.business_ids import normalise_identifiers

from .common import BenchEnv, CaseResult, paired, write_heavy

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


def _reset() -> None:
    db.session.execute(delete(Customer).where(Customer.name.like(f"{NAME_PREFIX} %")))
    db.session.execute(delete(ImportBatch))
    db.session.commit()


def _admin() -> User:
    return db.session.scalar(select(User).where(User.role == "admin").limit(1))


def _file(kind: str) -> bytes:
    rows = _table(_rows_wanted())
    return csv_file(rows) if kind == "csv" else xlsx_file(rows)


def _dry_run_case(kind: str) -> Callable[[BenchEnv], CaseResult]:
    def case(env: BenchEnv) -> CaseResult:
        data = _file(kind)

        def module() -> int:
            _, review = imports.review_file(data, f"bench.{kind}", imports.Options())
            return review.new_customers

        measured = paired(module, lambda: len(_raw_checked(data, kind)), min(env.runs, 3))
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
            _, review = imports.review_file(data, f"bench.{kind}", imports.Options())
            return imports.apply(admin, review, file_name=f"bench.{kind}").created_count

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


def dry_run_target(size: int) -> Callable[[], Any]:
    """For :func:`bench.common.memory_growth`: a dry run of ``size`` rows of CSV."""
    data = csv_file(_table(size))
    return lambda: imports.review_file(data, "bench.csv", imports.Options())


CASES = [_dry_run_case("csv"), _dry_run_case("xlsx"), _apply_case("csv"), _apply_case("xlsx")]
