"""Inactivating and reactivating a customer."""

from __future__ import annotations

from typing import Any

from ...errors import DomainError
from ...i18n import gettext
from ...models import (
    Customer,
)
from ...rules.access import ensure_may_change as _ensure_may_change
from .unit_of_work import _unit_of_work


def set_active(customer: Customer, active: bool, *, user: Any = None) -> None:
    """Inactivate (``active=False``) or reactivate a customer. Inactivated, it leaves the default
    Summary list; nothing is deleted. The history's choke point records "inactivated" or
    "reactivated"."""
    with _unit_of_work(user):
        if customer.is_active == active:
            already = (
                gettext(
                    "Customer %(number)s %(name)s is already active.",
                    number=customer.number,
                    name=customer.name,
                )
                if active
                else gettext(
                    "Customer %(number)s %(name)s is already inactive.",
                    number=customer.number,
                    name=customer.name,
                )
            )
            raise DomainError(already)
        _ensure_may_change(user, customer, "reactivate" if active else "inactivate")
        customer.is_active = active
