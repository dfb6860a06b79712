"""The YTJ provider: searches PRH's open data API v3 and maps its companies to CompanyRecords.

``GET {base}/companies?businessId=0112038-9`` for a business ID or VAT number (typed in any
usual spelling), else ``GET {base}/companies?name=...``. The API answers fixed pages of 100
companies (``page=2``, ``page=3``... for the next ones) with ``totalResults``; the provider reads
only as many pages as ``limit`` needs.

What the codes mean (PRH's code lists):

- ``names[].type``: ``1`` the trade name (main name); ``2``/``3`` parallel and auxiliary names.
  The current name has no ``endDate``.
- ``addresses[].type``: ``1`` visiting address, ``2`` postal address. ``postOffices[]`` gives the
  post office in several languages: ``languageCode`` ``1`` Finnish, ``2`` Swedish, ``3`` English.
- ``registeredEntries[].register``: ``1`` Trade Register, ``4`` Tax Administration, ``5``
  prepayment register, ``6`` VAT register, ``7`` employer register. An entry without ``endDate``
  is in force.
- ``tradeRegisterStatus``: ``1`` registered, ``4`` ceased (other values: not ceased).
- ``companySituations[].type``: ``KONK`` bankruptcy, ``SELTILA`` liquidation, ``SANE``
  restructuring (the company stays active); in force while it has no ``endDate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fi import ytunnus

from custreg_admin.registries import (
    STATUS_ACTIVE,
    STATUS_BANKRUPT,
    STATUS_CEASED,
    STATUS_LIQUIDATION,
    CompanyRecord,
    RegistryAddress,
    RegistryError,
    RegistryProvider,
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

DEFAULT_BASE_URL = "https://avoindata.prh.fi/opendata-ytj-api/v3"
#: The registry as messages name it, per UI language (see docs/registry-plugins.md).
REGISTRY_NAME = {
    "en": "The Finnish Trade Register (YTJ)",
    "fi": "Yritys- ja yhteisötietojärjestelmä YTJ",
    "nb": "Det finske foretaksregisteret (YTJ)",
}
PAGE_SIZE = 100  # fixed by the API
MAX_LIMIT = 1000  # at most 10 pages for one search

LANGUAGES = {"1": "fi", "2": "sv", "3": "en"}
LANGUAGE_PREFERENCE = ("fi", "en", "sv")
NAME_TYPE_MAIN = "1"
ADDRESS_KINDS = {"1": "visiting", "2": "postal"}
REGISTER_VAT = "6"
TRADE_REGISTER_CEASED = frozenset({"4"})
SITUATION_BANKRUPTCY = "KONK"
SITUATION_LIQUIDATION = "SELTILA"

_ID_SHAPE = re.compile(r"(?:FI)?\d{6,8}")
_PO_BOX_PREFIX = re.compile(r"(?i)^(pl|pb|p\.?\s?o\.?\s?box|postilokero)\b")
_CARE_OF_PREFIX = re.compile(r"(?i)^c/o\s*")


def business_id_in(query: str) -> str | None:
    """The business ID that ``query`` spells (``0112038-9``), or ``None`` when it is a name.

    Accepts ``0112038-9``, ``01120389``, ``FI01120389``, ``FI 0112038-9`` and an ID whose
    leading zero was left out (``112038-9``). Raises :class:`RegistryError` for something that
    looks like an ID but is not a valid one.
    """
    compact = re.sub(r"[\s.\-]", "", query).upper()
    if not _ID_SHAPE.fullmatch(compact):
        return None
    digits = compact.removeprefix("FI").zfill(8)
    try:
        return ytunnus.format(ytunnus.validate(digits))
    except ValidationError as error:
        why = (
            "its check digit does not match"
            if isinstance(error, InvalidChecksum)
            else "it does not have the form of one"
        )
        raise RegistryError(
            f"“{query.strip()}” is not a valid Finnish business ID or VAT number: {why}. "
            "Examples: 0112038-9, FI01120389."
        ) from error


class YtjProvider(RegistryProvider):
    """Finnish companies from PRH's YTJ open data (the Trade Register and the tax registers)."""

    id = "ytj"
    country = "FI"
    label = {
        "en": "YTJ – Finnish Trade Register (PRH)",
        "fi": "YTJ – yritys- ja yhteisötietojärjestelmä (PRH)",
        "nb": "YTJ – det finske foretaksregisteret (PRH)",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.http = RegistryHttpClient.from_config(
            config,
            registry_name=REGISTRY_NAME,
            base_url_key="CUSTREG_YTJ_BASE_URL",
            default_base_url=DEFAULT_BASE_URL,
            provider_id=self.id,
        )

    def close(self) -> None:
        self.http.close()

    def search(self, query: str, *, limit: int = 20) -> list[CompanyRecord]:
        query = (query or "").strip()
        limit = min(int(limit), MAX_LIMIT)
        if not query or limit <= 0:
            return []
        business_id = business_id_in(query)
        if business_id:
            companies = self._companies({"businessId": business_id}, limit)
        else:
            companies = self._companies({"name": query}, limit)
        with self.http.parsing():
            records = [
                company_record(company, f"companies[{i}]") for i, company in enumerate(companies)
            ]
        # Companies still in business first; the registry's order otherwise.
        records.sort(key=lambda r: r.status == STATUS_CEASED)
        return records

    def _companies(self, params: dict[str, str], limit: int) -> list[Any]:
        """The raw company objects of as many pages as ``limit`` needs."""
        found: list[Any] = []
        page = 1
        while True:
            query = dict(params, page=str(page)) if page > 1 else params
            answer = self.http.get_json("/companies", query, accept_statuses=(404,))
            if answer.status == 404:  # an unknown business ID, on some API versions
                break
            with self.http.parsing():
                body = expect(answer.data, dict, "answer")
                total = required(body, "totalResults", int, "answer")
                companies = optional(body, "companies", list, "answer")
                if companies is None:
                    if total:
                        raise UnexpectedAnswer("answer.companies is missing")
                    companies = []
            found.extend(companies)
            if len(found) >= limit or not companies or page * PAGE_SIZE >= total:
                break
            page += 1
        return found[:limit]


# -- mapping ----------------------------------------------------------------------------------


def company_record(company: Any, what: str = "company") -> CompanyRecord:
    """One YTJ company object as a :class:`CompanyRecord` (raises on an unexpected shape)."""
    expect(company, dict, what)
    business = required(company, "businessId", dict, what)
    business_id = required(business, "value", str, f"{what}.businessId")
    business_id = business_id.strip()
    if not business_id:
        raise UnexpectedAnswer(f"{what}.businessId.value is empty")

    form_code, form_names = _company_form(company, what)
    industry_code, industry_names = _business_line(company, what)
    situations = _situations(company, what)
    trade_register_status = _code(company.get("tradeRegisterStatus"), f"{what}.tradeRegisterStatus")
    ended_on = iso_date(company.get("endDate"), f"{what}.endDate")
    website = optional(company, "website", (dict, str), what)
    if isinstance(website, dict):
        website = text(website, "url", f"{what}.website")
    elif website is not None:
        website = website.strip() or None
    eu_id = optional(company, "euId", dict, what)

    return CompanyRecord(
        source=YtjProvider.id,
        country=YtjProvider.country,
        business_id=business_id,
        name=_main_name(company, what),
        vat_number=_vat_number(company, business_id, what),
        company_form=_preferred(form_names),
        company_form_code=form_code,
        status=_status(ended_on, trade_register_status, situations),
        addresses=_addresses(company, what),
        industry_code=industry_code,
        industry_name=_preferred(industry_names),
        industry_names=industry_names,
        website=website,
        registered_on=iso_date(company.get("registrationDate"), f"{what}.registrationDate")
        or iso_date(business.get("registrationDate"), f"{what}.businessId.registrationDate"),
        ended_on=ended_on,
        extra={
            "trade_register_status": trade_register_status,
            "business_id_status": _code(company.get("status"), f"{what}.status"),
            "situations": tuple(sorted(situations)),
            "company_form_names": form_names,
            "eu_id": text(eu_id, "value", f"{what}.euId") if eu_id else None,
        },
    )


def _code(value: Any, what: str) -> str | None:
    """A code that the API writes as a string (or, now and then, a number)."""
    if value is None or value == "":
        return None
    return str(expect(value, (str, int), what)).strip()


def _objects(company: Mapping[str, Any], key: str, what: str) -> list[tuple[str, dict]]:
    """The objects of an optional list field, each with its path for error messages."""
    items = optional(company, key, list, what, [])
    return [
        (f"{what}.{key}[{i}]", expect(item, dict, f"{what}.{key}[{i}]"))
        for i, item in enumerate(items)
    ]


def _in_force(item: Mapping[str, Any], what: str) -> bool:
    return iso_date(item.get("endDate"), f"{what}.endDate") is None


def _descriptions(item: Mapping[str, Any], what: str) -> dict[str, str]:
    """``descriptions[]`` as ``{"fi": ..., "sv": ..., "en": ...}``."""
    found: dict[str, str] = {}
    for path, description in _objects(item, "descriptions", what):
        language = _code(description.get("languageCode"), f"{path}.languageCode")
        value = text(description, "description", path)
        if language and value:
            found.setdefault(LANGUAGES.get(language, language), value)
    return found


def _preferred(names: Mapping[str, str]) -> str | None:
    for language in LANGUAGE_PREFERENCE:
        if names.get(language):
            return names[language]
    return next(iter(names.values()), None)


def _newest_first(items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Version 1 (the current one in PRH's data) first, then the newest registration."""
    by_date = sorted(
        items, key=lambda pair: str(pair[1].get("registrationDate") or ""), reverse=True
    )
    return sorted(by_date, key=lambda pair: pair[1].get("version") not in (1, "1"))


def _main_name(company: Mapping[str, Any], what: str) -> str:
    names = _objects(company, "names", what)
    main = [(p, n) for p, n in names if _code(n.get("type"), f"{p}.type") == NAME_TYPE_MAIN]
    current = [(p, n) for p, n in main if _in_force(n, p)]
    candidates = _newest_first(current) or sorted(
        main, key=lambda pair: str(pair[1].get("endDate") or ""), reverse=True
    )
    candidates = candidates or _newest_first([(p, n) for p, n in names if _in_force(n, p)])
    candidates = candidates or names
    for path, name in candidates:
        value = text(name, "name", path)
        if value:
            return value
    raise UnexpectedAnswer(f"{what}.names has no name")


def _company_form(company: Mapping[str, Any], what: str) -> tuple[str | None, dict[str, str]]:
    forms = [(p, f) for p, f in _objects(company, "companyForms", what) if _in_force(f, p)]
    for path, form in _newest_first(forms):
        return _code(form.get("type"), f"{path}.type"), _descriptions(form, path)
    return None, {}


def _business_line(company: Mapping[str, Any], what: str) -> tuple[str | None, dict[str, str]]:
    line = optional(company, "mainBusinessLine", dict, what)
    if not line:
        return None, {}
    path = f"{what}.mainBusinessLine"
    return _code(line.get("type"), f"{path}.type"), _descriptions(line, path)


def _vat_number(company: Mapping[str, Any], business_id: str, what: str) -> str | None:
    """``FI`` + the business ID's digits, when the VAT register (6) has an entry in force."""
    for path, entry in _objects(company, "registeredEntries", what):
        if _code(entry.get("register"), f"{path}.register") == REGISTER_VAT and _in_force(
            entry, path
        ):
            return "FI" + re.sub(r"\D", "", business_id)
    return None


def _situations(company: Mapping[str, Any], what: str) -> set[str]:
    """The codes of the company situations in force (KONK, SELTILA, SANE)."""
    found: set[str] = set()
    for path, situation in _objects(company, "companySituations", what):
        code = _code(situation.get("type"), f"{path}.type")
        if code and _in_force(situation, path):
            found.add(code.upper())
    return found


def _status(ended_on: Any, trade_register_status: str | None, situations: set[str]) -> str:
    if ended_on is not None or trade_register_status in TRADE_REGISTER_CEASED:
        return STATUS_CEASED
    if SITUATION_BANKRUPTCY in situations:
        return STATUS_BANKRUPT
    if SITUATION_LIQUIDATION in situations:
        return STATUS_LIQUIDATION
    return STATUS_ACTIVE


def _addresses(company: Mapping[str, Any], what: str) -> tuple[RegistryAddress, ...]:
    """The current visiting and postal address (the first of each type)."""
    found: dict[str, RegistryAddress] = {}
    for path, item in _objects(company, "addresses", what):
        kind = ADDRESS_KINDS.get(_code(item.get("type"), f"{path}.type") or "")
        if kind is None or kind in found:
            continue
        address = _address(item, kind, path)
        if address is not None:
            found[kind] = address
    return tuple(found[kind] for kind in ("visiting", "postal") if kind in found)


def _address(item: Mapping[str, Any], kind: str, path: str) -> RegistryAddress | None:
    street = text(item, "street", path)
    street_line = None
    if street:
        apartment = "".join(
            part
            for part in (text(item, "apartmentNumber", path), text(item, "apartmentIdSuffix", path))
            if part
        )
        parts = (
            street,
            text(item, "buildingNumber", path),
            text(item, "entrance", path),
            apartment,
        )
        street_line = " ".join(part for part in parts if part)
    box = text(item, "postOfficeBox", path)
    box_line = None
    if box:
        box_line = box if _PO_BOX_PREFIX.match(box) else f"PL {box}"
    free_line = text(item, "freeAddressLine", path)
    if kind == "postal":
        line = box_line or street_line or free_line
    else:
        line = street_line or box_line or free_line
    care_of = text(item, "co", path)
    if care_of:
        care_of = _CARE_OF_PREFIX.sub("", care_of).strip() or None
    postal_code = text(item, "postCode", path)
    city = _post_office(item, path)
    if not (line or postal_code or city):
        return None
    country = text(item, "country", path)
    if country is None:
        country = "FI"
    elif len(country) == 2 and country.isalpha():
        country = country.upper()
    else:
        country = None  # a country name or code the card cannot hold
    return RegistryAddress(
        kind=kind,
        street=line,
        postal_code=postal_code,
        city=city,
        country=country,
        care_of=care_of,
        po_box=box_line,
    )


def _post_office(item: Mapping[str, Any], path: str) -> str | None:
    """The Finnish-language post office; else the first one given."""
    cities: dict[str, str] = {}
    for office_path, office in _objects(item, "postOffices", path):
        city = text(office, "city", office_path)
        language = _code(office.get("languageCode"), f"{office_path}.languageCode") or ""
        if city:
            cities.setdefault(LANGUAGES.get(language, language), city)
    return cities.get("fi") or next(iter(cities.values()), None)
