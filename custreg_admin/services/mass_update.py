"""Mass update of customers: plan (counts, preview, permission check), apply, audit and undo.

The steps, as the admin pages run them:

* A :class:`Selection` says which customers: ticked ids (:meth:`Selection.of_ids`), "all N
  matching the current search and filters" (:meth:`Selection.of_set` /
  :meth:`Selection.of_spec`, a
  :meth:`~custreg_admin.services.customer_filter.CustomerSet.to_spec` spec), or
  every customer of a Customers report (:meth:`Selection.of_report`).
* :func:`plan` checks the action's value and resolves the selection into the ids of the
  customers it holds *at that moment*: the frozen list :attr:`Plan.ids`, which the confirmation
  carries to :func:`apply`. A customer that begins to match later is not touched. The plan counts
  the customers that change, those already at the value and those the user may not change (role
  ``user`` changes only customers they own; admins and managers any), and previews the first
  :data:`PREVIEW_ROWS` rows as before -> after.
* :func:`apply` changes the frozen customers in one transaction, set-based: one
  ``INSERT ... SELECT`` records the before/after of every customer that changes
  (:class:`~custreg_admin.models.MassUpdateChange`), then one ``UPDATE ... WHERE id IN (...)``
  (or ``INSERT ... SELECT`` / ``DELETE`` of segment links) changes them; the same number of
  statements for 10 customers as for 100,000. Anything failing rolls all of it back and raises a
  :class:`~custreg_admin.errors.DomainError` with a message for the user. Permissions
  are checked again: nothing is applied while the selection holds customers the user may not
  change (:class:`SelectionRefused`).
* :func:`undo` restores the before-values of a batch for the customers whose field still holds
  the batch's after-value, in one transaction recorded as a batch of its own; the others are
  recorded as skipped with the reason.

Id lists of any length travel as *one* bound parameter (:func:`in_ids`): a PostgreSQL
``integer[]`` unnested, a JSON array read with SQLite's ``json_each``. No statement grows with
the selection, and neither database's limit on bound parameters applies.

Concurrency. The target customer rows are locked in id order before anything is read for the
update (``SELECT ... ORDER BY id FOR NO KEY UPDATE`` on PostgreSQL; ``FOR UPDATE`` for segment
actions, which also holds back concurrent segment-link inserts). Two mass updates over
overlapping customers run one after the other: the second waits, then sees the first's result,
so its before-values are the first's after-values and nothing is lost. SQLite has no row locks;
the first statement of :func:`apply` and :func:`undo` writes (the batch row), which takes
SQLite's database write lock for the whole transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from ..context import acts_as_user
from ..errors import DomainError, PermissionDenied
from ..extensions import db
from ..i18n import N_, gettext, lazy_gettext, lazy_pgettext, ngettext
from ..models import (
    Customer,
    CustomerStatus,
    Industry,
    InvoiceTemplate,
    MarketSegment,
    MassUpdateBatch,
    MassUpdateChange,
    User,
    VatRate,
    customer_segment,
)
from ..models.history import utcnow
from ..models.versioning import next_version
from ..registries import STATUS_LABELS
from ..rules import access
from ..rules.open_work import KPI_CONDITIONS
from ..rules.request_ids import (
    MAX_SELECTED_IDS,
    InvalidSelection,
    in_ids,
    pack_ids,
    parse_id,
    unpack_ids,
)
from . import history, reports
from .customer_filter import CustomerSet

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20

__all__ = [
    "ACTIONS",
    "Action",
    "AlreadyApplied",
    "ChangeRow",
    "InvalidSelection",
    "InvalidValue",
    "MassUpdateFailed",
    "Plan",
    "PreviewRow",
    "Selection",
    "SelectionRefused",
    "UndoPlan",
    "Value",
    "apply",
    "batch_changes",
    "batches",
    "check_value",
    "count_selection",
    "describe_selection",
    "in_ids",
    "pack_ids",
    "plan",
    "plan_undo",
    "undo",
    "unpack_ids",
]

_change = MassUpdateChange.__table__
_link = customer_segment


# --------------------------------------------------------------------------- errors


class InvalidValue(DomainError):
    """The action's value is missing, forged or no longer exists."""


class SelectionRefused(PermissionDenied):
    """Role ``user``: the selection holds customers owned by someone else."""

    def __init__(self, refused: int, permitted: int) -> None:
        super().__init__(
            ngettext(
                "%(num)s of the selected customers is owned by someone else; you may only "
                "update your own. Nothing was changed.",
                "%(num)s of the selected customers are owned by someone else; you may only "
                "update your own. Nothing was changed.",
                refused,
            )
        )
        self.refused = refused
        self.permitted = permitted


class MassUpdateFailed(DomainError):
    """The database refused a step; everything was rolled back."""


class AlreadyApplied(DomainError):
    """This confirmation was applied before (a second click, the browser's back button)."""

    def __init__(self, batch_id: int | None) -> None:
        super().__init__(
            gettext(
                "This mass update has already been applied (mass update #%(id)s); nothing more "
                "was changed.",
                id=batch_id,
            )
            if batch_id
            else gettext("This mass update has already been applied; nothing more was changed.")
        )
        self.batch_id = batch_id


# --------------------------------------------------------------------------- actions and values


@dataclass(frozen=True)
class Action:
    """One of the seven mass update actions.

    Field actions set ``column`` of :class:`Customer` to one row of ``model`` (its relationship
    on ``Customer`` is named like the action); segment actions add or remove links. The texts
    are translated when shown: ``label`` (the action), ``field_label`` (its value's field),
    ``choose`` (no value given), ``missing`` (no such value, ``%(id)s``), ``previous_gone`` (an
    undo's skip reason: English, kept so in the database and translated when shown) and
    ``clear_label`` (the choice that clears a clearable field).
    """

    key: str
    label: Any
    field_label: Any
    model: Any
    column: str | None = None
    segments: str | None = None  # "add" or "remove"
    clearable: bool = False
    choose: Any = ""
    missing: Any = ""
    previous_gone: str = ""
    clear_label: Any = ""

    @property
    def is_segments(self) -> bool:
        return self.segments is not None


ACTIONS: Mapping[str, Action] = {
    action.key: action
    for action in (
        Action(
            "owner",
            lazy_gettext("Change account owner"),
            lazy_gettext("Account owner"),
            User,
            column="owner_id",
            choose=lazy_gettext("Choose the account owner."),
            missing=lazy_gettext("There is no account owner #%(id)s; choose one from the list."),
            previous_gone=N_("The previous account owner no longer exists"),
        ),
        Action(
            "industry",
            lazy_gettext("Change industry"),
            lazy_gettext("Industry"),
            Industry,
            column="industry_id",
            clearable=True,
            choose=lazy_gettext("Choose the industry."),
            missing=lazy_gettext("There is no industry #%(id)s; choose one from the list."),
            previous_gone=N_("The previous industry no longer exists"),
            clear_label=lazy_gettext("(none) — clear the industry"),
        ),
        Action(
            "invoice_template",
            lazy_gettext("Change invoice template"),
            lazy_gettext("Invoice template"),
            InvoiceTemplate,
            column="invoice_template_id",
            choose=lazy_gettext("Choose the invoice template."),
            missing=lazy_gettext("There is no invoice template #%(id)s; choose one from the list."),
            previous_gone=N_("The previous invoice template no longer exists"),
        ),
        Action(
            "vat_rate",
            lazy_gettext("Change default invoicing VAT"),
            lazy_gettext("Default invoicing VAT"),
            VatRate,
            column="vat_rate_id",
            choose=lazy_gettext("Choose the default invoicing VAT."),
            missing=lazy_gettext(
                "There is no default invoicing VAT #%(id)s; choose one from the list."
            ),
            previous_gone=N_("The previous default invoicing VAT no longer exists"),
        ),
        Action(
            "status",
            lazy_gettext("Change status"),
            # TRANSLATORS: a customer's status (a settings list: Active, Passive, ...)
            lazy_pgettext("field", "Status"),
            CustomerStatus,
            column="status_id",
            choose=lazy_gettext("Choose the status."),
            missing=lazy_gettext("There is no status #%(id)s; choose one from the list."),
            previous_gone=N_("The previous status no longer exists"),
        ),
        Action(
            "add_segments",
            lazy_gettext("Add market segments"),
            lazy_gettext("Market segments"),
            MarketSegment,
            segments="add",
        ),
        Action(
            "remove_segments",
            lazy_gettext("Remove market segments"),
            lazy_gettext("Market segments"),
            MarketSegment,
            segments="remove",
        ),
    )
}


def get_action(action: str | Action) -> Action:
    if isinstance(action, Action):
        return action
    found = ACTIONS.get(str(action or ""))
    if found is None:
        raise InvalidValue(gettext("Choose what to change: there is no such mass update action."))
    return found


@dataclass(frozen=True)
class Value:
    """An action's checked value: one id (none: cleared) or, for segments, several."""

    ids: tuple[int, ...]
    label: str

    @property
    def id(self) -> int | None:
        return self.ids[0] if self.ids else None

    def raw(self, action: Action) -> Any:
        """The value as :func:`check_value` takes it."""
        return list(self.ids) if action.is_segments else self.id

    def as_json(self, action: Action) -> dict[str, Any]:
        return {"ids": list(self.ids)} if action.is_segments else {"id": self.id}


def _as_id(value: Any, what: str) -> int:
    parsed = parse_id(value)
    if parsed is not None:
        return parsed
    raise InvalidValue(
        gettext(
            "%(field)s: %(value)s is not one of the choices.",
            field=what,
            value=repr(str(value)[:40]),
        )
    )


def check_value(action: str | Action, value: Any) -> tuple[Action, Value]:
    """Check an action's value; raises :class:`InvalidValue` with a message for the user.

    Field actions take an id (or ``None``/``""`` to clear, industry only); the owner must be an
    active user. Segment actions take one or more segment ids. Ids may be given as digit strings.
    """
    act = get_action(action)
    if act.is_segments:
        given = [value] if isinstance(value, int | str) else list(value or ())
        ids = sorted({_as_id(v, gettext("Market segment")) for v in given if v not in (None, "")})
        if not ids:
            raise InvalidValue(gettext("Choose at least one market segment."))
        rows = db.session.scalars(
            select(MarketSegment)
            .where(MarketSegment.id.in_(ids))
            .options(selectinload(MarketSegment.parent))
        ).all()
        missing = sorted(set(ids) - {row.id for row in rows})
        if missing:
            raise InvalidValue(
                gettext(
                    "Market segment #%(id)s does not exist; choose segments from the list.",
                    id=missing[0],
                )
            )
        return act, Value(tuple(ids), ", ".join(sorted(str(row) for row in rows)))
    if value is None or (isinstance(value, str) and not value.strip()):
        if act.clearable:
            return act, Value((), gettext("(none)"))
        raise InvalidValue(str(act.choose))
    row_id = _as_id(value, str(act.field_label))
    row = db.session.get(act.model, row_id)
    if row is None:
        raise InvalidValue(str(act.missing) % {"id": row_id})
    if act.model is User and not row.is_active:
        raise InvalidValue(
            gettext(
                "%(name)s is not an active user; choose an active user as the account owner.",
                name=row.name,
            )
        )
    return act, Value((row_id,), str(row))


# --------------------------------------------------------------------------- selections


@dataclass(frozen=True)
class Selection:
    """Which customers: ticked ids, a Summary spec, or a report's filters.

    ``own_only`` narrows any of them to the customers the user owns ("continue with only my M
    customers"). Build one with the ``of_*`` class methods, which check what they are given.
    """

    ids: tuple[int, ...] | None = None
    spec: Mapping[str, Any] | None = None
    report: Mapping[str, Any] | None = None
    own_only: bool = False

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.ids, self.spec, self.report)]
        if sum(given) != 1:
            raise ValueError("a selection is ids, a spec or a report")

    @property
    def kind(self) -> str:
        return "ids" if self.ids is not None else "spec" if self.spec is not None else "report"

    @classmethod
    def of_ids(cls, ids: Iterable[Any]) -> Selection:
        ids = list(ids)
        if len(ids) > MAX_SELECTED_IDS:
            raise InvalidSelection(
                gettext(
                    "%(num)s customers were sent one by one; at most %(max)s can be. For a "
                    "larger selection choose all rows matching the search and filters instead "
                    "of ticking them.",
                    num=len(ids),
                    max=MAX_SELECTED_IDS,
                )
            )
        try:
            cleaned = tuple(sorted({_as_id(i, gettext("Customer")) for i in ids}))
        except InvalidValue:
            raise InvalidSelection(str(_BAD_SELECTION)) from None
        if not cleaned:
            raise InvalidSelection(gettext("Select at least one customer."))
        return cls(ids=cleaned)

    @classmethod
    def of_set(cls, customer_set: CustomerSet) -> Selection:
        return cls(spec=customer_set.to_spec())

    @classmethod
    def of_spec(cls, spec: Any) -> Selection:
        """From :meth:`CustomerSet.to_spec` (a dict, or its JSON text)."""
        if isinstance(spec, str | bytes):
            try:
                spec = json.loads(spec)
            except ValueError:
                raise InvalidSelection(str(_BAD_SELECTION)) from None
        return cls.of_set(_customer_set(spec))

    @classmethod
    def of_report(cls, report_type: str, filters: Mapping[str, str]) -> Selection:
        """Every customer of a report: its type and its filters as strings (``f_<id>``
        without the prefix). Checked when the selection is resolved."""
        clean = {str(k): str(v) for k, v in (filters or {}).items() if v not in (None, "")}
        return cls(report={"type": str(report_type or "customers"), "filters": clean})

    def only_own(self) -> Selection:
        return replace(self, own_only=True)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.ids is not None:
            data["ids"] = list(self.ids)
        elif self.spec is not None:
            data["spec"] = dict(self.spec)
        else:
            data["report"] = dict(self.report or {})
        if self.own_only:
            data["own_only"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Selection:
        if not isinstance(data, Mapping):
            raise InvalidSelection(str(_BAD_SELECTION))
        if "ids" in data:
            selection = cls.of_ids(data["ids"] or ())
        elif "spec" in data:
            selection = cls.of_spec(data["spec"])
        elif "report" in data and isinstance(data["report"], Mapping):
            report = data["report"]
            filters = report.get("filters") or {}
            if not isinstance(filters, Mapping):
                raise InvalidSelection(str(_BAD_SELECTION))
            selection = cls.of_report(report.get("type"), filters)
        else:
            raise InvalidSelection(str(_BAD_SELECTION))
        return selection.only_own() if data.get("own_only") else selection


_BAD_SELECTION = lazy_gettext(
    "The selection is not valid; go back to the list and select the customers again."
)


def _customer_set(spec: Any) -> CustomerSet:
    """:meth:`CustomerSet.from_spec`, and the checks it leaves out (text fields that are not
    text would fail only when the SQL is built)."""
    try:
        customer_set = CustomerSet.from_spec(spec)
        for part in customer_set.parts:
            for name in ("search", "country", "registry_status"):
                if getattr(part, name) is not None and not isinstance(getattr(part, name), str):
                    raise ValueError(f"{name} must be text")
        customer_set.condition()
    except (ValueError, TypeError, AttributeError):
        raise InvalidSelection(str(_BAD_SELECTION)) from None
    return customer_set


def _restricted_to(user: Any) -> int | None:
    """The owner id a user's mass updates are limited to; None: any customer.

    ``user=None`` is the system (CLI, host code) and may change anything.
    """
    if user is None:
        return None
    role = getattr(user, "role", None)
    if role in ("admin", "manager"):
        return None
    if role == "user" and getattr(user, "id", None) is not None:
        return user.id
    raise PermissionDenied(gettext("You may not update customers."))


def _selection_condition(selection: Selection, user: Any) -> ColumnElement[bool]:
    if selection.ids is not None:
        condition = in_ids(Customer.id, selection.ids)
    elif selection.spec is not None:
        condition = _customer_set(selection.spec).condition()
    else:
        report = selection.report or {}
        spec = reports.make_spec(
            report.get("type") or "customers", None, dict(report.get("filters") or {}), viewer=user
        )
        condition = Customer.id.in_(reports.customer_ids(spec))
    if selection.own_only:
        owner_id = getattr(user, "id", None)
        condition = and_(condition, Customer.owner_id == owner_id if owner_id else false())
    return condition


def count_selection(user: Any, selection: Selection) -> tuple[int, int | None]:
    """How many customers the selection holds now, and (role ``user``) how many of them are the
    user's own (None for users who may change any customer)."""
    restricted = _restricted_to(user)
    condition = _selection_condition(selection, user)
    own = (
        func.count(case((Customer.owner_id == restricted, 1)))
        if restricted is not None
        else literal(None, Integer)
    )
    total, mine = db.session.execute(select(func.count(), own).where(condition)).one()
    return int(total or 0), None if restricted is None else int(mine or 0)


def describe_selection(selection: Selection) -> str:
    """The selection in words, for the confirmation page and the audit record."""
    if selection.ids is not None:
        count = len(selection.ids)
        text = ngettext("%(num)s selected customer", "%(num)s selected customers", count)
    elif selection.spec is not None:
        text = _describe_set(_customer_set(selection.spec))
    else:
        text = _describe_report(selection.report or {})
    if selection.own_only:
        # TRANSLATORS: added to the description of a selection of customers
        text = gettext("%(selection)s, only those I own", selection=text)
    return text


def _name_of(model, row_id: int | None) -> str:
    if row_id is None:
        return gettext("(none)")
    row = db.session.get(model, row_id)
    return str(row) if row is not None else f"#{row_id}"


def _describe_set(customer_set: CustomerSet) -> str:
    words: list[str] = []
    states = set()
    for part in customer_set.parts:
        states.add(part.active_state)
        if part.search and part.search.strip():
            words.append(gettext("search “%(text)s”", text=part.search.strip()))
        for field, model, words_for in (
            ("owner_id", User, lazy_gettext("account owner %(name)s")),
            ("industry_id", Industry, lazy_gettext("industry %(name)s")),
            ("status_id", CustomerStatus, lazy_gettext("status %(name)s")),
            ("segment_id", MarketSegment, lazy_gettext("market segment %(name)s")),
        ):
            if getattr(part, field) is not None:
                words.append(str(words_for) % {"name": _name_of(model, getattr(part, field))})
        if part.country:
            words.append(gettext("country %(code)s", code=part.country.strip().upper()))
        if part.registry_status == "not_active":
            words.append(gettext("registry status ceased, bankrupt or in liquidation"))
        elif part.registry_status:
            label = STATUS_LABELS.get(part.registry_status, part.registry_status)
            words.append(gettext("registry status %(status)s", status=str(label).lower()))
    labels = {
        "active": lazy_gettext("Active customers"),
        "prospects": lazy_gettext("Prospects in pipeline"),
    }
    for name in customer_set.counted_in:
        if name in KPI_CONDITIONS:
            words.append(gettext("counted in %(kpi)s", kpi=labels.get(name, name)))
    states.discard("all")
    if not customer_set.parts:
        states = set()
    key = frozenset(states)
    if key not in _SET_DESCRIPTIONS:
        return str(_NO_CUSTOMERS)
    alone, matching = _SET_DESCRIPTIONS[key]
    if not words:
        return str(alone)
    # TRANSLATORS: %(conditions)s is a comma-separated list such as "industry IT, country FI"
    return str(matching) % {"conditions": ", ".join(words)}


#: (all of them, all of them matching some conditions), by the active states asked for
_SET_DESCRIPTIONS = {
    frozenset(): (
        lazy_gettext("All active and inactivated customers"),
        lazy_gettext("All active and inactivated customers matching %(conditions)s"),
    ),
    frozenset({"active"}): (
        lazy_gettext("All active customers"),
        lazy_gettext("All active customers matching %(conditions)s"),
    ),
    frozenset({"inactive"}): (
        lazy_gettext("All inactivated customers"),
        lazy_gettext("All inactivated customers matching %(conditions)s"),
    ),
}
_NO_CUSTOMERS = lazy_gettext("All no customers (active and inactivated at once)")


def _describe_report(report: Mapping[str, Any]) -> str:
    kind = reports.REPORT_TYPES.get(report.get("type") or "")
    if kind is None:
        return gettext("Customers of a report")
    choices = reports.filter_choices(kind.id)
    words = []
    for item in kind.filters:
        text = (report.get("filters") or {}).get(item.id)
        if text in (None, ""):
            continue
        label = dict(choices.get(item.id, ())).get(text, text)
        words.append(f"{item.label}: {label}")
    if not words:
        return gettext("All customers of the %(report)s report", report=kind.label)
    return gettext(
        "All customers of the %(report)s report (%(filters)s)",
        report=kind.label,
        filters="; ".join(words),
    )


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PreviewRow:
    customer_id: int
    number: int
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    changes: bool
    refused: bool


@dataclass(frozen=True)
class Plan:
    """What :func:`apply` would do, and the frozen selection it will do it to.

    ``changing``, ``unchanged`` and ``refused`` partition ``ids``: the customers the user may
    change that would change, those already at the value, and (role ``user``) those owned by
    someone else.
    """

    action: Action
    value: Value
    selection: Selection
    selection_label: str
    ids: tuple[int, ...]
    changing: int
    unchanged: int
    refused_ids: tuple[int, ...]
    preview: tuple[PreviewRow, ...]

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def refused(self) -> int:
        return len(self.refused_ids)

    @property
    def permitted(self) -> int:
        return self.total - self.refused

    @property
    def may_apply(self) -> bool:
        return not self.refused_ids and self.changing > 0


def _changes_condition(act: Action, value: Value) -> ColumnElement[bool]:
    """Condition on ``Customer``: the action would change this customer."""
    if act.is_segments:
        links = (
            select(func.count())
            .select_from(_link)
            .where(_link.c.customer_id == Customer.id, _link.c.segment_id.in_(value.ids))
            .correlate(Customer)
            .scalar_subquery()
        )
        return links < len(value.ids) if act.segments == "add" else links > 0
    return getattr(Customer, act.column).is_distinct_from(value.id)


def plan(user: Any, selection: Selection, action: str | Action, value: Any) -> Plan:
    """Check the value, freeze the selection into ids, count and preview; changes nothing."""
    restricted = _restricted_to(user)
    act, val = check_value(action, value)
    access.ensure(user, "mass_update", Customer, act.column)
    label = describe_selection(selection)
    changes = _changes_condition(act, val)
    rows = db.session.execute(
        select(Customer.id, Customer.owner_id, changes.label("changes"))
        .where(_selection_condition(selection, user))
        .order_by(Customer.id)
    ).all()
    if not rows:
        raise InvalidSelection(
            gettext("No customers match the selection any more; nothing to update.")
        )
    ids, refused, changing = [], [], 0
    for row in rows:
        ids.append(row.id)
        if restricted is not None and row.owner_id != restricted:
            refused.append(row.id)
        elif row.changes:
            changing += 1
    return Plan(
        action=act,
        value=val,
        selection=selection,
        selection_label=label,
        ids=tuple(ids),
        changing=changing,
        unchanged=len(ids) - len(refused) - changing,
        refused_ids=tuple(refused),
        preview=_preview(act, val, ids, restricted, changes),
    )


def _preview(
    act: Action, value: Value, ids: Sequence[int], restricted: int | None, changes
) -> tuple[PreviewRow, ...]:
    order = [case((changes, 0), else_=1), Customer.name, Customer.number, Customer.id]
    if restricted is not None:
        order.insert(0, case((Customer.owner_id == restricted, 0), else_=1))
    query = select(Customer).where(in_ids(Customer.id, ids)).order_by(*order).limit(PREVIEW_ROWS)
    if act.is_segments:
        query = query.options(selectinload(Customer.segments).selectinload(MarketSegment.parent))
        chosen = _labels(MarketSegment, value.ids)
    else:
        query = query.options(selectinload(getattr(Customer, act.key)))
    rows = []
    for customer in db.session.scalars(query):
        if act.is_segments:
            current = {s.id: str(s) for s in customer.segments}
            before = tuple(sorted(current.values()))
            if act.segments == "add":
                after = tuple(sorted({**chosen, **current}.values()))
            else:
                after = tuple(sorted(v for k, v in current.items() if k not in chosen))
            changed = before != after
        else:
            related = getattr(customer, act.key)
            before = (str(related),) if related is not None else ()
            after = (value.label,) if value.id is not None else ()
            changed = getattr(customer, act.column) != value.id
        rows.append(
            PreviewRow(
                customer_id=customer.id,
                number=customer.number,
                name=customer.name,
                before=before,
                after=after,
                changes=changed,
                refused=restricted is not None and customer.owner_id != restricted,
            )
        )
    return tuple(rows)


# --------------------------------------------------------------------------- apply


def _lock_customers(session: Session, condition, *, links: bool) -> list[tuple[int, int | None]]:
    """(id, owner_id) of the customers, locked in id order (PostgreSQL; SQLite: no-op).

    ``FOR NO KEY UPDATE`` does not hold back inserts that merely reference the customers
    (invoices, projects); ``links=True`` takes ``FOR UPDATE``, which also holds back concurrent
    inserts of segment links, whose foreign key check takes a ``KEY SHARE`` lock.
    """
    rows = session.execute(
        select(Customer.id, Customer.owner_id)
        .where(condition)
        .order_by(Customer.id)
        .with_for_update(key_share=not links)
    )
    return [(row.id, row.owner_id) for row in rows]


def _check_owned(user: Any, locked: Sequence[tuple[int, int | None]]) -> None:
    restricted = _restricted_to(user)
    if restricted is None:
        return
    refused = sum(1 for _, owner_id in locked if owner_id != restricted)
    if refused:
        raise SelectionRefused(refused, len(locked) - refused)


def _start_batch(
    session: Session, user: Any, act: Action, value: Value, **fields
) -> MassUpdateBatch:
    batch = MassUpdateBatch(
        user_id=getattr(user, "id", None) if user is not None else None,
        user_name=getattr(user, "name", None) if user is not None else None,
        at=utcnow(),
        action=act.key,
        value=value.as_json(act),
        value_label=value.label,
        selected_count=0,
        changed_count=0,
        unchanged_count=0,
        skipped_count=0,
        **fields,
    )
    session.add(batch)
    session.flush()
    return batch


def _record_field_changes(session: Session, batch_id: int, act: Action, value: Value, ids):
    column = getattr(Customer, act.column)
    session.execute(
        insert(_change).from_select(
            ["batch_id", "customer_id", "before_value", "after_value"],
            select(
                literal(batch_id, Integer), Customer.id, column, literal(value.id, Integer)
            ).where(in_ids(Customer.id, ids), column.is_distinct_from(value.id)),
        )
    )


def _update_field(session: Session, batch_id: int, act: Action, value: Value) -> int:
    changed = select(_change.c.customer_id).where(_change.c.batch_id == batch_id)
    result = session.execute(
        update(Customer)
        .where(Customer.id.in_(changed))
        .values({act.column: value.id, **next_version(Customer)})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _record_segment_changes(session: Session, batch_id: int, act: Action, value: Value, ids):
    if act.segments == "add":  # the links the customers lack
        missing = ~exists().where(
            _link.c.customer_id == Customer.id, _link.c.segment_id == MarketSegment.id
        )
        source = (
            select(literal(batch_id, Integer), Customer.id, MarketSegment.id)
            .select_from(Customer)
            .join(MarketSegment, true())
            .where(in_ids(Customer.id, ids), MarketSegment.id.in_(value.ids), missing)
        )
    else:  # the links they have
        source = select(literal(batch_id, Integer), _link.c.customer_id, _link.c.segment_id).where(
            in_ids(_link.c.customer_id, ids), _link.c.segment_id.in_(value.ids)
        )
    session.execute(insert(_change).from_select(["batch_id", "customer_id", "segment_id"], source))


def _batch_links(batch_id: int, *, restored_only: bool = False):
    query = select(_change.c.customer_id, _change.c.segment_id).where(
        _change.c.batch_id == batch_id
    )
    return query.where(_change.c.skipped_reason.is_(None)) if restored_only else query


def _add_links(session: Session, batch_id: int, *, restored_only: bool = False) -> int:
    result = session.execute(
        insert(_link)
        .from_select(
            ["customer_id", "segment_id"], _batch_links(batch_id, restored_only=restored_only)
        )
        .execution_options(preserve_rowcount=True)  # else -1 for INSERT on psycopg
    )
    return result.rowcount


def _remove_links(session: Session, batch_id: int, *, restored_only: bool = False) -> int:
    result = session.execute(
        delete(_link).where(
            tuple_(_link.c.customer_id, _link.c.segment_id).in_(
                _batch_links(batch_id, restored_only=restored_only)
            )
        )
    )
    return result.rowcount


def _touch_customers(session: Session, batch_id: int, *, restored_only: bool = False) -> None:
    """``updated_at`` and ``version`` of customers whose segments changed (their row is not
    updated else)."""
    changed = select(_change.c.customer_id).where(_change.c.batch_id == batch_id)
    if restored_only:
        changed = changed.where(_change.c.skipped_reason.is_(None))
    session.execute(
        update(Customer)
        .where(Customer.id.in_(changed))
        .values(updated_at=func.now(), **next_version(Customer))
        .execution_options(synchronize_session=False)
    )


def _record_history(
    session: Session, batch_id: int, act: Action, user: Any, *, undo_of: int | None = None
) -> None:
    """Each changed customer's history entry, from the batch's change rows: one statement."""
    history.record_mass_update(
        session,
        batch_id,
        action=act.key,
        column=act.column,
        model=act.model,
        segments=act.segments,
        undo_of=undo_of,
        user=user,
    )


def _change_counts(session: Session, batch_id: int) -> tuple[int, int, int, int]:
    """(rows, customers, restored rows, customers with a restored row) of a batch."""
    restored = _change.c.skipped_reason.is_(None)
    row = session.execute(
        select(
            func.count(),
            func.count(func.distinct(_change.c.customer_id)),
            func.count(case((restored, 1))),
            func.count(func.distinct(case((restored, _change.c.customer_id)))),
        ).where(_change.c.batch_id == batch_id)
    ).one()
    return tuple(int(x or 0) for x in row)  # type: ignore[return-value]


def _finish_batch(session: Session, batch: MassUpdateBatch, **counts: int) -> None:
    for name, count in counts.items():
        setattr(batch, name, count)
    session.flush()


def _applied_batch(plan_key: str) -> int | None:
    return db.session.scalar(select(MassUpdateBatch.id).where(MassUpdateBatch.plan_key == plan_key))


def _inconsistent() -> MassUpdateFailed:
    return MassUpdateFailed(
        gettext("The customers changed while the mass update ran; nothing was changed. Try again.")
    )


@acts_as_user
def apply(
    user: Any,
    plan_or_ids: Plan | Iterable[int],
    action: str | Action | None = None,
    value: Any = None,
    *,
    selection: Selection | None = None,
    plan_key: str | None = None,
) -> MassUpdateBatch:
    """Apply an action to the frozen customers in one transaction; returns the recorded batch.

    ``plan_or_ids`` is a :class:`Plan` (its action, value and selection are used) or the frozen
    ids of one, with ``action`` and ``value`` (and ``selection`` to describe where the ids came
    from; default: the ids themselves). Customers deleted since the plan are left out.
    ``plan_key`` makes a confirmation apply once (:class:`AlreadyApplied` the second time).
    Raises :class:`SelectionRefused` when the user may not change all of the customers,
    :class:`InvalidValue`, and :class:`MassUpdateFailed` when the database fails; in every case
    nothing was changed.
    """
    if isinstance(plan_or_ids, Plan):
        given = plan_or_ids
        if action is not None and get_action(action) != given.action:
            raise ValueError("the action differs from the plan's")
        action, value = given.action, given.value.raw(given.action)
        selection = selection or given.selection
        ids = list(given.ids)
        label = given.selection_label if selection is given.selection else None
    else:
        ids = sorted({_as_id(i, gettext("Customer")) for i in plan_or_ids})
        label = None
    if action is None:
        raise InvalidValue(gettext("Choose what to change."))
    if not ids:
        raise InvalidSelection(gettext("Select at least one customer."))
    _restricted_to(user)  # refuses users of no known role at once
    access.ensure(user, "mass_update", Customer, get_action(action).column)
    session = db.session
    try:
        act, val = check_value(action, value)
        if selection is None:
            selection = Selection.of_ids(ids)
        if label is None:
            label = describe_selection(selection)
        if plan_key is not None:
            applied = _applied_batch(plan_key)
            if applied is not None:
                raise AlreadyApplied(applied)
        batch = _start_batch(
            session,
            user,
            act,
            val,
            selection=selection.as_json(),
            selection_label=label,
            plan_key=plan_key,
        )
        batch_id = batch.id
        locked = _lock_customers(session, in_ids(Customer.id, ids), links=act.is_segments)
        _check_owned(user, locked)
        if act.is_segments:
            _record_segment_changes(session, batch_id, act, val, ids)
            rows, changed, _, _ = _change_counts(session, batch_id)
            done = _add_links(session, batch_id) if act.segments == "add" else None
            if done is None:
                done = _remove_links(session, batch_id)
            if done != rows:
                raise _inconsistent()
            _touch_customers(session, batch_id)
        else:
            _record_field_changes(session, batch_id, act, val, ids)
            _, changed, _, _ = _change_counts(session, batch_id)
            if _update_field(session, batch_id, act, val) != changed:
                raise _inconsistent()
        _record_history(session, batch_id, act, user)
        _finish_batch(
            session,
            batch,
            selected_count=len(locked),
            changed_count=changed,
            unchanged_count=len(locked) - changed,
        )
        session.commit()
    except DomainError:
        session.rollback()
        raise
    except IntegrityError as error:
        session.rollback()
        if plan_key is not None:
            applied = _applied_batch(plan_key)
            if applied is not None:
                raise AlreadyApplied(applied) from None
        log.warning("mass update refused by the database: %s", error)
        raise MassUpdateFailed(
            gettext(
                "The database refused the mass update (a customer or a chosen value was changed "
                "or deleted at the same time); nothing was changed. Try again."
            )
        ) from error
    except SQLAlchemyError as error:
        session.rollback()
        log.exception("mass update failed")
        raise MassUpdateFailed(
            gettext(
                "The mass update failed in the database; nothing was changed. Try again, and if "
                "it fails again, tell your administrator."
            )
        ) from error
    except BaseException:
        session.rollback()
        raise
    return batch


# --------------------------------------------------------------------------- undo

# Why an undo skips a customer: kept in English in the database and translated when shown
# (:func:`skip_reason_label`).
CHANGED_SINCE = N_("Changed again since the mass update")
OWNED_BY_OTHERS = N_("Owned by someone else; you may only update your own customers")
OWNER_INACTIVE = N_("The previous account owner is no longer an active user")
ALREADY_REMOVED = N_("No longer in the segment")
ALREADY_BACK = N_("Already back in the segment")
SEGMENT_GONE = N_("The segment no longer exists")


def _value_gone(act: Action) -> str:
    return act.previous_gone


def skip_reason_label(reason: str | None) -> str | None:
    """A stored skip reason in the viewer's language."""
    return gettext(reason) if reason else reason


def _skip_reason(act: Action, restricted: int | None, original):
    """CASE over the original batch's change rows (``original``) joined to ``Customer``: why a
    row cannot be restored, NULL when it can."""
    whens = []
    if act.is_segments:
        linked = exists().where(
            _link.c.customer_id == original.c.customer_id,
            _link.c.segment_id == original.c.segment_id,
        )
        if act.segments == "add":
            whens.append((~linked, ALREADY_REMOVED))
        else:
            whens.append((linked, ALREADY_BACK))
    else:
        whens.append(
            (getattr(Customer, act.column).is_distinct_from(original.c.after_value), CHANGED_SINCE)
        )
    if restricted is not None:
        whens.append((Customer.owner_id.is_distinct_from(restricted), OWNED_BY_OTHERS))
    if act.is_segments:
        if act.segments == "remove":
            gone = ~exists().where(MarketSegment.id == original.c.segment_id)
            whens.append((gone, SEGMENT_GONE))
    else:
        model = act.model
        valid = exists().where(model.id == original.c.before_value)
        if model is User:
            valid = exists().where(User.id == original.c.before_value, User.is_active.is_(True))
        missing = and_(original.c.before_value.is_not(None), ~valid)
        whens.append((missing, OWNER_INACTIVE if model is User else _value_gone(act)))
    return case(*((cond, literal(text, String)) for cond, text in whens), else_=null())


@dataclass(frozen=True)
class UndoPlan:
    """What :func:`undo` would do now: customers restored, and skipped by reason."""

    batch: MassUpdateBatch
    restorable: int
    skipped: tuple[tuple[str, int], ...]

    @property
    def skipped_total(self) -> int:
        return sum(count for _, count in self.skipped)


def _undo_target(user: Any, batch_id: Any) -> MassUpdateBatch:
    batch = None
    if parse_id(batch_id) is not None:
        batch = db.session.get(MassUpdateBatch, parse_id(batch_id))
    if batch is None:
        raise DomainError(gettext("That mass update does not exist."))
    if batch.undo_of_id is not None:
        raise DomainError(
            gettext(
                "Mass update #%(id)s is itself an undo and cannot be undone; run a new mass "
                "update instead.",
                id=batch.id,
            )
        )
    if batch.undone_at is not None:
        if batch.undone_by_name:
            raise DomainError(
                gettext(
                    "Mass update #%(id)s has already been undone by %(name)s.",
                    id=batch.id,
                    name=batch.undone_by_name,
                )
            )
        raise DomainError(gettext("Mass update #%(id)s has already been undone.", id=batch.id))
    _restricted_to(user)  # refuses users of no known role at once
    access.ensure(user, "edit", batch)
    if batch.action not in ACTIONS:
        raise DomainError(
            gettext("Mass update #%(id)s cannot be undone: its action is unknown.", id=batch.id)
        )
    return batch


def plan_undo(user: Any, batch_id: Any) -> UndoPlan:
    """Counts for the undo confirmation; changes nothing."""
    batch = _undo_target(user, batch_id)
    act = ACTIONS[batch.action]
    original = _change.alias("original")
    reason = _skip_reason(act, _restricted_to(user), original).label("reason")
    rows = db.session.execute(
        select(reason, func.count(func.distinct(original.c.customer_id)))
        .select_from(original.join(Customer, Customer.id == original.c.customer_id))
        .where(original.c.batch_id == batch.id)
        .group_by(reason)
    ).all()
    restorable = sum(int(n) for r, n in rows if r is None)
    skipped = tuple(sorted(((r, int(n)) for r, n in rows if r is not None), key=lambda x: -x[1]))
    return UndoPlan(batch=batch, restorable=restorable, skipped=skipped)


@acts_as_user
def undo(user: Any, batch_id: Any) -> MassUpdateBatch:
    """Undo a batch in one transaction; returns the undo's own batch.

    Restores the before-values of the customers whose field still holds the batch's
    after-value; a segment add is undone by removing exactly the links it added, a removal by
    adding back exactly the links it removed. Customers that cannot be restored are recorded
    as skipped with the reason (:func:`batch_changes` lists them).
    """
    session = db.session
    try:
        original = _undo_target(user, batch_id)
        act = ACTIONS[original.action]
        restricted = _restricted_to(user)
        original_id = original.id
        undo_batch = _start_batch(
            session,
            user,
            act,
            _value_of(original, act),
            selection={"undo_of": original_id},
            selection_label=gettext("The customers changed by mass update #%(id)s", id=original_id),
            undo_of_id=original_id,
        )
        undo_id = undo_batch.id
        # the original's row: one undo at a time
        # (NO KEY: the undo batch's foreign key already holds a KEY SHARE lock on it)
        session.refresh(original, with_for_update={"key_share": True})
        if original.undone_at is not None:
            raise DomainError(
                gettext("Mass update #%(id)s has already been undone.", id=original_id)
            )
        customers = select(_change.c.customer_id).where(_change.c.batch_id == original_id)
        _lock_customers(session, Customer.id.in_(customers), links=act.is_segments)
        _record_undo(session, undo_id, original_id, act, restricted)
        rows, customers_count, restored_rows, restored = _change_counts(session, undo_id)
        skipped = session.scalar(
            select(func.count(func.distinct(_change.c.customer_id))).where(
                _change.c.batch_id == undo_id, _change.c.skipped_reason.is_not(None)
            )
        )
        if act.is_segments:
            if act.segments == "add":
                done = _remove_links(session, undo_id, restored_only=True)
            else:
                done = _add_links(session, undo_id, restored_only=True)
            if done != restored_rows:
                raise _inconsistent()
            _touch_customers(session, undo_id, restored_only=True)
        elif _restore_field(session, undo_id, act) != restored_rows:
            raise _inconsistent()
        _record_history(session, undo_id, act, user, undo_of=original_id)
        _finish_batch(
            session,
            undo_batch,
            selected_count=customers_count,
            changed_count=restored,
            unchanged_count=0,
            skipped_count=int(skipped or 0),
        )
        original.undone_at = utcnow()
        original.undone_by_id = getattr(user, "id", None) if user is not None else None
        original.undone_by_name = getattr(user, "name", None) if user is not None else None
        session.commit()
    except DomainError:
        session.rollback()
        raise
    except SQLAlchemyError as error:
        session.rollback()
        log.exception("undo of a mass update failed")
        raise MassUpdateFailed(
            gettext("The undo failed in the database; nothing was changed. Try again.")
        ) from error
    except BaseException:
        session.rollback()
        raise
    return undo_batch


def _value_of(batch: MassUpdateBatch, act: Action) -> Value:
    stored = batch.value or {}
    if act.is_segments:
        return Value(tuple(stored.get("ids") or ()), batch.value_label)
    found = stored.get("id")
    return Value((found,) if found is not None else (), batch.value_label)


def _record_undo(
    session: Session, undo_id: int, original_id: int, act: Action, restricted: int | None
) -> None:
    original = _change.alias("original")
    reason = _skip_reason(act, restricted, original)
    if act.is_segments:
        columns = ["batch_id", "customer_id", "segment_id", "skipped_reason"]
        values = [original.c.segment_id, reason]
    else:  # before: the value now; after: the value to restore
        columns = ["batch_id", "customer_id", "before_value", "after_value", "skipped_reason"]
        values = [getattr(Customer, act.column), original.c.before_value, reason]
    session.execute(
        insert(_change).from_select(
            columns,
            select(literal(undo_id, Integer), original.c.customer_id, *values)
            .select_from(original.join(Customer, Customer.id == original.c.customer_id))
            .where(original.c.batch_id == original_id)
            .order_by(original.c.customer_id, original.c.id),
        )
    )


def _restore_field(session: Session, undo_id: int, act: Action) -> int:
    restore = _change.alias("restore")
    result = session.execute(
        update(Customer)
        .where(
            Customer.id == restore.c.customer_id,
            restore.c.batch_id == undo_id,
            restore.c.skipped_reason.is_(None),
        )
        .values({act.column: restore.c.after_value, **next_version(Customer)})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --------------------------------------------------------------------------- history


def undoing_batch(batch: MassUpdateBatch) -> MassUpdateBatch | None:
    """The mass update that undid ``batch`` (the newest, should there be more), or None."""
    if batch.undone_at is None:
        return None
    return db.session.scalar(
        select(MassUpdateBatch)
        .where(MassUpdateBatch.undo_of_id == batch.id)
        .order_by(MassUpdateBatch.id.desc())
        .limit(1)
    )


def batches(*, page: int = 0, per_page: int = 50) -> tuple[list[MassUpdateBatch], int]:
    """A page of the batches, newest first, and how many there are."""
    total = db.session.scalar(select(func.count()).select_from(MassUpdateBatch)) or 0
    rows = db.session.scalars(
        select(MassUpdateBatch)
        .order_by(MassUpdateBatch.at.desc(), MassUpdateBatch.id.desc())
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


@dataclass(frozen=True)
class ChangeRow:
    """One customer's change in a batch, in words."""

    customer_id: int
    number: int
    name: str
    before: str
    after: str
    skipped_reason: str | None


def _labels(model, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    query = select(model).where(model.id.in_(wanted))
    if model is MarketSegment:
        query = query.options(selectinload(MarketSegment.parent))
    found = {row.id: str(row) for row in db.session.scalars(query)}
    return {i: found.get(i, gettext("#%(id)s (deleted)", id=i)) for i in wanted}


def batch_changes(
    batch: MassUpdateBatch, *, page: int = 0, per_page: int = 50, skipped_only: bool = False
) -> tuple[list[ChangeRow], int]:
    """A page of a batch's changes in customer order, and how many rows there are in all.

    Field actions: one row per customer, before and after are the field's values by name.
    Segment actions: one row per customer (and, in an undo, per skip reason) naming the
    segments it joined or left. ``skipped_only``: the rows an undo skipped.
    """
    condition = MassUpdateChange.batch_id == batch.id
    if skipped_only:
        condition = and_(condition, MassUpdateChange.skipped_reason.is_not(None))
    act = ACTIONS.get(batch.action)
    if act is not None and act.is_segments:
        return _segment_changes(batch, act, condition, page, per_page)
    total = db.session.scalar(select(func.count()).select_from(MassUpdateChange).where(condition))
    rows = db.session.execute(
        select(MassUpdateChange, Customer.number, Customer.name)
        .join(Customer, Customer.id == MassUpdateChange.customer_id)
        .where(condition)
        .order_by(MassUpdateChange.customer_id, MassUpdateChange.id)
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    model = act.model if act is not None else None
    values = [v for r in rows for v in (r[0].before_value, r[0].after_value)]
    names = _labels(model, values) if model is not None else {}
    result = []
    for change, number, name in rows:
        before = names.get(change.before_value, "—") if change.before_value else "—"
        after = names.get(change.after_value, "—") if change.after_value else "—"
        result.append(
            ChangeRow(
                change.customer_id,
                number,
                name,
                before,
                after,
                skip_reason_label(change.skipped_reason),
            )
        )
    return result, int(total or 0)


def _segment_changes(
    batch: MassUpdateBatch, act: Action, condition, page: int, per_page: int
) -> tuple[list[ChangeRow], int]:
    reason = func.coalesce(MassUpdateChange.skipped_reason, "")
    groups = (
        select(MassUpdateChange.customer_id, reason.label("reason"))
        .where(condition)
        .group_by(MassUpdateChange.customer_id, reason)
    )
    total = db.session.scalar(select(func.count()).select_from(groups.subquery()))
    page_groups = db.session.execute(
        groups.order_by(MassUpdateChange.customer_id, reason)
        .offset(max(page, 0) * per_page)
        .limit(per_page)
    ).all()
    customer_ids = sorted({g.customer_id for g in page_groups})
    if not customer_ids:
        return [], int(total or 0)
    links = db.session.execute(
        select(MassUpdateChange.customer_id, reason, MassUpdateChange.segment_id).where(
            condition, MassUpdateChange.customer_id.in_(customer_ids)
        )
    ).all()
    names = _labels(MarketSegment, (row.segment_id for row in links))
    segments: dict[tuple[int, str], list[str]] = {}
    for customer_id, why, segment_id in links:
        segments.setdefault((customer_id, why), []).append(names.get(segment_id, ""))
    customers = {
        row.id: row
        for row in db.session.execute(
            select(Customer.id, Customer.number, Customer.name).where(Customer.id.in_(customer_ids))
        )
    }
    adds = (act.segments == "add") != (batch.undo_of_id is not None)
    result = []
    for group in page_groups:
        listed = ", ".join(sorted(segments.get((group.customer_id, group.reason), [])))
        present = gettext("in %(segments)s", segments=listed)
        absent = gettext("not in %(segments)s", segments=listed)
        before, after = (absent, present) if adds else (present, absent)
        customer = customers[group.customer_id]
        result.append(
            ChangeRow(
                group.customer_id,
                customer.number,
                customer.name,
                before,
                after,
                skip_reason_label(group.reason) or None,
            )
        )
    return result, int(total or 0)
