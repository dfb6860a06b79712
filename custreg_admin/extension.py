"""The CustReg Flask extension: mounts the customer registry into an app and an Admin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import event

from .config import DEFAULTS
from .extensions import csrf, db, login_manager, migrate

EXTENSION_KEY = "custreg_admin"
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


@dataclass
class CustRegState:
    """What the module keeps per app, in ``app.extensions["custreg_admin"]``."""

    admin: Admin
    url_prefix: str
    views: list[Any] = field(default_factory=list)


class CustReg:
    """Flask extension. ``CustReg(app, admin)`` or ``CustReg().init_app(app, admin)``.

    With a host ``Admin`` the module's views are added there; without one it makes its own at
    the ``CUSTREG_URL_PREFIX`` (default ``/admin``).
    """

    def __init__(self, app: Flask | None = None, admin: Admin | None = None) -> None:
        if app is not None:
            self.init_app(app, admin=admin)

    def init_app(self, app: Flask, admin: Admin | None = None) -> None:
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        url_prefix = app.config["CUSTREG_URL_PREFIX"].rstrip("/") or "/admin"

        if "sqlalchemy" not in app.extensions:
            db.init_app(app)
        _enforce_sqlite_foreign_keys(app)
        if "csrf" not in app.extensions:
            csrf.init_app(app)
        if "babel" not in app.extensions:
            from flask_babel import Babel

            Babel(app)
        if "migrate" not in app.extensions:
            migrate.init_app(
                app,
                db,
                directory=MIGRATIONS_DIR,
                version_table="custreg_alembic_version",
                compare_type=True,
                render_as_batch=True,
            )
        _init_login(app, url_prefix)

        from .admin import register_views
        from .admin.auth import auth_blueprint
        from .admin.home import HomeView

        assets = Blueprint(
            "custreg_admin",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/custreg_admin/static",
        )
        app.register_blueprint(assets)
        app.register_blueprint(auth_blueprint, url_prefix=url_prefix)

        if admin is None:
            admin = Admin(
                app,
                name="Customer registry",
                url=url_prefix,
                index_view=HomeView(name="Home", endpoint="custreg_admin_home", url=url_prefix),
                theme=Bootstrap4Theme(base_template="custreg_admin/base.html", fluid=True),
            )
        state = CustRegState(admin=admin, url_prefix=url_prefix)
        app.extensions[EXTENSION_KEY] = state
        state.views = register_views(admin)

        from .cli import custreg_cli

        app.cli.add_command(custreg_cli)


def _init_login(app: Flask, url_prefix: str) -> None:
    if "login_manager" in app.__dict__:
        return
    login_manager.init_app(app)
    login_manager.login_view = "custreg_auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from .models import User

        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_active else None


def _enforce_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite checks foreign keys only when asked to, per connection."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _pragma(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
