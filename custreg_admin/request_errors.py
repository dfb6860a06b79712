"""Clear pages instead of tracebacks for requests the module cannot serve as asked.

* **The database went away** (a restart or a failover closed the connection in the middle of a
  request; connections idle in the pool are checked before use, see
  :func:`custreg_admin.extensions.engine_options`): a ``GET`` is run once more on a fresh
  connection; anything else, or a second failure, gets a 503 page saying to try again.
* **A request larger than** ``MAX_CONTENT_LENGTH`` (``CUSTREG_MAX_CONTENT_LENGTH``): a 413 page
  that says the limit.

Only the module's own requests are answered so (its blueprints); the host's are left alone.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from .extensions import db
from .i18n import current_language, gettext

log = logging.getLogger(__name__)

#: A request that may simply be run again (it changes nothing).
RETRYABLE_METHODS = ("GET", "HEAD")


def database_went_away(error: BaseException) -> bool:
    """Whether ``error`` says the connection to the database was lost or cannot be made (not a
    mistake of the statement: those are never retried)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    with contextlib.suppress(Exception):
        return db.engine.dialect.name != "sqlite"  # SQLite's are about the statement or file
    return False


def _language() -> str:
    try:
        return current_language()
    except Exception:  # it may ask the database for the user's profile
        return str(current_app.config.get("CUSTREG_DEFAULT_LOCALE") or "en")


def message_page(status: int, title: str, message: str, **headers: str) -> Any:
    back = request.referrer if request.referrer and request.referrer != request.url else None
    html = render_template(
        "custreg_admin/message_page.html",
        title=title,
        message=message,
        language=_language(),
        back_url=back,
        back_label=gettext("Back"),
    )
    return html, status, headers


def _forget_connection() -> None:
    """Roll the session back: the lost connection is let go, the next statement takes a fresh
    one (the session's objects, the logged-in user among them, are reloaded from it)."""
    with contextlib.suppress(Exception):
        db.session.rollback()


def init_request_limits(app: Flask, blueprints: set[str]) -> None:
    """The module's requests may carry at most ``CUSTREG_MAX_CONTENT_LENGTH`` bytes (the
    stand-alone app sets ``MAX_CONTENT_LENGTH`` to it; inside a host app only the module's own
    requests get it, unless the host's ``MAX_CONTENT_LENGTH`` is smaller). Registered before
    the module's CSRF check, which is the first to read the form."""
    limit = int(app.config.get("CUSTREG_MAX_CONTENT_LENGTH") or 0)
    if limit <= 0:
        return

    @app.before_request
    def _custreg_request_limit() -> None:
        if request.blueprint in blueprints:
            host = current_app.config.get("MAX_CONTENT_LENGTH")
            request.max_content_length = min(limit, host) if host else limit


def init_request_errors(app: Flask, blueprints: set[str]) -> None:
    """Answer the module's requests that meet a lost database or are too large with a page."""

    def unavailable() -> Any:
        return message_page(
            503,
            gettext("The database cannot be reached"),
            gettext(
                "The customer registry cannot reach its database just now (it may be "
                "restarting). Nothing was saved by this request. Try again in a moment."
            ),
            **{"Retry-After": "5"},
        )

    def on_database_error(error: DBAPIError) -> Any:
        if request.blueprint not in blueprints or not database_went_away(error):
            raise error
        _forget_connection()
        if request.method not in RETRYABLE_METHODS or g.get("_custreg_db_retried"):
            log.warning(
                "custreg_admin: database connection lost during %s %s: %r",
                request.method,
                request.path,
                error,
            )
            return unavailable()
        g._custreg_db_retried = True
        log.warning(
            "custreg_admin: database connection lost during GET %s; running it again on "
            "a fresh connection",
            request.path,
        )
        try:
            return current_app.ensure_sync(current_app.dispatch_request)()
        except DBAPIError as again:
            if not database_went_away(again):
                raise
            _forget_connection()
            log.warning(
                "custreg_admin: database still unreachable for GET %s: %r", request.path, again
            )
            return unavailable()

    app.register_error_handler(OperationalError, on_database_error)
    app.register_error_handler(InterfaceError, on_database_error)
    app.register_error_handler(DBAPIError, on_database_error)

    def too_large(error: RequestEntityTooLarge) -> Any:
        if request.blueprint not in blueprints:
            return error
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return message_page(
            413,
            gettext("The request is too large"),
            gettext(
                "What was sent is larger than the customer registry accepts (at most %(size)s). "
                "Nothing was saved. Shorten the text or send less at once, and try again.",
                size=human_size(limit),
            ),
        )

    app.register_error_handler(RequestEntityTooLarge, too_large)


def human_size(size: int) -> str:
    """``2 MB``, ``512 kB``, ``300 bytes`` (powers of 1024, as the limits are set)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} kB"
    return f"{size} bytes"
