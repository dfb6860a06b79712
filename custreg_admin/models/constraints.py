"""Rules the database itself enforces, whatever code writes to it (a host script, a raw ``UPDATE``,
a path the services forgot).

The services check these rules first and refuse with a message fit for the user; the triggers here
are the last line, so a write that bypasses the services fails with an ``IntegrityError`` (message
prefix ``custreg:``) instead of breaking the data:

* **a project with invoices or proposals keeps its customer** (``custreg_project.customer_id``
  cannot change while ``custreg_invoice`` or ``custreg_proposal`` rows point to the project);
* **an invoice's project is one of the invoice's customer's projects** (inserting or changing
  ``custreg_invoice.customer_id`` / ``project_id`` so that they disagree is refused). Together
  with the first rule, an invoice can never end up on a project of another customer;
* **market segments form no cycle** (a segment is never its own parent, grandparent, ...).

On PostgreSQL, inserting an invoice or a proposal locks its project row ``FOR SHARE``, which waits
for a concurrent move of that project (and a move waits for it): a raw move and a raw insert
cannot both pass their checks. Segment parents are changed one transaction at a time (an advisory
lock) for the same reason.

One home for the SQL: :data:`TRIGGERS` is installed by ``metadata.create_all()`` (a DDL event after
each table is created; the tests build their schema that way) and by the Alembic migration
``0007_versions_and_triggers`` (:func:`create_statements` / :func:`drop_statements`).

SQLite: Alembic's batch mode recreates a table (copy and rename) for some column changes, which
drops its triggers. A later migration that recreates one of these tables on SQLite must run
:func:`create_statements` for it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DDL, event

from .customer import Customer
from .project import Invoice, Project, Proposal
from .settings import MarketSegment

#: What every refusal by these triggers starts with (tests and error handlers look for it).
MESSAGE_PREFIX = "custreg:"


@dataclass(frozen=True)
class Trigger:
    """A trigger on ``table``: its statements per dialect, to create and to drop."""

    name: str
    table: str
    postgresql: tuple[str, ...]
    sqlite: tuple[str, ...]
    drop_postgresql: tuple[str, ...]
    drop_sqlite: tuple[str, ...]


def _pg_trigger(
    name: str, table: str, when: str, body: str, *, declare: str = ""
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A plpgsql trigger function named like its trigger, and the trigger."""
    function = (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $custreg$\n"
        f"{declare}BEGIN\n{body}\nEND\n$custreg$"
    )
    return (
        function,
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ), (f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()")


def _trigger(
    name: str,
    table: str,
    pg: tuple[tuple[str, ...], tuple[str, ...]],
    sqlite: dict[str, tuple[str, str]],
) -> Trigger:
    """``sqlite``: name suffix -> (timing and event, body); one SQLite trigger each."""
    pg_create, pg_drop = pg
    lite_create, lite_drop = [], []
    for suffix, (when, body) in sqlite.items():
        lite_name = f"{name}{suffix}"
        lite_create.append(
            f"CREATE TRIGGER IF NOT EXISTS {lite_name} {when} ON {table} FOR EACH ROW\n"
            f"BEGIN\n{body}\nEND"
        )
        lite_drop.append(f"DROP TRIGGER IF EXISTS {lite_name}")
    return Trigger(name, table, pg_create, tuple(lite_create), pg_drop, tuple(lite_drop))


PROJECT, INVOICE, PROPOSAL = (
    Project.__tablename__,
    Invoice.__tablename__,
    Proposal.__tablename__,
)
SEGMENT = MarketSegment.__tablename__

_HAS_INVOICES_OR_PROPOSALS = (
    f"EXISTS (SELECT 1 FROM {INVOICE} WHERE project_id = OLD.id) "
    f"OR EXISTS (SELECT 1 FROM {PROPOSAL} WHERE project_id = OLD.id)"
)
_MOVE_REFUSED = "custreg: a project with invoices or proposals cannot change customer"
_INVOICE_REFUSED = "custreg: the project of an invoice must belong to the customer of the invoice"
_CYCLE_REFUSED = "custreg: a market segment cannot be its own parent or ancestor"
# the segment's ancestors, from NEW's parent up (UNION: stops even on an existing cycle)
_ANCESTORS = (
    "WITH RECURSIVE up(id) AS (SELECT NEW.parent_id UNION "
    f"SELECT s.parent_id FROM {SEGMENT} s JOIN up ON s.id = up.id WHERE s.parent_id IS NOT NULL) "
    "SELECT 1 FROM up WHERE up.id = NEW.id"
)

TRIGGERS: tuple[Trigger, ...] = (
    _trigger(
        "custreg_project_keeps_customer",
        PROJECT,
        _pg_trigger(
            "custreg_project_keeps_customer",
            PROJECT,
            "BEFORE UPDATE OF customer_id",
            f"    IF NEW.customer_id IS DISTINCT FROM OLD.customer_id AND "
            f"({_HAS_INVOICES_OR_PROPOSALS}) THEN\n"
            f"        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = "
            f"'{_MOVE_REFUSED} (project ' || OLD.id || ')';\n"
            "    END IF;\n    RETURN NEW;",
        ),
        {
            "": (
                "BEFORE UPDATE OF customer_id",
                f"SELECT RAISE(ABORT, '{_MOVE_REFUSED}') WHERE NEW.customer_id IS NOT "
                f"OLD.customer_id AND ({_HAS_INVOICES_OR_PROPOSALS});",
            )
        },
    ),
    _trigger(
        "custreg_invoice_project_of_customer",
        INVOICE,
        _pg_trigger(
            "custreg_invoice_project_of_customer",
            INVOICE,
            "BEFORE INSERT OR UPDATE OF customer_id, project_id",
            "    IF NEW.project_id IS NOT NULL THEN\n"
            f"        SELECT customer_id INTO owner FROM {PROJECT} WHERE id = NEW.project_id "
            "FOR SHARE;\n"
            "        IF FOUND AND owner IS DISTINCT FROM NEW.customer_id THEN\n"
            f"            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = "
            f"'{_INVOICE_REFUSED} (project ' || NEW.project_id || ')';\n"
            "        END IF;\n    END IF;\n    RETURN NEW;",
            declare="DECLARE owner integer;\n",
        ),
        {
            suffix: (
                when,
                f"SELECT RAISE(ABORT, '{_INVOICE_REFUSED}') WHERE NEW.project_id IS NOT NULL "
                f"AND (SELECT customer_id FROM {PROJECT} WHERE id = NEW.project_id) "
                "<> NEW.customer_id;",
            )
            for suffix, when in (
                ("_insert", "BEFORE INSERT"),
                ("_update", "BEFORE UPDATE OF customer_id, project_id"),
            )
        },
    ),
    _trigger(
        # PostgreSQL only (SQLite writes one transaction at a time): a new proposal waits for a
        # concurrent move of its project, and the move's check then sees it
        "custreg_proposal_locks_project",
        PROPOSAL,
        _pg_trigger(
            "custreg_proposal_locks_project",
            PROPOSAL,
            "BEFORE INSERT OR UPDATE OF project_id",
            f"    PERFORM 1 FROM {PROJECT} WHERE id = NEW.project_id FOR SHARE;\n    RETURN NEW;",
        ),
        {},
    ),
    _trigger(
        "custreg_market_segment_no_cycle",
        SEGMENT,
        _pg_trigger(
            "custreg_market_segment_no_cycle",
            SEGMENT,
            "AFTER INSERT OR UPDATE OF parent_id",
            "    IF NEW.parent_id IS NOT NULL THEN\n"
            # one change of segment parents at a time, each seeing the others' committed ones
            "        PERFORM pg_advisory_xact_lock(hashtext('custreg_market_segment_parent'));\n"
            f"        IF EXISTS ({_ANCESTORS}) THEN\n"
            f"            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = "
            f"'{_CYCLE_REFUSED} (segment ' || NEW.id || ')';\n"
            "        END IF;\n    END IF;\n    RETURN NULL;",
        ),
        {
            suffix: (
                when,
                f"SELECT RAISE(ABORT, '{_CYCLE_REFUSED}') WHERE NEW.parent_id IS NOT NULL "
                f"AND EXISTS ({_ANCESTORS});",
            )
            for suffix, when in (
                ("_insert", "AFTER INSERT"),
                ("_update", "AFTER UPDATE OF parent_id"),
            )
        },
    ),
)


def _statements(dialect: str, *, drop: bool, tables: set[str] | None = None) -> list[str]:
    found = []
    for trigger in TRIGGERS:
        if tables is not None and trigger.table not in tables:
            continue
        key = ("drop_" if drop else "") + dialect
        found.extend(getattr(trigger, key, ()))
    return found


def create_statements(dialect: str, tables: set[str] | None = None) -> list[str]:
    """The statements creating the triggers on ``dialect`` ("postgresql", "sqlite"); only those
    of ``tables`` when given. Other databases: none."""
    return _statements(dialect, drop=False, tables=tables)


def drop_statements(dialect: str, tables: set[str] | None = None) -> list[str]:
    return _statements(dialect, drop=True, tables=tables)


def _install_ddl_events() -> None:
    tables = {
        model.__table__.name: model.__table__
        for model in (Customer, Project, Invoice, Proposal, MarketSegment)
    }
    for trigger in TRIGGERS:
        for dialect in ("postgresql", "sqlite"):
            for statement in getattr(trigger, dialect):
                # DDL formats its text with %: the SQL above has none to escape
                event.listen(
                    tables[trigger.table],
                    "after_create",
                    DDL(statement).execute_if(dialect=dialect),
                )


_install_ddl_events()
