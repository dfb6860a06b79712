"""What is stored for the customers an import updates: their fields, segment links, and the
contacts, addresses and e-invoicing addresses they have (so that the file's are not added twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from ...extensions import db
from ...models import Address, Contact, Customer, EInvoiceAddress, customer_segment

#: customer columns an update may set, in the review's order
CUSTOMER_COLUMNS = (
    "name", "number", "business_id", "vat_number", "country", "owner_id", "industry_id",
    "status_id", "invoice_template_id", "vat_rate_id", "website", "email", "phone", "notes",
)  # fmt: skip


def contact_key(contact: Mapping[str, Any]) -> tuple:
    return tuple((contact.get(k) or "").casefold() for k in ("first_name", "last_name", "email"))


def address_key(address: Mapping[str, Any]) -> tuple:
    return tuple(
        (address.get(k) or "").casefold() for k in ("kind", "street", "postal_code", "city")
    )


def stored_parts(ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    columns = [getattr(Customer, c) for c in CUSTOMER_COLUMNS]
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for row in db.session.execute(select(Customer.id, *columns).where(Customer.id.in_(chunk))):
            found[row.id] = {
                **dict(zip(CUSTOMER_COLUMNS, row[1:], strict=True)),
                "segments": set(), "contacts": set(), "addresses": set(), "einvoices": set(),
            }  # fmt: skip
        for cid, sid in db.session.execute(
            select(customer_segment.c.customer_id, customer_segment.c.segment_id).where(
                customer_segment.c.customer_id.in_(chunk)
            )
        ):
            found[cid]["segments"].add(sid)
        for row in db.session.execute(
            select(Contact.customer_id, Contact.first_name, Contact.last_name, Contact.email).where(
                Contact.customer_id.in_(chunk)
            )
        ):
            found[row.customer_id]["contacts"].add(contact_key(row._mapping))
        for row in db.session.execute(
            select(
                Address.customer_id, Address.kind, Address.street, Address.postal_code, Address.city
            ).where(Address.customer_id.in_(chunk))
        ):
            found[row.customer_id]["addresses"].add(address_key(row._mapping))
        for cid, address in db.session.execute(
            select(EInvoiceAddress.customer_id, func.upper(EInvoiceAddress.address)).where(
                EInvoiceAddress.customer_id.in_(chunk)
            )
        ):
            found[cid]["einvoices"].add(address)
    return found
