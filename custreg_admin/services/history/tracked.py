"""What the history follows (row types, bookkeeping columns, money fields), what services
tell the choke point (:func:`note`), and a row's values as the history keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session, attributes

from ...extensions import db
from ...models import (
    Address,
    Contact,
    Cost,
    Customer,
    EInvoiceAddress,
    Invoice,
    Project,
    Proposal,
)

#: The version of the details' layout; entries without it are older, with a message only.
DETAILS_VERSION = 2

#: Row types the choke point follows, and the prefix of their kinds (``contact_added``, ...).
ENTITIES: Mapping[type, str] = {
    Customer: "customer",
    Contact: "contact",
    Address: "address",
    EInvoiceAddress: "einvoice",
    Project: "project",
    Proposal: "proposal",
    Invoice: "invoice",
    Cost: "cost",
}
#: Columns that are bookkeeping rather than something a person changed.
_SKIPPED = {"id", "created_at", "updated_at", "registry_fetched_at", "version"}
#: The link to the customer (or, for proposals and costs, the project): a change is a move.
_PARENT = {"customer_id"}
#: Fields holding money: shown only to viewers who may see that row's money.
MONEY_FIELDS: Mapping[str, frozenset[str]] = {
    "invoice": frozenset({"total"}),
    "cost": frozenset({"amount"}),
    "proposal": frozenset({"total"}),
}

_INFO_BEFORE = "custreg_history_before"
_INFO_NOTES = "custreg_history_notes"
_INFO_PENDING = "custreg_history_pending"


# --- what services tell the choke point --------------------------------------------------------


@dataclass
class _Note:
    obj: Any
    kind: str | None = None
    related_customer_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _notes(session: Session) -> dict[int, _Note]:
    return session.info.setdefault(_INFO_NOTES, {})


def note(
    obj: Any,
    kind: str | None = None,
    *,
    related_customer_id: int | None = None,
    session: Session | None = None,
    **details: Any,
) -> None:
    """Annotate the history entry the next flush writes for ``obj`` (a customer): its ``kind``
    (``merged_into``, ``registry_refreshed``; default: what the change is), the other customer
    of a pair, and details to keep (``registry={"id": "ytj", "label": "YTJ"}``). Entries of
    rows hanging on that customer in the same flush get the details too. The entry is written
    even when ``obj`` itself does not change; a rollback forgets the note."""
    notes = _notes(session or db.session)
    found = notes.get(id(obj))
    if found is None:
        found = notes[id(obj)] = _Note(obj)
    if kind is not None:
        found.kind = kind
    if related_customer_id is not None:
        found.related_customer_id = related_customer_id
    found.details.update(details)


# --- reading rows: values as the history keeps them --------------------------------------------


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: money and dates as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _same(a: Any, b: Any) -> bool:
    """Equal as the history shows them: empty text and no value are the same."""
    a, b = _plain(a), _plain(b)
    return a == b or (a in (None, "") and b in (None, ""))


def _columns(mapper) -> list[tuple[str, Any]]:
    """(attribute key, column) of the columns a person changes; foreign keys by relationship."""
    found = []
    for attr in mapper.column_attrs:
        if attr.key in _SKIPPED or len(attr.columns) != 1:
            continue
        column = attr.columns[0]
        if getattr(column, "table", None) is not mapper.local_table:
            continue  # column_property such as Customer.city
        found.append((attr.key, column))
    return found


def _relation_of(mapper, column_key: str):
    """The many-to-one relationship that uses ``column_key``, if any."""
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE" and any(
            c.key == column_key for c in rel.local_columns
        ):
            return rel
    return None


def _snapshot(session: Session, state) -> dict[str, Any]:
    """The column values of a row before the flush: as loaded, and read from the database for
    attributes set without being loaded (after an expiry, say)."""
    values = {}
    unknown = []
    for key, column in _columns(state.mapper):
        committed = state.committed_state.get(key, attributes.NO_VALUE)
        if committed is not attributes.NO_VALUE and committed is not attributes.NEVER_SET:
            values[key] = committed
        elif key in state.committed_state:
            unknown.append((key, column))
        elif key in state.dict:
            values[key] = state.dict[key]
    if unknown and state.key is not None:
        row = session.execute(
            select(*(column for _, column in unknown)).where(
                state.mapper.primary_key[0] == state.key[1][0]
            )
        ).first()
        if row is not None:
            values.update({key: value for (key, _), value in zip(unknown, row, strict=True)})
    return values


def _current(state) -> dict[str, Any]:
    return {key: state.dict[key] for key, _ in _columns(state.mapper) if key in state.dict}


def _segment_history(state) -> tuple[list[str], list[str]] | None:
    if "segments" not in state.dict and not state.committed_state.get("segments"):
        return None
    history = state.attrs.segments.history
    if not history.has_changes():
        return None
    before = sorted(str(s) for s in (*history.unchanged, *history.deleted))
    after = sorted(str(s) for s in (*history.unchanged, *history.added))
    return (before, after) if before != after else None
