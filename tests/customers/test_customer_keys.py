"""The stored search and sort keys (issue 15): kept in step with every write path, searched by
index, and the Summary search still finds every spelling it found before."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from custreg_admin.demo import generate
from custreg_admin.extensions import db
from custreg_admin.models import Address, Customer, CustomerKey, CustomerStatus, Industry, User
from custreg_admin.services import customer_keys
from custreg_admin.services import mass_update as mu

from .. import builders as b
from ..helpers import is_postgres

COLUMNS = ("number", "business_id", "vat_number", "city", "owner", "industry", "status")


def _stored() -> dict[int, tuple]:
    rows = db.session.scalars(select(CustomerKey)).all()
    return {row.customer_id: tuple(getattr(row, c) for c in COLUMNS) for row in rows}


def _rebuilt() -> dict[int, tuple]:
    """What a rebuild from scratch gives, without keeping it."""
    with db.session.begin_nested() as savepoint:
        customer_keys.rebuild_all(db.session)
        rebuilt = _stored()
        savepoint.rollback()
    return rebuilt


def _assert_in_step() -> None:
    db.session.flush()
    stored = _stored()
    assert stored == _rebuilt()
    assert set(stored) == set(db.session.scalars(select(Customer.id)))


@pytest.fixture
def registry(ctx, make_user):
    alice = make_user("user", name="Alice Owner")
    it = b.industry("IT")
    active = b.customer_status("Active")
    first = b.customer(
        "Alpha Oy",
        owner=alice,
        industry=it,
        status=active,
        number=1001,
        business_id="0112038-9",
        vat_number="FI01120389",
        addresses=[Address(kind="visiting", city="Helsinki")],
    )
    second = b.customer(
        "Beta AS",
        country="NO",
        number=1002,
        business_id="923609016",
        vat_number="NO923609016MVA",
    )
    db.session.commit()
    return {"alice": alice, "it": it, "active": active, "first": first, "second": second}


def test_keys_follow_creation_and_every_edit(registry):
    first, second = registry["first"], registry["second"]
    assert _stored()[first.id] == (
        "1001",
        "01120389",
        "FI01120389",
        "Helsinki",
        "Alice Owner",
        "IT",
        "Active",
    )
    _assert_in_step()

    first.business_id, first.vat_number = "2331972-7", "FI23319727"  # an edit of the card
    first.addresses[0].city = "Espoo"
    second.addresses.append(Address(kind="visiting", city="Oslo"))
    db.session.commit()
    assert _stored()[first.id][1:4] == ("23319727", "FI23319727", "Espoo")
    assert _stored()[second.id][3] == "Oslo"
    _assert_in_step()

    db.session.delete(first.addresses[0])  # the visiting address goes: no city to sort by
    db.session.commit()
    assert _stored()[first.id][3] is None
    _assert_in_step()


def test_keys_follow_renames_of_owner_industry_and_status(registry):
    db.session.get(User, registry["alice"].id).name = "Alice Renamed"
    db.session.get(Industry, registry["it"].id).name = "Software"
    db.session.get(CustomerStatus, registry["active"].id).name = "Current"
    db.session.commit()
    assert _stored()[registry["first"].id][4:] == ("Alice Renamed", "Software", "Current")
    _assert_in_step()


def test_keys_follow_mass_updates_and_their_undo(registry, make_user):
    admin = make_user("admin")
    bob = make_user("user", name="Bob Owner")
    ids = [registry["first"].id, registry["second"].id]
    batch = mu.apply(admin, ids, "owner", bob.id)
    assert {row[4] for row in _stored().values()} == {"Bob Owner"}
    _assert_in_step()
    mu.undo(admin, batch.id)
    assert _stored()[registry["first"].id][4] == "Alice Owner"
    assert _stored()[registry["second"].id][4] is None
    _assert_in_step()


def test_deleting_a_customer_deletes_its_keys(registry):
    db.session.delete(registry["second"])
    db.session.commit()
    assert registry["first"].id in _stored() and len(_stored()) == 1


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("0112", ["Alpha Oy"]),  # a business ID's start
        ("0112038", ["Alpha Oy"]),
        ("FI0112", ["Alpha Oy"]),  # a VAT number's start
        ("fi 0112038-9", ["Alpha Oy"]),
        ("NO 923 609", ["Beta AS"]),
        ("923 609 016", ["Beta AS"]),
        ("100", ["Alpha Oy", "Beta AS"]),  # customer numbers 1001 and 1002
        ("1001", ["Alpha Oy"]),
        ("beta 1002", ["Beta AS"]),  # every word: name or identifier
        ("beta 1001", []),
        ("lpha", ["Alpha Oy"]),  # the name anywhere
        ("100%", []),
        ("%", []),
        ("_", []),
    ],
)
def test_search_by_identifier_prefix_and_name(registry, search, expected):
    condition = customer_keys.search_condition(search)
    names = db.session.scalars(select(Customer.name).where(condition).order_by(Customer.name))
    assert list(names) == expected


def _plan(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    connection = db.session.connection()
    if is_postgres():
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}")
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
    return "\n".join(row[-1] for row in rows)


def _no_scans() -> None:
    """Tiny test tables: tell the planner that reading them whole is not an option."""
    if is_postgres():
        db.session.execute(text("SET LOCAL enable_seqscan = off"))


def test_identifiers_are_searched_by_index(registry):
    _no_scans()
    plan = _plan(select(Customer.id).where(customer_keys.id_match("0112038-9")))
    for index in ("number", "business_id", "vat_number"):
        assert f"ix_custreg_customer_key_{index}" in plan, plan


@pytest.mark.skipif(not is_postgres(), reason="the trigram index is PostgreSQL's")
def test_postgres_searches_names_by_trigram_index(registry):
    _no_scans()
    for search in ("alpha", "alpha 1001"):  # a name, a name and a number
        plan = _plan(select(Customer.id).where(customer_keys.search_condition(search)))
        assert "ix_custreg_customer_name_trgm" in plan, plan
        assert "Seq Scan on custreg_customer " not in plan, plan


def test_demo_bulk_load_builds_the_keys(ctx):
    """The demo generator inserts in bulk (COPY on PostgreSQL), past the ORM's flush hook."""
    generate(25, seed=3)
    assert len(_stored()) == 25
    _assert_in_step()
