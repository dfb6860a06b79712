"""Ids taken in blocks and bulk inserts (``COPY`` on PostgreSQL) for the demo loaders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, insert, select, text

from ..extensions import db


class IdSource:
    """Primary keys for rows that others point to (customers, projects), taken in blocks.

    On PostgreSQL they come from the table's own sequence (``nextval``), so ORM inserts made
    later, or at the same time, never collide. Elsewhere (SQLite) they continue after the
    highest id, which is what SQLite itself would do.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.next_id: int | None = None
        self.sequence: str | None = None
        if self.postgres:
            self.sequence = db.session.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
            if self.sequence is None:
                self.postgres = False

    def take(self, count: int) -> list[int]:
        if count <= 0:
            return []
        if self.postgres:
            return list(
                db.session.scalars(
                    text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
                    {"seq": self.sequence, "n": count},
                )
            )
        if self.next_id is None:
            self.next_id = (db.session.scalar(select(func.max(self.table.c.id))) or 0) + 1
        start, self.next_id = self.next_id, self.next_id + count
        return list(range(start, start + count))


_INSERT_BATCH = 10_000


def plain_defaults(table: Table, columns: list[str]) -> dict[str, Any] | None:
    """The Python-side defaults of the columns that ``columns`` leaves out (``COPY`` does not
    apply them; server defaults apply by themselves); None when one is not a plain value."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in columns or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        defaults[column.name] = column.default.arg
    return defaults


def bulk_insert(table: Table, rows: list[dict[str, Any]]) -> bool:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.

    PostgreSQL with psycopg 3 gets ``COPY ... FROM STDIN`` (several times faster than a
    multi-row ``INSERT``); other databases get ``executemany`` through SQLAlchemy, which the
    session's events see (:mod:`~custreg_admin.services.kpi_totals`). Returns whether ``COPY``,
    which they do not see, was used.
    """
    if not rows:
        return False
    connection = db.session.connection()
    columns = list(rows[0])
    defaults = plain_defaults(table, columns)
    if (
        connection.dialect.name == "postgresql"
        and connection.dialect.driver == "psycopg"
        and defaults is not None
    ):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(map(sql.Identifier, [*columns, *defaults])),
        )
        extra = list(defaults.values())
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row([*(row[column] for column in columns), *extra])
        return True
    for start in range(0, len(rows), _INSERT_BATCH):
        db.session.execute(insert(table), rows[start : start + _INSERT_BATCH])
    return False
