"""Deterministic, realistic demo data of any size: ``flask custreg demo --customers N``.

Finnish and Norwegian companies with valid business IDs and VAT numbers, addresses, contacts,
e-invoicing addresses, market segments, projects and sales cases, proposals, invoices and costs,
owned by a handful of demo users (log in as :data:`DEMO_ADMIN_EMAIL` / :data:`DEMO_PASSWORD`).

The same seed (and chunk size) on an empty database gives the same data; dates are relative to
``today``, which is a parameter. Rows go in with bulk ``INSERT``s, a chunk of customers with all
their rows per transaction, so 100,000 customers load in minutes. Running it again adds more
customers, numbered after the highest existing number, with business IDs no other customer has.

Per customer, by default: 3 projects and sales cases, 10 invoices and 10 costs (exact totals),
about 2.2 addresses, 2.25 contacts, 0.65 e-invoicing addresses and 0.95 market segments.
"""

from .bulk import BULK_FROM, progress_length, uses_bulk
from .identifiers import business_ids, fi_business_id, no_business_id, vat_number
from .loading import (
    CHUNK_SIZE,
    COSTS_PER_CUSTOMER,
    FIRST_INVOICE_NUMBER,
    INVOICES_PER_CUSTOMER,
    PROJECTS_PER_CUSTOMER,
    generate,
)
from .settings import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DemoSummary, has_customers

__all__ = [
    "BULK_FROM",
    "CHUNK_SIZE",
    "COSTS_PER_CUSTOMER",
    "DEMO_ADMIN_EMAIL",
    "DEMO_PASSWORD",
    "DemoSummary",
    "FIRST_INVOICE_NUMBER",
    "INVOICES_PER_CUSTOMER",
    "PROJECTS_PER_CUSTOMER",
    "business_ids",
    "fi_business_id",
    "generate",
    "has_customers",
    "no_business_id",
    "progress_length",
    "uses_bulk",
    "vat_number",
]
