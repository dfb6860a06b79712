"""Finding customers: numbering, the Summary search, duplicates, by id, move and merge targets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import (
    Customer,
    CustomerEvent,
)
from ...rules.request_ids import parse_id
from ..customer_keys import search_condition  # the Summary search: its home

FIRST_CUSTOMER_NUMBER = 1001


def next_customer_number() -> int:
    with db.session.no_autoflush:  # a customer being created may sit unflushed in the session
        highest = db.session.scalar(select(func.max(Customer.number)))
    return FIRST_CUSTOMER_NUMBER if highest is None else max(highest + 1, FIRST_CUSTOMER_NUMBER)


def find_duplicates(
    business_id: str | None,
    vat_number: str | None,
    *,
    exclude_id: int | None = None,
    active: bool | None = None,
) -> list[Customer]:
    """Other customers that already carry this business ID or VAT number (only the active or
    only the inactivated ones with ``active``)."""
    conditions = []
    if business_id:
        conditions.append(Customer.business_id == business_id)
    if vat_number:
        conditions.append(Customer.vat_number == vat_number)
    if not conditions:
        return []
    query = select(Customer).where(or_(*conditions)).order_by(Customer.number)
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    if active is not None:
        query = query.where(Customer.is_active.is_(active))
    return list(db.session.scalars(query.limit(5)))


@dataclass(frozen=True)
class Duplicates:
    """Other customers with a business ID or VAT number being saved."""

    #: active customers: the user confirms that this is not a duplicate before saving
    active: list[Customer]
    #: inactivated ones (merged duplicates among them): never block a save, a note at most
    inactivated: list[Customer]


def duplicates_for_save(
    business_id: str | None,
    vat_number: str | None,
    *,
    customer: Customer | None = None,
) -> Duplicates:
    """What a save of these numbers should say about other customers that have them.

    ``customer``: the customer being edited (None: a new one). An edit that keeps the stored
    numbers asks nothing (the duplicates were confirmed, or merged, before); inactivated
    customers never ask, and only a new customer hears of them.
    """
    exclude_id = customer.id if customer is not None else None
    unchanged = (
        customer is not None
        and customer.business_id == business_id
        # a VAT number derived now from the same business ID is no new number
        and (customer.vat_number or vat_number) == vat_number
    )
    active = (
        []
        if unchanged
        else find_duplicates(business_id, vat_number, exclude_id=exclude_id, active=True)
    )
    inactivated = (
        []
        if customer is not None
        else find_duplicates(business_id, vat_number, exclude_id=exclude_id, active=False)
    )
    return Duplicates(active=active, inactivated=inactivated)


def get_customer(raw_id) -> Customer | None:
    """The customer with this id as a request gives it (text), or None for anything else."""
    value = parse_id(raw_id)
    return None if value is None else db.session.get(Customer, value)


def find_customers(text: str, *, exclude_id: int | None = None, limit: int = 20) -> list[Customer]:
    """Active customers matching the Summary search (name, number, business ID, VAT number)."""
    condition = search_condition(text)
    if condition is None:
        return []
    query = select(Customer).where(condition, Customer.is_active.is_(True))
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    return list(db.session.scalars(query.order_by(Customer.name, Customer.number).limit(limit)))


def likely_duplicates(customer: Customer) -> list[Customer]:
    """Active customers with the same business ID or VAT number, to offer first in a merge."""
    found = find_duplicates(customer.business_id, customer.vat_number, exclude_id=customer.id)
    return [c for c in found if c.is_active]


def merged_into(customer: Customer) -> Customer | None:
    """The customer this one was merged into (its newest merge), if any."""
    return db.session.scalar(
        select(Customer)
        .join(CustomerEvent, CustomerEvent.related_customer_id == Customer.id)
        .where(CustomerEvent.customer_id == customer.id, CustomerEvent.kind == "merged_into")
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .limit(1)
    )


def merged_from(customer: Customer) -> list[Customer]:
    """The duplicates merged into this customer (they keep what could not move)."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(
                Customer.id.in_(
                    select(CustomerEvent.related_customer_id).where(
                        CustomerEvent.customer_id == customer.id,
                        CustomerEvent.kind == "merged_from",
                    )
                )
            )
            .order_by(Customer.number)
        )
    )


def count_inactivated_matches(text: str) -> int:
    """How many inactivated customers the Summary search ``text`` matches."""
    condition = search_condition(text)
    if condition is None:
        return 0
    query = select(func.count()).select_from(Customer)
    return db.session.scalar(query.where(condition, Customer.is_active.is_(False))) or 0
