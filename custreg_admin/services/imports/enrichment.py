"""Optional registry enrichment: rows with a Finnish or Norwegian business ID get their missing
name, VAT number, visiting and postal address and industry from that country's registry plugin
(:mod:`custreg_admin.services.registry_search`, under the plugins' own deadline, rate limits
and cache). What the registry gave is noted on the row. When the registry is down, the import
goes on without enrichment for the rest of the file and the review says so.
"""

from __future__ import annotations

from typing import Any

from ...errors import DomainError, InvalidIdentifier
from ...i18n import gettext
from ...registries import CompanyRecord, RegistryError, RegistryUnavailable
from ..business_ids import SUPPORTED_COUNTRIES, country_of, normalise_identifiers
from ..labels import ADDRESS_KIND_LABELS
from ..registry_search import find_record, match_industry, prefill_from, providers_for

_PARTS = ("street", "postal_code", "city", "country")


class Enricher:
    """Called with a row's cells (field -> text) before the row is checked; fills the empty
    ones in place and returns notes for the review."""

    def __init__(self) -> None:
        self.down: str | None = None  # the registry's message once it failed
        self.records: dict[str, CompanyRecord | None] = {}
        self.filled_rows = 0

    def _record(self, country: str, business_id: str) -> tuple[CompanyRecord | None, str | None]:
        if business_id in self.records:
            return self.records[business_id], None
        providers = providers_for(country)
        if not providers:
            return None, None
        try:
            record = find_record(providers[0].id, business_id)
        except RegistryUnavailable as error:
            self.down = str(error)
            return None, None
        except (RegistryError, DomainError):
            record = None
        self.records[business_id] = record
        return record, providers[0].label

    def __call__(self, cells: dict[str, str]) -> list[str]:
        if self.down is not None:
            return []
        country = (cells.get("country") or "").upper() or country_of(cells.get("business_id"))
        if country not in SUPPORTED_COUNTRIES:
            return []
        try:
            ids = normalise_identifiers(country, cells.get("business_id"), None, derive_vat=False)
        except InvalidIdentifier:
            return []  # the check of the row names the problem
        record, label = self._record(country, ids.business_id or "")
        if self.down is not None:
            return [gettext("Registry not reached: %(error)s", error=self.down)]
        if record is None:
            return []
        filled = _fill(cells, record)
        if not filled:
            return []
        self.filled_rows += 1
        return [
            gettext(
                "From %(registry)s: %(fields)s.",
                registry=label or record.source,
                fields=", ".join(filled),
            )
        ]

    def review_notes(self) -> list[str]:
        if self.down is not None:
            return [
                gettext(
                    "The registry could not be reached (%(error)s); the import goes on without "
                    "enrichment from there on.",
                    error=self.down,
                )
            ]
        return []


def _fill(cells: dict[str, str], record: CompanyRecord) -> list[str]:
    prefill = prefill_from(record)
    filled: list[str] = []

    def put(name: str, value: Any, label: str) -> None:
        if value and not cells.get(name):
            cells[name] = str(value)
            if label not in filled:
                filled.append(label)

    put("name", prefill.name, gettext("name"))
    put("vat_number", prefill.vat_number, gettext("VAT number"))
    for address in prefill.addresses:
        kind = address.kind
        if any(cells.get(f"{kind}_{p}") for p in _PARTS):
            continue
        label = gettext("%(kind)s address", kind=str(ADDRESS_KIND_LABELS[kind]).lower())
        for part in _PARTS:
            put(f"{kind}_{part}", getattr(address, part), label)
    if not cells.get("industry") and not cells.get("industry_code"):
        industry = match_industry(record.industry_code, [record.industry_name or ""])
        if industry is not None:
            put("industry", industry.name, gettext("industry"))
    return filled
