"""Export cases: a Customers report of every customer as CSV and as XLSX.

Each streams the report through :mod:`custreg_admin.services.reports.export` and is timed beside, in
the same run on the same rows:

* ``csv``: what the download view streams (:func:`custreg_admin.services.reports.stream_batches`
  into :func:`~custreg_admin.services.reports.export.csv_batch_chunks`) against a raw DB-API cursor
  (sqlite3 / psycopg) on one hand-written SELECT, each ``fetchmany`` batch written with
  ``csv.writer.writerows``; and the download itself (``GET`` of the report's CSV URL, logged in
  as the demo administrator) against Flask-Admin's stock CSV export (a plain ``ModelView`` with
  ``can_export``) of the same columns, both requested through a test client;
* ``xlsx``: the report's rows (:func:`custreg_admin.services.reports.iter_rows`) against the
  same cursor into a raw openpyxl write-only workbook; Flask-Admin's stock
  ``xlsx`` export (tablib; every row in memory), when tablib is installed; and, for comparison,
  the same cursor into XlsxWriter in ``constant_memory`` mode (another library's streaming
  writer; in the ``dev`` extra), when it is installed.

The columns are what both sides can show alike: number, name, business ID, country, account
owner, industry, status, e-mail, phone; every customer, by name. ``result`` holds the row count
and the peak memory of one extra, untimed run of each side (peak RSS growth of a forked child,
Linux only), so that the figures of the issue ("peak memory of each") come out of the same run.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from openpyxl import Workbook

from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.services.reports import iter_rows, make_spec, stream_batches
from custreg_admin.services.reports.export import csv_batch_chunks
from custreg_admin.services.reports.xlsx import xlsx_file

from .common import BenchEnv, CaseResult, kib, median, timed_pair
from .stock import EXPORT_URL, stock_app, stock_apps

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


#: The report of :func:`_spec` as the download view reads it from the query string.
DOWNLOAD_URL = "/admin/reports/download/csv/?" + urlencode(
    [
        ("type", "customers"),
        *(("columns", column) for column in COLUMNS),
        ("f_active_state", "all"),
        ("sort", "name"),
        ("delimiter", ","),
    ]
)


class _Sink:
    """Where a download goes: counted, not kept."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: Any) -> Any:
        self.size += len(data)
        return data


def _viewer() -> User:
    admin = db.session.query(User).filter(User.role == "admin").order_by(User.id).first()
    if admin is None:
        admin = User(email="bench-admin@example.com", name="Bench admin", role="admin")
    else:
        db.session.expunge(admin)
    return admin


def _spec(env: BenchEnv):
    return make_spec(
        "customers",
        COLUMNS,
        {"active_state": "all"},
        "name",
        viewer=_viewer(),
        today=env.today,
    )


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


Outcome = dict[str, int | None]


class _Counted:
    """Counts the rows that pass through."""

    def __init__(self, rows) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


class _CountedBatches:
    """Counts the rows of the batches that pass through."""

    def __init__(self, batches) -> None:
        self.batches, self.count = batches, 0

    def __iter__(self):
        for batch in self.batches:
            self.count += len(batch)
            yield batch


def module_csv(env: BenchEnv) -> Callable[[], Outcome]:
    """What the download view streams: the report's batches in a session of their own."""
    spec = _spec(env)

    def run() -> Outcome:
        batches = _CountedBatches(stream_batches(spec))
        chunks = csv_batch_chunks(batches, spec.column_defs, delimiter=",")
        return {"bytes": sum(len(chunk) for chunk in chunks), "rows": batches.count}

    return run


def raw_csv(env: BenchEnv) -> Callable[[], Outcome]:
    """Each ``fetchmany`` batch in one ``writerows``: the module's download writes its batches
    so, and the baseline gets the same (a row at a time through the counting wrapper, it paid
    for a loop the module no longer runs)."""

    def run() -> Outcome:
        sink = _Sink()
        writer = csv.writer(sink)
        writer.writerow(COLUMNS)
        batches = _CountedBatches(_raw_batches())
        for batch in batches:
            writer.writerows(batch)
        return {"bytes": sink.size, "rows": batches.count}

    return run


def module_xlsx(env: BenchEnv) -> Callable[[], Outcome]:
    spec = _spec(env)

    def run() -> Outcome:
        rows = _Counted(iter_rows(spec))
        with xlsx_file(rows, spec.column_defs, sheet_name="Customers") as workbook:
            return {"bytes": workbook.seek(0, os.SEEK_END), "rows": rows.count}

    return run


def module_csv_download(env: BenchEnv) -> Callable[[], Outcome]:
    """The module's CSV as a browser downloads it: ``GET`` of the report's download URL through
    a test client logged in as the demo administrator (:func:`bench.summary._logged_in_client`),
    like the stock side's request: login check, the report read from the query string, the
    streamed body."""
    from .summary import _logged_in_client

    _app, client = _logged_in_client(env)

    def run() -> Outcome:
        response = client.get(DOWNLOAD_URL)
        if response.status_code != 200:
            raise RuntimeError(f"module csv download answered {response.status_code}")
        data = response.data
        return {"bytes": len(data), "rows": data.count(b"\r\n") - 1}

    return run


def raw_xlsx(env: BenchEnv) -> Callable[[], Outcome]:
    def run() -> Outcome:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Customers")
        sheet.append(COLUMNS)
        rows = _Counted(_raw_rows())
        for row in rows:
            sheet.append(row)
        with tempfile.TemporaryFile() as target:
            workbook.save(target)
            return {"bytes": target.tell(), "rows": rows.count}

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
            rows = _Counted(_raw_rows())
            for index, row in enumerate(rows, start=1):
                sheet.write_row(index, 0, row)
            workbook.close()
            return {"bytes": os.path.getsize(path), "rows": rows.count}

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


def peak_rss_growth_kib(function: Callable[[], Any]) -> int | None:
    """Peak resident memory that one run of ``function`` adds, in KiB (a forked child).

    Linux only (``/proc/self/clear_refs`` resets the peak); None elsewhere.
    """
    if not hasattr(os, "fork") or not os.path.exists("/proc/self/clear_refs"):
        return None
    db.session.rollback()
    db.session.close()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fresh connections, peak reset, one run
        code = 0
        try:
            os.close(read)
            db.engine.dispose(close=False)
            from .summary import _SERVED  # the download case's logged-in app

            for other in (*stock_apps(), *_SERVED.values()):
                with other.app_context():
                    db.engine.dispose(close=False)

            def status(key: str) -> int:
                with open("/proc/self/status") as handle:
                    for line in handle:
                        if line.startswith(key + ":"):
                            return int(line.split()[1])
                return 0

            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            before = status("VmRSS")
            function()
            os.write(write, json.dumps(status("VmHWM") - before).encode())
        except BaseException:  # noqa: BLE001 - report nothing, exit
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(answer) if answer else None


# --------------------------------------------------------------------------- the cases


def _case(
    name: str,
    env: BenchEnv,
    module: Callable[[], Outcome],
    baseline: Callable[[], Outcome],
    runs: int,
    *,
    goal_ratio: float | None = None,
) -> CaseResult:
    # alternating run by run: both sides see the same background load (a shared machine)
    times, result, baseline_times, baseline_result = timed_pair(module, baseline, runs)
    result = {**result, "peak_rss_growth_kib": peak_rss_growth_kib(module)}
    baseline_result = {**baseline_result, "peak_rss_growth_kib": peak_rss_growth_kib(baseline)}
    counts = (result["rows"], baseline_result["rows"])
    return CaseResult(
        case=name,
        median_ms=round(median(times), 1),
        baseline_median_ms=round(median(baseline_times), 1),
        runs_ms=[round(t, 1) for t in times],
        baseline_runs_ms=[round(t, 1) for t in baseline_times],
        same_result=bool(result["bytes"] and baseline_result["bytes"])
        and (None in counts or counts[0] == counts[1]),
        result=result,
        baseline_result=baseline_result,
        goal_ratio=goal_ratio,
        note=(
            f"peak RSS +{kib(result['peak_rss_growth_kib'])} vs "
            f"+{kib(baseline_result['peak_rss_growth_kib'])}"
        ),
    )


def _runs(env: BenchEnv) -> int:
    return max(1, min(env.runs, 3))  # a 100,000-row workbook takes a while


def csv_vs_raw(env: BenchEnv) -> CaseResult:
    return _case(
        f"export csv: {env.customers:,} rows vs raw csv",
        env,
        module_csv(env),
        raw_csv(env),
        _runs(env),
        goal_ratio=2.0,
    )


def csv_vs_stock(env: BenchEnv) -> CaseResult:
    """Both sides through a test client: the module's download view against the stock export."""
    return _case(
        "export csv: vs Flask-Admin stock",
        env,
        module_csv_download(env),
        stock_export(env, "csv"),
        _runs(env),
        goal_ratio=0.2,  # at least 5x faster
    )


def xlsx_vs_raw(env: BenchEnv) -> CaseResult:
    return _case(
        f"export xlsx: {env.customers:,} rows vs raw openpyxl",
        env,
        module_xlsx(env),
        raw_xlsx(env),
        _runs(env),
        goal_ratio=1.2,
    )


def xlsx_vs_stock(env: BenchEnv) -> CaseResult:
    name = "export xlsx: vs Flask-Admin stock (tablib)"
    if not _installed("tablib"):
        return _skipped(name, "tablib is not installed (pip install 'flask-admin[export]')")
    return _case(
        name,
        env,
        module_xlsx(env),
        stock_export(env, "xlsx"),
        _runs(env),
        goal_ratio=round(1 / 1.8, 3),  # at least 1.8x faster
    )


def xlsx_vs_xlsxwriter(env: BenchEnv) -> CaseResult:
    """Reported beside the others: XlsxWriter's streaming mode on the same cursor rows."""
    name = "export xlsx: vs XlsxWriter constant_memory"
    if not _installed("xlsxwriter"):
        return _skipped(name, "XlsxWriter is not installed (pip install -e '.[dev]')")
    return _case(name, env, module_xlsx(env), xlsxwriter_constant_memory(env), _runs(env))


CASES = [csv_vs_raw, csv_vs_stock, xlsx_vs_raw, xlsx_vs_stock, xlsx_vs_xlsxwriter]
