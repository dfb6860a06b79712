"""Customers > Summary, Add new > Customer and the customer card."""

from __future__ import annotations

from flask import current_app, flash, has_app_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.form import rules
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..extensions import db
from ..models import (
    ADDRESS_KINDS,
    Address,
    Contact,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    MarketSegment,
    Project,
    User,
    customer_segment,
)
from ..services import customers as customer_service
from ..services import projects as project_service
from ..services.errors import DomainError, InvalidIdentifier
from ..services.identifiers import normalise_identifiers
from .base import ProtectedModelView
from .fields import (
    as_choices,
    country_name,
    country_select_choices,
    optional_country_select_choices,
)

CARD_INVOICE_ROWS = 20


class ActiveStateFilter(sqla_filters.BaseSQLAFilter):
    """Active / inactivated / all. Without it in the URL the list shows active customers."""

    def __init__(self) -> None:
        super().__init__(
            Customer.is_active,
            "Active state",
            options=(("active", "Active"), ("inactive", "Inactivated"), ("all", "All")),
        )

    def apply(self, query, value, alias=None):
        if value == "inactive":
            return query.filter(Customer.is_active.is_(False))
        if value == "all":
            return query
        return query.filter(Customer.is_active.is_(True))

    def operation(self):
        return "is"

    def validate(self, value):
        return value in ("active", "inactive", "all")


class SegmentFilter(sqla_filters.BaseSQLAFilter):
    def __init__(self) -> None:
        super().__init__(Customer.id, "Market segment", options=_segment_options)

    def apply(self, query, value, alias=None):
        members = select(customer_segment.c.customer_id).where(
            customer_segment.c.segment_id == int(value)
        )
        return query.filter(Customer.id.in_(members))

    def operation(self):
        return "includes"

    def validate(self, value):
        return str(value).isdigit()


def _options(model, label=lambda row: str(row), order=None):
    def load():
        if not has_app_context():  # Flask-Admin asks once at start-up; lists load per request
            return []
        rows = db.session.scalars(
            select(model).order_by(order if order is not None else model.name)
        )
        return [(str(row.id), label(row)) for row in rows]

    return load


def _segment_options():
    if not has_app_context():
        return []
    rows = db.session.scalars(
        select(MarketSegment)
        .options(selectinload(MarketSegment.parent))
        .order_by(MarketSegment.name)
    )
    return [(str(row.id), str(row)) for row in rows]


def _country_options():
    if not has_app_context():
        return []
    codes = db.session.scalars(select(Customer.country).distinct().order_by(Customer.country))
    return [(code, country_name(code)) for code in codes if code]


def _segments_formatter(view, context, model, name):
    return ", ".join(segment.name for segment in model.segments)


def _name_formatter(view, context, model, name):
    link = url_for(".details_view", id=model.id)
    badge = "" if model.is_active else ' <span class="badge badge-secondary">inactivated</span>'
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


def _not_required(field) -> None:
    field.validators = [
        v for v in field.validators if not isinstance(v, (InputRequired, DataRequired))
    ]
    field.flags.required = False


class AddressInline(InlineFormAdmin):
    form_columns = ("id", "kind", "street", "postal_code", "city", "country")
    form_overrides = {"kind": SelectField, "country": SelectField}
    form_args = {
        "kind": {
            "choices": as_choices((k, k.capitalize()) for k in ADDRESS_KINDS),
            "label": "Type",
        },
        "country": {"choices": optional_country_select_choices, "validators": [Optional()]},
        "street": {"validators": [Optional(), Length(max=300)]},
    }


class EInvoiceAddressInline(InlineFormAdmin):
    form_columns = ("id", "address", "operator", "is_default")
    form_args = {
        "address": {
            "label": "E-invoicing address",
            "description": "OVT (e.g. 003701120389) or PEPPOL ID (e.g. 0192:923609016)",
            "validators": [DataRequired(), Length(max=100)],
        },
        "operator": {"label": "Operator / intermediator code"},
        "is_default": {"label": "Default"},
    }


class ContactInline(InlineFormAdmin):
    form_columns = ("id", "first_name", "last_name", "title", "email", "phone", "is_active")


class CustomerView(ProtectedModelView):
    """The Summary list, the Add new > Customer form and the customer card."""

    list_template = "custreg_admin/customer_list.html"
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
        "number": "Number",
        "business_id": "Business ID",
        "vat_number": "VAT number",
        "owner": "Account owner",
        "invoice_template": "Invoice template",
        "vat_rate": "Default invoicing VAT",
        "segments": "Market segments",
        "einvoice_addresses": "E-invoicing address",
        "addresses": "Address",
        "name": "Name",
        "contacts": "Contact person",
        "is_active": "Active",
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
        sqla_filters.IntEqualFilter(Customer.owner_id, "Account owner", options=_options(User)),
        sqla_filters.IntEqualFilter(Customer.industry_id, "Industry", options=_options(Industry)),
        sqla_filters.IntEqualFilter(Customer.status_id, "Status", options=_options(CustomerStatus)),
        SegmentFilter(),
        sqla_filters.FilterEqual(Customer.country, "Country", options=_country_options),
        ActiveStateFilter(),
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
    )
    form_extra_fields = {"confirm_duplicate": HiddenField()}
    form_create_rules = form_edit_rules = (
        rules.FieldSet(("name", "business_id", "vat_number", "country", "number"), "Company"),
        rules.FieldSet(
            ("owner", "industry", "status", "invoice_template", "vat_rate", "segments"),
            "Classification and invoicing",
        ),
        rules.FieldSet(("website", "email", "phone", "notes"), "Contact details"),
        rules.FieldSet(("addresses",), "Addresses"),
        rules.FieldSet(("einvoice_addresses",), "Electronic invoicing"),
        rules.FieldSet(("contacts",), "Contacts"),
        _AlreadyRendered("confirm_duplicate"),
    )
    form_overrides = {"country": SelectField}
    form_args = {
        "name": {"validators": [DataRequired(), Length(max=300)]},
        "number": {
            "validators": [Optional()],
            "description": "Left empty, the next free number is given.",
        },
        "business_id": {
            "validators": [Optional(), Length(max=40)],
            "description": "FI 0112038-9, NO 923609016; checked and written in standard form.",
        },
        "vat_number": {
            "validators": [Optional(), Length(max=40)],
            "description": "FI01120389, NO923609016MVA; derived from the business ID when empty.",
        },
        "country": {"choices": country_select_choices},
        "owner": {
            "query_factory": lambda: db.session.scalars(
                select(User).where(User.is_active.is_(True)).order_by(User.name)
            ).all()
        },
        "website": {"validators": [Optional(), Length(max=300)]},
        "email": {"validators": [Optional(), Length(max=254)]},
        "phone": {"validators": [Optional(), Length(max=50)]},
    }
    form_widget_args = {"notes": {"rows": 4}}
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
        form = super().create_form(obj)
        if request.method == "GET" and not form.country.data:
            form.country.data = current_app.config["CUSTREG_DEFAULT_COUNTRY"]
        _not_required(form.number)  # empty means "the next free number"
        return form

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
                form.country.data, form.business_id.data, form.vat_number.data
            )
        except InvalidIdentifier as error:
            getattr(form, error.field).errors.append(str(error))
            return False
        form.business_id.data, form.vat_number.data = found.business_id, found.vat_number
        if not valid:
            return False
        own = getattr(form, "_obj", None)
        duplicates = customer_service.find_duplicates(
            found.business_id, found.vat_number, exclude_id=own.id if own is not None else None
        )
        token = f"{found.business_id}|{found.vat_number}"
        if duplicates and form.confirm_duplicate.data != token:
            links = ", ".join(
                f'<a href="{escape(url_for(".details_view", id=c.id))}">'
                f"{escape(c.number)} {escape(c.name)}</a>"
                for c in duplicates
            )
            form.business_id.errors.append(
                "Another customer already has this business ID or VAT number. "
                "Save again to create this customer anyway."
            )
            flash(
                Markup(
                    f"Business ID {escape(found.business_id)} is already used by {links}. "
                    "Check that this is not a duplicate; saving again keeps both."
                ),
                "warning",
            )
            form.confirm_duplicate.data = token
            return False
        return True

    def on_model_change(self, form, model, is_created):
        if is_created and not model.number:
            model.number = customer_service.next_customer_number()
        model.country = (model.country or "").upper() or current_app.config[
            "CUSTREG_DEFAULT_COUNTRY"
        ]

    def on_model_delete(self, model):
        customer_service.ensure_deletable(model)

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # --- card -------------------------------------------------------------------------------

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(self._card_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def _card_context(self, customer: Customer) -> dict:
        invoices = db.session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer.id)
            .options(selectinload(Invoice.status), selectinload(Invoice.project))
            .order_by(Invoice.date.desc(), Invoice.id.desc())
            .limit(CARD_INVOICE_ROWS)
        ).all()
        invoice_count = db.session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.customer_id == customer.id)
        )
        projects = db.session.scalars(
            select(Project)
            .where(Project.customer_id == customer.id)
            .options(selectinload(Project.manager))
            .order_by(Project.kind, Project.is_closed, Project.name)
        ).all()
        return {
            "projects": [p for p in projects if p.kind == "project"],
            "sales_cases": [p for p in projects if p.kind == "sales_case"],
            "invoices": invoices,
            "invoice_count": invoice_count,
            "country_name": country_name,
        }

    @expose("/inactivate/", methods=("GET", "POST"))
    def inactivate_view(self):
        return self._toggle_active("inactivate")

    @expose("/reactivate/", methods=("GET", "POST"))
    def reactivate_view(self):
        return self._toggle_active("reactivate")

    def _toggle_active(self, what: str):
        customer = self.get_one(request.values.get("id", ""))
        if customer is None:
            flash("That customer does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        card = self.get_url(".details_view", id=customer.id)
        if request.method == "POST":
            operation = (
                project_service.inactivate_customer
                if what == "inactivate"
                else project_service.reactivate_customer
            )
            try:
                operation(customer)
            except DomainError as error:
                flash(str(error), "error")
            else:
                done = "inactivated" if what == "inactivate" else "reactivated"
                flash(f"Customer {customer.number} {customer.name} {done}.", "success")
            return redirect(card)
        return self.render(
            "custreg_admin/customer_confirm.html", customer=customer, what=what, card_url=card
        )

    def get_one(self, id):
        if not str(id).isdigit():
            return None
        return db.session.get(Customer, int(id))
