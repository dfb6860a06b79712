"""History entries as the choke point builds them: which customer, what kind, the labels and
changes of a row; services' notes applied; flushes of one change folded; one ``INSERT``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from sqlalchemy import (
    insert,
)
from sqlalchemy.orm import Session, attributes

from ...context import acting_user
from ...models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerEvent,
    EInvoiceAddress,
    Invoice,
    Project,
    Proposal,
)
from ...models.history import utcnow
from .describe import _summary
from .tracked import _PARENT, DETAILS_VERSION, _columns, _Note, _plain, _relation_of, _same


@dataclass
class _Entry:
    customer_id: int
    kind: str
    entity: str
    entity_id: int | None
    related_customer_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _label_values(session: Session, mapper, values: Mapping[str, Any]) -> dict[str, Any]:
    """Field -> readable value: related rows by name (``owner``: "Maija Myyjä")."""
    shown: dict[str, Any] = {}
    for key, value in values.items():
        rel = _relation_of(mapper, key)
        if rel is None:
            shown[key] = _plain(value)
            continue
        if value is None:
            shown[rel.key] = None
            continue
        related = session.get(rel.mapper.class_, value)
        shown[rel.key] = str(related) if related is not None else f"#{value}"
    return shown


def _entity_label(obj: Any, values: Mapping[str, Any], projects) -> dict[str, Any]:
    """What names the row in an entry (never money)."""
    if isinstance(obj, Customer):
        return {"label": f"{values.get('number')} {values.get('name')}"}
    if isinstance(obj, Contact):
        name = " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
        return {"label": name}
    if isinstance(obj, Address):
        parts = [
            values.get("street"),
            " ".join(p for p in (values.get("postal_code"), values.get("city")) if p),
        ]
        return {
            "label": ", ".join(p for p in parts if p) or "-",
            "address_kind": values.get("kind"),
        }
    if isinstance(obj, EInvoiceAddress):
        return {"label": values.get("address")}
    if isinstance(obj, Project):
        return {"label": values.get("name"), "project_kind": values.get("kind")}
    if isinstance(obj, Invoice):
        return {"label": values.get("number")}
    project = projects.get(values.get("project_id"))
    label = values.get("number") if isinstance(obj, Proposal) else _plain(values.get("date"))
    return {"label": label, "project": project[1] if project else None}


def _customers_of(obj: Any, values: Mapping[str, Any], projects) -> int | None:
    if isinstance(obj, Customer):
        return values.get("id", getattr(obj, "id", None))
    if isinstance(obj, Proposal | Cost):
        project = projects.get(values.get("project_id"))
        return project[0] if project else None
    return values.get("customer_id")


def _who() -> tuple[int | None, str | None]:
    user = acting_user()
    if user is None or not getattr(user, "is_authenticated", True):
        return None, None
    return getattr(user, "id", None), getattr(user, "name", None)


def _changes(
    session: Session, obj: Any, old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, list[Any]]:
    mapper = attributes.instance_state(obj).mapper
    keys = [k for k, _ in _columns(mapper) if k not in _PARENT]
    differ = {k for k in keys if k in new and k in old and not _same(old[k], new[k])}
    before = _label_values(session, mapper, {k: old[k] for k in differ})
    after = _label_values(session, mapper, {k: new[k] for k in differ})
    return {k: [before[k], after[k]] for k in after}


def _all_values(session: Session, obj: Any, values: Mapping[str, Any], *, after: bool):
    mapper = attributes.instance_state(obj).mapper
    keys = [k for k, _ in _columns(mapper) if k not in _PARENT]
    shown = _label_values(
        session, mapper, {k: values[k] for k in keys if values.get(k) not in (None, "")}
    )
    return {k: ([None, v] if after else [v, None]) for k, v in shown.items()}


def _apply_notes(entries: list[_Entry], notes: dict[int, _Note]) -> None:
    """Services' annotations, for the whole transaction: the kind of a customer's own entry,
    its pair, and details for every entry of that customer."""
    by_customer = {
        found.obj.id: found for found in notes.values() if getattr(found.obj, "id", None)
    }
    if not by_customer:
        return
    for entry in entries:
        found = by_customer.get(entry.customer_id)
        if found is None:
            continue
        entry.details.update(found.details)
        if entry.entity == "customer" and entry.entity_id == entry.customer_id:
            if found.kind is not None and entry.kind != "created":
                entry.kind = found.kind
            if found.related_customer_id is not None:
                entry.related_customer_id = found.related_customer_id
        elif found.kind is not None:
            entry.details.setdefault("via", found.kind)


def _noted_only(entries: Sequence[_Entry], notes: dict[int, _Note]) -> list[_Entry]:
    """Entries for noted customers that did not change themselves (a merge's kept customer)."""
    own = {e.customer_id for e in entries if e.entity == "customer"}
    extra = []
    for found in notes.values():
        customer_id = getattr(found.obj, "id", None)
        if customer_id is None or customer_id in own:
            continue
        extra.append(
            _Entry(
                customer_id,
                found.kind or "edited",
                "customer",
                customer_id,
                found.related_customer_id,
                {"label": str(found.obj), "changes": {}, **found.details},
            )
        )
    return extra


#: Kinds that may take the changes of a later entry about the same row in the same transaction.
_FOLDED = ("edited", "changed")


def _coalesce(entries: Sequence[_Entry]) -> list[_Entry]:
    """One entry per row and transaction where flushes split one change (an autoflush in the
    middle of a form's save): the first before and the last after of each field."""
    kept: list[_Entry] = []
    latest: dict[tuple, _Entry] = {}
    for entry in entries:
        key = (entry.customer_id, entry.entity, entry.entity_id)
        earlier = latest.get(key) if entry.entity_id is not None else None
        folds = entry.kind == "edited" or entry.kind.endswith("_changed")
        if (
            earlier is not None
            and (folds or (entry.entity == "customer" and not earlier.kind.endswith("_moved")))
            and not earlier.kind.endswith(("_removed", "_moved"))
        ):
            if not folds and earlier.kind != "created":
                earlier.kind = entry.kind
            changes = earlier.details.get("changes", {})
            for field_name, (before, after) in entry.details.get("changes", {}).items():
                first = changes[field_name][0] if field_name in changes else before
                if earlier.kind != "created" and _same(first, after):
                    changes.pop(field_name, None)
                else:
                    changes[field_name] = [first, after]
            merged = {**earlier.details, **entry.details, "changes": changes}
            earlier.details = merged
            earlier.related_customer_id = entry.related_customer_id or earlier.related_customer_id
            continue
        latest[key] = entry
        kept.append(entry)
    return kept


def _write(session: Session, entries: Sequence[_Entry]) -> None:
    if not entries:
        return
    user_id, user_name = _who()
    at = utcnow()
    rows = []
    for entry in entries:
        details = {"v": DETAILS_VERSION, "entity": entry.entity, "id": entry.entity_id}
        details.update(entry.details)
        rows.append(
            {
                "customer_id": entry.customer_id,
                "user_id": user_id,
                "user_name": user_name,
                "at": at,
                "kind": entry.kind,
                "entity_type": entry.entity,
                "entity_id": entry.entity_id,
                "related_customer_id": entry.related_customer_id,
                "message": _english(entry.kind, details),
                "details": details,
            }
        )
    session.connection().execute(insert(CustomerEvent.__table__), rows)


def _english(kind: str, details: Mapping[str, Any]) -> str:
    """The entry's summary in English, without money (for readers of the table)."""
    try:
        with force_locale("en"):
            return _summary(kind, details, {})
    except RuntimeError:  # no app context: force_locale needs one
        return kind
