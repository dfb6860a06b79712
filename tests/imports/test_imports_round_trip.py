"""Round trip: the Customers and the Contacts & addresses reports, exported as CSV and as XLSX
in each language, wiped, imported, and compared with what was there."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, select

from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    InvoiceTemplate,
    User,
    VatRate,
)
from custreg_admin.services import imports
from custreg_admin.services.imports import Options

from .. import builders as b
from ..helpers import log_in

CUSTOMER_COLUMNS = [
    "number", "name", "business_id", "vat_number", "country", "owner", "industry",
    "industry_code", "status", "invoice_template", "vat_rate", "segments", "is_active", "website",
    "email", "phone", "notes", "visiting_street", "visiting_postal_code", "visiting_city",
    "visiting_country", "postal_street", "postal_postal_code", "postal_city", "postal_country",
    "billing_street", "billing_postal_code", "billing_city", "billing_country",
    "einvoice_address", "einvoice_operator", "billing_this_year",
]  # fmt: skip
CONTACT_COLUMNS = [
    "customer_number", "customer_name", "contact_name", "first_name", "last_name", "title",
    "contact_email", "contact_phone", "business_id", "owner",
]  # fmt: skip


def _world(owner_id: int) -> None:
    retail, food = b.segment("Retail"), b.segment("Food")
    software = b.industry("Software publishing", code="58290")
    status = db.session.scalar(select(CustomerStatus).where(CustomerStatus.name == "Passive"))
    template = db.session.scalar(select(InvoiceTemplate).limit(1))
    vat = db.session.scalar(select(VatRate).where(VatRate.country == "FI").limit(1))
    first = b.customer(
        "Ääkkönen Oy", number=2001, business_id="0112038-9", vat_number="FI01120389",
        owner=db.session.get(User, owner_id), industry=software, status=status,
        segments=[retail, food], website="https://www.aakkonen.fi", email="info@aakkonen.fi",
        phone="+358 9 123 456", notes="Line one; “quoted”, =not a formula",
        invoice_template_id=template.id, vat_rate_id=vat.id,
    )  # fmt: skip
    first.addresses = [
        Address(kind=kind, street=street, postal_code=code, city=city, country="FI")
        for kind, street, code, city in (
            ("visiting", "Åbohuset 1", "00100", "Helsinki"),
            ("postal", "PL 12", "00101", "Helsinki"),
            ("billing", "Laskutie 3", "00102", "Espoo"),
        )
    ]
    first.einvoice_addresses = [
        EInvoiceAddress(address="003701120389", operator="003721291126", is_default=True)
    ]
    first.contacts = [
        Contact(
            first_name="Örjan", last_name="Öhman", title="CEO", email="o@aakk.fi", phone="040 1"
        ),
        Contact(first_name="Åsa", last_name="Åberg"),
    ]
    second = b.customer("Nordisk Bygg AS", number=2002, business_id="923609016", country="NO")
    second.contacts = [Contact(first_name="Kari", last_name="Nordmann", email="kari@nb.no")]
    db.session.commit()


def _state() -> list[tuple]:
    db.session.expire_all()
    found = []
    for c in db.session.scalars(select(Customer).order_by(Customer.number)):
        found.append(
            (
                c.number, c.name, c.business_id, c.vat_number, c.country,
                c.owner.name if c.owner else None, c.industry_id, c.status_id,
                c.invoice_template_id, c.vat_rate_id, sorted(s.name for s in c.segments),
                c.website, c.email, c.phone, c.notes,
                sorted((a.kind, a.street, a.postal_code, a.city, a.country) for a in c.addresses),
                sorted((e.address, e.operator, e.is_default) for e in c.einvoice_addresses),
                sorted((k.first_name, k.last_name, k.title, k.email, k.phone) for k in c.contacts),
            )
        )  # fmt: skip
    return found


@pytest.mark.commits
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["en", "fi", "nb"])
def test_reports_export_reimports(app, client, make_user, language, fmt):
    admin = make_user("admin", name="Round Trip")
    with app.app_context():
        db.session.get(User, admin.id).locale = language
        db.session.commit()
        _world(admin.id)
        before = _state()
    log_in(client, admin)
    files = {}
    for report, columns in (("customers", CUSTOMER_COLUMNS), ("contacts", CONTACT_COLUMNS)):
        query = urlencode({"type": report, "columns": columns}, doseq=True)
        response = client.get(f"/admin/reports/download/{fmt}/?{query}")
        assert response.status_code == 200
        files[report] = response.data
    with app.app_context():
        db.session.execute(delete(Customer))
        db.session.commit()
        user = db.session.get(User, admin.id)
        for report in ("customers", "contacts"):
            _, review = imports.review_file(
                files[report], f"{report}.{fmt}", Options(update_existing=True)
            )
            assert review.error_rows == 0, [r.errors for r in review.rows]
            imports.apply(user, review, file_name=f"{report}.{fmt}")
        assert _state() == before
