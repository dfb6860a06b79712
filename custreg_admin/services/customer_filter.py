"""The Summary list's filter model: which customers a list, a KPI figure or a mass update is
about.

:class:`CustomerFilter` is one set of the Summary's filters and search; :class:`CustomerSet`
combines several (all must hold) with the KPI drill-down conditions. Both give an SQL condition
on ``Customer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..models import Customer, customer_segment
from ..rules.open_work import KPI_CONDITIONS
from .customers import search_condition

ACTIVE_STATES = ("active", "inactive", "all")

__all__ = ["ACTIVE_STATES", "CustomerFilter", "CustomerSet"]


@dataclass(frozen=True)
class CustomerFilter:
    """The Summary list's filters and search, as a restriction of the customer set.

    Every field left at ``None`` (or empty search) restricts nothing; ``active_state`` defaults to
    ``'active'`` like the Summary list. ``segment_id`` matches customers in exactly that segment
    (like the list's segment filter; child segments are not included).
    """

    owner_id: int | None = None
    industry_id: int | None = None
    status_id: int | None = None
    segment_id: int | None = None
    country: str | None = None
    active_state: str = "active"
    search: str | None = None
    #: The registry's word on the company: active, liquidation, bankrupt, ceased, or
    #: ``not_active`` for any of the last three.
    registry_status: str | None = None

    def __post_init__(self) -> None:
        if self.active_state not in ACTIVE_STATES:
            raise ValueError(
                f"active_state must be one of {', '.join(ACTIVE_STATES)}, not {self.active_state!r}"
            )

    def condition(self) -> ColumnElement[bool]:
        """SQL condition on ``Customer`` (``true()`` when the filter restricts nothing)."""
        parts: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            parts.append(Customer.owner_id == self.owner_id)
        if self.industry_id is not None:
            parts.append(Customer.industry_id == self.industry_id)
        if self.status_id is not None:
            parts.append(Customer.status_id == self.status_id)
        if self.segment_id is not None:
            members = select(customer_segment.c.customer_id).where(
                customer_segment.c.segment_id == self.segment_id
            )
            parts.append(Customer.id.in_(members))
        if self.country:
            parts.append(Customer.country == self.country.strip().upper())
        if self.active_state == "active":
            parts.append(Customer.is_active.is_(True))
        elif self.active_state == "inactive":
            parts.append(Customer.is_active.is_(False))
        if self.registry_status == "not_active":
            parts.append(Customer.registry_status.in_(("liquidation", "bankrupt", "ceased")))
        elif self.registry_status:
            parts.append(Customer.registry_status == self.registry_status)
        if self.search and self.search.strip():
            found = search_condition(self.search)
            if found is not None:
                parts.append(found)
        return and_(true(), *parts)


@dataclass(frozen=True)
class CustomerSet:
    """Several filters at once, as the Summary list combines them (all must hold).

    ``parts`` are :class:`CustomerFilter` objects; ``counted_in`` names KPI drill-down
    conditions (``"active"``, ``"prospects"``) the customers must also meet.
    """

    parts: tuple[CustomerFilter, ...] = ()
    counted_in: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.counted_in) - set(KPI_CONDITIONS)
        if unknown:
            raise ValueError(f"unknown KPI condition(s): {', '.join(sorted(unknown))}")

    def condition(self) -> ColumnElement[bool]:
        return and_(
            true(),
            *(part.condition() for part in self.parts),
            *(KPI_CONDITIONS[name]() for name in self.counted_in),
        )

    def to_spec(self) -> dict:
        """A JSON-able description (for links, forms and audit records)."""
        fields = CustomerFilter.__dataclass_fields__
        return {
            "parts": [
                {
                    name: getattr(part, name)
                    for name in fields
                    if getattr(part, name) != fields[name].default
                }
                for part in self.parts
            ],
            "counted_in": list(self.counted_in),
        }

    @classmethod
    def from_spec(cls, spec: dict) -> CustomerSet:
        """The inverse of :meth:`to_spec`; raises ValueError on anything it does not know."""
        if not isinstance(spec, dict):
            raise ValueError("a customer set is described by an object")
        known = set(CustomerFilter.__dataclass_fields__)
        parts = []
        for part in spec.get("parts") or []:
            if not isinstance(part, dict) or set(part) - known:
                raise ValueError(f"unknown customer filter: {part!r}")
            for key in ("owner_id", "industry_id", "status_id", "segment_id"):
                value = part.get(key)
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise ValueError(f"{key} must be a number")
            for key in ("country", "active_state", "search", "registry_status"):
                if part.get(key) is not None and not isinstance(part[key], str):
                    raise ValueError(f"{key} must be text")
            parts.append(CustomerFilter(**part))
        counted_in = spec.get("counted_in") or []
        if not isinstance(counted_in, list) or not all(isinstance(c, str) for c in counted_in):
            raise ValueError("counted_in must be a list of names")
        return cls(parts=tuple(parts), counted_in=tuple(counted_in))
