"""Concise builders of hand-made data sets for service tests (call inside an app context).

Every builder adds its row to ``db.session`` and flushes, so it has an id and later queries in
the same session see it; commit is up to the test. Users may be given as ``User`` objects
(attached or detached, e.g. from the ``make_user`` fixture) or as ids.

    owner = make_user("user")
    acme = customer("Acme", owner=owner)
    deal = sales_case(acme, manager=owner)
    invoice(acme, "100.00", date(2024, 3, 1), project=deal)
    cost(deal, "40.00", date(2024, 3, 2))
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import (
    Cost,
    Customer,
    CustomerStatus,
    Industry,
    Invoice,
    InvoiceStatus,
    MarketSegment,
    Project,
    Proposal,
    User,
)

_numbers = itertools.count(1)
AUTO: Any = object()  # "make one up" for invoice numbers


def _id(user: Any) -> int | None:
    return user if user is None or isinstance(user, int) else user.id


def _add(row):
    db.session.add(row)
    db.session.flush()
    return row


def _money(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def user(role: str = "admin", *, name: str | None = None, email: str | None = None) -> User:
    """A user of that role with an unusable password, for service tests (the ``make_user``
    fixture makes one that can log in)."""
    n = next(_numbers)
    return _add(
        User(
            email=email or f"{role}-{n}@example.com",
            name=name or f"{role.title()} {n}",
            role=role,
            password_hash="x",
        )
    )


def invoice_status(name: str = "Sent", counts_as_sent: bool | None = None) -> InvoiceStatus:
    """The invoice status of that name; made when missing (seeded: Draft, Approved, Sent, Paid,
    Credited). ``counts_as_sent`` is required for a new name."""
    found = db.session.scalar(select(InvoiceStatus).where(InvoiceStatus.name == name))
    if found is not None:
        if counts_as_sent is not None and found.counts_as_sent != counts_as_sent:
            raise ValueError(f"invoice status {name!r} exists with another counts_as_sent")
        return found
    if counts_as_sent is None:
        raise ValueError(f"no invoice status {name!r}: give counts_as_sent to make one")
    return _add(InvoiceStatus(name=name, counts_as_sent=counts_as_sent))


def industry(name: str | None = None, code: str | None = None) -> Industry:
    return _add(Industry(name=name or f"Industry {next(_numbers)}", code=code))


def segment(name: str | None = None, parent: MarketSegment | None = None) -> MarketSegment:
    return _add(MarketSegment(name=name or f"Segment {next(_numbers)}", parent=parent))


def customer_status(name: str = "Active") -> CustomerStatus:
    found = db.session.scalar(select(CustomerStatus).where(CustomerStatus.name == name))
    return found if found is not None else _add(CustomerStatus(name=name))


def customer(
    name: str | None = None,
    *,
    owner: Any = None,
    is_active: bool = True,
    segments: Iterable[MarketSegment] = (),
    industry: Industry | None = None,
    status: CustomerStatus | None = None,
    country: str = "FI",
    number: int | None = None,
    **columns: Any,
) -> Customer:
    n = next(_numbers)
    row = Customer(
        number=number if number is not None else 100_000 + n,
        name=name or f"Customer {n}",
        owner_id=_id(owner),
        is_active=is_active,
        industry_id=industry.id if industry is not None else None,
        status_id=status.id if status is not None else None,
        country=country,
        **columns,
    )
    row.segments = list(segments)
    return _add(row)


def project(
    customer: Customer,
    *,
    kind: str = "project",
    sales_status: str = "in_progress",
    is_closed: bool = False,
    is_internal: bool = False,
    manager: Any = None,
    name: str | None = None,
) -> Project:
    return _add(
        Project(
            customer_id=customer.id,
            name=name or f"{kind.replace('_', ' ').capitalize()} {next(_numbers)}",
            kind=kind,
            sales_status=sales_status,
            is_closed=is_closed,
            is_internal=is_internal,
            manager_id=_id(manager),
        )
    )


def sales_case(customer: Customer, **kwargs: Any) -> Project:
    """A project of kind ``sales_case`` (in progress, open, not internal unless told)."""
    return project(customer, kind="sales_case", **kwargs)


def invoice(
    customer: Customer,
    total: Decimal | str | int,
    day: date,
    *,
    project: Project | None = None,
    number: str | None = AUTO,
    status: str | InvoiceStatus = "Sent",
) -> Invoice:
    """An invoice; by default status ``Sent`` (counts as sent) with a made-up number.

    ``number=None`` or ``''`` makes one with an empty number.
    """
    status_row = status if isinstance(status, InvoiceStatus) else invoice_status(status)
    return _add(
        Invoice(
            customer_id=customer.id,
            project_id=project.id if project is not None else None,
            number=f"INV-{next(_numbers)}" if number is AUTO else number,
            date=day,
            status_id=status_row.id,
            total=_money(total),
        )
    )


def proposal(project: Project, number: str, total: Decimal | str | int = "500.00") -> Proposal:
    return _add(Proposal(project_id=project.id, number=number, total=_money(total)))


def cost(project: Project, amount: Decimal | str | int, day: date) -> Cost:
    return _add(Cost(project_id=project.id, date=day, amount=_money(amount)))


def many_customers(count: int, *, owner: Any = None, per_customer: bool = True) -> list[Customer]:
    """``count`` customers, each (when ``per_customer``) with an open project, an open sales case,
    a sent invoice and a cost dated in 2024: a data set whose size is what varies."""
    made = []
    for n in range(count):
        row = customer(owner=owner)
        if per_customer:
            work = project(row, manager=owner)
            sales_case(row)
            invoice(row, "10.00", date(2024, 1 + n % 12, 1 + n % 28), project=work)
            cost(work, "1.00", date(2024, 1 + n % 12, 1))
        made.append(row)
    return made
