"""What a registry pick puts into the customer form.

One mapping from a registry record to the form's fields (:data:`FORM_FIELDS`), used by both
paths of the magnifier: the form's script fills the fields in place from :meth:`FormFill.as_json`,
and the page without JavaScript re-renders the posted form with the same values. Only what the
registry gives changes; every other field (notes, account owner, status...) keeps what the user
typed. A registry that gives no e-mail leaves a typed e-mail alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..i18n import gettext
from ..registries import STATUS_ACTIVE
from . import registry_search

#: customer form field -> :class:`~.registry_search.Prefill` attribute
FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("business_id", "business_id"),
    ("vat_number", "vat_number"),
    ("country", "country"),
    ("website", "website"),
    ("email", "email"),
    ("phone", "phone"),
)
#: an address row's fields the registry fills (the row is found, or added, by its kind)
ADDRESS_FIELDS: tuple[str, ...] = ("street", "postal_code", "city", "country")
#: the hidden fields that say where the values came from; always set by a pick
SOURCE_FIELDS: tuple[str, ...] = ("registry_source", "registry_status", "industry_suggestion")


@dataclass(frozen=True)
class FormFill:
    """A pick's values for the customer form and the messages that say what happened."""

    #: form field name -> value, only the fields the registry gives (plus SOURCE_FIELDS);
    #: ``industry`` is the id of an existing industry
    fields: dict[str, str]
    #: one per address kind the registry gives: ``kind`` and ADDRESS_FIELDS
    addresses: list[dict[str, str | None]]
    #: (category, text): "info" says what was filled, "warning" a company not active
    messages: list[tuple[str, str]] = field(default_factory=list)
    #: the registry's industry, not among the settings ("code name"), for the offer to create it
    industry_offer: str | None = None

    def as_json(self) -> dict:
        return {
            "fields": self.fields,
            "addresses": self.addresses,
            "messages": [{"category": c, "text": t} for c, t in self.messages],
            "industry_offer": self.industry_offer,
        }


def form_fill(record) -> FormFill:
    """The form values of registry record ``record`` (a :class:`CompanyRecord`)."""
    prefill = registry_search.prefill_from(record)
    fields = {
        name: str(value)
        for name, attribute in FORM_FIELDS
        if (value := getattr(prefill, attribute))
    }
    if prefill.industry_id is not None:
        fields["industry"] = str(prefill.industry_id)
    offer = None
    if prefill.industry_missing:
        offer = " ".join(p for p in (prefill.industry_code, prefill.industry_name) if p)
    fields["registry_source"] = prefill.source
    fields["registry_status"] = prefill.status
    fields["industry_suggestion"] = (
        f"{prefill.industry_code or ''}|{prefill.industry_name or ''}"
        if prefill.industry_missing
        else ""
    )
    addresses = [
        {"kind": a.kind, **{name: getattr(a, name) for name in ADDRESS_FIELDS}}
        for a in prefill.addresses
    ]
    messages = [
        (
            "info",
            gettext(
                "Filled from %(registry)s: %(name)s (%(business_id)s). Check the details and "
                "save; nothing is saved until you do.",
                registry=registry_search.registry_reference(record.source)["label"],
                name=record.name,
                business_id=record.business_id,
            ),
        )
    ]
    if prefill.status != STATUS_ACTIVE:
        messages.append(
            (
                "warning",
                gettext(
                    "The registry says this company is %(status)s.",
                    status=str(record.status_label).lower(),
                ),
            )
        )
    return FormFill(fields, addresses, messages, offer)


def pick(provider_id: str, business_id: str, query: str | None = None) -> FormFill:
    """The form values of the company the user picked. Raises RegistryError, DomainError."""
    record = registry_search.find_record(provider_id, business_id[:40], (query or "")[:200] or None)
    return form_fill(record)


def parse_pick(value: str) -> tuple[str, str] | None:
    """``"<registry>:<business ID>"`` (a no-JavaScript pick button's value) -> its two parts."""
    provider_id, _, business_id = (value or "").partition(":")
    provider_id, business_id = provider_id.strip(), business_id.strip()
    return (provider_id, business_id) if provider_id and business_id else None


def first_to_fill(values: Mapping[str, object], required: list[str]) -> str | None:
    """Where focus goes after a pick: the first required field still empty, else None (the
    Save button: the registry gave the company, owner and status start from their defaults,
    so what a keyboard user does next is check and save)."""
    for name in required:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return name
    return None
