"""Which customers a mass update takes: ticked ids, a Summary spec or a report; counts and
the selection in words."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    false,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from ...errors import PermissionDenied
from ...extensions import db
from ...i18n import gettext, lazy_gettext, ngettext
from ...models import (
    Customer,
    CustomerStatus,
    Industry,
    MarketSegment,
    User,
)
from ...registries import STATUS_LABELS
from ...rules.open_work import KPI_CONDITIONS
from ...rules.request_ids import (
    MAX_SELECTED_IDS,
    InvalidSelection,
    in_ids,
)
from .. import reports
from ..customer_filter import CustomerSet
from .actions import InvalidValue, _as_id


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
    total, mine = db.session.execute(
        select(func.count(), own).select_from(Customer).where(condition)
    ).one()
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
