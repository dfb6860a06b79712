"""The Summary's KPI cards (their own request, with the list's search and filters) and the
drill-down links of every figure: the customer list of a count, the Invoices and Costs lists of
a money figure."""

from __future__ import annotations

import json
from datetime import date

from flask import current_app, request, url_for
from flask_admin import expose
from flask_admin.model.base import ViewArgs

from ...context import current_user
from ...rules.visibility import sees_all_invoices
from ...services.customer_filter import CustomerFilter, CustomerSet
from ...services.kpi import format_period, kpi_periods, local_today
from ...services.kpi_cache import cached_kpis
from .filters import (
    ActiveStateFilter,
    CustomerFieldFilter,
    KpiFilter,
    KpiPeriodFilter,
    SummaryCustomersFilter,
)


class KpiRowsMixin:
    """Money lists the KPI figures link to (which rows a viewer sees: the access matrix).

    ``kpi_rows``: which rows the list holds ("invoices" or "costs", as in
    :data:`KPI_MONEY_ROWS`)."""

    kpi_rows: str = ""

    def get_url(self, endpoint, **kwargs):
        # ".index_view" means this view's, also when another view builds the link (the KPIs)
        if endpoint.startswith("."):
            endpoint = self.endpoint + endpoint
        return super().get_url(endpoint, **kwargs)

    def kpi_rows_url(
        self, period: tuple[date, date], customers: CustomerFilter | CustomerSet | None = None
    ) -> str:
        """This list filtered to the rows of a KPI money figure: its period and, when the
        figure is for filtered customers, those customers (visibility: the list's own)."""
        filters = []
        for index, flt in enumerate(self._filters or ()):
            if isinstance(flt, KpiPeriodFilter):
                filters.append((index, flt.name, format_period(*period)))
            elif isinstance(flt, SummaryCustomersFilter) and customers is not None:
                if isinstance(customers, CustomerFilter):
                    customers = CustomerSet(parts=(customers,))
                spec = json.dumps(customers.to_spec(), separators=(",", ":"))
                filters.append((index, flt.name, spec))
        return self._get_list_url(ViewArgs(filters=filters))


#: Which rows make each KPI money figure: (list kind, period of :func:`kpi_periods`).
KPI_MONEY_ROWS = {
    "billing_this_year": ("invoices", "year"),
    "costs_this_year": ("costs", "year"),
    "billing_this_month": ("invoices", "month"),
    "billing_last_month": ("invoices", "last_month"),
    "billing_last_month_to_date": ("invoices", "last_month_to_date"),
}


def kpi_money_links(
    views, today: date, customers: CustomerFilter | CustomerSet | None = None
) -> dict[str, str]:
    """Drill-down URLs of the KPI money figures (keys of :data:`KPI_MONEY_ROWS`): the Invoices
    and Costs lists filtered to exactly the rows each figure sums. ``views``: the admin's."""
    lists = {
        kind: next((v for v in views if isinstance(v, KpiRowsMixin) and v.kpi_rows == kind), None)
        for kind in ("invoices", "costs")
    }
    periods = kpi_periods(today)
    return {
        figure: lists[kind].kpi_rows_url(periods[period], customers)
        for figure, (kind, period) in KPI_MONEY_ROWS.items()
        if lists[kind] is not None
    }


class CustomerKpiCards:
    """The KPI cards and drill-down URLs (a mixin of :class:`CustomerView`)."""

    def _customer_set(self, view_args) -> CustomerSet | None:
        """The list's filters and search as a customer set; None when nothing narrows it."""
        parts, counted_in, state = [], [], "active"
        for index, _name, value in view_args.filters or ():
            flt = self._filters[index]
            if isinstance(flt, ActiveStateFilter):
                state = value
            elif isinstance(flt, KpiFilter):
                counted_in.append(value)
            elif isinstance(flt, CustomerFieldFilter):
                parts.append(flt.customer_filter(value))
        if view_args.search:
            parts.append(CustomerFilter(active_state="all", search=view_args.search))
        if not parts and not counted_in and state == "active":
            return None
        parts.append(CustomerFilter(active_state=state))
        return CustomerSet(parts=tuple(parts), counted_in=tuple(counted_in))

    def _drill_down_url(self, view_args, kpi: str) -> str:
        index = next(i for i, f in enumerate(self._filters) if isinstance(f, KpiFilter))
        filters = [
            f for f in view_args.filters or () if not isinstance(self._filters[f[0]], KpiFilter)
        ]
        filters.append((index, self._filters[index].name, kpi))
        return self._get_list_url(view_args.clone(page=0, filters=filters))

    def kpi_list_url(self, kpi: str, owner_id: int | None = None) -> str:
        """The Summary list of the customers a KPI counts (optionally one owner's)."""
        filters = []
        if owner_id is not None:
            index = next(
                i
                for i, f in enumerate(self._filters)
                if isinstance(f, CustomerFieldFilter) and f.field == "owner_id"
            )
            filters.append((index, self._filters[index].name, str(owner_id)))
        view_args = self._get_list_extra_args().clone(
            page=0, filters=filters, search=None, sort=None
        )
        return self._drill_down_url(view_args, kpi)

    def _mass_update_all_url(self, view_args) -> str:
        customer_set = self._customer_set(view_args) or CustomerSet(parts=(CustomerFilter(),))
        return url_for(
            "custreg_mass_update.index",
            spec=json.dumps(customer_set.to_spec(), separators=(",", ":")),
            return_url=self._get_list_url(view_args),
        )

    def _list_args_url(self, endpoint: str, view_args) -> str:
        """``endpoint`` of this view with the list's arguments (search, filters, sort...)."""
        _, _, query = self._get_list_url(view_args).partition("?")
        return self.get_url(endpoint) + (f"?{query}" if query else "")

    @expose("/kpis/")
    def kpi_cards_view(self):
        """The Summary's KPI cards for the list's search and filters (the same arguments).

        The list page renders at once and fetches them with ``X-Custreg-Fragment: 1``: the cards
        alone. A plain GET (the list's <noscript> link) gets them on a page of their own.
        """
        fragment = request.headers.get("X-Custreg-Fragment") == "1"
        view_args = self._get_list_extra_args()
        response = current_app.make_response(
            self.render(
                "custreg_admin/_kpi_fragment.html"
                if fragment
                else "custreg_admin/customer_kpis.html",
                list_url=self._get_list_url(view_args),
                **self._kpi_context(view_args),
            )
        )
        response.vary.add("X-Custreg-Fragment")
        return response

    def _kpi_context(self, view_args) -> dict:
        today = local_today(current_app.config["CUSTREG_TIMEZONE"])
        totals = cached_kpis(current_user, today)
        customer_set = self._customer_set(view_args)
        figures = cached_kpis(current_user, today, customer_set) if customer_set else totals
        return {
            "kpi": figures,
            "kpi_totals": totals if customer_set else None,
            "kpi_links": {
                name: self._drill_down_url(view_args, name) for name in ("active", "prospects")
            },
            "kpi_sees_all": sees_all_invoices(current_user),
            "kpi_money_links": kpi_money_links(self.admin._views, today, customer_set),
        }
