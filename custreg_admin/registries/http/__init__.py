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

The package: :mod:`.transport` (the client), :mod:`.budget` (deadline and slots per lookup),
:mod:`.cache` (the answers' cache), :mod:`.retry` (the retry policy) and :mod:`.shapes` (helpers
for parsing answers). Plugins import from this package.
"""

from __future__ import annotations

from .budget import (
    DEFAULT_CONCURRENCY,
    DEFAULT_DEADLINE,
    DEFAULT_QUEUE_WAIT,
    LOOKUPS_BUSY,
    DeadlineReached,
    RegistryBusy,
    current_deadline,
    lookup_budget,
)
from .cache import CACHE_MAX_ENTRIES, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SECONDS, TTLCache
from .retry import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    RETRY_AFTER_MAX,
    RETRY_STATUSES,
    connection_retry,
    make_retry,
)
from .shapes import JsonAnswer, UnexpectedAnswer, expect, iso_date, optional, required, text
from .transport import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    MAX_REDIRECTS,
    MESSAGES,
    READ_CHUNK,
    REDIRECT_STATUSES,
    RegistryHttpClient,
    parse_timeout,
    project_user_agent,
)

__all__ = [
    "CACHE_MAX_ENTRIES",
    "DEFAULT_BACKOFF",
    "DEFAULT_CACHE_BYTES",
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_QUEUE_WAIT",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOOKUPS_BUSY",
    "MAX_REDIRECTS",
    "MESSAGES",
    "READ_CHUNK",
    "REDIRECT_STATUSES",
    "RETRY_AFTER_MAX",
    "RETRY_STATUSES",
    "DeadlineReached",
    "JsonAnswer",
    "RegistryBusy",
    "RegistryHttpClient",
    "TTLCache",
    "UnexpectedAnswer",
    "connection_retry",
    "current_deadline",
    "expect",
    "iso_date",
    "lookup_budget",
    "make_retry",
    "optional",
    "parse_timeout",
    "project_user_agent",
    "required",
    "text",
]
