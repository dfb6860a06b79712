"""A fake Finnish business registry, registered through the plugin entry-point hook.

Tests never reach a real registry: :func:`entry_points` stands in for
``custreg_admin.registries.discover_entry_points`` and names :class:`FakeRegistry` (or a
subclass of it with other records). ``FakeRegistry.down`` makes every search fail as an
unreachable registry would; ``FakeRegistry.calls`` lists the queries asked.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

from custreg_admin import registries
from custreg_admin.registries import (
    ENTRY_POINT_GROUP,
    CompanyRecord,
    RegistryAddress,
    RegistryProvider,
    RegistryUnavailable,
)

ACME = CompanyRecord(
    source="fake",
    country="FI",
    business_id="0112038-9",
    name="Acme Oyj",
    vat_number="FI01120389",
    company_form="Osakeyhtiö",
    addresses=(
        RegistryAddress("visiting", "Karakaari 7", "02610", "ESPOO", "FI"),
        RegistryAddress("postal", "PL 226", "00045", "NOKIA GROUP", "FI", care_of="Talous"),
    ),
    industry_code="26300",
    industry_name="Viestintälaitteiden valmistus",
    # as YTJ gives them (the tests' installation is English)
    industry_names={
        "fi": "Viestintälaitteiden valmistus",
        "sv": "Tillverkning av kommunikationsutrustning",
        "en": "Manufacture of communication equipment",
    },
    website="www.acme.example",
)
ACME_LOGISTICS = CompanyRecord(
    source="fake",
    country="FI",
    business_id="1927400-1",
    name="Acme Logistiikka Oy",
    vat_number="FI19274001",
    company_form="Osakeyhtiö",
    addresses=(
        RegistryAddress("visiting", "Satamakatu 3", "33200", "TAMPERE", "FI"),
        RegistryAddress("postal", "PL 88", "33101", "TAMPERE", "FI"),
    ),
    website="www.acmelogistiikka.example",
)


GONE = CompanyRecord(
    source="fake", country="FI", business_id="1572860-0", name="Gone Oy", status="bankrupt"
)


class FakeRegistry(RegistryProvider):
    id = "fake"
    country = "FI"
    label = "Fake Finnish registry"
    records: tuple[CompanyRecord, ...] = (ACME, ACME_LOGISTICS)
    down = False
    calls: list[str] = []

    def search(self, query, *, limit=20):
        type(self).calls.append(query)
        if type(self).down:
            raise RegistryUnavailable("The fake registry did not answer in time. Try again.")
        q = query.replace("-", "").replace(" ", "").upper().removeprefix("FI").lower()
        return [
            record
            for record in self.records
            if q in record.name.lower().replace(" ", "") or q == record.business_id.replace("-", "")
        ][:limit]


def entry_point(name: str, module: str, attribute: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{module}:{attribute}", group=ENTRY_POINT_GROUP)


def entry_points() -> list[EntryPoint]:
    return [entry_point("fake", __name__, "FakeRegistry")]


def install(monkeypatch) -> type[FakeRegistry]:
    """Make :class:`FakeRegistry` the one registry plugin, reachable and not yet asked anything."""
    monkeypatch.setattr(FakeRegistry, "down", False)
    monkeypatch.setattr(FakeRegistry, "calls", [])
    monkeypatch.setattr(registries, "discover_entry_points", entry_points)
    return FakeRegistry
