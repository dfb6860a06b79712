"""The dry run: every row read, mapped, checked (:mod:`.checks`) and matched, with its errors
per cell; rows of one customer grouped into one plan. Nothing is saved.

:class:`Validator` takes rows one at a time (:meth:`Validator.row`), so a caller may keep or
store each row's result as it comes (:func:`validate` keeps them in a :class:`Review`;
:mod:`.jobs` stores them in batches); :meth:`Validator.settle` then says what becomes of each
customer's plan, and :func:`outcome_rows` what that means for its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...i18n import gettext
from .checks import Checker, cells_of
from .matching import compact
from .stored import address_key, contact_key, stored_parts

#: rows validated per batch (the progress callback is called after each)
BATCH_ROWS = 1000


@dataclass
class Options:
    update_existing: bool = False
    create_settings: bool = False
    skip_errors: bool = False
    enrich: bool = False


@dataclass
class RowResult:
    line: int
    raw: list[str]
    errors: dict[str, str] = field(default_factory=dict)  # field ("": the row) -> message
    action: str = "new"  # new, update, unchanged, skip, error, add
    customer: str | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_no: int = 0  # the index of its customer's plan in the file


@dataclass
class Plan:
    """What one customer of the file becomes."""

    lines: list[int]
    existing_id: int | None
    label: str
    values: dict[str, Any] = field(default_factory=dict)  # column -> value (or NewValue)
    segments: list[Any] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    einvoices: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    #: field -> [before, after] as the review and the history show them (names, not ids)
    shown: dict[str, list[Any]] = field(default_factory=dict)
    error: bool = False
    no: int = 0  # its index among the file's plans
    key: tuple | None = None  # what groups the file's rows of this customer (_group_key)
    #: taken back from the store (:meth:`Validator.take` spilled it; a later row joined it)
    reopened: bool = False


@dataclass
class Review:
    headers: list[str]
    mapping: dict[str, str]
    options: Options
    rows: list[RowResult] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    new_settings: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def error_rows(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def new_customers(self) -> int:
        return sum(1 for p in self.plans if p.existing_id is None and not p.error)

    @property
    def updated_customers(self) -> int:
        return sum(
            1 for p in self.plans if p.existing_id is not None and not p.error and has_work(p)
        )

    @property
    def skipped_rows(self) -> int:
        return self.count("skip")


def has_work(plan: Plan) -> bool:
    return bool(plan.values or plan.segments or plan.contacts or plan.addresses or plan.einvoices)


def _group_key(values: Mapping[str, Any], existing_id: int | None) -> tuple | None:
    if existing_id is not None:
        return ("customer", existing_id)
    if values.get("business_id"):
        return ("id", compact(values["business_id"]))
    if values.get("number"):
        return ("number", values["number"])
    if values.get("name"):
        return ("name", values["name"].strip())
    return None


class Validator:
    """Checks rows one by one and groups them into plans; the rows are the caller's.

    By default every plan stays in :attr:`plans` until :meth:`settle`. With ``reopen`` (a
    function giving back a spilled plan by its number, or None) the caller spills the plans
    batch by batch instead (:meth:`take`): only each spilled plan's key (as a hash) and number
    stay, and a later row of that customer takes its plan back through ``reopen``; the plan
    knows its key, so a hash that two keys share reads as no match, never as the other plan."""

    def __init__(
        self,
        headers: list[str],
        mapping: Mapping[str, str],
        options: Options,
        enricher: Callable[[dict[str, str]], list[str]] | None = None,
        *,
        reopen: Callable[[int], Plan | None] | None = None,
    ) -> None:
        self.headers, self.mapping, self.options = list(headers), dict(mapping), options
        self.enricher = enricher
        self.checker = Checker(options)
        self.checker.vat_column = "vat_number" in self.mapping.values()
        #: the plans not yet taken (all of them when nothing is spilled)
        self.plans: list[Plan] = []
        self._by_key: dict[tuple, Plan] = {}
        self._reopen = reopen
        self._spilled: dict[int, int] = {}  # hash of a taken plan's key -> its number
        self._numbers: dict[int, int] = {}  # customer number -> hash of the first key giving it
        self._count = 0

    def take(self) -> list[Plan]:
        """The plans opened or reopened since the last call, forgotten but for their keys."""
        taken, self.plans = self.plans, []
        for plan in taken:
            if plan.key is not None:
                self._spilled[hash(plan.key)] = plan.no
        self._by_key.clear()
        return taken

    def _find(self, key: tuple | None) -> Plan | None:
        if key is None:
            return None
        plan = self._by_key.get(key)
        if plan is None and self._reopen is not None and hash(key) in self._spilled:
            plan = self._reopen(self._spilled[hash(key)])
            if plan is None or plan.key != key:
                return None
            plan.reopened = True
            self._by_key[key] = plan
            self.plans.append(plan)
        return plan

    @property
    def new_settings(self) -> dict[str, set[str]]:
        return self.checker.new_settings

    def row(self, line: int, raw: list[str]) -> RowResult:
        """The checked row (``line``: its line in the file)."""
        checker = self.checker
        result = RowResult(line=line, raw=raw)
        cells = cells_of(raw, self.headers, self.mapping)
        if self.enricher is not None and cells.get("business_id"):
            result.notes.extend(self.enricher(cells))
        values, extra = checker.row(cells, result)
        match = checker.matcher.match(
            values.get("business_id"), values.get("vat_number"), values.get("number"),
            values.get("name"),
        )  # fmt: skip
        if match.error:
            result.errors[match.error_field or ""] = match.error
        existing = match.customer
        if existing is not None and extra["derived_vat"]:
            values.pop("vat_number", None)
        if match.inactive:
            result.notes.append(gettext("Matches an inactivated customer."))
        key = _group_key(values, existing.id if existing else None)
        if key is None and not result.errors:
            result.errors["name"] = gettext("The row names no customer: give at least the name.")
        plan = self._find(key)
        if plan is None:
            if existing is None and "name" not in values and not result.errors:
                result.errors["name"] = gettext("A new customer needs a name.")
            plan = Plan(
                [],
                existing.id if existing else None,
                existing.label if existing else values.get("name", ""),
                key=key,
            )
            if key is not None:
                self._by_key[key] = plan
            plan.no = self._count
            self._count += 1
            self.plans.append(plan)
            if existing is not None and values.get("number") not in (None, existing.number):
                other = checker.matcher.by_number.get(values["number"])
                if other is not None:
                    result.errors["number"] = gettext(
                        "Customer number %(num)s belongs to %(customer)s.", num=values["number"],
                        customer=other.label,
                    )  # fmt: skip
            plan.values = dict(values)
        else:
            result.action = "add"
            for name, value in values.items():
                if name in plan.values and plan.values[name] != value:
                    result.errors[name] = gettext(
                        "Duplicate within the file: row %(line)s gives this customer another "
                        "value here.",
                        line=plan.lines[0],
                    )
        if values.get("number") is not None:
            first = self._numbers.setdefault(values["number"], hash(key))
            if first != hash(key):
                result.errors["number"] = gettext(
                    "Duplicate within the file: another customer has number %(num)s.",
                    num=values["number"],
                )
        plan.lines.append(result.line)
        result.plan_no = plan.no
        if existing is not None:
            result.customer = existing.label
        _add_parts(plan, extra, result)
        if result.errors:
            plan.error = True
        return result

    def settle(self, plans: list[Plan] | None = None) -> Iterator[tuple[int, Plan, str]]:
        """Each plan's number and outcome (``plans``: default all the plans kept): ``error`` (a
        row of it has errors), ``new``, ``skip`` (matched; updates not approved), ``update`` or
        ``unchanged``. Updates are compared with what is stored, and the rows and parts already
        there are left out."""
        lookups = self.checker.lookups
        plans = self.plans if plans is None else plans
        for start in range(0, len(plans), BATCH_ROWS):
            chunk = plans[start : start + BATCH_ROWS]
            stored = stored_parts([p.existing_id for p in chunk if p.existing_id is not None])
            for plan in chunk:
                yield plan.no, plan, _settle_plan(plan, stored, lookups, self.options)


def _settle_plan(plan: Plan, stored: Mapping[int, Any], lookups: Any, options: Options) -> str:
    if plan.error:
        return "error"
    if plan.existing_id is None:
        plan.shown = {
            k.removesuffix("_id"): [None, lookups.label(k, v)] for k, v in plan.values.items()
        }
        return "new"
    if not options.update_existing:
        plan.error = True  # nothing of it is applied
        return "skip"
    current = stored.get(plan.existing_id, {})
    plan.before = {k: current.get(k) for k, v in plan.values.items() if current.get(k) != v}
    plan.values = {k: plan.values[k] for k in plan.before}
    plan.segments = [s for s in plan.segments if s not in current.get("segments", set())]
    plan.contacts = [
        c for c in plan.contacts if contact_key(c) not in current.get("contacts", set())
    ]
    plan.addresses = [
        a for a in plan.addresses if address_key(a) not in current.get("addresses", set())
    ]
    plan.einvoices = [
        e for e in plan.einvoices if e["address"] not in current.get("einvoices", set())
    ]
    plan.shown = {
        k.removesuffix("_id"): [lookups.label(k, plan.before[k]), lookups.label(k, v)]
        for k, v in plan.values.items()
    }
    return "update" if has_work(plan) else "unchanged"


def another_row_error() -> dict[str, str]:
    return {"": gettext("Another row of this customer has errors.")}


def outcome_rows(rows: list[RowResult], plan: Plan, outcome: str) -> None:
    """The rows of a settled plan take its outcome (``new`` leaves them as they were)."""
    if outcome == "error":
        for row in rows:
            row.action = "error"
            if not row.errors:
                row.errors.update(another_row_error())
    elif outcome in ("skip", "update", "unchanged"):
        for row in rows:
            row.action = outcome
        if outcome != "skip":
            rows[0].changes = changes_of(plan)


def changes_of(plan: Plan) -> list[tuple[str, Any, Any]]:
    return [(k, b, a) for k, (b, a) in plan.shown.items()]


def validate(
    table_headers: list[str],
    rows: Iterable[list[str]],
    mapping: Mapping[str, str],
    options: Options,
    *,
    progress: Callable[[int], None] | None = None,
    enricher: Callable[[dict[str, str]], list[str]] | None = None,
) -> Review:
    """Check every row, keeping them all (the CLI, tests, small files); group the rows of each
    customer into a :class:`Plan`."""
    review = Review(list(table_headers), dict(mapping), options)
    validator = Validator(table_headers, mapping, options, enricher)
    for count, raw in enumerate(rows, start=1):
        review.rows.append(validator.row(count + 1, raw))
        if progress is not None and count % BATCH_ROWS == 0:
            progress(count)
    by_line = {r.line: r for r in review.rows}
    for _, plan, outcome in validator.settle():
        outcome_rows([by_line[line] for line in plan.lines], plan, outcome)
    review.plans = validator.plans
    review.new_settings = validator.new_settings
    return review


def _add_parts(plan: Plan, extra: Mapping[str, Any], result: RowResult) -> None:
    for segment in extra["segments"]:
        if segment not in plan.segments:
            plan.segments.append(segment)
    if extra["contact"] is not None:
        if extra["contact"] in plan.contacts:
            result.errors["contact_last_name"] = gettext(
                "Duplicate within the file: this contact is already on an earlier row."
            )
        else:
            plan.contacts.append(extra["contact"])
    for address in extra["addresses"]:
        if address not in plan.addresses:
            plan.addresses.append(address)
    if extra["einvoice"] is not None and extra["einvoice"] not in plan.einvoices:
        plan.einvoices.append(extra["einvoice"])
