"""The baselines' stock Flask-Admin: a second app on the bench database with plain ``ModelView``s.

* ``/stock/stock_customers/``: the export baseline (``can_export``, CSV and XLSX through tablib)
  of :data:`bench.exports.COLUMNS`;
* ``/stock/stock_summary/``: the Summary baseline: the same model and columns as
  :class:`custreg_admin.admin.customers.CustomerView`'s list (number, name, business ID,
  country, account owner, industry, status, market segments, city), the same sorting, search
  fields, default sort and page size, and filters on the same columns (account owner,
  industry, status and market segment by name, country, active) with Flask-Admin's own filter
  types. It loads what it shows the way the module does (owner, industry and status joined,
  segments in one ``selectin`` query, the city undeferred), so that the comparison is of the
  two views, not of an N+1 query: a ``ModelView`` left to lazy loading would run two more
  statements per row.

No login and no CSRF on the stock app (a stock ``ModelView`` is open); the module's side pays
for its login check, which the statement counts show.
"""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from sqlalchemy.orm import selectinload, undefer

from custreg_admin.admin.customers import CustomerView
from custreg_admin.extensions import db
from custreg_admin.models import Customer

from .common import BenchEnv

EXPORT_URL = "/stock/stock_customers/export/{export_type}/"
SUMMARY_URL = "/stock/stock_summary/"

_STOCK: dict[int, Flask] = {}


def stock_apps() -> list[Flask]:
    """Every stock app made so far (a forked child must reopen their connections)."""
    return list(_STOCK.values())


def stock_app(env: BenchEnv, export_columns: list[str]) -> Flask:
    """The stock app on the bench database (made once per bench app)."""
    if id(env.app) in _STOCK:
        return _STOCK[id(env.app)]
    from custreg_admin import create_app

    class StockExportView(ModelView):
        can_export = True
        export_types = ["csv", "xlsx"]
        export_max_rows = 0  # all rows
        column_list = export_columns
        column_select_related_list = (Customer.owner, Customer.industry, Customer.status)
        column_default_sort = "name"

    class StockSummaryView(ModelView):
        column_list = CustomerView.column_list
        column_sortable_list = CustomerView.column_sortable_list
        column_searchable_list = CustomerView.column_searchable_list
        column_default_sort = CustomerView.column_default_sort
        column_select_related_list = CustomerView.column_select_related_list
        # the Summary's filters, as Flask-Admin's own types on the same columns
        column_filters = (
            "owner.name",
            "industry.name",
            "status.name",
            "segments.name",
            "country",
            "is_active",
        )
        page_size = 20
        can_set_page_size = True
        can_view_details = True

        def get_query(self):
            return (
                super().get_query().options(undefer(Customer.city), selectinload(Customer.segments))
            )

    app = create_app(
        {
            "CUSTREG_DATABASE_URL": env.app.config["CUSTREG_DATABASE_URL"],
            "CUSTREG_SECRET_KEY": "bench",
            "CUSTREG_REGISTRIES": "",
            "WTF_CSRF_ENABLED": False,
        }
    )
    admin = Admin(app, name="stock", url="/stock", endpoint="stock")
    admin.add_view(StockExportView(Customer, db, endpoint="stock_customers"))
    admin.add_view(StockSummaryView(Customer, db, endpoint="stock_summary"))
    _STOCK[id(env.app)] = app
    return app
