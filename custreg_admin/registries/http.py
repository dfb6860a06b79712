"""A shared HTTP client for registry plugins: retries, timeouts, a short cache, clear errors.

Every provider makes one :class:`RegistryHttpClient` (one ``requests.Session``) from the app
config with :meth:`RegistryHttpClient.from_config`::

    self.http = RegistryHttpClient.from_config(
        config,
        provider_id="ytj",
        registry_name="The Finnish Trade Register (YTJ)",
        base_url_key="CUSTREG_YTJ_BASE_URL",
        default_base_url="https://avoindata.prh.fi/opendata-ytj-api/v3",
    )
    answer = self.http.get_json("/companies", params={"name": "Nokia"})
    with self.http.parsing():
        records = [to_record(item) for item in answer.data["companies"]]

What it does on every call:

- GET only, with a ``(connect, read)`` timeout from ``CUSTREG_REGISTRY_TIMEOUT`` (a number of
  seconds for both, or a ``(connect, read)`` pair);
- urllib3 ``Retry`` for 429/500/502/503/504 (``CUSTREG_REGISTRY_RETRIES`` times, default 3) with
  exponential backoff (``CUSTREG_REGISTRY_BACKOFF`` seconds, default 0.5; 0 in tests); a
  ``Retry-After`` header is honoured up to a few seconds, never for minutes. A refused or dropped
  connection is retried once; a timeout is not retried (the user is waiting);
- a User-Agent naming the project and its version, ``Accept: application/json``;
- answers (200, and the "not found" statuses a caller accepts, such as 404/410) are cached in
  memory for ``CUSTREG_REGISTRY_CACHE_SECONDS`` (default 600; 0 disables), keyed by URL and
  parameters, so a repeated search does not reach the registry;
- timeouts, connection errors, 5xx and 429 after the retries, invalid JSON and unexpected shapes
  become :class:`~custreg_admin.registries.RegistryUnavailable` whose message names the registry
  and is fit to show the user. Other 4xx answers become
  :class:`~custreg_admin.registries.RegistryError` (the registry refused the query).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from ..i18n import lazy_gettext
from . import RegistryError, RegistryUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 10.0
DEFAULT_CACHE_SECONDS = 600
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
#: Longest ``Retry-After`` the client waits for; a registry asking for more gets this much.
RETRY_AFTER_MAX = 5.0
#: Entries kept in one provider's answer cache (oldest dropped first).
CACHE_MAX_ENTRIES = 512

_MISSING = object()

#: What the user reads, after the registry's name ("The Finnish Trade Register (YTJ) ...").
#: What the user is told, by what went wrong (``%(registry)s``: the registry's name);
#: translated when the error is raised, in the request's language.
MESSAGES = {
    "timeout": lazy_gettext(
        "%(registry)s did not answer in time. Try again in a moment, or type the details by hand."
    ),
    "connection": lazy_gettext(
        "%(registry)s could not be reached. Check the network connection and try again in a "
        "moment, or type the details by hand."
    ),
    "busy": lazy_gettext(
        "%(registry)s is receiving too many requests just now. Try again in a minute, or type "
        "the details by hand."
    ),
    "server": lazy_gettext(
        "%(registry)s is having trouble just now. Try again later, or type the details by hand."
    ),
    "unreadable": lazy_gettext(
        "%(registry)s sent an answer that could not be read. Try again later, or type the "
        "details by hand."
    ),
    "refused": lazy_gettext(
        "%(registry)s did not accept the search. Check what you typed and try again."
    ),
}


class UnexpectedAnswer(Exception):
    """The registry's JSON does not have the shape a plugin expects (raised while parsing)."""


@dataclass(frozen=True)
class JsonAnswer:
    """A decoded registry answer: the HTTP status and the JSON body (``None`` when empty)."""

    status: int
    data: Any
    url: str

    @property
    def ok(self) -> bool:
        return self.status == 200


class TTLCache:
    """A small thread-safe in-memory cache whose entries expire after ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: Any, default: Any = None) -> Any:
        if not self.enabled:
            return default
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return default
            expires, value = found
            if expires <= self._clock():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    def set(self, key: Any, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class _RegistryRetry(Retry):
    """urllib3 ``Retry`` that never waits longer than ``retry_after_max`` on a Retry-After."""

    retry_after_max: float = RETRY_AFTER_MAX

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        return min(seconds, self.retry_after_max)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        # The user is waiting: a registry that timed out is not asked again.
        if isinstance(error, ReadTimeoutError):
            raise error
        # (urllib3's NewConnectionError, a refused connection, subclasses ConnectTimeoutError.)
        if isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def new(self, **kw: Any) -> _RegistryRetry:
        retry = super().new(**kw)
        retry.retry_after_max = self.retry_after_max
        return retry


def make_retry(retries: int, backoff: float, *, retry_after_max: float = RETRY_AFTER_MAX) -> Retry:
    """The retry policy: GET only; 429/5xx ``retries`` times; a dropped or refused connection
    once; a timeout never (the user is waiting)."""
    retry = _RegistryRetry(
        total=None,
        connect=1 if retries > 0 else 0,
        read=1 if retries > 0 else 0,
        redirect=3,
        status=retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=max(backoff * 8, 0.0),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    retry.retry_after_max = retry_after_max
    return retry


def parse_timeout(value: Any) -> tuple[float, float]:
    """``CUSTREG_REGISTRY_TIMEOUT`` as a ``(connect, read)`` pair.

    Accepts a number (both), a pair, or a string ``"3"`` / ``"3,10"``.
    """
    if value is None or value == "":
        return (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT)
    if isinstance(value, str):
        parts = [p for p in value.replace(";", ",").split(",") if p.strip()]
        value = [float(p) for p in parts] if len(parts) > 1 else float(parts[0])
    if isinstance(value, (int, float)):
        seconds = float(value)
        return (seconds, seconds)
    connect, read = value
    return (float(connect), float(read))


def project_user_agent(provider_id: str | None = None) -> str:
    """``custreg-admin/<version> (registry lookup; <provider>) python-requests/<version>``."""
    import custreg_admin  # late: this module may load while custreg_admin itself imports

    version = getattr(custreg_admin, "__version__", None)
    if version is None:
        from importlib import metadata

        try:
            version = metadata.version("custreg-admin")
        except metadata.PackageNotFoundError:
            version = "0"
    what = "registry lookup" + (f"; {provider_id}" if provider_id else "")
    return f"custreg-admin/{version} ({what}) python-requests/{requests.__version__}"


class RegistryHttpClient:
    """One registry's HTTP access: a ``requests.Session`` with retries, timeout and cache."""

    def __init__(
        self,
        *,
        registry_name: str,
        base_url: str,
        timeout: Any = DEFAULT_TIMEOUT,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        user_agent: str | None = None,
        provider_id: str | None = None,
        retry_after_max: float = RETRY_AFTER_MAX,
    ) -> None:
        self.registry_name = registry_name
        self.base_url = base_url.rstrip("/")
        self.timeout = parse_timeout(timeout)
        self.cache = TTLCache(cache_seconds)
        self.retry = make_retry(int(retries), float(backoff), retry_after_max=retry_after_max)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {
                "User-Agent": user_agent or project_user_agent(provider_id),
                "Accept": "application/json",
            }
        )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        registry_name: str,
        base_url_key: str,
        default_base_url: str,
        provider_id: str | None = None,
        **overrides: Any,
    ) -> RegistryHttpClient:
        """Build from the app config (``CUSTREG_REGISTRY_*`` keys and the registry's base URL)."""

        def setting(key: str, default: Any) -> Any:
            value = config.get(key)
            return default if value is None or value == "" else value

        options: dict[str, Any] = {
            "registry_name": registry_name,
            "base_url": setting(base_url_key, default_base_url),
            "timeout": setting("CUSTREG_REGISTRY_TIMEOUT", DEFAULT_TIMEOUT),
            "cache_seconds": float(
                setting("CUSTREG_REGISTRY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
            ),
            "retries": int(setting("CUSTREG_REGISTRY_RETRIES", DEFAULT_RETRIES)),
            "backoff": float(setting("CUSTREG_REGISTRY_BACKOFF", DEFAULT_BACKOFF)),
            "user_agent": config.get("CUSTREG_REGISTRY_USER_AGENT") or None,
            "provider_id": provider_id,
        }
        options.update(overrides)
        return cls(**options)

    # -- messages fit for the user -------------------------------------------------------

    def _fail(
        self, what: str, detail: str, error_class: type[RegistryError] = RegistryUnavailable
    ) -> RegistryError:
        log.warning("%s: %s (%s)", self.registry_name, what, detail)
        return error_class(str(MESSAGES[what]) % {"registry": self.registry_name})

    def unavailable(self, detail: str) -> RegistryUnavailable:
        """The error for an answer whose shape the plugin cannot use."""
        return self._fail("unreadable", detail)  # type: ignore[return-value]

    @contextlib.contextmanager
    def parsing(self) -> Iterator[None]:
        """Turn shape problems met while mapping an answer into :class:`RegistryUnavailable`."""
        try:
            yield
        except RegistryError:
            raise
        except (UnexpectedAnswer, KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            raise self.unavailable(f"unexpected answer: {type(e).__name__}: {e}") from e

    # -- requests ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        accept_statuses: Collection[int] = (),
    ) -> JsonAnswer:
        """GET ``path`` (relative to the base URL) and decode its JSON.

        200 and the statuses in ``accept_statuses`` (e.g. 404, 410) are answers; everything
        else raises. Answers are cached for the configured time.
        """
        url = self.url(path)
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        key = (url, tuple(sorted(clean.items())))
        cached = self.cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        answer = self._fetch(url, clean, frozenset(accept_statuses))
        self.cache.set(key, answer)
        return answer

    def _fetch(self, url: str, params: dict[str, str], accept: frozenset[int]) -> JsonAnswer:
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as error:
            raise self._fail("timeout", f"GET {url}: {error}") from error
        except requests.ConnectionError as error:
            if _is_timeout(error):
                raise self._fail("timeout", f"GET {url}: {error}") from error
            raise self._fail("connection", f"GET {url}: {error}") from error
        except requests.RequestException as error:
            raise self._fail("connection", f"GET {url}: {error}") from error

        status = response.status_code
        try:
            if status == 429:
                raise self._fail("busy", f"GET {response.url}: 429 after retries")
            if status >= 500:
                raise self._fail("server", f"GET {response.url}: {status} after retries")
            if status != 200 and status not in accept:
                if 400 <= status < 500:
                    detail = f"GET {response.url}: {status} {response.text[:200]!r}"
                    raise self._fail("refused", detail, RegistryError)
                raise self._fail("unreadable", f"GET {response.url}: unexpected status {status}")
            try:
                data = response.json() if response.content.strip() else None
            except ValueError as error:
                raise self._fail(
                    "unreadable", f"GET {response.url}: invalid JSON ({error})"
                ) from error
            except requests.RequestException as error:  # the body broke off while being read
                if _is_timeout(error):
                    raise self._fail("timeout", f"GET {response.url}: {error}") from error
                raise self._fail("connection", f"GET {response.url}: {error}") from error
            if status == 200 and data is None:
                raise self._fail("unreadable", f"GET {response.url}: empty body")
            return JsonAnswer(status=status, data=data, url=response.url)
        finally:
            response.close()

    def close(self) -> None:
        self.session.close()
        self.cache.clear()


def _is_timeout(error: BaseException) -> bool:
    """Whether a requests error was caused by a timeout (requests wraps some of those)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if "Timeout" in name or isinstance(current, TimeoutError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


# -- shape helpers for parsing answers -------------------------------------------------------


def expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is of ``kind``, else :class:`UnexpectedAnswer` naming ``what``.

    ``True``/``False`` never pass for a number.
    """
    kinds = (kind,) if isinstance(kind, type) else tuple(kind)
    if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
        return value
    names = "/".join(k.__name__ for k in kinds)
    raise UnexpectedAnswer(f"{what}: expected {names}, got {value!r:.80}")


def required(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """A required field of a JSON object, of the given type."""
    if not isinstance(obj, Mapping):
        raise UnexpectedAnswer(f"{what}: expected an object, got {obj!r:.80}")
    if key not in obj or obj[key] is None:
        raise UnexpectedAnswer(f"{what}.{key} is missing")
    return expect(obj[key], kind, f"{what}.{key}")


def optional(
    obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str, default: Any = None
) -> Any:
    """An optional field (missing or null gives ``default``), of the given type when present."""
    if not isinstance(obj, Mapping):
        raise UnexpectedAnswer(f"{what}: expected an object, got {obj!r:.80}")
    value = obj.get(key)
    if value is None:
        return default
    return expect(value, kind, f"{what}.{key}")


def text(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """An optional string field, stripped; empty strings become ``None``."""
    value = optional(obj, key, str, what)
    if value is None:
        return None
    value = value.strip()
    return value or None


def iso_date(value: Any, what: str) -> date | None:
    """An optional ``YYYY-MM-DD`` date (a longer timestamp keeps its date part)."""
    if value is None or value == "":
        return None
    expect(value, str, what)
    try:
        return date.fromisoformat(value[:10])
    except ValueError as error:
        raise UnexpectedAnswer(f"{what}: not a date: {value!r:.40}") from error


__all__ = [
    "JsonAnswer",
    "RegistryHttpClient",
    "TTLCache",
    "UnexpectedAnswer",
    "expect",
    "required",
    "iso_date",
    "make_retry",
    "optional",
    "parse_timeout",
    "project_user_agent",
    "text",
]
