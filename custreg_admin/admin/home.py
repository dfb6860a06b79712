"""The admin home page of the stand-alone app."""

from __future__ import annotations

from flask_admin import AdminIndexView, expose
from sqlalchemy import func, select

from ..extensions import db
from ..models import Customer
from .base import ProtectedMixin


class HomeView(ProtectedMixin, AdminIndexView):
    @expose("/")
    def index(self):
        customers = db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.is_active.is_(True))
        )
        return self.render("custreg_admin/home.html", active_customer_count=customers)
