"""A fake Finnish business registry, registered through the plugin entry-point hook.

The browser tests never reach a real registry: :func:`entry_points` stands in for
``custreg_admin.registries.discover_entry_points`` and names :class:`FakeRegistry`.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

from custreg_admin.registries import (
    ENTRY_POINT_GROUP,
    CompanyRecord,
    RegistryAddress,
    RegistryProvider,
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
        RegistryAddress("postal", "PL 226", "00045", "NOKIA GROUP", "FI"),
    ),
    industry_code="26300",
    industry_name="Viestintälaitteiden valmistus",
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


class FakeRegistry(RegistryProvider):
    id = "fake"
    country = "FI"
    label = "Fake Finnish registry"
    records = (ACME, ACME_LOGISTICS)

    def search(self, query, *, limit=20):
        q = query.replace("-", "").replace(" ", "").upper().removeprefix("FI").lower()
        return [
            record
            for record in self.records
            if q in record.name.lower().replace(" ", "") or q == record.business_id.replace("-", "")
        ][:limit]


def entry_points() -> list[EntryPoint]:
    return [EntryPoint(name="fake", value=f"{__name__}:FakeRegistry", group=ENTRY_POINT_GROUP)]
