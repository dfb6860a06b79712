"""Customer import: matching, the two approvals, access, history, undo, round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from custreg_admin.errors import PermissionDenied
from custreg_admin.extensions import db
from custreg_admin.models import (
    Contact,
    Customer,
    CustomerEvent,
    User,
)
from custreg_admin.services import imports
from custreg_admin.services.history import describe
from custreg_admin.services.imports import ImportRefused, Options

from .. import builders as b


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _review(data: bytes, **options):
    return imports.review_file(data, "file.csv", Options(**options))[1]


def test_matching_by_business_id_vat_number_and_name(ctx):
    by_id = b.customer("Old Name Oy", business_id="0112038-9", vat_number="FI01120389", number=5001)
    by_number = b.customer("Numbered Oy", number=5002)
    by_name = b.customer("Exact Name Ab", number=5003)
    gone = b.customer("Gone Oy", number=5004, is_active=False)
    db.session.commit()
    review = _review(
        _csv(
            "Name;Business ID;VAT number;Customer number;Phone",
            "New Name Oy;0112038 9;;;1",  # business ID, other spelling
            ";;FI 0112 0389;;1",  # VAT number only
            "Other Oy;;;5002;3",
            "Exact Name Ab;;;;4",
            "exact name ab;;;;5",  # not exact: a new customer
            "Gone Oy;;;;6",
        ),
        update_existing=True,
    )
    rows = review.rows
    assert [r.customer for r in rows] == [
        str(by_id),
        str(by_id),
        str(by_number),
        str(by_name),
        None,
        str(gone),
    ]
    assert "Matches an inactivated customer." in rows[5].notes
    assert ("name", "Old Name Oy", "New Name Oy") in rows[0].changes


def test_an_ambiguous_match_is_an_error_never_a_guess(ctx):
    b.customer("Twin Oy", number=6001)
    b.customer("Twin Oy", number=6002)
    db.session.commit()
    review = _review(_csv("Name;Phone", "Twin Oy;123"), update_existing=True)
    assert "Ambiguous: 2 customers fit" in review.rows[0].errors["name"]
    with pytest.raises(ImportRefused):
        imports.apply(b.user(), review, file_name="f.csv")


def test_per_cell_errors(ctx):
    b.customer("Dup Oy", number=7001)
    db.session.commit()
    review = _review(
        _csv(
            "Name;Business ID;Account owner's e-mail;Industry;E-invoicing address;Website",
            "A Oy;0112038-8;nobody@example.com;Nope;0037123;javascript:alert(1)",
            "B Oy;;;;;www.a.fi",
            "B Oy;;;;;www.b.fi",
        )
    )
    errors = review.rows[0].errors
    assert set(errors) == {"business_id", "owner", "industry", "einvoice_address", "website"}
    assert "checksum" in errors["business_id"]
    assert "Duplicate within the file" in review.rows[2].errors["website"]
    assert review.error_rows == 3 and review.new_customers == 0


def test_approval_update_existing_else_matched_rows_are_skipped(ctx):
    b.customer("Kept Oy", number=8001, phone="1")
    db.session.commit()
    data = _csv("Customer number;Phone", "8001;2")
    review = _review(data)
    assert review.rows[0].action == "skip" and review.updated_customers == 0
    imports.apply(b.user(), review, file_name="f.csv")
    assert db.session.scalar(select(Customer.phone).where(Customer.number == 8001)) == "1"
    review = _review(data, update_existing=True)
    assert review.rows[0].action == "update"
    imports.apply(db.session.scalar(select(User)), review, file_name="f.csv")
    db.session.expire_all()
    assert db.session.scalar(select(Customer.phone).where(Customer.number == 8001)) == "2"


def test_approval_create_settings_else_an_error(ctx):
    data = _csv("Name;Industry;Market segments", "Seg Oy;Brewing;Beer, Retail")
    b.segment("Retail")
    db.session.commit()
    review = _review(data)
    assert set(review.rows[0].errors) == {"industry", "segments"}
    review = _review(data, create_settings=True)
    assert review.rows[0].errors == {}
    assert review.new_settings == {"industry": {"Brewing"}, "segment": {"Beer"}}
    imports.apply(b.user(), review, file_name="f.csv")
    customer = db.session.scalar(select(Customer).where(Customer.name == "Seg Oy"))
    assert customer.industry.name == "Brewing"
    assert sorted(s.name for s in customer.segments) == ["Beer", "Retail"]


def test_rows_with_errors_skipped_or_the_whole_import_refused(ctx):
    data = _csv("Name;Business ID", "Good Oy;", "Bad Oy;123")
    review = _review(data)
    with pytest.raises(ImportRefused, match="1 rows have errors"):
        imports.apply(b.user(), review, file_name="f.csv")
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    review = _review(data, skip_errors=True)
    batch = imports.apply(db.session.scalar(select(User)), review, file_name="f.csv")
    assert (batch.created_count, batch.skipped_count) == (1, 1)
    assert db.session.scalars(select(Customer.name)).all() == ["Good Oy"]


def test_access_plain_users_never_import(ctx):
    review = _review(_csv("Name", "Mine Oy"))
    with pytest.raises(PermissionDenied, match="administrators and managers"):
        imports.apply(b.user("user"), review, file_name="f.csv")
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    manager = b.user("manager", name="M", email="m@example.com")
    db.session.commit()
    assert imports.apply(manager, review, file_name="f.csv").created_count == 1


def test_history_says_imported_from_file_by_user(ctx):
    admin = b.user(name="Admin Importer")
    b.customer("Hist Oy", number=9001, phone="1")
    db.session.commit()
    review = _review(
        _csv("Customer number;Phone;Name", "9001;2;Hist Oy", ";;Fresh Oy"), update_existing=True
    )
    batch = imports.apply(admin, review, file_name="moving.csv")
    events = db.session.scalars(select(CustomerEvent).where(CustomerEvent.kind == "imported")).all()
    assert len(events) == 2
    texts = {describe(e).summary for e in events}
    assert texts == {f"Imported from moving.csv by Admin Importer (import #{batch.id})."}
    updated = next(e for e in events if e.details["created"] is False)
    assert updated.details["changes"] == {"phone": ["1", "2"]}
    assert updated.user_name == "Admin Importer"


def test_undo_restores_fields_removes_created_and_names_what_it_cannot(ctx):
    admin = b.user()
    kept = b.customer("Kept Oy", number=9101, phone="1")
    db.session.commit()
    review = _review(
        _csv(
            "Customer number;Name;Phone;Contact first name;Contact last name",
            "9101;Kept Oy;2;Anna;Added",
            ";New One Oy;;;",
            ";New Two Oy;;;",
        ),
        update_existing=True,
    )
    batch = imports.apply(admin, review, file_name="f.csv")
    two = db.session.scalar(select(Customer).where(Customer.name == "New Two Oy"))
    two.contacts.append(Contact(last_name="Later"))  # added since: the customer stays
    db.session.commit()
    imports.undo(admin, batch.id)
    db.session.expire_all()
    names = sorted(db.session.scalars(select(Customer.name)))
    assert names == ["Kept Oy", "New Two Oy"]
    assert db.session.get(Customer, kept.id).phone == "1"
    assert [c.last_name for c in db.session.get(Customer, kept.id).contacts] == []
    assert [r["label"] for r in batch.undo_report] == [two.__str__()]
    assert "Changed or added to since" in batch.undo_report[0]["reason"]
    undone = db.session.scalars(select(CustomerEvent).where(CustomerEvent.kind == "import_undone"))
    assert [e.customer_id for e in undone] == [kept.id]
    with pytest.raises(Exception, match="already been undone"):
        imports.undo(admin, batch.id)


def test_undo_keeps_a_field_changed_since(ctx):
    admin = b.user()
    kept = b.customer("Field Oy", number=9201, phone="1", email="a@x.fi")
    db.session.commit()
    review = _review(_csv("Customer number;Phone;E-mail", "9201;2;b@x.fi"), update_existing=True)
    batch = imports.apply(admin, review, file_name="f.csv")
    customer = db.session.get(Customer, kept.id)
    customer.phone = "3"
    db.session.commit()
    imports.undo(admin, batch.id)
    db.session.expire_all()
    customer = db.session.get(Customer, kept.id)
    assert (customer.phone, customer.email) == ("3", "a@x.fi")
    assert any("phone was changed since" in r["reason"] for r in batch.undo_report)


def test_plain_user_cannot_undo(ctx):
    admin = b.user()
    batch = imports.apply(admin, _review(_csv("Name", "U Oy")), file_name="f.csv")
    with pytest.raises(PermissionDenied):
        imports.undo(b.user("user"), batch.id)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
