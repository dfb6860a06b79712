"""The retry policy of registry calls (urllib3 ``Retry``): statuses, connections, Retry-After."""

from __future__ import annotations

from typing import Any

from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
#: Longest ``Retry-After`` the client waits for; a registry asking for more gets this much.
RETRY_AFTER_MAX = 5.0


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
