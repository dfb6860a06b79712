"""Moving projects between customers, inactivating and reactivating customers."""

from __future__ import annotations

from ..extensions import db
from ..models import Customer
from .errors import DomainError


def inactivate_customer(customer: Customer) -> None:
    """Inactivate a customer: it leaves the default Summary list, nothing is deleted."""
    if not customer.is_active:
        raise DomainError(f"Customer {customer.number} {customer.name} is already inactive.")
    customer.is_active = False
    db.session.commit()


def reactivate_customer(customer: Customer) -> None:
    if customer.is_active:
        raise DomainError(f"Customer {customer.number} {customer.name} is already active.")
    customer.is_active = True
    db.session.commit()
