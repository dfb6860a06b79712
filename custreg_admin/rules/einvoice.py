"""E-invoicing addresses: what a valid address and operator code look like, and which address
of a customer is the default. Plain functions: no database, no request.

Addresses (``EInvoiceAddress.address``):

- **Finnish OVT code** (*OVT-tunnus*): ``0037`` + the business ID's 8 digits (no dash, check digit
  valid) + an optional suffix of up to 5 letters or digits for a unit (``003701120389``,
  ``00370112038900100``). Checked against the customer's Finnish business ID when it has one.
- **PEPPOL participant id** ``scheme:value``, the schemes in use in Finland and Norway (the
  Peppol code list "Participant identifier schemes", ISO 6523 ICD values):

  ``0216``  FI:OVT2, "OVTcode": the value is an OVT code (Finland's current scheme);
  ``0037``  FI:OVT, "LY-tunnus": the value is an OVT code, written with or without its ``0037``
            (the code list's examples: ``0037:00371234567800001``, ``0037:1234567800001``);
  ``0192``  NO:ORG, "Organisasjonsnummer": a 9-digit Norwegian organisation number (mod 11);
  ``9908``  NO:ORGNR, the older Norwegian organisation number scheme: the same value.

  The value is checked for its scheme, and against the customer's business ID of that country
  when it has one. Other schemes are refused with the list of those accepted.

Operator / intermediator codes (``EInvoiceAddress.operator``), by their form:

- an OVT-form code, ``0037`` + 8 digits with a valid check digit + an optional suffix of up to 5
  letters or digits (most Finnish operators: ``003721291126``);
- a bank's or operator's BIC (ISO 9362, 8 or 11 characters: ``NDEAFIHH``, ``BAWCFI22``),
  which Finnish banks and some operators use as their intermediator code;
- ``E`` + 6 digits, the form of the few operator codes issued that way (``E204503``).

Default: one default address per customer. When a change ticks a second one, the newly ticked
one is the default and the one that was default before is not (:func:`settle_default`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stdnum import bic
from stdnum.exceptions import ValidationError
from stdnum.fi import ytunnus
from stdnum.no import orgnr

from ..i18n import gettext, lazy_gettext

#: the PEPPOL participant identifier schemes accepted, by ICD value
PEPPOL_SCHEMES = {"0216": "FI:OVT2", "0037": "FI:OVT", "0192": "NO:ORG", "9908": "NO:ORGNR"}

_OVT = re.compile(r"0037(\d{8})([0-9A-Z]{0,5})")
_PEPPOL = re.compile(r"(\d{4}):(.+)")
_E_CODE = re.compile(r"E\d{6}")
_SPACES = re.compile(r"[\s-]+")


class EInvoiceProblem(ValueError):
    """An e-invoicing address or operator code that is not valid; ``str()`` tells the user."""


@dataclass(frozen=True)
class Customer:
    """What the checks need of the customer: its country and business ID (normalised)."""

    country: str | None = None
    business_id: str | None = None

    def digits(self, country: str) -> str | None:
        """The business ID's digits when it is a valid business ID of ``country``."""
        value = self.business_id or ""
        try:
            if country == "FI":
                return ytunnus.compact(ytunnus.validate(value))
            if country == "NO":
                return orgnr.validate(value)
        except ValidationError:
            return None
        return None


def _compact(value: str | None) -> str:
    return _SPACES.sub("", value or "").upper()


def _fi_digits_valid(digits: str) -> bool:
    return ytunnus.is_valid(digits)


def _ovt(value: str, customer: Customer | None, *, what) -> str:
    found = _OVT.fullmatch(value)
    if not found:
        raise EInvoiceProblem(
            gettext(
                "%(value)s is not a valid %(what)s: an OVT code is 0037, the business ID's 8 "
                "digits and an optional suffix of up to 5 letters or digits (e.g. "
                "003701120389).",
                value=value,
                what=what,
            )
        )
    digits = found.group(1)
    if not _fi_digits_valid(digits):
        raise EInvoiceProblem(
            gettext(
                "%(value)s is not a valid %(what)s: %(digits)s is not a valid Finnish business "
                "ID (check digit).",
                value=value,
                what=what,
                digits=ytunnus.format(digits),
            )
        )
    own = customer.digits("FI") if customer else None
    if own is not None and own != digits:
        raise EInvoiceProblem(
            gettext(
                "%(value)s belongs to business ID %(other)s, not to this customer's "
                "%(own)s (that would be %(expected)s).",
                value=value,
                other=ytunnus.format(digits),
                own=ytunnus.format(own),
                expected="0037" + own,
            )
        )
    return value


def _orgnr(scheme: str, value: str, customer: Customer | None) -> str:
    number = value[:-3] if value.endswith("MVA") else value
    if not orgnr.is_valid(number) or not number.isdigit():
        raise EInvoiceProblem(
            gettext(
                "%(value)s is not a valid PEPPOL id: scheme %(scheme)s takes a Norwegian "
                "organisation number of 9 digits (e.g. 0192:923609016).",
                value=scheme + ":" + value,
                scheme=scheme,
            )
        )
    own = customer.digits("NO") if customer else None
    if own is not None and own != number:
        raise EInvoiceProblem(
            gettext(
                "%(value)s belongs to organisation number %(other)s, not to this customer's "
                "%(own)s.",
                value=scheme + ":" + number,
                other=number,
                own=own,
            )
        )
    return f"{scheme}:{number}"


def normalise_address(value: str | None, customer: Customer | None = None) -> str:
    """The e-invoicing address in its standard form (spaces and dashes out, upper case), or
    :class:`EInvoiceProblem` saying what is wrong."""
    text = _compact(value)
    if not text:
        raise EInvoiceProblem(gettext("Type the e-invoicing address."))
    peppol = _PEPPOL.fullmatch(text)
    if peppol:
        scheme, rest = peppol.groups()
        if scheme not in PEPPOL_SCHEMES:
            raise EInvoiceProblem(
                gettext(
                    "%(value)s: PEPPOL scheme %(scheme)s is not one of those accepted "
                    "(%(schemes)s).",
                    value=text,
                    scheme=scheme,
                    schemes=", ".join(PEPPOL_SCHEMES),
                )
            )
        if scheme in ("0192", "9908"):
            return _orgnr(scheme, rest, customer)
        if scheme == "0037" and not rest.startswith("0037"):
            rest = "0037" + rest
        what = lazy_gettext("PEPPOL id")
        return f"{scheme}:{_ovt(rest, customer, what=what)}"
    return _ovt(text, customer, what=lazy_gettext("OVT code"))


def normalise_operator(value: str | None) -> str | None:
    """The operator / intermediator code in its standard form (None when empty), or
    :class:`EInvoiceProblem`."""
    text = _compact(value)
    if not text:
        return None
    found = _OVT.fullmatch(text)
    if found and _fi_digits_valid(found.group(1)):
        return text
    if _E_CODE.fullmatch(text) or (not text.startswith("0037") and bic.is_valid(text)):
        return text
    raise EInvoiceProblem(
        gettext(
            "%(value)s is not a valid operator code: use the operator's OVT-form code "
            "(e.g. 003721291126) or its BIC (e.g. NDEAFIHH).",
            value=value.strip() if value else "",
        )
    )


def settle_default(rows: Sequence[tuple[bool, bool]]) -> list[bool]:
    """One default among a customer's addresses.

    ``rows``: per address ``(was_default, is_default)``, the stored and the new flag (a new row
    was not default). Returns the flags to keep: when several are ticked, the newly ticked one
    wins (the last of them if several are new), else the first ticked stays."""
    ticked = [i for i, (_, now) in enumerate(rows) if now]
    if len(ticked) <= 1:
        return [now for _, now in rows]
    newly = [i for i in ticked if not rows[i][0]]
    keep = newly[-1] if newly else ticked[0]
    return [i == keep for i in range(len(rows))]
