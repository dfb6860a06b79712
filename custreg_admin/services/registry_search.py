"""Looking companies up in the installed public registries and mapping them to customer cards.

The views call these; the providers come from the plugins (``custreg_admin.registries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, inspect, select

from ..errors import DomainError, InvalidIdentifier
from ..extensions import db
from ..i18n import default_language, gettext, lazy_gettext
from ..models import Address, Customer, Industry
from ..registries import CompanyRecord, RegistryError, RegistryProvider, loaded_providers
from ..registries.http import lookup_budget
from ..rules.website import link_of
from . import history, industry_names
from .business_ids import normalise_identifiers

MAX_QUERY_LENGTH = 200


class NoRegistry(DomainError):
    """No registry is installed for the country."""


@dataclass(frozen=True)
class AddressPrefill:
    kind: str
    street: str | None
    postal_code: str | None
    city: str | None
    country: str | None


@dataclass(frozen=True)
class Prefill:
    """What a registry record puts into the customer form."""

    source: str
    status: str
    name: str
    country: str
    business_id: str | None
    vat_number: str | None
    website: str | None
    addresses: tuple[AddressPrefill, ...]
    industry_id: int | None
    industry_code: str | None = None
    industry_name: str | None = None
    #: The registry's industry is not among the settings; the user may create it.
    industry_missing: bool = False
    company_form: str | None = None
    notes: list[str] = field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    #: the organisation the unit belongs to (a sub-unit's main unit, a public body's parent)
    parent_business_id: str | None = None

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "status": self.status,
            "name": self.name,
            "country": self.country,
            "business_id": self.business_id,
            "vat_number": self.vat_number,
            "website": self.website,
            "addresses": [a.__dict__ for a in self.addresses],
            "industry_id": self.industry_id,
            "industry_code": self.industry_code,
            "industry_name": self.industry_name,
            "industry_missing": self.industry_missing,
            "company_form": self.company_form,
            "email": self.email,
            "phone": self.phone,
            "parent_business_id": self.parent_business_id,
        }


def providers_for(country: str) -> list[RegistryProvider]:
    return loaded_providers().for_country((country or "").upper())


def countries_with_registry() -> dict[str, str]:
    """Country code -> label of the registry that serves it."""
    found: dict[str, str] = {}
    for provider in loaded_providers().providers.values():
        found.setdefault(provider.country, provider.display_label())
    return found


def provider_by_id(provider_id: str) -> RegistryProvider:
    provider = loaded_providers().providers.get(provider_id)
    if provider is None:
        raise NoRegistry(
            gettext("The registry %(registry)s is not installed.", registry=repr(provider_id))
        )
    return provider


def search(
    country: str, query: str, *, limit: int = 20
) -> tuple[RegistryProvider, list[CompanyRecord]]:
    """Search the country's registry. Raises NoRegistry, RegistryError (RegistryUnavailable)."""
    query = " ".join((query or "").split())
    if not query:
        raise DomainError(gettext("Type a company name or a business ID to search for."))
    if len(query) > MAX_QUERY_LENGTH:
        raise DomainError(
            gettext("The search is too long (at most %(num)s characters).", num=MAX_QUERY_LENGTH)
        )
    providers = providers_for(country)
    if not providers:
        raise NoRegistry(
            gettext(
                "No business registry is installed for %(country)s; type the customer's details "
                "by hand.",
                country=country,
            )
            if country
            else gettext(
                "No business registry is installed for this country; type the customer's "
                "details by hand."
            )
        )
    provider = providers[0]
    with lookup_budget(current_app.config):
        return provider, provider.search(query, limit=limit)


def find_record(provider_id: str, business_id: str, query: str | None = None) -> CompanyRecord:
    """The registry's current record of one business ID.

    ``query`` is the search the user picked it from: asked again first (the provider's cache
    answers it), then the business ID itself.
    """
    provider = provider_by_id(provider_id)
    wanted = business_id.replace(" ", "").upper()
    with lookup_budget(current_app.config):  # one deadline for both searches
        for attempt in (query, business_id):
            if not attempt:
                continue
            for record in provider.search(attempt, limit=100 if attempt == query else 5):
                if record.business_id.replace(" ", "").upper() == wanted:
                    return record
    raise RegistryError(
        gettext(
            "%(registry)s has no company with business ID %(business_id)s.",
            registry=provider.display_label(),
            business_id=business_id,
        )
    )


def match_industry(code: str | None, names: list[str]) -> Industry | None:
    """An existing industry with the registry's code, else with one of its names."""
    if code:
        found = db.session.scalar(select(Industry).where(Industry.code == code).limit(1))
        if found is not None:
            return found
    wanted = [n.strip().lower() for n in names if n and n.strip()]
    if wanted:
        return db.session.scalar(
            select(Industry).where(func.lower(Industry.name).in_(wanted)).limit(1)
        )
    return None


def prefill_from(record: CompanyRecord) -> Prefill:
    try:
        ids = normalise_identifiers(record.country, record.business_id, record.vat_number)
        business_id, vat_number = ids.business_id, record.vat_number and ids.vat_number
    except InvalidIdentifier:
        business_id, vat_number = record.business_id, record.vat_number
    # an industry already in the settings (by the registry's code or any of its names) wins;
    # else the one to offer, named in the installation's language (services/industry_names.py)
    names = [record.industry_name or "", *record.industry_names.values()]
    industry = match_industry(record.industry_code, names)
    industry_code, industry_name = industry_names.localised(
        record.industry_code, record.industry_names, record.industry_name, default_language()
    )
    if industry is None and industry_code != record.industry_code:
        industry = match_industry(industry_code, [industry_name or ""])
    if industry is not None:
        industry_code, industry_name = industry.code, industry.name
    addresses = tuple(
        AddressPrefill(
            kind=a.kind,
            street=", ".join(p for p in (f"c/o {a.care_of}" if a.care_of else None, a.street) if p)
            or None,
            postal_code=a.postal_code,
            city=a.city,
            country=(a.country or record.country),
        )
        for a in record.addresses
        if a.kind in ("visiting", "postal")
    )
    return Prefill(
        source=record.source,
        status=record.status,
        name=record.name,
        country=record.country,
        business_id=business_id,
        vat_number=vat_number or None,
        website=link_of(record.website),  # as stored: https:// before a bare domain
        addresses=addresses,
        industry_id=industry.id if industry is not None else None,
        industry_code=industry_code,
        industry_name=industry_name,
        industry_missing=industry is None and bool(industry_code or industry_name),
        company_form=record.company_form,
        email=record.email,
        phone=record.phone,
        parent_business_id=record.parent_business_id,
    )


def create_industry(code: str | None, name: str | None) -> Industry:
    """The industry offered by a registry record: the existing one, or a new one."""
    existing = match_industry(code, [name or ""])
    if existing is not None:
        return existing
    if not (name or code):
        raise DomainError(gettext("The registry gave no industry to create."))
    industry = Industry(code=code or None, name=(name or code or "").strip()[:200])
    db.session.add(industry)
    db.session.flush()
    return industry


def registry_reference(source: str) -> dict[str, str]:
    """The registry as the history names it: its id and display label."""
    provider = loaded_providers().providers.get(source)
    label = provider.display_label() if provider is not None else source.upper()
    return {"id": source, "label": label}


def mark_fetched(customer: Customer, source: str, status: str) -> None:
    """The customer's values came from registry ``source`` now. A customer created from a
    registry pick says so in its history ("created from YTJ")."""
    if inspect(customer).key is None:
        history.note(customer, registry=registry_reference(source))
    customer.registry_source = source
    customer.registry_status = status
    customer.registry_fetched_at = datetime.now(UTC).replace(tzinfo=None)


# --- refresh from registry -----------------------------------------------------------------

_ADDRESS_LABELS = {
    "visiting": lazy_gettext("Visiting address"),
    "postal": lazy_gettext("Postal address"),
    "billing": lazy_gettext("Billing address"),
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: Any
    current: str | None
    registry: str | None

    @property
    def differs(self) -> bool:
        return (self.current or "").strip() != (self.registry or "").strip()


def _address_text(street, postal_code, city) -> str | None:
    text = ", ".join(p for p in (street, " ".join(x for x in (postal_code, city) if x)) if p)
    return text or None


def refresh_changes(customer: Customer, record: CompanyRecord) -> list[FieldChange]:
    """The card's values beside the registry's, field by field (only what the registry knows)."""
    prefill = prefill_from(record)
    changes = [
        FieldChange("name", lazy_gettext("Name"), customer.name, prefill.name),
        FieldChange(
            "vat_number", lazy_gettext("VAT number"), customer.vat_number, prefill.vat_number
        ),
        FieldChange("website", lazy_gettext("Website"), customer.website, prefill.website),
    ]
    if prefill.industry_code or prefill.industry_name:
        changes.append(
            FieldChange(
                "industry",
                lazy_gettext("Industry"),
                str(customer.industry) if customer.industry else None,
                " ".join(p for p in (prefill.industry_code, prefill.industry_name) if p),
            )
        )
    for address in prefill.addresses:
        current = customer.address_of(address.kind)
        changes.append(
            FieldChange(
                f"address_{address.kind}",
                _ADDRESS_LABELS.get(address.kind, address.kind),
                _address_text(current.street, current.postal_code, current.city)
                if current
                else None,
                _address_text(address.street, address.postal_code, address.city),
            )
        )
    return changes


def apply_refresh(customer: Customer, record: CompanyRecord, fields: set[str]) -> list[str]:
    """Take the ticked fields from the registry record; returns the labels changed."""
    prefill = prefill_from(record)
    history.note(customer, "registry_refreshed", registry=registry_reference(record.source))
    done: list[str] = []
    for change in refresh_changes(customer, record):
        if change.field not in fields or not change.differs:
            continue
        if change.field in ("name", "vat_number", "website"):
            setattr(customer, change.field, getattr(prefill, change.field))
        elif change.field == "industry":
            customer.industry = (
                db.session.get(Industry, prefill.industry_id)
                if prefill.industry_id
                else create_industry(prefill.industry_code, prefill.industry_name)
            )
        elif change.field.startswith("address_"):
            kind = change.field.removeprefix("address_")
            new = next(a for a in prefill.addresses if a.kind == kind)
            current = customer.address_of(kind)
            if current is None:
                current = Address(kind=kind)
                customer.addresses.append(current)
            current.street, current.postal_code = new.street, new.postal_code
            current.city, current.country = new.city, new.country
        done.append(str(change.label))
    mark_fetched(customer, record.source, record.status)
    db.session.commit()
    return done
