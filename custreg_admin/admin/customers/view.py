"""Customers > Summary (the list) and the customer card; the form, KPI cards and registry
pages are mixins from this package's other modules."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload, undefer

from ...context import current_custreg_user
from ...errors import DomainError
from ...i18n import gettext, lazy_gettext, lazy_pgettext
from ...models import Customer, CustomerKey, MarketSegment
from ...registries import STATUS_LABELS, registry_name
from ...services import customers as customer_service
from ...services import paging, registry_search
from ...services.labels import ADDRESS_KIND_LABELS, SALES_STATUS_LABELS, label
from ...services.segments import segment_paths
from ..base import ProtectedModelView
from ..fields import country_choices, country_name
from ..versions import VersionedEditMixin
from .editing import CustomerEditing, _drop_failed_flash
from .filters import (
    REGISTRY_STATUS_OPTIONS,
    ActiveStateFilter,
    CustomerFieldFilter,
    KpiFilter,
    _filter_choices,
)
from .forms import CustomerFormSettings
from .kpi_cards import CustomerKpiCards
from .registry import CustomerRegistryViews, _registry_messages

CARD_INVOICE_ROWS = 20

_SEARCHED = "custreg_summary_searched"  # in flask.g: this request's list has a search

#: The Summary's columns sorted by a stored key (services/customer_keys.py).
SORT_KEYS = {
    "owner": CustomerKey.owner,
    "industry": CustomerKey.industry,
    "status": CustomerKey.status,
    "city": CustomerKey.city,
}


def _segments_formatter(view, context, model, name):
    return ", ".join(segment_paths(model.segments))


def _name_formatter(view, context, model, name):
    link = url_for(".details_view", id=model.id)
    badge = ""
    if not model.is_active:
        badge = f' <span class="badge badge-secondary">{escape(gettext("inactivated"))}</span>'
    if model.registry_status and model.registry_status != "active":
        status = str(STATUS_LABELS.get(model.registry_status, model.registry_status)).lower()
        badge += f' <span class="badge badge-danger">{escape(status)}</span>'
    return Markup(f'<a href="{escape(link)}">{escape(model.name)}</a>{badge}')


class CustomerView(
    CustomerRegistryViews,
    CustomerKpiCards,
    CustomerEditing,
    CustomerFormSettings,
    VersionedEditMixin,
    ProtectedModelView,
):
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
        # the stored sort keys (services/customer_keys.py): each indexed with the id
        ("owner", "key.owner"),
        ("industry", "key.industry"),
        ("status", "key.status"),
        ("city", "key.city"),
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

    deletion_check = staticmethod(customer_service.ensure_deletable)

    # --- list -------------------------------------------------------------------------------

    def _get_filter_groups(self):
        self._refresh_filters_cache()  # filter choices (owners, segments...) change over time
        return super()._get_filter_groups()

    def get_query(self):
        # the segments with their parents (shown as paths) in one statement, not one per parent
        segments = selectinload(Customer.segments).joinedload(MarketSegment.parent)
        return super().get_query().options(undefer(Customer.city), segments)

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
        setattr(g, _SEARCHED, bool(search and search.strip()))
        count, query = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=False, page_size=page_size
        )
        size = self.page_size if page_size is None else page_size
        if count is not None and page and size:  # the back half is read from the end
            rows = paging.page_from_the_end(query.limit(None).offset(None), page, size, count)
            if rows is not None:
                return count, rows
        return count, (query.all() if execute else query)

    def get_count_query(self):
        """The count, from the versioned cache while nothing changed (services/paging.py)."""
        return paging.CachedCount(super().get_count_query())

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """Owner, industry, status and city: by the stored key and its index (key, customer id),
        through an inner join (every customer has its keys), so that PostgreSQL walks that
        index instead of sorting a million rows."""
        if sort_column in (None, "name") and g.get(_SEARCHED):
            # a searched list by name: ``name || ''`` is no index order, so PostgreSQL takes
            # the matches from the trigram index and sorts them, instead of walking the name
            # index through every customer before the first match
            order = (Customer.name.concat(""), Customer.id)
            descending = bool(sort_desc) and sort_column is not None
            return query.order_by(*(c.desc() if descending else c.asc() for c in order)), joins
        key = SORT_KEYS.get(sort_column)
        if key is None:
            return super()._apply_sorting(query, joins, sort_column, sort_desc)
        order = (key, Customer.id)  # the same as the key's customer_id: its index serves it
        query = query.join(CustomerKey, CustomerKey.customer_id == Customer.id)
        return query.order_by(*(c.desc() if sort_desc else c.asc() for c in order)), joins

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
                inactivated_matches=self._inactivated_matches(view_args, kwargs.get("count")),
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

    def init_actions(self) -> None:
        """The bulk actions with Delete last (set apart by custreg.css), mass updates first."""
        super().init_actions()
        self._actions.sort(key=lambda item: item[0] == "delete")

    def _inactivated_matches(self, view_args, count) -> tuple[int, str] | None:
        """(how many, link) when a search finds nothing among active customers but matches
        inactivated ones (the list's default hides them)."""
        if count or not view_args.search:
            return None
        if any(isinstance(self._filters[f[0]], ActiveStateFilter) for f in view_args.filters or ()):
            return None
        found = customer_service.count_inactivated_matches(view_args.search)
        if not found:
            return None
        index = next(i for i, f in enumerate(self._filters) if isinstance(f, ActiveStateFilter))
        filters = [*(view_args.filters or ()), (index, self._filters[index].name, "inactive")]
        return found, self._get_list_url(view_args.clone(page=0, filters=filters))

    # --- links and actions ------------------------------------------------------------------

    def get_url(self, endpoint, **kwargs):
        # ".index_view" means this view's, also when another view builds the link (the home)
        if endpoint.startswith("."):
            endpoint = self.endpoint + endpoint
        return super().get_url(endpoint, **kwargs)

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

    def _card_context(self, customer: Customer) -> dict:
        records = customer_service.card_records(
            customer, invoice_rows=CARD_INVOICE_ROWS, viewer=current_custreg_user()
        )
        registries = registry_search.providers_for(customer.country)
        return {
            "merged_into": customer_service.merged_into(customer),
            "merged_from": customer_service.merged_from(customer),
            "can_refresh": bool(customer.business_id and registries),
            "website_link": customer_service.website_link(customer.website),
            "registry_label": registries[0].display_label() if registries else None,
            "registry_name": registry_name,
            "segment_paths": segment_paths,
            "status_labels": STATUS_LABELS,
            "sales_status_label": lambda code: label(SALES_STATUS_LABELS, code),
            "address_kind_label": lambda code: label(ADDRESS_KIND_LABELS, code),
            "projects": records.projects,
            "sales_cases": records.sales_cases,
            "invoices": records.invoices,
            "invoice_count": records.invoice_count,
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
            flash(gettext("That customer does not exist."), "error")
            return redirect(self.get_url(".index_view"))
        card = self.get_url(".details_view", id=customer.id)
        if request.method == "POST":
            try:
                customer_service.set_active(
                    customer, what == "reactivate", user=current_custreg_user()
                )
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
