"""The review in words: the command line's table and summary, and the errors file (the same
file with an error column, to fix and upload again)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext
from ...models import User
from .columns import FIELD_BY_KEY
from .reading import Table
from .validation import Review, RowResult

ACTION_LABELS = {
    "new": "new",
    "update": "update",
    "unchanged": "unchanged",
    "skip": "skipped (matched; updates not approved)",
    "error": "error",
    "add": "adds to the row above",
}


def field_label(name: str) -> str:
    found = FIELD_BY_KEY.get(name)
    return str(found.label) if found is not None else (name or gettext("Row"))


def row_errors(row: RowResult | Any) -> str:
    return "; ".join(f"{field_label(k)}: {v}" for k, v in row.errors.items())


def review_lines(table: Table, review: Review) -> Iterator[str]:
    """The CLI's review: what was detected, a table of the rows, the summary."""
    if table.kind == "csv":
        yield f"File: CSV, encoding {table.encoding}, separator {table.separator!r}"
    else:
        yield "File: XLSX"
    mapped = ", ".join(f"{h} -> {v or '(ignored)'}" for h, v in review.mapping.items())
    yield f"Columns: {mapped}"
    yield f"{'Row':>6}  {'Action':<10}  {'Customer':<30}  Errors / changes"
    for row in review.rows:
        name = (row.customer or (row.raw[0] if row.raw else ""))[:30]
        detail = row_errors(row) or ", ".join(f"{k}: {b!r} -> {a!r}" for k, b, a in row.changes)
        notes = " ".join(row.notes)
        yield f"{row.line:>6}  {row.action:<10}  {name:<30}  {detail} {notes}".rstrip()
    settings = ", ".join(
        f"{kind}: {', '.join(sorted(names))}" for kind, names in sorted(review.new_settings.items())
    )
    yield (
        f"Summary: {review.new_customers} new customers, {review.updated_customers} updated, "
        f"{review.skipped_rows} rows skipped, {review.error_rows} rows with errors; "
        f"new settings values: {settings or 'none'}"
    )
    yield from review.notes


def errors_csv(table_headers: list[str], rows: Iterable[Any], separator: str = ";") -> bytes:
    """The rows with errors as the file had them, plus an error column (``rows``: a review's
    rows or the stored ones, each with ``raw`` and ``errors``)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=separator)
    writer.writerow([*table_headers, gettext("Errors")])
    for row in rows:
        if row.errors:
            writer.writerow([*_safe(row.raw), row_errors(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def errors_xlsx(table_headers: list[str], rows: Iterable[Any]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(gettext("Errors"))
    sheet.append([*table_headers, gettext("Errors")])
    for row in rows:
        if row.errors:
            sheet.append([*_safe(row.raw), row_errors(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(cells: list[Any]) -> list[str]:
    """Cells that a spreadsheet would read as a formula, neutralised."""
    return [
        ("'" + c) if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c
        for c in cells
    ]


def cli_user(email: str | None) -> User | None:
    """The user a command-line import is recorded for; None: the system."""
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise DomainError(gettext("No user has the e-mail %(value)s.", value=email))
    return user
