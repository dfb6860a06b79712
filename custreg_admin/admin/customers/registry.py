"""The registry magnifier (search) and the card's Refresh from the registry."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request
from flask_admin import expose
from flask_admin.form import FormOpts
from flask_admin.helpers import get_redirect_target

from ...context import current_custreg_user
from ...errors import DomainError
from ...i18n import gettext, ngettext_forms
from ...registries import RegistryError, RegistryUnavailable
from ...rules import access
from ...services import registry_form, registry_search
from ..fields import country_choices

#: the no-JavaScript magnifier's submit buttons on the form: "search" or "pick:<registry>:<id>"
REGISTRY_STEP = "custreg_registry"


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
        "failed": gettext("The search did not get through. You can type the details by hand."),
    }


def _result_rows(view, records, query: str) -> list[dict]:
    """The registry's answers as the magnifier lists them: the script's JSON, the results page
    and the form's own list without JavaScript."""
    return [
        {
            "name": record.name,
            "business_id": record.business_id,
            "company_form": record.company_form,
            "city": record.city,
            "status": record.status,
            "status_label": str(record.status_label),
            "parent_business_id": record.parent_business_id,
            "parent_label": (
                gettext("Part of %(business_id)s", business_id=record.parent_business_id)
                if record.parent_business_id
                else None
            ),
            "use_url": view.get_url(
                ".create_view", registry=record.source, business_id=record.business_id, q=query
            ),
            "fill_url": view.get_url(
                ".registry_fill_view",
                registry=record.source,
                business_id=record.business_id,
                q=query,
            ),
            "pick": f"{record.source}:{record.business_id}",
        }
        for record in records
    ]


class CustomerRegistryViews:
    """The magnifier and refresh pages (a mixin of :class:`CustomerView`)."""

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
            results = _result_rows(self, records, query)
        if wants_json:
            return jsonify(
                {
                    "query": query,
                    "country": country,
                    "registry": provider.display_label() if provider else None,
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
            registry=provider.display_label() if provider else None,
            countries=country_choices(),
            registry_countries=registry_search.countries_with_registry(),
            registry_messages=_registry_messages(),
        )

    @expose("/registry/fill/")
    def registry_fill_view(self):
        """A pick for the form's script: the form's values as JSON (the script fills them in
        place, so that what the user typed stays)."""
        try:
            fill = registry_form.pick(
                request.args.get("registry", "").strip(),
                request.args.get("business_id", "").strip(),
                request.args.get("q"),
            )
        except RegistryUnavailable as exc:
            return jsonify({"error": str(exc)}), 503
        except (RegistryError, DomainError) as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify(fill.as_json())

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Add new > Customer. Without JavaScript the magnifier's Search and each result's
        "Use this company" post the whole form here (``custreg_registry``): the form comes
        back with what was typed, plus the results or the picked company's values."""
        step = request.form.get(REGISTRY_STEP) if request.method == "POST" else None
        if not step or not self.can_create:
            return super().create_view()
        form = self.create_form()
        extra: dict = {}
        picked = registry_form.parse_pick(step.removeprefix("pick:"))
        if step.startswith("pick:") and picked is not None:
            if self._fill_from_registry(form, *picked, request.form.get("q")):
                required = [f.name for f in form if f.flags.required]
                data = {f.name: f.data for f in form}
                focus = registry_form.first_to_fill(data, required)
                if focus is not None:  # autofocus, as the script's focus() does
                    field = getattr(form, focus)
                    field.render_kw = {**(field.render_kw or {}), "autofocus": True}
                extra["focus_field"] = focus or "save"
        else:
            extra.update(self._registry_results_context(request.form))
        return self.render(
            self.create_template,
            form=form,
            form_opts=FormOpts(
                widget_args=self.form_widget_args, form_rules=self._form_create_rules
            ),
            return_url=get_redirect_target() or self.get_url(".index_view"),
            **extra,
        )

    def _registry_results_context(self, values) -> dict:
        """The magnifier's search, for the form's own list without JavaScript."""
        country = (values.get("registry_country") or values.get("country") or "").strip()
        country = country.upper()[:2] or current_app.config["CUSTREG_DEFAULT_COUNTRY"]
        query = (values.get("q") or "").strip()
        context: dict = {"registry_query": query, "registry_country": country}
        try:
            provider, records = registry_search.search(country, query)
        except (RegistryError, DomainError) as exc:
            context["registry_error"] = str(exc)
        else:
            context["registry_results"] = _result_rows(self, records, query)
            context["registry_label"] = provider.display_label()
        return context

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
                    registry=providers[0].display_label(),
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
            registry=providers[0].display_label(),
            changes=registry_search.refresh_changes(customer, record),
            card_url=lambda c: self.get_url(".details_view", id=c.id),
        )
