"""Reports > Report creation > Customers: the report list, the builder, downloads.

Thin: requests are parsed into a :class:`~custreg_admin.services.reports.ReportSpec` here, the
services build and run the SQL (:mod:`~custreg_admin.services.reports`), keep saved reports
(:mod:`~custreg_admin.services.reports.saved`) and write the files
(:mod:`~custreg_admin.services.reports.export`).

A report definition travels in the query string, so a preview page, its paging links and its
download links all describe the same report: ``type``, ``columns`` (repeated, in order),
``f_<filter id>``, ``sort`` and ``desc=1``, ``delimiter``, and ``report`` (a saved report's id;
alone it loads that report's definition). :func:`definition_from` reads them back.

Hook for mass updates: when an endpoint named :attr:`ReportView.mass_update_endpoint` exists,
the preview of a Customers report gets a checkbox per row and posts to it ``customer_ids`` (the
ticked customers), ``all_matching=1`` when the user chose every matching row, and ``report_query``
(the report's query string). That view rebuilds the report with :func:`definition_from` on
``werkzeug.urls.url_decode(report_query)`` and takes
:func:`custreg_admin.services.reports.customer_ids` of its spec as the "all matching" selection.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_admin import expose

from ..context import current_custreg_user
from ..errors import DomainError, PermissionDenied
from ..i18n import gettext, lazy_gettext
from ..rules.request_ids import page_count
from ..services.reports import (
    REPORT_TYPES,
    InvalidReport,
    count_rows,
    filter_choices,
    page,
    stream_batches,
)
from ..services.reports import saved as saved_service
from ..services.reports.export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    content_disposition,
    csv_batch_chunks,
    export_filename,
)
from ..services.reports.xlsx import xlsx_batch_chunks
from .base import ProtectedView
from .fields import country_name
from .formatting import amount, date, number
from .report_definition import Definition, definition_from, moved_columns

PAGE_SIZES = (20, 50, 100)
#: The download formats: path part -> file extension. ``csv`` is for spreadsheets (the formula
#: guard puts a ``'`` before values such as ``+358 40 ...``); ``csv-import`` is for import into
#: another system (every value as it is stored).
DOWNLOAD_FORMATS = {"xlsx": "xlsx", "csv": "csv", "csv-import": "csv"}
AREA = lazy_gettext("Customers")  # Reports > Report creation > Customers


def _primed(rows):
    """Start the query now (errors become a proper error response), stream the rest later."""
    rows = iter(rows)
    first = next(rows, None)
    return rows if first is None else itertools.chain((first,), rows)


class ReportView(ProtectedView):
    """Reports > Report creation: report list, builder with preview, downloads."""

    #: endpoint of the mass update's entry from a report; the preview offers row selection
    #: when it exists (see the module docs)
    mass_update_endpoint = "custreg_mass_update.from_report"

    # --- pages ------------------------------------------------------------------------------

    @expose("/")
    def index(self):
        mine, shared = saved_service.reports_for(current_custreg_user())
        return self.render(
            "custreg_admin/reports/index.html",
            area=AREA,
            mine=mine,
            shared=shared,
            report_types=REPORT_TYPES,
            column_labels=saved_service.column_labels,
        )

    @expose("/build/", methods=("GET", "POST"))
    def build_view(self):
        if request.method == "POST":
            return self._build_post()
        try:
            definition = definition_from(request.args, current_custreg_user())
        except saved_service.ReportNotFound:
            abort(404)
        except InvalidReport as error:
            flash(f"{error} {gettext('The report was reset.')}", "error")
            return redirect(self.get_url(".build_view", type=_known_type(request.args)))
        return self._render_builder(definition)

    @expose("/download/<fmt>/")
    def download_view(self, fmt: str):
        if fmt not in DOWNLOAD_FORMATS:
            abort(404)
        try:
            definition = definition_from(request.args, current_custreg_user())
        except saved_service.ReportNotFound:
            abort(404)
        except InvalidReport as error:
            abort(400, description=str(error))
        spec = definition.spec
        name = definition.saved.name if definition.saved is not None else str(spec.type.label)
        filename = export_filename(name, spec.today, DOWNLOAD_FORMATS[fmt])
        headers = {
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        columns = spec.column_defs
        # both stream while they are written: rows in a session of their own (the body outlives
        # the request's), the request context kept for the viewer's language
        batches = _primed(stream_batches(spec))
        if fmt == "xlsx":
            chunks = xlsx_batch_chunks(batches, columns, sheet_name=name)
            return Response(stream_with_context(chunks), mimetype=XLSX_MEDIA_TYPE, headers=headers)
        chunks = csv_batch_chunks(
            batches, columns, delimiter=definition.delimiter, guard=fmt == "csv"
        )
        return Response(stream_with_context(chunks), mimetype=CSV_MEDIA_TYPE, headers=headers)

    @expose("/saved/<int:report_id>/<action>/", methods=("POST",))
    def saved_action_view(self, report_id: int, action: str):
        viewer = current_custreg_user()
        back = self.get_url(".index")
        try:
            if action == "rename":
                report = saved_service.rename_report(viewer, report_id, request.form.get("name"))
                flash(gettext("Report renamed to %(name)s.", name=repr(report.name)), "success")
            elif action == "copy":
                report = saved_service.copy_report(viewer, report_id, request.form.get("name"))
                flash(gettext("Copied to your report %(name)s.", name=repr(report.name)), "success")
                back = self.get_url(".build_view", report=report.id)
            elif action in ("share", "unshare"):
                report = saved_service.set_shared(viewer, report_id, action == "share")
                flash(
                    gettext("Report %(name)s is now shared with everyone.", name=repr(report.name))
                    if report.is_shared
                    else gettext("Report %(name)s is now yours only.", name=repr(report.name)),
                    "success",
                )
            elif action == "delete":
                name = saved_service.delete_report(viewer, report_id)
                flash(gettext("Report %(name)s deleted.", name=repr(name)), "success")
            else:
                abort(404)
        except saved_service.ReportNotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
        except DomainError as error:
            flash(str(error), "error")
        return redirect(back)

    # --- the builder ------------------------------------------------------------------------

    def _build_post(self):
        form = request.form
        viewer = current_custreg_user()
        columns = list(dict.fromkeys(form.getlist("columns") + form.getlist("add_columns")))
        if form.get("move"):
            columns = moved_columns(columns, form["move"])
        try:
            definition = definition_from(form, viewer, columns=columns)
        except saved_service.ReportNotFound:
            abort(404)
        except InvalidReport as error:
            flash(str(error), "error")
            return redirect(self.get_url(".build_view", type=_known_type(form)))

        action = form.get("action", "preview")
        saved = definition.saved
        try:
            if action == "save" and saved is not None:
                saved = saved_service.update_report(
                    viewer, saved.id, definition.spec, delimiter=definition.delimiter
                )
                flash(gettext("Report %(name)s saved.", name=repr(saved.name)), "success")
                return redirect(self.get_url(".build_view", report=saved.id))
            if action in ("save", "save_as"):
                name = form.get("name" if action == "save" else "new_name")
                saved = saved_service.create_report(
                    viewer, name, definition.spec, delimiter=definition.delimiter
                )
                flash(
                    gettext("Report %(name)s saved to your reports.", name=repr(saved.name)),
                    "success",
                )
                return redirect(self.get_url(".build_view", report=saved.id))
        except saved_service.ReportNotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
        except DomainError as error:
            flash(str(error), "error")
        page_size = form.get("page_size", type=int)
        extra = {"page_size": page_size if page_size in PAGE_SIZES else None}
        return redirect(self.get_url(".build_view", **definition.params(**extra)))

    def _mass_update_url(self, definition: Definition) -> str | None:
        endpoint = self.mass_update_endpoint
        if definition.spec.report_type != "customers" or not endpoint:
            return None
        if endpoint not in current_app.view_functions:
            return None
        return url_for(endpoint)

    def _render_builder(self, definition: Definition):
        spec = definition.spec
        kind = spec.type
        page_size = request.args.get("page_size", type=int)
        page_size = page_size if page_size in PAGE_SIZES else PAGE_SIZES[0]
        total = count_rows(spec)
        pages = page_count(total, page_size)
        page_no = min(max(request.args.get("page", 1, type=int), 1), pages)
        mass_update_url = self._mass_update_url(definition)
        rows = page(spec, page_no, page_size, with_customer_ids=mass_update_url is not None)

        choices = filter_choices(kind.id)
        if "country" in choices:
            choices["country"] = [(code, country_name(code)) for code, _ in choices["country"]]
        params = definition.params()
        if page_size != PAGE_SIZES[0]:
            params["page_size"] = page_size

        def url(**changes: Any) -> str:
            merged = {**params, **changes}
            return self.get_url(".build_view", **{k: v for k, v in merged.items() if v is not None})

        def sort_url(column_id: str) -> str:
            descending = column_id == spec.sort and not spec.descending
            return url(sort=column_id, desc="1" if descending else None, page=None)

        saved = definition.saved
        viewer_id = getattr(current_custreg_user(), "id", None)
        return self.render(
            "custreg_admin/reports/builder.html",
            area=AREA,
            kind=kind,
            report_types=REPORT_TYPES,
            spec=spec,
            definition=definition,
            saved=saved,
            is_owner=saved is not None and saved.owner_id == viewer_id,
            modified=definition.modified,
            selected=spec.column_defs,
            available=[
                (group, [c for c in columns if c.id not in spec.columns])
                for group, columns in kind.groups
            ],
            choices=choices,
            rows=rows,
            total=total,
            total_label=kind.count_text(total, number(total)),
            page_no=page_no,
            pages=pages,
            page_size=page_size,
            page_sizes=PAGE_SIZES,
            url=url,
            sort_url=sort_url,
            download_urls={
                fmt: self.get_url(".download_view", fmt=fmt, **definition.params())
                for fmt in DOWNLOAD_FORMATS
            },
            mass_update_url=mass_update_url,
            report_query=urlencode(definition.params(), doseq=True),
            format_cell=format_cell,
        )


def _known_type(values) -> str:
    type_id = values.get("type")
    return type_id if type_id in REPORT_TYPES else "customers"


def format_cell(value: Any, kind: str) -> str:
    """A preview cell in the viewer's locale: money with two decimals and dates as the locale
    writes them (whole numbers, such as customer numbers, as they are)."""
    if value is None:
        return ""
    if kind == "money":
        return amount(value)
    if kind == "bool":
        return gettext("Yes") if value else gettext("No")
    if kind == "date":
        return date(value)
    return str(value)
