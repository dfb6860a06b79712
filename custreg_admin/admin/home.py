"""The admin home: a KPI dashboard of the company's and the viewer's own figures."""

from __future__ import annotations

from flask import current_app
from flask_admin import AdminIndexView, expose

from ..context import current_user
from ..rules.visibility import sees_all_invoices
from ..services.customer_filter import CustomerFilter
from ..services.kpi import local_today
from ..services.kpi_cache import cached_billing_by_month, cached_kpis
from .base import ProtectedMixin
from .charts import month_bars
from .customers import CustomerView
from .customers.kpi_cards import kpi_money_links


class HomeView(ProtectedMixin, AdminIndexView):
    @expose("/")
    def index(self):
        today = local_today(current_app.config["CUSTREG_TIMEZONE"])
        own = CustomerFilter(owner_id=current_user.id, active_state="all")
        months = cached_billing_by_month(current_user, today, months=12)
        customers = next(v for v in self.admin._views if isinstance(v, CustomerView))
        links = {kpi: customers.kpi_list_url(kpi) for kpi in ("active", "prospects")}
        own_links = {
            kpi: customers.kpi_list_url(kpi, owner_id=current_user.id)
            for kpi in ("active", "prospects")
        }
        return self.render(
            "custreg_admin/home.html",
            today=today,
            kpi=cached_kpis(current_user, today),
            own_kpi=cached_kpis(current_user, today, own),
            chart=month_bars(months),
            months=months,
            sees_all=sees_all_invoices(current_user),
            links=links,
            own_links=own_links,
            money_links=kpi_money_links(self.admin._views, today),
            own_money_links=kpi_money_links(self.admin._views, today, own),
        )
