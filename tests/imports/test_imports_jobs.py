"""The admin page's review as a stored job (services.imports.jobs): rows checked in batches and
stored, outcomes settled onto stored rows, a background run, a stale run restarted, the status
endpoint, apply from the stored plans."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from custreg_admin.extensions import db
from custreg_admin.models import Contact, Customer, ImportRow, ImportRun
from custreg_admin.models.history import utcnow
from custreg_admin.services import imports
from custreg_admin.services.imports import ImportRefused, jobs, uploads

from .. import builders as b
from ..helpers import IMPORTS_URL, upload_import

BASE = IMPORTS_URL


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _settings(**options) -> dict:
    return {"options": options}


def _join(run_id: int) -> None:
    for thread in threading.enumerate():
        if thread.name == f"custreg-import-{run_id}":
            thread.join(timeout=60)


def _rows(run_id: int) -> list[ImportRow]:
    return db.session.scalars(
        select(ImportRow).where(ImportRow.run_id == run_id).order_by(ImportRow.line)
    ).all()


FILE = _csv(
    "Name;Business ID;Phone;Contact last name",
    "Alpha Oy;0112038-9;09 1;Aalto",
    "Beta Oy;2617416-4;09 2;Berg",
    "Gamma Oy;123;09 3;",
    "Delta Oy;;09 4;",
    "Alpha Oy;0112038-9;09 999;Aho",
)


def test_rows_are_stored_batch_by_batch_and_a_later_row_settles_an_earlier_one(
    ctx, make_user, monkeypatch
):
    monkeypatch.setattr(jobs, "BATCH_ROWS", 2)
    user = make_user("admin")
    key = uploads.store(user, "f.csv", FILE)
    run = jobs.start(user, key, "f.csv", _settings(), inline=True)
    assert run.state == "done" and run.rows_done == 5
    summary = run.summary
    assert (summary["new_customers"], summary["error_rows"], summary["rows"]) == (2, 3, 5)
    rows = _rows(run.id)
    assert [r.line for r in rows] == [2, 3, 4, 5, 6]
    assert [r.action for r in rows] == ["error", "new", "error", "new", "error"]
    # row 6 gives Alpha another phone: its error, and Alpha's first row (stored two batches
    # earlier) is an error too, with the reason
    assert "Duplicate within the file" in rows[4].errors["phone"]
    assert rows[0].errors == {"": "Another row of this customer has errors."}
    assert "business_id" in rows[2].errors
    page, total = jobs.rows_page(run, 1, 2)
    assert total == 5 and [r.line for r in page] == [4, 5]
    page, total = jobs.rows_page(run, 0, 50, errors_only=True)
    assert total == 3 and [r.line for r in page] == [2, 4, 6]
    assert [r.line for r in jobs.error_rows(run)] == [2, 4, 6]


def test_a_large_file_is_checked_in_a_thread_and_applied_from_the_stored_plans(
    ctx, make_user, monkeypatch
):
    monkeypatch.setattr(jobs, "BATCH_ROWS", 2)
    user = make_user("admin")
    existing = b.customer("Beta Oy", business_id="2617416-4")
    db.session.commit()
    existing_id = existing.id
    key = uploads.store(user, "f.csv", FILE)
    run = jobs.start(user, key, "f.csv", _settings(update_existing=True), inline=False)
    _join(run.id)
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.state == "done", run.error
    assert (run.summary["new_customers"], run.summary["updated_customers"]) == (1, 1)
    beta = _rows(run.id)[1]
    assert beta.action == "update" and beta.customer is not None
    assert beta.changes == [["phone", "", "09 2"]]

    with pytest.raises(ImportRefused, match="3 rows have errors"):
        jobs.apply_run(user, run, skip_errors=False)
    batch = jobs.apply_run(user, run, skip_errors=True)
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (1, 1, 3)
    names = set(db.session.scalars(select(Customer.name)))
    assert names == {"Beta Oy", "Delta Oy"}
    assert db.session.get(Customer, existing_id).phone == "09 2"
    assert db.session.scalar(select(Contact.last_name)) == "Berg"
    imports.undo(user, batch.id)
    assert set(db.session.scalars(select(Customer.name))) == {"Beta Oy"}


def test_a_stale_run_is_restarted_once(ctx, make_user):
    user = make_user("admin")
    key = uploads.store(user, "f.csv", FILE)
    run = jobs.start(user, key, "f.csv", _settings(), inline=True)
    assert jobs.resume_if_stale(run) is False  # done
    db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id)
        .values(state="running", rows_done=3, heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    db.session.refresh(run)
    assert jobs.resume_if_stale(run) is True
    assert jobs.resume_if_stale(run) is False  # claimed: the first restart owns it
    _join(run.id)
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.state == "done" and run.rows_done == 5
    assert db.session.scalar(select(func.count()).where(ImportRow.run_id == run.id)) == 5


def test_the_review_page_shows_progress_until_done_and_the_status_says_so(
    app, admin_client, monkeypatch
):
    response = upload_import(admin_client, FILE)
    review_url = response.headers["Location"]
    # a check that never finishes (its thread started but not yet run): the page answers
    monkeypatch.setattr(jobs, "_thread", lambda run_id: None)
    app.config["CUSTREG_IMPORT_INLINE_BYTES"] = 0
    page = admin_client.get(review_url).get_data(as_text=True)
    assert 'data-testid="progress"' in page and "Checking the rows: 0 so far" in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript
    assert 'data-testid="counts"' not in page
    status = admin_client.get(review_url + "status.json").get_json()
    assert status["state"] == "running" and status["rows_done"] == 0
    with app.app_context():
        run_id = db.session.scalar(select(ImportRun.id))
        jobs.validate_run(run_id)
    status = admin_client.get(review_url + "status.json").get_json()
    assert status == {**status, "state": "done", "rows_done": 5}
    page = admin_client.get(review_url).get_data(as_text=True)
    assert 'data-testid="progress"' not in page and "Rows with errors: 3" in page
    page = admin_client.get(review_url + "?page=0&errors_only=1").get_data(as_text=True)
    assert "Gamma Oy" in page and "Delta Oy" not in page


def test_the_review_pages_through_the_stored_rows(app, admin_client, monkeypatch):
    monkeypatch.setattr("custreg_admin.admin.imports.PAGE_SIZE", 2)
    response = upload_import(admin_client, FILE)
    review_url = response.headers["Location"]
    first = admin_client.get(review_url).get_data(as_text=True)
    assert "Alpha Oy" in first and "Beta Oy" in first and "Gamma Oy" not in first
    assert "Page 1 of 3" in first
    second = admin_client.get(review_url + "?page=1").get_data(as_text=True)
    assert "Gamma Oy" in second and "Delta Oy" in second and "Page 2 of 3" in second
    assert f'href="{review_url}?page=0"' in second.replace("&amp;", "&")


SPLIT = _csv(
    "Name;Business ID;Phone;Contact last name",
    "Beta Oy;2617416-4;09 2;Berg",
    "Alpha Oy;0112038-9;;Aalto",
    "Gamma Oy;;;",
    "Beta Oy;2617416-4;;Borg",
    "Alpha Oy;0112038-9;;Aho",
)


@pytest.mark.parametrize("update_existing", [False, True])
def test_a_customer_whose_rows_fall_in_two_batches_is_one_customer(
    ctx, make_user, monkeypatch, update_existing
):
    """Plans leave memory batch by batch: a later row of the same customer takes its plan back
    from the store, and the earlier rows take the plan's outcome (skipped, or updated)."""
    monkeypatch.setattr(jobs, "BATCH_ROWS", 2)
    user = make_user("admin")
    beta = b.customer("Beta Oy", business_id="2617416-4", phone="09 2")
    db.session.commit()
    key = uploads.store(user, "f.csv", SPLIT)
    run = jobs.start(user, key, "f.csv", _settings(update_existing=update_existing), inline=True)
    assert run.state == "done", run.error
    rows = _rows(run.id)
    matched = "update" if update_existing else "skip"
    assert [r.action for r in rows] == [matched, "new", "new", matched, "add"]
    assert not any(r.has_errors for r in rows)
    summary = run.summary
    assert (summary["new_customers"], summary["updated_customers"]) == (2, int(update_existing))
    batch = jobs.apply_run(user, run, skip_errors=False)
    assert (batch.created_count, batch.updated_count) == (2, int(update_existing))
    contacts = set(
        db.session.scalars(select(Contact.last_name).where(Contact.customer_id == beta.id))
    )
    assert contacts == ({"Berg", "Borg"} if update_existing else set())
    alpha = db.session.scalar(select(Customer).where(Customer.name == "Alpha Oy"))
    assert {c.last_name for c in db.session.scalars(
        select(Contact).where(Contact.customer_id == alpha.id))} == {"Aalto", "Aho"}  # fmt: skip
