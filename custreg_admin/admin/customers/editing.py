"""Add new > Customer and the card's edit form: the registry prefill, identifiers, duplicates,
e-invoicing addresses and what is set on save."""

from __future__ import annotations

from flask import current_app, flash, request, session, url_for
from flask_admin.babel import gettext as admin_gettext
from markupsafe import Markup, escape
from wtforms.validators import DataRequired, InputRequired

from ...context import current_custreg_user
from ...errors import DomainError, InvalidIdentifier
from ...extensions import db
from ...i18n import gettext, html
from ...models import Address, Industry
from ...registries import RegistryError
from ...rules import access
from ...services import customers as customer_service
from ...services import registry_form, registry_search
from ...services.business_ids import normalise_identifiers


def fill_form(form, fill: registry_form.FormFill) -> None:
    """Put a registry pick's values into the customer form (as the form's script does in the
    browser): only the fields the registry gives; an address row of the same kind is filled,
    else one is added."""
    for name, value in fill.fields.items():
        field = getattr(form, name, None)
        if field is None:
            continue
        field.data = db.session.get(Industry, int(value)) if name == "industry" else value
    rows = getattr(form, "addresses", None)
    if rows is None:
        return
    for address in fill.addresses:
        row = next(
            (
                entry.form
                for entry in rows
                if not rows.should_delete(entry) and entry.form.kind.data == address["kind"]
            ),
            None,
        )
        if row is None:
            rows.append_entry(Address(**address))
            continue
        for name in registry_form.ADDRESS_FIELDS:
            getattr(row, name).data = address[name]


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


class CustomerEditing:
    """The create and edit form's behaviour (a mixin of :class:`CustomerView`)."""

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            if not form.country.data:
                form.country.data = current_app.config["CUSTREG_DEFAULT_COUNTRY"]
            defaults = customer_service.new_customer_defaults(current_custreg_user())
            for name, value in defaults.items():
                field = getattr(form, name, None)
                if field is not None and field.data is None and value is not None:
                    field.data = value
            provider_id = request.args.get("registry", "").strip()
            business_id = request.args.get("business_id", "").strip()
            if provider_id and business_id:  # a pick's link (the results page)
                self._fill_from_registry(form, provider_id, business_id, request.args.get("q"))
        _not_required(form.number)  # empty means "the next free number"
        return form

    def _fill_from_registry(self, form, provider_id: str, business_id: str, query) -> bool:
        """Fill ``form`` from the registry record picked with the magnifier; False (and the
        registry's message) when it cannot be had."""
        try:
            fill = registry_form.pick(provider_id, business_id, query)
        except (RegistryError, DomainError) as error:
            flash(str(error), "error")  # a registry's message says "type the details by hand"
            return False
        fill_form(form, fill)
        for category, text in fill.messages:
            flash(text, category)
        return True

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
            # the one message says what happened: no "Failed to create record." beside it and
            # no second text under the field
            form._custreg_confirmation_asked = True
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
