"""Defaults, and the CUSTREG_* environment variables that override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    "CUSTREG_DATABASE_URL": None,  # None: SQLite file in the instance folder
    "CUSTREG_SECRET_KEY": None,
    # PostgreSQL: how the module's own connections show in pg_stat_activity
    "CUSTREG_DATABASE_APPLICATION_NAME": "custreg_admin",
    "CUSTREG_TIMEZONE": "Europe/Helsinki",
    "CUSTREG_DEFAULT_COUNTRY": "FI",
    "CUSTREG_DEFAULT_LOCALE": "en",  # UI language when neither profile nor browser names one
    "CUSTREG_CURRENCY": "EUR",
    "CUSTREG_YTJ_BASE_URL": "https://avoindata.prh.fi/opendata-ytj-api/v3",
    "CUSTREG_BIZWEB_BASE_URL": "https://data.brreg.no/enhetsregisteret/api",
    "CUSTREG_REGISTRY_TIMEOUT": 5.0,  # per socket operation: seconds, or "connect,read" "3,5"
    "CUSTREG_REGISTRY_DEADLINE": 6.0,  # seconds for a whole lookup: retries, redirects, body
    "CUSTREG_REGISTRY_MAX_BYTES": 5 * 1024 * 1024,  # longest registry answer accepted
    "CUSTREG_REGISTRY_CACHE_SECONDS": 600,
    "CUSTREG_REGISTRY_CACHE_BYTES": 16 * 1024 * 1024,  # answers kept per registry
    "CUSTREG_REGISTRY_CONCURRENCY": 2,  # lookups at once per process
    "CUSTREG_REGISTRY_QUEUE_WAIT": 1.0,  # seconds a lookup waits for a turn, then "busy"
    "CUSTREG_REGISTRY_RETRIES": 3,
    "CUSTREG_REGISTRY_BACKOFF": 0.5,
    "CUSTREG_REGISTRY_USER_AGENT": None,  # None: "custreg-admin/<version> ..."
    "CUSTREG_BIZWEB_SOURCE": "brreg",  # or "module:Class" for a licensed Bizweb endpoint
    "CUSTREG_REGISTRIES": None,  # comma-separated provider ids to load; None: all installed
    "CUSTREG_URL_PREFIX": "/admin",
    "CUSTREG_HTTPS": False,
    # the largest request the module accepts (bytes): larger ones get a 413 page saying so
    "CUSTREG_MAX_CONTENT_LENGTH": 1024 * 1024,
    # a customer import file up to this size (an XLSX counts 4x) is checked within the request;
    # a larger one in a thread (services.imports.jobs)
    "CUSTREG_IMPORT_INLINE_BYTES": 200_000,
    # "production" (default) or "development": production refuses to start without a secret key
    "CUSTREG_ENV": "production",
    # Content-Security-Policy of the module's pages: None/"auto", "on", "off" or a policy text
    "CUSTREG_CSP": None,
    # failed log-ins: counted in Flask-Limiter's storage (redis://host:6379/N across workers)
    "CUSTREG_RATELIMIT_STORAGE_URI": "memory://",
    # (see custreg_admin.security.LoginThrottle)
    "CUSTREG_LOGIN_RATE_LIMIT": "5/minute",  # per e-mail address and IP: then refused
    "CUSTREG_LOGIN_IP_RATE_LIMIT": "100 per 10 minutes",  # per IP, whatever the e-mail: refused
    "CUSTREG_LOGIN_ACCOUNT_SLOWDOWN": "20/hour",  # per e-mail, from any IP: then slowed
    "CUSTREG_LOGIN_SLOWDOWN_SECONDS": 1.0,  # the wait of each attempt on a slowed account
    # trusted reverse proxies in front of the app (werkzeug ProxyFix); 0: none
    "CUSTREG_PROXY_FIX": 0,
    "CUSTREG_LOGIN_THROTTLE": True,
    # werkzeug's method for new password hashes (None: its current default, scrypt); a stored
    # hash made otherwise is hashed again at the user's next log-in
    "CUSTREG_PASSWORD_HASH_METHOD": None,
    "CUSTREG_REMEMBER_DAYS": 14,  # lifetime of the "Keep me signed in" cookie
    # KPI figures and filter choice lists: None = per process, "redis://host:6379/N" shared
    # by the workers, "off" (see custreg_admin/cache.py)
    "CUSTREG_CACHE_URL": None,
    "CUSTREG_KPI_CACHE_SECONDS": 60,  # 0: computed per request
    "CUSTREG_CHOICES_CACHE_SECONDS": 600,
    "CUSTREG_CACHE_TIMEOUT": 0.5,  # seconds per Redis call before going without the cache
    "CUSTREG_CACHE_KEY_PREFIX": None,  # None: "custreg:<hash of the database URL>:"
}


def _timeout(value: str) -> float | str:
    return value if "," in value else float(value)


def _flag(value: str) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


_CASTS = {
    "CUSTREG_REGISTRY_TIMEOUT": _timeout,
    "CUSTREG_REGISTRY_RETRIES": int,
    "CUSTREG_REGISTRY_BACKOFF": float,
    "CUSTREG_REGISTRY_CACHE_SECONDS": int,
    "CUSTREG_REGISTRY_DEADLINE": float,
    "CUSTREG_REGISTRY_MAX_BYTES": int,
    "CUSTREG_REGISTRY_CACHE_BYTES": int,
    "CUSTREG_REGISTRY_CONCURRENCY": int,
    "CUSTREG_REGISTRY_QUEUE_WAIT": float,
    "CUSTREG_HTTPS": _flag,
    "CUSTREG_LOGIN_THROTTLE": _flag,
    "CUSTREG_REMEMBER_DAYS": float,
    "CUSTREG_LOGIN_SLOWDOWN_SECONDS": float,
    "CUSTREG_PROXY_FIX": int,
    "CUSTREG_MAX_CONTENT_LENGTH": int,
    "CUSTREG_IMPORT_INLINE_BYTES": int,
    "CUSTREG_KPI_CACHE_SECONDS": int,
    "CUSTREG_CHOICES_CACHE_SECONDS": int,
    "CUSTREG_CACHE_TIMEOUT": float,
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CUSTREG_* settings found in the environment, cast to their types."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for key, value in environ.items():
        if key.startswith("CUSTREG_") and key != "CUSTREG_TEST_DATABASE_URL":
            found[key] = _CASTS.get(key, str)(value)
    return found


def sqlalchemy_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class MissingDatabaseDriver(RuntimeError):
    """The database URL names a database whose driver is not installed (one line: the extra)."""


def require_driver(url: str) -> None:
    """Raise :class:`MissingDatabaseDriver` naming the extra to install when ``url`` (as
    :func:`sqlalchemy_url` gives it) needs a driver that is missing."""
    import importlib.util

    if url.startswith("postgresql+psycopg") and importlib.util.find_spec("psycopg") is None:
        raise _cli_friendly(
            "CUSTREG_DATABASE_URL is a PostgreSQL URL but the psycopg driver is not installed: "
            "pip install 'custreg-admin[postgres]'"
        )


def _cli_friendly(message: str) -> MissingDatabaseDriver:
    """Under ``flask`` the error is shown as one line ("Error: ..."), not a traceback."""
    try:
        from flask.cli import NoAppException
    except ImportError:  # pragma: no cover - Flask is a dependency
        return MissingDatabaseDriver(message)

    class _Missing(MissingDatabaseDriver, NoAppException):
        def __init__(self, text: str) -> None:
            NoAppException.__init__(self, text)

    return _Missing(message)
