"""Settings > Data imports > Customer import: upload, mapping, dry-run review, apply, undo.

Thin: reading, mapping, checking, applying and undoing are
:mod:`custreg_admin.services.imports`. The uploaded file waits in the instance folder under a
random key bound to the user (``imports/<key>``) between the steps; each review reads it again.
Who may use the page is the access matrix's question (``create`` of a customer import: admins
and managers, plain users never).
"""

from __future__ import annotations

import io

from flask import abort, flash, jsonify, redirect, request, send_file, url_for
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

    # --- the uploaded file and its stored review ------------------------------------------

    def _load(self, key: str) -> tuple[bytes, dict]:
        try:
            return imports.uploads.load(current_custreg_user(), key)
        except imports.uploads.UploadMissing:
            abort(404)

    def _run(self, key: str, values, *, restart: bool):
        """The upload's stored review: started (or restarted when the form's choices differ
        from the run's) when ``restart``; a stale one resumed."""
        user = current_custreg_user()
        _, meta = self._load(key)
        run = imports.jobs.find(user, key)
        if restart or run is None:
            headers = (run.summary.get("headers") if run is not None else None) or []
            settings = _settings(values, headers)
            if run is not None and settings["mapping"] is None and not settings["saved"]:
                settings["mapping"] = run.settings.get("mapping")  # as checked before
            if run is None or not _same_check(settings, run.settings):
                return imports.jobs.start(user, key, meta["name"], settings)
        elif imports.jobs.resume_if_stale(run):
            db.session.refresh(run)
        return run

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
        posted = request.method == "POST"
        try:
            run = self._run(key, values, restart=posted or "mapped" in values or "saved" in values)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index"))
        if posted and values.get("save_mapping") and run.summary.get("mapping"):
            imports.save_mapping(
                current_custreg_user(), values["save_mapping"], run.summary["mapping"]
            )
            flash(gettext("Mapping saved."), "success")
        if posted and values.get("apply") == "1":
            try:
                batch = imports.jobs.apply_run(
                    current_custreg_user(), run, skip_errors=values.get("skip_errors") == "1"
                )
            except DomainError as error:
                flash(str(error), "error")
            else:
                flash(gettext("Import #%(id)s applied.", id=batch.id), "success")
                return redirect(url_for(".batch", batch_id=batch.id))
        if posted:
            return redirect(url_for(".review", key=key, skip_errors=values.get("skip_errors")))
        page = max(0, request.args.get("page", 0, type=int) or 0)
        errors_only = values.get("errors_only") == "1"
        rows, total = imports.jobs.rows_page(run, page, PAGE_SIZE, errors_only=errors_only)
        return self.render(
            "custreg_admin/imports/review.html",
            key=key,
            run=run,
            table=_TableView(run.summary),
            review=_ReviewView(run),
            rows=rows,
            page=page,
            pages=page_count(total, PAGE_SIZE),
            fields=list(imports.FIELDS),
            extra_fields=[imports.FIELD_BY_KEY["contact_name"]],
            values=values,
            mappings=imports.saved_mappings(),
        )

    @expose("/review/<key>/status.json")
    def status(self, key: str):
        run = self._run(key, request.values, restart=False)
        return jsonify(
            state=run.state,
            rows_done=run.rows_done,
            message=gettext("Checking the rows: %(num)s so far…", num=run.rows_done),
        )

    @expose("/review/<key>/errors.<fmt>", methods=["POST"])
    def errors(self, key: str, fmt: str):
        run = self._run(key, request.values, restart=False)
        if run.state != "done":
            flash(gettext("The rows are still being checked; import when it is done."), "error")
            return redirect(url_for(".review", key=key))
        headers = run.summary.get("headers", [])
        stem = run.file_name.rsplit(".", 1)[0]
        rows = imports.jobs.error_rows(run)
        if fmt == "xlsx":
            body = imports.errors_xlsx(headers, rows)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body = imports.errors_csv(headers, rows, run.summary.get("separator") or ";")
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


def _settings(values, headers: list[str]) -> dict:
    """The review's choices from the form (a mapping by column position, or a saved mapping's
    name; none: the headers recognised)."""
    options = _options(values)
    settings = {
        "encoding": values.get("encoding") or None,
        "separator": {"tab": "\t"}.get(values.get("separator"), values.get("separator") or None),
        "options": {"update_existing": options.update_existing,
                    "create_settings": options.create_settings, "enrich": options.enrich},
        "mapping": None,
        "saved": values.get("saved") or None,
    }  # fmt: skip
    if values.get("mapped") == "1" and headers:
        settings["mapping"] = {h: values.get(f"map_{i}", "") for i, h in enumerate(headers)}
    return settings


def _same_check(wanted: dict, current: dict) -> bool:
    """The run already checks the file as ``wanted`` (read, mapped and with the same options)."""
    keys = ("encoding", "separator", "options", "mapping")
    return not wanted.get("saved") and all(wanted.get(k) == current.get(k) for k in keys)


class _TableView:
    """What the review page shows of the file as read."""

    def __init__(self, summary: dict) -> None:
        self.kind = summary.get("kind")
        self.encoding = summary.get("encoding")
        self.separator = summary.get("separator")
        self.headers = summary.get("headers", [])


class _ReviewView:
    """The run's summary under the names the review page uses."""

    def __init__(self, run) -> None:
        summary, settings = run.summary, run.settings
        self.done = run.state == "done"
        self.mapping = summary.get("mapping", {})
        skip = request.values.get("skip_errors") == "1"
        self.options = imports.Options(**settings.get("options", {}), skip_errors=skip)
        for name in ("new_customers", "updated_customers", "skipped_rows", "error_rows"):
            setattr(self, name, summary.get(name, 0))
        self.new_settings = summary.get("new_settings", {})
        self.new_settings_text = "; ".join(
            f"{kind}: {', '.join(names)}" for kind, names in sorted(self.new_settings.items())
        )
        self.notes = summary.get("notes", [])
