"""An entry in the viewer's language: field labels, the summary sentence and the changed
fields, without the money the viewer may not see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...i18n import gettext, lazy_gettext, lazy_pgettext, ngettext
from ...models import (
    CustomerEvent,
)
from ...models.history import EVENT_KINDS, IMPORT_KINDS, MASS_UPDATE_KINDS
from ..labels import ADDRESS_KIND_LABELS, PROJECT_KIND_LABELS, SALES_STATUS_LABELS
from .tracked import DETAILS_VERSION, MONEY_FIELDS

FIELD_LABELS: Mapping[str, Any] = {
    "number": lazy_gettext("Number"),
    "name": lazy_gettext("Name"),
    "business_id": lazy_gettext("Business ID"),
    "vat_number": lazy_gettext("VAT number"),
    "country": lazy_gettext("Country"),
    "owner": lazy_gettext("Account owner"),
    "industry": lazy_gettext("Industry"),
    "invoice_template": lazy_gettext("Invoice template"),
    "vat_rate": lazy_gettext("Default invoicing VAT"),
    # TRANSLATORS: a customer's status (a settings list: Active, Passive, ...)
    "status": lazy_pgettext("field", "Status"),
    "is_active": lazy_gettext("Active"),
    "website": lazy_gettext("Website"),
    "email": lazy_gettext("E-mail"),
    "phone": lazy_gettext("Phone"),
    "notes": lazy_gettext("Notes"),
    "registry_source": lazy_gettext("Registry source"),
    "registry_status": lazy_gettext("Registry status"),
    "segments": lazy_gettext("Market segments"),
    "first_name": lazy_gettext("First name"),
    "last_name": lazy_gettext("Last name"),
    "title": lazy_pgettext("job title", "Title"),
    "street": lazy_gettext("Street"),
    "postal_code": lazy_gettext("Postal code"),
    "city": lazy_gettext("City"),
    "address": lazy_gettext("E-invoicing address"),
    "operator": lazy_gettext("Operator / intermediator code"),
    "is_default": lazy_pgettext("e-invoicing address", "Default"),
    "manager": lazy_gettext("Manager"),
    "is_internal": lazy_gettext("Internal"),
    # TRANSLATORS: project or sales case
    "kind": lazy_gettext("Kind"),
    "sales_status": lazy_gettext("Sales status"),
    "is_closed": lazy_pgettext("project", "Closed"),
    "project": lazy_gettext("Project"),
    "date": lazy_gettext("Date"),
    "total": lazy_gettext("Total"),
    "amount": lazy_gettext("Amount"),
    "customer": lazy_gettext("Customer"),
}
_ENTITY_FIELD_LABELS: Mapping[tuple[str, str], Any] = {
    ("address", "kind"): lazy_pgettext("address", "Type"),
    ("contact", "is_active"): lazy_pgettext("contact", "Active"),
    ("invoice", "total"): lazy_gettext("Total excl. VAT"),
}
_CODES: Mapping[tuple[str, str], Mapping[str, Any]] = {
    ("address", "kind"): ADDRESS_KIND_LABELS,
    ("project", "kind"): PROJECT_KIND_LABELS,
    ("project", "sales_status"): SALES_STATUS_LABELS,
}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Description:
    """An entry as a viewer reads it: a sentence and the fields changed."""

    summary: str
    changes: tuple[FieldChange, ...]
    money_hidden: bool = False


def _shown(entity: str, key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    codes = _CODES.get((entity, key))
    if codes is not None and value in codes:
        return str(codes[value])
    return str(value)


def _item_name(entity: str, details: Mapping[str, Any]) -> str:
    label = details.get("label")
    if entity == "invoice" and not label:
        return gettext("draft invoice #%(id)s", id=details.get("id"))
    if entity == "project" and details.get("project_kind") == "sales_case":
        return gettext("Sales case “%(name)s”", name=label)
    names = {
        "contact": gettext("Contact “%(name)s”", name=label),
        "address": gettext("Address “%(name)s”", name=label),
        "einvoice": gettext("E-invoicing address %(name)s", name=label),
        "project": gettext("Project “%(name)s”", name=label),
        "proposal": gettext("Proposal %(name)s", name=label),
        "invoice": gettext("Invoice %(name)s", name=label),
        "cost": gettext("Cost dated %(name)s", name=label),
    }
    text = names.get(entity, str(label or ""))
    if details.get("project") and entity in ("proposal", "cost"):
        text += " " + gettext("(project “%(name)s”)", name=details["project"])
    return text


def _registry(details: Mapping[str, Any]) -> str:
    registry = details.get("registry") or {}
    return str(registry.get("label") or registry.get("id") or "")


def _merge_summary(details: Mapping[str, Any]) -> str:
    merge = details.get("merge") or {}
    moved = [
        ngettext("%(num)s project", "%(num)s projects", len(merge.get("projects_moved", []))),
        ngettext("%(num)s contact", "%(num)s contacts", len(merge.get("contacts_moved", []))),
        ngettext("%(num)s address", "%(num)s addresses", len(merge.get("addresses_moved", []))),
        ngettext(
            "%(num)s e-invoicing address",
            "%(num)s e-invoicing addresses",
            len(merge.get("einvoice_addresses_moved", [])),
        ),
    ]
    parts = [gettext("moved %(what)s", what=", ".join(moved))]
    if merge.get("segments_added"):
        parts.append(
            gettext(
                "added market segments %(segments)s", segments=", ".join(merge["segments_added"])
            )
        )
    stayed = []
    if merge.get("projects_stayed"):
        stayed.append(
            gettext(
                "projects %(projects)s",
                projects="; ".join(f'"{p["name"]}"' for p in merge["projects_stayed"]),
            )
        )
    if merge.get("invoices_stayed"):
        stayed.append(ngettext("%(num)s invoice", "%(num)s invoices", merge["invoices_stayed"]))
    text = "; ".join(parts)
    if stayed:
        text += ". " + gettext(
            "Stayed on %(customer)s: %(what)s.",
            customer=details.get("from"),
            what=", ".join(stayed),
        )
    return text


def _summary(kind: str, details: Mapping[str, Any], _unused: Mapping[str, Any]) -> str:
    entity = details.get("entity", "customer")
    registry = _registry(details)
    if kind == "created":
        if registry:
            return gettext("Customer created from %(registry)s.", registry=registry)
        return gettext("Customer created.")
    if kind == "edited":
        if registry:
            return gettext("Customer details changed from %(registry)s.", registry=registry)
        return gettext("Customer details changed.")
    if kind == "registry_refreshed":
        return gettext("Refreshed from %(registry)s.", registry=registry or "?")
    if kind == "inactivated":
        return gettext("Customer inactivated.")
    if kind == "reactivated":
        return gettext("Customer reactivated.")
    if kind == "merged_into":
        return (
            gettext("Merged into %(customer)s", customer=details.get("to"))
            + ": "
            + (_merge_summary(details))
        )
    if kind == "merged_from":
        return (
            gettext("Duplicate %(customer)s merged in", customer=details.get("from"))
            + ": "
            + (_merge_summary(details))
        )
    if kind in MASS_UPDATE_KINDS:
        if details.get("undo_of") is not None:
            return gettext(
                "Undo of mass update #%(id)s (#%(batch)s).",
                id=details.get("undo_of"),
                batch=details.get("batch"),
            )
        return gettext("Mass update #%(id)s.", id=details.get("batch"))
    if kind in IMPORT_KINDS:
        if kind == "import_undone":
            return gettext("Undo of import #%(batch)s.", batch=details.get("batch"))
        return gettext(
            "Imported from %(file)s by %(user)s (import #%(batch)s).",
            file=details.get("file"),
            user=details.get("user") or gettext("the system"),
            batch=details.get("batch"),
        )
    if kind == "project_moved" and "projects" in details:
        names = ", ".join(f'"{p["name"]}"' for p in details["projects"])
        count = len(details["projects"])
        if details.get("direction") == "out":
            return ngettext(
                "Moved %(num)s project to %(customer)s: %(projects)s.",
                "Moved %(num)s projects to %(customer)s: %(projects)s.",
                count,
                customer=details.get("to"),
                projects=names,
            )
        return ngettext(
            "Received %(num)s project from %(customer)s: %(projects)s.",
            "Received %(num)s projects from %(customer)s: %(projects)s.",
            count,
            customer=details.get("from"),
            projects=names,
        )
    item = _item_name(entity, details)
    action = kind.rsplit("_", 1)[-1]
    if action == "added":
        text = gettext("%(item)s added.", item=item)
    elif action == "changed":
        text = gettext("%(item)s changed.", item=item)
    elif action == "removed":
        text = gettext("%(item)s deleted.", item=item)
        if details.get("cascade"):
            text += " " + gettext("(deleted with its project)")
    elif action == "moved":
        text = (
            gettext("%(item)s moved to another customer.", item=item)
            if details.get("direction") == "out"
            else gettext("%(item)s moved here from another customer.", item=item)
        )
    else:
        text = item
    if registry:
        text += " " + gettext("(from %(registry)s)", registry=registry)
    return text


def describe(event_: CustomerEvent, *, money_visible: bool = False) -> Description:
    """An entry in the viewer's language. Money fields are left out unless ``money_visible``
    (see :func:`money_visibility`)."""
    details = event_.details if isinstance(event_.details, dict) else None
    if not details or details.get("v") != DETAILS_VERSION:
        return Description(event_.message or "", ())
    entity = details.get("entity", "customer")
    hidden = MONEY_FIELDS.get(entity, frozenset()) if not money_visible else frozenset()
    lines = []
    money_hidden = False
    for key, pair in (details.get("changes") or {}).items():
        if key in hidden:
            money_hidden = True
            continue
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        label = _ENTITY_FIELD_LABELS.get((entity, key)) or FIELD_LABELS.get(key, key)
        lines.append(
            FieldChange(str(label), _shown(entity, key, before), _shown(entity, key, after))
        )
    for key, names in (details.get("segments") or {}).items():
        label = (
            gettext("Market segments added")
            if key == "added"
            else gettext("Market segments removed")
        )
        lines.append(FieldChange(label, "", ", ".join(n for n in names if n)))
    return Description(_summary(event_.kind, details, {}), tuple(lines), money_hidden)


def kind_label(kind: str) -> str:
    return str(EVENT_KINDS.get(kind, kind.replace("_", " ").capitalize()))
