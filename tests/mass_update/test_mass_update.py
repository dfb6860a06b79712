"""Mass update: the service (plan, apply, undo, audit) and the admin pages on top of it."""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, text

from custreg_admin.errors import DomainError, PermissionDenied
from custreg_admin.extensions import db
from custreg_admin.models import (
    Customer,
    CustomerEvent,
    CustomerStatus,
    InvoiceTemplate,
    MassUpdateBatch,
    MassUpdateChange,
    User,
    VatRate,
    customer_segment,
)
from custreg_admin.services import mass_update as mu
from custreg_admin.services.customer_filter import CustomerFilter, CustomerSet
from custreg_admin.services.mass_update import applying

from .. import builders as b
from ..helpers import csrf_token, is_postgres, recorded_statements

BASE = "/admin/customers/mass-update/"

# --------------------------------------------------------------------------- data


def _refs() -> dict:
    """Seeded settings: a second value for every field action."""
    return {
        "invoice_template": db.session.scalar(
            select(InvoiceTemplate.id).where(InvoiceTemplate.name == "Standard EN")
        ),
        "vat_rate": db.session.scalar(
            select(VatRate.id).where(VatRate.name == "Reduced 14%", VatRate.country == "FI")
        ),
        "status": db.session.scalar(
            select(CustomerStatus.id).where(CustomerStatus.name == "Passive")
        ),
    }


@pytest.fixture
def world(app, make_user):
    """Two owners, a new owner, two industries, three segments and eight customers.

    ``oy`` customers (names ending "Oy") are the search target; half of them belong to Olli.
    """
    olli = make_user("user", name="Olli Owner")
    pia = make_user("user", name="Pia Owner")
    newbie = make_user("manager", name="Nina New")
    with app.app_context():
        it = b.industry("IT services", code="62")
        retail_ind = b.industry("Retail trade", code="47")
        active = b.customer_status("Active")
        retail, wholesale, export = b.segment("Retail"), b.segment("Wholesale"), b.segment("Export")
        rows = []
        for n in range(8):
            rows.append(
                b.customer(
                    f"Firm {n} {'Oy' if n % 2 == 0 else 'AB'}",
                    owner=olli if n < 4 else pia,
                    industry=it,
                    status=active,
                    segments=[retail] if n % 3 == 0 else [wholesale],
                    is_active=n != 6,
                )
            )
        db.session.commit()
        data = {
            "olli": olli,
            "pia": pia,
            "newbie": newbie,
            "it": it.id,
            "retail_industry": retail_ind.id,
            "active": active.id,
            "retail": retail.id,
            "wholesale": wholesale.id,
            "export": export.id,
            "ids": [c.id for c in rows],
            **_refs(),
        }
    return data


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    db.session.refresh(customer)
    return customer


def _segments_of(customer_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(customer_segment.c.segment_id).where(
                customer_segment.c.customer_id == customer_id
            )
        )
    )


def _snapshot() -> list[tuple]:
    rows = db.session.execute(
        select(
            Customer.id,
            Customer.owner_id,
            Customer.industry_id,
            Customer.invoice_template_id,
            Customer.vat_rate_id,
            Customer.status_id,
        ).order_by(Customer.id)
    ).all()
    links = db.session.execute(select(customer_segment).order_by(*customer_segment.c)).all()
    return [tuple(r) for r in rows] + [tuple(r) for r in links]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


FIELD_ACTIONS = {
    "owner": ("owner_id", lambda w: w["newbie"].id),
    "industry": ("industry_id", lambda w: w["retail_industry"]),
    "invoice_template": ("invoice_template_id", lambda w: w["invoice_template"]),
    "vat_rate": ("vat_rate_id", lambda w: w["vat_rate"]),
    "status": ("status_id", lambda w: w["status"]),
}


def _oy_spec(world) -> CustomerSet:
    """Summary: search "Oy", account owner Olli, active customers (firms 0 and 2)."""
    return CustomerSet(
        parts=(
            CustomerFilter(active_state="all", owner_id=world["olli"].id),
            CustomerFilter(active_state="all", search="Oy"),
            CustomerFilter(active_state="active"),
        )
    )


# --------------------------------------------------------------------------- the seven actions


@pytest.mark.parametrize("action", sorted(FIELD_ACTIONS))
def test_field_action_on_ticked_rows(ctx, world, make_user, action):
    column, value_of = FIELD_ACTIONS[action]
    value = value_of(world)
    admin = make_user("admin")
    ticked = world["ids"][:3]
    plan = mu.plan(admin, mu.Selection.of_ids(ticked), action, value)
    assert (plan.total, plan.changing, plan.unchanged, plan.refused) == (3, 3, 0, 0)
    assert len(plan.preview) == 3 and all(row.changes for row in plan.preview)
    before = {i: getattr(_customer(i), column) for i in ticked}

    batch = mu.apply(admin, plan)

    assert (batch.selected_count, batch.changed_count, batch.unchanged_count) == (3, 3, 0)
    assert batch.selection == {"ids": ticked} and batch.selection_label == "3 selected customers"
    assert batch.user_name == admin.name and batch.action == action
    assert [getattr(_customer(i), column) for i in ticked] == [value] * 3
    untouched = [_customer(i) for i in world["ids"][3:]]
    assert all(getattr(c, column) != value for c in untouched)
    changes = db.session.scalars(
        select(MassUpdateChange).where(MassUpdateChange.batch_id == batch.id)
    ).all()
    assert {(c.customer_id, c.before_value, c.after_value) for c in changes} == {
        (i, before[i], value) for i in ticked
    }


@pytest.mark.parametrize("action", sorted(mu.ACTIONS))
def test_each_action_on_all_matching_a_search_and_filters(ctx, world, make_user, action):
    """ "Select all N matching": search "Oy", owner Olli, active - firms 0 and 2 only."""
    admin = make_user("manager")
    targets = world["ids"][0], world["ids"][2]
    others = [i for i in world["ids"] if i not in targets]
    if action in FIELD_ACTIONS:
        value = FIELD_ACTIONS[action][1](world)
    elif action == "add_segments":
        value = [world["export"]]
    else:
        value = [world["retail"], world["wholesale"]]
    others_before = _snapshot()
    selection = mu.Selection.of_set(_oy_spec(world))
    plan = mu.plan(admin, selection, action, value)
    assert plan.ids == targets
    assert plan.selection_label == (
        "All active customers matching account owner Olli Owner, search “Oy”"
    )
    batch = mu.apply(admin, plan)
    assert batch.changed_count == 2 and batch.selection == {"spec": _oy_spec(world).to_spec()}
    if action in FIELD_ACTIONS:
        column = FIELD_ACTIONS[action][0]
        assert [getattr(_customer(i), column) for i in targets] == [value, value]
    elif action == "add_segments":
        assert _segments_of(targets[0]) == {world["retail"], world["export"]}
        assert _segments_of(targets[1]) == {world["wholesale"], world["export"]}
    else:
        assert [_segments_of(i) for i in targets] == [set(), set()]
    # nobody else changed
    after = {row[0]: row for row in _snapshot() if len(row) == 6}
    for row in others_before:
        if len(row) == 6 and row[0] in others:
            assert after[row[0]] == row
    for customer_id in others:
        links = {r[1] for r in others_before if len(r) == 2 and r[0] == customer_id}
        assert _segments_of(customer_id) == links


def test_industry_can_be_cleared_and_counts_those_already_empty(ctx, world, make_user):
    admin = make_user("admin")
    first, second = world["ids"][:2]
    mu.apply(admin, [first], "industry", mu.CLEAR)
    plan = mu.plan(admin, mu.Selection.of_ids([first, second]), "industry", mu.CLEAR)
    assert (plan.changing, plan.unchanged) == (1, 1)
    assert plan.value.label == "(none)"
    batch = mu.apply(admin, plan)
    assert batch.changed_count == 1 and batch.value == {"id": None}
    assert _customer(second).industry_id is None


@pytest.mark.parametrize("action", [*FIELD_ACTIONS, "remove_segments"])
def test_nothing_to_apply_is_refused_and_records_nothing(ctx, world, make_user, action):
    admin = make_user("admin")
    ids = world["ids"][:3]
    if action == "remove_segments":
        value = [world["export"]]  # none of them is in Export
    else:
        value = FIELD_ACTIONS[action][1](world)
        mu.apply(admin, ids, action, value)
    batches, changes = _count(MassUpdateBatch), _count(MassUpdateChange)
    events = _count(CustomerEvent)
    before = _snapshot()
    plan = mu.plan(admin, mu.Selection.of_ids(ids), action, value)
    assert (plan.changing, plan.unchanged, plan.may_apply) == (0, 3, False)
    for given in (plan, ids):
        with pytest.raises(mu.NothingToApply, match="Nothing to apply: all 3 selected customers"):
            mu.apply(admin, given, action if given is ids else None, value)
    assert _snapshot() == before
    assert (_count(MassUpdateBatch), _count(MassUpdateChange)) == (batches, changes)
    assert _count(CustomerEvent) == events


def test_add_segments_keeps_the_others_and_is_idempotent(ctx, world, make_user):
    admin = make_user("admin")
    ids = world["ids"][:4]  # firms 0 and 3 in Retail, 1 and 2 in Wholesale
    links_before = _count(customer_segment)
    plan = mu.plan(admin, mu.Selection.of_ids(ids), "add_segments", [world["retail"]])
    assert (plan.changing, plan.unchanged) == (2, 2)
    row = next(r for r in plan.preview if r.customer_id == ids[1])
    assert (row.before, row.after) == (("Wholesale",), ("Retail", "Wholesale"))
    batch = mu.apply(admin, plan)
    assert (batch.changed_count, batch.unchanged_count) == (2, 2)
    assert _segments_of(ids[0]) == {world["retail"]}
    assert _segments_of(ids[1]) == {world["retail"], world["wholesale"]}
    assert _count(customer_segment) == links_before + 2
    # again: nothing to add, no duplicate link, no error
    again = mu.plan(admin, mu.Selection.of_ids(ids), "add_segments", [world["retail"]])
    assert (again.changing, again.unchanged, again.may_apply) == (0, 4, False)
    with pytest.raises(mu.NothingToApply, match="Nothing to apply: all 4 selected customers"):
        mu.apply(admin, again)
    assert _count(customer_segment) == links_before + 2 and _count(MassUpdateBatch) == 1


def test_remove_segments_keeps_the_others(ctx, world, make_user):
    admin = make_user("admin")
    ids = world["ids"][:4]
    mu.apply(admin, ids, "add_segments", [world["export"]])
    batch = mu.apply(admin, ids, "remove_segments", [world["retail"]])
    assert batch.changed_count == 2
    assert _segments_of(ids[0]) == {world["export"]}
    assert _segments_of(ids[1]) == {world["wholesale"], world["export"]}
    assert _segments_of(ids[3]) == {world["export"]}
    assert _segments_of(world["ids"][6]) == {world["retail"]}  # not selected


@pytest.mark.parametrize(
    ("action", "value", "message"),
    [
        ("owner", 99999, "There is no account owner #99999"),
        ("owner", "x'; DROP TABLE", "is not one of the choices"),
        ("owner", None, "Choose the account owner"),
        ("owner", "", "Choose the account owner"),
        ("owner", mu.CLEAR, "is not one of the choices"),  # only a clearable field clears
        ("industry", None, "Choose the industry, or “(none)” to clear it"),
        ("industry", "", "Choose the industry, or “(none)” to clear it"),
        ("industry", "  ", "Choose the industry, or “(none)” to clear it"),
        ("invoice_template", "", "Choose the invoice template"),
        ("vat_rate", None, "Choose the default invoicing VAT"),
        ("status", "", "Choose the status"),
        ("add_segments", [""], "Choose at least one market segment"),
        ("remove_segments", None, "Choose at least one market segment"),
        ("industry", 424242, "There is no industry #424242"),
        ("invoice_template", -3, "is not one of the choices"),
        ("vat_rate", True, "is not one of the choices"),
        ("status", 2**40, "is not one of the choices"),
        ("add_segments", [], "Choose at least one market segment"),
        ("remove_segments", ["77777"], "Market segment #77777 does not exist"),
        ("rename", 1, "there is no such mass update action"),
    ],
)
def test_forged_or_missing_values_are_refused(ctx, world, make_user, action, value, message):
    admin = make_user("admin")
    before = _snapshot()
    with pytest.raises(mu.InvalidValue, match=re.escape(message)):
        mu.plan(admin, mu.Selection.of_ids(world["ids"]), action, value)
    with pytest.raises(mu.InvalidValue, match=re.escape(message)):
        mu.apply(admin, world["ids"], action, value)
    assert _snapshot() == before and _count(MassUpdateBatch) == 0


def test_the_owner_must_be_an_active_user(ctx, world, make_user):
    gone = make_user("user", name="Gone Away", is_active=False)
    with pytest.raises(mu.InvalidValue, match="Gone Away is not an active user"):
        mu.apply(make_user("admin"), world["ids"], "owner", gone.id)


@pytest.mark.parametrize(
    "spec",
    [
        "{not json",
        '{"parts": [{"owner_id": "1 OR 1=1"}]}',
        '{"parts": [{"search": 5}]}',
        '{"parts": [{"hacker": 1}]}',
        '{"parts": [], "counted_in": ["everything"]}',
        "[1, 2]",
    ],
)
def test_forged_specs_are_refused(ctx, spec):
    with pytest.raises(mu.InvalidSelection, match="The selection is not valid"):
        mu.Selection.of_spec(spec)


def test_packed_ids_round_trip():
    ids = [1, 2, 3, 7, 9, 10, 11, 500, 100_000]
    assert mu.pack_ids(ids) == "1+2,4,2+2,489,99500"
    assert mu.unpack_ids(mu.pack_ids(ids)) == ids
    assert mu.pack_ids(range(1, 100_001)) == "1+99999"
    for bad in ("", "0", "1,,2", "1+x", "-1", "9999999999"):
        with pytest.raises(mu.InvalidSelection):
            mu.unpack_ids(bad)


# --------------------------------------------------------------------------- all or nothing


def test_a_database_failure_after_the_update_leaves_nothing_changed(
    ctx, world, make_user, monkeypatch
):
    admin = make_user("admin")
    before = _snapshot()
    reached = []

    def fail(session, *args, **kwargs):
        reached.append(session.scalar(select(func.count()).select_from(MassUpdateChange)))
        session.execute(text("UPDATE custreg_no_such_table SET x = 1"))

    monkeypatch.setattr(applying, "_finish_batch", fail)  # runs after the UPDATE of the customers
    with pytest.raises(mu.MassUpdateFailed, match="nothing was changed"):
        mu.apply(admin, world["ids"], "owner", world["newbie"].id)
    assert reached == [8]  # the changes were recorded and the UPDATE ran before the failure
    assert _snapshot() == before
    assert _count(MassUpdateBatch) == 0 and _count(MassUpdateChange) == 0


def test_a_failure_after_inserting_segment_links_leaves_nothing_changed(
    ctx, world, make_user, monkeypatch
):
    admin = make_user("admin")
    before = _snapshot()

    def fail(session, batch_id, **kwargs):
        assert session.scalar(select(func.count()).select_from(customer_segment)) > 8
        raise RuntimeError("power cut")

    monkeypatch.setattr(applying, "_touch_customers", fail)
    with pytest.raises(RuntimeError):
        mu.apply(admin, world["ids"], "add_segments", [world["export"]])
    assert _snapshot() == before and _count(MassUpdateBatch) == 0


def test_a_customer_deleted_since_the_plan_is_left_out(ctx, world, make_user):
    admin = make_user("admin")
    plan = mu.plan(admin, mu.Selection.of_ids(world["ids"][:3]), "owner", world["newbie"].id)
    db.session.delete(db.session.get(Customer, world["ids"][1]))
    db.session.commit()
    batch = mu.apply(admin, plan)
    assert (batch.selected_count, batch.changed_count) == (2, 2)


# --------------------------------------------------------------------------- permissions


def test_role_user_is_refused_customers_of_others_and_nothing_is_applied(ctx, world):
    olli = world["olli"]
    selection = mu.Selection.of_ids(world["ids"][2:6])  # two of Olli's, two of Pia's
    plan = mu.plan(olli, selection, "status", world["status"])
    assert (plan.total, plan.refused, plan.permitted, plan.changing) == (4, 2, 2, 2)
    assert not plan.may_apply
    assert [r.refused for r in plan.preview] == [False, False, True, True]
    before = _snapshot()
    with pytest.raises(
        mu.SelectionRefused,
        match="2 of the selected customers are owned by someone else; you may only update your own",
    ):
        mu.apply(olli, plan)
    assert _snapshot() == before and _count(MassUpdateBatch) == 0

    mine = mu.plan(olli, selection.only_own(), "status", world["status"])
    assert (mine.total, mine.refused, mine.changing) == (2, 0, 2)
    assert mine.selection_label == "4 selected customers, only those I own"
    batch = mu.apply(olli, mine)
    assert batch.changed_count == 2 and batch.selection["own_only"] is True
    statuses = [_customer(i).status_id for i in world["ids"][2:6]]
    assert statuses == [world["status"], world["status"], world["active"], world["active"]]


def test_permissions_are_checked_again_when_applying(ctx, world):
    """A customer handed to someone else between the preview and the confirmation."""
    olli = world["olli"]
    plan = mu.plan(olli, mu.Selection.of_ids(world["ids"][:2]), "status", world["status"])
    assert plan.may_apply
    db.session.get(Customer, world["ids"][1]).owner_id = world["pia"].id
    db.session.commit()
    with pytest.raises(mu.SelectionRefused, match="1 of the selected customers is owned"):
        mu.apply(olli, plan)
    assert _customer(world["ids"][0]).status_id == world["active"]


# --------------------------------------------------------------------------- frozen selection


def test_the_selection_is_frozen_when_planned(ctx, world, make_user):
    admin = make_user("admin")
    plan = mu.plan(admin, mu.Selection.of_set(_oy_spec(world)), "owner", world["newbie"].id)
    late = b.customer("Late Oy", owner=world["olli"])  # begins to match after the preview
    db.session.commit()
    batch = mu.apply(admin, plan)
    assert batch.changed_count == 2
    assert _customer(late.id).owner_id == world["olli"].id


def test_a_confirmation_applies_once(ctx, world, make_user):
    admin = make_user("admin")
    plan = mu.plan(admin, mu.Selection.of_ids(world["ids"]), "owner", world["newbie"].id)
    first = mu.apply(admin, plan, plan_key="k-1")
    with pytest.raises(mu.AlreadyApplied) as caught:
        mu.apply(admin, plan, plan_key="k-1")
    assert caught.value.batch_id == first.id and _count(MassUpdateBatch) == 1


# --------------------------------------------------------------------------- undo


def test_undo_restores_everything_when_nothing_changed_since(ctx, world, make_user):
    admin = make_user("admin")
    before = _snapshot()
    batch = mu.apply(admin, world["ids"], "owner", world["newbie"].id)
    preview = mu.plan_undo(admin, batch.id)
    assert (preview.restorable, preview.skipped) == (8, ())
    done = mu.undo(admin, batch.id)
    assert (done.changed_count, done.skipped_count, done.undo_of_id) == (8, 0, batch.id)
    assert _snapshot() == before
    original = db.session.get(MassUpdateBatch, batch.id)
    assert original.undone_at is not None and original.undone_by_name == admin.name
    with pytest.raises(DomainError, match="has already been undone"):
        mu.undo(admin, batch.id)
    with pytest.raises(DomainError, match="cannot be undone"):
        mu.undo(admin, done.id)


def test_undo_skips_customers_edited_since_and_says_why(ctx, world, make_user):
    admin = make_user("admin")
    ids = world["ids"]
    batch = mu.apply(admin, ids, "industry", world["retail_industry"])
    _customer(ids[0]).industry_id = world["it"]  # edited by hand since: now equals the before
    _customer(ids[1]).industry_id = None
    db.session.commit()
    preview = mu.plan_undo(admin, batch.id)
    assert preview.restorable == 6 and preview.skipped == ((mu.CHANGED_SINCE, 2),)
    done = mu.undo(admin, batch.id)
    assert (done.changed_count, done.skipped_count) == (6, 2)
    assert _customer(ids[1]).industry_id is None  # the later edit stays
    assert all(_customer(i).industry_id == world["it"] for i in ids[2:])
    skipped, total = mu.batch_changes(done, skipped_only=True)
    assert total == 2
    assert [(r.customer_id, r.skipped_reason) for r in skipped] == [
        (ids[0], mu.CHANGED_SINCE),
        (ids[1], mu.CHANGED_SINCE),
    ]
    assert (skipped[0].before, skipped[0].after) == ("62 IT services", "62 IT services")
    rows, total = mu.batch_changes(batch)
    assert total == 8 and (rows[2].before, rows[2].after) == ("62 IT services", "47 Retail trade")


def test_undo_skips_a_previous_owner_who_left(ctx, world, make_user):
    admin = make_user("admin")
    batch = mu.apply(admin, world["ids"], "owner", world["newbie"].id)
    pia = db.session.get(User, world["pia"].id)
    pia.is_active = False
    db.session.commit()
    done = mu.undo(admin, batch.id)
    assert (done.changed_count, done.skipped_count) == (4, 4)
    reasons = {r.skipped_reason for r in mu.batch_changes(done, skipped_only=True)[0]}
    assert reasons == {mu.OWNER_INACTIVE}


def test_undo_of_segment_actions_touches_exactly_their_links(ctx, world, make_user):
    admin = make_user("admin")
    ids = world["ids"][:4]  # 0, 3 Retail; 1, 2 Wholesale
    added = mu.apply(admin, ids, "add_segments", [world["retail"], world["export"]])
    assert added.changed_count == 4
    db.session.execute(  # a later edit: firm 1 leaves Export by hand
        customer_segment.delete().where(
            customer_segment.c.customer_id == ids[1],
            customer_segment.c.segment_id == world["export"],
        )
    )
    db.session.commit()
    done = mu.undo(admin, added.id)
    assert done.skipped_count == 1
    assert _segments_of(ids[0]) == {world["retail"]}  # had Retail before: kept
    assert _segments_of(ids[1]) == {world["wholesale"]}
    assert _segments_of(ids[2]) == {world["wholesale"]}
    skipped = mu.batch_changes(done, skipped_only=True)[0]
    assert [(r.customer_id, r.skipped_reason) for r in skipped] == [(ids[1], mu.ALREADY_REMOVED)]

    removed = mu.apply(admin, ids, "remove_segments", [world["wholesale"]])
    db.session.execute(
        customer_segment.insert().values(customer_id=ids[2], segment_id=world["wholesale"])
    )
    db.session.commit()
    done = mu.undo(admin, removed.id)
    assert (done.changed_count, done.skipped_count) == (1, 1)
    assert _segments_of(ids[1]) == {world["wholesale"]}
    assert _segments_of(ids[2]) == {world["wholesale"]}


def test_role_user_undoes_only_own_batches_and_own_customers(ctx, world, make_user):
    olli, pia = world["olli"], world["pia"]
    manager = make_user("manager")
    by_manager = mu.apply(manager, world["ids"][:2], "status", world["status"])
    with pytest.raises(PermissionDenied, match="only your own mass updates"):
        mu.undo(olli, by_manager.id)
    own = mu.apply(olli, world["ids"][:2], "status", world["active"])  # back from the manager's
    assert own.changed_count == 2
    mine = mu.apply(olli, world["ids"][:3], "industry", world["retail_industry"])
    _customer(world["ids"][0]).owner_id = pia.id
    db.session.commit()
    done = mu.undo(olli, mine.id)
    assert (done.changed_count, done.skipped_count) == (2, 1)
    assert mu.batch_changes(done, skipped_only=True)[0][0].skipped_reason == mu.OWNED_BY_OTHERS


# --------------------------------------------------------------------------- statements


def _statements(call) -> int:
    with recorded_statements(db.engine) as seen:
        call()
    return len(seen)


@pytest.mark.parametrize(
    "action", ["owner", "add_segments", "remove_segments", "industry"], ids=str
)
def test_apply_issues_the_same_statements_for_10_as_for_200_customers(ctx, make_user, action):
    admin = make_user("admin")
    owner = make_user("manager")
    seg = b.segment("Big")
    other = b.industry("Other")
    ids = [b.customer(f"Bulk {n}", segments=[seg] if n % 2 else []).id for n in range(200)]
    db.session.commit()
    value = {
        "owner": owner.id,
        "add_segments": [seg.id],
        "remove_segments": [seg.id],
        "industry": other.id,
    }[action]
    # an owner change also moves the KPI rows per viewer (one statement that finds none here)
    kpi = 1 if action == "owner" else 0
    counts = []
    for chosen in (ids[:10], ids[10:]):
        db.session.remove()
        counts.append(_statements(lambda chosen=chosen: mu.apply(admin, chosen, action, value)))
    assert counts[0] == counts[1] and counts[0] <= 10 + kpi, counts
    db.session.remove()
    batches = db.session.execute(
        select(MassUpdateBatch.id, MassUpdateBatch.selected_count).order_by(MassUpdateBatch.id)
    ).all()
    assert [count for _, count in batches] == [10, 190]
    undo_counts = []
    for batch_id, _ in batches:
        db.session.remove()
        undo_counts.append(_statements(lambda batch_id=batch_id: mu.undo(admin, batch_id)))
    assert undo_counts[0] == undo_counts[1] and undo_counts[0] <= 12 + kpi, undo_counts


# --------------------------------------------------------------------------- concurrency


@pytest.mark.commits
@pytest.mark.skipif(not is_postgres(), reason="row locks: PostgreSQL")
@pytest.mark.parametrize("action", ["owner", "add_segments"])
def test_concurrent_mass_updates_over_overlapping_customers(app, make_user, monkeypatch, action):
    """Two sessions in two threads; the second waits for the first's row locks, then builds on
    its result: both finish, nothing is lost, and the audit says what really happened."""
    admin = make_user("admin")
    first_owner, second_owner = make_user("user"), make_user("user")
    with app.app_context():
        seg = b.segment("Shared")
        ids = [b.customer(f"Overlap {n}").id for n in range(30)]
        db.session.commit()
        seg_id = seg.id
    values = {
        "owner": (first_owner.id, second_owner.id),
        "add_segments": ([seg_id], [seg_id]),
    }[action]
    locked = threading.Event()
    real_lock = applying._lock_customers

    def slow_lock(session, condition, *, links):
        rows = real_lock(session, condition, links=links)
        if threading.current_thread().name == "first":
            locked.set()
            time.sleep(0.6)  # hold the locks while the second one starts
        return rows

    monkeypatch.setattr(applying, "_lock_customers", slow_lock)
    outcome: dict[str, object] = {}
    started: dict[str, float] = {}

    def run(name: str, chosen: list[int], value) -> None:
        with app.app_context():
            try:
                if name == "second":
                    assert locked.wait(10)
                started[name] = time.monotonic()
                outcome[name] = mu.apply(admin, chosen, action, value).id
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                outcome[name] = error
            finally:
                outcome[name + "_done"] = time.monotonic()
                db.session.remove()

    threads = [
        threading.Thread(target=run, name="first", args=("first", ids[:20], values[0])),
        threading.Thread(target=run, name="second", args=("second", ids[10:], values[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert isinstance(outcome["first"], int), outcome
    assert isinstance(outcome["second"], int), outcome
    # it waited for the first's locks (held 0.6 s; its own done stamp may race the first's)
    assert outcome["second_done"] - started["second"] >= 0.5
    with app.app_context():
        first = db.session.get(MassUpdateBatch, outcome["first"])
        second = db.session.get(MassUpdateBatch, outcome["second"])
        second_changes = db.session.scalars(
            select(MassUpdateChange).where(MassUpdateChange.batch_id == second.id)
        ).all()
        if action == "owner":
            owners = dict(db.session.execute(select(Customer.id, Customer.owner_id)).all())
            assert [owners[i] for i in ids] == [first_owner.id] * 10 + [second_owner.id] * 20
            assert (first.changed_count, second.changed_count) == (20, 20)
            before = {c.customer_id: c.before_value for c in second_changes}
            assert [before[i] for i in ids[10:20]] == [first_owner.id] * 10  # not lost
            assert [before[i] for i in ids[20:]] == [None] * 10
        else:
            assert (
                db.session.scalar(select(func.count()).select_from(customer_segment)) == 30
            )  # no duplicate links, no error
            assert (first.changed_count, second.changed_count) == (20, 10)
            assert {c.customer_id for c in second_changes} == set(ids[20:])


def _race(app, jobs: dict[str, callable]) -> dict[str, object]:
    """Run the jobs in threads released at the same moment; each job's result or error."""
    barrier = threading.Barrier(len(jobs))
    outcome: dict[str, object] = {}

    def run(name: str, job) -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                outcome[name] = job()
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                outcome[name] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a mass update never finished"
    return outcome


def _state(ids, action: str, seg_ids=()) -> dict[int, object]:
    if action == "remove_segments" or action == "add_segments":
        return {i: frozenset(_segments_of(i) & set(seg_ids)) for i in ids}
    return dict(db.session.execute(select(Customer.id, Customer.status_id)).all())


def _serial(start: dict, ids_value_pairs, action: str) -> dict:
    """What applying the updates one after the other, in this order, leaves."""
    state = dict(start)
    for chosen, value in ids_value_pairs:
        for i in chosen:
            if action == "status":
                state[i] = value
            elif action == "add_segments":
                state[i] = state[i] | set(value)
            else:
                state[i] = state[i] - set(value)
    return {i: (frozenset(v) if isinstance(v, set | frozenset) else v) for i, v in state.items()}


@pytest.mark.commits
@pytest.mark.skipif(not is_postgres(), reason="row locks: PostgreSQL")
@pytest.mark.parametrize("action", ["status", "remove_segments", "add_segments"])
def test_racing_mass_updates_end_as_one_serial_order_and_undo_cleanly(app, make_user, action):
    """Two full mass updates over overlapping selections, started at the same moment (no
    order imposed): each completes or is refused with a message and changes nothing; the
    result equals one of the two serial orders; each batch's audit holds what it really
    changed; undoing both, newest first, gives back the starting state exactly."""
    first_user, second_user = make_user("admin"), make_user("manager")
    with app.app_context():
        one, two = b.segment("One"), b.segment("Two")
        ids = [b.customer(f"Race {n}", segments=[one, two]).id for n in range(40)]
        passive = b.customer_status("Passive").id
        closed = b.customer_status("Closed").id
        seg_ids = (one.id, two.id)
        db.session.commit()
        start = _state(ids, action, seg_ids)
        db.session.remove()
    values = {
        "status": (passive, closed),
        "remove_segments": ([seg_ids[0]], list(seg_ids)),
        "add_segments": ([seg_ids[0]], [seg_ids[1]]),
    }[action]
    if action == "add_segments":  # start from no links, so that both adds change something
        with app.app_context():
            for i in ids:
                db.session.get(Customer, i).segments = []
            db.session.commit()
            start = _state(ids, action, seg_ids)
            db.session.remove()
    chosen = {"first": ids[:30], "second": ids[10:]}
    users = {"first": first_user, "second": second_user}
    plans = {}
    with app.app_context():
        for name, value in zip(("first", "second"), values, strict=True):
            plans[name] = mu.plan(users[name], mu.Selection.of_ids(chosen[name]), action, value)
        db.session.remove()

    outcome = _race(
        app,
        {name: (lambda name=name: mu.apply(users[name], plans[name]).id) for name in plans},
    )

    with app.app_context():
        final = _state(ids, action, seg_ids)
        applied = {n: o for n, o in outcome.items() if isinstance(o, int)}
        for error in (o for o in outcome.values() if not isinstance(o, int)):
            # a refusal is a domain error that says nothing was changed
            assert isinstance(error, DomainError) and "nothing was changed" in str(error), error
        assert applied, outcome
        steps = {n: (chosen[n], values[0 if n == "first" else 1]) for n in applied}
        orders = {
            names[-1]: _serial(start, [steps[n] for n in names], action)
            for names in (list(applied), list(applied)[::-1])
        }
        later = next((name for name, state in orders.items() if state == final), None)
        assert later is not None, "the result is no serial order of the applied updates"
        changes = {
            name: {
                c.customer_id: c
                for c in db.session.scalars(
                    select(MassUpdateChange).where(MassUpdateChange.batch_id == batch_id)
                )
            }
            for name, batch_id in applied.items()
        }
        # each batch's audit lists exactly the customers it changed in that order
        sequence = sorted(applied, key=lambda n: n == later)
        state = start
        for name in sequence:
            after = _serial(state, [steps[name]], action)
            expected = {i for i in steps[name][0] if after[i] != state[i]}
            batch = db.session.get(MassUpdateBatch, applied[name])
            assert set(changes[name]) == expected, name
            assert batch.changed_count == len(expected), name
            state = after
        if action == "status" and len(applied) == 2:
            earlier = "first" if later == "second" else "second"
            overlap = set(chosen["first"]) & set(chosen["second"])
            # the later batch read the earlier one's result: nothing was lost
            assert {changes[later][i].before_value for i in overlap} == {steps[earlier][1]}
        db.session.remove()

    # undo, newest first: the starting state exactly
    with app.app_context():
        for name in sorted(applied, key=lambda n: n != later):
            mu.undo(first_user, applied[name])
            db.session.remove()
        assert _state(ids, action, seg_ids) == start
        db.session.remove()


@pytest.mark.commits
@pytest.mark.skipif(not is_postgres(), reason="row locks: PostgreSQL")
def test_racing_mass_updates_through_the_pages(app, make_user):
    """Two administrators confirm mass updates over overlapping ticked rows at the same moment,
    through the admin pages: both are applied, one after the other, and each is told so."""
    from ..helpers import log_in

    first_user, second_user = make_user("admin"), make_user("admin")
    with app.app_context():
        ids = [b.customer(f"Page race {n}").id for n in range(30)]
        passive = b.customer_status("Passive").id
        closed = b.customer_status("Closed").id
        db.session.commit()
        db.session.remove()
    clients, forms = {}, {}
    for name, user, chosen, value in (
        ("first", first_user, ids[:20], passive),
        ("second", second_user, ids[10:], closed),
    ):
        client = app.test_client()
        assert log_in(client, user).status_code == 302
        html = _preview(client, {"ids": ",".join(map(str, chosen))}, "status", value)
        html = html.get_data(as_text=True)
        forms[name] = {
            "csrf_token": csrf_token(client, BASE + "history/"),
            "token": _token(html),
            "return_url": "/admin/customers/",
        }
        clients[name] = client

    outcome = _race(
        app,
        {
            name: (lambda name=name: clients[name].post(BASE + "apply/", data=forms[name]))
            for name in clients
        },
    )
    for name, response in outcome.items():
        assert not isinstance(response, BaseException), response
        assert response.status_code == 302, response.get_data(as_text=True)
        [(category, message)] = _flashes(clients[name])
        assert category == "success" and "customers updated" in message, message
    with app.app_context():
        statuses = dict(db.session.execute(select(Customer.id, Customer.status_id)).all())
        batches = db.session.scalars(select(MassUpdateBatch)).all()
        assert len(batches) == 2
        overlap, only_first, only_second = ids[10:20], ids[:10], ids[20:]
        [last_value] = {statuses[i] for i in overlap}  # one of them wins the whole overlap
        assert last_value in (passive, closed)
        other_value = closed if last_value == passive else passive
        last = next(
            batch
            for batch in batches
            if batch.user_id == (first_user.id if last_value == passive else second_user.id)
        )
        assert {statuses[i] for i in only_first} == {passive}
        assert {statuses[i] for i in only_second} == {closed}
        before = {
            c.customer_id: c.before_value
            for c in db.session.scalars(
                select(MassUpdateChange).where(MassUpdateChange.batch_id == last.id)
            )
        }
        assert {before[i] for i in overlap} == {other_value}  # it saw the other's result
        db.session.remove()


# --------------------------------------------------------------------------- admin pages


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "no confirmation token on the page"
    return found.group(1)


def _apply(client, html: str, **fields):
    """Confirm the previewed mass update (its token is on the preview page ``html``)."""
    data = {"csrf_token": csrf_token(client, BASE + "history/"), "token": _token(html), **fields}
    return client.post(BASE + "apply/", data=data)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1).replace("&amp;", "&").replace("&#34;", '"').replace("&quot;", '"')


def _preview(client, params: dict, action: str, value, return_url="/admin/customers/?page=2"):
    page = client.get(
        BASE + "?" + urlencode({**params, "action": action, "return_url": return_url})
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, BASE + "?" + urlencode({**params, "action": action})),
        "action": action,
        "return_url": _hidden(html, "return_url"),
        "value": value,
    }
    for name in ("ids", "spec", "report", "own_only"):
        if f'name="{name}"' in html:
            data[name] = _hidden(html, name)
    return client.post(BASE + "preview/", data=data)


def test_ticked_rows_from_the_summary_end_to_end(app, client, login, world):
    login("admin")
    ids = world["ids"][:3]
    choose = client.get(f"{BASE}?ids={','.join(map(str, ids))}").get_data(as_text=True)
    assert "Mass update of 3 customers" in choose
    for action in mu.ACTIONS.values():
        assert str(action.label) in choose
    response = _preview(client, {"ids": ",".join(map(str, ids))}, "owner", world["newbie"].id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="changing">3<' in html and "Update 3 customers" in html
    assert "Olli Owner" in html and "Nina New" in html  # before -> after
    response = _apply(client, html, return_url="/admin/customers/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/customers/?page=2"
    [(category, message)] = _flashes(client)
    assert category == "success" and message.startswith("3 customers updated.")
    with app.app_context():
        assert {_customer(i).owner_id for i in ids} == {world["newbie"].id}
        batch = db.session.scalar(select(MassUpdateBatch))
        assert f"/admin/customers/mass-update/batch/{batch.id}/" in message


def test_all_matching_a_search_and_filters_from_the_summary(app, client, login, world):
    login("manager")
    spec = json.dumps(_oy_spec(world).to_spec())
    page = client.get(BASE + "?" + urlencode({"spec": spec, "action": "add_segments"}))
    html = page.get_data(as_text=True)
    assert "Mass update of 2 customers" in html
    assert "All active customers matching account owner Olli Owner, search “Oy”" in html
    response = _preview(client, {"spec": spec}, "add_segments", [world["export"]])
    html = response.get_data(as_text=True)
    assert "Update 2 customers" in html
    _apply(client, html)
    assert _flashes(client)[0][1].startswith("2 customers updated.")
    with app.app_context():
        assert [world["export"] in _segments_of(i) for i in world["ids"]] == [
            True,
            False,
            True,
            False,
            False,
            False,
            False,
            False,
        ]


def test_a_bad_value_goes_back_to_the_form_with_the_reason(client, login, world):
    login("admin")
    response = _preview(client, {"ids": str(world["ids"][0])}, "status", "4242")
    assert response.status_code == 302
    assert "action=status" in response.headers["Location"]
    assert "There is no status #4242" in _flashes(client)[0][1]


def test_every_post_needs_the_csrf_token(app, client, login, world):
    login("admin")
    ids = ",".join(map(str, world["ids"]))
    html = _preview(client, {"ids": ids}, "owner", world["newbie"].id).get_data(as_text=True)
    token = _token(html)
    with app.app_context():
        batch = mu.apply(None, world["ids"][:1], "status", world["status"])
        batch_id = batch.id
    posts = [
        (BASE + "preview/", {"ids": ids, "action": "owner", "value": world["newbie"].id}),
        (BASE + "apply/", {"token": token}),
        (BASE + f"batch/{batch_id}/undo/", {}),
        (BASE + "from-report/", {"customer_ids": ids.split(",")}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    with app.app_context():
        assert {_customer(i).owner_id for i in world["ids"]} != {world["newbie"].id}
        assert db.session.get(MassUpdateBatch, batch_id).undone_at is None


def test_a_tampered_or_foreign_confirmation_is_refused(app, client, login, world, make_user):
    user = login("admin")
    ids = world["ids"][:2]
    html = _preview(client, {"ids": ",".join(map(str, ids))}, "owner", world["newbie"].id).get_data(
        as_text=True
    )
    token = _token(html)
    forged_payload = {
        "u": user.id,
        "a": "owner",
        "v": world["newbie"].id,
        "s": {"ids": world["ids"]},
        "i": mu.pack_ids(world["ids"]),  # all eight instead of the two confirmed
        "k": "forged",
    }
    tampered = [
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        URLSafeTimedSerializer("guessed-key", salt="custreg-mass-update").dumps(forged_payload),
        URLSafeTimedSerializer(app.secret_key, salt="custreg-mass-update").dumps(
            {**forged_payload, "u": user.id + 1000}  # someone else's confirmation
        ),
        "",
    ]
    csrf = csrf_token(client, BASE + "history/")
    for bad in tampered:
        response = client.post(BASE + "apply/", data={"csrf_token": csrf, "token": bad})
        assert response.status_code == 302
        [(category, message)] = _flashes(client)
        assert category == "error" and "no longer valid" in message
        with client.session_transaction() as session:
            session.pop("_flashes", None)
    with app.app_context():
        assert _count(MassUpdateBatch) == 0
        assert all(_customer(i).owner_id != world["newbie"].id for i in world["ids"])


def test_the_confirmation_is_frozen_and_applies_once(app, client, login, world):
    login("admin")
    spec = json.dumps(_oy_spec(world).to_spec())
    html = _preview(client, {"spec": spec}, "owner", world["newbie"].id).get_data(as_text=True)
    with app.app_context():
        late = b.customer("Later Oy", owner=world["olli"])
        db.session.commit()
        late_id = late.id
    data = {"csrf_token": csrf_token(client, BASE + "history/"), "token": _token(html)}
    client.post(BASE + "apply/", data=data)
    assert _flashes(client)[0][1].startswith("2 customers updated.")
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    again = client.post(BASE + "apply/", data=data)  # the browser's back button, or a double click
    assert "/batch/" in again.headers["Location"]
    assert "already been applied" in _flashes(client)[0][1]
    with app.app_context():
        assert _customer(late_id).owner_id == world["olli"].id
        assert _count(MassUpdateBatch) == 1


def test_role_user_is_refused_and_may_continue_with_own_customers(app, client, login, world):
    with app.app_context():
        user = db.session.get(User, world["olli"].id)
        db.session.expunge(user)
    from ..helpers import log_in

    assert log_in(client, user).status_code == 302
    ids = ",".join(map(str, world["ids"][2:6]))
    choose = client.get(f"{BASE}?ids={ids}&action=status").get_data(as_text=True)
    assert "2 of these customers are owned by someone else" in choose
    html = _preview(client, {"ids": ids}, "status", world["status"]).get_data(as_text=True)
    assert (
        "2 of the selected customers are owned by someone else; you may only update your own"
        in html
    )
    assert 'data-testid="confirm"' not in html
    assert "Continue with only my 2 customers" in html
    # applying the refused confirmation anyway changes nothing
    _apply(client, html)
    assert "owned by someone else" in _flashes(client)[0][1]
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    with app.app_context():
        assert _count(MassUpdateBatch) == 0
    # "continue with only my 2 customers"
    form = html[html.index('data-testid="refusal"') :]
    data = {
        "csrf_token": csrf_token(client, BASE + "history/"),
        "action": "status",
        "value": str(world["status"]),
        "ids": ids,
        "own_only": "1",
        "return_url": _hidden(form, "return_url"),
    }
    assert _hidden(form, "own_only") == "1"
    html = client.post(BASE + "preview/", data=data).get_data(as_text=True)
    assert "Update 2 customers" in html
    _apply(client, html)
    assert _flashes(client)[0][1].startswith("2 customers updated.")
    with app.app_context():
        statuses = [_customer(i).status_id for i in world["ids"][2:6]]
        assert statuses == [world["status"]] * 2 + [world["active"]] * 2


def test_history_batch_page_and_undo(app, client, login, world):
    login("admin")
    with app.app_context():
        batch = mu.apply(
            db.session.get(User, world["newbie"].id),
            world["ids"],
            "industry",
            world["retail_industry"],
            selection=mu.Selection.of_set(_oy_spec(world)),
        )
        batch_id = batch.id
        _customer(world["ids"][0]).industry_id = None  # a later edit
        db.session.commit()
    history = client.get(BASE + "history/").get_data(as_text=True)
    assert f'data-batch="{batch_id}"' in history
    assert "Nina New" in history and "Change industry" in history and "47 Retail trade" in history
    assert client.get(BASE).headers["Location"].endswith("/history/")
    page = client.get(BASE + f"batch/{batch_id}/").get_data(as_text=True)
    assert "8 selected: 8 changed" in page and page.count("62 IT services") == 8
    undo_page = client.get(BASE + f"batch/{batch_id}/undo/").get_data(as_text=True)
    assert "7</strong> customers will get" in undo_page
    assert "1</strong> will be skipped: Changed again since the mass update" in undo_page
    response = client.post(
        BASE + f"batch/{batch_id}/undo/",
        data={"csrf_token": csrf_token(client, BASE + f"batch/{batch_id}/undo/")},
    )
    assert response.status_code == 302 and "skipped=1" in response.headers["Location"]
    assert "7 customers restored. 1 customer skipped" in _flashes(client)[0][1]
    skipped = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Changed again since the mass update" in skipped and "Firm 0 Oy" in skipped
    assert "Firm 3 AB" not in skipped
    history = client.get(BASE + "history/").get_data(as_text=True)
    assert "Undone" in history and f"Undo of #{batch_id}" in history


def test_batch_pages_are_paged(app, client, login):
    login("admin")
    with app.app_context():
        ids = [b.customer(f"Paged {n:03d}").id for n in range(60)]
        status = _refs()["status"]
        db.session.commit()
        batch_id = mu.apply(None, ids, "status", status).id
    first = client.get(BASE + f"batch/{batch_id}/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Paged 000" in first and "Paged 059" not in first
    second = client.get(BASE + f"batch/{batch_id}/?page=1").get_data(as_text=True)
    assert "Paged 059" in second and "Paged 000" not in second


def test_role_user_cannot_undo_someone_elses_batch(app, client, login, world):
    with app.app_context():
        batch_id = mu.apply(None, world["ids"][:1], "status", world["status"]).id
    login("user")
    assert "Undo…" not in client.get(BASE + f"batch/{batch_id}/").get_data(as_text=True)
    client.post(
        BASE + f"batch/{batch_id}/undo/",
        data={"csrf_token": csrf_token(client, BASE + "history/")},
    )
    assert "only your own mass updates" in _flashes(client)[0][1]


def test_from_a_customers_report(app, client, login, world):
    """The reports page posts ticked rows or "all matching" with the report's query string."""
    login("admin")
    query = urlencode({"type": "customers", "columns": "name", "f_owner": str(world["pia"].id)})
    csrf = csrf_token(client, BASE + "history/")
    ticked = client.post(
        BASE + "from-report/",
        data={"csrf_token": csrf, "report_query": query, "customer_ids": world["ids"][:2]},
    )
    location = urlsplit(ticked.headers["Location"])
    args = parse_qs(location.query)
    assert args["ids"] == [f"{world['ids'][0]},{world['ids'][1]}"]
    assert args["return_url"][0].startswith("/admin/reports/build/?type=customers")
    everyone = client.post(
        BASE + "from-report/",
        data={"csrf_token": csrf, "report_query": query, "all_matching": "1"},
    )
    args = parse_qs(urlsplit(everyone.headers["Location"]).query)
    assert args["report"] == [query]
    page = client.get(everyone.headers["Location"]).get_data(as_text=True)
    # the report's default "active state" filter leaves out the inactivated firm 6
    assert "Mass update of 3 customers" in page
    assert "All customers of the Customers report (Account owner: Pia Owner" in page
    html = _preview(client, {"report": query}, "owner", world["newbie"].id).get_data(as_text=True)
    assert "Update 3 customers" in html


def test_the_menu_and_a_return_url_elsewhere(client, login, world):
    login("admin")
    home = client.get("/admin/").get_data(as_text=True)
    assert f'href="{BASE}">Mass updates' in home or f'href="{BASE}"' in home
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example", "x"):
        query = urlencode({"ids": world["ids"][0], "action": "owner", "return_url": elsewhere})
        page = client.get(f"{BASE}?{query}").get_data(as_text=True)
        assert _hidden(page, "return_url") == "/admin/customers/"
    # the Summary's action hands over its Referer: a full URL of this site keeps its query
    here = "http://localhost/admin/customers/?search=oy&page=2"
    query = urlencode({"ids": world["ids"][0], "action": "owner", "return_url": here})
    page = client.get(f"{BASE}?{query}").get_data(as_text=True)
    assert _hidden(page, "return_url") == "/admin/customers/?search=oy&page=2"


def test_an_unreadable_selection_goes_back_with_a_message(client, login):
    login("admin")
    response = client.get(BASE + "?spec=%7Bbroken")
    assert response.status_code == 302
    assert "The selection is not valid" in _flashes(client)[0][1]


def test_clearing_the_industry_from_the_form(app, client, login, world):
    login("admin")
    ids = ",".join(map(str, world["ids"][:2]))
    page = client.get(f"{BASE}?ids={ids}&action=industry").get_data(as_text=True)
    assert '<option value="none"' in page and "clear the industry" in page
    html = _preview(client, {"ids": ids}, "industry", "none").get_data(as_text=True)
    assert "Change industry to (none)" in html and "Update 2 customers" in html
    _apply(client, html)
    with app.app_context():
        assert [_customer(i).industry_id for i in world["ids"][:3]] == [None, None, world["it"]]


def test_the_empty_choose_placeholder_does_not_clear_the_industry(app, client, login, world):
    user = login("admin")
    ids = ",".join(map(str, world["ids"][:2]))
    page = client.get(f"{BASE}?ids={ids}&action=industry").get_data(as_text=True)
    assert '<option value="" disabled selected>' in page
    for value in ("", None):  # the placeholder posted, or no value at all
        response = _preview(client, {"ids": ids}, "industry", value)
        assert response.status_code == 302 and "action=industry" in response.headers["Location"]
        assert "Choose the industry, or “(none)” to clear it." in _flashes(client)[-1][1]
    # a confirmation forged to carry an empty value is refused the same way
    with app.app_context():
        forged = URLSafeTimedSerializer(app.secret_key, salt="custreg-mass-update").dumps(
            {
                "u": user.id,
                "a": "industry",
                "v": "",
                "s": {"ids": world["ids"][:2]},
                "i": mu.pack_ids(world["ids"][:2]),
                "k": "forged-empty",
            }
        )
    client.post(
        BASE + "apply/", data={"csrf_token": csrf_token(client, BASE + "history/"), "token": forged}
    )
    assert "Choose the industry" in _flashes(client)[-1][1]
    with app.app_context():
        assert [_customer(i).industry_id for i in world["ids"][:2]] == [world["it"]] * 2
        assert _count(MassUpdateBatch) == 0


def test_a_nothing_to_change_confirmation_is_refused(app, client, login, world):
    login("admin")
    ids = ",".join(map(str, world["ids"][:2]))
    html = _preview(client, {"ids": ids}, "industry", str(world["it"])).get_data(as_text=True)
    assert "Nothing to change: every selected customer already has that value." in html
    assert 'data-testid="confirm"' not in html
    response = _apply(client, html)
    assert response.status_code == 302 and "action=industry" in response.headers["Location"]
    category, message = _flashes(client)[-1]
    assert category == "error"
    assert message == (
        "Nothing to apply: all 2 selected customers already have that value. "
        "Nothing was changed or recorded."
    )
    with app.app_context():
        assert _count(MassUpdateBatch) == 0 and _count(MassUpdateChange) == 0
    history = client.get(BASE + "history/").get_data(as_text=True)
    assert "Change industry" not in history


def test_a_segment_batch_lists_each_customer_once(app, client, login, world):
    login("admin")
    with app.app_context():
        batch_id = mu.apply(
            None, world["ids"][:3], "add_segments", [world["export"], world["retail"]]
        ).id
        rows, total = mu.batch_changes(db.session.get(MassUpdateBatch, batch_id))
        assert total == 3
        assert [(r.before, r.after) for r in rows] == [
            ("not in Export", "in Export"),
            ("not in Export, Retail", "in Export, Retail"),
            ("not in Export, Retail", "in Export, Retail"),
        ]
    page = client.get(BASE + f"batch/{batch_id}/").get_data(as_text=True)
    assert page.count("in Export, Retail") == 4 and "Changes <small>(3)" in page


def test_all_customers_are_counted_and_planned_as_many_as_there_are(ctx, world):
    """ "All N matching" with no condition at all (every customer, inactivated too): the choose
    page's count and the plan hold every customer, not one row of a FROM-less count."""
    every = CustomerSet(parts=(CustomerFilter(active_state="all"),))
    selection = mu.Selection.of_set(every)
    total = _count(Customer)
    assert total >= 8
    assert mu.count_selection(world["newbie"], selection) == (total, None)
    plan = mu.plan(world["newbie"], selection, "owner", world["olli"].id)
    assert plan.total == total
    assert plan.changing == total - 4  # Olli owns four of them already
    assert plan.unchanged == 4 and not plan.refused_ids
    # role user: only their own may change; the others are refused, by id
    own = mu.plan(world["olli"], selection, "industry", world["retail_industry"])
    assert (own.total, own.changing, own.unchanged, own.refused) == (total, 4, 0, total - 4)
    assert set(own.refused_ids) == set(
        db.session.scalars(select(Customer.id).where(Customer.owner_id != world["olli"].id))
    ) | set(db.session.scalars(select(Customer.id).where(Customer.owner_id.is_(None))))
