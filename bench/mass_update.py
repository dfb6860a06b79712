"""Mass update cases: select all customers, change the account owner, against raw SQL.

* ``flow``: the whole user flow through the pages, as the demo administrator in a Flask test
  client: the choose page of "all N matching" (``GET``, counts the selection), the preview
  (``POST``: freezes the N ids, counts those that change, previews 20 rows, signs the
  confirmation) and the apply (``POST``: row locks, permission check, the audit's change rows,
  one ``UPDATE ... FROM`` them, each customer's history entry, commit). Against the raw SQL
  a competent engineer would write for the same change with its audit: one batch row, one
  ``INSERT ... SELECT`` of the change rows (before, after) and one ``UPDATE`` of the same
  customers (``owner_id``, ``updated_at``, ``version``), and a commit. Two rows: the ratio
  (goal <= 1.5) and the flow's absolute time (goal < 5 s at 100k customers on SQLite).
* ``undo``: :func:`~custreg_admin.services.mass_update.undo` of such a batch against one raw
  ``UPDATE ... FROM`` that puts the saved owners back.

Both are timed in pairs (:func:`bench.common.paired`, the order alternating). The cases write,
so each run is followed (untimed) by a reset: the owners, ``updated_at`` and ``version`` are
put back from a snapshot table, and the batches and the history entries the run wrote are
deleted. At the end the data is as it was.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, text

from custreg_admin.extensions import db
from custreg_admin.models import (
    Customer,
    CustomerEvent,
    CustomerKey,
    MassUpdateBatch,
    MassUpdateChange,
    User,
)
from custreg_admin.services import kpi_viewers, mass_update
from custreg_admin.services.customer_filter import CustomerFilter, CustomerSet

from .common import BenchEnv, CaseResult, paired, write_heavy
from .summary import _CSRF, _logged_in_client

SNAPSHOT = "bench_mass_update_snapshot"
ALL_CUSTOMERS = CustomerSet(parts=(CustomerFilter(active_state="all"),))
#: The issue's goal is an owner change of 100,000 customers: on a bigger set (the 1M set) the
#: flow selects "all matching" the status, owner or industry filter nearest to 100,000 customers
#: (on the demo's million: the status "Passive", about 129,000) instead of every customer.
FLOW_ALL_UP_TO = 150_000


def _ensure_tables() -> None:
    tables = [MassUpdateBatch.__table__, MassUpdateChange.__table__]
    db.metadata.create_all(db.engine, tables=tables, checkfirst=True)


def _admin() -> User:
    admin = db.session.scalar(
        select(User).where(User.role == "admin", User.is_active.is_(True)).order_by(User.id)
    )
    if admin is None:
        return User(id=0, email="bench-admin@example.com", name="Bench admin", role="admin")
    db.session.expunge(admin)
    return admin


def _target_owner() -> int:
    """The active user who owns the fewest customers: nearly every customer changes."""
    owned = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.owner_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    return db.session.scalar(
        select(User.id).where(User.is_active.is_(True)).order_by(owned, User.id).limit(1)
    )


#: The filters the flow may pick on a big set: the Summary filter and the customer column.
_FILTERS = {"status_id": "status_id", "owner_id": "owner_id", "industry_id": "industry_id"}


def _filter_near(target: int) -> tuple[str, int, int]:
    """(column, value, customers) of the status, owner or industry filter whose customers are
    nearest to ``target`` in number."""
    best: tuple[int, str, int, int] | None = None
    for column in _FILTERS:
        attribute = getattr(Customer, column)
        rows = db.session.execute(
            select(attribute, func.count()).where(attribute.is_not(None)).group_by(attribute)
        )
        for value, count in rows:
            candidate = (abs(count - target), column, value, count)
            best = candidate if best is None or candidate < best else best
    if best is None:
        raise RuntimeError("the demo data has no status, owner or industry to filter by")
    return best[1], best[2], best[3]


def _runs(env: BenchEnv) -> int:
    """Pairs of a write case: at most 3 on a set bigger than :data:`FLOW_ALL_UP_TO` (each run
    of either side writes some 100,000 rows, and the snapshot is restored after it)."""
    return env.runs if env.customers <= FLOW_ALL_UP_TO else min(env.runs, 3)


def _flow_selection(env: BenchEnv) -> tuple[CustomerSet, tuple[str, int] | None, int]:
    """What the flow selects: every customer, or (above :data:`FLOW_ALL_UP_TO`) "all matching"
    the status, owner or industry filter nearest to 100,000 customers; and how many."""
    if env.customers <= FLOW_ALL_UP_TO:
        return ALL_CUSTOMERS, None, env.customers
    column, value, count = _filter_near(100_000)
    part = CustomerFilter(active_state="all", **{_FILTERS[column]: value})
    return CustomerSet(parts=(part,)), (column, value), count


def _take_snapshot() -> None:
    _EVENTS_BEFORE[0] = db.session.scalar(select(func.max(CustomerEvent.id))) or 0
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {SNAPSHOT}"))
        connection.execute(
            text(
                f"CREATE TABLE {SNAPSHOT} AS "
                "SELECT id, owner_id, updated_at, version FROM custreg_customer"
            )
        )


_EVENTS_BEFORE: list[int] = [0]


def _restore() -> None:
    """Owners, ``updated_at`` and ``version`` back from the snapshot; no mass update batches,
    and none of the history entries written since the snapshot, left."""
    db.session.rollback()
    db.session.execute(
        text(
            f"UPDATE custreg_customer SET owner_id = s.owner_id, updated_at = s.updated_at, "
            f"version = s.version FROM {SNAPSHOT} s WHERE s.id = custreg_customer.id "
            "AND (custreg_customer.owner_id IS DISTINCT FROM s.owner_id "
            "OR custreg_customer.updated_at IS DISTINCT FROM s.updated_at "
            "OR custreg_customer.version IS DISTINCT FROM s.version)"
        )
    )
    # the Summary's stored owner names of the customers changed since (their history says which)
    db.session.execute(
        text(
            "UPDATE custreg_customer_key SET owner = (SELECT u.name FROM custreg_customer c "
            "LEFT JOIN custreg_user u ON u.id = c.owner_id "
            "WHERE c.id = custreg_customer_key.customer_id) "
            "WHERE customer_id IN (SELECT customer_id FROM custreg_customer_event WHERE id > :e)"
        ),
        {"e": _EVENTS_BEFORE[0]},
    )
    # and the KPI rows per viewer of those customers follow their owner back (raw SQL above)
    changed = select(CustomerEvent.customer_id).where(CustomerEvent.id > _EVENTS_BEFORE[0])
    kpi_viewers.move_owners(db.session, where=Customer.id.in_(changed))
    db.session.execute(delete(CustomerEvent).where(CustomerEvent.id > _EVENTS_BEFORE[0]))
    db.session.execute(delete(MassUpdateChange))
    db.session.execute(delete(MassUpdateBatch))
    db.session.commit()


def _drop_snapshot() -> None:
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {SNAPSHOT}"))


def _owned_by(owner_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.owner_id == owner_id)
    )


BASE = "/admin/customers/mass-update/"
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _raw_update_with_audit(
    admin: User, owner: int, only_where: tuple[str, int] | None = None
) -> int:
    """The hand-written SQL: a batch row, the audit's change rows, the UPDATE; one commit.
    ``only_where``: (column, value), the flow's filter on a big set."""
    only = "" if only_where is None else f" AND {only_where[0]} = :only_value"
    from_owner = None if only_where is None else only_where[1]
    batch_id = db.session.execute(
        text(
            "INSERT INTO custreg_mass_update_batch (user_id, user_name, at, action, value, "
            "value_label, selection, selection_label, selected_count, changed_count, "
            "unchanged_count, skipped_count) VALUES (:user, :name, CURRENT_TIMESTAMP, 'owner', "
            ":value, 'raw', '{}', 'raw', 0, 0, 0, 0) RETURNING id"
        ),
        {"user": admin.id, "name": admin.name, "value": json.dumps({"id": owner})},
    ).scalar_one()
    db.session.execute(
        text(
            "INSERT INTO custreg_mass_update_change (batch_id, customer_id, before_value, "
            "after_value) SELECT :batch, id, owner_id, :owner FROM custreg_customer "
            "WHERE owner_id IS DISTINCT FROM :owner" + only
        ),
        {"batch": batch_id, "owner": owner, "only_value": from_owner},
    )
    changed = db.session.execute(
        text(
            "UPDATE custreg_customer SET owner_id = :owner, updated_at = CURRENT_TIMESTAMP, "
            "version = version + 1 WHERE owner_id IS DISTINCT FROM :owner" + only
        ),
        {"owner": owner, "only_value": from_owner},
    ).rowcount
    db.session.commit()
    return changed


_RAW_HISTORY = """
    INSERT INTO custreg_customer_event (customer_id, user_id, user_name, at, kind, entity_type,
        entity_id, related_customer_id, message, details)
    SELECT ch.customer_id, :user, :name, :at, 'mass_updated', 'customer', ch.customer_id, NULL,
        :message, {obj}('v', 2, 'entity', 'customer', 'batch', ch.batch_id, 'action', 'owner',
            'changes', {obj}('owner', {arr}(was.name, now.name)))
    FROM custreg_mass_update_change ch
    LEFT JOIN custreg_user was ON was.id = ch.before_value
    LEFT JOIN custreg_user now ON now.id = ch.after_value
    WHERE ch.batch_id = :batch
"""


def _raw_same_writes(admin: User, owner: int, only_where: tuple[str, int] | None = None) -> int:
    """:func:`_raw_update_with_audit`, then what else the module's apply leaves behind, in
    hand-written SQL: each customer's history entry (the same details, one ``INSERT ...
    SELECT`` from the change rows) and the Summary's stored owner name (one ``UPDATE`` to the
    new owner's name, a constant)."""
    changed = _raw_update_with_audit(admin, owner, only_where)
    sqlite = db.engine.dialect.name == "sqlite"
    batch = db.session.scalar(select(func.max(MassUpdateBatch.id)))
    obj, arr = (
        ("json_object", "json_array") if sqlite else ("json_build_object", "json_build_array")
    )
    db.session.execute(
        text(_RAW_HISTORY.format(obj=obj, arr=arr)),
        {
            "user": admin.id,
            "name": admin.name,
            "at": datetime.now(UTC).replace(tzinfo=None),
            "message": f"Mass update #{batch}",
            "batch": batch,
        },
    )
    db.session.execute(
        text(
            "UPDATE custreg_customer_key SET owner = (SELECT name FROM custreg_user WHERE id = :o) "
            "WHERE customer_id IN (SELECT customer_id FROM custreg_mass_update_change "
            "WHERE batch_id = :batch)"
        ),
        {"o": owner, "batch": batch},
    )
    db.session.commit()
    return changed


def _same_writes_outcome(owner: int) -> dict:
    """:func:`_outcome`, the history entries written since the snapshot, and the stored owner
    names that now name the new owner."""
    name = db.session.scalar(select(User.name).where(User.id == owner))
    return {
        **_outcome(owner),
        "history_entries": db.session.scalar(
            select(func.count()).where(CustomerEvent.id > _EVENTS_BEFORE[0])
        ),
        "owner_keys": db.session.scalar(
            select(func.count()).select_from(CustomerKey).where(CustomerKey.owner == name)
        ),
    }


def _changed_in_last_batch() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(MassUpdateChange)
        .where(MassUpdateChange.batch_id == select(func.max(MassUpdateBatch.id)).scalar_subquery())
    )


def _outcome(owner: int) -> dict:
    return {"customers_with_new_owner": _owned_by(owner), "changed": _changed_in_last_batch()}


@write_heavy
def mass_update_flow(env: BenchEnv) -> list[CaseResult]:
    """Select all, change the owner, through the pages; against a raw UPDATE plus audit."""
    _ensure_tables()
    admin, owner = _admin(), _target_owner()
    chosen, only_where, selected = _flow_selection(env)
    _app, client = _logged_in_client(env)
    spec = json.dumps(mass_update.Selection.of_set(chosen).spec, separators=(",", ":"))
    return_url = "/admin/customers/"
    db.session.rollback()
    _take_snapshot()

    def module() -> None:
        choose = client.get(
            BASE, query_string={"spec": spec, "action": "owner", "return_url": return_url}
        )
        page = choose.get_data(as_text=True)
        if choose.status_code != 200 or not _CSRF.search(page):
            raise RuntimeError(f"the choose page failed (HTTP {choose.status_code})")
        form = {"csrf_token": _CSRF.search(page).group(1), "return_url": return_url}
        preview = client.post(
            BASE + "preview/", data={**form, "spec": spec, "action": "owner", "value": owner}
        )
        token = _TOKEN.search(preview.get_data(as_text=True))
        if preview.status_code != 200 or token is None:
            raise RuntimeError(f"the preview failed (HTTP {preview.status_code})")
        applied = client.post(BASE + "apply/", data={**form, "token": token.group(1)})
        if applied.status_code != 302 or applied.headers.get("Location") != return_url:
            raise RuntimeError(f"the apply failed (HTTP {applied.status_code})")

    def baseline() -> None:
        _raw_update_with_audit(admin, owner, only_where)

    try:
        measured = paired(
            module,
            baseline,
            _runs(env),
            reset=_restore,
            module_after=lambda: _outcome(owner),
            baseline_after=lambda: _outcome(owner),
        )
        # the same flow against hand-written SQL that leaves the same rows behind
        same_writes = paired(
            module,
            lambda: _raw_same_writes(admin, owner, only_where),
            _runs(env),
            reset=_restore,
            module_after=lambda: _same_writes_outcome(owner),
            baseline_after=lambda: _same_writes_outcome(owner),
            warmup=False,
        )
    finally:
        _restore()
        _drop_snapshot()
    same = measured.result == measured.baseline_result
    which = "all" if only_where is None else f"all of {only_where[0]} {only_where[1]},"
    name = f"mass update: owner, {which} {selected:,}, via pages"
    return [
        CaseResult.of(
            name,
            measured,
            same_result=same,
            goal_ratio=1.5,
            note="baseline: batch row, change rows, UPDATE (the issue's goal)",
        ),
        CaseResult.of(f"{name} (abs.)", measured, same_result=same, goal_ms=5000),
        CaseResult.of(
            f"{name}, vs the same writes",
            same_writes,
            same_result=same_writes.result == same_writes.baseline_result,
            note="baseline also writes the history entries and the stored owner names",
        ),
    ]


@write_heavy
def mass_update_undo(env: BenchEnv) -> CaseResult:
    """Undo the owner change of every customer, against one raw UPDATE ... FROM."""
    _ensure_tables()
    admin, owner = _admin(), _target_owner()
    chosen, _only_where, _selected = _flow_selection(env)
    plan = mass_update.plan(admin, mass_update.Selection.of_set(chosen), "owner", owner)
    db.session.rollback()
    _take_snapshot()
    applied: list[int] = []

    def change() -> None:
        """Untimed, after every run: back to the start, then the change both sides undo."""
        _restore()
        applied.append(mass_update.apply(admin, plan).id)

    def module() -> None:
        mass_update.undo(admin, applied[-1])

    def baseline() -> None:
        db.session.execute(
            text(
                f"UPDATE custreg_customer SET owner_id = s.owner_id, "
                f"updated_at = CURRENT_TIMESTAMP, version = custreg_customer.version + 1 "
                f"FROM {SNAPSHOT} s WHERE s.id = custreg_customer.id "
                "AND custreg_customer.owner_id IS DISTINCT FROM s.owner_id"
            )
        )
        db.session.commit()

    def restored() -> dict:
        differing = db.session.scalar(
            text(
                f"SELECT COUNT(*) FROM custreg_customer c JOIN {SNAPSHOT} s ON s.id = c.id "
                "WHERE c.owner_id IS DISTINCT FROM s.owner_id"
            )
        )
        return {"owners_differing_from_before": differing}

    try:
        change()
        measured = paired(
            module,
            baseline,
            _runs(env),
            reset=change,
            module_after=restored,
            baseline_after=restored,
        )
    finally:
        _restore()
        _drop_snapshot()
    return CaseResult.of(
        f"mass update: undo owner, {plan.changing:,}",
        measured,
        same_result=measured.result == measured.baseline_result,
    )


CASES = [mass_update_flow, mass_update_undo]
