"""The Bizweb provider: Norwegian companies by name or organisation number.

The data comes from a :class:`~custreg_registry_bizweb.sources.CompanySource`; by default
Brønnøysund's open Enhetsregisteret API (see :mod:`custreg_registry_bizweb.sources`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.no import orgnr as no_orgnr

from custreg_admin.registries import (
    STATUS_CEASED,
    CompanyRecord,
    RegistryError,
    RegistryProvider,
)

from .sources import MAX_LIMIT, CompanySource, make_source

_ID_SHAPE = re.compile(r"(?:NO)?(\d{9})(?:MVA)?")


def orgnr_in(query: str) -> str | None:
    """The organisation number that ``query`` spells (``923609016``), or ``None`` for a name.

    Accepts ``923609016``, ``923 609 016``, ``NO923609016MVA``, ``NO 923 609 016 MVA`` and
    ``923609016MVA``. Raises :class:`RegistryError` for something that looks like an
    organisation number but is not a valid one.
    """
    compact = re.sub(r"[\s.\-]", "", query).upper()
    match = _ID_SHAPE.fullmatch(compact)
    if not match:
        return None
    try:
        return no_orgnr.validate(match.group(1))
    except ValidationError as error:
        why = (
            "its check digit does not match"
            if isinstance(error, InvalidChecksum)
            else "it does not have the form of one"
        )
        raise RegistryError(
            f"“{query.strip()}” is not a valid Norwegian organisation number or VAT number: "
            f"{why}. Examples: 923609016, NO923609016MVA."
        ) from error


class BizwebProvider(RegistryProvider):
    """Norwegian companies (Bizweb), read from Brønnøysund's Enhetsregisteret."""

    id = "bizweb"
    country = "NO"
    label = {
        "en": "Bizweb – Norwegian companies (Brreg)",
        "fi": "Bizweb – norjalaiset yritykset (Brreg)",
        "nb": "Bizweb – norske virksomheter (Brreg)",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.source: CompanySource = make_source(config, provider_id=self.id, country=self.country)

    def close(self) -> None:
        self.source.close()

    def search(self, query: str, *, limit: int = 20) -> list[CompanyRecord]:
        query = (query or "").strip()
        limit = min(int(limit), MAX_LIMIT)
        if not query or limit <= 0:
            return []
        orgnr = orgnr_in(query)
        if orgnr:
            return self.source.lookup(orgnr)[:limit]
        records = self.source.search_name(query, limit)
        # Companies still in business first; the registry's order (best match) otherwise.
        return sorted(records, key=lambda r: r.status == STATUS_CEASED)
