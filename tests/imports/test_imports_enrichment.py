"""Registry enrichment of an import: against the recorded (fake) registry, and with it down."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer
from custreg_admin.services import imports
from custreg_admin.services.imports import Options

from .. import builders as b
from ..fake_registry import install

FILE = b"Business ID;Phone\r\n0112038-9;09 1\r\n1927400-1;09 2\r\n"


@pytest.fixture
def registry(monkeypatch):
    return install(monkeypatch)


def test_enrichment_fills_missing_fields_and_the_review_says_what_came(registry, app):
    with app.app_context():
        _, review = imports.review_file(FILE, "f.csv", Options(enrich=True))
        assert [r.errors for r in review.rows] == [{}, {}]
        assert review.rows[0].notes == [
            "From Fake Finnish registry: name, VAT number, visiting address, postal address."
        ]
        assert review.notes == []
        user = b.user(name="A", email="a@example.com")
        db.session.commit()
        imports.apply(user, review, file_name="f.csv")
        acme = db.session.scalar(select(Customer).where(Customer.business_id == "0112038-9"))
        assert (acme.name, acme.vat_number, acme.phone) == ("Acme Oyj", "FI01120389", "09 1")
        assert acme.address_of("visiting").street == "Karakaari 7"
        assert acme.address_of("postal").street == "c/o Talous, PL 226"
    # each business ID asked once
    assert len(registry.calls) == 2


def test_without_enrichment_the_registry_is_not_asked(registry, app):
    with app.app_context():
        _, review = imports.review_file(FILE, "f.csv", Options())
    assert registry.calls == []
    assert "A new customer needs a name." in review.rows[0].errors["name"]


def test_registry_down_the_import_goes_on_without_and_says_so(registry, app):
    registry.down = True
    data = b"Name;Business ID\r\nOwn Name Oy;0112038-9\r\nOther Oy;1927400-1\r\n"
    with app.app_context():
        _, review = imports.review_file(data, "f.csv", Options(enrich=True))
    assert [r.errors for r in review.rows] == [{}, {}]
    assert "Registry not reached" in review.rows[0].notes[0]
    assert review.rows[1].notes == []  # not asked again
    assert len(registry.calls) == 1
    assert "could not be reached" in review.notes[0] and "goes on without" in review.notes[0]
    assert review.new_customers == 2


def test_cli_enrich_prints_what_the_registry_gave(registry, app, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(FILE)
    result = app.test_cli_runner().invoke(
        args=["custreg", "import", str(path), "--enrich", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "From Fake Finnish registry: name, VAT number" in result.output
