"""Helpers for tests: CSRF tokens, logging in, which database runs."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from custreg_admin.models import User

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table of the module (to show that a refused request changed none)."""
    from custreg_admin.extensions import db

    with app.app_context():
        rows = {
            table.name: sorted(
                tuple(str(v) for v in row) for row in db.session.execute(table.select())
            )
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return rows


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    """The messages flashed to the client's session since the last call, as (category, text)."""
    with client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def is_postgres() -> bool:
    return bool(os.environ.get("CUSTREG_TEST_DATABASE_URL"))


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """The CSRF token of the client's session, read from a rendered form."""
    response = client.get(path)
    found = _CSRF.search(response.get_data(as_text=True))
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, user: User, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/admin/login", data={"email": user.email, "password": password, "csrf_token": token}
    )


IMPORTS_URL = "/admin/settings/data-imports/customers/"


def upload_import(client: FlaskClient, data: bytes, name: str = "f.csv"):
    """Upload a file to Settings > Data imports; the review's address is the answer's Location."""
    token = csrf_token(client, IMPORTS_URL)
    return client.post(
        IMPORTS_URL,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def summary_filter(app, label: str) -> str:
    """The URL argument (``flt0_…``) of the Summary list's first filter named ``label``."""
    view = app.extensions["custreg_admin"].views[0]
    with app.test_request_context():
        return next(
            f"flt0_{view.get_filter_arg(i, f)}"
            for i, f in enumerate(view._filters)
            if f.name == label
        )


_KPI_URL = re.compile(r'data-kpi-url="([^"]+)"')


def summary_cards(client: FlaskClient, path: str = "/admin/customers/") -> str:
    """The KPI cards of a Summary list page, fetched as the page's script does.

    The list page itself shows no figures: it names the cards' URL (its own search and
    filters), which answers with the rendered cards alone.
    """
    page = client.get(path)
    assert page.status_code == 200, path
    text = page.get_data(as_text=True)
    assert "data-kpi=" not in text, "the list page should not compute the KPI figures"
    found = _KPI_URL.search(text)
    assert found, f"no KPI cards URL on {path}"
    cards = client.get(found.group(1).replace("&amp;", "&"), headers={"X-Custreg-Fragment": "1"})
    assert cards.status_code == 200
    fragment = cards.get_data(as_text=True)
    assert "<html" not in fragment  # the cards alone, for the list page to insert
    return fragment


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends while the block runs, in order."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


#: For tests that use no database of the suite's (they build wheels or virtualenvs and run on
#: SQLite files of their own): ``make test`` runs them in its SQLite pass only, not again in the
#: PostgreSQL pass, where they would test the same thing twice.
once_per_make_test = pytest.mark.skipif(
    bool(os.environ.get("CUSTREG_TEST_DATABASE_URL")),
    reason="uses no database of the suite's: run in make test's SQLite pass",
)
