"""Fixtures: an app per test, logged-in clients, a CSRF helper.

Tests run on SQLite by default; ``CUSTREG_TEST_DATABASE_URL`` selects PostgreSQL (under
pytest-xdist each worker gets databases of its own). The schema is built and seeded once per
session, and each test runs in one transaction that is rolled back at its end
(:mod:`tests.rolled_back`). A test that must commit for real (its own engines or connections,
threads, a live server, a download read by a session of its own, a host app) is marked
``commits`` or asks for ``database_url``: it gets a freshly emptied database instead.

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
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from werkzeug.security import generate_password_hash

from custreg_admin import create_app
from custreg_admin.cache import make_cache
from custreg_admin.config import sqlalchemy_url
from custreg_admin.context import custreg_state
from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.registries import EXTENSION_KEY as REGISTRIES_KEY
from custreg_admin.registries import close_providers
from custreg_admin.services.setup import seed_defaults

from . import rolled_back
from .helpers import PASSWORD, log_in


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The few ``long`` tests first (stable order otherwise): under xdist they then run beside
    the rest on the other workers, instead of alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def _create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it is missing."""
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_engine(sqlalchemy_url(server), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _database_per_worker() -> str | None:
    """Under pytest-xdist, each worker gets its own PostgreSQL database (``<name>_gw0``, ...),
    created when missing; the environment variable is rewritten before any test module reads it,
    so every fixture and test of that worker uses it."""
    url = os.environ.get("CUSTREG_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    worker_url = base.set(database=f"{base.database}_{worker}").render_as_string(
        hide_password=False
    )
    _create_database(worker_url)
    os.environ["CUSTREG_TEST_DATABASE_URL"] = worker_url
    return worker_url


PG_URL = _database_per_worker()

#: The test apps' password hash method: one round of PBKDF2, so that a log-in checks at once.
TEST_HASH_METHOD = "pbkdf2:sha256:1"


def _build_schema(url: str, *, seed: bool) -> None:
    """Drop and create the module's tables at ``url`` (and seed the default settings)."""
    app = create_app({"TESTING": True, "CUSTREG_DATABASE_URL": url, "CUSTREG_SECRET_KEY": "t"})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS custreg_alembic_version"))
        db.create_all()
        if seed:
            seed_defaults()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[None]:
    """On PostgreSQL: drop and create the module's tables once per test session in the
    database of the tests that commit for real (``PG_URL``)."""
    if PG_URL:
        _build_schema(PG_URL, seed=False)
    yield


def _empty_pg_tables() -> None:
    names = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept in memory for every app of the process: each test builds
    an app, and compiling the templates again for each took most of a test's time."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _CompiledTemplates()


_SHARED_MARK = "_CUSTREG_TEST_SHARED_APP"
_SHARED = {_SHARED_MARK: True}


class _SharedApp:
    """One app per worker for the tests that build it with the default test configuration and
    run in a rolled-back transaction: building an app (about 145 URL rules compiled, 17 views)
    was a third of such a test's time.

    Each test gets it as a new one would be: its own instance folder, an empty cache and login
    throttle, a fresh ``before_first_request`` state. A test that changed it anyway (its config,
    a route, a hook, an error handler) leaves it behind: the next test builds a new one."""

    def __init__(self) -> None:
        self._app: Flask | None = None
        self._mark: tuple | None = None

    def take(self, build: Callable[[], Flask]) -> Flask:
        if self._app is None:
            self._app = build()
            self._mark = _fingerprint(self._app)
        app = self._app
        state = custreg_state(app)
        state.cache = make_cache(app)
        if state.login_throttle is not None:
            state.login_throttle.limiter.reset()
        registries = app.extensions.pop(REGISTRIES_KEY, None)
        if registries is not None:  # loaded again at first use, as in a new app
            close_providers(registries)
        app._got_first_request = False  # as a new app: a test may still add a route
        return app

    def give_back(self, app: Flask) -> None:
        if self._app is app and _fingerprint(app) != self._mark:
            self._app = None


def _fingerprint(app: Flask) -> tuple:
    """What a test could change on an app and leave behind (a view or a global replaced counts:
    hence the objects' ids)."""
    return (
        repr(sorted(app.config.items(), key=lambda item: item[0])),
        len(app.url_map._rules),
        tuple(sorted((name, id(view)) for name, view in app.view_functions.items())),
        tuple(sorted(app.blueprints)),
        tuple(sorted(set(app.extensions) - {REGISTRIES_KEY})),
        repr(
            [
                {key: list(value) for key, value in hooks.items()}
                for hooks in (
                    app.before_request_funcs,
                    app.after_request_funcs,
                    app.teardown_request_funcs,
                    app.template_context_processors,
                    app.url_value_preprocessors,
                    app.url_default_functions,
                )
            ]
        ),
        # (Flask's lookups add empty entries to these defaultdicts: only handlers count)
        repr(
            {
                name: {code: handlers for code, handlers in codes.items() if handlers}
                for name, codes in app.error_handler_spec.items()
                if any(codes.values())
            }
        ),
        tuple(sorted((name, id(value)) for name, value in app.jinja_env.globals.items())),
        tuple(sorted((name, id(value)) for name, value in app.jinja_env.filters.items())),
        app.secret_key,
        app.testing,
        app.debug,
    )


_shared_app = _SharedApp()


# --- one schema per session, a rolled-back transaction per test (see tests/rolled_back.py) ------


@pytest.fixture(scope="session")
def _shared_connection(
    tmp_path_factory,
) -> Iterator[rolled_back.Connection]:
    """The session's schema, built and seeded once (SQLite: a file of the worker's own;
    PostgreSQL: the worker's database with ``_tx`` appended), and one connection to it."""
    if PG_URL:
        url = make_url(PG_URL)
        url = url.set(database=f"{url.database}_tx").render_as_string(hide_password=False)
        _create_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'shared.db'}"
    _build_schema(url, seed=True)
    connection = rolled_back.connect(url, postgres=bool(PG_URL))
    yield connection
    connection.close_for_good()


def _commits(request) -> bool:
    """Whether the test commits for real: marked ``commits``, or it asks for ``database_url`` (to
    reach the database with engines of its own)."""
    return (
        request.node.get_closest_marker("commits") is not None
        or "database_url" in request.fixturenames
    )


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """A database the test may commit to for real: PostgreSQL's ``PG_URL`` (emptied before each
    test by ``app``) or a SQLite file of the test's own."""
    return PG_URL or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def _test_transaction(
    request,
) -> Iterator[rolled_back.Connection | None]:
    """The rolled-back transaction of a test not marked ``commits``."""
    if _commits(request):
        yield None
        return
    connection = request.getfixturevalue("_shared_connection")
    connection.begin_test()
    try:
        yield connection
    finally:
        connection.end_test()


@pytest.fixture
def app_factory(request, _test_transaction, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database; keyword arguments override config. Their database
    connections are closed after the test.

    A test marked ``commits`` gets a database it commits to for real (``database_url``); any
    other test runs in one transaction that is rolled back at its end (``_test_transaction``).
    An app given a ``CUSTREG_DATABASE_URL`` of its own uses that database as it is."""
    if _test_transaction is None:
        request.getfixturevalue("_pg_schema")
        url = request.getfixturevalue("database_url")
        engine_options = {}
    else:
        url = _test_transaction.url
        engine_options = {
            "poolclass": StaticPool,
            "creator": lambda: _test_transaction,
            "pool_pre_ping": False,
        }
    built: list[Flask] = []
    shared: list[Flask] = []

    def build(**config) -> Flask:
        if engine_options and not config:
            application = _shared_app.take(lambda: build(**_SHARED))
            application.instance_path = str(tmp_path / "instance")
            shared.append(application)
            return application
        config.pop(_SHARED_MARK, None)
        settings = {
            "TESTING": True,
            "CUSTREG_DATABASE_URL": url,
            "CUSTREG_SECRET_KEY": "test-secret",
            "CUSTREG_REGISTRIES": "",
            # Installed registry plugins load, but never reach the public registries from a test:
            # port 9 (discard) on the loopback refuses at once. Tests that search serve their own.
            "CUSTREG_YTJ_BASE_URL": "http://127.0.0.1:9/ytj",
            "CUSTREG_BIZWEB_BASE_URL": "http://127.0.0.1:9/bizweb",
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": True,
            "FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR": True,
            # log-ins check at once (tests/access/test_security.py checks werkzeug's default)
            "CUSTREG_PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
        }
        if engine_options and "CUSTREG_DATABASE_URL" not in config:
            settings["SQLALCHEMY_ENGINE_OPTIONS"] = dict(engine_options)
        settings.update(config)
        application = create_app(settings)
        application.instance_path = str(tmp_path / "instance")
        application.jinja_env.bytecode_cache = _TEMPLATES
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            if application not in shared:
                db.engine.dispose()
    for application in shared:
        _shared_app.give_back(application)


@pytest.fixture
def app(request, app_factory) -> Iterator[Flask]:
    """The app on the test's database, with the default settings seeded."""
    application = app_factory()
    if _commits(request):
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
    """The test users' password hash: one round of PBKDF2, as the stored hash says, so that each
    log-in checks it at once (werkzeug's default scrypt takes half a second on purpose; the
    module's own hashing is tested where it hashes)."""
    return generate_password_hash(PASSWORD, method=TEST_HASH_METHOD)


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
