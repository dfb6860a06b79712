"""The registry plugin loader: real entry points, fakes, failures, restriction, the CLI."""

from __future__ import annotations

import logging
import textwrap
from importlib import metadata
from importlib.metadata import EntryPoint

import pytest

from custreg_admin import registries
from custreg_admin.registries import (
    ENTRY_POINT_GROUP,
    CompanyRecord,
    RegistryProvider,
    load_providers,
    loaded_providers,
)

# -- fakes the entry points below point at --------------------------------------------------


class FakeProvider(RegistryProvider):
    id = "fake"
    country = "SE"
    label = "Fake Swedish registry"
    closed = False

    def search(self, query, *, limit=20):
        return [CompanyRecord(self.id, self.country, "5560000000", query)][:limit]

    def close(self):
        self.closed = True


class OtherProvider(FakeProvider):
    id = "other"
    country = "DK"
    label = "Fake Danish registry"


class SameIdProvider(FakeProvider):
    label = "Another plugin that also calls itself fake"


class NotAProvider:
    id = "nope"


class IncompleteProvider(RegistryProvider):
    id = "incomplete"
    country = "SE"
    label = "Forgot to write search()"


class BadCountryProvider(FakeProvider):
    id = "badcountry"
    country = "Sweden"


class NoIdProvider(FakeProvider):
    id = ""


class MultilingualProvider(FakeProvider):
    id = "multi"
    label = {"en": "Swedish register", "fi": "Ruotsin kaupparekisteri", "no": "Svensk register"}


class EmptyLabelProvider(FakeProvider):
    id = "emptylabel"
    label = {"fi": ""}


class UnbuildableProvider(FakeProvider):
    id = "unbuildable"

    def __init__(self, config):
        raise RuntimeError("CUSTREG_UNBUILDABLE_KEY is not set")


def not_a_class():
    return FakeProvider


def ep(name: str, attribute: str, module: str = __name__) -> EntryPoint:
    return EntryPoint(name=name, value=f"{module}:{attribute}", group=ENTRY_POINT_GROUP)


@pytest.fixture
def broken_module(tmp_path, monkeypatch) -> str:
    """A plugin module that fails on import (it needs a package that is not installed)."""
    (tmp_path / "custreg_broken_plugin.py").write_text(
        textwrap.dedent(
            """
            import custreg_dependency_that_is_not_installed  # noqa: F401

            from custreg_admin.registries import RegistryProvider


            class BrokenProvider(RegistryProvider):
                id = "broken"
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "custreg_broken_plugin"


def entries(report):
    return {entry.name: entry for entry in report.entries}


def close_all(report):
    registries.close_providers(report)


# -- discovery through the real entry points --------------------------------------------------


def test_both_plugins_are_discovered_through_their_entry_points():
    report = load_providers({"CUSTREG_REGISTRIES": ""})
    try:
        found = entries(report)
        assert {"ytj", "bizweb"} <= set(found)
        ytj, bizweb = found["ytj"], found["bizweb"]
        assert ytj.ok and bizweb.ok
        assert (ytj.distribution, ytj.version) == (
            "custreg-registry-ytj",
            metadata.version("custreg-registry-ytj"),
        )
        assert (bizweb.distribution, bizweb.version) == (
            "custreg-registry-bizweb",
            metadata.version("custreg-registry-bizweb"),
        )
        assert (ytj.id, ytj.country, ytj.value) == ("ytj", "FI", "custreg_registry_ytj:YtjProvider")
        assert (bizweb.id, bizweb.country) == ("bizweb", "NO")
        assert "Finnish" in ytj.label and "Norwegian" in bizweb.label
        assert [p.id for p in report.for_country("fi")] == ["ytj"]
        assert [p.id for p in report.for_country("NO")] == ["bizweb"]
        assert report.failed == []
    finally:
        close_all(report)


def test_real_plugins_are_built_from_the_config():
    config = {
        "CUSTREG_REGISTRIES": "ytj,bizweb",
        "CUSTREG_YTJ_BASE_URL": "http://127.0.0.1:9/ytj",
        "CUSTREG_BIZWEB_BASE_URL": "http://127.0.0.1:9/brreg",
        "CUSTREG_REGISTRY_TIMEOUT": 1.5,
    }
    report = load_providers(config)
    try:
        providers = report.providers
        assert providers["ytj"].http.base_url == "http://127.0.0.1:9/ytj"
        assert providers["ytj"].http.timeout == (1.5, 1.5)
        assert providers["bizweb"].source.http.base_url == "http://127.0.0.1:9/brreg"
    finally:
        close_all(report)


# -- fakes through load_providers(config, entry_points=...) -----------------------------------


def test_a_fake_provider_is_loaded_and_built_with_the_config():
    config = {"CUSTREG_REGISTRIES": None, "X": 1}
    report = load_providers(config, entry_points=[ep("fake", "FakeProvider")])
    [entry] = report.entries
    assert entry.ok
    assert (entry.id, entry.country, entry.label) == ("fake", "SE", "Fake Swedish registry")
    assert entry.distribution is None and entry.version is None
    assert isinstance(entry.provider, FakeProvider)
    assert entry.provider.config is config
    assert report.providers["fake"].search("Volvo")[0].name == "Volvo"


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_load(broken_module, caplog):
    points = [ep("broken", "BrokenProvider", module=broken_module), ep("fake", "FakeProvider")]
    with caplog.at_level(logging.ERROR, logger="custreg_admin.registries"):
        report = load_providers({}, entry_points=points)
    found = entries(report)
    assert found["fake"].ok
    broken = found["broken"]
    assert not broken.ok
    assert broken.error.startswith("cannot be imported: ModuleNotFoundError")
    assert "custreg_dependency_that_is_not_installed" in broken.error
    assert broken.id is None
    assert report.failed == [broken]
    assert list(report.providers) == ["fake"]
    assert "broken" in caplog.text


def test_a_missing_attribute_is_an_import_failure():
    report = load_providers({}, entry_points=[ep("ghost", "NoSuchProvider")])
    assert report.entries[0].error.startswith("cannot be imported: AttributeError")


@pytest.mark.parametrize("attribute", ["NotAProvider", "not_a_class"])
def test_an_object_that_is_not_a_registry_provider_is_reported(attribute):
    report = load_providers({}, entry_points=[ep("odd", attribute), ep("fake", "FakeProvider")])
    found = entries(report)
    assert found["odd"].error == f"{__name__}:{attribute} is not a RegistryProvider subclass"
    assert found["fake"].ok


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("IncompleteProvider", "IncompleteProvider does not implement search"),
        ("BadCountryProvider", "country must be an ISO alpha-2 code"),
        ("NoIdProvider", "id must be a lowercase identifier"),
        ("EmptyLabelProvider", "label has no text for 'fi'"),
    ],
)
def test_an_unusable_provider_class_is_reported(attribute, message):
    report = load_providers({}, entry_points=[ep("bad", attribute)])
    assert message in report.entries[0].error
    assert report.providers == {}


def test_a_provider_that_cannot_be_built_is_reported():
    report = load_providers({}, entry_points=[ep("unbuildable", "UnbuildableProvider")])
    [entry] = report.entries
    assert entry.error == "cannot be built: RuntimeError: CUSTREG_UNBUILDABLE_KEY is not set"
    assert entry.provider_class is UnbuildableProvider


def test_a_duplicate_id_is_reported_and_the_first_plugin_keeps_it():
    points = [ep("fake_too", "SameIdProvider"), ep("fake", "FakeProvider")]
    report = load_providers({}, entry_points=points)
    found = entries(report)
    assert found["fake"].ok  # entry points load in name order: "fake" first
    assert found["fake_too"].error == (
        f"duplicate id 'fake': already provided by {__name__}:FakeProvider"
    )
    assert isinstance(report.providers["fake"], FakeProvider)
    assert not isinstance(report.providers["fake"], SameIdProvider)


# -- CUSTREG_REGISTRIES -----------------------------------------------------------------------


@pytest.fixture
def points(broken_module):
    return [
        ep("fake", "FakeProvider"),
        ep("other_entry_point", "OtherProvider"),
        ep("broken", "BrokenProvider", module=broken_module),
    ]


@pytest.mark.parametrize("wanted", [None, "", " , "])
def test_empty_restriction_loads_every_plugin(points, wanted):
    report = load_providers({"CUSTREG_REGISTRIES": wanted}, entry_points=points)
    assert set(entries(report)) == {"fake", "other_entry_point", "broken"}


@pytest.mark.parametrize(
    ("wanted", "loaded"),
    [
        ("fake", ["fake"]),
        ("other", ["other"]),  # by provider id
        ("other_entry_point", ["other"]),  # by entry-point name
        (" fake , other ", ["fake", "other"]),
        (["other", "fake"], ["fake", "other"]),
        ("nothing-by-this-name", []),
    ],
)
def test_restriction_by_id_or_entry_point_name(points, wanted, loaded):
    report = load_providers({"CUSTREG_REGISTRIES": wanted}, entry_points=points)
    assert sorted(report.providers) == loaded
    assert report.failed == []  # the broken plugin was not asked for


def test_a_broken_plugin_that_is_asked_for_is_reported(points):
    report = load_providers({"CUSTREG_REGISTRIES": "fake,broken"}, entry_points=points)
    assert [entry.name for entry in report.failed] == ["broken"]


# -- the app's providers ----------------------------------------------------------------------


def test_load_providers_uses_the_current_app_and_the_discovery_hook(app, monkeypatch):
    monkeypatch.setattr(registries, "discover_entry_points", lambda: [ep("fake", "FakeProvider")])
    with app.app_context():
        report = load_providers()
    assert report.providers["fake"].config is app.config


def test_the_app_keeps_one_set_of_providers_until_reloaded(app, monkeypatch):
    monkeypatch.setattr(registries, "discover_entry_points", lambda: [ep("fake", "FakeProvider")])
    with app.app_context():
        first = loaded_providers()
        assert loaded_providers() is first
        provider = first.providers["fake"]
        again = loaded_providers(reload=True)
    assert again is not first
    assert provider.closed
    assert loaded_providers(app) is again


# -- flask custreg plugins --------------------------------------------------------------------


def test_cli_lists_both_installed_plugins(app):
    result = app.test_cli_runner().invoke(args=["custreg", "plugins"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "custreg-registry-ytj" in lines["ytj"] and lines["ytj"].rstrip().endswith("loaded")
    assert "custreg-registry-bizweb" in lines["bizweb"]
    assert lines["bizweb"].rstrip().endswith("loaded")
    assert " FI " in lines["ytj"] and " NO " in lines["bizweb"]


def test_cli_exits_non_zero_when_a_plugin_failed(app, monkeypatch, broken_module):
    installed = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    broken = ep("broken", "BrokenProvider", module=broken_module)
    monkeypatch.setattr(registries, "discover_entry_points", lambda: [*installed, broken])
    result = app.test_cli_runner().invoke(args=["custreg", "plugins"])
    assert result.exit_code != 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "FAILED: cannot be imported: ModuleNotFoundError" in lines["broken"]
    assert lines["ytj"].rstrip().endswith("loaded")
    assert lines["bizweb"].rstrip().endswith("loaded")


def test_cli_says_when_no_plugin_is_installed(app, monkeypatch):
    monkeypatch.setattr(registries, "discover_entry_points", lambda: [])
    result = app.test_cli_runner().invoke(args=["custreg", "plugins"])
    assert result.exit_code == 0
    assert "No registry plugins installed." in result.output


# -- labels per language ------------------------------------------------------------------------


def test_a_label_given_per_language_is_shown_in_the_viewers_language(app, monkeypatch):
    monkeypatch.setattr(
        registries, "discover_entry_points", lambda: [ep("multi", "MultilingualProvider")]
    )
    with app.test_request_context():
        report = registries.loaded_providers(reload=True)
        try:
            assert report.providers["multi"]  # a mapping passes the loader's check
            assert MultilingualProvider.display_label("fi") == "Ruotsin kaupparekisteri"
            assert MultilingualProvider.display_label("nb") == "Svensk register"  # "no" is nb
            assert MultilingualProvider.display_label("sv") == "Swedish register"  # else English
            assert registries.registry_name("multi", "fi") == "Ruotsin kaupparekisteri"
            assert registries.registry_name("gone") == "gone"  # no longer installed: the id
            assert FakeProvider.display_label("fi") == "Fake Swedish registry"  # plain string
        finally:
            close_all(report)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "YTJ – Finnish Trade Register (PRH)"),
        ("fi", "YTJ – yritys- ja yhteisötietojärjestelmä (PRH)"),
    ],
)
def test_the_installed_plugins_name_themselves_in_the_viewers_language(app, language, expected):
    with app.test_request_context():
        assert registries.registry_name("ytj", language) == expected
        assert "ytj" not in registries.registry_name("bizweb", language).lower()
