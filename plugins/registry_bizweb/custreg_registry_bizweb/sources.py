"""Where the Bizweb provider gets Norwegian company data from.

Bizweb publishes no open API; its company data comes from the Brønnøysund Register Centre,
whose Enhetsregisteret API is open. :class:`EnhetsregisteretSource` reads that API. A licensed
Bizweb endpoint can be plugged in later: write a class with the :class:`CompanySource` methods and
name it in ``CUSTREG_BIZWEB_SOURCE`` (``"package.module:ClassName"``); it is built with the app
config and the provider's id.

Enhetsregisteret (``{CUSTREG_BIZWEB_BASE_URL}``, default ``https://data.brreg.no/enhetsregisteret/api``):

- ``GET /enheter?navn=...&size=..&page=..`` searches main units (legal entities). Hits are in
  ``_embedded.enheter``; an empty result has no ``_embedded`` key at all. ``page`` holds
  ``size``, ``totalElements``, ``totalPages`` and the 0-based ``number``.
- ``GET /enheter/{orgnr}``: one main unit. A deleted unit still answers 200, with a
  ``slettedato`` (it is ceased, never active). 404: no such unit (then ``/underenheter/{orgnr}``
  is tried: the number may be a sub-unit's). 410: the unit was removed from the open data (for
  legal reasons); the registry withholds its data, so the search finds nothing (an empty list),
  as for 404.
- ``GET /underenheter/{orgnr}``: a sub-unit (a business's establishment). It has a
  ``beliggenhetsadresse`` (location) instead of a ``forretningsadresse``, and
  ``overordnetEnhet`` names its main unit. A sub-unit search returns the sub-unit and then its
  main unit, the legal entity one invoices (VAT registration belongs to the main unit, so the
  sub-unit's record has no VAT number).
- Whether a record is a main unit or a sub-unit is decided by where it came from (``/enheter``
  or ``/underenheter``), never by ``overordnetEnhet``: a main unit may have a parent too (most
  public bodies belong to a ministry or a municipality, a company may belong to a foundation).
  Such a main unit keeps its ``forretningsadresse`` (the visiting address) and its VAT number;
  its parent is kept as ``parent_business_id`` (a link, nothing of it is merged in).
- ``epostadresse``, ``telefon`` and ``mobil``: the unit's e-mail and phones (optional; the
  phone is ``telefon``, else ``mobil``).
- ``registrertIMvaregisteret``: VAT-registered; the VAT number is then ``NO{orgnr}MVA`` (never
  for a deleted unit or a sub-unit).
  ``konkurs``: bankrupt. ``underAvvikling`` (voluntary) and
  ``underTvangsavviklingEllerTvangsopplosning`` (compulsory): in liquidation.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from custreg_admin.registries import (
    STATUS_ACTIVE,
    STATUS_BANKRUPT,
    STATUS_CEASED,
    STATUS_LIQUIDATION,
    CompanyRecord,
    RegistryAddress,
    RegistryError,
)
from custreg_admin.registries.http import (
    RegistryHttpClient,
    UnexpectedAnswer,
    expect,
    iso_date,
    optional,
    required,
    text,
)

DEFAULT_BASE_URL = "https://data.brreg.no/enhetsregisteret/api"
#: The registry as messages name it, per UI language (see docs/registry-plugins.md).
REGISTRY_NAME = {
    "en": "The Norwegian company register (Brønnøysund)",
    "fi": "Norjan yritysrekisteri (Brønnøysund)",
    "nb": "Enhetsregisteret (Brønnøysund)",
}
PAGE_SIZE_MAX = 100
MAX_LIMIT = 1000

_CARE_OF = re.compile(r"(?i)^c/o\b\.?\s*")
_PO_BOX = re.compile(r"(?i)^(postboks|postb\.|pb\.?|boks)\s*\d")


@runtime_checkable
class CompanySource(Protocol):
    """What the Bizweb provider needs from a data source."""

    def search_name(self, name: str, limit: int) -> list[CompanyRecord]:
        """Main units whose name matches, best first; at most ``limit``."""

    def lookup(self, orgnr: str) -> list[CompanyRecord]:
        """The unit with this organisation number (and, for a sub-unit, its main unit)."""

    def close(self) -> None:
        """Release sessions."""


class EnhetsregisteretSource:
    """Brønnøysund's open Enhetsregisteret API (the data behind Bizweb)."""

    def __init__(self, config: Mapping[str, Any], *, provider_id: str, country: str) -> None:
        self.provider_id = provider_id
        self.country = country
        self.http = RegistryHttpClient.from_config(
            config,
            registry_name=REGISTRY_NAME,
            base_url_key="CUSTREG_BIZWEB_BASE_URL",
            default_base_url=DEFAULT_BASE_URL,
            provider_id=provider_id,
        )

    def close(self) -> None:
        self.http.close()

    def search_name(self, name: str, limit: int) -> list[CompanyRecord]:
        limit = min(limit, MAX_LIMIT)
        size = min(limit, PAGE_SIZE_MAX)
        units: list[Any] = []
        page = 0
        while True:
            answer = self.http.get_json("/enheter", {"navn": name, "size": size, "page": page})
            with self.http.parsing():
                body = expect(answer.data, dict, "answer")
                if "_embedded" not in body and "page" not in body:
                    raise UnexpectedAnswer("answer has neither _embedded nor page")
                embedded = optional(body, "_embedded", dict, "answer", {})
                found = optional(embedded, "enheter", list, "answer._embedded", [])
                paging = optional(body, "page", dict, "answer", {})
                total_pages = optional(paging, "totalPages", int, "answer.page", 1)
            units.extend(found)
            page += 1
            if len(units) >= limit or not found or page >= total_pages:
                break
        with self.http.parsing():
            return [
                main_unit_record(unit, self.provider_id, self.country, f"_embedded.enheter[{i}]")
                for i, unit in enumerate(units[:limit])
            ]

    def lookup(self, orgnr: str) -> list[CompanyRecord]:
        answer = self.http.get_json(f"/enheter/{orgnr}", accept_statuses=(404, 410))
        if answer.status == 200:
            with self.http.parsing():
                return [main_unit_record(answer.data, self.provider_id, self.country)]
        if answer.status == 410:
            return []
        answer = self.http.get_json(f"/underenheter/{orgnr}", accept_statuses=(404, 410))
        if answer.status != 200:
            return []
        with self.http.parsing():
            sub_unit = sub_unit_record(answer.data, self.provider_id, self.country)
        records = [sub_unit]
        parent = sub_unit.parent_business_id
        if parent and parent != orgnr:
            answer = self.http.get_json(f"/enheter/{parent}", accept_statuses=(404, 410))
            if answer.status == 200:
                with self.http.parsing():
                    records.append(main_unit_record(answer.data, self.provider_id, self.country))
        return records


def main_unit_record(unit: Any, source: str, country: str, what: str = "enhet") -> CompanyRecord:
    """A main unit (an answer of ``/enheter``) as a :class:`CompanyRecord`."""
    return unit_record(unit, source, country, what, sub_unit=False)


def sub_unit_record(
    unit: Any, source: str, country: str, what: str = "underenhet"
) -> CompanyRecord:
    """A sub-unit (an answer of ``/underenheter``) as a :class:`CompanyRecord`."""
    return unit_record(unit, source, country, what, sub_unit=True)


def unit_record(
    unit: Any, source: str, country: str, what: str = "enhet", *, sub_unit: bool = False
) -> CompanyRecord:
    """A main unit (*enhet*) or, with ``sub_unit``, a sub-unit (*underenhet*) as a
    :class:`CompanyRecord`. Which of the two it is comes from the endpoint that answered, not
    from the record: a main unit may name a parent (``overordnetEnhet``) too."""
    expect(unit, dict, what)
    orgnr = required(unit, "organisasjonsnummer", str, what).strip()
    if not orgnr:
        raise UnexpectedAnswer(f"{what}.organisasjonsnummer is empty")
    name = text(unit, "navn", what)
    if not name:
        raise UnexpectedAnswer(f"{what}.navn is missing")
    parent = text(unit, "overordnetEnhet", what)
    is_sub_unit = sub_unit

    form = optional(unit, "organisasjonsform", dict, what, {})
    industry = optional(unit, "naeringskode1", dict, what, {})
    industry_name = text(industry, "beskrivelse", f"{what}.naeringskode1")

    deleted_on = iso_date(unit.get("slettedato"), f"{what}.slettedato")
    closed_on = iso_date(unit.get("nedleggelsesdato"), f"{what}.nedleggelsesdato")
    bankrupt = optional(unit, "konkurs", bool, what, False)
    winding_up = optional(unit, "underAvvikling", bool, what, False)
    compulsory = optional(unit, "underTvangsavviklingEllerTvangsopplosning", bool, what, False)
    if deleted_on or closed_on:
        status = STATUS_CEASED
    elif bankrupt:
        status = STATUS_BANKRUPT
    elif winding_up or compulsory:
        status = STATUS_LIQUIDATION
    else:
        status = STATUS_ACTIVE

    vat_registered = optional(unit, "registrertIMvaregisteret", bool, what, False)
    visiting_key = "beliggenhetsadresse" if is_sub_unit else "forretningsadresse"
    addresses = tuple(
        address
        for address in (
            _address(unit, visiting_key, "visiting", what),
            _address(unit, "postadresse", "postal", what),
        )
        if address is not None
    )
    website = text(unit, "hjemmeside", what)
    email = text(unit, "epostadresse", what)
    landline = text(unit, "telefon", what)
    mobile = text(unit, "mobil", what)
    business_address = optional(unit, visiting_key, dict, what, {})

    return CompanyRecord(
        source=source,
        country=country,
        business_id=orgnr,
        name=name,
        vat_number=(
            f"NO{orgnr}MVA"
            if vat_registered and not is_sub_unit and status != STATUS_CEASED
            else None
        ),
        company_form=text(form, "beskrivelse", f"{what}.organisasjonsform"),
        company_form_code=text(form, "kode", f"{what}.organisasjonsform"),
        status=status,
        addresses=addresses,
        industry_code=text(industry, "kode", f"{what}.naeringskode1"),
        industry_name=industry_name,
        industry_names={"nb": industry_name} if industry_name else {},
        website=website,
        email=email,
        phone=landline or mobile,
        registered_on=iso_date(
            unit.get("registreringsdatoEnhetsregisteret"),
            f"{what}.registreringsdatoEnhetsregisteret",
        ),
        ended_on=deleted_on or closed_on,
        parent_business_id=parent,
        extra={
            "sub_unit": is_sub_unit,
            "mobile": mobile,
            "bankruptcy_date": iso_date(unit.get("konkursdato"), f"{what}.konkursdato"),
            "compulsory_liquidation": compulsory,
            "founded_on": iso_date(unit.get("stiftelsesdato"), f"{what}.stiftelsesdato"),
            "employees": optional(unit, "antallAnsatte", int, what),
            "municipality": text(business_address, "kommune", f"{what}.{visiting_key}"),
        },
    )


def _address(unit: Mapping[str, Any], key: str, kind: str, what: str) -> RegistryAddress | None:
    """``forretningsadresse`` / ``beliggenhetsadresse`` / ``postadresse`` for the card."""
    item = optional(unit, key, dict, what)
    if not item:
        return None
    path = f"{what}.{key}"
    lines = [
        expect(line, str, f"{path}.adresse[{i}]").strip()
        for i, line in enumerate(optional(item, "adresse", list, path, []))
    ]
    care_of = None
    po_box = None
    street_lines = []
    for line in filter(None, lines):
        if _CARE_OF.match(line):
            care_of = _CARE_OF.sub("", line).strip() or None
        elif _PO_BOX.match(line):
            po_box = line
        else:
            street_lines.append(line)
    street = ", ".join(street_lines) or None
    line = (po_box or street) if kind == "postal" else (street or po_box)
    postal_code = text(item, "postnummer", path)
    city = text(item, "poststed", path)
    if not (line or postal_code or city):
        return None
    country = text(item, "landkode", path)
    return RegistryAddress(
        kind=kind,
        street=line,
        postal_code=postal_code,
        city=city,
        country=country.upper() if country and len(country) == 2 else None,
        care_of=care_of,
        po_box=po_box,
    )


def make_source(config: Mapping[str, Any], *, provider_id: str, country: str) -> CompanySource:
    """The source ``CUSTREG_BIZWEB_SOURCE`` names: ``"brreg"`` (default) or ``"module:Class"``."""
    name = str(config.get("CUSTREG_BIZWEB_SOURCE") or "brreg").strip()
    if name in ("brreg", "enhetsregisteret"):
        return EnhetsregisteretSource(config, provider_id=provider_id, country=country)
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise RegistryError(
            f"CUSTREG_BIZWEB_SOURCE must be 'brreg' or 'package.module:ClassName', not {name!r}"
        )
    source_class = getattr(importlib.import_module(module_name), class_name)
    source = source_class(config, provider_id=provider_id, country=country)
    if not isinstance(source, CompanySource):
        raise RegistryError(f"{name} does not provide search_name(), lookup() and close()")
    return source
