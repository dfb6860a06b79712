"""Flask-Admin views of the module. Thin: they parse input, call services and render."""

from __future__ import annotations

from flask_admin import Admin

from ..extensions import db
from ..i18n import lazy_gettext
from ..models import (
    Cost,
    Customer,
    CustomerStatus,
    Industry,
    Invoice,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    Project,
    Proposal,
    User,
    VatRate,
)
from .base import ProtectedMenuLink
from .card_actions import CardActionsView
from .customers import CustomerView
from .imports import ImportView
from .mass_update import MassUpdateView
from .records import CostView, InvoiceView, ProjectView, ProposalView
from .registries import RegistriesView
from .reports import ReportView
from .settings import (
    CustomerStatusView,
    IndustryView,
    InvoiceStatusView,
    InvoiceTemplateView,
    MarketSegmentView,
    UserView,
    VatRateView,
)

# Category names as CustReg.init_app(categories=...) knows them; the mount shows them translated.
CUSTOMERS = "Customers"
ADD_NEW = "Add new"
PROJECTS = "Projects & billing"
SETTINGS = "Settings"
REPORTS = "Reports"


def register_views(admin: Admin) -> list:
    """Add the module's views to ``admin``; fresh view objects on every call."""
    session = db  # Flask-Admin 2 takes the Flask-SQLAlchemy object
    views = [
        CustomerView(
            Customer,
            session,
            name=lazy_gettext("Summary"),
            category=CUSTOMERS,
            endpoint="custreg_customer",
            url="customers",
        ),
        ProjectView(
            Project,
            session,
            name=lazy_gettext("Projects"),
            category=PROJECTS,
            endpoint="custreg_project",
            url="projects",
        ),
        ProposalView(
            Proposal,
            session,
            name=lazy_gettext("Proposals"),
            category=PROJECTS,
            endpoint="custreg_proposal",
            url="proposals",
        ),
        InvoiceView(
            Invoice,
            session,
            name=lazy_gettext("Invoices"),
            category=PROJECTS,
            endpoint="custreg_invoice",
            url="invoices",
        ),
        CostView(
            Cost,
            session,
            name=lazy_gettext("Costs"),
            category=PROJECTS,
            endpoint="custreg_cost",
            url="costs",
        ),
        IndustryView(
            Industry,
            session,
            name=lazy_gettext("Industries"),
            category=SETTINGS,
            endpoint="custreg_industry",
            url="settings/industries",
        ),
        InvoiceTemplateView(
            InvoiceTemplate,
            session,
            name=lazy_gettext("Invoice templates"),
            category=SETTINGS,
            endpoint="custreg_invoice_template",
            url="settings/invoice-templates",
        ),
        VatRateView(
            VatRate,
            session,
            name=lazy_gettext("VAT rates"),
            category=SETTINGS,
            endpoint="custreg_vat_rate",
            url="settings/vat-rates",
        ),
        CustomerStatusView(
            CustomerStatus,
            session,
            name=lazy_gettext("Customer statuses"),
            category=SETTINGS,
            endpoint="custreg_customer_status",
            url="settings/customer-statuses",
        ),
        MarketSegmentView(
            MarketSegment,
            session,
            name=lazy_gettext("Market segments"),
            category=SETTINGS,
            endpoint="custreg_market_segment",
            url="settings/market-segments",
        ),
        InvoiceStatusView(
            InvoiceStatus,
            session,
            name=lazy_gettext("Invoice statuses"),
            category=SETTINGS,
            endpoint="custreg_invoice_status",
            url="settings/invoice-statuses",
        ),
        UserView(
            User,
            session,
            name=lazy_gettext("Users"),
            category=SETTINGS,
            endpoint="custreg_user",
            url="settings/users",
        ),
        ImportView(
            name=lazy_gettext("Data imports: Customer import"),
            category=SETTINGS,
            endpoint="custreg_import",
            url="settings/data-imports/customers",
        ),
        RegistriesView(
            name=lazy_gettext("Registries"),
            category=SETTINGS,
            endpoint="custreg_registries",
            url="settings/registries",
        ),
    ]
    customers = views[0]
    customer_tools = [
        MassUpdateView(
            name=lazy_gettext("Mass updates"),
            category=CUSTOMERS,
            endpoint="custreg_mass_update",
            url="customers/mass-update",
        ),
        CardActionsView(
            name=lazy_gettext("Move and merge"), endpoint="custreg_moves", url="customers/moves"
        ),
    ]
    records, settings = views[1:5], views[5:]
    reports = ReportView(
        name=lazy_gettext("Report creation"),
        category=REPORTS,
        endpoint="custreg_reports",
        url="reports",
    )
    # menu order: Customers, Add new, Projects & billing, Reports, Settings
    admin.add_views(customers, *customer_tools)
    admin.add_link(
        ProtectedMenuLink(
            name=lazy_gettext("Customer"), endpoint="custreg_customer.create_view", category=ADD_NEW
        )
    )
    admin.add_views(*records, reports, *settings)
    return [customers, *customer_tools, *records, reports, *settings]
