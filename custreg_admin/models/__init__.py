"""SQLAlchemy models of the customer registry; every table is prefixed ``custreg_``."""

from . import constraints  # noqa: E402, F401  (the triggers: created with the tables)
from .customer import (
    ADDRESS_KINDS,
    Address,
    Contact,
    Customer,
    CustomerKey,
    EInvoiceAddress,
    customer_segment,
)
from .customer_import import ImportBatch, ImportChange, ImportMapping
from .history import EVENT_KINDS, CustomerEvent
from .import_run import ImportRow, ImportRun
from .kpi import (
    KpiCustomerDay,
    KpiCustomerMonth,
    KpiDay,
    KpiMonth,
    KpiTotal,
    KpiViewerDay,
    KpiViewerMonth,
)
from .mass_update import MassUpdateBatch, MassUpdateChange
from .project import PROJECT_KINDS, SALES_STATUSES, Cost, Invoice, Project, Proposal
from .report import SavedReport
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
    "EVENT_KINDS",
    "PROJECT_KINDS",
    "ROLES",
    "SALES_STATUSES",
    "Address",
    "Contact",
    "Cost",
    "Customer",
    "CustomerEvent",
    "CustomerKey",
    "CustomerStatus",
    "EInvoiceAddress",
    "ImportBatch",
    "ImportRow",
    "ImportRun",
    "ImportChange",
    "ImportMapping",
    "Industry",
    "Invoice",
    "InvoiceStatus",
    "InvoiceTemplate",
    "KpiCustomerDay",
    "KpiCustomerMonth",
    "KpiDay",
    "KpiMonth",
    "KpiTotal",
    "KpiViewerDay",
    "KpiViewerMonth",
    "MarketSegment",
    "MassUpdateBatch",
    "MassUpdateChange",
    "Project",
    "Proposal",
    "SavedReport",
    "User",
    "VatRate",
    "customer_segment",
]
