"""The KPI figures and the billing chart through the module's cache (:mod:`custreg_admin.cache`).

Same answers as :func:`~custreg_admin.services.kpi.compute_kpis` and
:func:`~custreg_admin.services.kpi.billing_by_month` for the same data; an entry is keyed by
everything those answers depend on besides the data:

* the viewer's **scope**: ``"all"`` for a viewer who sees every invoice (admins and "sees all
  invoices": their figures are the same), else ``"own:<user id>"`` (billing and costs of the
  customers they own and the projects they manage);
* the **customer filter** (the Summary's search and filters, the home's "own customers"), as its
  full description;
* **today** (in ``CUSTREG_TIMEZONE``, as the caller passes it): a new day starts new periods;
* the **data version**, renewed when the module commits a change to what the figures read.

Entries live ``CUSTREG_KPI_CACHE_SECONDS`` (default 60; 0 computes every time).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from ..cache import KPI, module_cache
from ..rules.visibility import sees_all_invoices
from .customer_filter import CustomerFilter, CustomerSet
from .kpi import KpiFigures, billing_by_month, compute_kpis

__all__ = ["cached_billing_by_month", "cached_kpis", "viewer_scope"]


def viewer_scope(user: Any) -> str:
    """Which invoices and costs ``user``'s money figures are made of, as part of a cache key."""
    if sees_all_invoices(user):
        return "all"
    user_id = getattr(user, "id", None)
    return "none" if user_id is None else f"own:{int(user_id)}"


def _filter_key(filters: CustomerFilter | CustomerSet | None) -> Any:
    if filters is None:
        return None
    if isinstance(filters, CustomerSet):
        return ["set", filters.to_spec()]
    return ["filter", asdict(filters)]


def _dump_figures(figures: KpiFigures) -> dict[str, str]:
    return {name: str(value) for name, value in asdict(figures).items()}


def _load_figures(stored: dict[str, str]) -> KpiFigures:
    return KpiFigures(
        margin_this_year=Decimal(stored["margin_this_year"]),
        billing_this_month=Decimal(stored["billing_this_month"]),
        billing_last_month=Decimal(stored["billing_last_month"]),
        active_customers=int(stored["active_customers"]),
        prospects_in_pipeline=int(stored["prospects_in_pipeline"]),
        **{
            name: Decimal(stored[name])
            for name in ("billing_last_month_to_date", "billing_this_year", "costs_this_year")
            if name in stored  # entries stored before these figures existed
        },
    )


def cached_kpis(
    user: Any, today: date, filters: CustomerFilter | CustomerSet | None = None
) -> KpiFigures:
    """:func:`compute_kpis`, from the cache when the same figures were computed recently."""
    cache = module_cache()
    compute = lambda: compute_kpis(user, today, filters)  # noqa: E731
    if cache is None:
        return compute()
    parts = ("figures", viewer_scope(user), _filter_key(filters), today.isoformat())
    return cache.get_or_compute(KPI, parts, compute, dump=_dump_figures, load=_load_figures)


def cached_billing_by_month(
    user: Any,
    today: date,
    months: int = 12,
    filters: CustomerFilter | CustomerSet | None = None,
) -> list[tuple[date, Decimal]]:
    """:func:`billing_by_month`, from the cache when computed recently."""
    cache = module_cache()
    compute = lambda: billing_by_month(user, today, months, filters)  # noqa: E731
    if cache is None:
        return compute()
    parts = ("months", viewer_scope(user), _filter_key(filters), today.isoformat(), months)
    return cache.get_or_compute(
        KPI,
        parts,
        compute,
        dump=lambda rows: [[day.isoformat(), str(amount)] for day, amount in rows],
        load=lambda rows: [(date.fromisoformat(day), Decimal(amount)) for day, amount in rows],
    )
