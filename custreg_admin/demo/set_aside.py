"""PostgreSQL: what slows a bulk load down, set aside for its length and made again after it, in
the loader's transaction (so that a failure leaves everything as it was).

* **Secondary indexes** (not those of primary keys, unique constraints or unique indexes: they
  stay and keep checking) are dropped and created again from their own definitions: building an
  index over ten million rows once is much cheaper than keeping it in step row by row.
* **Foreign keys** on the loaded tables are dropped and added again: adding one checks every
  row with one join instead of one lookup per inserted row.
* **The module's row triggers** (:mod:`custreg_admin.models.constraints`) are disabled and enabled
  again; their rules that concern stored rows are checked afterwards by one query each
  (:func:`check_rules`).

Indexes and keys are read from the catalogue, not from the models, so what comes back is exactly
what was there (names and definitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..models import Invoice, Project


@dataclass
class SetAside:
    """What :func:`set_aside` took away, to :meth:`restore`."""

    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX ...)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, def)
    triggers: list[tuple[str, str]] = field(default_factory=list)  # (table, trigger)

    def restore_indexes(self, connection: Connection, tables: set[str] | None = None) -> None:
        """Create the indexes again (those of ``tables`` only, when given)."""
        for name, definition in list(self.indexes):
            if tables is None or _table_of(definition) in tables:
                connection.exec_driver_sql(definition)
                self.indexes.remove((name, definition))

    def restore(self, connection: Connection) -> None:
        """Indexes, then foreign keys (each checks every row once), then triggers."""
        self.restore_indexes(connection)
        for table, name, definition in self.foreign_keys:
            connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table, trigger in self.triggers:
            connection.exec_driver_sql(f'ALTER TABLE {table} ENABLE TRIGGER "{trigger}"')
        self.foreign_keys.clear()
        self.triggers.clear()


def _table_of(definition: str) -> str:
    # "CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING ..."
    after = definition.split(" ON ", 1)[1].split()
    table = after[1] if after[0] == "ONLY" else after[0]
    return table.split(".")[-1].strip('"')


def set_aside(connection: Connection, tables: list[str]) -> SetAside:
    """Drop the secondary indexes and foreign keys of ``tables`` and disable their triggers."""
    found = SetAside()
    names = {"tables": tables}
    found.indexes = [
        (row.name, row.definition)
        for row in connection.execute(
            text(
                """
                SELECT i.indexrelid::regclass::text AS name,
                       pg_get_indexdef(i.indexrelid) AS definition
                FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                WHERE t.relname = ANY(:tables) AND t.relnamespace = current_schema()::regnamespace
                  AND NOT i.indisunique AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY t.relname, name
                """
            ),
            names,
        )
    ]
    found.foreign_keys = [
        (row.relname, row.name, row.definition)
        for row in connection.execute(
            text(
                """
                SELECT t.relname AS relname, c.conname AS name,
                       pg_get_constraintdef(c.oid) AS definition
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                WHERE c.contype = 'f' AND t.relname = ANY(:tables)
                  AND t.relnamespace = current_schema()::regnamespace
                ORDER BY t.relname, c.conname
                """
            ),
            names,
        )
    ]
    found.triggers = [
        (row.relname, row.name)
        for row in connection.execute(
            text(
                """
                SELECT t.relname AS relname, g.tgname AS name
                FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
                WHERE NOT g.tgisinternal AND g.tgenabled <> 'D' AND t.relname = ANY(:tables)
                  AND t.relnamespace = current_schema()::regnamespace
                ORDER BY t.relname, g.tgname
                """
            ),
            names,
        )
    ]
    for name, _definition in found.indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    for table, name, _definition in found.foreign_keys:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, trigger in found.triggers:
        connection.exec_driver_sql(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"')
    return found


def check_rules(connection: Connection) -> None:
    """What the disabled triggers refuse row by row, checked over every row at once: an
    invoice's project belongs to the invoice's customer."""
    wrong = connection.execute(
        text(
            f"""
            SELECT i.id FROM {Invoice.__tablename__} i
            JOIN {Project.__tablename__} p ON p.id = i.project_id
            WHERE p.customer_id <> i.customer_id LIMIT 1
            """
        )
    ).scalar()
    if wrong is not None:
        raise RuntimeError(
            f"demo bulk load: invoice {wrong} is on a project of another customer (rolled back)"
        )
