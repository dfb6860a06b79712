"""The review of an uploaded file as a stored job (:class:`~custreg_admin.models.ImportRun`), for
the admin pages: rows are read as a stream, checked in batches of
:data:`~.validation.BATCH_ROWS`, and each batch's results are stored
(:class:`~custreg_admin.models.ImportRow`) and committed with the run's progress; the review page
pages through the stored rows and apply reads the stored plans in batches. Memory holds the
file, one batch of rows and plans (:mod:`.job_rows` spills them), and a hash of each
customer's key.

How it runs: :func:`start` checks a small file (under ``CUSTREG_IMPORT_INLINE_BYTES``) in the
request; a larger one in a thread started by the request (one process is enough: the job's
state, progress and results live in the database, not in the thread). The thread refreshes the
run's ``heartbeat_at`` after every batch; :func:`resume_if_stale` (called by every status poll
and every review page) restarts from the top a run whose heartbeat is older than
:data:`STALE_AFTER` (its process died or was restarted), claiming it with a compare-and-set so
that two polls start one thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import (
    delete,
    func,
    select,
    update,
)

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext
from ...models import ImportBatch, ImportRow, ImportRun
from ...models.history import utcnow
from . import job_rows, uploads
from .applying import apply_plans, refuse_errors
from .columns import apply_saved, auto_mapping, check_mapping, load_mapping
from .enrichment import Enricher
from .job_rows import RowStore
from .reading import read_table
from .validation import BATCH_ROWS, Options, RowResult, Validator

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=60)
DEFAULT_INLINE_BYTES = 200_000
_row = ImportRow.__table__
_run = ImportRun.__table__


# --- starting, resuming ---------------------------------------------------------------------


def find(user: Any, key: str) -> ImportRun | None:
    """The user's run of the upload ``key`` (another user's reads as none)."""
    run = db.session.scalar(select(ImportRun).where(ImportRun.key == key))
    if run is None or run.user_id != getattr(user, "id", None):
        return None
    return run


def start(user: Any, key: str, name: str, settings: dict[str, Any], *, inline: bool | None = None):
    """A new run of the upload ``key`` with ``settings`` (``mapping``: header -> field or None
    for the recognised ones, ``saved``: a saved mapping's name, ``options``, ``encoding``,
    ``separator``), replacing any earlier one. Checked here when ``inline`` (default: when the
    file is small), else in a thread. A file that cannot be read raises here, at once."""
    run_id, weight = _new_run(user, key, name, settings)
    limit = int(current_app.config.get("CUSTREG_IMPORT_INLINE_BYTES", DEFAULT_INLINE_BYTES))
    if inline if inline is not None else weight <= limit:
        validate_run(run_id)
    else:
        _thread(run_id)
    return db.session.get(ImportRun, run_id)


def _new_run(user: Any, key: str, name: str, settings: dict[str, Any]) -> tuple[int, int]:
    """The run's id, and the file's weight (its size; an XLSX's four times, being compressed).
    The file read here is let go before the rows are checked."""
    data, _ = uploads.load(user, key)
    table = read_table(
        data, name, encoding=settings.get("encoding"), separator=settings.get("separator")
    )
    settings = {**settings, "encoding": table.encoding, "separator": table.separator,
                "mapping": _mapping(settings, table.headers), "saved": None}  # fmt: skip
    old = select(ImportRun.id).where(ImportRun.key == key).scalar_subquery()
    db.session.execute(delete(ImportRow).where(ImportRow.run_id == old))
    db.session.execute(delete(ImportRun).where(ImportRun.key == key))
    run = ImportRun(key=key, user_id=getattr(user, "id", None), file_name=name[:255])
    run.settings, run.state, run.rows_done = settings, "running", 0
    run.summary = {"headers": table.headers, "kind": table.kind, "encoding": table.encoding,
                   "separator": table.separator, "mapping": settings["mapping"]}  # fmt: skip
    db.session.add(run)
    db.session.commit()
    return run.id, len(data) * (4 if data[:2] == b"PK" else 1)


def _thread(run_id: int) -> threading.Thread:
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def work() -> None:
        with app.app_context():
            try:
                validate_run(run_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"custreg-import-{run_id}", daemon=True)
    thread.start()
    return thread


def resume_if_stale(run: ImportRun) -> bool:
    """Restart ``run`` in a thread when it is running but its heartbeat is stale; True if so."""
    if run.state != "running" or utcnow() - run.heartbeat_at < STALE_AFTER:
        return False
    claimed = db.session.execute(
        update(_run)
        .where(_run.c.id == run.id, _run.c.heartbeat_at == run.heartbeat_at)
        .values(heartbeat_at=utcnow(), rows_done=0)
    ).rowcount
    db.session.commit()
    if claimed:
        log.warning("import run %s: stale since %s, restarted", run.id, run.heartbeat_at)
        _thread(run.id)
    return bool(claimed)


# --- the work ----------------------------------------------------------------------------------


def validate_run(run_id: int) -> None:
    """Check the run's file from the top, storing the rows batch by batch; the run ends
    ``done`` with its summary, or ``failed`` with the reason."""
    run = db.session.get(ImportRun, run_id)
    try:
        _validate(run)
    except Exception as error:
        db.session.rollback()
        log.exception("import run %s failed", run_id)
        message = str(error) if isinstance(error, DomainError) else type(error).__name__
        db.session.execute(
            update(_run).where(_run.c.id == run_id).values(state="failed", error=message)
        )
        db.session.commit()


def _mapping(settings: dict[str, Any], headers: list[str]) -> dict[str, str]:
    if settings.get("mapping") is not None:
        return check_mapping(headers, settings["mapping"])
    if settings.get("saved"):
        return check_mapping(headers, apply_saved(headers, load_mapping(settings["saved"])))
    return check_mapping(headers, auto_mapping(headers))


def _validate(run: ImportRun) -> None:
    settings = run.settings
    data, meta = uploads.load(SimpleNamespace(id=run.user_id), run.key)
    table = read_table(
        data, meta["name"], encoding=settings.get("encoding"), separator=settings.get("separator")
    )
    mapping = _mapping(settings, table.headers)
    options = Options(**settings.get("options", {}))
    enricher = Enricher() if options.enrich else None
    db.session.execute(delete(ImportRow).where(ImportRow.run_id == run.id))
    run.summary = {"headers": table.headers, "kind": table.kind, "encoding": table.encoding,
                   "separator": table.separator, "mapping": mapping}  # fmt: skip
    db.session.commit()
    store = RowStore(run.id)
    validator = Validator(table.headers, mapping, options, enricher, reopen=store.reopen)
    store.validator = validator
    batch: list[RowResult] = []
    done = 0
    for count, raw in enumerate(table.rows, start=1):
        batch.append(validator.row(count + 1, raw))
        if len(batch) == BATCH_ROWS:
            done += store.flush(batch)
            batch = []
    done += store.flush(batch)
    notes = enricher.review_notes() if enricher is not None else []
    new_settings = {k: sorted(v) for k, v in validator.new_settings.items()}
    db.session.execute(
        update(_run)
        .where(_run.c.id == run.id)
        .values(
            state="done", rows_done=done, heartbeat_at=utcnow(),
            summary={**run.summary, **job_rows.counts(run.id), "new_settings": new_settings,
                     "notes": notes},
        )
    )  # fmt: skip
    db.session.commit()


# --- reading back -------------------------------------------------------------------------------


def rows_page(run: ImportRun, page: int, size: int, *, errors_only: bool = False):
    """One page of the stored rows, in file order; and how many rows there are."""
    where = [ImportRow.run_id == run.id]
    if errors_only:
        where.append(ImportRow.has_errors.is_(True))
    total = db.session.scalar(select(func.count()).select_from(ImportRow).where(*where))
    rows = db.session.scalars(
        select(ImportRow).where(*where).order_by(ImportRow.line).offset(page * size).limit(size)
    ).all()
    return rows, total


def error_rows(run: ImportRun) -> Iterator[ImportRow]:
    """The stored rows with errors, in file order, a batch at a time."""
    last = 0
    while True:
        batch = db.session.scalars(
            select(ImportRow)
            .where(
                ImportRow.run_id == run.id, ImportRow.has_errors.is_(True), ImportRow.line > last
            )
            .order_by(ImportRow.line)
            .limit(BATCH_ROWS)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].line
        db.session.expunge_all()


def apply_run(user: Any, run: ImportRun, *, skip_errors: bool) -> ImportBatch:
    """Apply a finished run's stored plans, a batch at a time, in one transaction."""
    if run.state != "done":
        raise DomainError(gettext("The rows are still being checked; import when it is done."))
    summary = run.summary
    refuse_errors(summary.get("error_rows", 0), skip_errors)
    taken = set(
        db.session.scalars(
            select(_row.c.number).where(_row.c.run_id == run.id, _row.c.number.is_not(None))
        )
    )
    skipped = db.session.scalar(
        select(func.count())
        .select_from(_row)
        .where(_row.c.run_id == run.id, _row.c.action.in_(("skip", "error")))
    )
    return apply_plans(
        user,
        lambda: job_rows.plan_batches(run.id, BATCH_ROWS),
        summary.get("new_settings", {}),
        file_name=run.file_name,
        skipped=skipped,
        taken=taken,
        default_country=current_app.config.get("CUSTREG_DEFAULT_COUNTRY", "FI"),
    )
