"""Mass update cases: select all customers, change the account owner, against raw SQL.

* ``plan``: :func:`~custreg_admin.services.mass_update.plan` (freeze the ids, count, preview)
  against a raw ``SELECT id, owner_id ... ORDER BY id`` of the same customers.
* ``apply``: :func:`~custreg_admin.services.mass_update.apply` with its audit (a change row per
  customer, row locks, permission check, commit) against one raw ``UPDATE`` of the same rows
  (``owner_id`` and ``updated_at``, as the module sets both) and a commit.
* ``undo``: :func:`~custreg_admin.services.mass_update.undo` of such a batch against one raw
  ``UPDATE ... FROM`` that puts the saved owners back.

The cases write, so each run is followed (untimed) by a reset: the owners and ``updated_at``
are put back from a snapshot table and the batches deleted. At the end the data is as it was;
the two mass update tables are created if the database predates them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select, text

from custreg_admin.extensions import db
from custreg_admin.models import Customer, MassUpdateBatch, MassUpdateChange, User
from custreg_admin.services import mass_update
from custreg_admin.services.customer_filter import CustomerFilter, CustomerSet

from .common import BenchEnv, CaseResult, median, write_heavy

SNAPSHOT = "bench_mass_update_snapshot"
ALL_CUSTOMERS = CustomerSet(parts=(CustomerFilter(active_state="all"),))


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


def _take_snapshot() -> None:
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {SNAPSHOT}"))
        connection.execute(
            text(
                f"CREATE TABLE {SNAPSHOT} AS SELECT id, owner_id, updated_at FROM custreg_customer"
            )
        )


def _restore() -> None:
    """Owners and ``updated_at`` back from the snapshot; no mass update batches left."""
    db.session.rollback()
    db.session.execute(
        text(
            f"UPDATE custreg_customer SET owner_id = s.owner_id, updated_at = s.updated_at "
            f"FROM {SNAPSHOT} s WHERE s.id = custreg_customer.id "
            "AND (custreg_customer.owner_id IS DISTINCT FROM s.owner_id "
            "OR custreg_customer.updated_at IS DISTINCT FROM s.updated_at)"
        )
    )
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


def _runs(
    function: Callable[[], Any],
    runs: int,
    *,
    before: Callable[[], Any] | None = None,
    after: Callable[[], Any] | None = None,
) -> tuple[list[float], Any]:
    """Time ``function`` ``runs`` times after one warm-up; ``before`` and ``after`` run around
    every call, untimed. Returns (milliseconds per run, the last ``after``'s result)."""
    result = None
    times = []
    for index in range(runs + 1):
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        elapsed = (time.perf_counter() - started) * 1000
        if after is not None:
            result = after()
        if index:  # the first is the warm-up
            times.append(elapsed)
    return times, result


def _result(
    name: str,
    runs: list[float],
    baseline: list[float],
    result: dict,
    baseline_result: dict,
    *,
    goal_ms: float | None = None,
) -> CaseResult:
    return CaseResult(
        case=name,
        median_ms=round(median(runs), 2),
        baseline_median_ms=round(median(baseline), 2),
        runs_ms=[round(t, 2) for t in runs],
        baseline_runs_ms=[round(t, 2) for t in baseline],
        same_result=result == baseline_result,
        result=result,
        baseline_result=baseline_result,
        goal_ms=goal_ms,
        paired=False,  # one side after the other: a ratio of medians
    )


@write_heavy
def mass_update_plan(env: BenchEnv) -> CaseResult:
    """Confirmation page: freeze all N ids, count those that change, preview 20 rows."""
    _ensure_tables()
    admin, owner = _admin(), _target_owner()
    selection = mass_update.Selection.of_set(ALL_CUSTOMERS)
    plans: list[mass_update.Plan] = []
    rows: list[Any] = []

    def module() -> None:
        plans.append(mass_update.plan(admin, selection, "owner", owner))
        db.session.rollback()

    def baseline() -> None:
        found = db.session.execute(
            text("SELECT id, owner_id FROM custreg_customer ORDER BY id")
        ).all()
        rows.append((len(found), sum(1 for row in found if row.owner_id != owner)))
        db.session.rollback()

    runs, _ = _runs(module, env.runs)
    baseline_runs, _ = _runs(baseline, env.runs)
    plan = plans[-1]
    return _result(
        "mass update: plan, select all",
        runs,
        baseline_runs,
        {"customers": plan.total, "changing": plan.changing},
        {"customers": rows[-1][0], "changing": rows[-1][1]},
    )


@write_heavy
def mass_update_apply(env: BenchEnv) -> CaseResult:
    """Change the owner of every customer with audit, against one raw UPDATE."""
    _ensure_tables()
    admin, owner = _admin(), _target_owner()
    plan = mass_update.plan(admin, mass_update.Selection.of_set(ALL_CUSTOMERS), "owner", owner)
    db.session.rollback()
    _take_snapshot()
    try:
        batches: list[MassUpdateBatch] = []

        def module() -> None:
            batches.append(mass_update.apply(admin, plan))

        def module_after() -> dict:
            batch = batches[-1]
            outcome = {
                "customers_with_new_owner": _owned_by(owner),
                "changed": batch.changed_count,
            }
            _restore()
            return outcome

        def baseline() -> None:
            result = db.session.execute(
                text(
                    "UPDATE custreg_customer SET owner_id = :owner, updated_at = CURRENT_TIMESTAMP "
                    "WHERE owner_id IS DISTINCT FROM :owner"
                ),
                {"owner": owner},
            )
            db.session.commit()
            batches.append(result.rowcount)

        def baseline_after() -> dict:
            outcome = {"customers_with_new_owner": _owned_by(owner), "changed": batches[-1]}
            _restore()
            return outcome

        runs, result = _runs(module, env.runs, after=module_after)
        baseline_runs, baseline_result = _runs(baseline, env.runs, after=baseline_after)
    finally:
        _restore()
        _drop_snapshot()
    return _result(
        "mass update: apply owner, all (audit)",
        runs,
        baseline_runs,
        result,
        baseline_result,
        goal_ms=5000,  # absolute, on a 2-core machine
    )


@write_heavy
def mass_update_undo(env: BenchEnv) -> CaseResult:
    """Undo the owner change of every customer, against one raw UPDATE ... FROM."""
    _ensure_tables()
    admin, owner = _admin(), _target_owner()
    plan = mass_update.plan(admin, mass_update.Selection.of_set(ALL_CUSTOMERS), "owner", owner)
    db.session.rollback()
    _take_snapshot()
    try:
        applied: list[int] = []

        def change() -> None:
            applied.append(mass_update.apply(admin, plan).id)

        def module() -> None:
            mass_update.undo(admin, applied[-1])

        def raw_change() -> None:
            db.session.execute(
                text(
                    "UPDATE custreg_customer SET owner_id = :owner, updated_at = CURRENT_TIMESTAMP "
                    "WHERE owner_id IS DISTINCT FROM :owner"
                ),
                {"owner": owner},
            )
            db.session.commit()

        def baseline() -> None:
            db.session.execute(
                text(
                    f"UPDATE custreg_customer SET owner_id = s.owner_id, "
                    f"updated_at = CURRENT_TIMESTAMP FROM {SNAPSHOT} s "
                    "WHERE s.id = custreg_customer.id "
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
            _restore()
            return {"owners_differing_from_before": differing}

        runs, result = _runs(module, env.runs, before=change, after=restored)
        baseline_runs, baseline_result = _runs(
            baseline, env.runs, before=raw_change, after=restored
        )
    finally:
        _restore()
        _drop_snapshot()
    return _result("mass update: undo owner, all", runs, baseline_runs, result, baseline_result)


CASES = [mass_update_plan, mass_update_apply, mass_update_undo]
