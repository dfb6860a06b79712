"""Finding the existing customer a row is about, in this order: business ID or VAT number
(normalised with python-stdnum, :mod:`custreg_admin.services.business_ids`), customer number,
exact name. The first key that finds anyone decides; two customers for one key is an error,
never a guess. Inactivated customers are matched and flagged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...i18n import gettext
from ...models import Customer

_NOISE = re.compile(r"[\s.\-]+")


def compact(value: str | None) -> str:
    """A business ID or VAT number without spacing, dots and dashes, upper case."""
    return _NOISE.sub("", value or "").upper()


@dataclass(frozen=True)
class Existing:
    id: int
    number: int
    name: str
    business_id: str | None
    vat_number: str | None
    is_active: bool

    @property
    def label(self) -> str:
        return f"{self.number} {self.name}"


@dataclass(frozen=True)
class Match:
    customer: Existing | None = None
    key: str | None = None  # "business_id", "number", "name"
    error: str | None = None
    error_field: str | None = None
    inactive: bool = False


class Matcher:
    """The registry's customers indexed by each key (one query; then lookups in memory)."""

    def __init__(self) -> None:
        self.by_id: dict[str, list[Existing]] = defaultdict(list)
        self.by_number: dict[int, Existing] = {}
        self.by_name: dict[str, list[Existing]] = defaultdict(list)
        rows = db.session.execute(
            select(
                Customer.id,
                Customer.number,
                Customer.name,
                Customer.business_id,
                Customer.vat_number,
                Customer.is_active,
            )
        )
        for row in rows:
            existing = Existing(*row)
            self.add(existing)

    def add(self, existing: Existing) -> None:
        keys = {compact(existing.business_id), compact(existing.vat_number)} - {""}
        for key in keys:
            self.by_id[key].append(existing)
        self.by_number[existing.number] = existing
        self.by_name[existing.name.strip()].append(existing)

    def numbers(self) -> set[int]:
        return set(self.by_number)

    def match(
        self, business_id: str | None, vat_number: str | None, number: int | None, name: str | None
    ) -> Match:
        ids = [compact(v) for v in (business_id, vat_number) if v]
        found: dict[int, Existing] = {}
        for key in ids:
            for existing in self.by_id.get(key, ()):
                found[existing.id] = existing
        if found:
            return self._decide(list(found.values()), "business_id")
        if number is not None and number in self.by_number:
            return self._decide([self.by_number[number]], "number")
        if name and name.strip() in self.by_name:
            return self._decide(self.by_name[name.strip()], "name")
        return Match()

    def _decide(self, found: list[Existing], key: str) -> Match:
        if len(found) > 1:
            labels = ", ".join(e.label for e in sorted(found, key=lambda e: e.number)[:5])
            return Match(
                key=key,
                error=gettext(
                    "Ambiguous: %(num)s customers fit (%(customers)s); give the customer "
                    "number to choose one.",
                    num=len(found),
                    customers=labels,
                ),
                error_field=key,
            )
        existing = found[0]
        return Match(existing, key, inactive=not existing.is_active)
