"""The customer form: its fields, rules (fieldsets), validators and inline lists (addresses,
e-invoicing addresses, contacts)."""

from __future__ import annotations

from flask_admin.form import rules
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from ...errors import InvalidIdentifier
from ...i18n import gettext, html, lazy_gettext, lazy_pgettext
from ...models import ADDRESS_KINDS, Address, Contact, EInvoiceAddress
from ...models.customer import NOTES_MAX_LENGTH
from ...services import choices
from ...services import customers as customer_service
from ...services.labels import ADDRESS_KIND_LABELS, label
from ..fields import as_choices, country_select_choices, optional_country_select_choices
from ..versions import LOADED_AT_FIELD, VERSION_FIELD


class _AlreadyRendered(rules.BaseRule):
    """A hidden field: the form macro renders hidden fields itself; this only accounts for it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    @property
    def visible_fields(self) -> list[str]:
        return [self.name]

    def __call__(self, form, form_opts=None, field_args=None):
        return ""


class _IndustryOffer(rules.BaseRule):
    """ "Create this industry" - shown only when a registry record named an unknown industry."""

    @property
    def visible_fields(self) -> list[str]:
        return ["create_industry"]

    def __call__(self, form, form_opts=None, field_args=None):
        suggestion = (form.industry_suggestion.data or "").strip()
        code, _, name = suggestion.partition("|")
        # without a suggestion the offer is there hidden: the form's script shows it after a pick
        checkbox = form.create_industry(checked=bool(suggestion))
        industry = Markup('<strong data-custreg-industry="">%s</strong>') % " ".join(
            p for p in (code, name) if p
        )
        offer = html(
            gettext(
                "The registry gives the industry %(industry)s, which is not in the settings yet."
            ),
            industry=industry,
        )
        create = html(gettext("Create it and use it"))
        shown = ' data-testid="industry-offer"' if suggestion else " hidden"
        return Markup(
            f'<div class="alert alert-info custreg-industry-offer"{shown}>'
            f'{offer} <label class="mb-0 ml-2">{checkbox} {create}</label>'
            "</div>"
        )


class WebsiteAddress:
    """A WTForms validator: an http(s) address, written as stored (``https://`` added)."""

    def __call__(self, form, field) -> None:
        try:
            field.data = customer_service.website_value(field.data)
        except InvalidIdentifier as error:
            raise StopValidation(str(error)) from None


def _address_kind_choices() -> list:
    return as_choices((k, label(ADDRESS_KIND_LABELS, k)) for k in ADDRESS_KINDS)


class AddressInline(InlineFormAdmin):
    form_columns = ("id", "kind", "street", "postal_code", "city", "country")
    form_overrides = {"kind": SelectField, "country": SelectField}
    form_label = lazy_gettext("Address")
    column_labels = {
        "street": lazy_gettext("Street"),
        "postal_code": lazy_gettext("Postal code"),
        "city": lazy_gettext("City"),
        "country": lazy_gettext("Country"),
    }
    form_args = {
        "kind": {
            "choices": _address_kind_choices,
            # TRANSLATORS: the kind of an address (visiting, postal, billing)
            "label": lazy_pgettext("address", "Type"),
        },
        "street": {"validators": [Optional(), Length(max=300)], "label": lazy_gettext("Street")},
        "postal_code": {"label": lazy_gettext("Postal code")},
        "city": {"label": lazy_gettext("City")},
        "country": {
            "choices": optional_country_select_choices,
            "validators": [Optional()],
            "label": lazy_gettext("Country"),
        },
    }


class EInvoiceAddressInline(InlineFormAdmin):
    form_columns = ("id", "address", "operator", "is_default")
    form_label = lazy_gettext("E-invoicing address")
    form_args = {
        "address": {
            "label": lazy_gettext("E-invoicing address"),
            "description": lazy_gettext(
                "OVT (e.g. 003701120389) or PEPPOL ID (e.g. 0192:923609016)"
            ),
            "validators": [DataRequired(), Length(max=100)],
        },
        "operator": {"label": lazy_gettext("Operator / intermediator code")},
        # TRANSLATORS: the customer's default e-invoicing address (a checkbox)
        "is_default": {"label": lazy_pgettext("e-invoicing address", "Default")},
    }


class ContactInline(InlineFormAdmin):
    form_columns = ("id", "first_name", "last_name", "title", "email", "phone", "is_active")
    form_label = lazy_gettext("Contact person")
    form_args = {
        "first_name": {"label": lazy_gettext("First name")},
        "last_name": {"label": lazy_gettext("Last name")},
        # TRANSLATORS: a contact person's job title
        "title": {"label": lazy_pgettext("job title", "Title")},
        "email": {"label": lazy_gettext("E-mail")},
        "phone": {"label": lazy_gettext("Phone")},
        # TRANSLATORS: a contact person still works there (a checkbox)
        "is_active": {"label": lazy_pgettext("contact", "Active")},
    }


class CustomerFormSettings:
    """The customer view's form settings (Flask-Admin reads them as class attributes)."""

    form_columns = (
        "name",
        "business_id",
        "vat_number",
        "country",
        "number",
        "owner",
        "industry",
        "status",
        "invoice_template",
        "vat_rate",
        "segments",
        "website",
        "email",
        "phone",
        "notes",
        "confirm_duplicate",
        "registry_source",
        "registry_status",
        "industry_suggestion",
        "create_industry",
    )
    form_extra_fields = {
        "confirm_duplicate": HiddenField(),
        "registry_source": HiddenField(),
        "registry_status": HiddenField(),
        "industry_suggestion": HiddenField(),
        "create_industry": BooleanField(
            lazy_gettext("Create this industry in the settings and use it")
        ),
    }
    form_create_rules = form_edit_rules = (
        rules.FieldSet(
            ("name", "business_id", "vat_number", "country", "number"), lazy_gettext("Company")
        ),
        rules.FieldSet(
            (
                "owner",
                "industry",
                _IndustryOffer(),
                "status",
                "invoice_template",
                "vat_rate",
                "segments",
            ),
            lazy_gettext("Classification and invoicing"),
        ),
        rules.FieldSet(("website", "email", "phone", "notes"), lazy_gettext("Contact details")),
        rules.FieldSet(("addresses",), lazy_gettext("Addresses")),
        rules.FieldSet(("einvoice_addresses",), lazy_gettext("Electronic invoicing")),
        rules.FieldSet(("contacts",), lazy_gettext("Contacts")),
        _AlreadyRendered("confirm_duplicate"),
        _AlreadyRendered("registry_source"),
        _AlreadyRendered("registry_status"),
        _AlreadyRendered("industry_suggestion"),
        _AlreadyRendered(VERSION_FIELD),
        _AlreadyRendered(LOADED_AT_FIELD),
    )
    form_overrides = {"country": SelectField}
    form_args = {
        "name": {"validators": [DataRequired(), Length(max=300)]},
        "number": {
            "validators": [Optional()],
            "description": lazy_gettext("Left empty, the next free number is given."),
        },
        "business_id": {
            "validators": [Optional(), Length(max=40)],
            "description": lazy_gettext(
                "FI 0112038-9, NO 923609016; checked and written in standard form."
            ),
        },
        "vat_number": {
            "validators": [Optional(), Length(max=40)],
            "description": lazy_gettext(
                "FI01120389, NO923609016MVA; derived from the business ID when empty."
            ),
        },
        "country": {"choices": country_select_choices},
        "owner": {"query_factory": choices.active_users},
        "website": {
            "validators": [Optional(), Length(max=300), WebsiteAddress()],
            "description": lazy_gettext("An http or https address; www.example.com will do."),
        },
        "email": {"validators": [Optional(), Length(max=254)]},
        "phone": {"validators": [Optional(), Length(max=50)]},
        "notes": {
            "validators": [
                Optional(),
                Length(
                    max=NOTES_MAX_LENGTH,
                    message=lazy_gettext(
                        "Notes can be at most %(num)s characters long; this text has more.",
                        num=NOTES_MAX_LENGTH,
                    ),
                ),
            ],
            "description": lazy_gettext("At most %(num)s characters.", num=NOTES_MAX_LENGTH),
        },
    }
    form_widget_args = {"notes": {"rows": 4}}
    inline_models = (
        AddressInline(Address),
        EInvoiceAddressInline(EInvoiceAddress),
        ContactInline(Contact),
    )
