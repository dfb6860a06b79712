"""Schema set-up and the settings every registry starts with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import MIGRATIONS_DIR, db
from ..models import CustomerStatus, InvoiceStatus, InvoiceTemplate, VatRate

DEFAULT_CUSTOMER_STATUSES = ("Active", "Passive")
DEFAULT_INVOICE_STATUSES = (
    ("Draft", False),
    ("Approved", False),
    ("Sent", True),
    ("Paid", True),
    ("Credited", False),
)
DEFAULT_VAT_RATES = (
    ("General 25.5%", "25.50", "FI"),
    ("Reduced 14%", "14.00", "FI"),
    ("Reduced 10%", "10.00", "FI"),
    ("Zero-rated", "0.00", "FI"),
    ("General 25%", "25.00", "NO"),
    ("Reduced 15%", "15.00", "NO"),
    ("Reduced 12%", "12.00", "NO"),
    ("Zero-rated", "0.00", "NO"),
)
DEFAULT_INVOICE_TEMPLATES = (("Standard", "fi"), ("Standard EN", "en"), ("Standard NO", "nb"))


def upgrade_schema(revision: str = "head") -> None:
    """Bring the module's tables to the newest migration (in an app context).

    Runs the module's own Alembic scripts with their own configuration, whatever Flask-Migrate
    set-up the app has (a host's ``Migrate`` points at the host's scripts): the module's tables
    and its version table ``custreg_alembic_version`` only.
    """
    from alembic import command
    from alembic.config import Config

    current_app._get_current_object()  # an app context is required: fail early and clearly
    config = Config(str(Path(MIGRATIONS_DIR) / "alembic.ini"))
    config.set_main_option("script_location", MIGRATIONS_DIR)
    command.upgrade(config, revision)


def seed_defaults() -> int:
    """Add the default settings that are missing; returns how many rows were added."""
    added = 0
    existing = set(db.session.scalars(select(CustomerStatus.name)))
    for name in DEFAULT_CUSTOMER_STATUSES:
        if name not in existing:
            db.session.add(CustomerStatus(name=name))
            added += 1
    existing = set(db.session.scalars(select(InvoiceStatus.name)))
    for name, counts in DEFAULT_INVOICE_STATUSES:
        if name not in existing:
            db.session.add(InvoiceStatus(name=name, counts_as_sent=counts))
            added += 1
    existing = {tuple(row) for row in db.session.execute(select(VatRate.name, VatRate.country))}
    for name, percent, country in DEFAULT_VAT_RATES:
        if (name, country) not in existing:
            db.session.add(VatRate(name=name, percent=Decimal(percent), country=country))
            added += 1
    existing = set(db.session.scalars(select(InvoiceTemplate.name)))
    for name, language in DEFAULT_INVOICE_TEMPLATES:
        if name not in existing:
            db.session.add(InvoiceTemplate(name=name, language=language))
            added += 1
    db.session.commit()
    return added
