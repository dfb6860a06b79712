"""Reports > Report creation: build a Customers report, save it, download it as XLSX and CSV
and read the files back against the preview."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.numbers import parse_decimal
from openpyxl import load_workbook
from playwright.sync_api import expect

from custreg_admin.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD
from custreg_admin.services.reports import REPORT_TYPES
from custreg_admin.services.reports.export import DANGEROUS_PREFIXES

from .ui import menu

# the preview's header and cells as shown, without the row-selection column
_TABLE_JS = """table => {
  const cells = (row, tag) => [...row.querySelectorAll(tag + ':not(.custreg-select)')]
    .map(cell => cell.textContent.trim());
  return {
    header: cells(table.querySelector('thead tr'), 'th'),
    rows: [...table.querySelectorAll('tbody tr')].map(row => cells(row, 'td')),
  };
}"""


def _types() -> dict[str, str]:
    return {column.label: column.type for column in REPORT_TYPES["customers"].columns}


def _from_preview(text: str, kind: str) -> str:
    """A preview cell as written in English (Babel's "en": "1,234.50", "Jan 5, 2026")."""
    if text and kind == "money":
        return f"{parse_decimal(text, locale='en'):.2f}"
    if text and kind == "date":
        return datetime.strptime(text, "%b %d, %Y").strftime("%Y-%m-%d")
    return text


def _from_xlsx(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(str(value)):.2f}"
    if kind == "bool":
        return "Yes" if value else "No"
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _from_csv(text: str, kind: str, delimiter: str) -> str:
    if kind == "money" and delimiter == ";":
        return text.replace(",", ".")
    if kind == "text" and text.startswith("'") and text[1:].startswith(DANGEROUS_PREFIXES):
        return text[1:]  # neutralised against formula injection; the preview shows it as is
    return text


def test_build_save_and_download_a_customers_report(page, live_server, demo_data, log_in):
    log_in(page, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
    menu(page, "Reports", "Report creation")
    page.get_by_test_id("new-customers").click()
    expect(page.get_by_test_id("report-title")).to_have_text("New Customers report")

    page.get_by_test_id("add-columns").select_option(label="Margin this year")
    page.get_by_test_id("add-button").click()
    expect(page.get_by_test_id("selected-columns")).to_contain_text("Margin this year")
    page.get_by_label("Country").select_option("FI")
    page.get_by_label("Sort by").select_option(label="Billing this year")
    page.get_by_label("Direction").select_option(label="Descending")
    page.get_by_label("CSV delimiter").select_option(";")
    page.get_by_test_id("preview-button").click()
    page.get_by_role("group", name="Rows per page").get_by_role("link", name="100").click()

    count = page.get_by_test_id("row-count")
    expect(count).to_have_text(re.compile(r"^\d+ customers?$"))
    total = int(count.inner_text().split()[0])
    assert 0 < total < 40  # the country filter narrowed the 40 demo customers

    page.get_by_test_id("report-name").fill("Finnish customers by billing")
    page.get_by_test_id("save-button").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Report 'Finnish customers by billing' saved to your reports."
    )
    page.get_by_role("link", name="My reports").click()
    saved = page.get_by_test_id("my-reports")
    with page.expect_download() as xlsx_download:  # the Excel file from the list of reports
        saved.get_by_role("link", name="Download Finnish customers by billing as Excel").click()
    saved.get_by_role("link", name="Finnish customers by billing", exact=True).click()
    expect(page.get_by_test_id("report-title")).to_have_text("Finnish customers by billing")
    expect(page.get_by_label("CSV delimiter")).to_have_value(";")
    page.get_by_role("group", name="Rows per page").get_by_role("link", name="100").click()
    expect(count).to_have_text(f"{total} customers" if total != 1 else "1 customer")

    preview = page.get_by_test_id("preview-table").evaluate(_TABLE_JS)
    header, shown = preview["header"], preview["rows"]
    assert "Margin this year" in header and "Billing this year" in header
    assert len(shown) == total
    types = [_types()[label] for label in header]
    expected = [[_from_preview(v, t) for v, t in zip(row, types, strict=True)] for row in shown]
    billing = [Decimal(row[header.index("Billing this year")] or "0") for row in expected]
    assert billing == sorted(billing, reverse=True)

    xlsx = xlsx_download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(xlsx.path()).read_bytes()), read_only=True)
    try:
        rows = list(workbook.active.iter_rows(values_only=True))
    finally:
        workbook.close()
    assert list(rows[0]) == header
    assert [
        [_from_xlsx(v, t) for v, t in zip(row, types, strict=True)] for row in rows[1:]
    ] == expected

    # the CSV file from the report's page
    with page.expect_download() as csv_download:
        page.get_by_test_id("download-csv").click()
    download = csv_download.value
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads ä and ö right
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert lines[0] == header
    assert [
        [_from_csv(v, t, ";") for v, t in zip(line, types, strict=True)] for line in lines[1:]
    ] == expected

    # the second CSV choice, for import into another system: every value as stored, no '
    with page.expect_download() as import_download:
        page.get_by_role("link", name="CSV for import into another system").click()
    data = Path(import_download.value.path()).read_bytes()
    raw = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert raw[0] == header
    phones = [line[header.index("Phone")] for line in raw[1:]] if "Phone" in header else []
    assert not any(phone.startswith("'") for phone in phones)
    assert [
        [v.replace(",", ".") if t == "money" else v for v, t in zip(line, types, strict=True)]
        for line in raw[1:]
    ] == expected
