"""A host Flask app with the customer registry mounted in its own admin.

The host has its own Flask-SQLAlchemy ``db``, its own ``User`` model (table ``user``), its own
login (Flask-Login, a login page at ``/login``) and its own Flask-Admin ``Admin`` with a view of
its own. The customer registry joins with three lines (see ``create_app``) and two hooks:
``custreg_user`` maps the host's user to the module's account-owner record and role,
``may_use_customer_registry`` decides who may open the module at all.

    export HOST_ENV=development           # or HOST_SECRET_KEY=<a long random string>
    flask --app host_app host init-db     # the host's tables and a first user
    flask --app host_app custreg init-db  # the module's tables (custreg_*), same database
    flask --app host_app run
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, flash, redirect, render_template_string, request, url_for
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from custreg_admin import CustReg, sync_user

db = SQLAlchemy()


class User(UserMixin, db.Model):
    """The host's own users: nothing to do with the module's ``custreg_user``."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    sees_all_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    uses_crm: Mapped[bool] = mapped_column(Boolean, default=True)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)


class HostAdminView(ModelView):
    """One of the host's own admin views, gated by the host's own login."""

    column_list = ("email", "name", "is_admin", "sees_all_invoices", "uses_crm")
    form_excluded_columns = ("password_hash",)

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_admin

    def inaccessible_callback(self, name, **kwargs):
        return login_manager.unauthorized()


login_manager = LoginManager()
login_manager.login_view = "login"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


# --- the two hooks the customer registry takes ------------------------------------------------


def custreg_user():
    """The module's user for whoever is logged in here (``None``: nobody is)."""
    if not current_user.is_authenticated:
        return None
    return sync_user(
        email=current_user.email,
        name=current_user.name,
        role="admin" if current_user.is_admin else "user",
        can_view_all_invoices=current_user.sees_all_invoices,
    )


def may_use_customer_registry(user) -> bool:
    return bool(current_user.uses_crm)


# --- the app ---------------------------------------------------------------------------------

LOGIN_PAGE = """<!doctype html><title>Host login</title><h1>Host login</h1>
{% for m in get_flashed_messages() %}<p>{{ m }}</p>{% endfor %}
<form method="post"><input type="hidden" name="next" value="{{ next }}">
<label>E-mail <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button>Log in</button></form>"""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(__file__).with_name("instance")))
    app.config.update(
        SECRET_KEY=os.environ.get("HOST_SECRET_KEY"),
        SQLALCHEMY_DATABASE_URI=os.environ.get("HOST_DATABASE_URL"),
    )
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing or os.environ.get("HOST_ENV") == "development"):
            raise RuntimeError(
                "HOST_SECRET_KEY is not set. In production the host app needs a secret key of "
                "its own (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`); for "
                "a try-out set HOST_ENV=development."
            )
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # development: a new key per start
    if not app.config["SQLALCHEMY_DATABASE_URI"]:  # a SQLite file in instance/
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
            Path(app.instance_path) / "host.db"
        )
    db.init_app(app)
    login_manager.init_app(app)

    admin = Admin(app, name="Host back office", url="/admin")
    admin.add_view(HostAdminView(User, db, name="People", endpoint="host_people"))

    # The three lines: the customer registry in this admin, in this database, with this login.
    custreg = CustReg()
    custreg.init_app(
        app,
        admin=admin,
        db=db,
        user_loader=custreg_user,
        access=may_use_customer_registry,
        categories={"Settings": "Registry settings"},
    )

    @app.route("/")
    def index():
        return redirect(url_for("admin.index"))

    @app.route("/login", methods=["GET", "POST"])
    def login():
        target = request.values.get("next", "")
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = url_for("admin.index")
        if request.method == "POST":
            email = request.form.get("email", "").strip().lower()
            user = db.session.scalar(select(User).where(User.email == email))
            if user and check_password_hash(user.password_hash, request.form.get("password", "")):
                login_user(user)
                return redirect(target)
            flash("Wrong e-mail or password.")
        return render_template_string(LOGIN_PAGE, next=target)

    @app.route("/logout", methods=["POST"])
    def logout():
        logout_user()
        return redirect(url_for("login"))

    @app.cli.group("host")
    def host_cli():
        """The host's own commands."""

    @host_cli.command("init-db")
    @click.option("--email", default="it@example.com", show_default=True)
    @click.option("--password", default="host-password", show_default=True)
    def init_db(email: str, password: str) -> None:
        """Create the host's tables and its first (admin) user."""
        db.create_all()
        if db.session.scalar(select(User).where(User.email == email)) is None:
            user = User(email=email, name="IT Admin", is_admin=True, sees_all_invoices=True)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
        click.echo(f"Host tables ready; log in at /login as {email} / {password}")

    return app
