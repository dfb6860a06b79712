"""Flask extensions the module owns. Nothing here is bound to an app at import time.

``db`` is the one SQLAlchemy object the module's models and services use. On the stand-alone app
(:func:`custreg_admin.create_app`) it is the app's Flask-SQLAlchemy extension. Mounted into a host
app, it leaves ``app.extensions["sqlalchemy"]`` to the host and is bound to that app with
:meth:`CustRegSQLAlchemy.bind_app`: to the host's engine (the host passed its own ``db``) or to an
engine of its own (``CUSTREG_DATABASE_URL``).

``csrf`` and ``migrate`` keep no per-app state of their own, so one object serves every
stand-alone app in a process. The login manager is made per app (see ``mount.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The module's Alembic scripts (``flask custreg init-db`` runs them; so does ``flask db`` on the
#: stand-alone app).
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
#: Alembic's version table of the module: never the host's ``alembic_version``.
VERSION_TABLE = "custreg_alembic_version"
#: Every table of the module starts with this.
TABLE_PREFIX = "custreg_"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CustRegSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy that can also serve an app whose ``app.extensions["sqlalchemy"]`` is
    the host's own.

    :meth:`bind_app` gives an app the host's engines (read lazily, so the host may replace or
    dispose them) or an engine made from a URL. Either way the module keeps its own session
    (``db.session``), scoped to the app context like Flask-SQLAlchemy's, removed when the app
    context ends.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bound: WeakKeyDictionary[Flask, Callable[[], Mapping[str | None, sa.Engine]]] = (
            WeakKeyDictionary()
        )

    @property
    def engines(self) -> Mapping[str | None, sa.Engine]:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        source = self._bound.get(app)
        if source is not None:
            return source()
        return super().engines

    def is_bound(self, app: Flask) -> bool:
        """Whether the module's models can be used on ``app``."""
        return app.extensions.get("sqlalchemy") is self or app in self._bound

    def bind_app(
        self,
        app: Flask,
        *,
        share: SQLAlchemy | None = None,
        url: str | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Bind the module to ``app`` without taking ``app.extensions["sqlalchemy"]``.

        ``share``: the host's Flask-SQLAlchemy object; the module uses its engines on ``app``
        (the same connection pool; the host must have called ``share.init_app(app)``).
        ``url``: a database of the module's own (``engine_options`` go to ``create_engine``).
        """
        if (share is None) == (url is None):
            raise TypeError("bind_app() takes share= or url=")
        if self.is_bound(app):
            raise RuntimeError("The custreg_admin database is already set up on this app.")
        if share is not None:
            if app.extensions.get("sqlalchemy") is not share:
                raise RuntimeError(
                    "CustReg.init_app(app, db=db): call db.init_app(app) on the host's "
                    "Flask-SQLAlchemy object first."
                )
            self._bound[app] = lambda: share.engines
        else:
            engines = {None: _make_engine(str(url), dict(engine_options or {}))}
            self._bound[app] = lambda: engines
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, exc: BaseException | None) -> None:
        self.session.remove()


def engine_options(
    url: str, options: Mapping[str, Any] | None = None, application_name: str | None = None
) -> dict[str, Any]:
    """Options for an engine of the module's own (never the host's): ``pool_pre_ping`` (a
    connection that the database closed, after a restart or a failover, is replaced when taken
    from the pool instead of failing the request), and on PostgreSQL the connections'
    ``application_name`` (``CUSTREG_DATABASE_APPLICATION_NAME``, default ``custreg_admin``: how
    they show in ``pg_stat_activity``). What ``options`` already says is kept."""
    merged = dict(options or {})
    merged.setdefault("pool_pre_ping", True)
    if sa.make_url(url).get_backend_name() == "postgresql":
        connect_args = dict(merged.get("connect_args") or {})
        connect_args.setdefault("application_name", application_name or "custreg_admin")
        merged["connect_args"] = connect_args
    return merged


def _make_engine(url: str, options: dict[str, Any]) -> sa.Engine:
    """An engine for a URL, with the in-memory SQLite defaults Flask-SQLAlchemy applies."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    return sa.create_engine(parsed, **options)


db = CustRegSQLAlchemy(model_class=Base)
csrf = CSRFProtect()
migrate = Migrate()
