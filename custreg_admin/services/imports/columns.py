"""The importable columns, and how a file's headers map onto them.

Headers are recognised in English, Finnish and Norwegian Bokmål, case and spacing aside:

* this module's template (:func:`template_headers`);
* this module's own Customers and Contacts & addresses reports (their column labels), so an
  export re-imports;
* the usual headers of Severa's customer export (:data:`SEVERA_HEADERS`).

A mapping is ``{header: field}`` (``""``: ignore the column); it can be saved by name
(:class:`~custreg_admin.models.ImportMapping`) and reused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext, lazy_gettext, lazy_pgettext
from ...models import ImportMapping
from ..reports import REPORT_TYPES

LANGUAGES = ("en", "fi", "nb")
ADDRESS_PARTS = ("street", "postal_code", "city", "country")
ADDRESS_KINDS = ("visiting", "postal", "billing")


@dataclass(frozen=True)
class Field:
    key: str
    label: object  # lazy text
    example: str
    group: str  # customer, address, einvoice, contact


def _address_fields() -> list[Field]:
    labels = {
        ("visiting", "street"): lazy_gettext("Visiting address street"),
        ("visiting", "postal_code"): lazy_gettext("Visiting address postal code"),
        ("visiting", "city"): lazy_gettext("Visiting address city"),
        ("visiting", "country"): lazy_gettext("Visiting address country"),
        ("postal", "street"): lazy_gettext("Postal address street"),
        ("postal", "postal_code"): lazy_gettext("Postal address postal code"),
        ("postal", "city"): lazy_gettext("Postal address city"),
        ("postal", "country"): lazy_gettext("Postal address country"),
        ("billing", "street"): lazy_gettext("Billing address street"),
        ("billing", "postal_code"): lazy_gettext("Billing address postal code"),
        ("billing", "city"): lazy_gettext("Billing address city"),
        ("billing", "country"): lazy_gettext("Billing address country"),
    }
    examples = {"street": "Mannerheimintie 1", "postal_code": "00100", "city": "Helsinki"}
    return [
        Field(f"{kind}_{part}", labels[kind, part], examples.get(part, "FI"), "address")
        for kind in ADDRESS_KINDS
        for part in ADDRESS_PARTS
    ]


#: every importable column, in the template's order
FIELDS: tuple[Field, ...] = (
    Field("name", lazy_gettext("Name"), "Esimerkki Oy", "customer"),
    Field("number", lazy_gettext("Customer number"), "", "customer"),
    Field("business_id", lazy_gettext("Business ID"), "0112038-9", "customer"),
    Field("vat_number", lazy_gettext("VAT number"), "FI01120389", "customer"),
    Field("country", lazy_gettext("Country"), "FI", "customer"),
    Field("owner", lazy_gettext("Account owner's e-mail"), "", "customer"),
    Field("industry", lazy_gettext("Industry"), "", "customer"),
    Field("industry_code", lazy_gettext("Industry code"), "62010", "customer"),
    Field("status", lazy_pgettext("field", "Status"), "Active", "customer"),
    Field("invoice_template", lazy_gettext("Invoice template"), "", "customer"),
    Field("vat_rate", lazy_gettext("Default invoicing VAT"), "", "customer"),
    Field("segments", lazy_gettext("Market segments"), "", "customer"),
    Field("website", lazy_gettext("Website"), "www.example.com", "customer"),
    Field("email", lazy_gettext("E-mail"), "info@example.com", "customer"),
    Field("phone", lazy_gettext("Phone"), "09 123 456", "customer"),
    Field("notes", lazy_gettext("Notes"), "", "customer"),
    *_address_fields(),
    Field("einvoice_address", lazy_gettext("E-invoicing address"), "003701120389", "einvoice"),
    Field("einvoice_operator", lazy_gettext("E-invoicing operator"), "003721291126", "einvoice"),
    Field("contact_first_name", lazy_gettext("Contact first name"), "Maija", "contact"),
    Field("contact_last_name", lazy_gettext("Contact last name"), "Meikäläinen", "contact"),
    Field("contact_title", lazy_gettext("Contact title"), "CEO", "contact"),
    Field("contact_email", lazy_gettext("Contact e-mail"), "maija@example.com", "contact"),
    Field("contact_phone", lazy_gettext("Contact phone"), "040 123 4567", "contact"),
)
#: fields a file may hold that are not in the template (a report's "Contact" column)
EXTRA_FIELDS: tuple[Field, ...] = (Field("contact_name", lazy_gettext("Contact"), "", "contact"),)
FIELD_BY_KEY = {f.key: f for f in (*FIELDS, *EXTRA_FIELDS)}

#: report column id -> import field, per report ("": known, not imported)
_REPORT_FIELDS = {
    "customers": {
        **{f.key: f.key for f in FIELDS if f.group in ("customer", "address", "einvoice")},
        "owner": "owner",
        "is_active": "",
        "registry_source": "",
        "registry_fetched_at": "",
        "created_at": "",
        "updated_at": "",
    },
    "contacts": {
        "customer_number": "number",
        "customer_name": "name",
        "contact_name": "contact_name",
        "first_name": "contact_first_name",
        "last_name": "contact_last_name",
        "title": "contact_title",
        "contact_email": "contact_email",
        "contact_phone": "contact_phone",
        "contact_active": "",
        "business_id": "business_id",
        "owner": "owner",
        **{f"{k}_{p}": f"{k}_{p}" for k in ("visiting", "postal") for p in ADDRESS_PARTS},
    },
}

#: the usual headers of Severa's customer export (en, fi, nb)
SEVERA_HEADERS: Mapping[str, str] = {
    "customer name": "name",
    "asiakkaan nimi": "name",
    "asiakas": "name",
    "kundenavn": "name",
    "customer number": "number",
    "asiakasnumero": "number",
    "kundenummer": "number",
    "business id": "business_id",
    "y-tunnus": "business_id",
    "organisasjonsnummer": "business_id",
    "vat number": "vat_number",
    "alv-numero": "vat_number",
    "alv-tunnus": "vat_number",
    "mva-nummer": "vat_number",
    "country": "country",
    "maa": "country",
    "land": "country",
    "customer owner": "owner",
    "asiakasvastaava": "owner",
    "kundeansvarlig": "owner",
    "industry": "industry",
    "toimiala": "industry",
    "bransje": "industry",
    "market segments": "segments",
    "markkinasegmentit": "segments",
    "markedssegmenter": "segments",
    "website": "website",
    "www-osoite": "website",
    "kotisivu": "website",
    "nettsted": "website",
    "email": "email",
    "sähköposti": "email",
    "e-post": "email",
    "phone": "phone",
    "puhelin": "phone",
    "telefon": "phone",
    "notes": "notes",
    "lisätiedot": "notes",
    "notater": "notes",
    "street address": "visiting_street",
    "katuosoite": "visiting_street",
    "gateadresse": "visiting_street",
    "postal code": "visiting_postal_code",
    "postinumero": "visiting_postal_code",
    "postnummer": "visiting_postal_code",
    "city": "visiting_city",
    "postitoimipaikka": "visiting_city",
    "kaupunki": "visiting_city",
    "poststed": "visiting_city",
    "e-invoice address": "einvoice_address",
    "verkkolaskuosoite": "einvoice_address",
    "efakturaadresse": "einvoice_address",
    "e-invoice operator": "einvoice_operator",
    "välittäjä": "einvoice_operator",
    "välittäjätunnus": "einvoice_operator",
    "operatør": "einvoice_operator",
    "first name": "contact_first_name",
    "etunimi": "contact_first_name",
    "fornavn": "contact_first_name",
    "last name": "contact_last_name",
    "sukunimi": "contact_last_name",
    "etternavn": "contact_last_name",
    "title": "contact_title",
    "titteli": "contact_title",
    "tittel": "contact_title",
    "contact email": "contact_email",
    "yhteyshenkilön sähköposti": "contact_email",
    "kontaktperson e-post": "contact_email",
    "contact phone": "contact_phone",
    "yhteyshenkilön puhelin": "contact_phone",
    "kontaktperson telefon": "contact_phone",
}


def normal(header: str) -> str:
    return " ".join((header or "").split()).casefold()


def _report_aliases() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for report_id, fields in _REPORT_FIELDS.items():
        aliases = found.setdefault(report_id, {})
        for column in REPORT_TYPES[report_id].columns:
            if column.id not in fields:
                continue
            for language in LANGUAGES:
                with force_locale(language):
                    aliases.setdefault(normal(str(column.label)), fields[column.id])
    return found


def _template_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for language in LANGUAGES:
        with force_locale(language):
            for f in (*FIELDS, *EXTRA_FIELDS):
                aliases.setdefault(normal(str(f.label)), f.key)
    return aliases


def auto_mapping(headers: Iterable[str]) -> dict[str, str]:
    """``{header: field}`` for each header ("" when unknown). The source whose headers fit the
    file best decides where they differ (a report's "E-mail" is the contact's in Contacts &
    addresses and the customer's in Customers)."""
    headers = list(headers)
    sources = [_template_aliases(), *_report_aliases().values(), dict(SEVERA_HEADERS)]
    ranked = sorted(sources, key=lambda s: -sum(normal(h) in s for h in headers))
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        field = next((s[normal(header)] for s in ranked if normal(header) in s), "")
        if field and field in used:
            field = ""  # one column per field: the first one wins
        used.add(field)
        mapping[header] = field
    return mapping


def check_mapping(headers: Iterable[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping for these headers: unknown fields refused, one column per field."""
    result: dict[str, str] = {}
    used: dict[str, str] = {}
    for header in headers:
        field = mapping.get(header, "") or ""
        if field and field not in FIELD_BY_KEY:
            raise DomainError(gettext("Unknown import field %(field)s.", field=repr(field)))
        if field and field in used:
            raise DomainError(
                gettext(
                    "Columns %(first)s and %(second)s are both mapped to %(field)s; choose one.",
                    first=repr(used[field]),
                    second=repr(header),
                    field=str(FIELD_BY_KEY[field].label),
                )
            )
        if field:
            used[field] = header
        result[header] = field
    if not any(f in used for f in ("name", "number", "business_id", "vat_number")):
        raise DomainError(
            gettext(
                "Map at least one column to the name, customer number, business ID or VAT "
                "number: rows cannot be matched or created otherwise."
            )
        )
    return result


# --- saved mappings ------------------------------------------------------------------------


def saved_mappings() -> list[ImportMapping]:
    return list(db.session.scalars(select(ImportMapping).order_by(ImportMapping.name)))


def load_mapping(name: str) -> dict[str, str]:
    found = db.session.scalar(select(ImportMapping).where(ImportMapping.name == name))
    if found is None:
        raise DomainError(gettext("There is no saved mapping %(name)s.", name=repr(name)))
    return dict(found.columns)


def save_mapping(user, name: str, mapping: Mapping[str, str]) -> ImportMapping:
    name = " ".join((name or "").split())[:100]
    if not name:
        raise DomainError(gettext("Give the mapping a name."))
    found = db.session.scalar(select(ImportMapping).where(ImportMapping.name == name))
    if found is None:
        found = ImportMapping(name=name, user_id=getattr(user, "id", None))
        db.session.add(found)
    found.columns = dict(mapping)
    db.session.commit()
    return found


def apply_saved(headers: Iterable[str], saved: Mapping[str, str]) -> dict[str, str]:
    """A saved mapping applied to a file: its headers as saved, the others recognised."""
    headers = list(headers)
    mapping = auto_mapping(headers)
    for header in headers:
        if header in saved:
            mapping[header] = saved[header]
    return mapping


# --- the template ----------------------------------------------------------------------------


def template_headers() -> list[str]:
    """The template's headers in the current language."""
    return [str(f.label) for f in FIELDS]


def template_csv(separator: str = ";") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=separator)
    writer.writerow(template_headers())
    writer.writerow([f.example for f in FIELDS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(gettext("Customers"))
    sheet.append(template_headers())
    sheet.append([f.example for f in FIELDS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
