"""Settings > industries, invoice templates, VAT rates, statuses, segments, users."""

from __future__ import annotations

from flask import flash
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..extension import current_user
from ..models import ROLES
from ..services.errors import DomainError
from .base import ProtectedModelView, SettingsModelView
from .fields import as_choices, country_select_choices


class IndustryView(SettingsModelView):
    column_list = ("code", "name")
    column_searchable_list = ("code", "name")
    column_default_sort = "name"
    form_columns = ("code", "name")


class InvoiceTemplateView(SettingsModelView):
    column_list = ("name", "language")
    column_default_sort = "name"
    form_columns = ("name", "language")
    form_overrides = {"language": SelectField}
    form_args = {
        "language": {
            "choices": as_choices(
                [
                    ("fi", "Finnish"),
                    ("sv", "Swedish"),
                    ("en", "English"),
                    ("nb", "Norwegian bokmål"),
                ]
            )
        }
    }


class VatRateView(SettingsModelView):
    column_list = ("country", "name", "percent")
    column_default_sort = [("country", False), ("percent", True)]
    column_filters = ("country",)
    form_columns = ("country", "name", "percent")
    form_overrides = {"country": SelectField}
    form_args = {
        "country": {"choices": country_select_choices},
        "percent": {"validators": [DataRequired(), NumberRange(min=0, max=100)]},
    }


class CustomerStatusView(SettingsModelView):
    column_list = ("name",)
    column_default_sort = "name"
    form_columns = ("name",)


class MarketSegmentView(SettingsModelView):
    column_list = ("name", "parent")
    column_labels = {"parent": "Parent segment"}
    column_default_sort = "name"
    column_searchable_list = ("name",)
    form_columns = ("name", "parent")
    column_auto_select_related = True


class InvoiceStatusView(SettingsModelView):
    column_list = ("name", "counts_as_sent")
    column_labels = {"counts_as_sent": 'Counts as sent ("Sent" selection)'}
    column_default_sort = "name"
    form_columns = ("name", "counts_as_sent")


class UserView(ProtectedModelView):
    """Users and their roles. Only administrators manage users."""

    allowed_roles = ("admin",)
    column_list = ("name", "email", "role", "can_view_all_invoices", "is_active")
    column_labels = {"can_view_all_invoices": "Sees all invoices", "is_active": "Active"}
    column_searchable_list = ("name", "email")
    column_filters = ("role", "is_active")
    column_default_sort = "name"
    column_details_exclude_list = ("password_hash",)
    form_columns = (
        "name",
        "email",
        "role",
        "can_view_all_invoices",
        "is_active",
        "locale",
        "new_password",
    )
    form_extra_fields = {
        "new_password": PasswordField(
            "New password",
            validators=[Optional(), Length(min=8, max=200)],
            description="At least 8 characters. Leave empty to keep the current password.",
        )
    }
    form_overrides = {"role": SelectField, "locale": SelectField}
    form_args = {
        "email": {"validators": [DataRequired(), Email(), Length(max=254)]},
        "name": {"validators": [DataRequired(), Length(max=200)]},
        "role": {"choices": as_choices((r, r.capitalize()) for r in ROLES)},
        "locale": {
            "choices": as_choices(
                [
                    ("", "Browser default"),
                    ("en", "English"),
                    ("fi", "Suomi"),
                    ("nb", "Norsk bokmål"),
                ]
            ),
            "validators": [Optional()],
        },
    }

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        model.locale = model.locale or None
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise DomainError("A new user needs a password.")
        if model.id == current_user.id and (model.role != "admin" or not model.is_active):
            raise DomainError(
                "You cannot remove your own administrator rights or deactivate yourself."
            )

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise DomainError("You cannot delete your own account.")

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)
