"""custreg-admin: a customer registry for Flask-Admin back offices."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .config import DEFAULTS, from_environment, require_driver, sqlalchemy_url
from .context import current_custreg_user
from .extensions import MIGRATIONS_DIR, VERSION_TABLE, csrf, db, engine_options, migrate
from .mount import CustReg, host_include_name
from .security import init_cookies, init_proxy_fix, secret_key
from .services.host_users import sync_user
from .version import __version__

__all__ = [
    "CustReg",
    "__version__",
    "create_app",
    "current_custreg_user",
    "host_include_name",
    "sync_user",
]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the stand-alone customer-registry app.

    Defaults come first, then CUSTREG_* environment variables, then ``config``. The app is the
    module's alone: the module's ``db`` is its Flask-SQLAlchemy extension, CSRF protection covers
    every route, ``flask db`` runs the module's migrations, the session cookie follows
    :func:`custreg_admin.security.init_cookies`. In production (see
    :func:`custreg_admin.security.is_development`) it refuses to start without
    ``CUSTREG_SECRET_KEY``. (To put the module into an app of your
    own, use :class:`CustReg` instead.)
    """
    # the instance folder: CUSTREG_INSTANCE_PATH, else Flask's (in a virtualenv,
    # <venv>/var/custreg_admin-instance/; in a checkout, ./instance/)
    instance_path = (config or {}).get("CUSTREG_INSTANCE_PATH") or os.environ.get(
        "CUSTREG_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
    )
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment())
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.config["SECRET_KEY"] = secret_key(app)
    database_url = app.config["CUSTREG_DATABASE_URL"] or (
        "sqlite:///" + str(Path(app.instance_path) / "custreg.db")
    )
    app.config["CUSTREG_DATABASE_URL"] = database_url
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", sqlalchemy_url(database_url))
    require_driver(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config.get("SQLALCHEMY_ENGINE_OPTIONS"),
        app.config.get("CUSTREG_DATABASE_APPLICATION_NAME"),
    )
    if not app.config.get("MAX_CONTENT_LENGTH"):  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = (
            int(app.config["CUSTREG_MAX_CONTENT_LENGTH"] or 0) or None
        )
    init_cookies(app)  # before the login manager: see init_cookies
    init_proxy_fix(app)

    db.init_app(app)
    csrf.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        compare_type=True,
        render_as_batch=True,
    )
    CustReg(app)

    @app.route("/")
    def root():  # the stand-alone app has nothing but the admin
        from flask import redirect, url_for

        return redirect(url_for("custreg_admin_home.index"))

    return app
