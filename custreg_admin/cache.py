"""The module's cache: computed figures and choice lists, shared by the workers of one app.

Where it lives (``CUSTREG_CACHE_URL``):

* unset (default): a per-process dictionary (cachelib's ``SimpleCache``): right for ``make run``,
  tests and one-process servers. With several worker processes each keeps its own entries and
  sees only its own writes at once: set ``CUSTREG_CACHE_URL`` to Redis there.
* ``redis://host:6379/N``: Redis (cachelib's ``RedisCache``), shared by every worker;
* ``off``: nothing is cached (every figure computed per request).

What is cached is always *derived* data, stored under a key that names what it depends on, among
it a **data version**: a random token per kind of data (:data:`KPI`, :data:`CHOICES`), kept in the
cache itself (so in Redis when Redis is used), replaced when the module commits a change to the
tables that kind depends on. Two SQLAlchemy session events watch for such changes:

* ``after_flush``: inserted, changed or deleted rows (customers, projects, invoices, costs,
  settings lists, users...) mark the session;
* ``do_orm_execute``: ``session.execute(update(...) / insert(...) / delete(...))`` on those tables
  (the mass updates' set-based statements) marks it too;

and ``after_commit`` of the outermost transaction replaces the versions the session marked, so
whoever made a change sees it in their next request, in every worker. Entries also expire after
their time to live: that bounds how long a change made outside the module (another program
writing to the database, raw SQL on a connection) can go unseen.

A version that disappears (Redis restarted, the per-process cache pruned) is replaced by a new
random one: entries made before are then unreachable, never served as current. When the cache
cannot be reached, figures are computed as if there were no cache and the problem is logged; the
process leaves the cache alone for a few seconds and renews every version when it is back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachelib import BaseCache, NullCache, RedisCache, SimpleCache
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .context import EXTENSION_KEY
from .extensions import db

log = logging.getLogger(__name__)

#: Kinds of data with a version each.
KPI = "kpi"  # what the KPI figures and the billing chart are computed from
CHOICES = "choices"  # the Summary filters' choice lists (users, settings lists, countries)

#: Tables whose rows the KPI figures (and the filters that restrict them) read.
KPI_TABLES = frozenset(
    {
        "custreg_customer",
        "custreg_customer_segment",
        "custreg_project",
        "custreg_invoice",
        "custreg_invoice_status",
        "custreg_cost",
        "custreg_industry",
        "custreg_customer_status",
        "custreg_market_segment",
        "custreg_user",
    }
)
#: Tables the filter choice lists are read from (customers: only their countries, see below).
CHOICE_TABLES = frozenset(
    {"custreg_user", "custreg_industry", "custreg_customer_status", "custreg_market_segment"}
)
#: ``User`` columns that do not show in any figure or choice list (a log-in that rehashes a
#: password or a language switch does not make everyone's figures be computed again).
_USER_PRIVATE = frozenset({"password_hash", "locale"})

_MARK = "custreg_cache_changed"  # in Session.info: the kinds of data this session changed
_ERROR_LOG_INTERVAL = 60.0  # seconds between two log lines about an unreachable cache
_RETRY_AFTER = 5.0  # seconds without the cache after it failed


@dataclass
class ModuleCache:
    """The cache of one app (``custreg_state(app).cache``)."""

    backend: BaseCache
    #: "memory", "redis" or "off"
    kind: str
    #: seconds an entry lives, per kind of data (0: that kind is not cached)
    timeouts: dict[str, int] = field(default_factory=dict)
    _last_error: float = 0.0
    #: after a failure the cache is left alone until then (time.monotonic()) ...
    _retry_at: float = 0.0
    #: ... and renews every version before it is used again: commits made meanwhile could not
    _failed: bool = False

    @property
    def enabled(self) -> bool:
        return self.kind != "off"

    def timeout(self, kind: str) -> int:
        return self.timeouts.get(kind, 0) if self.enabled else 0

    # --- versions -----------------------------------------------------------------------------

    def version(self, kind: str) -> str:
        """The current version token of ``kind`` (made when there is none)."""
        memo = _request_memo()
        if kind in memo:
            return memo[kind]
        key = f"version:{kind}"
        token = self.backend.get(key)
        if not token:
            self.backend.add(key, secrets.token_hex(8), timeout=0)
            token = self.backend.get(key)
            if not token:
                raise RuntimeError(f"the cache did not keep {key}")
        memo[kind] = token
        return token

    def bump(self, kinds: set[str]) -> None:
        """New versions for ``kinds``: whatever was cached for the old ones is not used again."""
        _request_memo().clear()
        for kind in sorted(kinds):
            self.backend.set(f"version:{kind}", secrets.token_hex(8), timeout=0)

    # --- entries ------------------------------------------------------------------------------

    def get_or_compute(
        self,
        kind: str,
        parts: tuple[Any, ...],
        compute: Callable[[], Any],
        *,
        dump: Callable[[Any], Any] = lambda value: value,
        load: Callable[[Any], Any] = lambda value: value,
    ) -> Any:
        """``compute()``, or what it gave before for the same ``parts`` and data version.

        ``parts`` (JSON-able) name everything the value depends on besides the data: the
        viewer's scope, the filters, the day. ``dump`` turns the value into plain data (what
        is stored), ``load`` turns it back. The version is read *before* computing: a change
        committed while computing gets a new version, under which this value is not found.
        While the module's session holds uncommitted changes the cache is left alone.
        """
        seconds = self.timeout(kind)
        if seconds <= 0 or _uncommitted_changes():
            return compute()  # what this transaction changed is not for others to see
        if not self._usable():
            return compute()
        try:
            key = f"{kind}:{self.version(kind)}:{_digest(parts)}"
            stored = self.backend.get(key)
        except Exception as error:  # the cache is down: answer without it
            self.failed(error)
            return compute()
        if stored is not None:
            try:
                return load(stored)
            except Exception as error:  # an entry of another shape (another release)
                log.warning("custreg_admin: ignoring a cache entry %s: %r", key, error)
        value = compute()
        try:
            self.backend.set(key, dump(value), timeout=seconds)
        except Exception as error:
            self.failed(error)
        return value

    def failed(self, error: Exception) -> None:
        """The cache could not be reached: go without it for a while (logged once a minute)."""
        now = time.monotonic()
        self._failed, self._retry_at = True, now + _RETRY_AFTER
        if now - self._last_error >= _ERROR_LOG_INTERVAL:
            self._last_error = now
            log.error(
                "custreg_admin: the cache (%s) failed, computing without it: %r", self.kind, error
            )

    def _usable(self) -> bool:
        if not self._failed:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:  # back: what was committed while it was away renewed nothing
            self.bump({KPI, CHOICES})
        except Exception as error:
            self.failed(error)
            return False
        self._failed = False
        return True


def _digest(parts: tuple[Any, ...]) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _uncommitted_changes() -> bool:
    """Whether the module's session holds changes not committed yet (figures computed now
    would show them, and the transaction may still roll back)."""
    session = db.session
    return bool(session.info.get(_MARK) or session.new or session.dirty or session.deleted)


def _request_memo() -> dict[str, str]:
    """Versions already read in this app context (one cache round trip per kind and request)."""
    if not has_app_context():
        return {}
    memo = g.get("_custreg_cache_versions")
    if memo is None:
        memo = g._custreg_cache_versions = {}
    return memo


# --- set-up ---------------------------------------------------------------------------------------


def make_cache(app: Flask) -> ModuleCache:
    """The app's cache from its configuration (see the module docs)."""
    url = (app.config.get("CUSTREG_CACHE_URL") or "").strip()
    timeouts = {
        KPI: int(app.config.get("CUSTREG_KPI_CACHE_SECONDS") or 0),
        CHOICES: int(app.config.get("CUSTREG_CHOICES_CACHE_SECONDS") or 0),
    }
    if url.lower() in ("off", "none", "0", "false"):
        return ModuleCache(NullCache(), "off", timeouts)
    if not url or url.lower() in ("memory", "memory://", "simple"):
        return ModuleCache(SimpleCache(threshold=2000), "memory", timeouts)
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(
            url,
            socket_timeout=float(app.config.get("CUSTREG_CACHE_TIMEOUT") or 0.5),
            socket_connect_timeout=float(app.config.get("CUSTREG_CACHE_TIMEOUT") or 0.5),
            health_check_interval=30,
        )
        prefix = app.config.get("CUSTREG_CACHE_KEY_PREFIX") or app_key_prefix(app)
        return ModuleCache(RedisCache(host=client, key_prefix=prefix), "redis", timeouts)
    raise ValueError(
        f"CUSTREG_CACHE_URL: {url!r} is not redis://..., rediss://..., unix://..., memory:// or off"
    )


def app_key_prefix(app: Flask) -> str:
    """``custreg:<database>:``: apps on different databases may share one Redis database (the
    cache's keys and the login throttle's)."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=True)
    return f"custreg:{hashlib.sha256(str(url).encode()).hexdigest()[:12]}:"


def module_cache() -> ModuleCache | None:
    """The current app's cache; None outside an app context or where the module is not
    mounted (host code using the models in an app of its own)."""
    if not has_app_context():
        return None
    state = current_app.extensions.get(EXTENSION_KEY)
    return getattr(state, "cache", None)


# --- invalidation: what a session changed -----------------------------------------------------


def _table_name(obj: Any) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _changed_kinds(obj: Any, how: str) -> set[str]:
    """The kinds of data a flushed ``obj`` changes (``how``: new, dirty or deleted)."""
    name = _table_name(obj)
    if name not in KPI_TABLES:
        return set()
    if name == "custreg_user" and how == "dirty":
        state = inspect(obj)
        changed = {attr.key for attr in state.attrs if attr.history.has_changes()} - _USER_PRIVATE
        if not changed:
            return set()
    kinds = {KPI}
    if name in CHOICE_TABLES:
        kinds.add(CHOICES)
    elif name == "custreg_customer" and (
        how != "dirty" or inspect(obj).attrs.country.history.has_changes()
    ):
        kinds.add(CHOICES)  # the country filter lists the countries customers have
    return kinds


def _after_flush(session: Session, _flush_context) -> None:
    kinds: set[str] = set()
    for how, objects in (
        ("new", session.new),
        ("dirty", session.dirty),
        ("deleted", session.deleted),
    ):
        for obj in objects:
            kinds |= _changed_kinds(obj, how)
    if kinds:
        session.info.setdefault(_MARK, set()).update(kinds)


def _on_execute(state) -> None:
    if not (state.is_update or state.is_insert or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in KPI_TABLES:
        kinds = {KPI}
        if name in CHOICE_TABLES or name == "custreg_customer":
            kinds.add(CHOICES)
        state.session.info.setdefault(_MARK, set()).update(kinds)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    kinds = session.info.pop(_MARK, None)
    if not kinds:
        return
    cache = module_cache()
    if cache is None or not cache.enabled:
        return
    try:
        cache.bump(kinds)
    except Exception as error:
        cache.failed(error)  # renewed when it is back; other workers' entries: their TTL
        log.error(
            "custreg_admin: could not renew the cache's %s version after a commit; figures "
            "cached by other workers may lag behind for up to their time to live: %r",
            ", ".join(sorted(kinds)),
            error,
        )


def _after_soft_rollback(session: Session, _previous_transaction) -> None:
    if not session.in_transaction():  # the outermost transaction: its changes are gone
        session.info.pop(_MARK, None)


# On the Session class like the project-move guard (services/move_guard.py): the module's writes
# may come through its own session, a host's session or a session of a service's own.
for _name, _listener in (
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("after_commit", _after_commit),
    ("after_soft_rollback", _after_soft_rollback),
):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
