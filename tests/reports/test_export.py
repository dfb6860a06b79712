"""CSV and XLSX export (custreg_admin.services.reports.export and .xlsx): contents read back,
formula injection, file names, and memory that stays flat however many rows. No database needed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import textwrap
import tracemalloc
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from custreg_admin.services.reports import export
from custreg_admin.services.reports.export import (
    DANGEROUS_PREFIXES,
    MONEY_FORMAT,
    content_disposition,
    csv_batch_chunks,
    csv_chunks,
    export_filename,
    file_chunks,
)
from custreg_admin.services.reports.xlsx import (
    sheet_title,
    write_xlsx,
    xlsx_batch_chunks,
    xlsx_chunks,
    xlsx_file,
)


@dataclass(frozen=True)
class Col:
    label: str
    type: str
    width: int | None = None


COLUMNS = [
    Col("Name", "text", 30),
    Col("Number", "int"),
    Col("Billing", "money"),
    Col("Created", "date"),
    Col("Active", "bool"),
]
ROWS = [
    ('Äijälä Oy; "quoted"\nsecond line', 1001, Decimal("1234567.5"), dt.date(2024, 3, 1), True),
    ("Ørsted, Åse", -7, Decimal("-12.30"), dt.datetime(2024, 12, 31, 23, 59), False),
    (None, None, None, None, None),
]


def read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def xlsx_bytes(rows, columns=COLUMNS, **kwargs) -> bytes:
    handle = xlsx_file(rows, columns, **kwargs)
    return b"".join(file_chunks(handle))


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("delimiter", "money", "negative"),
    [(";", "1234567,50", "-12,30"), (",", "1234567.50", "-12.30")],
)
def test_csv_has_bom_delimiter_rfc4180_quoting_and_typed_values(delimiter, money, negative):
    data = b"".join(csv_chunks(ROWS, COLUMNS, delimiter=delimiter))
    assert data.startswith("\ufeffName".encode())
    assert b"\r\n" in data  # RFC 4180 line ends
    rows = read_csv(data, delimiter)
    assert rows[0] == ["Name", "Number", "Billing", "Created", "Active"]
    assert rows[1] == [
        'Äijälä Oy; "quoted"\nsecond line',
        "1001",
        money,
        "2024-03-01",
        "Yes",
    ]
    assert rows[2] == ["Ørsted, Åse", "-7", negative, "2024-12-31", "No"]
    assert rows[3] == ["", "", "", "", ""]
    assert len(rows) == 4


def test_csv_decimal_comma_can_be_chosen_apart_from_the_delimiter():
    data = b"".join(csv_chunks(ROWS[:1], COLUMNS, delimiter=",", decimal_comma=True))
    assert read_csv(data, ",")[1][2] == "1234567,50"


def test_csv_refuses_other_delimiters():
    with pytest.raises(ValueError):
        list(csv_chunks([], COLUMNS, delimiter="\t"))


def test_csv_for_import_writes_every_value_as_it_is():
    """The second CSV choice: no apostrophe before a phone number or anything else; the
    spreadsheet CSV of the same rows has it. Everything but the guard is the same."""
    rows = [
        ("+358 40 1234567", 1, Decimal("-1.50"), dt.date(2024, 1, 2), True),
        ("=SUM(A1:A9)", 2, None, None, False),
        ("-minus", 3, None, None, None),
    ]
    labels = [Col("=Name", "text"), *COLUMNS[1:]]
    raw = read_csv(b"".join(csv_chunks(rows, labels, delimiter=";", guard=False)), ";")
    guarded = read_csv(b"".join(csv_chunks(rows, labels, delimiter=";")), ";")
    assert raw[0][0] == "=Name" and guarded[0][0] == "'=Name"
    assert [row[0] for row in raw[1:]] == ["+358 40 1234567", "=SUM(A1:A9)", "-minus"]
    assert [row[0] for row in guarded[1:]] == ["'+358 40 1234567", "'=SUM(A1:A9)", "'-minus"]
    assert [row[1:] for row in raw] == [row[1:] for row in guarded]
    assert raw[1][1:] == ["1", "-1,50", "2024-01-02", "Yes"]


def test_csv_streams_in_chunks():
    rows = ((f"Customer {n}", n, Decimal(n), dt.date(2024, 1, 1), True) for n in range(5000))
    chunks = list(csv_chunks(rows, COLUMNS, chunk_size=4096))
    assert len(chunks) > 10
    assert all(len(chunk) < 4096 + 200 for chunk in chunks)
    assert len(read_csv(b"".join(chunks), ",")) == 5001


# --------------------------------------------------------------------------- XLSX


def test_xlsx_header_bold_frozen_autofilter_types_formats_and_widths():
    sheet = read_xlsx(xlsx_bytes(ROWS, sheet_name="Asiakkaat"))
    assert sheet.title == "Asiakkaat"
    assert [cell.value for cell in sheet[1]] == ["Name", "Number", "Billing", "Created", "Active"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"

    name, number, billing, created, active = sheet[2]
    assert name.value == 'Äijälä Oy; "quoted"\nsecond line' and name.data_type == "s"
    assert number.value == 1001 and number.data_type == "n"
    assert billing.value == pytest.approx(1234567.5) and billing.data_type == "n"
    assert billing.number_format == MONEY_FORMAT
    assert created.value == dt.datetime(2024, 3, 1) and created.is_date
    assert created.number_format == "yyyy-mm-dd"
    assert active.value == "Yes"

    _, number, billing, created, active = sheet[3]
    assert number.value == -7 and number.data_type == "n"
    assert billing.value == pytest.approx(-12.3) and billing.number_format == MONEY_FORMAT
    assert created.value == dt.datetime(2024, 12, 31) and created.is_date
    assert active.value == "No"
    assert [cell.value for cell in sheet[4]] == [None] * 5

    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["A"] == 30  # the column's hint
    assert widths["B"] >= len("Number") + 1
    assert widths["C"] >= 12 and widths["D"] >= 10  # money and dates fit


def test_xlsx_without_rows_has_the_header_and_a_header_only_filter():
    sheet = read_xlsx(xlsx_bytes([]))
    assert sheet.max_row == 1
    assert sheet.auto_filter.ref == "A1:E1"


def test_xlsx_drops_characters_xml_cannot_hold_and_caps_long_text():
    rows = [("bell\x07 and nul\x00 gone", 1, None, None, None), ("x" * 40_000, 2, None, None, None)]
    sheet = read_xlsx(xlsx_bytes(rows))
    assert sheet["A2"].value == "bell and nul gone"
    assert len(sheet["A3"].value) == 32_767


def _consumed_batches(count: int, size: int, log: list[int]):
    for batch in range(count):
        log.append(batch)
        yield [
            (f"Row {batch}-{n} Äijälä", n, Decimal(n), dt.date(2024, 1, 1), True)
            for n in range(size)
        ]


def test_xlsx_streams_while_the_rows_are_written():
    """The first bytes leave before any row is read, and more leave while rows still wait."""
    consumed: list[int] = []
    chunks = xlsx_batch_chunks(_consumed_batches(6, 500, consumed), COLUMNS, chunk_size=4096)
    first = next(chunks)
    assert first.startswith(b"PK") and consumed == []
    seen_while_writing = []
    rest = []
    for chunk in chunks:
        rest.append(chunk)
        seen_while_writing.append(len(consumed))
    assert min(seen_while_writing) < 6  # a chunk left before the last batch was read
    sheet = read_xlsx(first + b"".join(rest))
    assert sheet.max_row == 1 + 6 * 500
    assert sheet["A3001"].value == "Row 5-499 Äijälä" and sheet["B3001"].value == 499


def test_xlsx_package_is_a_valid_zip_of_well_formed_parts():
    data = b"".join(xlsx_chunks(ROWS, COLUMNS, sheet_name="Kunder & co <1>"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        parts = {name: ET.fromstring(archive.read(name)) for name in names}
    assert len(names) == len(set(names))
    types = {
        override.get("PartName")
        for override in parts["[Content_Types].xml"]
        if override.tag.endswith("Override")
    }
    assert types == {"/" + name for name in names if not name.endswith((".rels", "].xml"))}
    assert read_xlsx(data).title == "Kunder & co <1>"


def test_xlsx_text_keeps_markup_spaces_and_line_breaks():
    values = ["A & <b>Oy</b>", "  leading and trailing  ", "two\r\nlines", "tab\tinside"]
    sheet = read_xlsx(b"".join(xlsx_chunks([(v, 1, None, None, None) for v in values], COLUMNS)))
    assert [sheet.cell(row, 1).value for row in range(2, 6)] == values


def test_xlsx_booleans_are_in_the_viewers_language(app):
    with app.test_request_context("/admin/"), force_locale("fi"):
        sheet = read_xlsx(b"".join(xlsx_chunks(ROWS, COLUMNS)))
    assert [sheet["E2"].value, sheet["E3"].value] == ["Kyllä", "Ei"]


def test_write_xlsx_to_a_path_counts_rows(tmp_path):
    target = tmp_path / "out.xlsx"
    assert write_xlsx(ROWS, COLUMNS, str(target)) == 3
    sheet = load_workbook(target).active
    assert sheet["A3"].value == "Ørsted, Åse"
    assert sheet.auto_filter.ref == "A1:E4"  # the empty last row is inside the filter


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Asiakkaat", "Asiakkaat"),
        ("Sales: [Q1]*?/\\ top", "Sales Q1 top"),
        ("'quoted'", "quoted"),
        ("A" * 40, "A" * 31),
        ("", "Report"),
        ("[]:*?", "Report"),
        ("History", "History report"),
        ("Åland & Ørsted", "Åland & Ørsted"),
    ],
)
def test_sheet_title_is_what_excel_accepts(name, title):
    assert sheet_title(name) == title
    sheet = read_xlsx(xlsx_bytes([], sheet_name=name))
    assert sheet.title == title


# --------------------------------------------------------------------------- formula injection


DANGEROUS = [prefix + "cmd|' /C calc'!A0" for prefix in DANGEROUS_PREFIXES]


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_csv_neutralises_every_dangerous_prefix(prefix):
    value = prefix + "1+1"
    rows = [(value, -5, Decimal("-1.50"), None, None)]
    parsed = read_csv(b"".join(csv_chunks(rows, COLUMNS, delimiter=",")), ",")
    assert parsed[1][0] == "'" + value
    assert parsed[1][1:3] == ["-5", "-1.50"]  # real negative numbers stay numbers


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_xlsx_writes_dangerous_text_as_plain_strings(prefix):
    value = prefix + "SUM(A1:A9)"
    rows = [(value, -5, Decimal("-1.50"), None, None), ("#N/A", 1, None, None, None)]
    sheet = read_xlsx(xlsx_bytes(rows))
    cell = sheet["A2"]
    assert cell.value == value  # a carriage return too (written as &#13;, not normalised)
    assert cell.data_type == "s"  # a string, not a formula ("f")
    assert cell.quotePrefix  # Excel keeps it text when edited
    assert sheet["B2"].value == -5 and sheet["B2"].data_type == "n"
    assert sheet["C2"].value == pytest.approx(-1.5) and sheet["C2"].data_type == "n"
    assert sheet["A3"].value == "#N/A" and sheet["A3"].data_type == "s"  # not an error cell


def test_xlsx_never_contains_a_formula_element():
    import zipfile

    rows = [(value, 1, None, None, None) for value in DANGEROUS]
    data = xlsx_bytes(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = read_xlsx(data)
    values = [sheet.cell(row, 1).value for row in range(2, 2 + len(DANGEROUS))]
    assert values == DANGEROUS
    assert {sheet.cell(row, 1).data_type for row in range(2, 2 + len(DANGEROUS))} == {"s"}


def test_csv_neutralises_text_columns_however_their_values_mix():
    """Text columns are checked a batch at a time: a dangerous value anywhere in a batch (first,
    last, beside values that are not strings) gets its quote, and nothing else changes."""
    values = ["plain", "=1+1", None, "", "+358 40 1", -5, Decimal("-1.5"), 0, "@x", "a-b"]
    expected = ["plain", "'=1+1", "", "", "'+358 40 1", "'-5", "'-1.5", "0", "'@x", "a-b"]
    for order in (values, values[::-1], values[1:] + values[:1]):
        rows = [(value, 1, None, None, None) for value in order]
        want = [expected[values.index(value)] for value in order]
        for batch_size in (1, 3, len(rows)):
            batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
            data = b"".join(csv_batch_chunks(batches, COLUMNS, delimiter=","))
            assert [row[0] for row in read_csv(data, ",")[1:]] == want, (order, batch_size)


def test_csv_finds_a_dangerous_value_in_a_later_batch():
    count = 3 * export.BATCH_ROWS
    rows = [(f"Customer {n}", n, None, None, None) for n in range(count)]
    rows[count - 2] = ("-1", count - 2, None, None, None)
    parsed = read_csv(b"".join(csv_chunks(rows, COLUMNS, delimiter=",")), ",")
    assert parsed[count - 1][0] == "'-1"
    assert [row[0] for row in parsed[1:]].count("'-1") == 1


def test_csv_of_batches_is_csv_of_rows():
    rows = [*ROWS, *((f"Ålesund {n}", n, Decimal(n), dt.date(2024, 1, 1), n % 2) for n in range(9))]
    for delimiter in (",", ";"):
        whole = b"".join(csv_chunks(rows, COLUMNS, delimiter=delimiter))
        batches = [rows[:4], [], rows[4:5], rows[5:]]
        assert b"".join(csv_batch_chunks(batches, COLUMNS, delimiter=delimiter)) == whole


def test_csv_chunks_never_cut_a_character():
    rows = [(f"Äijälä Åse Ørsted € {n}", n, None, None, None) for n in range(3000)]
    chunks = list(csv_chunks(rows, COLUMNS, chunk_size=1001))
    assert len(chunks) > 10
    assert all(len(chunk) <= 1001 for chunk in chunks)
    text = "".join(chunk.decode("utf-8") for chunk in chunks)  # each chunk decodes alone
    assert text == b"".join(chunks).decode("utf-8")
    assert len(read_csv(b"".join(chunks), ",")) == 3001


def test_harmless_text_is_left_alone():
    rows = [("a-b = c + d", 1, None, None, None)]
    assert read_csv(b"".join(csv_chunks(rows, COLUMNS)), ",")[1][0] == "a-b = c + d"
    assert read_xlsx(xlsx_bytes(rows))["A2"].quotePrefix is False


# --------------------------------------------------------------------------- file names


def test_export_filename_and_content_disposition():
    name = export_filename("Asiakkaat / Ääkköset: top 10", dt.date(2024, 5, 6), "xlsx")
    assert name == "Asiakkaat-Ääkköset-top-10-2024-05-06.xlsx"
    header = content_disposition(name)
    assert header.startswith('attachment; filename="Asiakkaat-Aakkoset-top-10-2024-05-06.xlsx"')
    assert "filename*=UTF-8''Asiakkaat-%C3%84%C3%A4kk%C3%B6set-top-10-2024-05-06.xlsx" in header
    assert export_filename("", dt.date(2024, 5, 6), "csv") == "report-2024-05-06.csv"
    assert content_disposition('a"b\r\n.csv').count('"') == 2  # no header injection
    assert "\r" not in content_disposition('a"b\r\n.csv')


def test_file_chunks_closes_the_file_even_when_the_reader_stops():
    handle = io.BytesIO(b"x" * 10_000)
    reader = file_chunks(handle, chunk_size=1000)
    assert next(reader) == b"x" * 1000
    reader.close()
    assert handle.closed


# --------------------------------------------------------------------------- memory


def _generated(count: int):
    for n in range(count):
        yield (
            f"Customer {n} Äijälä",
            n,
            Decimal(n) / 100 - 50,
            dt.date(2024, 1, 1 + n % 28),
            n % 2 == 0,
        )


def _csv_peak(count: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in csv_chunks(_generated(count), COLUMNS, delimiter=";"))
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_csv_memory_stays_flat_from_10_000_to_100_000_rows():
    small_size, small_peak = _csv_peak(10_000)
    large_size, large_peak = _csv_peak(100_000)
    assert large_size > 9 * small_size
    assert large_peak < small_peak + 256 * 1024, (small_peak, large_peak)
    assert large_peak < 2 * 1024 * 1024


_XLSX_PEAK = textwrap.dedent(
    """
    import datetime as dt, json, resource, sys
    from decimal import Decimal
    from custreg_admin.services.reports.xlsx import xlsx_chunks

    class Col:
        def __init__(self, label, type):
            self.label, self.type = label, type

    def rows(count):
        for n in range(count):
            yield (f"Customer {n} Äijälä", Decimal(n) / 100)

    columns = [Col("Name", "text"), Col("Billing", "money")]
    list(xlsx_chunks(rows(100), columns))  # warm up: imports, first workbook
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(len(c) for c in xlsx_chunks(rows(int(sys.argv[1])), columns))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size": size, "growth_kib": after - before, "peak_kib": after}))
    """
)


def _xlsx_growth(count: int) -> dict:
    # a fresh process's peak RSS (ru_maxrss, KiB on Linux): what the rows add to the peak
    done = subprocess.run(
        [sys.executable, "-c", _XLSX_PEAK, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout)


def test_xlsx_memory_stays_flat_from_10_000_to_100_000_rows():
    small = _xlsx_growth(10_000)
    large = _xlsx_growth(100_000)
    assert large["size"] > 5 * small["size"]
    # holding 100,000 rows of cells, or the file, would take tens of MiB; the stream holds a
    # batch of rows and the compressor's window
    assert large["growth_kib"] < small["growth_kib"] + 2 * 1024, (small, large)
