"""``flask custreg import``: the review as a table and summary, exit codes, apply."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, CustomerEvent
from custreg_admin.services import imports

from .. import builders as b

DATA = Path(__file__).parents[1] / "data"


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


def test_cli_dry_run_prints_the_review_and_saves_nothing(app):
    with app.app_context():
        b.segment("Retail")
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["custreg", "import", str(DATA / "severa_customers_cp1252.csv"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "encoding cp1252, separator ';'" in result.output
    assert "Ääkkönen Oy" in result.output
    summary = "Summary: 2 new customers, 0 updated, 0 rows skipped, 0 rows with errors"
    assert summary in result.output
    assert "Dry run: nothing saved." in result.output
    assert _count(app) == 0


def test_cli_exits_non_zero_on_errors_unless_told_to_skip(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Name;Business ID\r\nGood Oy;\r\nBad Oy;123\r\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["custreg", "import", str(path)])
    assert result.exit_code != 0
    assert "1 rows have errors; nothing saved" in result.output
    assert "Business ID:" in result.output
    assert _count(app) == 0
    result = runner.invoke(args=["custreg", "import", str(path), "--skip-errors"])
    assert result.exit_code == 0, result.output
    assert "1 customers created, 0 updated, 1 rows skipped" in result.output
    assert _count(app) == 1


def test_cli_applies_with_update_existing_and_a_saved_mapping(app, tmp_path, make_user):
    admin = make_user("admin", name="Cli Admin")
    with app.app_context():
        b.customer("Map Oy", number=4242, phone="1")
        db.session.commit()
        imports.save_mapping(None, "phones", {"Nro": "number", "Puh": "phone"})
    path = tmp_path / "upd.csv"
    path.write_bytes(b"Nro;Puh\r\n4242;2\r\n")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["custreg", "import", str(path), "--mapping", "phones", "--as-user", admin.email]
    )
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output
    result = runner.invoke(
        args=["custreg", "import", str(path), "--mapping", "phones", "--update-existing",
              "--as-user", admin.email]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 customers created, 1 updated" in result.output
    with app.app_context():
        assert db.session.scalar(select(Customer.phone).where(Customer.number == 4242)) == "2"
        event = db.session.scalar(select(CustomerEvent).where(CustomerEvent.kind == "imported"))
        assert event.user_name == "Cli Admin" and event.details["file"] == "upd.csv"
    result = runner.invoke(args=["custreg", "import", str(path), "--mapping", "nope"])
    assert result.exit_code != 0 and "no saved mapping" in result.output
