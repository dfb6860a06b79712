"""Reports: the XLSX workbook, streamed while it is written.

:func:`xlsx_batch_chunks` yields the file's bytes as the rows come: the package's fixed parts
first (before any row is read), then the worksheet, compressed a batch of rows at a time, then
the workbook part and the zip's directory. Nothing waits for the last row before the first byte
leaves, and memory holds one batch of rows and the compressor's window whatever the row count.

How: the worksheet's XML is written here, cell by cell, into a :class:`zipfile.ZipFile` opened on
a write-only sink (no ``seek``: each entry's sizes follow its data in a "data descriptor", as zip
allows for streams), and the sink is emptied into the response after every batch. openpyxl cannot
do this: its write-only mode still writes the sheet to a temporary file and zips it only when the
workbook is saved, so a 100,000-row download sent nothing for the whole time it took. The file
holds what openpyxl's write-only workbook held (and tests read it back with openpyxl): the header
row bold and frozen, an autofilter over the data, numbers as numbers, money as ``#,##0.00``, dates
as dates (``yyyy-mm-dd``), widths from the header and the type, the sheet named after the report,
strings inline (no shared-strings table to keep in memory), booleans as Yes/No in the viewer's
language like the CSV. The fixed parts are in :mod:`custreg_admin.services.reports.xlsx_parts`.

Formula injection: a text that begins like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
return) or reads as an error value (``#N/A``) is written as an inline string, never a formula,
with the "quote prefix" style, which keeps it text when the cell is edited. Values of the number
types are never touched: a negative amount stays a number.

:func:`write_xlsx` writes the same bytes to a file, :func:`xlsx_file` into a temporary file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from ...i18n import gettext
from .export import BATCH_ROWS, CHUNK_SIZE, DANGEROUS_PREFIXES, ExportColumn, _as_date, _money
from .xlsx_parts import (
    DECLARATION,
    MAIN_NS,
    REL_NS,
    SHEET_PATH,
    STYLE_DATE,
    STYLE_HEADER,
    STYLE_MONEY,
    STYLE_QUOTED,
    fixed_parts,
    workbook_xml,
)

__all__ = [
    "DATE_FORMAT",
    "sheet_title",
    "write_xlsx",
    "xlsx_batch_chunks",
    "xlsx_chunks",
    "xlsx_file",
]

DATE_FORMAT = "yyyy-mm-dd"
SPOOL_SIZE = 1024 * 1024  # xlsx_file: bigger workbooks go to disk
XLSX_MAX_TEXT = 32_767
SHEET_TITLE_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_WIDTHS = {"int": 10, "money": 14, "date": 12, "bool": 8, "text": 16}
_ESCAPED = re.compile(r"[&<>\r]")
_ENTITIES = {"\r": "&#13;"}  # a carriage return survives XML's line-end normalisation
_EPOCH = dt.date(1899, 12, 30).toordinal()  # Excel's day 0 (1900 system, after 1900-02-28)
_FIRST_SERIAL = 61  # 1900-03-01: earlier serials carry Excel's 1900 leap-year bug
_SHEET_VIEW = (
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews>"
)
_MARGINS = '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'


# --------------------------------------------------------------------------- names and widths


def sheet_title(name: str) -> str:
    """A worksheet name Excel accepts: no ``[]:*?/\\``, not quoted, at most 31 characters."""
    title = _SHEET_FORBIDDEN.sub(" ", name or "")
    title = " ".join(title.split()).strip("'").strip()[:SHEET_TITLE_MAX].strip()
    if not title or title.lower() == "history":  # Excel reserves "History"
        title = (title + " report").strip() if title else gettext("Report")
    return title


def _width(column: ExportColumn) -> float:
    hint = getattr(column, "width", None) or _WIDTHS.get(column.type, 16)
    return float(min(max(hint, len(str(column.label)) + 3), 60))


def _xlsx_text(value: Any) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return text[:XLSX_MAX_TEXT]


_ERROR_CODES = frozenset(ERROR_CODES)


# --------------------------------------------------------------------------- cells


def _text_cell(ref: str, value: Any, style: int | None = None) -> str:
    """An inline string cell; quoted (never a formula or an error value) when it looks like one."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value if value.__class__ is str else str(value))
    if len(text) > XLSX_MAX_TEXT:
        text = text[:XLSX_MAX_TEXT]
    if style is None and (text.startswith(DANGEROUS_PREFIXES) or text in _ERROR_CODES):
        style = STYLE_QUOTED
    if _ESCAPED.search(text):
        text = escape(text, _ENTITIES)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    styled = "" if style is None else f' s="{style}"'
    return f'<c r="{ref}" t="inlineStr"{styled}><is><t{space}>{text}</t></is></c>'


def _number_cell(ref: str, value: Any, style: int | None = None) -> str:
    styled = "" if style is None else f' s="{style}"'
    return f'<c r="{ref}"{styled}><v>{value}</v></c>'


def _int_cell(ref: str, value: Any) -> str:
    if value.__class__ is int:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_cell(ref, value)
    return _text_cell(ref, value)


def _money_cell(ref: str, value: Any) -> str:
    return _number_cell(ref, f"{_money(value):f}", STYLE_MONEY)


def _date_cell(ref: str, value: Any) -> str:
    day = _as_date(value)
    if not isinstance(day, dt.date):
        return _text_cell(ref, value)
    serial = day.toordinal() - _EPOCH
    if serial < _FIRST_SERIAL:
        return _text_cell(ref, day.isoformat())
    return _number_cell(ref, serial, STYLE_DATE)


def _row_writer(columns: Sequence[ExportColumn]):
    """A function that writes a batch of rows as ``<row>`` elements, numbering from ``first``.

    One cell function per column, chosen once; ``None`` values get no cell at all.
    """
    yes, no = gettext("Yes"), gettext("No")

    def bool_cell(ref: str, value: Any) -> str:
        return _text_cell(ref, yes if value else no)

    by_type = {"money": _money_cell, "date": _date_cell, "bool": bool_cell, "int": _int_cell}
    plan = [
        (index, get_column_letter(index + 1), by_type.get(column.type, _text_cell))
        for index, column in enumerate(columns)
    ]

    def write(batch: Iterable[Sequence[Any]], first: int) -> tuple[str, int]:
        parts: list[str] = []
        append = parts.append
        number = first
        for row in batch:
            n = str(number)
            append(f'<row r="{n}">')
            for index, letter, cell in plan:
                value = row[index]
                if value is not None:
                    append(cell(letter + n, value))
            append("</row>")
            number += 1
        return "".join(parts), number

    return write


def _sheet_head(columns: Sequence[ExportColumn]) -> str:
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{_width(column):g}" customWidth="1"/>'
        for i, column in enumerate(columns, 1)
    )
    header = "".join(
        _text_cell(f"{get_column_letter(i)}1", _xlsx_text(column.label), STYLE_HEADER)
        for i, column in enumerate(columns, 1)
    )
    return (
        DECLARATION
        + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        + _SHEET_VIEW
        + '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{widths}</cols>" if widths else "")
        + f'<sheetData><row r="1">{header}</row>'
    )


def _filter_range(columns: Sequence[ExportColumn], last_row: int) -> tuple[str, str] | None:
    """The autofilter's range, plain (``A1:C10``) and absolute (``$A$1:$C$10``)."""
    if not columns:
        return None
    letter = get_column_letter(len(columns))
    return f"A1:{letter}{last_row}", f"$A$1:${letter}${last_row}"


# --------------------------------------------------------------------------- the package


class _Sink:
    """Where the zip writes: bytes wait here until the generator hands them on.

    It has no ``tell`` or ``seek``, so :class:`zipfile.ZipFile` writes as to a stream.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _entry(path: str, created: dt.datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=created.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def xlsx_batch_chunks(
    batches: Iterable[Sequence[Sequence[Any]]],
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str = "Report",
    chunk_size: int | None = None,
    counted: list[int] | None = None,
) -> Iterator[bytes]:
    """The workbook's bytes, streamed while the rows are written (rows given a batch at a time).

    A chunk leaves as soon as at least ``chunk_size`` (default :data:`CHUNK_SIZE`) compressed
    bytes are ready; the first one
    (the package's fixed parts) before any row is read. ``counted``, when given, gets the number
    of data rows appended when the workbook is complete.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    created = dt.datetime.now().replace(microsecond=0)
    title = sheet_title(sheet_name)
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    for path, xml in fixed_parts(created.astimezone()):
        archive.writestr(_entry(path, created), xml)
    yield sink.take()
    write_rows = _row_writer(columns)
    next_row = 2
    with archive.open(_entry(SHEET_PATH, created), "w") as sheet:
        sheet.write(_sheet_head(columns).encode("utf-8"))
        for batch in batches:
            xml, next_row = write_rows(batch, next_row)
            sheet.write(xml.encode("utf-8"))
            if len(sink.buffer) >= chunk_size:
                yield sink.take()
        ranges = _filter_range(columns, next_row - 1)
        tail = f'<autoFilter ref="{ranges[0]}"/>' if ranges else ""
        sheet.write(f"</sheetData>{tail}{_MARGINS}</worksheet>".encode())
    archive.writestr(
        _entry("xl/workbook.xml", created), workbook_xml(title, ranges[1] if ranges else None)
    )
    archive.close()
    if counted is not None:
        counted.append(next_row - 2)
    yield sink.take()


def _batched(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def xlsx_chunks(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str = "Report",
    chunk_size: int | None = None,
) -> Iterator[bytes]:
    """:func:`xlsx_batch_chunks` of rows given one at a time."""
    return xlsx_batch_chunks(
        _batched(rows, BATCH_ROWS), columns, sheet_name=sheet_name, chunk_size=chunk_size
    )


def write_xlsx(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    target: str | IO[bytes],
    *,
    sheet_name: str = "Report",
) -> int:
    """Write the rows as an XLSX workbook to ``target`` (a path or a binary file).

    Returns the number of data rows written.
    """
    counted: list[int] = []
    chunks = xlsx_batch_chunks(
        _batched(rows, BATCH_ROWS), columns, sheet_name=sheet_name, counted=counted
    )
    if isinstance(target, str):
        with open(target, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    else:
        for chunk in chunks:
            target.write(chunk)
    return counted[0]


def xlsx_file(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str = "Report",
) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small, on disk beyond), at offset 0.

    The caller closes it (:func:`~custreg_admin.services.reports.export.file_chunks` does).
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115 - returned open
    try:
        write_xlsx(rows, columns, spool, sheet_name=sheet_name)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
