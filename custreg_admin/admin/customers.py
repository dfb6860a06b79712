"""Customers > Summary, Add new > Customer and the customer card."""

from __future__ import annotations

import json

from flask import (
    current_app,
    flash,
    g,
    has_app_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.form import rules
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload, undefer
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation

from ..context import current_custreg_user, current_user
from ..errors import DomainError, InvalidIdentifier
from ..extensions import db
from ..i18n import gettext, html, lazy_gettext, lazy_pgettext, ngettext_forms
from ..models import (
    ADDRESS_KINDS,
    Address,
    Contact,
    Customer,
    EInvoiceAddress,
    Industry,
)
from ..models.customer import NOTES_MAX_LENGTH
from ..registries import STATUS_LABELS, RegistryError, RegistryUnavailable
from ..rules import access
from ..rules.open_work import KPI_CONDITIONS
from ..rules.request_ids import parse_id
from ..rules.visibility import sees_all_invoices
from ..services import choices, registry_search
from ..services import customers as customer_service
from ..services import projects as project_service
from ..services.business_ids import normalise_identifiers
from ..services.customer_filter import ACTIVE_STATES, CustomerFilter, CustomerSet
from ..services.kpi import local_today
from ..services.kpi_cache import cached_kpis
from ..services.labels import ADDRESS_KIND_LABELS, SALES_STATUS_LABELS, label
from .base import ProtectedModelView
from .fields import (
    as_choices,
    country_choices,
    country_name,
    country_select_choices,
    optional_country_select_choices,
)
from .records import kpi_money_links
from .versions import LOADED_AT_FIELD, VERSION_FIELD, VersionedEditMixin

CARD_INVOICE_ROWS = 20


class CustomerFieldFilter(sqla_filters.BaseSQLAFilter):
    """A Summary filter that is one field of the service's :class:`CustomerFilter`.

    The list, the KPI cards and the drill-down links all read the same definition.
    """

    def __init__(self, field: str, name: str, options, *, numeric: bool = True) -> None:
        super().__init__(Customer.id, name, options=options)
        self.field = field
        self.numeric = numeric

    def clean(self, value):
        if self.numeric:
            return parse_id(value)
        value = str(value).strip()
        return value.upper() if self.field == "country" else value

    def validate(self, value):
        return parse_id(value) is not None if self.numeric else bool(str(value).strip())

    def customer_filter(self, value) -> CustomerFilter:
        return CustomerFilter(active_state="all", **{self.field: self.clean(value)})

    def apply(self, query, value, alias=None):
        return query.filter(CustomerFilter(active_state="all", **{self.field: value}).condition())

    def operation(self):
        return "equals"


REGISTRY_STATUS_OPTIONS = (
    ("not_active", lazy_gettext("Ceased, bankrupt or in liquidation")),
    ("active", STATUS_LABELS["active"]),
    ("liquidation", STATUS_LABELS["liquidation"]),
    ("bankrupt", STATUS_LABELS["bankrupt"]),
    ("ceased", STATUS_LABELS["ceased"]),
)


class ActiveStateFilter(sqla_filters.BaseSQLAFilter):
    """Active / inactivated / all. Without it in the URL the list shows active customers."""

    def __init__(self) -> None:
        super().__init__(
            Customer.is_active,
            lazy_gettext("Active state"),
            options=(
                # TRANSLATORS: customers that are not inactivated (a filter choice)
                ("active", lazy_pgettext("customers", "Active")),
                ("inactive", lazy_gettext("Inactivated")),
                ("all", lazy_gettext("All")),
            ),
        )

    def customer_filter(self, value) -> CustomerFilter:
        return CustomerFilter(active_state=value)

    def apply(self, query, value, alias=None):
        return query.filter(CustomerFilter(active_state=value).condition())

    def operation(self):
        return "is"

    def validate(self, value):
        return value in ACTIVE_STATES


class KpiFilter(sqla_filters.BaseSQLAFilter):
    """The customers a KPI card counts: the drill-down target of its link."""

    CONDITIONS = KPI_CONDITIONS

    def __init__(self) -> None:
        super().__init__(
            Customer.id,
            lazy_gettext("Counted in"),
            options=(
                ("active", lazy_gettext("Active customers")),
                ("prospects", lazy_gettext("Prospects in pipeline")),
            ),
        )

    def apply(self, query, value, alias=None):
        return query.filter(self.CONDITIONS[value]())

    def operation(self):
        return "KPI"

    def validate(self, value):
        return value in self.CONDITIONS


def _filter_choices(name: str):
    """A Summary filter's choices, read per request (Flask-Admin asks once at start-up, with no
    app context: no choices) from the module's cache; the five lists are one cache entry, read
    once per request (see ``choices.cached_summary_filter_choices``)."""

    def read_choices():
        if not has_app_context():
            return []
        lists = g.get("_custreg_summary_choices")
        if lists is None:
            lists = g._custreg_summary_choices = choices.cached_summary_filter_choices()
        if name == "countries":
            return [(code, country_name(code)) for code in lists[name]]
        return lists[name]

    return read_choices


def _segments_formatter(view, context, model, name):
    return ", ".join(segment.name for segment in model.segments)


def _name_formatter(view, context, model, name):
    link = url_for(".details_view", id=model.id)
    badge = ""
    if not model.is_active:
        badge = f' <span class="badge badge-secondary">{escape(gettext("inactivated"))}</span>'
    if model.registry_status and model.registry_status != "active":
        status = str(STATUS_LABELS.get(model.registry_status, model.registry_status)).lower()
        badge += f' <span class="badge badge-danger">{escape(status)}</span>'
    return Markup(f'<a href="{escape(link)}">{escape(model.name)}</a>{badge}')


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
        if not suggestion:
            return ""
        code, _, name = suggestion.partition("|")
        checkbox = form.create_industry(checked=True)
        industry = Markup("<strong>%s</strong>") % " ".join(p for p in (code, name) if p)
        offer = html(
            gettext(
                "The registry gives the industry %(industry)s, which is not in the settings yet."
            ),
            industry=industry,
        )
        create = html(gettext("Create it and use it"))
        return Markup(
            '<div class="alert alert-info custreg-industry-offer" data-testid="industry-offer">'
            f'{offer} <label class="mb-0 ml-2">{checkbox} {create}</label>'
            "</div>"
        )


def _customer_from(prefill: registry_search.Prefill) -> Customer:
    """A transient customer carrying a registry record's values, to fill the create form."""
    customer = Customer(
        name=prefill.name,
        business_id=prefill.business_id,
        vat_number=prefill.vat_number,
        country=prefill.country,
        website=prefill.website,
        email=prefill.email,
        phone=prefill.phone,
        industry_id=prefill.industry_id,
    )
    if prefill.industry_id is not None:
        customer.industry = db.session.get(Industry, prefill.industry_id)
    customer.addresses = [
        Address(
            kind=a.kind, street=a.street, postal_code=a.postal_code, city=a.city, country=a.country
        )
        for a in prefill.addresses
    ]
    return customer


class WebsiteAddress:
    """A WTForms validator: an http(s) address, written as stored (``https://`` added)."""

    def __call__(self, form, field) -> None:
        try:
            field.data = customer_service.website_value(field.data)
        except InvalidIdentifier as error:
            raise StopValidation(str(error)) from None


def _customer_links(customers) -> Markup:
    """Links to the customers' cards ("1001 Acme Oy, ...")."""
    return Markup(
        ", ".join(
            f'<a href="{escape(url_for(".details_view", id=c.id))}">'
            f"{escape(c.number)} {escape(c.name)}</a>"
            for c in customers
        )
    )


def _drop_failed_flash() -> None:
    """Take Flask-Admin's red "Failed to create/save record." back when the form was refused
    only to ask for a confirmation (the duplicate warning): one message says what happened."""
    failed = {
        str(admin_gettext("Failed to create record.")),
        str(admin_gettext("Failed to save record.")),
    }
    flashes = session.get("_flashes")
    if flashes:
        kept = [(category, message) for category, message in flashes if str(message) not in failed]
        if len(kept) != len(flashes):
            session["_flashes"] = kept


def _not_required(field) -> None:
    field.validators = [
        v for v in field.validators if not isinstance(v, (InputRequired, DataRequired))
    ]
    field.flags.required = False


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


def _registry_messages() -> dict:
    """The magnifier script's texts in the page's language (placeholders left in)."""
    return {
        "found": ngettext_forms(
            "%(num)s found in %(registry)s. Arrow keys choose, Enter picks.",
            "%(num)s found in %(registry)s. Arrow keys choose, Enter picks.",
        ),
        "none": gettext("No company matched “%(query)s” in %(registry)s."),
        "empty": gettext("Type a company name or a business ID."),
        "searching": gettext("Searching…"),
        "by_hand": gettext("You can type the details by hand."),
        "failed": gettext("The search did not get through. You can type the details by hand."),
    }


class CustomerView(VersionedEditMixin, ProtectedModelView):
    """The Summary list, the Add new > Customer form and the customer card."""

    advance_on_save = True  # inline addresses and contacts are part of the card
    list_template = "custreg_admin/customer_list.html"
    create_template = "custreg_admin/customer_create.html"
    details_template = "custreg_admin/customer_card.html"

    column_list = (
        "number",
        "name",
        "business_id",
        "country",
        "owner",
        "industry",
        "status",
        "segments",
        "city",
    )
    column_labels = {
        "number": lazy_gettext("Number"),
        "business_id": lazy_gettext("Business ID"),
        "vat_number": lazy_gettext("VAT number"),
        "country": lazy_gettext("Country"),
        "owner": lazy_gettext("Account owner"),
        "industry": lazy_gettext("Industry"),
        # TRANSLATORS: a customer's status (a settings list: Active, Passive, ...)
        "status": lazy_pgettext("field", "Status"),
        "invoice_template": lazy_gettext("Invoice template"),
        "vat_rate": lazy_gettext("Default invoicing VAT"),
        "segments": lazy_gettext("Market segments"),
        "city": lazy_gettext("City"),
        "einvoice_addresses": lazy_gettext("E-invoicing address"),
        "addresses": lazy_gettext("Address"),
        "name": lazy_gettext("Name"),
        "contacts": lazy_gettext("Contact person"),
        # TRANSLATORS: the customer is not inactivated
        "is_active": lazy_pgettext("customer", "Active"),
        "website": lazy_gettext("Website"),
        "email": lazy_gettext("E-mail"),
        "phone": lazy_gettext("Phone"),
        "notes": lazy_gettext("Notes"),
    }
    column_sortable_list = (
        "number",
        "name",
        "business_id",
        "country",
        ("owner", "owner.name"),
        ("industry", "industry.name"),
        ("status", "status.name"),
        "city",
    )
    column_select_related_list = (Customer.owner, Customer.industry, Customer.status)
    column_default_sort = ("name", False)
    column_searchable_list = ("name", "number", "business_id", "vat_number")
    column_formatters = {"segments": _segments_formatter, "name": _name_formatter}
    column_filters = (
        CustomerFieldFilter("owner_id", lazy_gettext("Account owner"), _filter_choices("users")),
        CustomerFieldFilter("industry_id", lazy_gettext("Industry"), _filter_choices("industries")),
        CustomerFieldFilter(
            "status_id", lazy_pgettext("field", "Status"), _filter_choices("statuses")
        ),
        CustomerFieldFilter(
            "segment_id", lazy_gettext("Market segment"), _filter_choices("segments")
        ),
        CustomerFieldFilter(
            "country", lazy_gettext("Country"), _filter_choices("countries"), numeric=False
        ),
        ActiveStateFilter(),
        CustomerFieldFilter(
            "registry_status",
            lazy_gettext("Registry status"),
            REGISTRY_STATUS_OPTIONS,
            numeric=False,
        ),
        KpiFilter(),
    )

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
    deletion_check = staticmethod(customer_service.ensure_deletable)
    inline_models = (
        AddressInline(Address),
        EInvoiceAddressInline(EInvoiceAddress),
        ContactInline(Contact),
    )

    # --- list -------------------------------------------------------------------------------

    def _get_filter_groups(self):
        self._refresh_filters_cache()  # filter choices (owners, segments...) change over time
        return super()._get_filter_groups()

    def get_query(self):
        return super().get_query().options(undefer(Customer.city), selectinload(Customer.segments))

    def _apply_search(self, query, count_query, joins, count_joins, search):
        condition = customer_service.search_condition(search)
        if condition is None:
            return query, count_query, joins, count_joins
        query = query.filter(condition)
        if count_query is not None:
            count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        filters = list(filters or [])
        if not any(isinstance(self._filters[idx], ActiveStateFilter) for idx, _, _ in filters):
            index = next(i for i, f in enumerate(self._filters) if isinstance(f, ActiveStateFilter))
            filters.append((index, self._filters[index].name, "active"))
        return super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )

    # --- form -------------------------------------------------------------------------------

    def create_form(self, obj=None):
        prefill = self._registry_prefill() if request.method == "GET" else None
        if prefill is not None:
            obj = _customer_from(prefill)
        form = super().create_form(obj)
        if prefill is not None:
            form.registry_source.data, form.registry_status.data = prefill.source, prefill.status
            if prefill.industry_missing:
                form.industry_suggestion.data = (
                    f"{prefill.industry_code or ''}|{prefill.industry_name or ''}"
                )
        if request.method == "GET" and not form.country.data:
            form.country.data = current_app.config["CUSTREG_DEFAULT_COUNTRY"]
        _not_required(form.number)  # empty means "the next free number"
        return form

    def _registry_prefill(self) -> registry_search.Prefill | None:
        """The registry record picked with the magnifier (``?registry=ytj&business_id=...``)."""
        provider_id = request.args.get("registry", "").strip()
        business_id = request.args.get("business_id", "").strip()
        if not provider_id or not business_id:
            return None
        try:
            record = registry_search.find_record(
                provider_id, business_id[:40], (request.args.get("q") or "")[:200] or None
            )
        except (RegistryError, DomainError) as error:
            flash(f"{error} {gettext('You can type the details by hand.')}", "error")
            return None
        prefill = registry_search.prefill_from(record)
        flash(
            gettext(
                "Filled from %(registry)s: %(name)s (%(business_id)s). Check the details and "
                "save; nothing is saved until you do.",
                registry=record.source.upper(),
                name=record.name,
                business_id=record.business_id,
            ),
            "info",
        )
        if prefill.status != "active":
            flash(
                gettext(
                    "The registry says this company is %(status)s.",
                    status=str(record.status_label).lower(),
                ),
                "warning",
            )
        return prefill

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        _not_required(form.number)
        return form

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not hasattr(form, "business_id") or request.method != "POST":
            return valid
        try:
            found = normalise_identifiers(
                form.country.data,
                form.business_id.data,
                form.vat_number.data,
                # a registry knows whether the company is VAT-registered: derive nothing then
                derive_vat=not (form.registry_source.data or "").strip(),
                infer_country=True,
            )
        except InvalidIdentifier as error:
            getattr(form, error.field).errors.append(str(error))
            return False
        form.business_id.data, form.vat_number.data = found.business_id, found.vat_number
        if found.country and found.country != (form.country.data or "").upper():
            flash(
                gettext(
                    "The country is now %(country)s: %(business_id)s is a valid %(country)s "
                    "business ID, not a %(chosen)s one.",
                    country=found.country,
                    business_id=found.business_id,
                    chosen=(form.country.data or "").upper(),
                ),
                "info",
            )
            form.country.data = found.country
        if not self._check_einvoice_addresses(form, found.business_id):
            return False
        if not valid:
            return False
        own = getattr(form, "_obj", None)
        found_duplicates = customer_service.duplicates_for_save(
            found.business_id, found.vat_number, customer=own
        )
        duplicates = found_duplicates.active
        token = f"{found.business_id}|{found.vat_number}"
        if found_duplicates.inactivated and not duplicates:
            flash(
                html(
                    gettext(
                        "An inactivated customer has the same business ID or VAT number: "
                        "%(customers)s."
                    ),
                    customers=_customer_links(found_duplicates.inactivated),
                ),
                "info",
            )
        if duplicates and form.confirm_duplicate.data != token:
            links = _customer_links(duplicates)
            form._custreg_confirmation_asked = True  # the one message: no "Failed to create"
            form.business_id.errors.append(
                gettext(
                    "Another customer already has this business ID or VAT number. "
                    "Save again to create this customer anyway."
                )
            )
            flash(
                html(
                    gettext(
                        "Business ID %(business_id)s is already used by %(customers)s. Check "
                        "that this is not a duplicate; saving again keeps both."
                    ),
                    business_id=found.business_id,
                    customers=links,
                ),
                "warning",
            )
            form.confirm_duplicate.data = token
            return False
        return True

    def _check_einvoice_addresses(self, form, business_id: str | None) -> bool:
        """Each e-invoicing address and operator code of the form checked (the address against
        the customer's business ID) and written in standard form; False when one is wrong."""
        entries = getattr(form, "einvoice_addresses", None)
        ok = True
        for entry in entries or ():
            if entries.should_delete(entry):
                continue
            sub = entry.form
            if not (sub.address.data or "").strip() and not (sub.operator.data or "").strip():
                continue  # an empty row: DataRequired says so
            try:
                sub.address.data, sub.operator.data = customer_service.einvoice_values(
                    sub.address.data,
                    sub.operator.data,
                    country=form.country.data,
                    business_id=business_id,
                )
            except InvalidIdentifier as error:
                getattr(sub, error.field).errors = [*getattr(sub, error.field).errors, str(error)]
                ok = False
        return ok

    def on_model_change(self, form, model, is_created):
        if is_created and not model.number:
            model.number = customer_service.next_customer_number()
        model.country = (model.country or "").upper() or current_app.config[
            "CUSTREG_DEFAULT_COUNTRY"
        ]
        for replaced in customer_service.keep_one_default(model):
            chosen = next(a for a in model.einvoice_addresses if a.is_default)
            flash(
                gettext(
                    "%(address)s is now the default e-invoicing address, in place of %(previous)s.",
                    address=chosen.address,
                    previous=replaced.address,
                ),
                "info",
            )
        source = (form.registry_source.data or "").strip()
        if source:
            registry_search.mark_fetched(model, source, form.registry_status.data or "active")
        suggestion = (form.industry_suggestion.data or "").strip()
        if (
            suggestion
            and form.create_industry.data
            and model.industry is None
            and access.may(current_custreg_user(), "create", Industry)
        ):
            code, _, name = suggestion.partition("|")
            with db.session.no_autoflush:
                model.industry = registry_search.create_industry(code, name)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # --- card -------------------------------------------------------------------------------

    def render(self, template, **kwargs):
        if getattr(kwargs.get("form"), "_custreg_confirmation_asked", False):
            _drop_failed_flash()
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(self._card_context(kwargs["model"]))
        elif template == self.list_template:
            view_args = self._get_list_extra_args()
            kwargs.update(
                mass_update_all_url=self._mass_update_all_url(view_args),
                kpi_cards_url=self._list_args_url(".kpi_cards_view", view_args),
            )
        elif template == self.create_template:
            form = kwargs.get("form")
            kwargs.update(
                registry_messages=_registry_messages(),
                registry_box_countries=country_choices(),
                registry_box_country=(
                    form.country.data if form is not None and form.country.data else None
                )
                or current_app.config["CUSTREG_DEFAULT_COUNTRY"],
                registry_box_registries=registry_search.countries_with_registry(),
            )
        return super().render(template, **kwargs)

    # --- KPI cards ----------------------------------------------------------------------------

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

    def get_url(self, endpoint, **kwargs):
        # ".index_view" means this view's, also when another view builds the link (the home)
        if endpoint.startswith("."):
            endpoint = self.endpoint + endpoint
        return super().get_url(endpoint, **kwargs)

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

    @action("mass_update", lazy_gettext("Mass update…"))
    def action_mass_update(self, ids):
        """Ticked rows go to the mass-update pages (which check permissions and CSRF again)."""
        return redirect(
            url_for(
                "custreg_mass_update.index",
                ids=",".join(ids),
                return_url=request.referrer or self.get_url(".index_view"),
            )
        )

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

    def _card_context(self, customer: Customer) -> dict:
        records = customer_service.card_records(
            customer, invoice_rows=CARD_INVOICE_ROWS, viewer=current_custreg_user()
        )
        registries = registry_search.providers_for(customer.country)
        return {
            "merged_into": project_service.merged_into(customer),
            "merged_from": project_service.merged_from(customer),
            "can_refresh": bool(customer.business_id and registries),
            "website_link": customer_service.website_link(customer.website),
            "registry_label": registries[0].label if registries else None,
            "status_labels": STATUS_LABELS,
            "sales_status_label": lambda code: label(SALES_STATUS_LABELS, code),
            "address_kind_label": lambda code: label(ADDRESS_KIND_LABELS, code),
            "projects": records.projects,
            "sales_cases": records.sales_cases,
            "invoices": records.invoices,
            "invoice_count": records.invoice_count,
            "country_name": country_name,
        }

    # --- registry lookup ------------------------------------------------------------------------

    @expose("/registry/search/")
    def registry_search_view(self):
        """The magnifier: JSON for the form's script, a results page without JavaScript."""
        country = request.args.get("country") or current_app.config["CUSTREG_DEFAULT_COUNTRY"]
        country = country.strip().upper()[:2]
        query = (request.args.get("q") or "").strip()
        wants_json = request.args.get("format") == "json"
        results, error, provider, status = [], None, None, 200
        try:
            provider, records = registry_search.search(country, query)
        except RegistryUnavailable as exc:
            error, status = str(exc), 503
        except (RegistryError, DomainError) as exc:
            error, status = str(exc), 400
        else:
            for record in records:
                results.append(
                    {
                        "name": record.name,
                        "business_id": record.business_id,
                        "company_form": record.company_form,
                        "city": record.city,
                        "status": record.status,
                        "status_label": str(record.status_label),
                        "parent_business_id": record.parent_business_id,
                        "parent_label": (
                            gettext(
                                "Part of %(business_id)s", business_id=record.parent_business_id
                            )
                            if record.parent_business_id
                            else None
                        ),
                        "use_url": self.get_url(
                            ".create_view",
                            registry=record.source,
                            business_id=record.business_id,
                            q=query,
                        ),
                    }
                )
        if wants_json:
            return jsonify(
                {
                    "query": query,
                    "country": country,
                    "registry": provider.label if provider else None,
                    "results": results,
                    "error": error,
                }
            ), status
        return self.render(
            "custreg_admin/registry_results.html",
            query=query,
            country=country,
            results=results,
            error=error,
            registry=provider.label if provider else None,
            countries=country_choices(),
            registry_countries=registry_search.countries_with_registry(),
            registry_messages=_registry_messages(),
        )

    @expose("/registry/refresh/", methods=("GET", "POST"))
    def registry_refresh_view(self):
        customer = self.get_one(request.values.get("id", ""))
        if customer is None:
            flash(gettext("That customer does not exist."), "error")
            return redirect(self.get_url(".index_view"))
        card = self.get_url(".details_view", id=customer.id)
        providers = registry_search.providers_for(customer.country)
        if not customer.business_id or not providers:
            flash(
                gettext(
                    "There is no registry for this customer's country, or it has no business ID."
                ),
                "error",
            )
            return redirect(card)
        try:
            record = registry_search.find_record(providers[0].id, customer.business_id)
        except RegistryError as error:
            flash(str(error), "error")
            return redirect(card)
        if request.method == "POST":
            try:
                access.ensure(current_custreg_user(), "refresh", customer)
            except DomainError as error:
                flash(str(error), "error")
                return redirect(card)
            changed = registry_search.apply_refresh(
                customer, record, set(request.form.getlist("field"))
            )
            flash(
                gettext(
                    "Updated from %(registry)s: %(fields)s.",
                    registry=providers[0].label,
                    fields=", ".join(str(c) for c in changed),
                )
                if changed
                else gettext("Nothing changed; the registry status was recorded."),
                "success",
            )
            return redirect(card)
        return self.render(
            "custreg_admin/registry_refresh.html",
            customer=customer,
            record=record,
            registry=providers[0].label,
            changes=registry_search.refresh_changes(customer, record),
            card_url=card,
        )

    @expose("/inactivate/", methods=("GET", "POST"))
    def inactivate_view(self):
        return self._toggle_active("inactivate")

    @expose("/reactivate/", methods=("GET", "POST"))
    def reactivate_view(self):
        return self._toggle_active("reactivate")

    def _toggle_active(self, what: str):
        customer = self.get_one(request.values.get("id", ""))
        if customer is None:
            flash(gettext("That customer does not exist."), "error")
            return redirect(self.get_url(".index_view"))
        card = self.get_url(".details_view", id=customer.id)
        if request.method == "POST":
            operation = (
                project_service.inactivate_customer
                if what == "inactivate"
                else project_service.reactivate_customer
            )
            try:
                operation(customer, user=current_custreg_user())
            except DomainError as error:
                flash(str(error), "error")
            else:
                done = (
                    gettext(
                        "Customer %(number)s %(name)s inactivated.",
                        number=customer.number,
                        name=customer.name,
                    )
                    if what == "inactivate"
                    else gettext(
                        "Customer %(number)s %(name)s reactivated.",
                        number=customer.number,
                        name=customer.name,
                    )
                )
                flash(done, "success")
            return redirect(card)
        return self.render(
            "custreg_admin/customer_confirm.html", customer=customer, what=what, card_url=card
        )
