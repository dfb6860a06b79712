"""Industries from a registry pick are named in the installation's language (issue 17): the
registry's own name where it gives one in that language (YTJ: fi, sv, en), else the division's
official name from the shipped table (NACE Rev. 2 / TOL 2008 / SN2007), never an invented 5-digit
name. The records come from the plugins' recorded answers, parsed by the real plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custreg_admin.extensions import db
from custreg_admin.models import Industry
from custreg_admin.registries.testing import provider_factory
from custreg_admin.services import industry_names, registry_form, registry_search

PLUGINS = Path(__file__).parents[2] / "plugins"


def _recorded(plugin: str, name: str):
    return json.loads((PLUGINS / plugin / "tests" / "data" / name).read_text("utf-8"))


@pytest.fixture
def nokia(httpserver):
    """Nokia Oyj as YTJ's v3 API answers (main business line 70100 in fi, sv and en)."""
    ytj = pytest.importorskip("custreg_registry_ytj")
    httpserver.expect_request(
        "/ytj/companies", query_string={"businessId": "0112038-9"}
    ).respond_with_json(_recorded("registry_ytj", "companies_business_id_0112038-9.json"))
    with provider_factory(ytj.YtjProvider, CUSTREG_YTJ_BASE_URL=httpserver.url_for("/ytj")) as make:
        [record] = make().search("0112038-9")
    assert record.industry_code == "70100" and record.industry_names["en"]
    return record


@pytest.fixture
def equinor(httpserver):
    """Equinor ASA as Brønnøysund answers (06.100, Norwegian text only)."""
    bizweb = pytest.importorskip("custreg_registry_bizweb")
    httpserver.expect_request("/brreg/enheter/923609016").respond_with_json(
        _recorded("registry_bizweb", "enheter_923609016.json")
    )
    with provider_factory(
        bizweb.BizwebProvider, CUSTREG_BIZWEB_BASE_URL=httpserver.url_for("/brreg")
    ) as make:
        [record] = make().search("923609016")
    assert (record.industry_code, record.industry_names) == (
        "06.100",
        {"nb": "Utvinning av råolje"},
    )
    return record


def _offered(app_factory, locale: str, record) -> tuple[str | None, str | None, bool]:
    with app_factory(CUSTREG_DEFAULT_LOCALE=locale).app_context():
        prefill = registry_search.prefill_from(record)
        return prefill.industry_code, prefill.industry_name, prefill.industry_missing


def test_a_finnish_install_gets_a_norwegian_company_s_industry_in_finnish(
    app, app_factory, equinor
):
    assert _offered(app_factory, "fi", equinor) == (
        "06",
        "Raakaöljyn ja maakaasun tuotanto",  # TOL 2008's division 06
        True,
    )
    with app_factory(CUSTREG_DEFAULT_LOCALE="fi").test_request_context():
        fill = registry_form.form_fill(equinor)
    assert fill.fields["industry_suggestion"] == "06|Raakaöljyn ja maakaasun tuotanto"
    assert fill.industry_offer == "06 Raakaöljyn ja maakaasun tuotanto"


def test_an_english_install_gets_ytj_s_english_description(app, app_factory, nokia):
    assert _offered(app_factory, "en", nokia) == ("70100", "Activities of head offices", True)
    assert _offered(app_factory, "fi", nokia) == ("70100", "Pääkonttorien toiminta", True)


def test_without_a_name_in_the_language_the_division_is_named_never_the_5_digit_class(
    app, app_factory, nokia, equinor
):
    # YTJ has no Norwegian: SN2007's division 70
    assert _offered(app_factory, "nb", nokia) == (
        "70",
        "Hovedkontortjenester, administrativ rådgivning",
        True,
    )
    assert _offered(app_factory, "nb", equinor) == ("06.100", "Utvinning av råolje", True)
    assert _offered(app_factory, "en", equinor) == (
        "06",
        "Extraction of crude petroleum and natural gas",
        True,
    )
    # a code outside the classification is kept as the registry gave it
    assert industry_names.localised("00.000", {"nb": "Uoppgitt"}, "Uoppgitt", "fi") == (
        "00.000",
        "Uoppgitt",
    )


def test_an_industry_already_in_the_settings_wins(app, app_factory, equinor):
    fi_app = app_factory(CUSTREG_DEFAULT_LOCALE="fi")
    with fi_app.app_context():
        db.session.add(Industry(code="06.100", name="Öljyntuotanto (NO)"))
        db.session.add(Industry(code="06", name="Raakaöljyn ja maakaasun tuotanto"))
        db.session.commit()
        prefill = registry_search.prefill_from(equinor)
        matched = db.session.get(Industry, prefill.industry_id)
        assert (matched.code, prefill.industry_missing) == ("06.100", False)
        db.session.execute(db.delete(Industry).where(Industry.code == "06.100"))
        db.session.commit()
        prefill = registry_search.prefill_from(equinor)  # then the division's, by its code
        assert db.session.get(Industry, prefill.industry_id).code == "06"
        db.session.remove()


def test_the_table_has_every_section_and_division_in_three_languages():
    table = industry_names.classification()
    sections = [code for code in table if code.isalpha()]
    divisions = [code for code in table if code.isdigit()]
    assert sections == list("ABCDEFGHIJKLMNOPQRSTU")
    assert len(divisions) == 88 and all(len(code) == 2 for code in divisions)
    assert all(table[code][lang].strip() for code in table for lang in ("en", "fi", "nb"))
    assert table["62"] == {
        "en": "Computer programming, consultancy and related activities",
        "fi": "Ohjelmistot, konsultointi ja siihen liittyvä toiminta",
        "nb": "Tjenester tilknyttet informasjonsteknologi",
    }
