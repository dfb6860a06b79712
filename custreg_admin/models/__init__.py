"""SQLAlchemy models of the customer registry; every table is prefixed ``custreg_``."""

from .customer import ADDRESS_KINDS, Address, Contact, Customer, EInvoiceAddress, customer_segment
from .project import PROJECT_KINDS, SALES_STATUSES, Cost, Invoice, Project, Proposal
from .settings import (
    CustomerStatus,
    Industry,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    VatRate,
)
from .user import ROLES, User

__all__ = [
    "ADDRESS_KINDS",
    "PROJECT_KINDS",
    "ROLES",
    "SALES_STATUSES",
    "Address",
    "Contact",
    "Cost",
    "Customer",
    "CustomerStatus",
    "EInvoiceAddress",
    "Industry",
    "Invoice",
    "InvoiceStatus",
    "InvoiceTemplate",
    "MarketSegment",
    "Project",
    "Proposal",
    "User",
    "VatRate",
    "customer_segment",
]
