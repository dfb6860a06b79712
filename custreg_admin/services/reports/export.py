"""CSV and XLSX from any row iterator and column definitions, streaming.

A column is anything with ``label`` and ``type`` (``text``, ``int``, ``money``, ``date``, ``bool``)
and optionally ``width`` (a hint in characters): the report columns of
:mod:`custreg_admin.services.reports` qualify. Rows are sequences of values in column order.

* :func:`csv_chunks` yields UTF-8 bytes with a BOM (so Excel reads Nordic letters right), rows as
  RFC 4180 (``csv.writer``, CRLF, fields quoted when needed), a chunk at a time. With ``;`` as the
  delimiter money is written with a decimal comma (what a spreadsheet in a ``;`` locale reads as a
  number), with ``,`` with a decimal point. Dates are ISO 8601, booleans ``Yes``/``No`` in the
  viewer's language, like the header row (column labels are translated when written).
  :func:`csv_batch_chunks` does the same for rows given a batch at a time (a download's
  :func:`~custreg_admin.services.reports.stream_batches`): one ``writerows`` per batch.
* :func:`~custreg_admin.services.reports.xlsx.write_xlsx` writes a workbook with openpyxl's
  write-only mode: the header row bold and frozen, an autofilter over the data, numbers as
  numbers, money in ``#,##0.00``, dates as dates, column widths from the header and the type, the
  sheet named after the report. :func:`~custreg_admin.services.reports.xlsx.xlsx_file` writes it
  into a temporary file (openpyxl must save to a file; past a few megabytes it lies on disk) and
  :func:`file_chunks` streams that file.

Formula injection: a text value that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula in some spreadsheet. In CSV for spreadsheets (the default,
``guard=True``) it gets a leading ``'``; CSV for import into another system (``guard=False``)
writes every value as it is stored (``+358 40 1234567``, not ``'+358 40 1234567``): a program that
imports the file needs the value, and does not run formulas. In XLSX it is
written as a string cell (never a formula) with Excel's "quote prefix" style, which keeps it text
when the cell is edited, while showing the value unchanged. Values of the number types are never
touched: a negative amount stays a number.

Memory stays flat: the rows are consumed one at a time (CSV: a batch at a time) and nothing
keeps them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any, Protocol
from urllib.parse import quote

from ...i18n import gettext
from ...rules.money import CENT

__all__ = [
    "CSV_MEDIA_TYPE",
    "DANGEROUS_PREFIXES",
    "MONEY_FORMAT",
    "XLSX_MEDIA_TYPE",
    "ExportColumn",
    "content_disposition",
    "csv_batch_chunks",
    "csv_chunks",
    "export_filename",
    "file_chunks",
    "is_dangerous",
    "neutralise",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
BOM = "\ufeff".encode()
CHUNK_SIZE = 64 * 1024
BATCH_ROWS = 1000  # rows csv_chunks writes at a time


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


Batch = Sequence[Sequence[Any]]


def _csv_converter(kind: str, decimal_comma: bool, yes: str, no: str) -> Callable[[Any], Any]:
    """How a money, date or bool column's non-empty values are written."""
    if kind == "money":
        if decimal_comma:
            return lambda value: f"{_money(value):f}".replace(".", ",")
        return lambda value: f"{_money(value):f}"
    if kind == "date":
        return lambda value: _as_date(value).isoformat()
    if kind == "bool":
        return lambda value: yes if value else no
    raise ValueError(kind)


def _csv_batch_formatter(
    columns: Sequence[ExportColumn], decimal_comma: bool, guard: bool = True
) -> Callable[[Batch], Iterable[Sequence[Any]]]:
    """One function, built once per export, that turns a batch of rows into what csv writes.

    The work is column-wise on the transposed batch: a text column is searched for a dangerous
    value with C-level ``map``; a column without one is left as it is, one with one gets the
    ``'`` on those values, one holding values that are not strings is written as their
    ``str()`` (neutralised too); money, dates and bools go through their column's converter;
    ints and empty values (``None``: an empty field) are written by csv itself. Without
    ``guard`` text columns are written as they are (csv writes ``str()``). The words for
    booleans are translated here, once, not per cell.
    """
    yes, no = gettext("Yes"), gettext("No")
    texts: list[int] = []
    converted: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(columns):
        if column.type in ("money", "date", "bool"):
            converted.append((index, _csv_converter(column.type, decimal_comma, yes, no)))
        elif column.type != "int" and guard:  # csv.writer writes ints (and raw text) itself
            texts.append(index)
    if not texts and not converted:
        return lambda batch: batch
    startswith, prefixes = str.startswith, itertools.repeat(DANGEROUS_PREFIXES)

    def format_batch(batch: Batch) -> Iterable[Sequence[Any]]:
        if not batch:
            return batch
        values = list(zip(*batch, strict=True))  # a tuple per column
        changed = False
        for i in texts:
            column = values[i]
            try:  # falsy values (None, "") are never dangerous
                if not any(map(startswith, filter(None, column), prefixes)):
                    continue
                # strings, some dangerous (phone numbers in +358 form, say)
                values[i] = [
                    "'" + v if v and v.startswith(DANGEROUS_PREFIXES) else v for v in column
                ]
            except (TypeError, AttributeError):  # values that are not strings: as str() gives
                values[i] = [None if v is None else _neutralised_text(v) for v in column]
            changed = True
        for i, convert in converted:
            values[i] = [None if v is None else convert(v) for v in values[i]]
            changed = True
        return zip(*values, strict=True) if changed else batch

    return format_batch


def _batched(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _utf8_cut(data: bytearray, size: int) -> int:
    """Where to cut ``data`` at most ``size`` bytes in, not inside a UTF-8 character."""
    cut = size
    while cut > 0 and data[cut] & 0xC0 == 0x80:  # a continuation byte
        cut -= 1
    return cut or size


def csv_chunks(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[ExportColumn],
    *,
    delimiter: str = ",",
    decimal_comma: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
    guard: bool = True,
) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks of about ``chunk_size``: BOM and header first.

    ``decimal_comma`` defaults to ``delimiter == ";"``. ``guard``: the formula guard (a ``'``
    before a dangerous text; the default, for spreadsheets); ``False`` writes text raw (for
    import into another system). :func:`csv_batch_chunks` takes the rows
    in batches (as :func:`custreg_admin.services.reports.iter_batches` reads them).
    """
    return csv_batch_chunks(
        _batched(rows, BATCH_ROWS),
        columns,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        chunk_size=chunk_size,
        guard=guard,
    )


def csv_batch_chunks(
    batches: Iterable[Batch],
    columns: Sequence[ExportColumn],
    *,
    delimiter: str = ",",
    decimal_comma: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
    guard: bool = True,
) -> Iterator[bytes]:
    """:func:`csv_chunks` of rows given a batch (a sequence of rows) at a time.

    The BOM and the header row leave at once, as the first chunk. Each batch is written with one
    ``writerows`` and encoded once; the bytes leave in chunks of at most ``chunk_size`` (never
    cutting a character), the rest waits for the next batch.
    """
    if delimiter not in (";", ","):
        raise ValueError("the CSV delimiter is ';' or ','")
    if decimal_comma is None:
        decimal_comma = delimiter == ";"
    return _csv_batch_chunks(batches, columns, delimiter, decimal_comma, chunk_size, guard)


def _csv_batch_chunks(
    batches: Iterable[Batch],
    columns: Sequence[ExportColumn],
    delimiter: str,
    decimal_comma: bool,
    chunk_size: int,
    guard: bool,
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    label = _neutralised_text if guard else str
    writer.writerow([label(column.label) for column in columns])
    yield BOM + buffer.getvalue().encode("utf-8")  # the first bytes leave before any row
    pending = bytearray()
    format_batch = _csv_batch_formatter(columns, decimal_comma, guard)
    writerows, getvalue = writer.writerows, buffer.getvalue
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writerows(format_batch(batch))  # csv.writer writes None as an empty field
        pending += getvalue().encode("utf-8")
        while len(pending) >= chunk_size:
            cut = _utf8_cut(pending, chunk_size) if len(pending) > chunk_size else chunk_size
            yield bytes(pending[:cut])
            del pending[:cut]
    if pending:
        yield bytes(pending)


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
