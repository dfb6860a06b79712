"""Fixtures: an app per test database, logged-in clients, a CSRF helper.

Tests run on SQLite by default; ``CUSTREG_TEST_DATABASE_URL`` selects PostgreSQL (the schema is
created once per session there and every table is emptied before each test).

The ``app`` fixture pushes no context: service tests use the ``ctx`` fixture (an app context),
HTTP tests use ``client`` / ``login``; each request gets its own database session.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from custreg_admin import create_app
from custreg_admin.config import sqlalchemy_url
from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.services.setup import seed_defaults

from .helpers import PASSWORD, log_in


def _database_per_worker() -> str | None:
    """Under pytest-xdist, each worker gets its own PostgreSQL database (``<name>_gw0``, ...),
    created when missing; the environment variable is rewritten before any test module reads it,
    so every fixture and test of that worker uses it."""
    url = os.environ.get("CUSTREG_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    worker_url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["CUSTREG_TEST_DATABASE_URL"] = worker_url
    return worker_url


PG_URL = _database_per_worker()


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[None]:
    """On PostgreSQL: drop and create the module's tables once per test session."""
    if not PG_URL:
        yield
        return
    app = create_app({"TESTING": True, "CUSTREG_DATABASE_URL": PG_URL, "CUSTREG_SECRET_KEY": "t"})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS custreg_alembic_version"))
        db.create_all()
        db.engine.dispose()
    yield


def _empty_pg_tables() -> None:
    names = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(tmp_path) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def app_factory(_pg_schema, database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database; keyword arguments override config. Their database
    connections are closed after the test."""
    built: list[Flask] = []

    def build(**config) -> Flask:
        settings = {
            "TESTING": True,
            "CUSTREG_DATABASE_URL": database_url,
            "CUSTREG_SECRET_KEY": "test-secret",
            "CUSTREG_REGISTRIES": "",
            # Installed registry plugins load, but never reach the public registries from a test:
            # port 9 (discard) on the loopback refuses at once. Tests that search serve their own.
            "CUSTREG_YTJ_BASE_URL": "http://127.0.0.1:9/ytj",
            "CUSTREG_BIZWEB_BASE_URL": "http://127.0.0.1:9/bizweb",
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": True,
            "FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR": True,
        }
        settings.update(config)
        application = create_app(settings)
        application.instance_path = str(tmp_path / "instance")
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory) -> Iterator[Flask]:
    application = app_factory()
    with application.app_context():
        if PG_URL:
            _empty_pg_tables()
        else:
            db.create_all()
        seed_defaults()
        db.session.remove()
    yield application


@pytest.fixture
def ctx(app) -> Iterator[Flask]:
    """An app context for calling services directly."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@functools.cache
def _password_hash() -> str:
    """Hash the test password once: werkzeug's scrypt is slow on purpose."""
    return generate_password_hash(PASSWORD)


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        role: str = "admin",
        *,
        can_view_all_invoices: bool = False,
        name: str | None = None,
        email: str | None = None,
        is_active: bool = True,
    ) -> User:
        n = next(counter)
        with app.app_context():
            user = User(
                email=email or f"{role}{n}@example.com",
                name=name or f"{role.capitalize()} {n}",
                role=role,
                can_view_all_invoices=can_view_all_invoices,
                is_active=is_active,
            )
            user.password_hash = _password_hash()
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def login(client, make_user) -> Callable[..., User]:
    """Log the test client in as a new user of the given role; returns the user."""

    def do(role: str = "admin", **kwargs) -> User:
        user = make_user(role, **kwargs)
        response = log_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do


@pytest.fixture
def admin_client(client, login) -> FlaskClient:
    login("admin")
    return client
