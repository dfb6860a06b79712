"""CSV and XLSX from any row iterator and column definitions, streaming.

A column is anything with ``label`` and ``type`` (``text``, ``int``, ``money``, ``date``, ``bool``)
and optionally ``width`` (a hint in characters): the report columns of
:mod:`custreg_admin.services.reports` qualify. Rows are sequences of values in column order.

* :func:`csv_chunks` yields UTF-8 bytes with a BOM (so Excel reads Nordic letters right), rows as
  RFC 4180 (``csv.writer``, CRLF, fields quoted when needed), a chunk at a time. With ``;`` as the
  delimiter money is written with a decimal comma (what a spreadsheet in a ``;`` locale reads as a
  number), with ``,`` with a decimal point. Dates are ISO 8601, booleans ``Yes``/``No`` in the
  viewer's language, like the header row (column labels are translated when written).
* :func:`write_xlsx` writes a workbook with openpyxl's write-only mode: the header row bold and
  frozen, an autofilter over the data, numbers as numbers, money in ``#,##0.00``, dates as dates,
  column widths from the header and the type, the sheet named after the report.
  :func:`xlsx_file` writes it into a temporary file (openpyxl must save to a file; past a few
  megabytes it lies on disk) and :func:`file_chunks` streams that file.

Formula injection: a text value that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula in some spreadsheet. In CSV it gets a leading ``'``; in XLSX it is
written as a string cell (never a formula) with Excel's "quote prefix" style, which keeps it text
when the cell is edited, while showing the value unchanged. Values of the number types are never
touched: a negative amount stays a number.

Memory stays flat: the rows are consumed one at a time and nothing keeps them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any, Protocol
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..i18n import gettext

__all__ = [
    "CSV_MEDIA_TYPE",
    "DANGEROUS_PREFIXES",
    "MONEY_FORMAT",
    "XLSX_MEDIA_TYPE",
    "ExportColumn",
    "content_disposition",
    "csv_chunks",
    "export_filename",
    "file_chunks",
    "is_dangerous",
    "neutralise",
    "sheet_title",
    "write_xlsx",
    "xlsx_file",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
BOM = "\ufeff".encode()
CHUNK_SIZE = 64 * 1024
SPOOL_SIZE = 1024 * 1024  # bigger workbooks go to disk before they are streamed
XLSX_MAX_TEXT = 32_767
SHEET_TITLE_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_WIDTHS = {"int": 10, "money": 14, "date": 12, "bool": 8, "text": 16}
CENT = Decimal("0.01")


class ExportColumn(Protocol):
    label: str
    type: str


def is_dangerous(text: str) -> bool:
    """Would a spreadsheet read this text as a formula (or the start of one)?"""
    return text.startswith(DANGEROUS_PREFIXES)


def neutralise(text: str) -> str:
    """The text as a CSV cell no spreadsheet runs: a leading ``'`` when it is dangerous."""
    return "'" + text if is_dangerous(text) else text


def _money(value: Any) -> Decimal:
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return amount.quantize(CENT)


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


# --------------------------------------------------------------------------- CSV


def _neutralised_text(value: Any) -> str:
    text = value if value.__class__ is str else str(value)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def _csv_formatter(kind: str, decimal_comma: bool) -> Callable[[Any], Any] | None:
    """How a column's non-empty values are written; None: as they are (csv writes ints)."""
    if kind == "money":

        def money(value: Any) -> str:
            text = f"{_money(value):f}"
            return text.replace(".", ",") if decimal_comma else text

        return money
    if kind == "int":
        return None  # csv.writer writes ints (and None as an empty field) itself
    if kind == "date":
        return lambda value: _as_date(value).isoformat()
    if kind == "bool":
        return lambda value: gettext("Yes") if value else gettext("No")
    return _neutralised_text


def csv_chunks(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    *,
    delimiter: str = ",",
    decimal_comma: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks of about ``chunk_size``: BOM and header first.

    ``decimal_comma`` defaults to ``delimiter == ";"``.
    """
    if delimiter not in (";", ","):
        raise ValueError("the CSV delimiter is ';' or ','")
    if decimal_comma is None:
        decimal_comma = delimiter == ";"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_neutralised_text(column.label) for column in columns])
    yield BOM + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()

    formatters = [_csv_formatter(column.type, decimal_comma) for column in columns]
    texts = [i for i, f in enumerate(formatters) if f is _neutralised_text]
    others = [(i, f) for i, f in enumerate(formatters) if f is not None and i not in texts]
    write, tell = writer.writerow, buffer.tell
    for row in rows:
        row = list(row)
        for i in texts:  # inline: this loop runs for every text cell of every row
            value = row[i]
            if value is not None:
                if value.__class__ is not str:
                    value = row[i] = str(value)
                if value.startswith(DANGEROUS_PREFIXES):
                    row[i] = "'" + value
        for i, fmt in others:
            value = row[i]
            if value is not None:
                row[i] = fmt(value)
        write(row)  # csv.writer writes None as an empty field
        if tell() >= chunk_size:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if tell():
        yield buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- XLSX


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


def _xlsx_rows(sheet, rows: Iterable[Sequence[Any]], columns: Sequence[ExportColumn]):
    """The rows as the write-only sheet appends them: typed values and styled cells.

    Styled values go through one cell object per column, reused row after row: the write-only
    sheet writes a row out as soon as it is appended. Text cells are handled inline (this loop
    runs for every cell of every row).
    """
    texts: list[tuple[int, Any]] = []
    styled: list[tuple[int, Any, Callable[[Any], Any]]] = []
    bools: list[int] = []
    for index, column in enumerate(columns):
        if column.type == "money":
            cell = WriteOnlyCell(sheet)
            cell.number_format = MONEY_FORMAT
            styled.append((index, cell, _money))
        elif column.type == "date":
            cell = WriteOnlyCell(sheet)
            cell.number_format = DATE_FORMAT
            styled.append((index, cell, _as_date))
        elif column.type == "bool":
            bools.append(index)
        elif column.type == "text":
            quoted = WriteOnlyCell(sheet)
            quoted.quotePrefix = True
            texts.append((index, quoted))
        # int: as it is
    clean = ILLEGAL_CHARACTERS_RE.sub
    for row in rows:
        row = list(row)
        for i, quoted in texts:
            value = row[i]
            if value is None:
                continue
            if value.__class__ is not str:
                value = str(value)
            value = clean("", value)
            if len(value) > XLSX_MAX_TEXT:
                value = value[:XLSX_MAX_TEXT]
            if value.startswith(DANGEROUS_PREFIXES) or value in _ERROR_CODES:
                quoted.value = value
                quoted.data_type = "s"  # a string, never a formula (nor an error value)
                value = quoted
            row[i] = value
        for i, cell, convert in styled:
            value = row[i]
            if value is not None:
                cell.value = convert(value)
                row[i] = cell
        for i in bools:
            value = row[i]
            if value is not None:
                row[i] = "Yes" if value else "No"
        yield row


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
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(sheet_name))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column)

    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(column.label))
        cell.font = bold
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)

    count = 0
    for row in _xlsx_rows(sheet, rows, columns):
        sheet.append(row)
        count += 1
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    workbook.save(target)
    return count


def xlsx_file(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str = "Report",
) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small, on disk beyond), at offset 0.

    The caller closes it (:func:`file_chunks` does).
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115 - returned open
    try:
        write_xlsx(rows, columns, spool, sheet_name=sheet_name)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def file_chunks(fileobj: IO[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The file's bytes in chunks; closes the file at the end (or when the reader stops)."""
    try:
        while chunk := fileobj.read(chunk_size):
            yield chunk
    finally:
        fileobj.close()


# --------------------------------------------------------------------------- file names


def _ascii_name(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-._")
    return folded


def export_filename(report_name: str, day: dt.date, extension: str) -> str:
    """``<report-name>-<date>.<extension>``, without characters file systems refuse."""
    name = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", report_name or "")
    name = "-".join(name.split()).strip(".-") or "report"
    return f"{name[:100]}-{day.isoformat()}.{extension}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact name as RFC 5987 ``filename*``."""
    stem, dot, extension = filename.rpartition(".")
    ascii_stem = _ascii_name(stem if dot else filename) or "report"
    ascii_name = f"{ascii_stem}.{_ascii_name(extension)}" if dot else ascii_stem
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
