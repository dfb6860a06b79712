"""Settings > Data imports > Customer import: upload, mapping, dry-run review, apply, undo.

Thin: reading, mapping, checking, applying and undoing are
:mod:`custreg_admin.services.imports`. The uploaded file waits in the instance folder under a
random key bound to the user (``imports/<key>``) between the steps; each review reads it again.
Who may use the page is the access matrix's question (``create`` of a customer import: admins
and managers, plain users never).
"""

from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose

from ..context import current_custreg_user
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext
from ..models import ImportBatch
from ..rules import access
from ..rules.request_ids import page_count
from ..services import imports
from .base import ProtectedView, custreg_unauthorized

PAGE_SIZE = 50
MAX_UPLOADS_KEPT = 100


def _options(values) -> imports.Options:
    return imports.Options(
        update_existing=values.get("update_existing") == "1",
        create_settings=values.get("create_settings") == "1",
        skip_errors=values.get("skip_errors") == "1",
        enrich=values.get("enrich") == "1",
    )


class ImportView(ProtectedView):
    allowed_roles = ("admin", "manager")

    def is_accessible(self) -> bool:
        return super().is_accessible() and bool(
            access.may(current_custreg_user(), "create", ImportBatch)
        )

    def inaccessible_callback(self, name, **kwargs):
        return custreg_unauthorized()

    # --- the uploaded file ---------------------------------------------------------------

    def _load(self, key: str) -> tuple[bytes, dict]:
        try:
            return imports.uploads.load(current_custreg_user(), key)
        except imports.uploads.UploadMissing:
            abort(404)

    def _review(self, key: str, values):
        data, meta = self._load(key)
        encoding = values.get("encoding") or None
        separator = {"tab": "\t"}.get(values.get("separator"), values.get("separator") or None)
        table = imports.read_table(data, meta["name"], encoding=encoding, separator=separator)
        if values.get("mapped") == "1":
            mapping = {h: values.get(f"map_{i}", "") for i, h in enumerate(table.headers)}
        elif values.get("saved"):
            mapping = imports.apply_saved(table.headers, imports.load_mapping(values["saved"]))
        else:
            mapping = imports.auto_mapping(table.headers)
        mapping = imports.check_mapping(table.headers, mapping)
        review = imports.check(table, mapping, _options(values))
        return meta, table, review

    # --- pages -----------------------------------------------------------------------------

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "POST":
            upload = request.files.get("file")
            data = upload.read() if upload else b""
            name = (upload.filename if upload else "") or "upload"
            try:
                imports.read_table(data, name)  # refuse what cannot be read, at once
            except DomainError as error:
                flash(str(error), "error")
                return redirect(url_for(".index"))
            key = imports.uploads.store(current_custreg_user(), name, data)
            return redirect(url_for(".review", key=key))
        batches = imports.recent_batches()
        return self.render(
            "custreg_admin/imports/index.html",
            batches=batches,
            mappings=imports.saved_mappings(),
        )

    @expose("/template.<fmt>")
    def template(self, fmt: str):
        if fmt == "xlsx":
            body, mime = (
                imports.template_xlsx(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        elif fmt == "csv":
            body, mime = imports.template_csv(), "text/csv; charset=utf-8"
        else:
            abort(404)
        name = gettext("customer-import-template") + f".{fmt}"
        return send_file(_bytes(body), mimetype=mime, as_attachment=True, download_name=name)

    @expose("/review/<key>/", methods=["GET", "POST"])
    def review(self, key: str):
        values = request.values
        try:
            meta, table, review = self._review(key, values)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index"))
        if request.method == "POST" and values.get("save_mapping"):
            imports.save_mapping(current_custreg_user(), values["save_mapping"], review.mapping)
            flash(gettext("Mapping saved."), "success")
        if request.method == "POST" and values.get("apply") == "1":
            try:
                batch = imports.apply(current_custreg_user(), review, file_name=meta["name"])
            except DomainError as error:
                flash(str(error), "error")
            else:
                flash(gettext("Import #%(id)s applied.", id=batch.id), "success")
                return redirect(url_for(".batch", batch_id=batch.id))
        page = max(0, request.args.get("page", 0, type=int) or 0)
        errors_only = values.get("errors_only") == "1"
        rows = [r for r in review.rows if r.errors] if errors_only else review.rows
        return self.render(
            "custreg_admin/imports/review.html",
            key=key,
            meta=meta,
            table=table,
            review=review,
            rows=rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE],
            page=page,
            pages=page_count(len(rows), PAGE_SIZE),
            fields=list(imports.FIELDS),
            extra_fields=[imports.FIELD_BY_KEY["contact_name"]],
            values=values,
            row_errors=imports.report.row_errors,
            mappings=imports.saved_mappings(),
        )

    @expose("/review/<key>/errors.<fmt>", methods=["POST"])
    def errors(self, key: str, fmt: str):
        try:
            meta, table, review = self._review(key, request.values)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index"))
        stem = meta["name"].rsplit(".", 1)[0]
        if fmt == "xlsx":
            body = imports.errors_xlsx(table.headers, review)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body = imports.errors_csv(table.headers, review, table.separator or ";")
            mime = "text/csv; charset=utf-8"
        name = f"{stem}-{gettext('errors')}.{fmt}"
        return send_file(_bytes(body), mimetype=mime, as_attachment=True, download_name=name)

    @expose("/batch/<int:batch_id>/", methods=["GET", "POST"])
    def batch(self, batch_id: int):
        batch = db.session.get(ImportBatch, batch_id) or abort(404)
        if request.method == "POST":
            try:
                imports.undo(current_custreg_user(), batch_id)
                flash(gettext("Import #%(id)s undone.", id=batch_id), "success")
            except DomainError as error:
                flash(str(error), "error")
            return redirect(url_for(".batch", batch_id=batch_id))
        changes = imports.batch_changes(batch_id)
        return self.render(
            "custreg_admin/imports/batch.html",
            batch=batch,
            changes=changes,
            may_undo=batch.undone_at is None
            and bool(access.may(current_custreg_user(), "edit", ImportBatch)),
        )


def _bytes(body: bytes) -> io.BytesIO:
    return io.BytesIO(body)
