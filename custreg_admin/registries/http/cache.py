"""The registry answers' cache: small, in memory, per provider, expiring and size-bounded."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

DEFAULT_CACHE_SECONDS = 600
#: Entries kept in one provider's answer cache (oldest dropped first).
CACHE_MAX_ENTRIES = 512
#: Bytes of answers kept in one provider's cache (counted by body size; oldest dropped first).
DEFAULT_CACHE_BYTES = 16 * 1024 * 1024


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
