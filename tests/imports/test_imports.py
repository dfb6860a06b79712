"""Customer import: reading, mapping, matching, approvals, apply, history and undo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.services import imports
from custreg_admin.services.imports import BadFile, Options

from .. import builders as b

DATA = Path(__file__).parents[1] / "data"


def _csv(*lines: str, sep: str = ";", encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _review(data: bytes, name: str = "file.csv", **options):
    return imports.review_file(data, name, Options(**options))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- reading -----------------------------------------------------------------------------------


def test_severa_cp1252_semicolon_file_is_read_and_imported(ctx):
    b.segment("Retail")
    db.session.commit()
    table, review = _review((DATA / "severa_customers_cp1252.csv").read_bytes(), "severa.csv")
    assert (table.encoding, table.separator) == ("cp1252", ";")
    assert table.headers[0] == "Asiakkaan nimi"
    assert [r.errors for r in review.rows] == [{}, {}, {}]
    assert (review.new_customers, review.updated_customers, review.error_rows) == (2, 0, 0)
    admin = b.user()
    batch = imports.apply(admin, review, file_name="severa.csv")
    assert batch.created_count == 2
    aak = db.session.scalar(select(Customer).where(Customer.business_id == "0112038-9"))
    assert aak.name == "Ääkkönen Oy" and aak.vat_number == "FI01120389"
    assert sorted(c.full_name for c in aak.contacts) == ["Åsa Åberg", "Örjan Öhman"]
    assert aak.address_of("visiting").street == "Åbohuset 1"
    assert [s.name for s in aak.segments] == ["Retail"]
    assert [e.address for e in aak.einvoice_addresses] == ["003701120389"]
    assert aak.einvoice_addresses[0].is_default
    nordisk = db.session.scalar(select(Customer).where(Customer.name == "Nordisk Bygg AS"))
    assert nordisk.country == "NO" and nordisk.vat_number == "NO923609016MVA"


def test_encoding_and_separator_are_detected(ctx):
    utf8_bom = b"\xef\xbb\xbf" + _csv("Name,Business ID", "Åland Ab,0112038-9")
    table = imports.read_table(utf8_bom, "x.csv")
    assert (table.encoding, table.separator, table.headers) == (
        "utf-8-sig",
        ",",
        ["Name", "Business ID"],
    )
    tab = imports.read_table(_csv("Name\tCountry", "Öö Oy\tFI", encoding="iso-8859-1"), "x.csv")
    assert tab.separator == "\t" and list(tab.rows) == [["Öö Oy", "FI"]]
    # the detected values can be overridden
    forced = imports.read_table(_csv("Name,x;y", "A,b;c"), "x.csv", separator=";")
    assert forced.headers == ["Name,x", "y"]
    with pytest.raises(BadFile, match="Only one column"):
        imports.read_table(_csv("Name;x", "A;b"), "x.csv", separator=",")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"%PDF-1.4\x00\x01binary", "x.csv", "neither CSV nor XLSX"),
        (b"Name;Country\r\nA;FI\r\n", "renamed.xlsx", "not an Excel workbook"),
        (b"\xff\xfeN\x00a\x00", "utf16.csv", "UTF-16"),
        (b"\r\n\r\n", "blank.csv", "no header row"),
        (b"Name;Name\r\nA;B\r\n", "dup.csv", "appears twice"),
    ],
)
def test_bad_files_are_refused_with_a_message(ctx, data, name, message):
    with pytest.raises(BadFile, match=message):
        _review(data, name)
    assert _count(Customer) == 0


def test_wrong_encoding_chosen_is_a_clear_error(ctx):
    data = _csv("Name", "Ääkkönen Oy", encoding="cp1252")
    with pytest.raises(BadFile, match="not in utf-8"):
        imports.read_table(data, "x.csv", encoding="utf-8")


def test_file_over_the_size_limit_and_zip_bomb_are_refused(ctx, monkeypatch):
    monkeypatch.setattr(imports.reading, "MAX_FILE_BYTES", 100)
    with pytest.raises(BadFile, match="too large"):
        _review(b"Name\r\n" + b"A\r\n" * 100)
    monkeypatch.setattr(imports.reading, "MAX_FILE_BYTES", 50 * 1024 * 1024)
    book = Workbook()
    book.active.append(["Name"])
    book.active.append(["x" * 30000])  # compresses ~1000:1
    for _ in range(200):
        book.active.append(["y" * 30000])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(BadFile, match="ZIP bomb"):
        _review(out.getvalue(), "bomb.xlsx")


def test_mixed_line_endings_long_cells_and_html(ctx):
    data = (
        b"Name;Notes;Phone\r\nA Oy;one\nB Oy;two\r\n<script>alert(1)</script>;x;"
        + b"9" * 10000
        + b"\n"
    )
    _, review = _review(data)
    assert [r.raw[0] for r in review.rows] == ["A Oy", "B Oy", "<script>alert(1)</script>"]
    assert "Too long" in review.rows[2].errors["phone"]
    assert review.rows[0].errors == {} and review.rows[1].errors == {}


def test_xlsx_formulas_give_their_cached_value(ctx, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Customer number"])
    sheet.append(["Formula Oy", "=1000+5"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    # openpyxl writes no cached value: patch one in as Excel would
    import zipfile

    raw = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    raw = (
        raw.replace("<f>1000+5</f><v></v>", "<f>1000+5</f><v>1005</v>").replace(
            "<f>1000+5</f>", "<f>1000+5</f><v>1005</v>"
        )
        if "<v>1005</v>" not in raw
        else raw
    )
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = raw.encode()
            dst.writestr(item, data)
    table = imports.read_table(out.getvalue(), "f.xlsx")
    assert list(table.rows) == [["Formula Oy", "1005"]]
