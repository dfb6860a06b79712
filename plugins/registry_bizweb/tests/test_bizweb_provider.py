"""The Bizweb provider against a local server serving recorded Enhetsregisteret answers."""

from __future__ import annotations

import copy
import json
import time
from datetime import date
from pathlib import Path

import pytest
from custreg_registry_bizweb import BizwebProvider, EnhetsregisteretSource, orgnr_in
from werkzeug import Request, Response

import custreg_admin
from custreg_admin.registries import (
    STATUS_ACTIVE,
    STATUS_BANKRUPT,
    STATUS_CEASED,
    STATUS_LIQUIDATION,
    CompanyRecord,
    RegistryError,
    RegistryUnavailable,
)
from custreg_admin.registries.testing import provider_factory

DATA = Path(__file__).parent / "data"
BASE = "/enhetsregisteret/api"
ENHETER = f"{BASE}/enheter"
UNDERENHETER = f"{BASE}/underenheter"
REGISTRY = "The Norwegian company register (Brønnøysund)"


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def make_provider(httpserver):
    """Build BizwebProviders against the local server; quick retries, no cache unless asked."""
    with provider_factory(BizwebProvider, CUSTREG_BIZWEB_BASE_URL=httpserver.url_for(BASE)) as make:
        yield make


@pytest.fixture
def provider(make_provider) -> BizwebProvider:
    return make_provider()


def by_id(records):
    return {r.business_id: r for r in records}


def serve_equinor(httpserver):
    httpserver.expect_request(f"{ENHETER}/923609016").respond_with_json(
        load("enheter_923609016.json")
    )


# -- organisation numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "923609016",
        "923 609 016",
        "NO923609016MVA",
        "NO 923 609 016 MVA",
        "923609016MVA",
        "no923609016mva",
        "NO923609016",
        "923.609.016",
    ],
)
def test_organisation_or_vat_number_in_any_spelling_looks_up_the_unit(
    httpserver, provider, spelling
):
    serve_equinor(httpserver)
    assert [r.business_id for r in provider.search(spelling)] == ["923609016"]
    assert [request.path for request, _ in httpserver.log] == [f"{ENHETER}/923609016"]


def test_unit_lookup_maps_the_company(httpserver, provider):
    serve_equinor(httpserver)
    [equinor] = provider.search("923609016")

    assert equinor.source == "bizweb"
    assert equinor.country == "NO"
    assert equinor.name == "EQUINOR ASA"
    assert equinor.vat_number == "NO923609016MVA"  # registrertIMvaregisteret
    assert equinor.company_form == "Allmennaksjeselskap"
    assert equinor.company_form_code == "ASA"
    assert equinor.industry_code == "06.100"
    assert equinor.industry_name == "Utvinning av råolje"
    assert equinor.industry_names == {"nb": "Utvinning av råolje"}
    assert equinor.website == "www.equinor.com"
    assert equinor.status == STATUS_ACTIVE
    assert equinor.registered_on == date(1995, 3, 12)
    assert equinor.ended_on is None
    assert equinor.parent_business_id is None
    assert equinor.extra["founded_on"] == date(1972, 9, 18)
    assert equinor.extra["employees"] == 21126
    assert equinor.extra["municipality"] == "STAVANGER"

    visiting = equinor.address("visiting")  # forretningsadresse
    assert (visiting.street, visiting.postal_code, visiting.city, visiting.country) == (
        "Forusbeen 50",
        "4035",
        "STAVANGER",
        "NO",
    )
    postal = equinor.address("postal")  # postadresse
    assert (postal.street, postal.po_box, postal.postal_code, postal.city) == (
        "Postboks 8500 Forus",
        "Postboks 8500 Forus",
        "4035",
        "STAVANGER",
    )


def test_a_deleted_unit_is_ceased_never_active(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/975312461").respond_with_json(
        load("enheter_975312461_deleted.json")
    )
    [deleted] = provider.search("975312461")
    assert deleted.name == "GAMLE FJORDHUS AS"
    assert deleted.status == STATUS_CEASED
    assert deleted.ended_on == date(2019, 6, 14)
    assert deleted.vat_number is None
    assert deleted.addresses == ()
    assert len(httpserver.log) == 1  # no fallback to underenheter for a deleted main unit


def test_a_sub_unit_number_falls_back_to_underenheter_and_brings_its_main_unit(
    httpserver, provider
):
    httpserver.expect_request(f"{ENHETER}/973152351").respond_with_json(
        load("error_404_enhet.json"), status=404
    )
    httpserver.expect_request(f"{UNDERENHETER}/973152351").respond_with_json(
        load("underenheter_973152351.json")
    )
    serve_equinor(httpserver)
    sub_unit, main_unit = provider.search("973 152 351")

    assert sub_unit.business_id == "973152351"
    assert sub_unit.name == "EQUINOR ASA AVD SANDSLI"
    assert sub_unit.parent_business_id == "923609016"
    assert sub_unit.company_form_code == "BEDR"
    assert sub_unit.vat_number is None  # VAT registration belongs to the main unit
    assert sub_unit.extra["sub_unit"] is True
    visiting = sub_unit.address("visiting")  # beliggenhetsadresse
    assert (visiting.street, visiting.postal_code, visiting.city) == (
        "Sandsliveien 90",
        "5254",
        "SANDSLI",
    )
    assert main_unit.business_id == "923609016"
    assert main_unit.vat_number == "NO923609016MVA"
    assert [request.path for request, _ in httpserver.log] == [
        f"{ENHETER}/973152351",
        f"{UNDERENHETER}/973152351",
        f"{ENHETER}/923609016",
    ]


def _assert_skatteetaten(unit: CompanyRecord) -> None:
    """A main unit with a parent (``overordnetEnhet``): still a main unit."""
    assert unit.business_id == "974761076"
    assert unit.name == "SKATTEETATEN"
    assert unit.extra["sub_unit"] is False
    assert unit.parent_business_id == "972417807"  # Finansdepartementet, kept as a link
    assert unit.vat_number == "NO974761076MVA"  # VAT-registered main unit
    assert unit.company_form_code == "ORGL"
    visiting = unit.address("visiting")  # forretningsadresse, not dropped
    assert (visiting.street, visiting.postal_code, visiting.city, visiting.country) == (
        "Fredrik Selmers vei 4",
        "0663",
        "OSLO",
        "NO",
    )
    postal = unit.address("postal")
    assert (postal.street, postal.postal_code, postal.city) == (
        "Postboks 9200 Grønland",
        "0134",
        "OSLO",
    )
    assert unit.email == "postmottak@skatteetaten.no"
    assert unit.phone == "+47 800 80 000"  # telefon before mobil
    assert unit.extra["mobile"] == "+47 915 80 000"
    assert unit.extra["municipality"] == "OSLO"


def test_a_main_unit_with_a_parent_keeps_its_address_vat_number_and_parent_link(
    httpserver, provider
):
    httpserver.expect_request(f"{ENHETER}/974761076").respond_with_json(
        load("enheter_974761076_with_parent.json")
    )
    [unit] = provider.search("NO 974 761 076 MVA")
    _assert_skatteetaten(unit)
    # the parent is a link: it is not fetched, and the sub-unit endpoint is not asked
    assert [request.path for request, _ in httpserver.log] == [f"{ENHETER}/974761076"]


def test_a_main_unit_with_a_parent_found_by_name_is_a_main_unit(httpserver, provider):
    httpserver.expect_request(ENHETER).respond_with_json(load("enheter_navn_skatteetaten.json"))
    [unit] = provider.search("Skatteetaten")
    _assert_skatteetaten(unit)


def test_a_sub_unit_is_known_by_its_endpoint_even_without_a_parent(httpserver, provider):
    answer = load("underenheter_973152351.json")
    del answer["overordnetEnhet"]
    httpserver.expect_request(f"{ENHETER}/973152351").respond_with_json(
        load("error_404_enhet.json"), status=404
    )
    httpserver.expect_request(f"{UNDERENHETER}/973152351").respond_with_json(answer)
    [sub_unit] = provider.search("973152351")
    assert sub_unit.extra["sub_unit"] is True
    assert sub_unit.vat_number is None
    assert sub_unit.address("visiting").street == "Sandsliveien 90"  # beliggenhetsadresse
    assert sub_unit.email is None and sub_unit.phone is None


def test_the_phone_is_the_mobile_when_no_landline_is_given(httpserver, provider):
    answer = load("enheter_974761076_with_parent.json")
    del answer["telefon"]
    httpserver.expect_request(f"{ENHETER}/974761076").respond_with_json(answer)
    [unit] = provider.search("974761076")
    assert unit.phone == "+47 915 80 000"


def test_an_unknown_number_404_is_no_match(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/876543214").respond_with_json(
        load("error_404_enhet.json"), status=404
    )
    httpserver.expect_request(f"{UNDERENHETER}/876543214").respond_with_json(
        load("error_404_underenhet.json"), status=404
    )
    assert provider.search("876543214") == []
    assert len(httpserver.log) == 2


def test_a_removed_unit_410_is_no_match(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/812345672").respond_with_json(
        load("error_410_enhet.json"), status=410
    )
    assert provider.search("NO 812 345 672 MVA") == []
    assert len(httpserver.log) == 1  # removed: its data is withheld, no sub-unit fallback


def test_a_removed_sub_unit_410_is_no_match(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/876543214").respond_with_json(
        load("error_404_enhet.json"), status=404
    )
    httpserver.expect_request(f"{UNDERENHETER}/876543214").respond_with_json(
        {"status": 410, "error": "Gone"}, status=410
    )
    assert provider.search("876543214") == []


@pytest.mark.parametrize("query", ["923609017", "NO923609017MVA", "923 609 01"])
def test_a_number_with_a_wrong_check_digit_is_refused_before_any_request(
    httpserver, provider, query
):
    if query == "923 609 01":  # eight digits: a name as far as the registry goes
        httpserver.expect_request(ENHETER).respond_with_json(load("enheter_navn_empty.json"))
        assert provider.search(query) == []
        return
    with pytest.raises(RegistryError) as caught:
        provider.search(query)
    assert not isinstance(caught.value, RegistryUnavailable)
    assert "not a valid Norwegian organisation number" in str(caught.value)
    assert httpserver.log == []


def test_orgnr_in_tells_numbers_from_names():
    assert orgnr_in("Equinor") is None
    assert orgnr_in("7-Eleven Norge") is None
    assert orgnr_in("NO 923 609 016 MVA") == "923609016"


# -- name search --------------------------------------------------------------------------


def test_name_search_maps_statuses_vat_and_addresses(httpserver, provider):
    httpserver.expect_request(
        ENHETER, query_string={"navn": "fjord", "size": "20", "page": "0"}
    ).respond_with_json(load("enheter_navn_fjord.json"))
    records = provider.search("fjord")
    assert [r.name for r in records] == [
        "FJORDBRIS KAFFEBAR AS",
        "FJORDLYS EIENDOM AS",
        "FJORDSTAR HANDEL AS",
        "FJORDVIK TRANSPORT AS",
        "FJORDSANG KAMMERKOR",
    ]
    found = by_id(records)
    assert {orgnr: r.status for orgnr, r in found.items()} == {
        "998877660": STATUS_ACTIVE,
        "812345672": STATUS_LIQUIDATION,  # underAvvikling
        "911223341": STATUS_BANKRUPT,  # konkurs
        "987654325": STATUS_LIQUIDATION,  # underTvangsavviklingEllerTvangsopplosning
        "923456783": STATUS_ACTIVE,
    }
    assert {orgnr: r.vat_number for orgnr, r in found.items()} == {
        "998877660": "NO998877660MVA",
        "812345672": "NO812345672MVA",
        "911223341": None,
        "987654325": "NO987654325MVA",
        "923456783": None,
    }
    assert found["911223341"].extra["bankruptcy_date"] == date(2023, 10, 9)
    assert found["987654325"].extra["compulsory_liquidation"] is True

    cafe = found["998877660"]
    postal = cafe.address("postal")
    assert postal.care_of == "Regnskapshuset Vest AS"  # the "c/o" line, without "c/o"
    assert (postal.street, postal.po_box, postal.postal_code, postal.city) == (
        "Postboks 1234 Sentrum",
        "Postboks 1234 Sentrum",
        "5811",
        "BERGEN",
    )
    assert cafe.address("visiting").street == "Strandkaien 14"
    assert found["812345672"].address("visiting").street == "Kongens gate 3, 3. etasje"
    choir = found["923456783"]
    assert choir.company_form == "Forening/lag/innretning"
    assert choir.address("visiting") is None  # an association with a postal address only
    assert choir.city == "FREDRIKSTAD"


def test_an_empty_search_has_no_embedded_key_and_is_no_match(httpserver, provider):
    httpserver.expect_request(
        ENHETER, query_string={"navn": "zzyzx", "size": "20", "page": "0"}
    ).respond_with_json(load("enheter_navn_empty.json"))
    assert "_embedded" not in load("enheter_navn_empty.json")
    assert provider.search("zzyzx") == []
    assert len(httpserver.log) == 1


def test_a_deleted_unit_in_a_name_search_comes_last(httpserver, provider):
    body = load("enheter_navn_fjord.json")
    body["_embedded"]["enheter"].insert(0, load("enheter_975312461_deleted.json"))
    httpserver.expect_request(ENHETER).respond_with_json(body)
    records = provider.search("fjord")
    assert records[-1].business_id == "975312461"
    assert records[-1].status == STATUS_CEASED


def page_server(httpserver, total: int):
    """Serve ``total`` units in pages of the requested ``size`` (0-based ``page``)."""
    template = load("enheter_navn_fjord.json")["_embedded"]["enheter"][0]

    def handler(request: Request) -> Response:
        size, page = int(request.args["size"]), int(request.args["page"])
        start = page * size
        units = []
        for n in range(start, min(start + size, total)):
            unit = copy.deepcopy(template)
            unit["organisasjonsnummer"] = f"9{n:08d}"
            unit["navn"] = f"FJORD {n} AS"
            units.append(unit)
        body = {
            "_links": {"self": {"href": request.url}},
            "page": {
                "size": size,
                "totalElements": total,
                "totalPages": -(-total // size),
                "number": page,
            },
        }
        if units:
            body["_embedded"] = {"enheter": units}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(ENHETER).respond_with_handler(handler)


@pytest.mark.parametrize(
    ("limit", "expected_count", "expected_requests"),
    [
        (20, 20, [("20", "0")]),
        (100, 100, [("100", "0")]),
        (150, 150, [("100", "0"), ("100", "1")]),
        (400, 230, [("100", "0"), ("100", "1"), ("100", "2")]),
    ],
)
def test_pages_are_fetched_only_as_far_as_the_limit_needs(
    httpserver, provider, limit, expected_count, expected_requests
):
    page_server(httpserver, total=230)
    records = provider.search("fjord", limit=limit)
    assert len(records) == expected_count
    assert records[-1].name == f"FJORD {expected_count - 1} AS"
    assert [(r.args["size"], r.args["page"]) for r, _ in httpserver.log] == expected_requests


# -- network trouble ----------------------------------------------------------------------


def test_429_is_retried_then_the_answer_is_used(httpserver, provider):
    httpserver.expect_oneshot_request(f"{ENHETER}/923609016").respond_with_data(
        "", status=429, headers={"Retry-After": "0"}
    )
    serve_equinor(httpserver)
    assert [r.name for r in provider.search("923609016")] == ["EQUINOR ASA"]
    assert [response.status_code for _, response in httpserver.log] == [429, 200]


def test_a_long_retry_after_is_capped(httpserver, make_provider):
    provider = make_provider()
    provider.source.http.retry.retry_after_max = 0.1
    httpserver.expect_oneshot_request(ENHETER).respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request(ENHETER).respond_with_json(load("enheter_navn_empty.json"))
    started = time.monotonic()
    assert provider.search("fjord") == []
    assert time.monotonic() - started < 2


def test_429_after_the_retries_is_unavailable(httpserver, provider):
    httpserver.expect_request(ENHETER).respond_with_data("", status=429)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("fjord")
    assert str(caught.value).startswith(f"{REGISTRY} is receiving too many requests just now.")
    assert len(httpserver.log) == 3


def test_500_after_the_retries_is_unavailable(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/923609016").respond_with_json(
        {"status": 500, "error": "Internal Server Error"}, status=500
    )
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("923609016")
    assert str(caught.value) == (
        f"{REGISTRY} is having trouble just now. Try again later, or type the details by hand."
    )
    assert len(httpserver.log) == 3


def test_a_server_error_on_the_sub_unit_fallback_is_unavailable(httpserver, provider):
    httpserver.expect_request(f"{ENHETER}/973152351").respond_with_json(
        load("error_404_enhet.json"), status=404
    )
    httpserver.expect_request(f"{UNDERENHETER}/973152351").respond_with_data("", status=503)
    with pytest.raises(RegistryUnavailable):
        provider.search("973152351")


def test_a_slow_registry_times_out(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_TIMEOUT=0.2)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(
            json.dumps(load("enheter_navn_empty.json")), content_type="application/json"
        )

    httpserver.expect_request(ENHETER).respond_with_handler(slow)
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("fjord")
    assert str(caught.value) == (
        f"{REGISTRY} did not answer in time. Try again in a moment, or type the details by hand."
    )
    assert len(httpserver.log) <= 1


def test_malformed_json_is_unavailable(httpserver, provider):
    text = (DATA / "enheter_923609016.json").read_text(encoding="utf-8")
    httpserver.expect_request(f"{ENHETER}/923609016").respond_with_data(
        text[: len(text) // 2], content_type="application/json"
    )
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search("923609016")
    assert "sent an answer that could not be read" in str(caught.value)


def tampered(name, change):
    body = load(name)
    change(body)
    return body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (ENHETER, {"enheter": []}),
        (ENHETER, {"_embedded": {"enheter": {"organisasjonsnummer": "998877660"}}, "page": {}}),
        (ENHETER, {"_embedded": [], "page": {"totalPages": 1}}),
        (ENHETER, tampered("enheter_navn_fjord.json", lambda b: b["page"].update(totalPages="1"))),
        (
            ENHETER,
            tampered(
                "enheter_navn_fjord.json",
                lambda b: b["_embedded"]["enheter"][4].pop("organisasjonsnummer"),
            ),
        ),
        (
            ENHETER,
            tampered(
                "enheter_navn_fjord.json",
                lambda b: b["_embedded"]["enheter"][2].update(konkurs="ja"),
            ),
        ),
        (
            ENHETER,
            tampered(
                "enheter_navn_fjord.json",
                lambda b: b["_embedded"]["enheter"][1]["forretningsadresse"].update(
                    adresse="Kongens gate 3"
                ),
            ),
        ),
        (f"{ENHETER}/923609016", ["923609016", "EQUINOR ASA"]),
        (
            f"{ENHETER}/923609016",
            tampered("enheter_923609016.json", lambda b: b.update(slettedato="i fjor")),
        ),
        (
            f"{ENHETER}/923609016",
            tampered("enheter_923609016.json", lambda b: b.update(navn=None)),
        ),
    ],
    ids=[
        "no-embedded-no-page",
        "enheter-not-a-list",
        "embedded-not-an-object",
        "total-pages-not-a-number",
        "a-unit-without-number",
        "konkurs-not-a-boolean",
        "address-lines-not-a-list",
        "unit-is-a-list",
        "slettedato-not-a-date",
        "unit-without-name",
    ],
)
def test_an_unexpected_shape_is_unavailable_and_nothing_half_parsed_returns(
    httpserver, provider, path, body
):
    httpserver.expect_request(path).respond_with_json(body)
    query = "923609016" if path.endswith("923609016") else "fjord"
    with pytest.raises(RegistryUnavailable) as caught:
        provider.search(query)
    assert str(caught.value) == (
        f"{REGISTRY} sent an answer that could not be read. "
        "Try again later, or type the details by hand."
    )


def test_a_refused_query_is_a_registry_error(httpserver, provider):
    httpserver.expect_request(ENHETER).respond_with_json(load("error_400.json"), status=400)
    with pytest.raises(RegistryError) as caught:
        provider.search("fjord")
    assert not isinstance(caught.value, RegistryUnavailable)
    assert str(caught.value).startswith(REGISTRY)


# -- HTTP details, cache, data-source seam --------------------------------------------------


def test_requests_name_the_project_and_ask_for_json(httpserver, provider):
    serve_equinor(httpserver)
    provider.search("923609016")
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith(f"custreg-admin/{custreg_admin.__version__} ")
    assert "bizweb" in request.headers["User-Agent"]
    assert request.headers["Accept"] == "application/json"


def test_a_repeated_search_is_answered_from_the_cache(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=600)
    httpserver.expect_request(ENHETER).respond_with_json(load("enheter_navn_fjord.json"))
    serve_equinor(httpserver)
    assert provider.search("fjord") == provider.search("fjord")
    provider.search("NO 923 609 016 MVA")
    provider.search("923609016")  # another spelling of the same number: the same request
    assert [request.path for request, _ in httpserver.log] == [ENHETER, f"{ENHETER}/923609016"]


def test_not_found_answers_are_cached_too(httpserver, make_provider):
    provider = make_provider(CUSTREG_REGISTRY_CACHE_SECONDS=600)
    httpserver.expect_request(f"{ENHETER}/876543214").respond_with_json({}, status=404)
    httpserver.expect_request(f"{UNDERENHETER}/876543214").respond_with_json({}, status=404)
    assert provider.search("876543214") == provider.search("876543214") == []
    assert len(httpserver.log) == 2


def test_default_source_is_brreg():
    provider = BizwebProvider({})
    try:
        assert isinstance(provider.source, EnhetsregisteretSource)
        assert provider.source.http.base_url == "https://data.brreg.no/enhetsregisteret/api"
    finally:
        provider.close()


class LicensedSource:
    """A stand-in for a licensed Bizweb endpoint, named in CUSTREG_BIZWEB_SOURCE."""

    def __init__(self, config, *, provider_id, country):
        self.key = config["BIZWEB_API_KEY"]
        self.provider_id, self.country = provider_id, country
        self.closed = False

    def search_name(self, name, limit):
        record = CompanyRecord(self.provider_id, self.country, "923609016", f"{name} (licensed)")
        return [record][:limit]

    def lookup(self, orgnr):
        return [CompanyRecord(self.provider_id, self.country, orgnr, "LICENSED")]

    def close(self):
        self.closed = True


def test_a_licensed_source_can_be_configured(httpserver):
    provider = BizwebProvider(
        {"CUSTREG_BIZWEB_SOURCE": f"{__name__}:LicensedSource", "BIZWEB_API_KEY": "k"}
    )
    assert isinstance(provider.source, LicensedSource)
    assert [r.name for r in provider.search("equinor")] == ["equinor (licensed)"]
    assert [r.name for r in provider.search("NO923609016MVA")] == ["LICENSED"]
    provider.close()
    assert provider.source.closed
    assert httpserver.log == []


def test_a_wrongly_named_source_is_an_error():
    with pytest.raises(RegistryError):
        BizwebProvider({"CUSTREG_BIZWEB_SOURCE": "no-colon-here"})
