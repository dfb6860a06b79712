"""The registry transport: :class:`RegistryHttpClient`, GET with one deadline, retries within
it, same-origin redirects, streamed and bounded bodies, the cache, and user-fit errors."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions

from ...i18n import lazy_gettext
from ...version import __version__
from .. import RegistryError, RegistryUnavailable
from ..labels import label_in
from .budget import DEFAULT_DEADLINE, DeadlineReached, current_deadline
from .cache import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SECONDS, TTLCache
from .retry import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    RETRY_AFTER_MAX,
    RETRY_STATUSES,
    connection_retry,
    make_retry,
)
from .shapes import JsonAnswer, UnexpectedAnswer

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
#: The longest answer body accepted (bytes); longer ones are refused while they stream.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
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
        registry_name: str | Mapping[str, str],
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
        registry_name: str | Mapping[str, str],
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
        log.warning("%s: %s (%s)", label_in(self.registry_name, "en"), what, detail)
        return error_class(str(MESSAGES[what]) % {"registry": label_in(self.registry_name)})

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
        deadline = current_deadline() or (time.monotonic() + self.deadline)
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
