"""Adding a write's change to a table of KPI totals (the company's months and days, the
viewers' months and days): one home for how it is written, so that every table of totals is
safe from deadlocks and from the databases' parameter limits alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Table, delete, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

#: Keys per statement: a key row has at most about 10 parameters, and PostgreSQL takes at most
#: 65,535 in one statement (SQLite 32,766). A mass update of owners changes thousands of keys.
CHUNK = 1000


def add_to_totals(
    connection: Connection,
    table: Table,
    key: Sequence[str],
    sums: Sequence[str],
    delta: Mapping[tuple, Sequence[int]],
    *,
    empty_when: Sequence[str],
) -> None:
    """Add ``delta`` (a key tuple -> its sums, in the order of ``sums``) to ``table``.

    The keys go in sorted order, in upserts of at most :data:`CHUNK` keys: every writer locks
    the rows it changes in the same order, so two writers touching the same rows (in whatever
    order their invoices move) wait for each other instead of deadlocking. A row whose
    ``empty_when`` columns are all 0 afterwards is removed."""
    changed = sorted((k, values) for k, values in delta.items() if any(values))
    dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    keys = tuple_(*(table.c[name] for name in key))
    for start in range(0, len(changed), CHUNK):
        part = changed[start : start + CHUNK]
        statement = dialect_insert(table).values(
            [
                dict(zip(key, k, strict=True)) | dict(zip(sums, values, strict=True))
                for k, values in part
            ]
        )
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + statement.excluded[name] for name in sums},
        )
        connection.execute(statement)
        connection.execute(
            delete(table).where(
                keys.in_([k for k, _values in part]), *(table.c[name] == 0 for name in empty_when)
            )
        )
