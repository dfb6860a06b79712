"""Security baseline: secret key, cookies, Content-Security-Policy, input, reverse proxies.

* **Secret key** (:func:`secret_key`): in production ``create_app`` refuses to start without
  ``CUSTREG_SECRET_KEY``. Production is the default; development is ``CUSTREG_ENV=development``,
  ``FLASK_DEBUG=1`` (``app.debug``) or ``TESTING``: there a key is generated once into
  ``instance/secret_key`` (what ``make run`` relies on).
* **Cookies** (stand-alone app): the session and Flask-Login's remember cookie are ``HttpOnly``,
  ``SameSite=Lax``, and ``Secure`` when ``CUSTREG_HTTPS`` is on or the request came over HTTPS.
* **Content-Security-Policy** (:func:`init_csp`) on the module's own responses only, with a fresh
  nonce per request that Flask-Admin puts on every ``<script>`` (``Admin(csp_nonce_generator=)``).
* **Login throttling**: :mod:`custreg_admin.login_throttle`.
* **Reverse proxies** (:func:`init_proxy_fix`): ``CUSTREG_PROXY_FIX``, the number of trusted
  proxies in front of the app (werkzeug's ``ProxyFix``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from .i18n import lazy_gettext

log = logging.getLogger(__name__)

DEVELOPMENT_ENVS = ("development", "dev")

#: The policy sent with the module's pages; ``{nonce}`` is the request's nonce.
#: ``style-src 'unsafe-inline'``: Flask-Admin's and Bootstrap's templates and scripts (select2,
#: popper, the form widgets) set ``style`` attributes; styles cannot run script, and a nonce in
#: style-src would make browsers ignore 'unsafe-inline' and break those pages.
DEFAULT_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'self'"
)


class InsecureConfiguration(RuntimeError):
    """The app would run in production without what production needs."""


# --- secret key ----------------------------------------------------------------------------------


def is_development(app: Flask) -> bool:
    """Development or tests: ``CUSTREG_ENV=development``, ``FLASK_DEBUG`` (``app.debug``) or
    ``TESTING``. Everything else is production."""
    env = str(app.config.get("CUSTREG_ENV") or "").strip().lower()
    return env in DEVELOPMENT_ENVS or bool(app.debug) or bool(app.config.get("TESTING"))


def secret_key(app: Flask) -> str:
    """The configured secret key; in development one kept in the instance folder.

    Raises :class:`InsecureConfiguration` in production without ``CUSTREG_SECRET_KEY``.
    """
    configured = app.config.get("CUSTREG_SECRET_KEY")
    if configured:
        return str(configured)
    if not is_development(app):
        if _cli_without_serving():
            # `flask custreg init-db | create-user | plugins | demo`, `--help`: nothing is
            # signed; a throw-away key, and the app is never served with it
            app.config["CUSTREG_THROWAWAY_SECRET_KEY"] = True
            return secrets.token_hex(32)
        raise InsecureConfiguration(
            "CUSTREG_SECRET_KEY is not set. In production the customer registry needs a secret "
            "key of its own to sign sessions: set CUSTREG_SECRET_KEY (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`), or set "
            "CUSTREG_ENV=development to run with a generated key in the instance folder."
        )
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    os.chmod(key_file, 0o600)
    return key


def _cli_without_serving() -> bool:
    """Whether the app is being loaded by a ``flask`` command other than ``run`` (a command
    line task: the schema, users, plugins). Servers (gunicorn, ``flask run``) never are."""
    import click

    ctx = click.get_current_context(silent=True)
    names = set()
    while ctx is not None:
        names.add(ctx.info_name)
        ctx = ctx.parent
    return bool(names) and "run" not in names


# --- cookies -------------------------------------------------------------------------------------


def _request_is_https() -> bool:
    return has_request_context() and request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ``Secure`` also when the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or _request_is_https()


def init_cookies(app: Flask) -> None:
    """HttpOnly, SameSite=Lax, Secure on HTTPS for the session and the remember-me cookie.

    Call before the login manager is set up: the hook then runs after Flask-Login's own
    (``after_request`` functions run in reverse order) and sees the remember cookie it set.
    """
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if app.config.get("CUSTREG_HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    app.session_interface = SessionInterface()

    @app.after_request
    def _secure_remember_cookie(response):
        if not request.is_secure:
            return response
        name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        cookies = response.headers.getlist("Set-Cookie")
        if not any(c.startswith(f"{name}=") for c in cookies):
            return response
        response.headers.remove("Set-Cookie")
        for cookie in cookies:
            if cookie.startswith(f"{name}=") and "; secure" not in cookie.lower():
                cookie += "; Secure"
            response.headers.add("Set-Cookie", cookie)
        return response


# --- Content-Security-Policy ---------------------------------------------------------------------


def csp_nonce() -> str:
    """This request's nonce (the same for every call within a request)."""
    nonce = g.get("_custreg_csp_nonce")
    if nonce is None:
        nonce = g._custreg_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def csp_policy(app: Flask, *, own_admin: bool) -> str | None:
    """The policy template to send (``{nonce}`` inside), or None for none.

    ``CUSTREG_CSP``: unset or ``auto`` - on with the module's own ``Admin``, off inside a host's
    ``Admin`` (its pages are the host's base template); ``on``/``true`` - always; ``off``/``false``
    - never; any other text - that policy (``{nonce}`` is replaced by the request's nonce).
    """
    setting = app.config.get("CUSTREG_CSP")
    if isinstance(setting, bool):
        return DEFAULT_CSP if setting else None
    text = str(setting or "").strip()
    if text.lower() in ("", "auto"):
        return DEFAULT_CSP if own_admin else None
    if text.lower() in ("0", "false", "no", "off"):
        return None
    if text.lower() in ("1", "true", "yes", "on"):
        return DEFAULT_CSP
    return text


def init_csp(app: Flask, admin: Any, blueprints: set[str], policy: str | None) -> None:
    """Send ``policy`` on the responses of the module's blueprints (never replacing a
    Content-Security-Policy someone else already put on the response); give the ``Admin`` a
    nonce generator when it has none."""
    if policy is None:
        return
    if getattr(admin, "csp_nonce_generator", None) is None:
        admin.csp_nonce_generator = csp_nonce
    generator = admin.csp_nonce_generator

    @app.after_request
    def _custreg_csp(response):
        if request.blueprint not in blueprints:
            return response
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = policy.replace("{nonce}", str(generator()))
            _disarm_inline_handlers(response)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        return response


#: ``onclick="`` inside a tag. Autoescaped text can never produce it (quotes become ``&#34;``),
#: so what matches comes from a template: Flask-Admin's own (delete buttons, "With selected",
#: filter menus, "Add" of inline rows).
_INLINE_HANDLER = re.compile(r'(<[A-Za-z][^<>]*?\s)onclick="')


def _disarm_inline_handlers(response) -> None:
    """Browsers report every inline handler attribute of a page under a nonce policy as a
    violation as soon as they parse it, and never run it. Flask-Admin's templates have a few:
    on the module's pages they become ``data-custreg-onclick``, which ``static/csp.js``
    (loaded with the nonce) carries out."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return
    html = response.get_data(as_text=True)
    if "onclick=" in html:
        response.set_data(_INLINE_HANDLER.sub(r'\1data-custreg-onclick="', html))


# --- input ----------------------------------------------------------------------------------------

NUL_MESSAGE = lazy_gettext(
    "The request contained a NUL character (\\0), which cannot be stored. Remove it (it often "
    "comes with text pasted from another program) and try again; nothing was saved."
)


def init_input_checks(app: Flask, blueprints: set[str]) -> None:
    """Refuse a NUL character anywhere in the query string or the form of a request to the
    module, with a clear 400, before a view sees it: PostgreSQL refuses NUL in text (a 500
    after a half-done request otherwise), and no field of the module has a use for it."""

    @app.before_request
    def _custreg_refuse_nul():
        if request.blueprint not in blueprints:
            return None
        values = [*request.args.items(multi=True)]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += [*request.form.items(multi=True)]
        for key, value in values:
            if "\x00" in key or "\x00" in value:
                from flask import abort

                abort(400, description=str(NUL_MESSAGE))
        return None


# --- reverse proxies ------------------------------------------------------------------------------


def init_proxy_fix(app: Flask) -> None:
    """``CUSTREG_PROXY_FIX=N``: the app sits behind N trusted reverse proxies; their
    ``X-Forwarded-For/-Proto/-Host/-Prefix`` headers give the client's address (what the login
    throttle counts), the scheme (``Secure`` cookies) and the host. 0 (default): none are
    trusted, as a header any client can send must not be."""
    hops = int(app.config.get("CUSTREG_PROXY_FIX") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def safe_next(target: str | None) -> str | None:
    """A redirect target on this site only: a path, never another host or scheme."""
    if not target:
        return None
    target = target.replace("\\", "/").strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
