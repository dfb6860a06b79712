"""The module mounted in a host app: its own db, ``User`` model (table ``user``), login and admin.

The host here is what an IT team has: Flask-SQLAlchemy with its own models, Flask-Login with its
own login page at ``/login``, Flask-Admin with a view of its own, and no CSRFProtect. The module is
mounted with ``CustReg().init_app(app, admin=admin, db=..., user_loader=..., access=...)``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask, redirect, render_template_string, request
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, String, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from custreg_admin import CustReg, host_include_name, sync_user
from custreg_admin.config import sqlalchemy_url
from custreg_admin.context import current_custreg_user
from custreg_admin.errors import DomainError
from custreg_admin.extensions import db
from custreg_admin.models import Customer, User
from custreg_admin.services.kpi import compute_kpis, local_today
from custreg_admin.services.setup import seed_defaults

from .. import builders as b
from ..helpers import summary_cards

PG_URL = os.environ.get("CUSTREG_TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parents[2]

# --- the host's own code ---------------------------------------------------------------------

host_db = SQLAlchemy()


class HostUser(UserMixin, host_db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    sees_all: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_crm: Mapped[bool] = mapped_column(Boolean, default=True)


class HostUserView(ModelView):
    def is_accessible(self):
        return current_user.is_authenticated


def _map_user():
    """The host's user_loader: host admins are registry admins, others role ``user``."""
    if not current_user.is_authenticated:
        return None
    return sync_user(
        email=current_user.email,
        name=current_user.name,
        role="admin" if current_user.is_admin else "user",
        can_view_all_invoices=current_user.sees_all,
    )


def _may_use_crm(user) -> bool:
    return bool(current_user.uses_crm)


def make_host(
    host_url: str,
    *,
    module_url: str | None = None,
    share_db: bool = True,
    with_login: bool = True,
    config: dict | None = None,
    **options,
) -> Flask:
    app = Flask("host_app")
    app.config.update(
        TESTING=True,
        SECRET_KEY="host-secret",
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(host_url),
        CUSTREG_REGISTRIES="",
        FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION=True,
        FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR=True,
    )
    app.config.update(config or {})
    if module_url:
        app.config["CUSTREG_DATABASE_URL"] = module_url
    host_db.init_app(app)

    if with_login:
        login_manager = LoginManager(app)
        login_manager.login_view = "host_login"
        login_manager.user_loader(lambda user_id: host_db.session.get(HostUser, int(user_id)))
        options.setdefault("user_loader", _map_user)
        options.setdefault("access", _may_use_crm)

    @app.route("/login", methods=["GET", "POST"])
    def host_login():
        if request.method == "POST":
            user = host_db.session.scalar(
                select(HostUser).where(HostUser.email == request.form["email"])
            )
            login_user(user)
            return redirect(request.args.get("next") or "/admin/")
        return "The host's login page"

    @app.route("/api/ping", methods=["POST"])
    def host_api():  # the host's own POST endpoint, no CSRF token
        return "pong"

    @app.route("/token")
    def host_token():  # the host's templates get csrf_token() too
        return render_template_string("{{ csrf_token() }}")

    admin = Admin(app, name="Host back office", url="/admin")
    admin.add_view(HostUserView(HostUser, host_db, name="People", endpoint="host_user"))
    CustReg().init_app(app, admin=admin, db=host_db if share_db else None, **options)
    return app


# --- fixtures --------------------------------------------------------------------------------


def _prepare(app: Flask) -> None:
    """The host's tables, and the module's (emptied on PostgreSQL), with default settings."""
    with app.app_context():
        host_db.create_all()
        if PG_URL and db.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            db.create_all()
        seed_defaults()
        db.session.remove()


@pytest.fixture
def host_factory(_pg_schema, database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build host apps; the host's database is the test database unless ``host_url`` says."""
    built: list[Flask] = []

    def build(host_url: str | None = None, *, prepare: bool = True, **kwargs) -> Flask:
        app = make_host(host_url or database_url, **kwargs)
        app.instance_path = str(tmp_path / "instance")
        if prepare:
            _prepare(app)
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            host_db.session.remove()
            host_db.drop_all()
            db.engine.dispose()
            host_db.engine.dispose()


def add_host_user(app: Flask, email: str, **fields) -> int:
    with app.app_context():
        user = HostUser(email=email, name=fields.pop("name", email.split("@")[0].title()), **fields)
        host_db.session.add(user)
        host_db.session.commit()
        return user.id


def host_login(client, email: str):
    return client.post("/login", data={"email": email})


@pytest.fixture
def host(host_factory) -> Flask:
    app = host_factory()
    add_host_user(app, "boss@host.example", is_admin=True)
    add_host_user(app, "seller@host.example")
    add_host_user(app, "intern@host.example", uses_crm=False)
    return app


def _figures(page: str) -> dict[str, str]:
    block = page.split('data-testid="kpi-cards"')[1].split('data-testid="kpi-cards"')[0]
    return dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', block))


# --- both sets of views, one login -----------------------------------------------------------


def test_host_views_and_module_views_work_side_by_side(host):
    client = host.test_client()
    host_login(client, "boss@host.example")
    people = client.get("/admin/host_user/")
    assert people.status_code == 200
    assert "seller@host.example" in people.get_data(as_text=True)
    for path in (
        "/admin/",
        "/admin/customers/",
        "/admin/dashboard/",
        "/admin/customers/new/",
        "/admin/reports/",
        "/admin/settings/industries/",
        "/admin/settings/registries/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "Host back office" in page, path  # the host's admin and base template
        assert "People" in page and "Customers" in page and "Settings" in page, path
    summary = client.get("/admin/customers/").get_data(as_text=True)
    assert "/custreg_admin/static/custreg.css" in summary  # the module's stylesheet is added
    assert 'data-testid="kpi-slot"' in summary
    assert 'data-testid="kpi-cards"' in summary_cards(client)


def test_the_hosts_login_gates_the_module(host):
    client = host.test_client()
    for path in ("/admin/customers/", "/admin/dashboard/", "/admin/settings/registries/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path
    assert client.get("/admin/login").status_code == 404  # the module's own login is not mounted
    assert "Customers" not in client.get("/admin/").get_data(as_text=True)  # menu hides them

    host_login(client, "seller@host.example")
    assert client.get("/admin/customers/").status_code == 200
    assert client.get("/admin/settings/users/").status_code == 403  # role user: not for them

    intern = host.test_client()
    host_login(intern, "intern@host.example")  # the access hook refuses the module to them
    assert intern.get("/admin/customers/").status_code == 403
    assert intern.get("/admin/host_user/").status_code == 200  # the host's views are the host's


def test_the_host_user_maps_to_an_account_owner_record(host):
    client = host.test_client()
    host_login(client, "seller@host.example")
    client.get("/admin/customers/")
    with host.app_context():
        seller = db.session.scalar(select(User).where(User.email == "seller@host.example"))
        assert (seller.role, seller.can_view_all_invoices, seller.password_hash) == (
            "user",
            False,
            "",
        )
        assert not seller.check_password("")  # cannot log in on the module's own login page
        host_seller = host_db.session.scalar(
            select(HostUser).where(HostUser.email == "seller@host.example")
        )
        host_seller.sees_all = True
        host_db.session.commit()
    client.get("/admin/customers/")
    with host.app_context():
        seller = db.session.scalar(select(User).where(User.email == "seller@host.example"))
        assert seller.can_view_all_invoices  # the host's word, brought up to date
        seller.is_active = False  # an administrator of the module deactivates the record
        db.session.commit()
    assert client.get("/admin/customers/").status_code == 403  # logged in, but not here


def test_sync_user_checks_what_it_is_given(host):
    with host.app_context():
        with pytest.raises(DomainError, match="e-mail"):
            sync_user("")
        with pytest.raises(DomainError, match="not a valid e-mail address"):
            sync_user("x@intranet")  # the one e-mail rule, as for the module's own users
        with pytest.raises(DomainError, match="Unknown role"):
            sync_user("x@host.example", role="owner")
        first = sync_user(" X@Host.Example ", "X", role="manager")
        assert sync_user("x@host.example", "X", role="manager").id == first.id
        assert first.email == "x@host.example"


def test_kpis_follow_the_mapped_users_permissions(host):
    with host.app_context():
        boss = sync_user("boss@host.example", "Boss", role="admin")
        seller = sync_user("seller@host.example", "Seller")
        today = local_today(host.config["CUSTREG_TIMEZONE"])
        mine = b.customer("Seller's Oy", owner=seller)
        theirs = b.customer("Boss's Oy", owner=boss)
        b.invoice(mine, "100.00", today.replace(day=1), project=b.project(mine, manager=seller))
        b.invoice(theirs, "900.00", today.replace(day=1), project=b.project(theirs, manager=boss))
        db.session.commit()
        expected = {
            "boss@host.example": compute_kpis(boss, today),
            "seller@host.example": compute_kpis(seller, today),
        }
    assert expected["boss@host.example"].billing_this_month == Decimal("1000.00")
    assert expected["seller@host.example"].billing_this_month == Decimal("100.00")
    for email, figures in expected.items():
        client = host.test_client()
        host_login(client, email)
        shown = _figures(summary_cards(client))
        assert Decimal(shown["billing_this_month"]) == figures.billing_this_month, email
        assert Decimal(shown["margin_this_year"]) == figures.margin_this_year, email
        assert int(shown["active_customers"]) == figures.active_customers, email


def test_the_module_writes_through_its_own_csrf_check_and_leaves_the_hosts_routes_alone(host):
    client = host.test_client()
    assert client.post("/api/ping").get_data(as_text=True) == "pong"  # no CSRF imposed
    host_login(client, "boss@host.example")
    refused = client.post("/admin/customers/new/", data={"name": "Forged Oy", "country": "FI"})
    assert refused.status_code == 400
    token = client.get("/token").get_data(as_text=True)
    created = client.post(
        "/admin/customers/new/", data={"name": "Real Oy", "country": "FI", "csrf_token": token}
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    with host.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.name == "Real Oy"))
        assert customer is not None
        assert client.get(f"/admin/customers/details/?id={customer.id}").status_code == 200


def test_the_hosts_user_table_is_untouched(host):
    with host.app_context():
        before = [tuple(r) for r in host_db.session.execute(text('SELECT * FROM "user"'))]
        columns = [c["name"] for c in inspect(host_db.engine).get_columns("user")]
    client = host.test_client()
    host_login(client, "boss@host.example")
    client.get("/admin/customers/")
    client.get("/admin/settings/users/")
    with host.app_context():
        after = [tuple(r) for r in host_db.session.execute(text('SELECT * FROM "user"'))]
        assert after == before
        assert [c["name"] for c in inspect(host_db.engine).get_columns("user")] == columns
        module_tables = {t.name for t in db.metadata.sorted_tables}
        assert all(name.startswith("custreg_") for name in module_tables)
        assert "user" not in module_tables and "custreg_user" in module_tables
        assert db.engine is host_db.engine  # the host's db: one engine, one pool


# --- where the module's tables live ------------------------------------------------------------


def test_the_module_can_bring_its_own_database(host_factory, tmp_path, database_url):
    """The host's tables in the host's database, the module's in CUSTREG_DATABASE_URL."""
    host_url = f"sqlite:///{tmp_path / 'host.db'}"
    app = host_factory(host_url, share_db=False, module_url=database_url)
    add_host_user(app, "boss@host.example", is_admin=True)
    client = app.test_client()
    host_login(client, "boss@host.example")
    token = client.get("/token").get_data(as_text=True)
    created = client.post(
        "/admin/customers/new/", data={"name": "Own Oy", "country": "FI", "csrf_token": token}
    )
    assert created.status_code == 302
    with app.app_context():
        assert app.extensions["custreg_admin"].database == "own"
        assert db.engine is not host_db.engine
        assert str(db.engine.url) == str(make_url(sqlalchemy_url(database_url)))
        host_tables = set(inspect(host_db.engine).get_table_names())
        assert "user" in host_tables
        assert not {name for name in host_tables if name.startswith("custreg_")}
        assert db.session.scalar(select(Customer.name)) == "Own Oy"
        assert db.session.scalar(select(User.email)) == "boss@host.example"


def test_two_host_apps_in_one_process(host_factory, tmp_path, database_url):
    first = host_factory(
        f"sqlite:///{tmp_path / 'one.db'}", share_db=False, module_url=database_url
    )
    second = host_factory(f"sqlite:///{tmp_path / 'two.db'}")
    for app in (first, second):
        add_host_user(app, "boss@host.example", is_admin=True)
    views = [app.extensions["custreg_admin"].views for app in (first, second)]
    assert views[0] and views[1] and not set(map(id, views[0])) & set(map(id, views[1]))
    assert first.extensions["custreg_admin"] is not second.extensions["custreg_admin"]
    for app in (first, second):
        client = app.test_client()
        assert client.get("/admin/customers/").status_code == 302
        host_login(client, "boss@host.example")
        assert client.get("/admin/customers/").status_code == 200
        with app.app_context():
            assert current_custreg_user() is None  # no request: nobody
            assert app.extensions["custreg_admin"].admin.app is app
    with first.app_context():
        first_engine = db.engine
    with second.app_context():
        assert db.engine is not first_engine


# --- names, prefixes, categories, the module's own login -------------------------------------


def test_url_prefix_and_category_names(host_factory):
    app = host_factory(url_prefix="crm", categories={"Customers": "CRM", "Settings": "CRM setup"})
    add_host_user(app, "boss@host.example", is_admin=True)
    client = app.test_client()
    host_login(client, "boss@host.example")
    assert client.get("/admin/crm/customers/").status_code == 200
    assert client.get("/admin/crm/settings/registries/").status_code == 200
    assert client.get("/admin/customers/").status_code == 404
    page = client.get("/admin/crm/dashboard/").get_data(as_text=True)
    assert "CRM setup" in page and ">CRM<" in page.replace("\n", "").replace(" ", "")
    assert "Add new" in page  # not renamed
    endpoints = {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()}
    module = endpoints - {"static", "admin", "host_user", "host_login", "host_api", "host_token"}
    assert module and all(name.startswith("custreg_") for name in module)


def test_a_url_the_host_already_serves_is_refused(database_url):
    app = Flask("clash")
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url))
    host_db.init_app(app)
    admin = Admin(app, url="/admin")
    admin.add_view(HostUserView(HostUser, host_db, endpoint="host_user", url="customers"))
    with pytest.raises(RuntimeError, match="/admin/customers/.*url_prefix"):
        CustReg().init_app(app, admin=admin, db=host_db, user_loader=lambda: None)
    with app.app_context():
        host_db.engine.dispose()


def test_without_a_host_login_the_module_brings_its_own(host_factory, tmp_path):
    app = host_factory(with_login=False)
    other = host_factory(f"sqlite:///{tmp_path / 'other.db'}", with_login=False)
    state = app.extensions["custreg_admin"]
    assert state.own_login and app.login_manager.login_view == "custreg_auth.login"
    assert app.login_manager is not other.login_manager  # one login manager per app
    client = app.test_client()
    response = client.get("/admin/customers/")
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert client.get("/admin/login").status_code == 200


def test_without_a_host_admin_the_module_makes_its_own(_pg_schema, database_url):
    """A host with a login but no Flask-Admin: the module's own Admin, the host's login."""
    app = Flask("host_without_admin")
    app.config.update(
        SECRET_KEY="k",
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url),
        CUSTREG_REGISTRIES="",
        FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION=True,
    )
    host_db.init_app(app)
    manager = LoginManager(app)
    manager.login_view = "host_login"
    manager.user_loader(lambda user_id: host_db.session.get(HostUser, int(user_id)))

    @app.route("/login", methods=["GET", "POST"])
    def host_login():
        email = request.values.get("email")
        login_user(host_db.session.scalar(select(HostUser).where(HostUser.email == email)))
        return "logged in"

    CustReg(app, db=host_db, user_loader=_map_user, url_prefix="/registry")
    _prepare(app)
    add_host_user(app, "boss@host.example", is_admin=True)
    client = app.test_client()
    assert client.get("/registry/customers/").headers["Location"].startswith("/login?next=")
    client.post("/login", data={"email": "boss@host.example"})
    for path in ("/registry/", "/registry/customers/", "/registry/settings/registries/"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert 'data-testid="current-user"' in page and "Boss" in page  # custreg_user
        assert "Log out" not in page  # the host does the login and the logout
    with app.app_context():
        host_db.drop_all()
        host_db.engine.dispose()


def test_a_host_login_manager_is_never_replaced(database_url, caplog):
    app = Flask("host_with_login")
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url))
    host_db.init_app(app)
    manager = LoginManager(app)
    with caplog.at_level(logging.WARNING, logger="custreg_admin.mount"):
        CustReg().init_app(app, admin=Admin(app), db=host_db)
    assert app.login_manager is manager
    assert not app.extensions["custreg_admin"].own_login
    assert "has its own LoginManager" in caplog.text
    with app.app_context():
        host_db.engine.dispose()


def test_mounting_twice_or_with_an_uninitialised_host_db_is_refused(host, database_url):
    with pytest.raises(RuntimeError, match="already mounted"):
        CustReg().init_app(host, admin=Admin(name="again"))
    bare = Flask("bare")
    bare.config.update(SECRET_KEY="k")
    with pytest.raises(RuntimeError, match="db.init_app"):
        CustReg().init_app(bare, admin=Admin(bare), db=SQLAlchemy())


# --- migrations in the host's database -------------------------------------------------------


@pytest.fixture
def fresh_host_url(tmp_path) -> Iterator[str]:
    """An empty database for a host: a new SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'fresh_host.db'}"
        return
    base = make_url(PG_URL)
    name = f"{base.database}_embed_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(sqlalchemy_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


def test_init_db_migrates_the_module_into_the_hosts_database(fresh_host_url, host_factory):
    app = host_factory(fresh_host_url, prepare=False)
    Migrate(app, host_db, include_name=host_include_name)  # the host's own migrations set-up
    with app.app_context():
        host_db.create_all()
        with host_db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('host0001')"))
    add_host_user(app, "boss@host.example", is_admin=True)

    result = app.test_cli_runner().invoke(args=["custreg", "init-db"])
    assert result.exit_code == 0, result.output
    assert app.extensions["migrate"].db is host_db  # the host's Migrate is still the host's

    with app.app_context():
        tables = set(inspect(host_db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        assert "custreg_alembic_version" in tables
        with host_db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == "host0001"  # the host's revision untouched
            users = connection.execute(text('SELECT email, is_admin FROM "user"')).all()
            assert [tuple(u) for u in users] == [("boss@host.example", True)]
            # the host's autogenerate, with host_include_name, sees nothing to do
            context = MigrationContext.configure(
                connection, opts={"include_name": host_include_name, "compare_type": True}
            )
            assert compare_metadata(context, host_db.metadata) == []
    client = app.test_client()
    host_login(client, "boss@host.example")
    assert client.get("/admin/customers/").status_code == 200
    again = app.test_cli_runner().invoke(args=["custreg", "init-db"])
    assert again.exit_code == 0 and "0 default settings added" in again.output


# --- the runnable example ----------------------------------------------------------------------


def _example_module():
    """examples/embed_host/host_app.py, imported once (it declares models, like any host)."""
    name = "custreg_example_embed_host"
    if name not in sys.modules:
        path = ROOT / "examples" / "embed_host" / "host_app.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_the_example_host_app_runs(tmp_path):
    example = _example_module()
    app = example.create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'host.db'}", "TESTING": True}
    )
    app.config["CUSTREG_REGISTRIES"] = ""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["host", "init-db"]).exit_code == 0
    result = runner.invoke(args=["custreg", "init-db"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    assert client.get("/admin/customers/").headers["Location"].startswith("/login")
    client.post("/login", data={"email": "it@example.com", "password": "host-password"})
    for path in ("/admin/host_people/", "/admin/customers/", "/admin/settings/registries/"):
        assert client.get(path).status_code == 200, path
    assert "Registry settings" in client.get("/admin/dashboard/").get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
        example.db.engine.dispose()
