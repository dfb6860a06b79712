"""Who is logged in, who is acting, and the module's state on an app.

The bottom of the module: it imports nothing of ``custreg_admin`` above the config, so that every
layer (models, rules, services, admin, i18n, cache) can ask "who is this?" without importing the
extension that mounts the views (:mod:`custreg_admin.mount`).

* :func:`current_custreg_user`: the logged-in user as the module sees them (its own login, or the
  host's through ``CustReg.init_app(user_loader=..., access=...)``).
* :func:`acting_user`: whoever a write is done for: the user a service was told to act as
  (:func:`acting_as`), else the logged-in user, else ``None`` (the system: CLI, host scripts).
* :func:`custreg_state`: what ``CustReg.init_app`` keeps on the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, has_request_context
from werkzeug.local import LocalProxy

EXTENSION_KEY = "custreg_admin"

UserLoader = Callable[[], Any]
AccessHook = Callable[[Any], bool]


@dataclass
class CustRegState:
    """What the module keeps per app, in ``app.extensions["custreg_admin"]``."""

    admin: Any  # the flask_admin.Admin the views are in
    url_prefix: str
    views: list[Any] = field(default_factory=list)
    user_loader: UserLoader | None = None
    access: AccessHook | None = None
    #: the module's own login page and Flask-Login manager are in use
    own_login: bool = True
    #: "app" (stand-alone: the app's own Flask-SQLAlchemy), "host" (the host's engine), "own"
    database: str = "app"
    #: names of the module's blueprints (its views, login, static files)
    blueprints: set[str] = field(default_factory=set)
    #: failed log-ins per e-mail + IP and per IP (the module's own login only)
    login_throttle: Any = None
    #: the module chooses the UI language (False: the host's Flask-Babel locale selector does)
    chooses_locale: bool = True
    #: KPI figures and filter choices (:class:`custreg_admin.cache.ModuleCache`)
    cache: Any = None


# --- who is logged in ---------------------------------------------------------------------------

_UNSET = object()


def custreg_state(app: Flask | None = None) -> CustRegState:
    """The module's state on ``app`` (default: the current app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("custreg_admin is not mounted on this app (CustReg.init_app).") from None


def is_module_request() -> bool:
    """Whether the current request is one of the module's own (its views, login, static
    files), not a page of the host app it is mounted in."""
    if not has_request_context():
        return False
    from flask import request

    state = current_app.extensions.get(EXTENSION_KEY)
    return state is not None and request.blueprint in state.blueprints


def _logged_in_user() -> Any | None:
    """Whoever is logged in, as the module's user object, active or not (outside a request:
    nobody; the CLI and services called from host code pass their user, or none, themselves)."""
    if not has_request_context():
        return None
    state = custreg_state()
    if state.user_loader is not None:
        user = g.get("_custreg_user", _UNSET)
        if user is _UNSET:
            user = g._custreg_user = state.user_loader()
        return user
    if getattr(current_app, "login_manager", None) is None:
        return None
    from flask_login import current_user

    return current_user._get_current_object() if current_user.is_authenticated else None


def current_custreg_user() -> Any | None:
    """The logged-in user as the module sees them, or ``None``.

    With a ``user_loader``: what it returns (it is called once per request). Without:
    Flask-Login's ``current_user`` when authenticated. A user whose ``is_active`` is false is
    nobody here (their requests get 403).
    """
    user = _logged_in_user()
    if user is None or not getattr(user, "is_active", True):
        return None
    return user


#: :func:`current_custreg_user` as a proxy, for views: ``from ..context import current_user``
#: (like Flask-Login's, but the module's user, whoever does the login; ``None`` behind it when
#: nobody is logged in).
current_user: Any = LocalProxy(current_custreg_user)


# --- who is acting ------------------------------------------------------------------------------

_SYSTEM = object()
_acting: ContextVar[Any] = ContextVar("custreg_acting_user", default=_UNSET)


@contextmanager
def acting_as(user: Any | None) -> Iterator[None]:
    """Writes inside the block are done for ``user`` (``None``: the system, e.g. the CLI), whoever
    is logged in. Services that take ``user=`` wrap their work in this, so that the checks and
    the history written at flush time know who did it."""
    token = _acting.set(_SYSTEM if user is None else user)
    try:
        yield
    finally:
        _acting.reset(token)


def acts_as_user(function: Callable[..., Any]) -> Callable[..., Any]:
    """A service whose first argument is the acting ``user``: its body runs in
    :func:`acting_as` that user (the access backstop and the history see who did it)."""

    @wraps(function)
    def wrapper(user: Any, *args: Any, **kwargs: Any) -> Any:
        with acting_as(user):
            return function(user, *args, **kwargs)

    return wrapper


def acting_user() -> Any | None:
    """Whoever the current write is for: the user of the innermost :func:`acting_as`, else the
    logged-in user (in a request), else ``None`` (the system)."""
    user = _acting.get()
    if user is _SYSTEM:
        return None
    if user is not _UNSET:
        return user
    return current_custreg_user()
