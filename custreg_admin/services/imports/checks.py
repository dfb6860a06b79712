"""One row's checks, by the registry's own rules: business IDs and VAT numbers
(:func:`~custreg_admin.services.business_ids.normalise_identifiers`), e-invoicing addresses and
operators (:mod:`custreg_admin.rules.einvoice`), websites (:mod:`custreg_admin.rules.website`),
owners, industries, statuses and segments from the settings (:mod:`.lookups`), lengths. The
row's values and parts come back with its errors per cell; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app

from ...errors import InvalidIdentifier
from ...i18n import gettext
from ...models.customer import NOTES_MAX_LENGTH
from ...rules import einvoice
from ...rules.website import InvalidWebsite, normalise_website
from ..business_ids import normalise_identifiers
from .columns import ADDRESS_KINDS, ADDRESS_PARTS
from .lookups import Lookups
from .matching import Matcher

if TYPE_CHECKING:
    from .validation import Options

_LIMITS = {
    "name": 300, "website": 300, "email": 254, "phone": 50, "notes": NOTES_MAX_LENGTH,
    "street": 300, "postal_code": 20, "city": 100, "einvoice_address": 100,
    "einvoice_operator": 100, "contact_first_name": 100, "contact_last_name": 100,
    "contact_title": 200, "contact_email": 254, "contact_phone": 50, "contact_name": 201,
}  # fmt: skip
_DEFAULT_LIMIT = 300


def cells_of(row: list[str], headers: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    cells = {}
    for index, header in enumerate(headers):
        target = mapping.get(header)
        if target and index < len(row):
            text = row[index].strip()
            if text:
                cells[target] = text
    return cells


def _limit(name: str) -> int:
    return _LIMITS.get(name) or _LIMITS.get(name.split("_", 1)[-1], _DEFAULT_LIMIT)


class Checker:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.lookups = Lookups()
        self.matcher = Matcher()
        self.default_country = current_app.config.get("CUSTREG_DEFAULT_COUNTRY", "FI")
        self.new_settings: dict[str, set[str]] = {}
        #: the file has a VAT number column: an empty cell says "none", derive nothing
        self.vat_column = False

    def _new(self, value: Any) -> Any:
        if isinstance(value, tuple):
            self.new_settings.setdefault(value[0], set()).add(value[1])
        return value

    def row(self, cells: dict[str, str], result: Any) -> tuple[dict[str, Any], dict]:
        """Customer values and the row's contact, addresses, e-invoicing address."""
        errors = result.errors
        for name, text in cells.items():
            if len(text) > _limit(name):
                errors[name] = gettext(
                    "Too long: %(num)s characters, at most %(max)s.",
                    num=len(text),
                    max=_limit(name),
                )
        values: dict[str, Any] = {}
        for name in ("name", "website", "email", "phone", "notes"):
            if name in cells and name not in errors:
                values[name] = cells[name]
        if "number" in cells:
            text = cells["number"]
            if text.isdigit() and 0 < int(text) < 2**31:
                values["number"] = int(text)
            else:
                errors["number"] = gettext("A customer number is a positive whole number.")
        country = (cells.get("country") or "").upper()
        if country and (len(country) != 2 or not country.isalpha()):
            errors["country"] = gettext("Give the country as a two-letter code, such as FI or NO.")
            country = ""
        if "business_id" in cells or "vat_number" in cells:
            try:
                ids = normalise_identifiers(
                    country or self.default_country,
                    cells.get("business_id"),
                    cells.get("vat_number"),
                    infer_country=not country,
                    derive_vat=not self.vat_column,
                )
                values["business_id"], values["vat_number"] = ids.business_id, ids.vat_number
                country = country or ids.country or ""
            except InvalidIdentifier as error:
                errors[error.field] = str(error)
        if country:
            values["country"] = country
        if "website" in values:
            try:
                values["website"] = normalise_website(values["website"])
            except InvalidWebsite as error:
                errors["website"] = str(error)
                values.pop("website")
        for name in ("email",):
            if name in values and "@" not in values[name]:
                errors[name] = gettext("%(value)s is not an e-mail address.", value=values[name])
        lookups, create = self.lookups, self.options.create_settings
        if "owner" in cells:
            values["owner_id"], problem = lookups.owner(cells["owner"])
            if problem:
                errors["owner"] = problem
        if "industry" in cells or "industry_code" in cells:
            found, problem = lookups.industry(
                cells.get("industry", ""), cells.get("industry_code"), create
            )
            if problem:
                errors["industry" if "industry" in cells else "industry_code"] = problem
            else:
                values["industry_id"] = self._new(found)
        if "status" in cells:
            found, problem = lookups.status(cells["status"], create)
            if problem:
                errors["status"] = problem
            else:
                values["status_id"] = self._new(found)
        if "invoice_template" in cells:
            values["invoice_template_id"], problem = lookups.template(cells["invoice_template"])
            if problem:
                errors["invoice_template"] = problem
        if "vat_rate" in cells:
            found, problem = lookups.vat_rate(cells["vat_rate"], country or self.default_country)
            if problem:
                errors["vat_rate"] = problem
            values["vat_rate_id"] = found
        extra: dict[str, Any] = {"segments": [], "contact": None, "addresses": [], "einvoice": None}
        # a VAT number derived from the business ID completes a new customer, never an update
        extra["derived_vat"] = bool(values.get("vat_number")) and "vat_number" not in cells
        if "segments" in cells:
            found, problem = lookups.segment_list(cells["segments"], create)
            if problem:
                errors["segments"] = problem
            extra["segments"] = [self._new(s) for s in found]
        self._parts(cells, values, extra, errors, country)
        return {k: v for k, v in values.items() if v is not None}, extra

    def _parts(self, cells, values, extra, errors, country) -> None:
        for kind in ADDRESS_KINDS:
            parts = {p: cells.get(f"{kind}_{p}") for p in ADDRESS_PARTS}
            if any(parts[p] for p in ("street", "postal_code", "city")):
                parts["country"] = (parts["country"] or country or self.default_country).upper()[:2]
                extra["addresses"].append({"kind": kind, **parts})
        if "einvoice_address" in cells:
            owner = einvoice.Customer(country or self.default_country, values.get("business_id"))
            try:
                address = einvoice.normalise_address(cells["einvoice_address"], owner)
                operator = einvoice.normalise_operator(cells.get("einvoice_operator"))
                extra["einvoice"] = {"address": address, "operator": operator}
            except einvoice.EInvoiceProblem as error:
                errors["einvoice_address"] = str(error)
        contact = {k[8:]: cells.get(k) for k in (
            "contact_first_name", "contact_last_name", "contact_title", "contact_email",
            "contact_phone",
        )}  # fmt: skip
        if not contact["last_name"] and cells.get("contact_name"):
            first, _, last = cells["contact_name"].rpartition(" ")
            contact["first_name"], contact["last_name"] = first or contact["first_name"], last
        if any(contact.values()):
            if not contact["last_name"]:
                errors["contact_last_name"] = gettext("A contact needs a last name.")
            elif contact["email"] and "@" not in contact["email"]:
                errors["contact_email"] = gettext(
                    "%(value)s is not an e-mail address.", value=contact["email"]
                )
            else:
                extra["contact"] = contact
