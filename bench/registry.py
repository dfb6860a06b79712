"""Registry lookup cases: what custreg_admin and the plugins add to a registry's response time.

A local HTTP server (pytest-httpserver's ``HTTPServer`` on 127.0.0.1) answers with the recorded
YTJ and Brønnøysund JSON that the plugins' own tests replay (``plugins/*/tests/data``). Each
case times :func:`custreg_admin.services.registry_search.search` (the magnifier's service: the
installed provider, its HTTP client with retries and timeouts, parsing into
``CompanyRecord``s) against a plain ``requests.get(...).json()`` of the same URL:

* uncached (``CUSTREG_REGISTRY_CACHE_SECONDS=0``): every search reaches the server;
* cached repeat (the default cache): the same search again, answered from the provider's cache.

``result`` holds the business IDs found and how many requests reached the server during the
timed runs (none for a cached repeat).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from custreg_admin.services import registry_search

from .common import BenchEnv, CaseResult, median, paired

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
YTJ_DATA = PLUGINS / "registry_ytj" / "tests" / "data"
BIZWEB_DATA = PLUGINS / "registry_bizweb" / "tests" / "data"
YTJ_BASE = "/opendata-ytj-api/v3"
BIZWEB_BASE = "/enhetsregisteret/api"
TIMEOUT = 10.0


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _ytj_ids(answer: Any) -> list[str]:
    return sorted(company["businessId"]["value"] for company in answer["companies"])


def _bizweb_ids(answer: Any) -> list[str]:
    units = answer["_embedded"]["enheter"] if "_embedded" in answer else [answer]
    return sorted(unit["organisasjonsnummer"] for unit in units)


# Each search: (case, country, what the user types, path, query parameters, recorded answer,
# the business IDs of a raw answer).
SEARCHES = [
    (
        "YTJ name search",
        "FI",
        "kahvi",
        f"{YTJ_BASE}/companies",
        {"name": "kahvi"},
        YTJ_DATA / "companies_name_kahvi.json",
        _ytj_ids,
    ),
    (
        "YTJ business ID",
        "FI",
        "FI01120389",
        f"{YTJ_BASE}/companies",
        {"businessId": "0112038-9"},
        YTJ_DATA / "companies_business_id_0112038-9.json",
        _ytj_ids,
    ),
    (
        "Bizweb name search",
        "NO",
        "fjord",
        f"{BIZWEB_BASE}/enheter",
        {"navn": "fjord", "size": "20", "page": "0"},
        BIZWEB_DATA / "enheter_navn_fjord.json",
        _bizweb_ids,
    ),
    (
        "Bizweb org. number",
        "NO",
        "NO 923 609 016 MVA",
        f"{BIZWEB_BASE}/enheter/923609016",
        {},
        BIZWEB_DATA / "enheter_923609016.json",
        _bizweb_ids,
    ),
]


@contextmanager
def _local_registry() -> Iterator[Any]:
    """The recorded answers on 127.0.0.1 (an ephemeral port), one handler per search."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per request would drown the table
    for _case, _country, _query, path, params, recorded, _ids in SEARCHES:
        server.expect_request(path, query_string=params or None).respond_with_json(_load(recorded))
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
        access_log.setLevel(level)


def _registry_app(env: BenchEnv, server: Any, *, cache_seconds: int) -> Flask:
    from custreg_admin import create_app

    return create_app(
        {
            "CUSTREG_DATABASE_URL": env.app.config["CUSTREG_DATABASE_URL"],
            "CUSTREG_SECRET_KEY": "bench",
            "CUSTREG_REGISTRIES": "ytj,bizweb",
            "CUSTREG_YTJ_BASE_URL": server.url_for(YTJ_BASE),
            "CUSTREG_BIZWEB_BASE_URL": server.url_for(BIZWEB_BASE),
            "CUSTREG_REGISTRY_TIMEOUT": TIMEOUT,
            "CUSTREG_REGISTRY_CACHE_SECONDS": cache_seconds,
        }
    )


def _cases(env: BenchEnv) -> list[CaseResult]:
    runs = max(20, env.runs * 4)  # milliseconds each: more runs for a steady median
    results = []
    with _local_registry() as server:
        apps = {
            "": _registry_app(env, server, cache_seconds=0),
            ", cached repeat": _registry_app(env, server, cache_seconds=600),
        }
        for suffix, app in apps.items():
            for name, country, query, path, params, _recorded, ids in SEARCHES:
                url = server.url_for(path)

                def module(country=country, query=query) -> list[str]:
                    _provider, records = registry_search.search(country, query)
                    return sorted(record.business_id for record in records)

                def baseline(url=url, params=params, ids=ids) -> list[str]:
                    response = requests.get(url, params=params, timeout=TIMEOUT)
                    response.raise_for_status()
                    return ids(response.json())

                with app.app_context():
                    module()  # the first search builds the providers: not timed
                    server.clear_log()
                    measured = paired(module, baseline, runs, warmup=False)
                    times, found = measured.module_ms, measured.result
                    baseline_times, expected = measured.baseline_ms, measured.baseline_result
                    reached = len(server.log) - runs  # every baseline request reaches it
                overhead = median(times) - median(baseline_times)
                results.append(
                    CaseResult(
                        case=f"registry: {name}{suffix}",
                        median_ms=round(median(times), 3),
                        baseline_median_ms=round(median(baseline_times), 3),
                        runs_ms=[round(t, 3) for t in times],
                        baseline_runs_ms=[round(t, 3) for t in baseline_times],
                        same_result=bool(found) and found == expected,
                        result={"business_ids": found, "requests_to_server": reached},
                        baseline_result={"business_ids": expected},
                        note=(
                            f"overhead {overhead:+.2f} ms; "
                            f"{reached} of {runs} searches reached the server"
                        ),
                    )
                )
        for app in apps.values():
            with app.app_context():
                for provider in registry_search.loaded_providers().providers.values():
                    provider.close()
    return results


def registry_lookups(env: BenchEnv) -> list[CaseResult]:
    try:
        import pytest_httpserver  # noqa: F401
    except ImportError:
        return [
            CaseResult(
                case="registry choices",
                median_ms=0.0,
                baseline_median_ms=0.0,
                runs_ms=[],
                baseline_runs_ms=[],
                same_result=True,
                result={"skipped": "pytest-httpserver is not installed"},
                note="skipped: pytest-httpserver is not installed (pip install -e '.[dev]')",
            )
        ]
    return _cases(env)


CASES = [registry_lookups]
