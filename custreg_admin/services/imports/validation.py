"""The dry run: every row read, mapped, checked by the registry's own rules and matched, with
its errors per cell; rows of one customer grouped into one plan. Nothing is saved.

The rules are the ones the card uses: business IDs and VAT numbers
(:func:`~custreg_admin.services.business_ids.normalise_identifiers`), e-invoicing addresses and
operators (:mod:`custreg_admin.rules.einvoice`), websites (:mod:`custreg_admin.rules.website`),
owners, industries, statuses and segments from the settings (:mod:`.lookups`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from ...errors import InvalidIdentifier
from ...i18n import gettext
from ...models.customer import NOTES_MAX_LENGTH
from ...rules import einvoice
from ...rules.website import InvalidWebsite, normalise_website
from ..business_ids import normalise_identifiers
from .columns import ADDRESS_KINDS, ADDRESS_PARTS
from .lookups import Lookups
from .matching import Matcher, compact
from .stored import address_key, contact_key, stored_parts

#: rows validated per batch (the progress callback is called after each)
BATCH_ROWS = 1000
_LIMITS = {
    "name": 300, "website": 300, "email": 254, "phone": 50, "notes": NOTES_MAX_LENGTH,
    "street": 300, "postal_code": 20, "city": 100, "einvoice_address": 100,
    "einvoice_operator": 100, "contact_first_name": 100, "contact_last_name": 100,
    "contact_title": 200, "contact_email": 254, "contact_phone": 50, "contact_name": 201,
}  # fmt: skip
_DEFAULT_LIMIT = 300


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


def _cells(row: list[str], headers: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    cells = {}
    for index, header in enumerate(headers):
        target = mapping.get(header)
        if target and index < len(row):
            text = row[index].strip()
            if text:
                cells[target] = text
    return cells


def _limit(name: str) -> int:
    return _LIMITS.get(name) or _LIMITS.get(name.split("_", 1)[-1], _DEFAULT_LIMIT)


class _Checker:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.lookups = Lookups()
        self.matcher = Matcher()
        self.default_country = current_app.config.get("CUSTREG_DEFAULT_COUNTRY", "FI")
        self.new_settings: dict[str, set[str]] = {}
        #: the file has a VAT number column: an empty cell says "none", derive nothing
        self.vat_column = False

    def _new(self, value: Any) -> Any:
        if isinstance(value, tuple):
            self.new_settings.setdefault(value[0], set()).add(value[1])
        return value

    def row(self, cells: dict[str, str], result: RowResult) -> tuple[dict[str, Any], dict]:
        """Customer values and the row's contact, addresses, e-invoicing address."""
        errors = result.errors
        for name, text in cells.items():
            if len(text) > _limit(name):
                errors[name] = gettext(
                    "Too long: %(num)s characters, at most %(max)s.",
                    num=len(text),
                    max=_limit(name),
                )
        values: dict[str, Any] = {}
        for name in ("name", "website", "email", "phone", "notes"):
            if name in cells and name not in errors:
                values[name] = cells[name]
        if "number" in cells:
            text = cells["number"]
            if text.isdigit() and 0 < int(text) < 2**31:
                values["number"] = int(text)
            else:
                errors["number"] = gettext("A customer number is a positive whole number.")
        country = (cells.get("country") or "").upper()
        if country and (len(country) != 2 or not country.isalpha()):
            errors["country"] = gettext("Give the country as a two-letter code, such as FI or NO.")
            country = ""
        if "business_id" in cells or "vat_number" in cells:
            try:
                ids = normalise_identifiers(
                    country or self.default_country,
                    cells.get("business_id"),
                    cells.get("vat_number"),
                    infer_country=not country,
                    derive_vat=not self.vat_column,
                )
                values["business_id"], values["vat_number"] = ids.business_id, ids.vat_number
                country = country or ids.country or ""
            except InvalidIdentifier as error:
                errors[error.field] = str(error)
        if country:
            values["country"] = country
        if "website" in values:
            try:
                values["website"] = normalise_website(values["website"])
            except InvalidWebsite as error:
                errors["website"] = str(error)
                values.pop("website")
        for name in ("email",):
            if name in values and "@" not in values[name]:
                errors[name] = gettext("%(value)s is not an e-mail address.", value=values[name])
        lookups, create = self.lookups, self.options.create_settings
        if "owner" in cells:
            values["owner_id"], problem = lookups.owner(cells["owner"])
            if problem:
                errors["owner"] = problem
        if "industry" in cells or "industry_code" in cells:
            found, problem = lookups.industry(
                cells.get("industry", ""), cells.get("industry_code"), create
            )
            if problem:
                errors["industry" if "industry" in cells else "industry_code"] = problem
            else:
                values["industry_id"] = self._new(found)
        if "status" in cells:
            found, problem = lookups.status(cells["status"], create)
            if problem:
                errors["status"] = problem
            else:
                values["status_id"] = self._new(found)
        if "invoice_template" in cells:
            values["invoice_template_id"], problem = lookups.template(cells["invoice_template"])
            if problem:
                errors["invoice_template"] = problem
        if "vat_rate" in cells:
            found, problem = lookups.vat_rate(cells["vat_rate"], country or self.default_country)
            if problem:
                errors["vat_rate"] = problem
            values["vat_rate_id"] = found
        extra: dict[str, Any] = {"segments": [], "contact": None, "addresses": [], "einvoice": None}
        # a VAT number derived from the business ID completes a new customer, never an update
        extra["derived_vat"] = bool(values.get("vat_number")) and "vat_number" not in cells
        if "segments" in cells:
            found, problem = lookups.segment_list(cells["segments"], create)
            if problem:
                errors["segments"] = problem
            extra["segments"] = [self._new(s) for s in found]
        self._parts(cells, values, extra, errors, country)
        return {k: v for k, v in values.items() if v is not None}, extra

    def _parts(self, cells, values, extra, errors, country) -> None:
        for kind in ADDRESS_KINDS:
            parts = {p: cells.get(f"{kind}_{p}") for p in ADDRESS_PARTS}
            if any(parts[p] for p in ("street", "postal_code", "city")):
                parts["country"] = (parts["country"] or country or self.default_country).upper()[:2]
                extra["addresses"].append({"kind": kind, **parts})
        if "einvoice_address" in cells:
            owner = einvoice.Customer(country or self.default_country, values.get("business_id"))
            try:
                address = einvoice.normalise_address(cells["einvoice_address"], owner)
                operator = einvoice.normalise_operator(cells.get("einvoice_operator"))
                extra["einvoice"] = {"address": address, "operator": operator}
            except einvoice.EInvoiceProblem as error:
                errors["einvoice_address"] = str(error)
        contact = {k[8:]: cells.get(k) for k in (
            "contact_first_name", "contact_last_name", "contact_title", "contact_email",
            "contact_phone",
        )}  # fmt: skip
        if not contact["last_name"] and cells.get("contact_name"):
            first, _, last = cells["contact_name"].rpartition(" ")
            contact["first_name"], contact["last_name"] = first or contact["first_name"], last
        if any(contact.values()):
            if not contact["last_name"]:
                errors["contact_last_name"] = gettext("A contact needs a last name.")
            elif contact["email"] and "@" not in contact["email"]:
                errors["contact_email"] = gettext(
                    "%(value)s is not an e-mail address.", value=contact["email"]
                )
            else:
                extra["contact"] = contact


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


def validate(
    table_headers: list[str],
    rows: Iterable[list[str]],
    mapping: Mapping[str, str],
    options: Options,
    *,
    progress: Callable[[int], None] | None = None,
    enricher: Callable[[dict[str, str]], list[str]] | None = None,
) -> Review:
    """Check every row; group the rows of each customer into a :class:`Plan`."""
    review = Review(list(table_headers), dict(mapping), options)
    checker = _Checker(options)
    checker.vat_column = "vat_number" in mapping.values()
    plans: dict[tuple, Plan] = {}
    numbers_in_file: dict[int, tuple] = {}
    for count, raw in enumerate(rows, start=1):
        result = RowResult(line=count + 1, raw=raw)
        cells = _cells(raw, review.headers, mapping)
        if enricher is not None and cells.get("business_id"):
            result.notes.extend(enricher(cells))
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
        plan = plans.get(key) if key is not None else None
        if plan is None:
            if existing is None and "name" not in values and not result.errors:
                result.errors["name"] = gettext("A new customer needs a name.")
            plan = Plan(
                [],
                existing.id if existing else None,
                existing.label if existing else values.get("name", ""),
            )
            if key is not None:
                plans[key] = plan
            review.plans.append(plan)
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
            first = numbers_in_file.setdefault(values["number"], key)
            if first != key:
                result.errors["number"] = gettext(
                    "Duplicate within the file: another customer has number %(num)s.",
                    num=values["number"],
                )
        plan.lines.append(result.line)
        if existing is not None:
            result.customer = existing.label
        _add_parts(plan, extra, result)
        if result.errors:
            plan.error = True
        review.rows.append(result)
        if progress is not None and count % BATCH_ROWS == 0:
            progress(count)
    _settle(review, checker)
    review.new_settings = checker.new_settings
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


def _settle(review: Review, checker: _Checker) -> None:
    """Updates: compare with what is stored; leave out rows and parts already there."""
    options = review.options
    by_line = {r.line: r for r in review.rows}
    existing_ids = [p.existing_id for p in review.plans if p.existing_id is not None]
    stored = stored_parts(existing_ids)
    for plan in review.plans:
        rows = [by_line[line] for line in plan.lines]
        if plan.error:
            for row in rows:
                row.action = "error"
                if not row.errors:
                    row.errors[""] = gettext("Another row of this customer has errors.")
            continue
        lookups = checker.lookups
        if plan.existing_id is None:
            plan.shown = {
                k.removesuffix("_id"): [None, lookups.label(k, v)] for k, v in plan.values.items()
            }
            continue
        if not options.update_existing:
            for row in rows:
                row.action = "skip"
            plan.error = True  # nothing of it is applied
            continue
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
        for row in rows:
            row.action = "update" if has_work(plan) else "unchanged"
        rows[0].changes = [(k, b, a) for k, (b, a) in plan.shown.items()]
