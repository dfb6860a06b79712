"""The choice lists that filters, forms and reports offer: settings rows, users, countries.

One place for each list, so the Summary filters, the mass-update forms and the report builder
show the same rows in the same order.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..cache import CHOICES, module_cache
from ..extensions import db
from ..i18n import gettext
from ..models import Customer, CustomerStatus, Industry, MarketSegment, User, VatRate

Choice = tuple[str, str]


def named_choices(model) -> list[Choice]:
    """``(id, str(row))`` of a settings list (industries, statuses, templates), by name."""
    return [
        (str(row.id), str(row))
        for row in db.session.scalars(select(model).order_by(model.name, model.id))
    ]


def active_users() -> list[User]:
    """Users who can own customers now, by name."""
    return list(
        db.session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
        )
    )


def _user_rows(*, active_only: bool = False) -> list[tuple[str, str, bool]]:
    """``(id, name, active)`` of users by name (kept raw in the cache: labels are per locale)."""
    query = select(User.id, User.name, User.is_active).order_by(User.name, User.id)
    if active_only:
        query = query.where(User.is_active.is_(True))
    return [(str(uid), name, bool(active)) for uid, name, active in db.session.execute(query)]


def _user_labels(rows) -> list[Choice]:
    inactive = gettext("(inactive)")
    return [(uid, name if active else f"{name} {inactive}") for uid, name, active in rows]


def user_choices(*, active_only: bool = False) -> list[Choice]:
    """``(id, name)`` of users by name; inactive ones marked, or left out with ``active_only``."""
    return _user_labels(_user_rows(active_only=active_only))


def segment_choices() -> list[Choice]:
    """``(id, "Parent / Child")`` of the market segments, grouped under their parents."""
    parent = aliased(MarketSegment)
    rows = db.session.execute(
        select(MarketSegment.id, MarketSegment.name, parent.name)
        .outerjoin(parent, parent.id == MarketSegment.parent_id)
        .order_by(
            func.coalesce(parent.name, MarketSegment.name),
            MarketSegment.name,
            MarketSegment.id,
        )
    )
    return [(str(sid), f"{up} / {name}" if up else name) for sid, name, up in rows]


def vat_rate_choices() -> list[Choice]:
    """VAT rates by country, highest percent first."""
    query = select(VatRate).order_by(
        VatRate.country, VatRate.percent.desc(), VatRate.name, VatRate.id
    )
    return [(str(row.id), str(row)) for row in db.session.scalars(query)]


def customer_countries() -> list[str]:
    """The country codes the customers have, in order."""
    codes = db.session.scalars(select(Customer.country).distinct().order_by(Customer.country))
    return [code for code in codes if code]


def _filter_rows() -> dict[str, list]:
    """What :func:`summary_filter_choices` shows, before the viewer's language: cacheable."""
    return {
        "users": _user_rows(),
        "industries": named_choices(Industry),
        "statuses": named_choices(CustomerStatus),
        "segments": segment_choices(),
        "countries": customer_countries(),
    }


def _with_labels(rows: dict[str, list]) -> dict[str, list]:
    return {**rows, "users": _user_labels(rows["users"])}


def summary_filter_choices() -> dict[str, list]:
    """The Customers > Summary filters' choice lists: ``users``, ``industries``, ``statuses``,
    ``segments`` (``(id, label)`` each) and ``countries`` (the codes customers have)."""
    return _with_labels(_filter_rows())


def _load_filter_choices(stored: dict[str, list]) -> dict[str, list]:
    return {
        name: list(rows) if name == "countries" else [tuple(row) for row in rows]
        for name, rows in stored.items()
    }


def cached_summary_filter_choices() -> dict[str, list]:
    """:func:`summary_filter_choices` from the module's cache (``CUSTREG_CHOICES_CACHE_SECONDS``;
    a new version whenever the module commits a change to users, industries, statuses,
    segments or a customer's country: see :mod:`custreg_admin.cache`). The cache holds no
    translated text; labels are made for each request's language."""
    cache = module_cache()
    if cache is None:
        return summary_filter_choices()
    rows = cache.get_or_compute(
        CHOICES,
        ("summary-filters",),
        _filter_rows,
        dump=lambda lists: {
            name: [list(row) if isinstance(row, tuple) else row for row in rows]
            for name, rows in lists.items()
        },
        load=_load_filter_choices,
    )
    return _with_labels(rows)
