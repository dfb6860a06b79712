"""A report definition as a request gives it (the query string of a preview, its paging and
download links, or the builder's form): see :mod:`custreg_admin.admin.reports`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import current_language, gettext
from ..models import SavedReport
from ..services.reports import REPORT_TYPES, InvalidReport, ReportSpec, default_delimiter, make_spec
from ..services.reports import saved as saved_service


@dataclass(frozen=True)
class Definition:
    """A report as the request gives it: the spec, the CSV delimiter, the saved report."""

    spec: ReportSpec
    delimiter: str
    saved: SavedReport | None

    def params(self, **extra: Any) -> dict[str, Any]:
        """Query-string arguments that give this report back (see the module docs)."""
        spec = self.spec
        params: dict[str, Any] = {
            "type": spec.report_type,
            "columns": list(spec.columns),
            "sort": spec.sort,
            "desc": "1" if spec.descending else None,
            "delimiter": self.delimiter,
        }
        params.update({f"f_{key}": value for key, value in spec.filter_strings().items()})
        if self.saved is not None:
            params["report"] = self.saved.id
        params.update(extra)
        return {key: value for key, value in params.items() if value is not None}

    @property
    def modified(self) -> bool:
        """Differs from the saved report it was opened from."""
        if self.saved is None:
            return False
        stored = saved_service.spec_of(self.saved, self.spec.viewer, self.spec.today)
        return (
            stored.report_type,
            stored.columns,
            dict(stored.filters),
            stored.sort_key,
            self.saved.csv_delimiter or self.delimiter,
        ) != (
            self.spec.report_type,
            self.spec.columns,
            dict(self.spec.filters),
            self.spec.sort_key,
            self.delimiter,
        )


def user_locale() -> str | None:
    """The viewer's UI language (profile, browser, default: see :mod:`custreg_admin.i18n`)."""
    return current_language()


def definition_from(values, viewer: Any, *, columns: list[str] | None = None) -> Definition:
    """Read a report definition from request values (query string or form).

    Raises :class:`InvalidReport` for what does not make a report, and
    :class:`~custreg_admin.services.reports.saved.ReportNotFound` for a saved report the viewer
    may not read.
    """
    saved = None
    if values.get("report"):
        saved = saved_service.readable_report(values.get("report"), viewer)
    if saved is not None and "type" not in values:
        spec = saved_service.spec_of(saved, viewer)
        delimiter = saved.csv_delimiter
    else:
        type_id = values.get("type") or "customers"
        kind = REPORT_TYPES.get(type_id)
        if kind is None:
            raise InvalidReport(gettext("There is no report type %(type)s.", type=repr(type_id)))
        filters = {
            item.id: values.get(f"f_{item.id}") for item in kind.filters if f"f_{item.id}" in values
        }
        sort = values.get("sort") or None
        if sort and values.get("desc") == "1":
            sort = f"-{sort}"
        spec = make_spec(
            type_id,
            values.getlist("columns") if columns is None else columns,
            filters,
            sort,
            viewer=viewer,
        )
        delimiter = values.get("delimiter")
    if delimiter not in (";", ","):
        delimiter = default_delimiter(user_locale())
    return Definition(spec=spec, delimiter=delimiter, saved=saved)


def moved_columns(columns: list[str], move: str) -> list[str]:
    """Apply an up/down/remove button of the column list (the no-JavaScript path)."""
    what, _, column_id = move.partition(":")
    if column_id not in columns:
        return columns
    columns = list(columns)
    index = columns.index(column_id)
    if what == "remove":
        del columns[index]
    elif what == "up" and index > 0:
        columns[index - 1], columns[index] = columns[index], columns[index - 1]
    elif what == "down" and index < len(columns) - 1:
        columns[index + 1], columns[index] = columns[index], columns[index + 1]
    return columns
