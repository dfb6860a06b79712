"""A review job's checked rows, stored batch by batch (:class:`RowStore`), so that memory holds
one batch whatever the file's size.

After each batch the plans its rows opened are settled (:meth:`.validation.Validator.settle`)
and the rows are inserted once, with their final action and errors; each plan is kept as JSON on
its customer's first row (what apply reads, and the state a later row of the same customer takes
back). The validator keeps only each plan's key, as a hash. When a later batch reopens a plan,
its rows stored earlier are brought in line by plan number (a few ``UPDATE`` statements).

On PostgreSQL with psycopg 3 the rows go in by ``COPY``; elsewhere by one multi-row ``INSERT``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, insert, select, update

from ...extensions import db
from ...models import ImportRow, ImportRun
from ...models.history import utcnow
from .validation import Plan, RowResult, Validator, another_row_error, changes_of

_row = ImportRow.__table__
_run = ImportRun.__table__
COLUMNS = (
    "run_id", "line", "plan_no", "raw", "errors", "has_errors", "action", "customer",
    "changes", "notes", "plan", "number",
)  # fmt: skip
_JSON = {"raw", "errors", "changes", "notes", "plan"}
#: outcomes whose plans apply reads (on the plan's first row)
APPLIED = ("new", "update")


# --- plans as JSON -----------------------------------------------------------------------------


def _out(value: Any) -> Any:
    return {"new": list(value)} if isinstance(value, tuple) else value


def _in(value: Any) -> Any:
    return tuple(value["new"]) if isinstance(value, dict) and "new" in value else value


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "existing_id": plan.existing_id, "label": plan.label, "lines": plan.lines[:1],
        "values": {k: _out(v) for k, v in plan.values.items()},
        "segments": [_out(s) for s in plan.segments], "contacts": plan.contacts,
        "addresses": plan.addresses, "einvoices": plan.einvoices, "before": plan.before,
        "shown": plan.shown, "error": plan.error, "no": plan.no,
        "key": list(plan.key) if plan.key is not None else None,
    }  # fmt: skip


def plan_from_json(data: dict[str, Any]) -> Plan:
    return Plan(
        lines=data["lines"], existing_id=data["existing_id"], label=data["label"],
        values={k: _in(v) for k, v in data["values"].items()},
        segments=[_in(s) for s in data["segments"]], contacts=data["contacts"],
        addresses=data["addresses"], einvoices=data["einvoices"], before=data["before"],
        shown=data["shown"], error=data.get("error", False), no=data.get("no", 0),
        key=tuple(data["key"]) if data.get("key") is not None else None,
    )  # fmt: skip


# --- storing -----------------------------------------------------------------------------------


class RowStore:
    """Stores the checked rows of run ``run_id`` a batch at a time (:meth:`flush`)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.validator: Validator | None = None

    def reopen(self, plan_no: int) -> Plan | None:
        """A spilled plan back from its first row (the state before it was settled)."""
        data = db.session.scalar(
            select(_row.c.plan).where(
                _row.c.run_id == self.run_id, _row.c.plan_no == plan_no, _row.c.plan.is_not(None)
            )
        )
        if data is None:
            return None
        return plan_from_json(data.get("open") or data)

    def flush(self, rows: list[RowResult]) -> int:
        """Settle the plans the batch ``rows`` touched, store the rows, bring earlier rows of
        reopened plans in line; commit with the run's progress. The rows stored."""
        assert self.validator is not None
        plans = self.validator.take()
        # settling an update compares it with what is stored and keeps only the differences:
        # a later row of that customer starts again from the plan as the file gave it
        opened = {p.no: plan_json(p) for p in plans if p.existing_id is not None}
        outcomes: dict[int, tuple[Plan, str]] = {}
        for number, plan, outcome in self.validator.settle(plans):
            outcomes[number] = (plan, outcome)
        firsts = {plan.lines[0]: (plan, outcome) for plan, outcome in outcomes.values()}
        records = []
        for row in rows:
            plan, outcome = outcomes[row.plan_no]
            _take_outcome(row, outcome)
            record = {
                "run_id": self.run_id, "line": row.line, "plan_no": row.plan_no, "raw": row.raw,
                "errors": row.errors, "has_errors": bool(row.errors), "action": row.action,
                "customer": row.customer, "changes": [], "notes": row.notes, "plan": None,
                "number": None,
            }  # fmt: skip
            if row.line in firsts:
                record.update(_first(plan, outcome, opened.get(plan.no)))
            records.append(record)
        _insert(records)
        for plan, outcome in outcomes.values():
            if plan.reopened:
                self._bring_in_line(plan, outcome, opened.get(plan.no), rows[0].line if rows else 0)
        if rows:
            db.session.execute(
                update(_run)
                .where(_run.c.id == self.run_id)
                .values(rows_done=_run.c.rows_done + len(rows), heartbeat_at=utcnow())
            )
        db.session.commit()
        return len(rows)

    def _bring_in_line(self, plan: Plan, outcome: str, opened: Any, first_line: int) -> None:
        """The rows of a reopened plan stored by earlier batches take its new outcome."""
        where = (_row.c.run_id == self.run_id, _row.c.plan_no == plan.no, _row.c.line < first_line)
        if outcome != "new":
            db.session.execute(update(_row).where(*where).values(action=outcome))
        if outcome == "error":
            db.session.execute(
                update(_row)
                .where(*where, _row.c.has_errors.is_(False))
                .values(errors=another_row_error(), has_errors=True)
            )
        if plan.lines[0] < first_line:
            db.session.execute(
                update(_row)
                .where(_row.c.run_id == self.run_id, _row.c.line == plan.lines[0])
                .values(**_first(plan, outcome, opened))
            )


def _take_outcome(row: RowResult, outcome: str) -> None:
    """A row takes its settled plan's outcome (``new`` leaves it as it was: new or add)."""
    if outcome == "error":
        row.action = "error"
        if not row.errors:
            row.errors.update(another_row_error())
    elif outcome in ("skip", "update", "unchanged"):
        row.action = outcome


def _first(plan: Plan, outcome: str, opened: Any) -> dict[str, Any]:
    """What a plan's first row keeps: the plan (and, for a matched customer, the plan as it
    was before settling), the before/after changes, the number a new customer asks for."""
    stored = plan_json(plan)
    if opened is not None:
        stored["open"] = opened
    return {
        "plan": stored,
        "changes": [list(c) for c in changes_of(plan)] if outcome in ("update", "unchanged")
        else [],
        "number": plan.values.get("number") if outcome == "new" else None,
    }  # fmt: skip


def _insert(records: list[dict[str, Any]]) -> None:
    if not records:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy(connection, records)
        return
    statement = insert(_row)
    if connection.dialect.name == "sqlite":
        statement = statement.returning(_row.c.id)  # one multi-row INSERT per batch
    connection.execute(statement, records)


def _copy(connection, records: list[dict[str, Any]]) -> None:
    """``COPY ... FROM STDIN``: one round trip for the batch, no statement to parse."""
    driver = connection.connection.driver_connection
    dumps = json.dumps
    columns = ", ".join(COLUMNS)
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {_row.name} ({columns}) FROM STDIN") as copy,
    ):
        for record in records:
            copy.write_row(
                [dumps(record[c]) if c in _JSON and record[c] is not None else record[c]
                 for c in COLUMNS]
            )  # fmt: skip


# --- reading back ------------------------------------------------------------------------------


def counts(run_id: int) -> dict[str, int]:
    rows = select(func.count()).select_from(_row).where(_row.c.run_id == run_id)
    plans = rows.where(_row.c.plan.is_not(None))
    return {
        "rows": db.session.scalar(rows),
        "error_rows": db.session.scalar(rows.where(_row.c.has_errors.is_(True))),
        "skipped_rows": db.session.scalar(rows.where(_row.c.action == "skip")),
        "new_customers": db.session.scalar(plans.where(_row.c.action == "new")),
        "updated_customers": db.session.scalar(plans.where(_row.c.action == "update")),
    }


def plan_batches(run_id: int, size: int) -> Iterator[list[Plan]]:
    """The plans apply takes (new customers and updates), in file order, ``size`` at a time."""
    last = 0
    while True:
        found = db.session.execute(
            select(_row.c.line, _row.c.plan)
            .where(
                _row.c.run_id == run_id, _row.c.plan.is_not(None), _row.c.line > last,
                _row.c.action.in_(APPLIED),
            )
            .order_by(_row.c.line)
            .limit(size)
        ).all()  # fmt: skip
        if not found:
            return
        yield [plan_from_json(plan) for _, plan in found]
        last = found[-1].line
