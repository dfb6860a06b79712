"""Export cases: a Customers report of every customer as CSV and as XLSX, through the download.

The module's side is always the real download request: ``GET`` of the report's download URL
through a test client logged in as the demo administrator (:func:`bench.summary._logged_in_client`:
login check, the report read from the query string, rows streamed in a session of their own),
the body read chunk by chunk as a client would. Against it, in the same run on the same rows,
alternating run by run (:func:`bench.common.paired`; the ratio is the median of the per-pair
ratios, with their spread):

* ``csv`` vs raw: a raw DB-API cursor (sqlite3 / psycopg) on one hand-written SELECT, each
  ``fetchmany`` batch written with ``csv.writer.writerows`` (goal <= 2);
* ``xlsx`` vs raw openpyxl: the same cursor into a raw openpyxl write-only workbook saved to a
  temporary file (goal <= 1.2). The module writes the sheet XML itself and streams the zip while
  it is written (:mod:`custreg_admin.services.reports.xlsx`), so this compares with what a
  competent engineer would write with the library the issue names;
* ``first byte``: the time from the request to the first byte of each download, against the
  time a whole-file writer (the raw side: openpyxl must save before anything is sent; the raw
  CSV complete) needs before it could send anything;
* stock Flask-Admin's CSV and XLSX export (tablib; every row in memory) of the same columns,
  and XlsxWriter's ``constant_memory`` mode, for comparison.

Memory (``memory`` rows): the peak resident memory one download adds, each measured in a fresh
process (``python -m bench.memory``) at 10,000 and at 100,000 customers, for the module's two
downloads and the two raw baselines; shown as growth (flat: about x1 for x10 rows). Each size
needs a database of that many customers: the bench's own at its size, and for SQLite a sibling
file ``custreg-bench-<N>.db`` beside it, built once (``python -m bench --size N``) and reused.

The columns are what both sides can show alike: number, name, business ID, country, account
owner, industry, status, e-mail, phone; every customer, by name.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from custreg_admin.extensions import db
from custreg_admin.models import Customer

from .common import BenchEnv, CaseResult, MemoryGrowth, paired, peak_memory_kib
from .stock import EXPORT_URL, stock_app

COLUMNS = [
    "number",
    "name",
    "business_id",
    "country",
    "owner",
    "industry",
    "status",
    "email",
    "phone",
]

RAW_SQL = """
SELECT c.number, c.name, c.business_id, c.country, u.name, i.name, s.name, c.email, c.phone
  FROM custreg_customer c
  LEFT JOIN custreg_user u ON u.id = c.owner_id
  LEFT JOIN custreg_industry i ON i.id = c.industry_id
  LEFT JOIN custreg_customer_status s ON s.id = c.status_id
 ORDER BY lower(c.name), c.id
"""

MEMORY_SIZES = (10_000, 100_000)


def download_url(fmt: str) -> str:
    """The report of this bench as the download view reads it from the query string."""
    query = urlencode(
        [
            ("type", "customers"),
            *(("columns", column) for column in COLUMNS),
            ("f_active_state", "all"),
            ("sort", "name"),
            ("delimiter", ","),
        ]
    )
    return f"/admin/reports/download/{fmt}/?{query}"


class _Sink:
    """Where a download goes: counted, not kept."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: Any) -> Any:
        self.size += len(data)
        return data


def _raw_batches(chunk: int = 2000):
    """The raw cursor's rows, ``fetchmany(chunk)`` at a time."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(RAW_SQL)
        while rows := cursor.fetchmany(chunk):
            yield rows
        cursor.close()
    finally:
        connection.close()


def _raw_rows(chunk: int = 2000):
    for rows in _raw_batches(chunk):
        yield from rows


# --------------------------------------------------------------------------- the sides


Outcome = dict[str, Any]


def _client(env: BenchEnv):
    from .summary import _logged_in_client

    return _logged_in_client(env)[1]


def _get(client, fmt: str, *, first_only: bool = False) -> tuple[int, int, float]:
    """GET the download, reading the body chunk by chunk as a client would.

    Returns (bytes, CSV line ends, ms to the first non-empty chunk); ``first_only`` stops there
    (the rest of the file is not written).
    """
    started = time.perf_counter()
    response = client.get(download_url(fmt), buffered=False)
    if response.status_code != 200:
        raise RuntimeError(f"{fmt} download answered {response.status_code}")
    size = lines = 0
    first_ms = None
    previous = b""
    try:
        for chunk in response.response:
            if not chunk:
                continue
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000
                if first_only:
                    return len(chunk), 0, first_ms
            size += len(chunk)
            lines += chunk.count(b"\r\n") + (previous.endswith(b"\r") and chunk[:1] == b"\n")
            previous = chunk[-1:]
    finally:
        response.close()
    return size, lines, first_ms or 0.0


def module_csv_download(env: BenchEnv) -> Callable[[], Outcome]:
    """The module's CSV as a browser downloads it (see the module docs)."""
    client = _client(env)

    def run() -> Outcome:
        size, lines, _ = _get(client, "csv")
        return {"bytes": size, "rows": lines - 1}

    return run


def module_xlsx_download(env: BenchEnv, last: dict[str, bytes] | None = None):
    """The module's XLSX as a browser downloads it; ``last`` keeps the latest file's bytes."""
    client = _client(env)

    def run() -> Outcome:
        response = client.get(download_url("xlsx"), buffered=False)
        if response.status_code != 200:
            raise RuntimeError(f"xlsx download answered {response.status_code}")
        try:
            if last is None:
                size = sum(len(chunk) for chunk in response.response)
            else:
                last["data"] = b"".join(response.response)
                size = len(last["data"])
        finally:
            response.close()
        return {"bytes": size, "rows": None}

    return run


def raw_csv(env: BenchEnv) -> Callable[[], Outcome]:
    """Each ``fetchmany`` batch in one ``writerows``, into a counting sink."""

    def run() -> Outcome:
        sink = _Sink()
        writer = csv.writer(sink)
        writer.writerow(COLUMNS)
        count = 0
        for batch in _raw_batches():
            writer.writerows(batch)
            count += len(batch)
        return {"bytes": sink.size, "rows": count}

    return run


def raw_xlsx(env: BenchEnv) -> Callable[[], Outcome]:
    """The cursor's rows into an openpyxl write-only workbook, saved to a temporary file."""

    def run() -> Outcome:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Customers")
        sheet.append(COLUMNS)
        count = 0
        for row in _raw_rows():
            sheet.append(row)
            count += 1
        with tempfile.TemporaryFile() as target:
            workbook.save(target)
            return {"bytes": target.tell(), "rows": count}

    return run


def module_first_byte(env: BenchEnv, fmt: str) -> Callable[[], Outcome]:
    """The time to the first byte of the download; the rest is not written."""
    client = _client(env)

    def run() -> Outcome:
        size, _, first_ms = _get(client, fmt, first_only=True)
        return {"bytes": size, "first_byte_ms": round(first_ms, 1)}

    return run


def stock_export(env: BenchEnv, export_type: str) -> Callable[[], Outcome]:
    app = stock_app(env, COLUMNS)
    client = app.test_client()

    def run() -> Outcome:
        response = client.get(EXPORT_URL.format(export_type=export_type))
        if response.status_code != 200:
            raise RuntimeError(f"stock {export_type} export answered {response.status_code}")
        data = response.data
        rows = data.count(b"\r\n") - 1 if export_type == "csv" else None
        return {"bytes": len(data), "rows": rows}

    return run


def xlsxwriter_constant_memory(env: BenchEnv) -> Callable[[], Outcome]:
    import xlsxwriter

    def run() -> Outcome:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "customers.xlsx")
            workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": folder})
            sheet = workbook.add_worksheet("Customers")
            sheet.write_row(0, 0, COLUMNS)
            count = 0
            for index, row in enumerate(_raw_rows(), start=1):
                sheet.write_row(index, 0, row)
                count += 1
            workbook.close()
            return {"bytes": os.path.getsize(path), "rows": count}

    return run


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _skipped(case: str, why: str) -> CaseResult:
    return CaseResult(
        case=case,
        median_ms=0.0,
        baseline_median_ms=0.0,
        runs_ms=[],
        baseline_runs_ms=[],
        same_result=True,
        result={"skipped": why},
        note=f"skipped: {why}",
    )


# --------------------------------------------------------------------------- memory


def _customers() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer)) or 0


def _memory_env(size: int) -> BenchEnv:
    """In a ``bench.memory`` process: the app it made, checked to hold ``size`` customers."""
    found = _customers()
    if found != size:
        raise RuntimeError(f"the memory database holds {found:,} customers, not {size:,}")
    return BenchEnv(app=current_app._get_current_object(), today=date.today())


def memory_csv_download(size: int) -> Callable[[], Any]:
    """``bench.memory`` target: one CSV download of every customer (login done before)."""
    return module_csv_download(_memory_env(size))


def memory_xlsx_download(size: int) -> Callable[[], Any]:
    """``bench.memory`` target: one XLSX download, the body read and dropped chunk by chunk."""
    return module_xlsx_download(_memory_env(size))


def memory_raw_csv(size: int) -> Callable[[], Any]:
    return raw_csv(_memory_env(size))


def memory_raw_xlsx(size: int) -> Callable[[], Any]:
    return raw_xlsx(_memory_env(size))


def _database_for(size: int, env: BenchEnv) -> str | None:
    """A database of ``size`` customers: the bench's own at its size; for SQLite a sibling
    file, built once with ``python -m bench --size N`` (no cases) and reused."""
    if size == env.customers:
        return env.database_url
    url = make_url(env.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    sibling = Path(url.database).with_name(f"custreg-bench-{size}.db")
    sibling_url = f"sqlite:///{sibling}"
    if not sibling.exists():
        print(f"    building {sibling} for the memory rows...", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--size", str(size), "--database-url", sibling_url]
            + ["--only", "no-case-has-this-name", "--results", os.devnull],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-2000:])
            return None
    return sibling_url


def memory_growth_of(target: str, env: BenchEnv) -> MemoryGrowth:
    """Peak RSS one run of ``target`` adds, in a fresh process per size (its own database)."""
    peaks: dict[int, int | None] = {}
    for size in MEMORY_SIZES:
        url = _database_for(size, env)
        peaks[size] = peak_memory_kib(target, size, url) if url else None
    return MemoryGrowth(target, peaks)


# --------------------------------------------------------------------------- the cases


def _runs(env: BenchEnv) -> int:
    return max(3, env.runs)


def _first_byte_runs(env: BenchEnv) -> int:
    return 3  # the baseline is the whole raw file again: three pairs show the order of it


def _case(
    name: str,
    env: BenchEnv,
    module: Callable[[], Outcome],
    baseline: Callable[[], Outcome],
    *,
    goal_ratio: float | None = None,
    same: Callable[[Outcome, Outcome], bool] | None = None,
    note: str = "",
    runs: int | None = None,
) -> CaseResult:
    measured = paired(module, baseline, runs or _runs(env))
    result, baseline_result = measured.result, measured.baseline_result
    counts = (result.get("rows"), baseline_result.get("rows"))
    same_result = (
        same(result, baseline_result)
        if same is not None
        else bool(result["bytes"] and baseline_result["bytes"])
        and (None in counts or counts[0] == counts[1])
    )
    return CaseResult.of(name, measured, same_result=same_result, goal_ratio=goal_ratio, note=note)


def csv_vs_raw(env: BenchEnv) -> CaseResult:
    return _case(
        f"export csv: {env.customers:,} rows (download) vs raw csv",
        env,
        module_csv_download(env),
        raw_csv(env),
        goal_ratio=2.0,
    )


def csv_vs_stock(env: BenchEnv) -> CaseResult:
    """Both sides through a test client: the module's download view against the stock export."""
    return _case(
        "export csv: vs Flask-Admin stock",
        env,
        module_csv_download(env),
        stock_export(env, "csv"),
        goal_ratio=0.2,  # at least 5x faster
    )


def _xlsx_rows(data: bytes) -> int:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return sum(1 for _ in workbook.active.iter_rows(values_only=True)) - 1
    finally:
        workbook.close()


def xlsx_vs_raw(env: BenchEnv) -> CaseResult:
    last: dict[str, bytes] = {}

    def same(result: Outcome, baseline: Outcome) -> bool:
        # the last downloaded file, read back by openpyxl: every row is there
        result["rows"] = _xlsx_rows(last["data"]) if last else None
        return bool(result["bytes"]) and result["rows"] == baseline["rows"]

    return _case(
        f"export xlsx: {env.customers:,} rows (download) vs raw openpyxl",
        env,
        module_xlsx_download(env, last),
        raw_xlsx(env),
        goal_ratio=1.2,
        same=same,
    )


def first_byte(env: BenchEnv) -> list[CaseResult]:
    """The first byte of each download against the time a whole-file writer needs first."""
    rows = []
    for fmt, baseline, label in (("csv", raw_csv, "raw csv"), ("xlsx", raw_xlsx, "raw openpyxl")):
        rows.append(
            _case(
                f"export {fmt}: first byte vs whole {label} ({env.customers:,} rows)",
                env,
                module_first_byte(env, fmt),
                baseline(env),
                same=lambda result, baseline: bool(result["bytes"] and baseline["bytes"]),
                note="module: time to first byte; baseline: the whole file",
                runs=_first_byte_runs(env),
            )
        )
    return rows


def memory(env: BenchEnv) -> list[CaseResult]:
    """Peak memory of each download and each raw baseline at 10,000 and 100,000 customers."""
    rows = []
    for fmt in ("csv", "xlsx"):
        module = memory_growth_of(f"bench.exports:memory_{fmt}_download", env)
        baseline = memory_growth_of(f"bench.exports:memory_raw_{fmt}", env)
        row = _skipped(f"export {fmt}: memory at 10k and 100k rows", "")
        row.result, row.baseline_result = module.as_dict(), baseline.as_dict()
        row.note = f"download {module.describe()}; raw {baseline.describe()}"
        row.paired = False
        rows.append(row)
    return rows


def xlsx_vs_stock(env: BenchEnv) -> CaseResult:
    name = "export xlsx: vs Flask-Admin stock (tablib)"
    if not _installed("tablib"):
        return _skipped(name, "tablib is not installed (pip install 'flask-admin[export]')")
    return _case(
        name,
        env,
        module_xlsx_download(env),
        stock_export(env, "xlsx"),
        goal_ratio=round(1 / 1.8, 3),  # at least 1.8x faster
    )


def xlsx_vs_xlsxwriter(env: BenchEnv) -> CaseResult:
    """Reported beside the others: XlsxWriter's streaming mode on the same cursor rows."""
    name = "export xlsx: vs XlsxWriter constant_memory"
    if not _installed("xlsxwriter"):
        return _skipped(name, "XlsxWriter is not installed (pip install -e '.[dev]')")
    return _case(name, env, module_xlsx_download(env), xlsxwriter_constant_memory(env))


#: Beyond this many customers (the 1M set) these run only when ``--only`` names them: an XLSX of
#: a million rows takes minutes a run, the stock exports hold every row in memory, and the memory
#: rows measure at 10,000 and 100,000 customers anyway.
LARGEST_SIZE = 200_000
for _heavy in (csv_vs_stock, xlsx_vs_raw, xlsx_vs_stock, xlsx_vs_xlsxwriter, first_byte, memory):
    _heavy.largest_size = LARGEST_SIZE  # type: ignore[attr-defined]

CASES = [
    csv_vs_raw,
    csv_vs_stock,
    xlsx_vs_raw,
    xlsx_vs_stock,
    xlsx_vs_xlsxwriter,
    first_byte,
    memory,
]
