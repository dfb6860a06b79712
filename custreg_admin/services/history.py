"""The customer history: one choke point writes it, the card's History page reads it.

**Writing.** :func:`register` (called by ``CustReg.init_app``) puts two session events on the
module's own sessions (``db.session``'s sessionmaker, never SQLAlchemy's global ``Session``):

* ``before_flush`` notes what each row of a customer and of what hangs on it looked like before
  the flush (customers, their segments, addresses, e-invoicing addresses, contacts, projects,
  proposals, invoices and costs; and the costs a deleted project takes with it through
  ``ON DELETE CASCADE``);
* ``after_flush`` compares that with what was written and adds one
  :class:`~custreg_admin.models.CustomerEvent` per affected customer and row, in one
  ``INSERT``: the kind (``created``, ``edited``, ``contact_added`` ...), the before and after
  value of every changed field (names of related rows, not ids), who
  (:func:`custreg_admin.context.acting_user`; ``None``: the system) and when.

Services do not write history rows by hand. They annotate what the choke point will see
(:func:`note`: "this customer's change is a merge", "these values came from YTJ"), and tell it
about set-based statements, which ORM events do not see: :func:`record_move` (projects moved by
one guarded ``UPDATE``), :func:`record_merge_moves` and :func:`record_mass_update` (one
``INSERT ... SELECT`` from a mass update's audit rows, however many customers).

**Reading.** Entries keep structured details (``{"v": 2, "entity": ..., "changes": {field:
[before, after]}, ...}``); :func:`describe` turns one into text in the viewer's language when it
is shown, and leaves out the money (invoice totals, cost amounts, proposal totals) of rows the
viewer may not see (:func:`money_visibility`). ``message`` keeps an English summary without
money, for readers of the table itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import force_locale
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    event,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased, attributes, sessionmaker
from sqlalchemy.types import JSON

from ..context import acting_user
from ..extensions import db
from ..i18n import gettext, lazy_gettext, lazy_pgettext, ngettext
from ..models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerEvent,
    EInvoiceAddress,
    Invoice,
    MassUpdateChange,
    Project,
    Proposal,
)
from ..models.history import EVENT_KINDS, MASS_UPDATE_KINDS, utcnow
from ..rules.visibility import (
    project_costs_visible,
    sees_all_invoices,
    visible_costs,
    visible_invoices,
)
from .labels import ADDRESS_KIND_LABELS, PROJECT_KIND_LABELS, SALES_STATUS_LABELS

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


# --- the choke point ---------------------------------------------------------------------------


def register(factory: sessionmaker | None = None) -> None:
    """Write the history from the sessions ``factory`` makes (default: ``db.session``'s). Only
    those: a host's own sessions are left alone. Registering twice changes nothing."""
    target = factory if factory is not None else db.session.session_factory
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def _forget(session: Session, transaction) -> None:
    """The transaction is over (committed: written already; rolled back: nothing happened)."""
    if transaction.parent is None:
        for key in (_INFO_NOTES, _INFO_BEFORE, _INFO_PENDING):
            session.info.pop(key, None)


@dataclass
class _Before:
    values: dict[int, dict[str, Any]] = field(default_factory=dict)  # id(obj) -> values
    segments: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)
    cascaded_costs: list[dict[str, Any]] = field(default_factory=list)
    projects: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> (customer, name)


def _tracked(objs: Iterable[Any]) -> Iterator[Any]:
    for obj in objs:
        if type(obj) in ENTITIES:
            yield obj


def _project_info(session: Session, ids: Iterable[int | None], known: dict) -> None:
    wanted = sorted({i for i in ids if i is not None and i not in known})
    if wanted:
        rows = session.execute(
            select(Project.id, Project.customer_id, Project.name).where(Project.id.in_(wanted))
        )
        for row in rows:
            known[row.id] = (row.customer_id, row.name)


def _before_flush(session: Session, flush_context, instances) -> None:
    before = _Before()
    project_ids: set[int] = set()
    with session.no_autoflush:
        for obj in _tracked(session.deleted):
            state = attributes.instance_state(obj)
            for key, _ in _columns(state.mapper):
                if key not in state.dict and state.key is not None:
                    getattr(obj, key)  # load it while the row is still there
        for obj in _tracked([*session.dirty, *session.deleted]):
            state = attributes.instance_state(obj)
            if state.key is None:
                continue
            before.values[id(obj)] = _snapshot(session, state)
            if isinstance(obj, Customer):
                segments = _segment_history(state)
                if segments is not None:
                    before.segments[id(obj)] = segments
            if isinstance(obj, Proposal | Cost):
                project_ids.add(before.values[id(obj)].get("project_id"))
        gone = [p.id for p in session.deleted if isinstance(p, Project) and p.id is not None]
        if gone:
            deleted_ids = {c.id for c in session.deleted if isinstance(c, Cost)}
            for row in session.execute(
                select(Cost.id, Cost.project_id, Cost.date, Cost.amount).where(
                    Cost.project_id.in_(gone)
                )
            ):
                if row.id not in deleted_ids:
                    before.cascaded_costs.append(row._asdict())
                    project_ids.add(row.project_id)
        project_ids.update(gone)
        _project_info(session, project_ids, before.projects)
    session.info[_INFO_BEFORE] = before


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


def _after_flush(session: Session, flush_context) -> None:
    before: _Before = session.info.pop(_INFO_BEFORE, None) or _Before()
    notes = _notes(session)
    entries: list[_Entry] = []
    deleted_customers = {c.id for c in session.deleted if isinstance(c, Customer)}
    projects = before.projects
    with session.no_autoflush:
        new_project_ids = [
            _current(attributes.instance_state(o)).get("project_id")
            for o in _tracked([*session.new, *session.dirty])
            if isinstance(o, Proposal | Cost)
        ]
        for obj in session.new:
            if isinstance(obj, Project):
                projects[obj.id] = (obj.customer_id, obj.name)
        _project_info(session, new_project_ids, projects)
        for obj in _tracked(session.new):
            entries.extend(_created(session, obj, projects))
        for obj in _tracked(session.dirty):
            if (
                id(obj) in before.values
                and not session.is_modified(obj)
                and id(obj) not in before.segments
            ):
                continue
            entries.extend(_changed(session, obj, before, projects))
        for obj in _tracked(session.deleted):
            if isinstance(obj, Customer) or id(obj) not in before.values:
                continue
            old = {**before.values[id(obj)], "id": obj.id}
            prefix = ENTITIES[type(obj)]
            customer_id = _customers_of(obj, old, projects)
            if customer_id is None:
                continue
            details = {
                **_entity_label(obj, old, projects),
                "changes": _all_values(session, obj, old, after=False),
            }
            entries.append(_Entry(customer_id, f"{prefix}_removed", prefix, obj.id, None, details))
        for row in before.cascaded_costs:
            project = projects.get(row["project_id"])
            if project is None:
                continue
            details = {
                "label": _plain(row["date"]),
                "project": project[1],
                "cascade": True,
                "changes": {
                    "date": [_plain(row["date"]), None],
                    "amount": [_plain(row["amount"]), None],
                },
            }
            entries.append(_Entry(project[0], "cost_removed", "cost", row["id"], None, details))
    _apply_notes(entries, notes)
    pending = session.info.setdefault(_INFO_PENDING, [])
    pending.extend(e for e in entries if e.customer_id not in deleted_customers)


def _created(session: Session, obj: Any, projects) -> list[_Entry]:
    state = attributes.instance_state(obj)
    values = {**_current(state), "id": obj.id}
    prefix = ENTITIES[type(obj)]
    customer_id = _customers_of(obj, values, projects)
    if customer_id is None:
        return []
    changes = _all_values(session, obj, values, after=True)
    if isinstance(obj, Customer):
        segments = sorted(str(s) for s in obj.segments) if "segments" in state.dict else []
        if segments:
            changes["segments"] = [None, segments]
        kind = "created"
    else:
        kind = f"{prefix}_added"
    details = {**_entity_label(obj, values, projects), "changes": changes}
    return [_Entry(customer_id, kind, prefix, obj.id, None, details)]


def _changed(session: Session, obj: Any, before: _Before, projects) -> list[_Entry]:
    state = attributes.instance_state(obj)
    old = {**before.values.get(id(obj), {}), "id": obj.id}
    new = {**old, **_current(state), "id": obj.id}
    prefix = ENTITIES[type(obj)]
    changes = _changes(session, obj, old, new)
    if id(obj) in before.segments:
        changes["segments"] = list(before.segments[id(obj)])
    if isinstance(obj, Customer):
        if not changes and id(obj) not in _notes(session):
            return []
        kind = "edited"
        if set(changes) == {"is_active"}:
            kind = "reactivated" if changes["is_active"][1] else "inactivated"
        details = {**_entity_label(obj, new, {}), "changes": changes}
        return [_Entry(obj.id, kind, prefix, obj.id, None, details)]
    if isinstance(obj, Proposal | Cost):
        _project_info(session, [old.get("project_id"), new.get("project_id")], projects)
    was = _customers_of(obj, old, projects)
    now = _customers_of(obj, new, projects)
    label = _entity_label(obj, new, projects)
    if was is not None and now is not None and was != now:
        moved = {**label, "changes": changes}
        return [
            _Entry(was, f"{prefix}_moved", prefix, obj.id, now, {**moved, "direction": "out"}),
            _Entry(now, f"{prefix}_moved", prefix, obj.id, was, {**moved, "direction": "in"}),
        ]
    if not changes or now is None:
        return []
    return [_Entry(now, f"{prefix}_changed", prefix, obj.id, None, {**label, "changes": changes})]


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


def _before_commit(session: Session) -> None:
    """The transaction's entries, written once its last flush is done."""
    session.flush()  # the commit's own flush comes after this event: do it now
    pending = session.info.pop(_INFO_PENDING, [])
    notes = session.info.pop(_INFO_NOTES, {})
    if not pending and not notes:
        return
    pending.extend(_noted_only(pending, notes))
    _write(session, _coalesce(pending))


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


# --- set-based changes: what ORM events do not see ---------------------------------------------


def _pair_details(source: Customer, target: Customer) -> dict[str, Any]:
    return {"from": str(source), "to": str(target)}


def record_move(session: Session, source: Customer, target: Customer, names: Mapping[int, str]):
    """Projects moved from ``source`` to ``target`` by one set-based ``UPDATE``: an entry on
    both customers, pointing at each other."""
    moved = [{"id": i, "name": names[i]} for i in sorted(names)]
    common = {"projects": moved, **_pair_details(source, target)}
    _write(
        session,
        [
            _Entry(
                source.id,
                "project_moved",
                "project",
                None,
                target.id,
                {**common, "direction": "out"},
            ),
            _Entry(
                target.id,
                "project_moved",
                "project",
                None,
                source.id,
                {**common, "direction": "in"},
            ),
        ],
    )


def _json_object(sqlite: bool, *pairs: Any):
    return (func.json_object if sqlite else func.json_build_object)(*pairs)


def _label_column(model):
    return model.name


def _lit(value: Any, type_: Any = String):
    """A typed bound value (PostgreSQL cannot guess the type of a bare parameter in a select
    list or a JSON builder; the psycopg dialect casts typed ones)."""
    return literal(value, type_)


def record_mass_update(
    session: Session,
    batch_id: int,
    *,
    action: str,
    column: str | None,
    model: Any,
    segments: str | None,
    undo_of: int | None = None,
    user: Any = None,
) -> None:
    """One ``INSERT ... SELECT`` from the batch's audit rows: an entry per changed customer with
    the field's before and after (names), or the segments added or removed. An undo records the
    customers it restored (those with no skipped reason)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    change = MassUpdateChange.__table__
    user_id = getattr(user, "id", None) if user is not None else None
    user_name = getattr(user, "name", None) if user is not None else None
    kind = "mass_update_undone" if undo_of is not None else "mass_updated"
    head = [
        _lit("v"),
        _lit(DETAILS_VERSION, Integer),
        _lit("entity"),
        _lit("customer"),
        _lit("batch"),
        _lit(batch_id, Integer),
        _lit("action"),
        _lit(action),
    ]
    if undo_of is not None:
        head += [_lit("undo_of"), _lit(undo_of, Integer)]
    restored = change.c.skipped_reason.is_(None)
    if segments is None:
        was, now = aliased(model), aliased(model)
        pair = (func.json_array if sqlite else func.json_build_array)(
            _label_column(was), _label_column(now)
        )
        details = _json_object(
            sqlite, *head, _lit("changes"), _json_object(sqlite, _lit(column[:-3]), pair)
        )
        source = (
            select(change.c.customer_id, details.label("details"))
            .select_from(change)
            .outerjoin(was, was.id == change.c.before_value)
            .outerjoin(now, now.id == change.c.after_value)
            .where(change.c.batch_id == batch_id, restored)
        )
    else:
        names = func.json_group_array(model.name) if sqlite else func.json_agg(model.name)
        key = "added" if (segments == "add") == (undo_of is None) else "removed"
        details = _json_object(
            sqlite, *head, _lit("segments"), _json_object(sqlite, _lit(key), names)
        )
        source = (
            select(change.c.customer_id, details.label("details"))
            .select_from(change)
            .join(model, model.id == change.c.segment_id, isouter=True)
            .where(change.c.batch_id == batch_id, restored)
            .group_by(change.c.customer_id)
        )
    source = source.subquery()
    message = (
        f"Undo of mass update #{undo_of}" if undo_of is not None else f"Mass update #{batch_id}"
    )
    at = utcnow()
    session.execute(
        insert(CustomerEvent.__table__).from_select(
            [
                "customer_id",
                "user_id",
                "user_name",
                "at",
                "kind",
                "entity_type",
                "entity_id",
                "related_customer_id",
                "message",
                "details",
            ],
            select(
                source.c.customer_id,
                _lit(user_id, Integer),
                _lit(user_name),
                _lit(at, DateTime),
                _lit(kind),
                _lit("customer"),
                source.c.customer_id,
                _lit(None, Integer),
                _lit(message),
                type_coerce(source.c.details, JSON) if not sqlite else func.json(source.c.details),
            ),
        )
    )


# --- reading -----------------------------------------------------------------------------------


def kinds_of(customer_id: int) -> list[str]:
    """The kinds of the customer's entries (for the History page's filter)."""
    return sorted(
        db.session.scalars(
            select(CustomerEvent.kind).where(CustomerEvent.customer_id == customer_id).distinct()
        )
    )


def customer_history(
    customer: Customer, *, page: int = 0, per_page: int = 50, kind: str | None = None
) -> tuple[list[CustomerEvent], int]:
    """A page of the customer's history, newest first, and how many entries there are."""
    from sqlalchemy.orm import selectinload

    condition = CustomerEvent.customer_id == customer.id
    if kind:
        condition = condition & (CustomerEvent.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(CustomerEvent).where(condition))
    rows = db.session.scalars(
        select(CustomerEvent)
        .where(condition)
        .options(selectinload(CustomerEvent.related_customer))
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total or 0


def changes_since(model: Any, row_id: int, since: dt.datetime) -> list[CustomerEvent]:
    """Entries about one row written after ``since`` (naive UTC), oldest first: who changed
    what meanwhile (a stale edit's message)."""
    entity = ENTITIES[model]
    return list(
        db.session.scalars(
            select(CustomerEvent)
            .where(
                CustomerEvent.entity_type == entity,
                CustomerEvent.entity_id == row_id,
                CustomerEvent.at > since,
            )
            .order_by(CustomerEvent.at, CustomerEvent.id)
        )
    )


def money_visibility(viewer: Any, events: Iterable[CustomerEvent]) -> set[tuple[str, int]]:
    """(entity, id) of the money rows among ``events`` whose amounts ``viewer`` may see: the
    visibility rule (:mod:`custreg_admin.rules.visibility`; a proposal like its project's costs)
    for rows that still exist; rows deleted since only for viewers who see all invoices and
    costs (the rule needs the row)."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.entity_type in MONEY_FIELDS and e.entity_id is not None:
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    if not wanted:
        return set()
    if sees_all_invoices(viewer):
        return {(entity, i) for entity, ids in wanted.items() for i in ids}
    visible: set[tuple[str, int]] = set()
    proposals = (
        select(Proposal.id)
        .join(Project, Project.id == Proposal.project_id)
        .join(Customer, Customer.id == Project.customer_id)
    )
    checks = {  # a proposal's money: like its project's costs
        "invoice": (select(Invoice.id), Invoice.id, visible_invoices(viewer)),
        "cost": (select(Cost.id), Cost.id, visible_costs(viewer)),
        "proposal": (proposals, Proposal.id, project_costs_visible(viewer)),
    }
    for entity, (query, id_column, condition) in checks.items():
        ids = sorted(wanted.get(entity, ()))
        if ids:
            found = db.session.scalars(query.where(id_column.in_(ids), condition))
            visible.update((entity, i) for i in found)
    return visible


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
