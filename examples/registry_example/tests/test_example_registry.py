"""Tests of the example plugin, as a plugin author writes them: the provider on its own, the
entry point as installed (``pip install -e .`` first), and the plugin inside a custreg-admin app.
"""

from __future__ import annotations

import json
import re
from importlib import metadata

import pytest
from custreg_registry_example import ExampleEstonianRegistry

from custreg_admin import create_app
from custreg_admin.extensions import db
from custreg_admin.registries import (
    ENTRY_POINT_GROUP,
    STATUS_CEASED,
    STATUS_LIQUIDATION,
    CompanyRecord,
    RegistryError,
    RegistryUnavailable,
    load_providers,
)
from custreg_admin.services.users import create_user


@pytest.fixture
def registry():
    provider = ExampleEstonianRegistry({})
    yield provider
    provider.close()


# --- the provider --------------------------------------------------------------------------


def test_names_match_without_case_or_accents(registry):
    for query in ("Näidis", "naidis", "NAIDIS tarkvara", "  näidis   oü "):
        [record] = registry.search(query)
        assert record.name == "Näidis Tarkvara OÜ", query


@pytest.mark.parametrize(
    "query", ["17294365", "1729 4365", "EE104837564", "ee 104 837 564", "EE-104837564"]
)
def test_registry_codes_and_vat_numbers_in_any_spelling(registry, query):
    [record] = registry.search(query)
    assert (record.business_id, record.vat_number) == ("17294365", "EE104837564")


def test_a_record_is_complete_and_in_the_cards_terms(registry):
    [record] = registry.search("Näidis")
    assert isinstance(record, CompanyRecord)
    assert (record.source, record.country) == ("ee_example", "EE")
    assert (record.company_form, record.company_form_code) == ("Osaühing", "OÜ")
    visiting = record.address("visiting")
    assert (visiting.street, visiting.postal_code, visiting.city) == (
        "Narva mnt 7-12",
        "10117",
        "Tallinn",
    )
    assert record.industry_code == "62011"
    assert record.industry_names["en"] == "Custom software development"
    assert record.is_active and record.registered_on.year == 2015
    [unregistered] = registry.search("Saaremaa")
    assert unregistered.vat_number is None  # not VAT-registered: no VAT number made up


def test_active_companies_come_first_then_by_name(registry):
    names = [(r.name, r.status) for r in registry.search("oü")]
    assert names[-1] == ("Vana Veski Pagarid OÜ", STATUS_LIQUIDATION)
    assert [name for name, _ in names[:-1]] == sorted(name for name, _ in names[:-1])
    [ceased] = registry.search("Harju")
    assert ceased.status == STATUS_CEASED and ceased.ended_on is not None
    assert len(registry.search("oü", limit=2)) == 2
    assert registry.search("", limit=5) == [] and registry.search("oü", limit=0) == []


@pytest.mark.parametrize("query", ["17294366", "EE104837565", "1234"])
def test_a_mistyped_id_is_refused_without_searching(registry, query):
    with pytest.raises(RegistryError, match=re.escape(query)):
        registry.search(query)


def test_an_outage_is_registry_unavailable():
    provider = ExampleEstonianRegistry({"CUSTREG_EE_EXAMPLE_OFFLINE": "1"})
    with pytest.raises(RegistryUnavailable, match="does not answer"):
        provider.search("Näidis")


def test_another_data_file_and_a_broken_one(tmp_path):
    data = tmp_path / "companies.json"
    row = {
        "code": "13605673",
        "name": "Ainult Üks OÜ",
        "form": "Osaühing",
        "form_code": "OÜ",
        "registered": "2020-01-01",
        "address": {"street": "Pikk 1", "postal_code": "10123", "city": "Tallinn"},
    }
    data.write_text(json.dumps([row]), encoding="utf-8")
    provider = ExampleEstonianRegistry({"CUSTREG_EE_EXAMPLE_DATA": str(data)})
    assert [r.name for r in provider.search("ainult")] == ["Ainult Üks OÜ"]
    data.write_text(json.dumps([dict(row, code="13605674")]), encoding="utf-8")  # bad check digit
    with pytest.raises(ValueError):
        ExampleEstonianRegistry({"CUSTREG_EE_EXAMPLE_DATA": str(data)})


# --- the entry point, as installed ---------------------------------------------------------


def test_the_entry_point_is_installed_and_loads():
    [entry_point] = [
        ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == "ee_example"
    ]
    assert entry_point.load() is ExampleEstonianRegistry
    report = load_providers({"CUSTREG_REGISTRIES": "ee_example"})
    [entry] = report.entries
    assert entry.ok and entry.distribution == "custreg-registry-example"
    assert entry.version == metadata.version("custreg-registry-example")
    assert [p.id for p in report.for_country("EE")] == ["ee_example"]


# --- in a custreg-admin app -----------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path / 'plugin.db'}",
            "CUSTREG_SECRET_KEY": "test",
            "CUSTREG_REGISTRIES": "ee_example",
        }
    )
    with app.app_context():
        db.create_all()
        create_user("admin@example.com", "Admin", "plugin-test-password", role="admin")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_flask_custreg_plugins_lists_it(app):
    result = app.test_cli_runner().invoke(args=["custreg", "plugins"])
    assert result.exit_code == 0, result.output
    assert re.search(r"ee_example\s+EE .*custreg-registry-example 1\.0\.0\s+loaded", result.output)


def test_the_customer_forms_magnifier_finds_its_companies(app):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/admin/login",
        data={
            "email": "admin@example.com",
            "password": "plugin-test-password",
            "csrf_token": token,
        },
    )
    answer = client.get("/admin/customers/registry/search/?country=EE&q=naidis&format=json")
    assert answer.status_code == 200
    assert [r["name"] for r in answer.get_json()["results"]] == ["Näidis Tarkvara OÜ"]
    form = client.get("/admin/customers/new/").get_data(as_text=True)
    assert "Estonian business register (example data)" in form
