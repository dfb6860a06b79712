"""Login throttling (:class:`LoginThrottle`): failed log-ins counted per account + address
(strict), per account (slows, never blocks) and per address (strict) in Flask-Limiter's storage
(``CUSTREG_RATELIMIT_STORAGE_URI``: Redis so that every gunicorn worker shares the count;
``memory://`` by default)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from flask import Flask

from .cache import app_key_prefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """A refused log-in attempt: how long to wait."""

    retry_after: int


@dataclass(frozen=True)
class Verdict:
    """What the throttle says about a log-in attempt: refused (``refusal``), or let through
    after ``delay`` seconds (0: at once)."""

    refusal: Refusal | None = None
    delay: float = 0.0


class LoginThrottle:
    """Failed log-ins, counted in Flask-Limiter's storage in three ways, so that nobody can lock
    a colleague out from another address:

    * **per account and address** (``CUSTREG_LOGIN_RATE_LIMIT``, default 5 a minute): strict.
      Past it, that address is refused for that account until the window moves on. The owner,
      from their own address, is not affected by someone guessing elsewhere;
    * **per account, from any address** (``CUSTREG_LOGIN_ACCOUNT_SLOWDOWN``, default 20 an
      hour): never refuses. Past it every attempt on that account first waits
      ``CUSTREG_LOGIN_SLOWDOWN_SECONDS`` (default 1): guessing from many addresses gets slow,
      the owner's correct password still logs in;
    * **per address, whatever the e-mail** (``CUSTREG_LOGIN_IP_RATE_LIMIT``, default 100 in 10
      minutes): strict, against one address trying many accounts. Behind a reverse proxy set
      ``CUSTREG_PROXY_FIX`` so that addresses are the clients', not the proxy's.

    Only failures count (:meth:`failed`). Keys start with the app's prefix (its database, see
    :func:`custreg_admin.cache.app_key_prefix`) and carry the e-mail address only as a keyed
    hash. When the storage (Redis) cannot be reached, log-in works by password alone and one
    line is logged per minute, never a traceback per attempt. With a host's Flask-Limiter on the
    app, its storage is used and the host's limiter is left as it is.
    """

    LOG_INTERVAL = 60.0

    def __init__(self, app: Flask) -> None:
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address
        from limits import parse_many

        config = app.config
        self.per_account_ip = parse_many(config["CUSTREG_LOGIN_RATE_LIMIT"])
        self.per_account = parse_many(config["CUSTREG_LOGIN_ACCOUNT_SLOWDOWN"])
        self.per_ip = parse_many(config["CUSTREG_LOGIN_IP_RATE_LIMIT"])
        self.slowdown = float(config.get("CUSTREG_LOGIN_SLOWDOWN_SECONDS") or 0)
        self.prefix = app_key_prefix(app).rstrip(":")
        self._hash_key = str(app.config.get("SECRET_KEY") or "").encode()
        hosts = app.extensions.get("limiter") or set()
        self.limiter = next(iter(hosts), None)
        if self.limiter is None:
            # the module's own: no limits on any route (default_limits empty), storage from
            # CUSTREG_RATELIMIT_STORAGE_URI; it is consulted only by the login view
            self.limiter = Limiter(
                get_remote_address,
                storage_uri=config["CUSTREG_RATELIMIT_STORAGE_URI"],
                key_prefix="custreg",
                strategy="moving-window",
                default_limits=[],
            )
            self.limiter.init_app(app)
        self.enabled = bool(config.get("CUSTREG_LOGIN_THROTTLE", True))
        self._last_logged = float("-inf")
        self._unlogged = 0

    def account_key(self, email: str) -> str:
        """The e-mail address as it appears in the storage: a keyed hash, never the address."""
        normal = (email or "").strip().lower().encode()
        return hmac.new(self._hash_key, normal, hashlib.sha256).hexdigest()[:32]

    def _keys(self, email: str, ip: str):
        account = self.account_key(email)
        for item in self.per_account_ip:
            yield "block", item, (self.prefix, "login-account-ip", account, ip)
        for item in self.per_ip:
            yield "block", item, (self.prefix, "login-ip", ip)
        for item in self.per_account:
            yield "slow", item, (self.prefix, "login-account", account)

    def check(self, email: str, ip: str) -> Verdict:
        """Refused while this account from this address, or this address, has had too many
        failures lately; slowed while the account has, from anywhere."""
        if not self.enabled:
            return Verdict()
        try:
            strategy = self.limiter.limiter
            wait, slow = 0, False
            for kind, item, keys in self._keys(email, ip):
                if strategy.test(item, *keys):
                    continue
                if kind == "slow":
                    slow = True
                    continue
                reset = strategy.get_window_stats(item, *keys).reset_time
                wait = max(wait, int(reset - time.time()) + 1, 1)
        except Exception as error:  # the storage is down: log in by password alone
            self._storage_failed(error)
            return Verdict()
        if wait:
            return Verdict(refusal=Refusal(wait))
        return Verdict(delay=self.slowdown if slow else 0.0)

    def failed(self, email: str, ip: str) -> None:
        """Count a failed log-in."""
        if not self.enabled:
            return
        try:
            strategy = self.limiter.limiter
            for _kind, item, keys in self._keys(email, ip):
                strategy.hit(item, *keys)
        except Exception as error:
            self._storage_failed(error)

    def _storage_failed(self, error: Exception) -> None:
        """One line per :attr:`LOG_INTERVAL` while the storage is unreachable."""
        now = time.monotonic()
        self._unlogged += 1
        if now - self._last_logged < self.LOG_INTERVAL:
            return
        log.warning(
            "custreg_admin: the login throttle's storage cannot be reached (%d attempt(s) since "
            "the last report went by password alone): %r",
            self._unlogged,
            error,
        )
        self._last_logged, self._unlogged = now, 0
