"""Reports: the XLSX workbook (openpyxl write-only), formula-safe, into a temporary file.

See :mod:`custreg_admin.services.reports.export` for the column protocol and the formula guard.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ...i18n import gettext
from .export import DANGEROUS_PREFIXES, MONEY_FORMAT, ExportColumn, _as_date, _money

__all__ = ["DATE_FORMAT", "sheet_title", "write_xlsx", "xlsx_file"]

DATE_FORMAT = "yyyy-mm-dd"
SPOOL_SIZE = 1024 * 1024  # bigger workbooks go to disk before they are streamed
XLSX_MAX_TEXT = 32_767
SHEET_TITLE_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_WIDTHS = {"int": 10, "money": 14, "date": 12, "bool": 8, "text": 16}


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
