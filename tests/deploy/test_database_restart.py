"""A database that may restart: pooled connections are checked before use; a connection lost
in the middle of a request is retried once for a GET, else a clear 503 page (never a
traceback); requests larger than the limit get a 413 page that says the limit."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from custreg_admin.config import sqlalchemy_url
from custreg_admin.extensions import db, engine_options

from ..conftest import PG_URL
from ..helpers import PASSWORD, csrf_token, log_in

UNAVAILABLE = "The customer registry cannot reach its database just now"


def _lost_connection() -> OperationalError:
    return OperationalError(
        "SELECT 1",
        {},
        Exception("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


@pytest.mark.commits
def test_the_modules_engine_checks_connections_before_use(app):
    with app.app_context():
        assert db.engine.pool._pre_ping is True
    options = engine_options("postgresql+psycopg://h/db", {"pool_size": 3}, "crm")
    assert options == {
        "pool_size": 3,
        "pool_pre_ping": True,
        "connect_args": {"application_name": "crm"},
    }
    assert engine_options("sqlite://", {"pool_pre_ping": False}) == {"pool_pre_ping": False}


@pytest.mark.commits
@pytest.mark.skipif(not PG_URL, reason="terminates PostgreSQL backends")
def test_after_the_apps_backends_are_terminated_the_next_five_requests_succeed(
    app_factory, app, make_user
):
    """Only this app's own connections are terminated: they carry an application_name of
    their own, in this test database, never another process's."""
    name = f"custreg_test_{uuid.uuid4().hex[:12]}"
    served = app_factory(CUSTREG_DATABASE_APPLICATION_NAME=name)
    user = make_user("admin")
    client = served.test_client()
    log_in(client, user)
    for path in ("/admin/", "/admin/customers/", "/admin/settings/users/"):
        assert client.get(path).status_code == 200  # connections now wait in the pool

    killer = create_engine(sqlalchemy_url(PG_URL), poolclass=None)
    try:
        with killer.begin() as connection:
            terminated = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
    finally:
        killer.dispose()
    assert terminated >= 1

    other = served.test_client()
    token = csrf_token(other)
    answers = [
        client.get("/admin/customers/"),
        client.get("/admin/"),
        client.get("/admin/reports/download/csv/?type=customers"),
        other.post(
            "/admin/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        ),
        client.get("/admin/settings/users/"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 302, 200]


def _flaky(app, endpoint: str, failures: int):
    original = app.view_functions[endpoint]
    calls = []

    def view(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise _lost_connection()
        return original(*args, **kwargs)

    app.view_functions[endpoint] = view
    return calls


def test_a_get_that_loses_its_connection_is_run_once_more(app, client, login):
    login("admin")
    calls = _flaky(app, "custreg_admin_home.index", failures=1)
    response = client.get("/admin/")
    assert response.status_code == 200 and len(calls) == 2


def test_a_get_that_loses_it_twice_gets_a_503_page(app, client, login):
    login("admin")
    calls = _flaky(app, "custreg_admin_home.index", failures=2)
    response = client.get("/admin/")
    assert response.status_code == 503 and len(calls) == 2
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_post_that_loses_its_connection_is_not_run_again(app, client, login):
    login("admin")
    calls = _flaky(app, "custreg_auth.logout", failures=5)
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 503 and len(calls) == 1
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_a_mistake_in_a_statement_is_not_taken_for_a_lost_database(app, client, login):
    login("admin")
    original = app.view_functions["custreg_admin_home.index"]

    def broken(*args, **kwargs):
        raise OperationalError("SELEC 1", {}, Exception("syntax error"))

    app.view_functions["custreg_admin_home.index"] = broken
    if PG_URL:
        # on PostgreSQL an OperationalError is about the server: the page says to retry
        assert client.get("/admin/").status_code == 503
    else:
        with pytest.raises(OperationalError):
            client.get("/admin/")
    app.view_functions["custreg_admin_home.index"] = original
