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
  seconds for both, or a ``(connect, read)`` pair) for each socket operation, and **one deadline
  for the whole lookup**: ``CUSTREG_REGISTRY_DEADLINE`` seconds (default 6) cover the retries,
  their waits, redirects and the reading of the body, which is streamed with a time check
  between reads (a registry trickling a byte a second is cut off at the deadline). Several
  calls inside one :func:`lookup_budget` (the services open one per user lookup) share it;
- 429/500/502/503/504 retried (``CUSTREG_REGISTRY_RETRIES`` times, default 3) with exponential
  backoff (``CUSTREG_REGISTRY_BACKOFF`` seconds, default 0.5; 0 in tests); a ``Retry-After``
  header is honoured up to a few seconds, never for minutes, and never past the deadline. A
  refused or dropped connection is retried once (urllib3 ``Retry``); a timeout is not retried;
- redirects are followed (at most 3) only to the base URL's own scheme and host (and port):
  anything else is refused and logged, so that a registry cannot send the server to another
  address (server-side request forgery);
- bodies longer than ``CUSTREG_REGISTRY_MAX_BYTES`` (default 5 MB) are refused while they
  stream, before they are buffered;
- a User-Agent naming the project and its version, ``Accept: application/json``;
- answers (200, and the "not found" statuses a caller accepts, such as 404/410) are cached in
  memory for ``CUSTREG_REGISTRY_CACHE_SECONDS`` (default 600; 0 disables), keyed by URL and
  parameters, so a repeated search does not reach the registry; the cache holds at most
  ``CUSTREG_REGISTRY_CACHE_BYTES`` (default 16 MB, counted by the answers' body sizes) per
  provider, least recently used dropped first;
- at most ``CUSTREG_REGISTRY_CONCURRENCY`` lookups (default 2) run at once per process
  (:func:`lookup_budget`); another waits ``CUSTREG_REGISTRY_QUEUE_WAIT`` seconds (default 1) for
  a turn and is then told the registry lookup is busy, so that a slow registry cannot hold every
  worker thread;
- timeouts, connection errors, 5xx and 429 after the retries, invalid JSON and unexpected shapes
  become :class:`~custreg_admin.registries.RegistryUnavailable` whose message names the registry
  and is fit to show the user. Other 4xx answers become
  :class:`~custreg_admin.registries.RegistryError` (the registry refused the query).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from ..i18n import lazy_gettext
from ..version import __version__
from . import RegistryError, RegistryUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_SECONDS = 600
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
#: Longest ``Retry-After`` the client waits for; a registry asking for more gets this much.
RETRY_AFTER_MAX = 5.0
#: Entries kept in one provider's answer cache (oldest dropped first).
CACHE_MAX_ENTRIES = 512
#: Bytes of answers kept in one provider's cache (counted by body size; oldest dropped first).
DEFAULT_CACHE_BYTES = 16 * 1024 * 1024
#: Seconds one lookup may take in all (retries, waits, redirects and reading the body).
DEFAULT_DEADLINE = 6.0
#: The longest answer body accepted (bytes); longer ones are refused while they stream.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
#: Lookups running at once per process, and how long another waits for a turn (seconds).
DEFAULT_CONCURRENCY = 2
DEFAULT_QUEUE_WAIT = 1.0
#: Redirects followed (within the base URL's scheme and host only).
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Bytes read from the socket at a time while a body streams (the deadline is checked between).
READ_CHUNK = 16 * 1024

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
    "redirect": lazy_gettext(
        "%(registry)s sent the search elsewhere, which is not allowed. Try again later, or type "
        "the details by hand."
    ),
    "too_large": lazy_gettext(
        "%(registry)s sent an answer that is too large. Make the search more precise, or type "
        "the details by hand."
    ),
}

#: Said when every lookup slot of this process stays taken (no registry is named: it was never
#: asked).
LOOKUPS_BUSY = lazy_gettext(
    "Registry lookups are busy just now (other lookups are waiting for a slow registry). Try "
    "again in a moment, or type the details by hand."
)


class DeadlineReached(Exception):
    """The lookup's time budget ran out (turned into the "did not answer in time" message)."""


class RegistryBusy(RegistryUnavailable):
    """Every lookup slot of this process is taken (:func:`lookup_budget`)."""


# -- one budget per lookup: a deadline and a slot --------------------------------------------

_deadline: ContextVar[float | None] = ContextVar("custreg_registry_deadline", default=None)
_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def _gate(size: int) -> threading.BoundedSemaphore:
    with _gates_lock:
        gate = _gates.get(size)
        if gate is None:
            gate = _gates[size] = threading.BoundedSemaphore(size)
        return gate


def _setting(config: Mapping[str, Any], key: str, default: Any, cast: Callable[[Any], Any]) -> Any:
    value = config.get(key)
    return default if value is None or value == "" else cast(value)


@contextlib.contextmanager
def lookup_budget(config: Mapping[str, Any]) -> Iterator[float]:
    """One user lookup: a slot among ``CUSTREG_REGISTRY_CONCURRENCY`` per process (waiting at
    most ``CUSTREG_REGISTRY_QUEUE_WAIT`` seconds, else :class:`RegistryBusy`) and one deadline,
    ``CUSTREG_REGISTRY_DEADLINE`` seconds, shared by every registry call made inside. Yields the
    deadline (a ``time.monotonic()`` value). Nested budgets keep the outer one."""
    if _deadline.get() is not None:
        yield _deadline.get()  # type: ignore[misc]
        return
    size = max(1, _setting(config, "CUSTREG_REGISTRY_CONCURRENCY", DEFAULT_CONCURRENCY, int))
    wait = max(0.0, _setting(config, "CUSTREG_REGISTRY_QUEUE_WAIT", DEFAULT_QUEUE_WAIT, float))
    seconds = _setting(config, "CUSTREG_REGISTRY_DEADLINE", DEFAULT_DEADLINE, float)
    gate = _gate(size)
    if not gate.acquire(timeout=wait):
        log.warning("registry lookup refused: all %s lookup slots busy for %.1f s", size, wait)
        raise RegistryBusy(str(LOOKUPS_BUSY))
    deadline = time.monotonic() + seconds
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)
        gate.release()


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
        max_bytes: int = DEFAULT_CACHE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self.max_bytes = int(max_bytes)
        self._clock = clock
        self._entries: OrderedDict[Any, tuple[float, Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        #: the sizes of the entries held (the ``size`` given to :meth:`set`)
        self.bytes = 0

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
            expires, value, size = found
            if expires <= self._clock():
                del self._entries[key]
                self.bytes -= size
                return default
            self._entries.move_to_end(key)
            return value

    def set(self, key: Any, value: Any, size: int = 0) -> None:
        """Keep ``value`` (``size``: its bytes; a value larger than the whole cache is not
        kept); the least recently used entries go while over ``max_entries`` or ``max_bytes``."""
        if not self.enabled or size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[2]
            self._entries[key] = (self._clock() + self.ttl, value, size)
            self.bytes += size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

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
    once; a timeout never (the user is waiting).

    The client follows the status part itself (so that every wait fits in the lookup's
    deadline); urllib3 gets :func:`connection_retry` of it for refused connections."""
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


def connection_retry(policy: Retry) -> Retry:
    """``policy`` for urllib3 itself: connection retries only (no statuses, no redirects)."""
    return policy.new(status=0, redirect=0, status_forcelist=frozenset())


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
    what = "registry lookup" + (f"; {provider_id}" if provider_id else "")
    return f"custreg-admin/{__version__} ({what}) python-requests/{requests.__version__}"


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
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.registry_name = registry_name
        self.base_url = base_url.rstrip("/")
        self.timeout = parse_timeout(timeout)
        self.deadline = float(deadline)
        self.max_bytes = int(max_bytes)
        self.cache = TTLCache(cache_seconds, max_bytes=int(cache_bytes))
        self.retry = make_retry(int(retries), float(backoff), retry_after_max=retry_after_max)
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        adapter = HTTPAdapter(max_retries=connection_retry(self.retry))
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
            "deadline": float(setting("CUSTREG_REGISTRY_DEADLINE", DEFAULT_DEADLINE)),
            "max_bytes": int(setting("CUSTREG_REGISTRY_MAX_BYTES", DEFAULT_MAX_BYTES)),
            "cache_bytes": int(setting("CUSTREG_REGISTRY_CACHE_BYTES", DEFAULT_CACHE_BYTES)),
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
        else raises. Answers are cached for the configured time. The call ends by the deadline
        of the :func:`lookup_budget` it runs in, else by its own (``deadline`` seconds).
        """
        url = self.url(path)
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        key = (url, tuple(sorted(clean.items())))
        cached = self.cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        deadline = _deadline.get() or (time.monotonic() + self.deadline)
        try:
            answer, size = self._fetch(url, clean, frozenset(accept_statuses), deadline)
        except DeadlineReached as error:
            raise self._fail("timeout", f"GET {url}: {error}") from error
        self.cache.set(key, answer, size)
        return answer

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has the base URL's scheme, host and port (where redirects may go)."""
        base, other = urlsplit(self.base_url), urlsplit(url)

        def port(parts: Any) -> int | None:
            try:
                return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
            except ValueError:
                return None

        return (
            other.scheme == base.scheme
            and (other.hostname or "") == (base.hostname or "")
            and port(other) == port(base)
        )

    def _send(self, url: str, params: dict[str, str] | None, deadline: float) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineReached(f"deadline of {self.deadline:g} s reached")
        timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
        try:
            return self.session.get(
                url, params=params, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.Timeout as error:
            raise self._fail("timeout", f"GET {url}: {error}") from error
        except requests.ConnectionError as error:
            if _is_timeout(error):
                raise self._fail("timeout", f"GET {url}: {error}") from error
            raise self._fail("connection", f"GET {url}: {error}") from error
        except requests.RequestException as error:
            raise self._fail("connection", f"GET {url}: {error}") from error

    def _retry_wait(self, response: Any, attempt: int) -> float:
        """Seconds before asking again: the registry's Retry-After (capped), else backoff."""
        retry = self.retry
        after = retry.get_retry_after(response.raw) if retry.respect_retry_after_header else None
        if after is not None:
            return max(0.0, float(after))
        factor = float(retry.backoff_factor or 0)
        return min(factor * (2**attempt), float(retry.backoff_max or 0))

    def _fetch(
        self, url: str, params: dict[str, str], accept: frozenset[int], deadline: float
    ) -> tuple[JsonAnswer, int]:
        """The answer and its body size. Redirects within the origin, status retries, the body
        streamed: all by ``deadline``."""
        retries_left = int(self.retry.status or 0)
        attempt = redirects = 0
        current_url, current_params = url, params
        while True:
            response = self._send(current_url, current_params, deadline)
            status = response.status_code
            if status in REDIRECT_STATUSES:
                response.close()
                target = urljoin(response.url, response.headers.get("Location") or "")
                if not self.same_origin(target) or redirects >= MAX_REDIRECTS:
                    detail = (
                        f"GET {response.url}: {status} redirect to {target!r} refused "
                        f"(only {self.base_url} and at most {MAX_REDIRECTS} redirects)"
                    )
                    raise self._fail("redirect", detail)
                redirects += 1
                current_url, current_params = target, None
                continue
            if status in RETRY_STATUSES and retries_left > 0:
                wait = self._retry_wait(response, attempt)
                if time.monotonic() + wait < deadline:  # else no time to wait: the answer stands
                    response.close()
                    time.sleep(wait)
                    retries_left -= 1
                    attempt += 1
                    continue
            break

        try:
            if status == 429:
                raise self._fail("busy", f"GET {response.url}: 429 after retries")
            if status >= 500:
                raise self._fail("server", f"GET {response.url}: {status} after retries")
            if status != 200 and status not in accept:
                if 400 <= status < 500:
                    body = self._read_body(response, min(deadline, time.monotonic() + 1))
                    detail = f"GET {response.url}: {status} {body[:200]!r}"
                    raise self._fail("refused", detail, RegistryError)
                raise self._fail("unreadable", f"GET {response.url}: unexpected status {status}")
            body = self._read_body(response, deadline)
            try:
                data = json.loads(body) if body.strip() else None
            except ValueError as error:
                raise self._fail(
                    "unreadable", f"GET {response.url}: invalid JSON ({error})"
                ) from error
            if status == 200 and data is None:
                raise self._fail("unreadable", f"GET {response.url}: empty body")
            return JsonAnswer(status=status, data=data, url=response.url), len(body)
        finally:
            response.close()

    def _read_body(self, response: Any, deadline: float) -> bytes:
        """The body, read by chunks with the deadline checked between them and the socket's
        timeout cut to the time left; refused past ``max_bytes`` (decoded), before buffering."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(response, f"Content-Length {declared}")
        raw = response.raw
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeadlineReached(
                        f"deadline of {self.deadline:g} s reached after {total} bytes of the body"
                    )
                _limit_socket_wait(raw, min(self.timeout[1], remaining))
                chunk = raw.read1(READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise self._too_large(response, f"more than {total} bytes")
                chunks.append(chunk)
        except (OSError, urllib3_exceptions.HTTPError, requests.RequestException) as error:
            if _is_timeout(error) or time.monotonic() >= deadline:
                raise self._fail("timeout", f"GET {response.url}: body: {error}") from error
            raise self._fail("connection", f"GET {response.url}: body: {error}") from error
        return b"".join(chunks)

    def _too_large(self, response: Any, detail: str) -> RegistryError:
        return self._fail(
            "too_large",
            f"GET {response.url}: body over CUSTREG_REGISTRY_MAX_BYTES={self.max_bytes} ({detail})",
        )

    def close(self) -> None:
        self.session.close()
        self.cache.clear()


def _limit_socket_wait(raw: Any, seconds: float) -> None:
    """Let the next read of the body wait at most ``seconds`` (best effort: urllib3's
    connection's socket; the deadline check between reads stays either way)."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.001))


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
    "DeadlineReached",
    "JsonAnswer",
    "LOOKUPS_BUSY",
    "RegistryBusy",
    "RegistryHttpClient",
    "TTLCache",
    "UnexpectedAnswer",
    "expect",
    "required",
    "iso_date",
    "lookup_budget",
    "make_retry",
    "optional",
    "parse_timeout",
    "project_user_agent",
    "text",
]
