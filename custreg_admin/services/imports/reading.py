"""Reading an uploaded file: CSV (encoding and separator detected) or XLSX (read-only, cached
values), streamed row by row, within limits. Every refusal is a :class:`BadFile` whose text
tells the user what is wrong; nothing is saved.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from openpyxl import load_workbook

from ...errors import DomainError
from ...i18n import gettext
from ..reports.export import is_dangerous

#: the largest file accepted (bytes)
MAX_FILE_BYTES = 50 * 1024 * 1024
#: the longest cell accepted (characters); longer is an error in that cell, not a crash
MAX_CELL_CHARS = 5_000
#: an XLSX may unpack to at most this many bytes, and to at most this many times its size
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_UNPACK_RATIO = 100
ENCODINGS = ("utf-8-sig", "utf-8", "cp1252", "iso-8859-1")
SEPARATORS = (";", ",", "\t")
_SAMPLE = 64 * 1024
_CHUNK = 1024 * 1024


def _restored(cell: str) -> str:
    """A cell as it was before an export neutralised it (``'=1+1`` back to ``=1+1``): stored
    as text, never run."""
    return cell[1:] if cell[:1] == "'" and is_dangerous(cell[1:]) else cell


class BadFile(DomainError):
    """The file cannot be imported; the text says why."""


@dataclass
class Table:
    """A file's header row and an iterator over its data rows (lists of strings)."""

    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: Iterator[list[str]]
    encoding: str | None = None
    separator: str | None = None
    notes: list[str] = field(default_factory=list)


def _kind(data: bytes, filename: str) -> str:
    if not data:
        raise BadFile(gettext("The file is empty (0 bytes)."))
    if len(data) > MAX_FILE_BYTES:
        raise BadFile(
            gettext(
                "The file is too large: at most %(num)s MB can be imported at once.",
                num=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.endswith((".xlsx", ".xlsm")):
        raise BadFile(
            gettext("The file is named .xlsx but is not an Excel workbook; save it again as XLSX.")
        )
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise BadFile(
            gettext("The file is in UTF-16; save it as CSV in UTF-8 or Windows-1252 instead.")
        )
    if b"\x00" in data[:_SAMPLE] or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise BadFile(
            gettext("The file is neither CSV nor XLSX. Save it as CSV (semicolons) or as XLSX.")
        )
    return "csv"


def _fits(data: bytes, encoding: str) -> None:
    """Raise the decoding error when ``data`` is not in ``encoding``; decoded a chunk at a
    time, keeping nothing (the file is read again as a stream)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    for start in range(0, len(data), _CHUNK):
        try:
            decoder.decode(data[start : start + _CHUNK], final=start + _CHUNK >= len(data))
        except UnicodeDecodeError as error:
            error.start += start
            raise


def detect_encoding(data: bytes) -> str:
    """UTF-8 with or without BOM, else Windows-1252, else ISO-8859-1 (bytes Windows-1252
    leaves undefined)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            _fits(data, encoding)
            return encoding
        except UnicodeDecodeError:
            pass
    return "iso-8859-1"


def detect_separator(text: str) -> str:
    """The separator of the header line: the one of ``;``, ``,`` and tab found most."""
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _text(data: bytes, encoding: str) -> io.TextIOWrapper:
    """The file as a text stream in ``encoding`` (checked first: a wrong one is refused at
    once, naming the first byte that does not fit)."""
    try:
        _fits(data, encoding)
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    except (UnicodeDecodeError, LookupError) as error:
        raise BadFile(
            gettext(
                "The file is not in %(encoding)s: choose another encoding (the file's "
                "byte %(position)s does not fit it).",
                encoding=encoding,
                position=getattr(error, "start", 0) + 1,
            )
        ) from error


def _headers(raw: list[str] | None) -> list[str]:
    headers = [(h or "").strip() for h in (raw or [])]
    while headers and not headers[-1]:
        headers.pop()
    if not headers or not any(headers):
        raise BadFile(gettext("The file has no header row: the first row must name the columns."))
    seen: set[str] = set()
    for header in headers:
        key = header.casefold()
        if key and key in seen:
            raise BadFile(
                gettext(
                    "The column %(name)s appears twice in the header row; rename or remove one.",
                    name=repr(header),
                )
            )
        seen.add(key)
    return headers


def _read_csv(data: bytes, encoding: str | None, separator: str | None) -> Table:
    encoding = encoding or detect_encoding(data)
    text = _text(data, encoding)  # utf-8-sig: without its BOM
    if not separator:
        end = data.find(b"\n")
        first = data[: end if end >= 0 else len(data)].decode(encoding, errors="replace")
        separator = detect_separator(first.removeprefix("\ufeff"))
    reader = csv.reader(text, delimiter=separator)
    try:
        headers = _headers(next(reader, None))
    except csv.Error as error:
        raise BadFile(gettext("The header row cannot be read: %(error)s", error=error)) from error
    if len(headers) == 1 and any(sep in headers[0] for sep in SEPARATORS if sep != separator):
        raise BadFile(
            gettext(
                "Only one column was found with separator %(sep)s; choose the file's separator.",
                sep=repr(separator),
            )
        )

    def rows() -> Iterator[list[str]]:
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield [_restored(cell) for cell in row]
        except csv.Error as error:
            raise BadFile(
                gettext(
                    "Line %(line)s cannot be read: %(error)s", line=reader.line_num, error=error
                )
            ) from error

    return Table("csv", headers, rows(), encoding=encoding, separator=separator)


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise BadFile(gettext("The XLSX file is damaged and cannot be opened.")) from error
    if "xl/workbook.xml" not in names:
        raise BadFile(
            gettext("The file is a ZIP archive but not an Excel workbook; upload CSV or XLSX.")
        )
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_UNPACK_RATIO * max(len(data), 1):
        raise BadFile(
            gettext(
                "The XLSX file unpacks to far more data than it holds (a ZIP bomb?); it is "
                "refused. Save it again or upload CSV."
            )
        )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    _check_zip(data)
    try:
        # data_only: a formula cell gives its cached value, never the formula's text
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for damaged files
        raise BadFile(gettext("The XLSX file is damaged and cannot be opened.")) from error
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    headers = _headers([_cell_text(v) for v in next(values, None) or ()])

    def rows() -> Iterator[list[str]]:
        try:
            for raw in values:
                row = [_restored(_cell_text(v)) for v in raw]
                if any(cell.strip() for cell in row):
                    yield row
        finally:
            book.close()

    return Table("xlsx", headers, rows())


def read_table(
    data: bytes, filename: str, *, encoding: str | None = None, separator: str | None = None
) -> Table:
    """The file's header row and rows; :class:`BadFile` when it cannot be imported."""
    if encoding and encoding not in ENCODINGS:
        raise BadFile(gettext("Unknown encoding %(name)s.", name=repr(encoding)))
    if separator and separator not in SEPARATORS:
        raise BadFile(gettext("Unknown separator %(sep)s.", sep=repr(separator)))
    if _kind(data, filename) == "xlsx":
        return _read_xlsx(data)
    return _read_csv(data, encoding, separator)
