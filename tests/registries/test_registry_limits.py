"""Registry calls that cannot hang a worker: one deadline per lookup (retries, redirects and a
trickling body included), redirects kept to the registry's own origin, oversize bodies refused
while they stream, an answer cache bounded in bytes, and lookups per process bounded so that
pages that call no registry stay fast while a registry hangs."""

from __future__ import annotations

import logging
import re
import statistics
import threading
import time

import pytest
import requests
from werkzeug import Response

from custreg_admin import registries
from custreg_admin.registries import RegistryError, RegistryProvider, RegistryUnavailable
from custreg_admin.registries.http import (
    RegistryBusy,
    RegistryHttpClient,
    TTLCache,
    lookup_budget,
)

from ..fake_registry import entry_point
from ..helpers import PASSWORD
from ..slow_servers import PoolServer, TrickleServer

NAME = "Test Registry"


def client_for(base_url: str, **options) -> RegistryHttpClient:
    settings = {"timeout": 30, "backoff": 0, "cache_seconds": 0, "deadline": 5.0}
    settings.update(options)
    return RegistryHttpClient(registry_name=NAME, base_url=base_url, **settings)


@pytest.fixture
def trickle():
    server = TrickleServer(interval=0.3)
    yield server
    server.close()


# --- the deadline ---------------------------------------------------------------------------


def test_a_trickling_registry_is_cut_off_at_the_deadline(trickle):
    """The socket timeout (30 s) never fires: a byte comes every 0.3 s. The deadline does."""
    http = client_for(trickle.url("/v1"), deadline=1.5)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        http.get_json("/companies", {"name": "slow"})
    took = time.monotonic() - started
    assert str(caught.value) == (
        f"{NAME} did not answer in time. Try again in a moment, or type the details by hand."
    )
    assert took < 1.5 + 1.0, f"the lookup took {took:.2f} s with a 1.5 s deadline"
    print(f"\ntrickling registry, deadline 1.5 s: the lookup ended after {took:.2f} s")


def test_one_lookup_budget_covers_several_calls(trickle, httpserver):
    """Two calls in one lookup share its deadline: the second gets only what is left."""
    httpserver.expect_request("/v1/fast").respond_with_handler(
        lambda request: (time.sleep(0.6), Response("{}", content_type="application/json"))[1]
    )
    fast = client_for(httpserver.url_for("/v1"))
    slow = client_for(trickle.url("/v1"), deadline=30)
    started = time.monotonic()
    with (
        pytest.raises(RegistryUnavailable, match="did not answer in time"),
        lookup_budget({"CUSTREG_REGISTRY_DEADLINE": 1.2}),
    ):
        fast.get_json("/fast")
        slow.get_json("/companies")
    assert time.monotonic() - started < 1.2 + 1.0


def test_retries_never_wait_past_the_deadline(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_data(
        "", status=503, headers={"Retry-After": "5"}
    )
    http = client_for(httpserver.url_for("/v1"), deadline=1.0, retries=3)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="is having trouble just now"):
        http.get_json("/companies")
    assert time.monotonic() - started < 1.0 + 1.0
    assert len(httpserver.log) == 1  # a 5 s wait does not fit in 1 s: no second request


# --- redirects ------------------------------------------------------------------------------


def test_a_redirect_to_another_host_or_port_is_refused_and_logged(httpserver, caplog):
    elsewhere = "http://127.0.0.1:1/admin/users/"  # the app itself, say: another port
    httpserver.expect_request("/v1/companies").respond_with_data(
        "", status=302, headers={"Location": elsewhere}
    )
    http = client_for(httpserver.url_for("/v1"))
    with (
        caplog.at_level(logging.WARNING, "custreg_admin.registries.http"),
        pytest.raises(RegistryUnavailable) as caught,
    ):
        http.get_json("/companies")
    assert str(caught.value).startswith(f"{NAME} sent the search elsewhere, which is not allowed.")
    assert any("redirect" in r.message and elsewhere in r.message for r in caplog.records)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    "location", ["https://{host}/v1/other", "http://other.example/v1/other", "//other.example/x"]
)
def test_a_redirect_to_another_scheme_or_host_is_refused(httpserver, location):
    host = f"127.0.0.1:{httpserver.port}"
    httpserver.expect_request("/v1/companies").respond_with_data(
        "", status=301, headers={"Location": location.format(host=host)}
    )
    with pytest.raises(RegistryUnavailable, match="sent the search elsewhere"):
        client_for(httpserver.url_for("/v1")).get_json("/companies")


def test_a_redirect_within_the_registry_is_followed(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_data(
        "", status=302, headers={"Location": "/v2/companies?name=x"}
    )
    httpserver.expect_request("/v2/companies").respond_with_json({"companies": []})
    answer = client_for(httpserver.url_for("/v1")).get_json("/companies", {"name": "x"})
    assert answer.data == {"companies": []}


def test_endless_redirects_within_the_registry_end(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_data(
        "", status=302, headers={"Location": "/v1/companies"}
    )
    with pytest.raises(RegistryUnavailable, match="sent the search elsewhere"):
        client_for(httpserver.url_for("/v1")).get_json("/companies")
    assert len(httpserver.log) == 4  # the first request and three redirects


# --- body size ------------------------------------------------------------------------------

TOO_LARGE = f"{NAME} sent an answer that is too large."


def test_an_oversize_body_is_refused_by_its_length(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_data(
        '{"x": "' + "a" * 5000 + '"}', content_type="application/json"
    )
    http = client_for(httpserver.url_for("/v1"), max_bytes=1000)
    with pytest.raises(RegistryUnavailable) as caught:
        http.get_json("/companies")
    assert str(caught.value).startswith(TOO_LARGE)


def test_an_oversize_body_without_a_length_is_refused_while_it_streams(httpserver):
    sent = []

    def endless(request):
        def chunks():
            for _ in range(2000):  # 2000 x 1 KiB, chunked: no Content-Length
                sent.append(1)
                yield b" " * 1024

        return Response(chunks(), content_type="application/json")

    httpserver.expect_request("/v1/companies").respond_with_handler(endless)
    http = client_for(httpserver.url_for("/v1"), max_bytes=64 * 1024)
    with pytest.raises(RegistryUnavailable) as caught:
        http.get_json("/companies")
    assert str(caught.value).startswith(TOO_LARGE)


def test_a_body_within_the_limit_is_read(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_json({"x": "a" * 900})
    http = client_for(httpserver.url_for("/v1"), max_bytes=1000)
    assert http.get_json("/companies").data == {"x": "a" * 900}


# --- the cache ------------------------------------------------------------------------------


def test_the_cache_is_bounded_in_bytes():
    cache = TTLCache(60, max_bytes=1000)
    cache.set("a", 1, 400)
    cache.set("b", 2, 400)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.set("c", 3, 400)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert cache.bytes == 800
    cache.set("huge", 4, 5000)  # larger than the whole cache: not kept, nothing dropped
    assert cache.get("huge") is None and len(cache) == 2


def test_registry_answers_are_cached_within_the_byte_limit(httpserver):
    for name in ("a", "b", "c"):
        httpserver.expect_request("/v1/companies", query_string={"name": name}).respond_with_json(
            {"filler": name * 500}
        )
    http = client_for(httpserver.url_for("/v1"), cache_seconds=60, cache_bytes=1200)
    for name in ("a", "b", "c"):
        http.get_json("/companies", {"name": name})
    assert http.cache.bytes <= 1200 and len(http.cache) == 2
    http.get_json("/companies", {"name": "c"})  # cached
    http.get_json("/companies", {"name": "a"})  # dropped: asked again
    assert len(httpserver.log) == 4


# --- lookups per process ----------------------------------------------------------------------


def test_a_lookup_finding_every_slot_taken_is_told_the_lookups_are_busy():
    config = {"CUSTREG_REGISTRY_CONCURRENCY": 1, "CUSTREG_REGISTRY_QUEUE_WAIT": 0.1}
    holding, release = threading.Event(), threading.Event()

    def hold():
        with lookup_budget(config):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(RegistryBusy) as caught, lookup_budget(config):
            pass  # pragma: no cover - never reached
        assert str(caught.value).startswith("Registry lookups are busy just now")
        assert isinstance(caught.value, RegistryUnavailable)  # the views show it as such
    finally:
        release.set()
        thread.join()
    with lookup_budget(config):  # the slot is free again
        pass


# --- the app: pages stay fast while lookups hang ------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class TrickleProvider(RegistryProvider):
    """A registry plugin whose registry trickles (its base URL is set per test)."""

    id = "trickle"
    country = "FI"
    label = NAME

    def __init__(self, config):
        self.http = RegistryHttpClient.from_config(
            config,
            registry_name=NAME,
            base_url_key="CUSTREG_TRICKLE_BASE_URL",
            default_base_url="http://127.0.0.1:9",
        )

    def search(self, query, *, limit=20):
        self.http.get_json("/companies", {"name": query})
        return []

    def close(self):
        self.http.close()


def _logged_in_session(base_url: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/admin/login", timeout=30)
    token = _CSRF.search(page.text).group(1)
    answer = session.post(
        f"{base_url}/admin/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    return session


def _page_seconds(session: requests.Session, url: str, times: int = 5) -> list[float]:
    took = []
    for _ in range(times):
        started = time.monotonic()
        assert session.get(url, timeout=30).status_code == 200
        took.append(time.monotonic() - started)
    return took


def test_the_list_page_stays_fast_while_registry_lookups_hang(
    app, app_factory, make_user, monkeypatch, trickle
):
    """Four worker threads (as ``gunicorn --threads 4``), a registry that trickles, eight
    lookups fired at once: two hold the two lookup slots until the deadline, the others are
    told "busy" after the short queue wait. The Summary list page answers meanwhile, long
    before the hung lookups end."""
    monkeypatch.setattr(
        registries,
        "discover_entry_points",
        lambda: [entry_point("trickle", __name__, "TrickleProvider")],
    )
    deadline = 4.0
    served = app_factory(
        CUSTREG_REGISTRIES="trickle",
        CUSTREG_TRICKLE_BASE_URL=trickle.url("/v1"),
        CUSTREG_REGISTRY_DEADLINE=deadline,
        CUSTREG_REGISTRY_TIMEOUT=30,
        CUSTREG_REGISTRY_CONCURRENCY=2,
        CUSTREG_REGISTRY_QUEUE_WAIT=0.3,
        CUSTREG_KPI_CACHE_SECONDS=0,
        WTF_CSRF_SSL_STRICT=False,
    )
    user = make_user("admin")
    with PoolServer(served, threads=4) as server:
        browser = _logged_in_session(server.url, user.email)
        list_url = f"{server.url}/admin/customers/"
        idle = _page_seconds(browser, list_url)

        lookups: list[tuple[int, float, str]] = []
        started = time.monotonic()

        def lookup(n: int) -> None:
            session = requests.Session()
            session.cookies.update(browser.cookies)  # the same user, in another tab
            answer = session.get(
                f"{server.url}/admin/customers/registry/search/",
                params={"format": "json", "country": "FI", "q": f"slow {n}"},
                timeout=60,
            )
            lookups.append((answer.status_code, time.monotonic() - started, answer.text))

        sessions = [threading.Thread(target=lookup, args=(n,)) for n in range(1, 9)]
        for thread in sessions:
            thread.start()
        while trickle.requests < 2 and time.monotonic() - started < 10:
            time.sleep(0.05)
        busy = _page_seconds(browser, list_url)
        page_done = time.monotonic() - started
        for thread in sessions:
            thread.join()

    timed_out = [t for status, t, text in lookups if "did not answer in time" in text]
    refused = [t for status, t, text in lookups if "Registry lookups are busy" in text]
    assert all(status == 503 for status, _, _ in lookups)
    assert len(timed_out) == 2 and len(refused) == 6
    assert page_done < min(timed_out), "the list page waited for the hung lookups"
    ratio = statistics.median(busy) / statistics.median(idle)
    print(
        f"\nlist page median idle {statistics.median(idle) * 1000:.0f} ms, while 2 lookups hang "
        f"{statistics.median(busy) * 1000:.0f} ms (x{ratio:.2f}); the five page loads were done "
        f"{page_done:.2f} s after the lookups started, the hung lookups ended at "
        f"{min(timed_out):.2f}-{max(timed_out):.2f} s (deadline {deadline} s), the refused ones "
        f"at {min(refused):.2f}-{max(refused):.2f} s"
    )


def test_registry_error_is_raised_for_a_refused_search(httpserver):
    httpserver.expect_request("/v1/companies").respond_with_data("bad query", status=400)
    with pytest.raises(RegistryError) as caught:
        client_for(httpserver.url_for("/v1")).get_json("/companies")
    assert not isinstance(caught.value, RegistryUnavailable)
