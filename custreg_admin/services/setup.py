"""Schema set-up and the settings every registry starts with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import MIGRATIONS_DIR, db
from ..i18n import LANGUAGES, default_language, lazy_pgettext
from ..models import CustomerStatus, InvoiceStatus, InvoiceTemplate, VatRate

#: The settings every registry starts with, named in English here and seeded in the installation's
#: language (``CUSTREG_DEFAULT_LOCALE``; see :func:`seed_defaults`).
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

#: How each seeded name reads in the module's languages (context "seeded setting").
SEEDED_NAMES = {
    # TRANSLATORS: a customer status the registry starts with
    "Active": lazy_pgettext("seeded setting", "Active"),
    # TRANSLATORS: a customer status the registry starts with: no longer a customer in practice
    "Passive": lazy_pgettext("seeded setting", "Passive"),
    # TRANSLATORS: an invoice status
    "Draft": lazy_pgettext("seeded setting", "Draft"),
    "Approved": lazy_pgettext("seeded setting", "Approved"),
    "Sent": lazy_pgettext("seeded setting", "Sent"),
    "Paid": lazy_pgettext("seeded setting", "Paid"),
    "Credited": lazy_pgettext("seeded setting", "Credited"),
    # TRANSLATORS: a VAT rate's name (Finland's general rate)
    "General 25.5%": lazy_pgettext("seeded setting", "General 25.5%"),
    "Reduced 14%": lazy_pgettext("seeded setting", "Reduced 14%"),
    "Reduced 10%": lazy_pgettext("seeded setting", "Reduced 10%"),
    "Zero-rated": lazy_pgettext("seeded setting", "Zero-rated"),
    # TRANSLATORS: a VAT rate's name (Norway's general rate)
    "General 25%": lazy_pgettext("seeded setting", "General 25%"),
    "Reduced 15%": lazy_pgettext("seeded setting", "Reduced 15%"),
    "Reduced 12%": lazy_pgettext("seeded setting", "Reduced 12%"),
    # TRANSLATORS: an invoice template's name: the standard template, in Finnish
    "Standard": lazy_pgettext("seeded setting", "Standard"),
    # TRANSLATORS: an invoice template's name: the standard template, in English
    "Standard EN": lazy_pgettext("seeded setting", "Standard EN"),
    # TRANSLATORS: an invoice template's name: the standard template, in Norwegian
    "Standard NO": lazy_pgettext("seeded setting", "Standard NO"),
}


def seeded_name(english: str, language: str | None = None) -> str:
    """A seeded setting's name in ``language`` (default: the installation's,
    ``CUSTREG_DEFAULT_LOCALE``)."""
    with force_locale(language or default_language()):
        return str(SEEDED_NAMES[english])


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


def seed_defaults(language: str | None = None) -> int:
    """Add the default settings that are missing, named in ``language`` (default: the
    installation's, ``CUSTREG_DEFAULT_LOCALE``); returns how many rows were added.

    Settings are the company's own data, with one name each (what reports, filters and imports
    match on), so they are seeded in the company's language and renamed in Settings at will. A
    default counts as there when a row has its name in any of the module's languages (an older
    installation's English seed, or one made before ``CUSTREG_DEFAULT_LOCALE`` changed)."""

    def present(english: str, names) -> bool:
        return english in names or any(seeded_name(english, code) in names for code in LANGUAGES)

    added = 0
    existing = set(db.session.scalars(select(CustomerStatus.name)))
    for name in DEFAULT_CUSTOMER_STATUSES:
        if not present(name, existing):
            db.session.add(CustomerStatus(name=seeded_name(name, language)))
            added += 1
    if not db.session.scalar(select(CustomerStatus.id).where(CustomerStatus.is_default_for_new)):
        db.session.flush()
        active = db.session.scalar(
            select(CustomerStatus)
            .where(CustomerStatus.name.in_({seeded_name("Active", code) for code in LANGUAGES}))
            .order_by(CustomerStatus.id)
            .limit(1)
        )
        if active is not None:
            active.is_default_for_new = True  # new customers start Active (Settings may change it)
    existing = set(db.session.scalars(select(InvoiceStatus.name)))
    for name, counts in DEFAULT_INVOICE_STATUSES:
        if not present(name, existing):
            db.session.add(InvoiceStatus(name=seeded_name(name, language), counts_as_sent=counts))
            added += 1
    rates = {tuple(row) for row in db.session.execute(select(VatRate.country, VatRate.name))}
    for name, percent, country in DEFAULT_VAT_RATES:
        if not present(name, {n for c, n in rates if c == country}):
            local = seeded_name(name, language)
            db.session.add(VatRate(name=local, percent=Decimal(percent), country=country))
            added += 1
    existing = set(db.session.scalars(select(InvoiceTemplate.name)))
    for name, template_language in DEFAULT_INVOICE_TEMPLATES:
        if not present(name, existing):
            db.session.add(
                InvoiceTemplate(name=seeded_name(name, language), language=template_language)
            )
            added += 1
    db.session.commit()
    return added


def seeded_ids(model, names, language: str | None = None) -> dict[str, int]:
    """The ids of seeded rows of ``model`` by their English names (rows named in English or in
    ``language``, default the installation's); for code that refers to the defaults."""
    by_name = {row.name: row.id for row in db.session.scalars(select(model))}
    found = {}
    for english in names:
        local = seeded_name(english, language)
        if local in by_name or english in by_name:
            found[english] = by_name.get(local, by_name.get(english))
    return found
