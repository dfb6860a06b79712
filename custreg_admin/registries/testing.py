"""Helpers for testing a registry plugin against a local HTTP server.

A plugin's tests build providers pointed at a recorded-response server (pytest-httpserver)
with quick retries and no cache, and close them afterwards::

    @pytest.fixture
    def make_provider(httpserver):
        with provider_factory(YtjProvider, CUSTREG_YTJ_BASE_URL=httpserver.url_for("/")) as make:
            yield make

``make(**config)`` builds one more provider; keyword settings override the quick defaults
(``make(CUSTREG_REGISTRY_CACHE_SECONDS=60)`` to test the cache).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from . import RegistryProvider

QUICK_SETTINGS: dict[str, Any] = {
    "CUSTREG_REGISTRY_TIMEOUT": 3.0,
    "CUSTREG_REGISTRY_CACHE_SECONDS": 0,
    "CUSTREG_REGISTRY_RETRIES": 2,
    "CUSTREG_REGISTRY_BACKOFF": 0,
}

P = TypeVar("P", bound=RegistryProvider)


@contextmanager
def provider_factory(provider_class: type[P], **settings: Any) -> Iterator[Callable[..., P]]:
    """Yield ``make(**config)``, building providers with quick test settings; close them after."""
    made: list[P] = []

    def make(**config: Any) -> P:
        provider = provider_class({**QUICK_SETTINGS, **settings, **config})
        made.append(provider)
        return provider

    try:
        yield make
    finally:
        for provider in made:
            provider.close()
