"""custreg-admin registry plugin: a made-up Estonian business register with six companies.

It shows a plugin author the whole contract (``custreg_admin.registries``):

* a :class:`~custreg_admin.registries.RegistryProvider` subclass with ``id``, ``country`` and
  ``label``, built with the app's config mapping (settings are ``CUSTREG_*`` keys of its own);
* ``search(query, *, limit=20) -> list[CompanyRecord]`` taking a name or an ID in any usual
  spelling, refusing an ID with a wrong check digit (``RegistryError``) and turning the
  registry's trouble into ``RegistryUnavailable``, never half-parsed records;
* the optional ``close()`` hook.

A real plugin talks HTTP through :class:`custreg_admin.registries.http.RegistryHttpClient`
(timeouts, retries, cache); this one reads ``companies.json`` shipped in the package.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from stdnum.ee import kmkr, registrikood
from stdnum.exceptions import ValidationError

from custreg_admin.registries import (
    STATUS_ACTIVE,
    STATUSES,
    CompanyRecord,
    RegistryAddress,
    RegistryError,
    RegistryProvider,
    RegistryUnavailable,
)

__version__ = "1.0.0"
__all__ = ["ExampleEstonianRegistry", "__version__"]

#: Settings of this plugin (app config / environment): another data file, and an outage switch.
DATA_SETTING = "CUSTREG_EE_EXAMPLE_DATA"
OFFLINE_SETTING = "CUSTREG_EE_EXAMPLE_OFFLINE"
MAX_LIMIT = 100


class ExampleEstonianRegistry(RegistryProvider):
    """Estonian companies (made up) by name, registry code (``17294365``) or VAT number
    (``EE104837564``)."""

    id = "ee_example"
    country = "EE"
    label = "Estonian business register (example data)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        # Anything that goes wrong here is reported by the loader ("cannot be built") and the
        # app runs on without this registry.
        path = config.get(DATA_SETTING)
        if path:
            raw = Path(path).read_text(encoding="utf-8")
        else:
            raw = resources.files(__name__).joinpath("companies.json").read_text(encoding="utf-8")
        self.records = [_record(self.id, row) for row in json.loads(raw)]
        offline = config.get(OFFLINE_SETTING)
        self.offline = str(offline).lower() in ("1", "true", "yes", "on") if offline else False

    def search(self, query: str, *, limit: int = 20) -> list[CompanyRecord]:
        query = " ".join((query or "").split())
        limit = min(int(limit), MAX_LIMIT)
        if not query or limit <= 0:
            return []
        if self.offline:  # what a plugin raises on timeouts, 5xx, 429 or an answer it can't read
            raise RegistryUnavailable(
                "The Estonian business register does not answer just now; try again shortly."
            )
        code, vat = _identifier(query)
        if code:
            found = [r for r in self.records if r.business_id == code]
        elif vat:
            found = [r for r in self.records if r.vat_number == vat]
        else:
            words = _folded(query).split()
            found = [r for r in self.records if all(w in _folded(r.name) for w in words)]
        found.sort(key=lambda r: (r.status != STATUS_ACTIVE, _folded(r.name)))  # active first
        return found[:limit]

    def close(self) -> None:
        """Nothing to release; an HTTP plugin closes its session here."""


def _folded(text: str) -> str:
    """Case- and accent-insensitive form: ``Näidis`` and ``naidis`` match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _identifier(query: str) -> tuple[str | None, str | None]:
    """(registry code, VAT number) when the query is one, in any usual spelling.

    Eight digits are a registry code, ``EE`` and nine digits a VAT number; a wrong check digit
    is the user's typo, refused without searching.
    """
    compact = query.upper().replace(" ", "").replace("-", "").replace(".", "")
    digits = compact[2:] if compact.startswith("EE") else compact
    if not digits.isdigit():
        return None, None
    try:
        if len(digits) == 8 and not compact.startswith("EE"):
            return registrikood.validate(digits), None
        if len(digits) == 9:
            return None, "EE" + kmkr.validate(digits)
    except ValidationError:
        raise RegistryError(
            f"{query} is not a valid Estonian registry code or VAT number (check digit)."
        ) from None
    raise RegistryError(
        f"{query}: an Estonian registry code has 8 digits, a VAT number EE and 9 digits."
    )


def _record(source: str, row: Mapping[str, Any]) -> CompanyRecord:
    """One company of the data set as the customer card's terms; a bad row fails loudly."""
    status = row.get("status", STATUS_ACTIVE)
    if status not in STATUSES:
        raise ValueError(f"{row.get('name')}: unknown status {status!r}")
    address = row["address"]
    return CompanyRecord(
        source=source,
        country="EE",
        business_id=registrikood.validate(row["code"]),
        name=row["name"],
        vat_number=("EE" + kmkr.validate(row["vat"])) if row.get("vat") else None,
        company_form=row["form"],
        company_form_code=row["form_code"],
        status=status,
        addresses=(
            RegistryAddress(
                kind="visiting",
                street=address["street"],
                postal_code=address["postal_code"],
                city=address["city"],
                country="EE",
            ),
        ),
        industry_code=row.get("emtak"),
        industry_name=row.get("industry", {}).get("et"),
        industry_names=dict(row.get("industry", {})),
        website=row.get("website"),
        registered_on=date.fromisoformat(row["registered"]),
        ended_on=date.fromisoformat(row["ended"]) if row.get("ended") else None,
        extra={"example_data": True},
    )
