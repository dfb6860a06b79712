"""Business IDs and VAT numbers: validated and normalised per country with python-stdnum.

Finland: business ID (Y-tunnus) ``0112038-9`` and VAT number ``FI01120389``.
Norway: organisation number ``923609016`` and VAT number ``NO923609016MVA``.
For other countries the numbers are stored as given (trimmed).

Numbers may be typed the way people write them: with spaces, dots or dashes and with the
country's prefix (``NO 923 609 016``, ``FI 0112038-9``). The two countries' business IDs have
forms that never overlap (FI: seven digits, a dash and a check digit, or eight digits; NO: nine
digits with a mod-11 check digit), so a valid number tells its country: :func:`country_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.fi import alv as fi_vat
from stdnum.fi import ytunnus as fi_business_id
from stdnum.no import mva as no_vat
from stdnum.no import orgnr as no_business_id

from ..errors import InvalidIdentifier
from ..i18n import gettext, lazy_gettext

#: python-stdnum's reasons, in the user's language (stdnum writes them in English only).
_REASONS = {
    InvalidChecksum: lazy_gettext("The number's checksum or check digit is invalid."),
    InvalidComponent: lazy_gettext("One of the parts of the number are invalid or unknown."),
    InvalidFormat: lazy_gettext("The number has an invalid format."),
    InvalidLength: lazy_gettext("The number has an invalid length."),
}

SUPPORTED_COUNTRIES = ("FI", "NO")

_EXAMPLES = {
    "FI": ("0112038-9", "FI01120389"),
    "NO": ("923609016", "NO923609016MVA"),
}


@dataclass(frozen=True)
class Identifiers:
    business_id: str | None
    vat_number: str | None
    #: the country the numbers were checked for (the one asked, or the one inferred)
    country: str | None = None


_SEPARATORS = re.compile(r"[\s.]+")


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _without_prefix(country: str, value: str) -> str:
    """``value`` without spaces and dots, and without a leading country code (``NO 923 609
    016`` -> ``923609016``): people write the prefix, the business ID has none."""
    compact = _SEPARATORS.sub("", value)
    if compact[:2].upper() == country:
        compact = compact[2:]
    return compact


def _fi_business_id(value: str) -> str:
    return fi_business_id.format(fi_business_id.validate(_without_prefix("FI", value)))


def _fi_vat(value: str) -> str:
    return "FI" + fi_vat.validate(value)


def _no_business_id(value: str) -> str:
    value = _without_prefix("NO", value)
    if value[-3:].upper() == "MVA":  # the VAT number typed as the business ID
        value = value[:-3]
    return no_business_id.validate(value)


def _no_vat(value: str) -> str:
    return "NO" + no_vat.validate(value)


def _business_id_of_vat(country: str, vat: str) -> str:
    digits = vat[2:]
    if country == "FI":
        return fi_business_id.format(digits)
    return digits[:-3]  # NO: drop the MVA suffix


def _vat_of_business_id(country: str, business_id: str) -> str:
    if country == "FI":
        return "FI" + fi_business_id.compact(business_id)
    return f"NO{business_id}MVA"


def _reason(error: ValidationError) -> str:
    for kind, reason in _REASONS.items():
        if isinstance(error, kind):
            return str(reason)
    return str(error)


def _message(country: str, what: str, value: str, error: ValidationError) -> str:
    business_example, vat_example = _EXAMPLES[country]
    if what == "business ID":
        text = gettext(
            "%(value)s is not a valid %(country)s business ID: %(reason)s Example: %(example)s."
        )
        example = business_example
    else:
        text = gettext(
            "%(value)s is not a valid %(country)s VAT number: %(reason)s Example: %(example)s."
        )
        example = vat_example
    return text % {
        "value": repr(value),
        "country": country,
        "reason": _reason(error),
        "example": example,
    }


def country_of(business_id: str | None = None, vat_number: str | None = None) -> str | None:
    """The one supported country whose business ID / VAT number form (with its check digit)
    the numbers have; None when they fit none (or both: never, the forms do not overlap)."""
    if not _clean(business_id) and not _clean(vat_number):
        return None
    fits = []
    for country in SUPPORTED_COUNTRIES:
        try:
            _normalise(country, _clean(business_id), _clean(vat_number), derive_vat=False)
        except InvalidIdentifier:
            continue
        fits.append(country)
    return fits[0] if len(fits) == 1 else None


def normalise_identifiers(
    country: str | None,
    business_id: str | None,
    vat_number: str | None,
    *,
    derive_vat: bool = True,
    infer_country: bool = False,
) -> Identifiers:
    """Validate and normalise a business ID and a VAT number for ``country``.

    For FI and NO, each is written in its standard form, and a missing one is derived from the
    other (the VAT number only with ``derive_vat``: a registry that says a company is not
    VAT-registered knows better). Raises :class:`InvalidIdentifier` naming the field at fault;
    when the numbers are valid for another supported country, the message names it.

    With ``infer_country``, numbers that are not valid for ``country`` (or given without a
    country) but are valid for exactly one supported country are normalised for that country,
    which the result's ``country`` names (a Norwegian organisation number typed while the form
    still says FI).
    """
    country = (country or "").strip().upper()
    business_id, vat_number = _clean(business_id), _clean(vat_number)
    if country in SUPPORTED_COUNTRIES:
        try:
            return _normalise(country, business_id, vat_number, derive_vat=derive_vat)
        except InvalidIdentifier as error:
            other = country_of(business_id, vat_number)
            if other is None or other == country:
                raise
            if infer_country:
                return _normalise(other, business_id, vat_number, derive_vat=derive_vat)
            raise InvalidIdentifier(
                error.field,
                gettext(
                    "%(value)s is not a valid %(country)s number, but it is a valid %(other)s "
                    "one: choose country %(other)s.",
                    value=repr(_field_value(error.field, business_id, vat_number)),
                    country=country,
                    other=other,
                ),
            ) from error
    if infer_country and not country:
        other = country_of(business_id, vat_number)
        if other is not None:
            return _normalise(other, business_id, vat_number, derive_vat=derive_vat)
    return Identifiers(business_id, vat_number, country or None)


def _field_value(field: str, business_id: str | None, vat_number: str | None) -> str | None:
    return business_id if field == "business_id" else vat_number


def _normalise(
    country: str, business_id: str | None, vat_number: str | None, *, derive_vat: bool
) -> Identifiers:

    to_business_id, to_vat = (
        (_fi_business_id, _fi_vat) if country == "FI" else (_no_business_id, _no_vat)
    )
    if business_id:
        try:
            business_id = to_business_id(business_id)
        except ValidationError as error:
            raise InvalidIdentifier(
                "business_id", _message(country, "business ID", business_id, error)
            ) from error
    if vat_number:
        try:
            vat_number = to_vat(vat_number)
        except ValidationError as error:
            raise InvalidIdentifier(
                "vat_number", _message(country, "VAT number", vat_number, error)
            ) from error
    if business_id and vat_number and _business_id_of_vat(country, vat_number) != business_id:
        raise InvalidIdentifier(
            "vat_number",
            gettext(
                "VAT number %(vat_number)s does not belong to business ID %(business_id)s (that "
                "would be %(expected)s).",
                vat_number=vat_number,
                business_id=business_id,
                expected=_vat_of_business_id(country, business_id),
            ),
        )
    if vat_number and not business_id:
        business_id = _business_id_of_vat(country, vat_number)
    if business_id and not vat_number and derive_vat:
        vat_number = _vat_of_business_id(country, business_id)
    return Identifiers(business_id, vat_number, country)


def search_variants(text: str) -> list[str]:
    """Spellings under which a typed business ID or VAT number may be stored, for search."""
    text = text.strip()
    variants = {text}
    for country in SUPPORTED_COUNTRIES:
        for business, vat in ((text, None), (None, text)):
            try:
                found = normalise_identifiers(country, business, vat)
            except InvalidIdentifier:
                continue
            variants.update(v for v in (found.business_id, found.vat_number) if v)
    return sorted(variants)
