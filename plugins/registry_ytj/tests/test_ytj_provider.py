"""The YTJ provider against a local server serving recorded PRH YTJ v3 answers (tests/data)."""

from __future__ import annotations

import copy
import json
import socket
import time
from datetime import date
from pathlib import Path

import pytest
from custreg_registry_ytj import YtjProvider, business_id_in
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from werkzeug import Request, Response

import custreg_admin
from custreg_admin.registries import (
    STATUS_ACTIVE,
    STATUS_BANKRUPT,
    STATUS_CEASED,
    STATUS_LIQUIDATION,
    RegistryError,
    RegistryUnavailable,
)
from custreg_admin.registries.testing import provider_factory

DATA = Path(__file__).parent / "data"
BASE = "/opendata-ytj-api/v3"
COMPANIES = f"{BASE}/companies"


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def raw(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.fixture
def make_provider(httpserver):
    """Build YtjProviders against the local server; quick retries, no cache unless asked."""
    with provider_factory(YtjProvider, CUSTREG_YTJ_BASE_URL=httpserver.url_for(BASE)) as make:
        yield make


@pytest.fixture
def provider(make_provider) -> YtjProvider:
    return make_provider()


def serve_nokia(httpserver):
    by_business_id = httpserver.expect_request(COMPANIES, query_string={"businessId": "0112038-9"})
    by_business_id.respond_with_json(load("companies_business_id_0112038-9.json"))


def by_id(records):
    return {r.business_id: r for r in records}


# -- searches -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["0112038-9", "01120389", "FI01120389", "FI 0112038-9", " fi0112038-9 ", "FI-01120389"]
    + ["0112038 9", "112038-9"],
)
def test_business_id_or_vat_number_in_any_spelling_searches_by_business_id(
    httpserver, provider, spelling
):
    serve_nokia(httpserver)
    records = provider.search(spelling)
    assert [r.business_id for r in records] == ["0112038-9"]
    assert len(httpserver.log) == 1
    httpserver.check_assertions()


def test_business_id_search_maps_the_company(httpserver, provider):
    serve_nokia(httpserver)
    [nokia] = provider.search("FI01120389")

    assert nokia.source == "ytj"
    assert nokia.country == "FI"
    assert nokia.name == "Nokia Oyj"  # current main name, not the old one nor the auxiliary ones
    assert nokia.vat_number == "FI01120389"  # register 6 in force
    assert nokia.company_form == "Julkinen osakeyhtiö"  # the current form, not the ended one
    assert nokia.company_form_code == "17"
    assert nokia.industry_code == "70100"
    assert nokia.industry_name == "Pääkonttorien toiminta"
    assert nokia.industry_names["en"] == "Activities of head offices"
    assert nokia.industry_names["sv"] == "Verksamheter som utövas av huvudkontor"
    assert nokia.website == "www.nokia.com"
    assert nokia.status == STATUS_ACTIVE
    assert nokia.status_label == "Active"
    assert nokia.registered_on == date(1978, 3, 15)
    assert nokia.ended_on is None
    assert nokia.extra["eu_id"] == "FIFPRO.0112038-9"

    visiting, postal = nokia.address("visiting"), nokia.address("postal")
    assert (visiting.street, visiting.postal_code, visiting.city, visiting.country) == (
        "Karakaari 7",
        "02610",
        "ESPOO",
        "FI",
    )
    assert visiting.po_box is None and visiting.care_of is None
    assert (postal.street, postal.po_box, postal.postal_code, postal.city) == (
        "PL 226",
        "PL 226",
        "00045",
        "NOKIA GROUP",
    )
    assert nokia.city == "ESPOO"


def test_name_search_maps_every_company_and_lists_ceased_ones_last(httpserver, provider):
    httpserver.expect_request(COMPANIES, query_string={"name": "kahvi"}).respond_with_json(
        load("companies_name_kahvi.json")
    )
    records = provider.search("kahvi")
    assert [r.name for r in records] == [
        "Kahvila Aurora Oy",
        "Kahvipaahtimo Lindqvist Oy",
        "Kahvikeskus Oy",
        "Kahvi-Mestarit Oy",
        "Kahvitalo Nieminen Oy",  # ceased: second in the registry's order, last here
    ]
    assert {r.business_id: r.status for r in records} == {
        "2345678-0": STATUS_ACTIVE,
        "1987654-7": STATUS_LIQUIDATION,  # SELTILA in force
        "2754321-6": STATUS_BANKRUPT,  # KONK in force (its earlier SELTILA ended)
        "3198765-3": STATUS_ACTIVE,  # SANE (restructuring) keeps the company active
        "3012345-8": STATUS_CEASED,  # tradeRegisterStatus 4 and an endDate
    }
    ceased = by_id(records)["3012345-8"]
    assert ceased.ended_on == date(2021, 9, 30)
    assert ceased.status_label == "Ceased"
    assert by_id(records)["3198765-3"].extra["situations"] == ("SANE",)


def test_vat_number_only_while_the_vat_register_entry_is_in_force(httpserver, provider):
    httpserver.expect_request(COMPANIES, query_string={"name": "kahvi"}).respond_with_json(
        load("companies_name_kahvi.json")
    )
    vat = {r.business_id: r.vat_number for r in provider.search("kahvi")}
    assert vat == {
        "2345678-0": "FI23456780",
        "1987654-7": None,  # register 6 entry ended when liquidation began
        "2754321-6": "FI27543216",  # still in the VAT register while bankrupt
        "3198765-3": "FI31987653",
        "3012345-8": None,  # ceased; its register 6 entry ended
    }


def test_addresses_street_parts_po_box_care_of_and_the_finnish_post_office(httpserver, provider):
    httpserver.expect_request(COMPANIES, query_string={"name": "kahvi"}).respond_with_json(
        load("companies_name_kahvi.json")
    )
    records = by_id(provider.search("kahvi"))

    aurora = records["2345678-0"]
    assert aurora.name == "Kahvila Aurora Oy"  # not the ended "Aurora Kahvi Ky", nor the parallel
    assert aurora.company_form == "Osakeyhtiö"  # not the ended Kommandiittiyhtiö
    visiting = aurora.address("visiting")
    assert visiting.street == "Mannerheimintie 12 B 34a"
    assert visiting.city == "HELSINKI"  # Swedish HELSINGFORS is listed first
    postal = aurora.address("postal")
    assert (postal.street, postal.po_box, postal.postal_code, postal.city) == (
        "PL 123",
        "PL 123",
        "00101",
        "HELSINKI",
    )
    assert postal.care_of == "Tilitoimisto Numero Oy"  # without "c/o"
    assert aurora.website == "https://kahvila-aurora.example.fi"

    assert records["1987654-7"].address("visiting").city == "TURKU"  # not ÅBO
    assert records["1987654-7"].address("postal") is None
    assert records["2754321-6"].address("postal").street == "PL 77"  # no "PL PL 77"
    assert records["3012345-8"].address("postal").street == "Hämeenkatu 5"


def test_empty_result(httpserver, provider):
    httpserver.expect_request(COMPANIES, query_string={"name": "zzyzx"}).respond_with_json(
        load("companies_empty.json")
    )
    assert provider.search("zzyzx") == []
    assert len(httpserver.log) == 1


def test_unknown_business_id_answered_with_404_is_no_match(httpserver, provider):
    unknown = httpserver.expect_request(COMPANIES, query_string={"businessId": "2468013-5"})
    unknown.respond_with_json({"message": "Yritystä ei löytynyt", "errorcode": "404"}, status=404)
    assert provider.search("2468013-5") == []


@pytest.mark.parametrize("query", ["0112038-8", "FI01120388", "0112038"])
def test_an_id_with_a_wrong_check_digit_is_refused_before_any_request(httpserver, provider, query):
    with pytest.raises(RegistryError) as caught:
        provider.search(query)
    assert not isinstance(caught.value, RegistryUnavailable)
    assert "not a valid Finnish business ID" in str(caught.value)
    assert httpserver.log == []


def test_blank_query_or_zero_limit_makes_no_request(httpserver, provider):
    assert provider.search("   ") == []
    assert provider.search("kahvi", limit=0) == []
    assert httpserver.log == []


def test_business_id_in_tells_ids_from_names():
    assert business_id_in("Nokia") is None
    assert business_id_in("Kahvila 2000") is None
    assert business_id_in("FI 0112038-9") == "0112038-9"


def test_registry_refusing_the_query_is_a_registry_error(httpserver, provider):
    httpserver.expect_request(COMPANIES).respond_with_json(load("error_400.json"), status=400)
    with pytest.raises(RegistryError) as caught:
        provider.search("x")
    assert not isinstance(caught.value, RegistryUnavailable)
    assert "Finnish Trade Register (YTJ)" in str(caught.value)


# -- pagination ---------------------------------------------------------------------------


def page_server(httpserver, total: int):
    """Serve ``total`` companies in PRH's fixed pages of 100 (``page`` 1, 2, ...)."""
    template = load("companies_name_kahvi.json")["companies"][0]

    def company(n: int) -> dict:
        item = copy.deepcopy(template)
        item["businessId"]["value"] = f"{n:07d}-X"
        item["names"] = [{"name": f"Kahvi {n} Oy", "type": "1", "version": 1, "source": "1"}]
        return item

    def handler(request: Request) -> Response:
        page = int(request.args.get("page", "1"))
        start = (page - 1) * 100
        body = {
            "totalResults": total,
            "companies": [company(n) for n in range(start, min(start + 100, total))],
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(COMPANIES).respond_with_handler(handler)


def pages_requested(httpserver) -> list[str | None]:
    return [request.args.get("page") for request, _ in httpserver.log]


@pytest.mark.parametrize(
    ("limit", "expected_count", "expected_pages"),
    [
        (20, 20, [None]),
        (100, 100, [None]),
        (150, 150, [None, "2"]),
        (250, 230, [None, "2", "3"]),
        (1000, 230, [None, "2", "3"]),
    ],
)
def test_pages_are_fetched_only_as_far_as_the_limit_needs(
    httpserver, provider, limit, expected_count, expected_pages
):
    page_server(httpserver, total=230)
    records = provider.search("kahvi", limit=limit)
    assert len(records) == expected_count
    assert records[0].name == "Kahvi 0 Oy"
    assert records[-1].name == f"Kahvi {expected_count - 1} Oy"
    assert pages_requested(httpserver) == expected_pages
    assert all(request.args["name"] == "kahvi" for request, _ in httpserver.log)


# -- network trouble ----------------------------------------------------------------------


def test_429_is_retried_then_the_answer_is_used(httpserver, provider):
    httpserver.expect_oneshot_request(COMPANIES).respond_with_json(
        {"message": "Too many requests"}, status=429
    )
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_name_kahvi.json"))
    assert len(provider.search("kahvi")) == 5
    assert [response.status_code for _, response in httpserver.log] == [429, 200]


def test_429_after_the_retries_is_unavailable(httpserver, provider):
    httpserver.expect_request(COMPANIES).respond_with_json({"message": "slow down"}, status=429)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert str(caught.value) == (
        "The Finnish Trade Register (YTJ) is receiving too many requests just now. "
        "Try again in a minute, or type the details by hand."
    )
    assert len(httpserver.log) == 3  # the request and two retries


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_after_the_retries_are_unavailable(httpserver, provider, status):
    httpserver.expect_request(COMPANIES).respond_with_data("Internal error", status=status)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert str(caught.value) == (
        "The Finnish Trade Register (YTJ) is having trouble just now. "
        "Try again later, or type the details by hand."
    )
    assert len(httpserver.log) == 3


def test_a_500_followed_by_an_answer_recovers(httpserver, provider):
    httpserver.expect_oneshot_request(COMPANIES).respond_with_data("oops", status=500)
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_empty.json"))
    assert provider.search("kahvi") == []
    assert len(httpserver.log) == 2


def test_a_slow_registry_times_out(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_TIMEOUT=0.2)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(raw("companies_empty.json"), content_type="application/json")

    httpserver.expect_request(COMPANIES).respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert time.monotonic() - started < 0.55  # read timeouts are not retried
    assert str(caught.value) == (
        "The Finnish Trade Register (YTJ) did not answer in time. "
        "Try again in a moment, or type the details by hand."
    )


def test_an_unreachable_registry_is_unavailable(make_provider):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make_provider(CUSTREG_YTJ_BASE_URL=f"http://127.0.0.1:{port}/v3")
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert str(caught.value).startswith("The Finnish Trade Register (YTJ) could not be reached.")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (raw("companies_truncated.json"), "application/json"),
        (raw("maintenance.html"), "text/html; charset=utf-8"),
        ("", "application/json"),
    ],
    ids=["truncated-json", "html-maintenance-page", "empty-body"],
)
def test_an_unreadable_answer_is_unavailable(httpserver, provider, body, content_type):
    httpserver.expect_request(COMPANIES).respond_with_data(body, content_type=content_type)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert str(caught.value) == (
        "The Finnish Trade Register (YTJ) sent an answer that could not be read. "
        "Try again later, or type the details by hand."
    )


def broken(change):
    body = load("companies_name_kahvi.json")
    change(body)
    return body


@pytest.mark.parametrize(
    "body",
    [
        load("companies_unexpected_shape.json"),
        [],
        {"results": []},
        {"totalResults": 3},
        {"totalResults": "5", "companies": []},
        broken(lambda b: b["companies"][3].pop("businessId")),
        broken(lambda b: b["companies"][4].update(names=[])),
        broken(lambda b: b["companies"][1].update(addresses={"type": 1})),
        broken(lambda b: b["companies"][2]["registeredEntries"][1].update(endDate="soon")),
        broken(lambda b: b["companies"][0]["addresses"][0].update(postOffices=["HELSINKI"])),
    ],
    ids=[
        "business-id-not-an-object",
        "a-list",
        "other-keys",
        "companies-missing",
        "total-not-a-number",
        "business-id-missing",
        "no-names",
        "addresses-not-a-list",
        "end-date-not-a-date",
        "post-office-not-an-object",
    ],
)
def test_an_unexpected_shape_is_unavailable_and_nothing_half_parsed_returns(
    httpserver, provider, body
):
    httpserver.expect_request(COMPANIES).respond_with_json(body)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("kahvi")
    assert "could not be read" in str(caught.value)


# -- HTTP details -------------------------------------------------------------------------


def test_requests_name_the_project_and_ask_for_json(httpserver, provider):
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_empty.json"))
    provider.search("kahvi")
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith(f"custreg-admin/{custreg_admin.__version__} ")
    assert "ytj" in request.headers["User-Agent"]
    assert request.headers["Accept"] == "application/json"


def test_timeouts_are_never_retried_a_refused_connection_once(provider):
    retry = provider.http.retry
    with pytest.raises(ReadTimeoutError):
        retry.increment("GET", "/companies", error=ReadTimeoutError(None, "/companies", "slow"))
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/companies", error=ConnectTimeoutError("no route"))
    refused = NewConnectionError(None, "Connection refused")
    again = retry.increment("GET", "/companies", error=refused)
    with pytest.raises(MaxRetryError):
        again.increment("GET", "/companies", error=refused)
    assert retry.status == 2 and retry.allowed_methods == frozenset({"GET"})
    assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}


def test_timeout_setting_gives_connect_and_read_timeouts(make_provider):
    assert make_provider(CUSTREG_REGISTRY_TIMEOUT=4).http.timeout == (4.0, 4.0)
    assert make_provider(CUSTREG_REGISTRY_TIMEOUT=(2, 9)).http.timeout == (2.0, 9.0)
    assert make_provider(CUSTREG_REGISTRY_TIMEOUT="3,12").http.timeout == (3.0, 12.0)


def test_default_base_url_is_prh():
    provider = YtjProvider({})
    try:
        assert provider.http.base_url == "https://avoindata.prh.fi/opendata-ytj-api/v3"
    finally:
        provider.close()


# -- cache --------------------------------------------------------------------------------


def test_a_repeated_search_is_answered_from_the_cache(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=60)
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_name_kahvi.json"))
    first = provider.search("kahvi")
    second = provider.search("kahvi")
    assert first == second
    assert len(httpserver.log) == 1
    provider.search("kahvia")  # another query is another request
    assert len(httpserver.log) == 2


def test_cached_answers_expire(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=60)
    now = [1000.0]
    provider.http.cache._clock = lambda: now[0]
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_empty.json"))
    provider.search("kahvi")
    now[0] += 59
    provider.search("kahvi")
    assert len(httpserver.log) == 1
    now[0] += 2
    provider.search("kahvi")
    assert len(httpserver.log) == 2


def test_cache_seconds_zero_disables_the_cache(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=0)
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_empty.json"))
    provider.search("kahvi")
    provider.search("kahvi")
    assert len(httpserver.log) == 2


def test_failures_are_not_cached(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=60, CUSTREG_REGISTRY_RETRIES=0)
    httpserver.expect_oneshot_request(COMPANIES).respond_with_data("oops", status=503)
    httpserver.expect_request(COMPANIES).respond_with_json(load("companies_empty.json"))
    with pytest.raises(RegistryUnavailable):
        provider.search("kahvi")
    assert provider.search("kahvi") == []
    assert len(httpserver.log) == 2
