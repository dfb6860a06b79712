"""One budget per registry lookup: a slot among the process's lookup slots and one deadline."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from ...i18n import lazy_gettext
from .. import RegistryUnavailable

log = logging.getLogger(__name__)

#: Seconds one lookup may take in all (retries, waits, redirects and reading the body).
DEFAULT_DEADLINE = 6.0
#: Lookups running at once per process, and how long another waits for a turn (seconds).
DEFAULT_CONCURRENCY = 2
DEFAULT_QUEUE_WAIT = 1.0

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


_deadline: ContextVar[float | None] = ContextVar("custreg_registry_deadline", default=None)
_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def current_deadline() -> float | None:
    """The deadline of the :func:`lookup_budget` the caller runs in (``None`` outside one)."""
    return _deadline.get()


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
