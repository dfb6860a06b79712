"""Settings > industries, invoice templates, VAT rates, statuses, segments, users."""

from __future__ import annotations

from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..context import current_user
from ..errors import DomainError
from ..i18n import LANGUAGES, gettext, lazy_gettext, lazy_pgettext
from ..models import ROLES
from ..services import customers as customer_service
from ..services import segments as segment_service
from ..services.labels import ROLE_LABELS, label
from .base import ProtectedModelView, SettingsModelView
from .fields import as_choices, country_select_choices, language_name

NAME = lazy_gettext("Name")
COUNTRY = lazy_gettext("Country")


class IndustryView(SettingsModelView):
    # TRANSLATORS: an industry's code (e.g. TOL 2008 / NACE code 62010)
    column_labels = {"code": lazy_pgettext("industry", "Code"), "name": NAME}
    column_list = ("code", "name")
    column_searchable_list = ("code", "name")
    column_default_sort = "name"
    form_columns = ("code", "name")


#: Languages an invoice template may be written in (named in the viewer's language).
INVOICE_LANGUAGES = ("fi", "sv", "en", "nb")


def _invoice_language_choices() -> list:
    return as_choices((code, language_name(code)) for code in INVOICE_LANGUAGES)


def _invoice_language(view, context, model, name) -> str:
    return language_name(model.language) if model.language else ""


class InvoiceTemplateView(SettingsModelView):
    column_list = ("name", "language")
    column_labels = {"name": NAME, "language": lazy_gettext("Language")}
    column_formatters = {"language": _invoice_language}
    column_default_sort = "name"
    form_columns = ("name", "language")
    form_overrides = {"language": SelectField}
    form_args = {"language": {"choices": _invoice_language_choices}}


class VatRateView(SettingsModelView):
    column_list = ("country", "name", "percent")
    column_labels = {"country": COUNTRY, "name": NAME, "percent": lazy_gettext("Percent")}
    column_default_sort = [("country", False), ("percent", True)]
    column_filters = ("country",)
    form_columns = ("country", "name", "percent")
    form_overrides = {"country": SelectField}
    form_args = {
        "country": {"choices": country_select_choices},
        "percent": {"validators": [DataRequired(), NumberRange(min=0, max=100)]},
    }


class CustomerStatusView(SettingsModelView):
    column_list = ("name", "is_default_for_new")
    column_labels = {
        "name": NAME,
        "is_default_for_new": lazy_gettext("Default for new customers"),
    }
    column_default_sort = "name"
    form_columns = ("name", "is_default_for_new")
    form_args = {
        "is_default_for_new": {
            "description": lazy_gettext(
                "New customers start with this status; choosing it here replaces the "
                "previous default."
            )
        }
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        customer_service.keep_one_default_status(model)


class MarketSegmentView(SettingsModelView):
    column_list = ("name", "parent")
    column_labels = {"name": NAME, "parent": lazy_gettext("Parent segment")}
    column_default_sort = "name"
    column_searchable_list = ("name",)
    form_columns = ("name", "parent")
    column_auto_select_related = True

    def on_model_change(self, form, model, is_created):
        segment_service.ensure_no_loop(model)  # a loop of any length: refused with its names


class InvoiceStatusView(SettingsModelView):
    column_list = ("name", "counts_as_sent")
    column_labels = {
        "name": NAME,
        "counts_as_sent": lazy_gettext('Counts as sent ("Sent" selection)'),
    }
    column_default_sort = "name"
    form_columns = ("name", "counts_as_sent")


class UserView(ProtectedModelView):
    """Users and their roles. Only administrators manage users."""

    column_list = ("name", "email", "role", "can_view_all_invoices", "is_active")
    column_labels = {
        "name": NAME,
        "email": lazy_gettext("E-mail"),
        # TRANSLATORS: a user's role: admin, manager or user
        "role": lazy_pgettext("user", "Role"),
        "can_view_all_invoices": lazy_gettext("Sees all invoices"),
        # TRANSLATORS: the user may log in (a checkbox)
        "is_active": lazy_pgettext("user", "Active"),
        "locale": lazy_gettext("Language"),
    }
    column_formatters = {"role": lambda view, context, model, name: label(ROLE_LABELS, model.role)}
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
            lazy_gettext("New password"),
            validators=[Optional(), Length(min=8, max=200)],
            description=lazy_gettext(
                "At least 8 characters. Leave empty to keep the current password."
            ),
        )
    }
    form_overrides = {"role": SelectField, "locale": SelectField}
    form_args = {
        "email": {"validators": [DataRequired(), Email(), Length(max=254)]},
        "name": {"validators": [DataRequired(), Length(max=200)]},
        "role": {"choices": lambda: as_choices((r, label(ROLE_LABELS, r)) for r in ROLES)},
        "locale": {
            # the languages by their own names, as in the switcher
            "choices": lambda: as_choices([("", gettext("Browser default")), *LANGUAGES.items()]),
            "validators": [Optional()],
        },
    }

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        model.locale = model.locale or None
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise DomainError(gettext("A new user needs a password."))
        if model.id == current_user.id and (model.role != "admin" or not model.is_active):
            raise DomainError(
                gettext("You cannot remove your own administrator rights or deactivate yourself.")
            )

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise DomainError(gettext("You cannot delete your own account."))
