"""One connection per test session whose ``commit()`` keeps the work inside the test's transaction.

The suite builds the schema once per session and runs each test (unless it is marked
``commits``) in one transaction that is rolled back at its end: :meth:`begin_test` opens it and
sets a savepoint; inside it the app's ``commit()`` releases that savepoint and sets a new one,
and its ``rollback()`` rolls back to it. So what the app committed stays visible to the rest of
the test, what it rolled back is gone, exactly as on a real database, and nothing is left for the
next test (:meth:`end_test`). The app's own savepoints (``begin_nested``) nest inside.

Every engine a test builds (the app's, a download's ``Session(db.engine)``,
``db.engine.begin()``) gets this one connection (``StaticPool`` with it as the ``creator``), so
they all see the same data. They are subclasses of the drivers' own connection classes, because
SQLAlchemy and psycopg check the type.
"""

from __future__ import annotations

import sqlite3

import psycopg

SAVEPOINT = "custreg_test_commit"


class _RolledBack:
    """What both drivers' connections do differently for a test."""

    url: str

    def begin_test(self) -> None:
        self.execute(f"SAVEPOINT {SAVEPOINT}")

    def commit(self) -> None:
        self.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        self.execute(f"SAVEPOINT {SAVEPOINT}")

    def rollback(self) -> None:
        self.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")

    def close(self) -> None:
        """Engines are disposed of after each test; the connection lives on for the next."""


class PostgresConnection(_RolledBack, psycopg.Connection):
    """psycopg opens the transaction at the first statement (the savepoint)."""

    def end_test(self) -> None:
        psycopg.Connection.rollback(self)

    def close_for_good(self) -> None:
        psycopg.Connection.close(self)


class SqliteConnection(_RolledBack, sqlite3.Connection):
    """No implicit ``BEGIN`` (``isolation_level = None``): the test's transaction is explicit."""

    def begin_test(self) -> None:
        self.execute("BEGIN")
        super().begin_test()

    def end_test(self) -> None:
        if self.in_transaction:
            self.execute("ROLLBACK")

    def close_for_good(self) -> None:
        sqlite3.Connection.close(self)


Connection = PostgresConnection | SqliteConnection


def connect(url: str, *, postgres: bool) -> Connection:
    """The session's connection to the database at ``url`` (a SQLAlchemy URL)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if postgres:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = PostgresConnection.connect(dsn)
    else:
        connection = sqlite3.connect(
            parsed.database, check_same_thread=False, factory=SqliteConnection
        )
        connection.isolation_level = None
        connection.execute("PRAGMA foreign_keys=ON")  # outside a transaction, or it is ignored
    connection.url = url
    return connection
