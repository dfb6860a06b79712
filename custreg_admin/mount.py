"""The CustReg Flask extension: mounts the customer registry into an app and an Admin.

Stand-alone (:func:`custreg_admin.create_app`) the module has the app to itself: its own database,
login, CSRF protection and ``Admin`` at ``/admin``. Mounted into a host app it shares the app:

* **Database**: ``db=<host's Flask-SQLAlchemy>`` puts the module's tables (all ``custreg_*``) in the
  host's database through the host's engine; without it the module opens its own database,
  ``CUSTREG_DATABASE_URL`` (default: ``custreg.db`` in the instance folder). The module's queries
  always go through its own session, ``custreg_admin.extensions.db.session``.
* **Who is logged in**: ``user_loader()`` returns the module's notion of the current user (a
  :class:`custreg_admin.models.User` row, e.g. from :func:`custreg_admin.sync_user`) or ``None``;
  ``access(user)`` may refuse the module to someone. Without a ``user_loader`` the module uses
  Flask-Login's ``current_user``: its own login (``/admin/login``) when the app has no
  ``LoginManager``, else the host's, whose user objects must then look like the module's users.
  :func:`current_custreg_user` is the one place every view asks.
* **Names**: endpoints and blueprints ``custreg_*``, templates under ``custreg_admin/``, static
  files at ``/custreg_admin/static``; menu categories renamed with ``categories``; views under
  ``url_prefix`` inside the host's ``Admin``.
* **CSRF**: the host's ``CSRFProtect`` when it has one; else only the module's own endpoints are
  checked (the host's routes are left as they are).
* **Languages**: the module's strings are in its own gettext domain; a host's Flask-Babel locale
  selector is followed, else the module chooses the language of its pages (``custreg_admin.i18n``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_admin import Admin, BaseView
from flask_admin.theme import Bootstrap4Theme
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from werkzeug.local import LocalProxy

from . import i18n
from .admin import register_views
from .admin.auth import auth_blueprint
from .admin.formatting import register_filters
from .admin.home import HomeView
from .admin.language import language_blueprint, switcher
from .cache import make_cache
from .cli import custreg_cli
from .config import DEFAULTS, require_driver, sqlalchemy_url
from .context import (
    EXTENSION_KEY,
    AccessHook,
    CustRegState,
    UserLoader,
    current_custreg_user,
)
from .extensions import TABLE_PREFIX, csrf, db, engine_options
from .extensions import db as _module_db
from .i18n import lazy_gettext
from .login_throttle import LoginThrottle
from .request_errors import init_request_errors, init_request_limits
from .rules.access import install_backstop
from .security import csp_policy, init_csp, init_input_checks
from .services import history, move_guard
from .services.users import find_by_session_token

log = logging.getLogger(__name__)

#: The stand-alone base template, and the one used with the module's own Admin and a host login.
OWN_BASE_TEMPLATE = "custreg_admin/base.html"
EMBEDDED_BASE_TEMPLATE = "custreg_admin/embedded_base.html"
#: The module's menu categories, for ``categories={"Customers": "CRM", ...}`` (the English
#: names; shown translated unless renamed).
CATEGORIES = ("Customers", "Add new", "Projects & billing", "Reports", "Settings")
CATEGORY_LABELS = {
    "Customers": lazy_gettext("Customers"),
    "Add new": lazy_gettext("Add new"),
    "Projects & billing": lazy_gettext("Projects & billing"),
    "Reports": lazy_gettext("Reports"),
    "Settings": lazy_gettext("Settings"),
}


class CustReg:
    """Flask extension. ``CustReg(app, admin)`` or ``CustReg().init_app(app, admin, ...)``.

    With a host ``Admin`` the module's views are added there; without one it makes its own at
    ``url_prefix`` (default ``CUSTREG_URL_PREFIX``, ``/admin``). The object keeps nothing about
    an app: one ``CustReg()`` may be initialised on any number of apps.
    """

    def __init__(self, app: Flask | None = None, admin: Admin | None = None, **options) -> None:
        if app is not None:
            self.init_app(app, admin=admin, **options)

    def init_app(
        self,
        app: Flask,
        admin: Admin | None = None,
        *,
        db: SQLAlchemy | None = None,
        url_prefix: str | None = None,
        categories: Mapping[str, str] | None = None,
        user_loader: UserLoader | None = None,
        access: AccessHook | None = None,
    ) -> CustRegState:
        """Mount the customer registry on ``app``.

        :param admin: the host's Flask-Admin ``Admin``; ``None``: the module makes its own.
        :param db: the host's Flask-SQLAlchemy object (already initialised on ``app``): the
            module's tables live in its database. ``None``: the module's own database,
            ``CUSTREG_DATABASE_URL`` (unless ``app`` is the module's own, see ``create_app``).
        :param url_prefix: with the module's own ``Admin``, its URL (default
            ``CUSTREG_URL_PREFIX``); with a host ``Admin``, a path inside it for the module's
            views (``"crm"``: ``/admin/crm/customers/``; default: none).
        :param categories: new names for the module's menu categories (:data:`CATEGORIES`),
            e.g. ``{"Customers": "CRM", "Settings": "CRM settings"}``.
        :param user_loader: ``() -> user | None``: the module's notion of the logged-in user,
            with ``id`` (a ``custreg_user`` row), ``name``, ``role`` and
            ``can_view_all_invoices``: a :class:`~custreg_admin.models.User`, e.g. from
            :func:`custreg_admin.sync_user`. Called at most once per request.
        :param access: ``(user) -> bool``: whether that user may use the module at all; every
            view's ``is_accessible`` asks it on top of the view's roles.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("custreg_admin is already mounted on this app.")
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        own_admin = admin is None

        database = _init_database(app, db)
        history.register()  # the module's own sessions only (db.session's sessionmaker)
        _enforce_sqlite_foreign_keys(app)
        # the module's session only (not SQLAlchemy's Session class: the host's stay theirs)
        install_backstop(_module_db.session.session_factory)
        _guard_module_sessions()
        chooses_locale = i18n.init_app(app)
        own_login = _init_login(app, user_loader)

        assets = Blueprint(
            "custreg_admin",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/custreg_admin/static",
        )
        app.register_blueprint(assets)
        if not any(rule.rule == "/favicon.ico" for rule in app.url_map.iter_rules()):
            app.add_url_rule("/favicon.ico", "custreg_favicon", _favicon)  # the host's wins
        register_filters(app)

        if own_admin:
            prefix = "/" + (url_prefix or app.config["CUSTREG_URL_PREFIX"] or "").strip("/")
            if prefix == "/":
                prefix = "/admin"
            admin = Admin(
                app,
                name=lazy_gettext("Customer registry"),
                url=prefix,
                index_view=HomeView(
                    name=lazy_gettext("Home"), endpoint="custreg_admin_home", url=prefix
                ),
                theme=Bootstrap4Theme(
                    base_template=OWN_BASE_TEMPLATE if own_login else EMBEDDED_BASE_TEMPLATE,
                    fluid=True,
                ),
            )
            home = admin.index_view
            target = _Mount(admin, categories or {}, "")
            module_url = prefix
        else:
            inner = (url_prefix or "").strip("/")
            target = _Mount(admin, categories or {}, inner)
            module_url = admin.url.rstrip("/") + (f"/{inner}" if inner else "")
        state = CustRegState(
            admin=admin,  # type: ignore[arg-type]
            url_prefix=module_url,
            user_loader=user_loader,
            access=access,
            own_login=own_login,
            database=database,
            chooses_locale=chooses_locale,
            cache=make_cache(app),
        )
        app.extensions[EXTENSION_KEY] = state
        if not own_admin:
            home = HomeView(
                name=lazy_gettext("Dashboard"),
                category="Customers",
                endpoint="custreg_admin_home",
                url="dashboard",
            )
            target.add_view(home)
        state.views = register_views(target)  # type: ignore[arg-type]
        state.blueprints = {view.endpoint for view in [home, *state.views]} | {"custreg_admin"}
        if own_login:
            app.register_blueprint(auth_blueprint, url_prefix=module_url)
            state.blueprints.add(auth_blueprint.name)
            state.login_throttle = LoginThrottle(app)
        if chooses_locale:
            app.register_blueprint(language_blueprint, url_prefix=module_url)
            state.blueprints.add(language_blueprint.name)
        init_request_limits(app, state.blueprints)
        init_request_errors(app, state.blueprints)
        _init_csrf(app, state)
        init_input_checks(app, state.blueprints)

        init_csp(app, admin, state.blueprints, csp_policy(app, own_admin=own_admin))
        _check_url_clashes(app, state)

        app.context_processor(_template_context)

        app.cli.add_command(custreg_cli)
        return state


class _Mount:
    """The host's ``Admin`` as ``register_views`` sees it: category names and URLs adapted."""

    def __init__(self, admin: Admin, categories: Mapping[str, str], url_prefix: str) -> None:
        self._admin = admin
        self._categories = dict(categories)
        self._url_prefix = url_prefix

    def _adapt(self, item: Any) -> Any:
        category = getattr(item, "category", None)
        if category:
            item.category = self._category(category)
        url = getattr(item, "url", None)
        if isinstance(item, BaseView) and self._url_prefix and url and not url.startswith("/"):
            item.url = f"{self._url_prefix}/{url}"
        return item

    def add_view(self, view: BaseView) -> None:
        self._admin.add_view(self._adapt(view))

    def add_views(self, *views: BaseView) -> None:
        for view in views:
            self.add_view(view)

    def add_link(self, link: Any) -> None:
        self._admin.add_link(self._adapt(link))

    def add_links(self, *links: Any) -> None:
        for link in links:
            self.add_link(link)

    def _category(self, name: str) -> Any:
        """The host's name for a category of the module, else its translated name."""
        if name in self._categories:
            return self._categories[name]
        return CATEGORY_LABELS.get(name, name)

    def add_category(self, name: str, *args: Any, **kwargs: Any) -> None:
        self._admin.add_category(self._category(name), *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._admin, name)


def _template_context() -> dict[str, Any]:
    return {"custreg_user": LocalProxy(current_custreg_user), "custreg_language_switcher": switcher}


def host_include_name(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """For a host's Alembic autogenerate: leave the module's tables out.

    ``Migrate(app, db, include_name=custreg_admin.host_include_name)``; else the host's
    ``flask db migrate`` would want to drop the ``custreg_*`` tables it does not know.
    """
    return not (type_ == "table" and (name or "").startswith(TABLE_PREFIX))


# --- set-up helpers ------------------------------------------------------------------------------


def _init_database(app: Flask, host_db: SQLAlchemy | None) -> str:
    if app.extensions.get("sqlalchemy") is db and host_db in (None, db):
        return "app"  # the module's db is the app's own (create_app)
    if host_db is not None and host_db is not db:
        db.bind_app(app, share=host_db)
        return "host"
    if host_db is db:
        raise RuntimeError("CustReg.init_app(app, db=db): call db.init_app(app) first.")
    url = app.config.get("CUSTREG_DATABASE_URL") or (
        "sqlite:///" + str(Path(app.instance_path) / "custreg.db")
    )
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = sqlalchemy_url(url)
    require_driver(url)
    options = engine_options(url, None, app.config.get("CUSTREG_DATABASE_APPLICATION_NAME"))
    db.bind_app(app, url=url, engine_options=options)
    return "own"


def _init_login(app: Flask, user_loader: UserLoader | None) -> bool:
    """Set up the module's own login when it is the one to use; returns whether it is."""
    if user_loader is not None:
        return False
    if getattr(app, "login_manager", None) is not None:  # the host's: never replaced
        log.warning(
            "custreg_admin: the app has its own LoginManager and no user_loader was given; "
            "the module takes flask_login.current_user as its user (it needs id, name, role "
            "and can_view_all_invoices like custreg_admin.models.User)."
        )
        return False
    from flask_login import LoginManager

    manager = LoginManager()
    manager.init_app(app)
    manager.login_view = "custreg_auth.login"
    manager.login_message_category = "info"
    manager.session_protection = "strong"

    app.config.setdefault(
        "REMEMBER_COOKIE_DURATION",
        timedelta(days=float(app.config.get("CUSTREG_REMEMBER_DAYS") or 14)),
    )

    @manager.user_loader
    def load_user(token: str):
        """Sessions and remember-me cookies carry the user's session token (``User.get_id``):
        a token that was renewed (logout, new password, deactivation) loads nobody."""
        return find_by_session_token(token)

    return True


def _init_csrf(app: Flask, state: CustRegState) -> None:
    """The host's CSRFProtect covers the module; without one, protect the module's endpoints."""
    if "csrf" in app.extensions:
        return
    from flask_wtf.csrf import csrf_meta_tag, generate_csrf

    app.config.setdefault("WTF_CSRF_ENABLED", True)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", True)
    app.config.setdefault("WTF_CSRF_METHODS", {"POST", "PUT", "PATCH", "DELETE"})
    app.config.setdefault("WTF_CSRF_FIELD_NAME", "csrf_token")
    app.config.setdefault("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"])
    app.config.setdefault("WTF_CSRF_META_NAME", "csrf-token")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 3600)
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    app.jinja_env.globals.setdefault("csrf_meta_tag", csrf_meta_tag)
    blueprints = state.blueprints

    @app.before_request
    def _custreg_csrf_protect() -> None:
        if request.blueprint not in blueprints or "csrf" in current_app.extensions:
            return  # not ours, or the host added CSRFProtect after mounting the module
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()


def _check_url_clashes(app: Flask, state: CustRegState) -> None:
    """Refuse to mount where the host already serves one of the module's URLs."""
    if state.admin.app is None:
        return  # the host's Admin registers its views later
    ours: dict[str, str] = {}
    theirs: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        owner = rule.endpoint.split(".", 1)[0]
        (ours if owner in state.blueprints else theirs).setdefault(rule.rule, rule.endpoint)
    clashes = sorted(set(ours) & set(theirs))
    if clashes:
        raise RuntimeError(
            f"custreg_admin: the app already serves {clashes[0]} ({theirs[clashes[0]]}); "
            "mount the module with another url_prefix."
        )


def _guard_module_sessions() -> None:
    """The project-move rule on the module's own sessions (``db.session``'s factory), never on
    SQLAlchemy's ``Session`` class: a host's sessions are left alone (the database's trigger
    refuses their moves of invoiced projects)."""
    move_guard.install(db.session.session_factory)


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _enforce_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite checks foreign keys only when asked to, per connection (the module relies on them;
    sharing the host's SQLite engine, the host's connections check them too)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite" or event.contains(
            engine, "connect", _sqlite_foreign_keys
        ):
            return
        event.listen(engine, "connect", _sqlite_foreign_keys)
        if engine.url.database not in (None, "", ":memory:"):
            engine.dispose()  # pooled connections made before now get the pragma too


def _favicon():
    """``/favicon.ico`` (browsers ask for it on every page): the module's icon."""
    return redirect(url_for("custreg_admin.static", filename="favicon.svg"), code=301)
