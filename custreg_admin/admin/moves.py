"""Moving projects to another customer, merging a duplicate customer, a customer's history.

Reached from the customer card's Actions menu; not in the main menu. Every page works as plain
HTML forms: a GET form picks (search, choose, review), a POST with CSRF token changes, and only
after a confirmation page. ``static/moves.js`` adds search-as-you-type where JavaScript runs.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_admin import expose
from markupsafe import Markup, escape

from ..context import current_custreg_user
from ..errors import DomainError
from ..i18n import gettext, html, ngettext
from ..models import Customer
from ..rules.request_ids import parse_id, parse_ids, parse_int
from ..services import customers as customer_service
from ..services import history as history_service
from ..services import projects as project_service
from ..services.labels import SALES_STATUS_LABELS, label
from .base import ProtectedView
from .fields import country_name
from .formatting import local_datetime

HISTORY_PAGE_SIZE = 50
SEARCH_LIMIT = 20
MAX_PAGE = 100_000


def _ids(values) -> list[int]:
    return parse_ids(values)


def _card_url(customer: Customer) -> str:
    return url_for("custreg_customer.details_view", id=customer.id)


def _card_link(customer: Customer) -> Markup:
    return Markup(
        f'<a href="{escape(_card_url(customer))}">{escape(customer.number)} '
        f"{escape(customer.name)}</a>"
    )


def _candidate(customer: Customer) -> dict:
    bits = [b for b in (customer.business_id, customer.vat_number, customer.country) if b]
    return {
        "id": customer.id,
        "label": f"{customer.number} {customer.name}",
        "detail": " · ".join(bits),
    }


class MovesView(ProtectedView):
    """Endpoint ``custreg_moves``: /customers/moves/projects/, /merge/, /history/, /search/."""

    def is_visible(self) -> bool:
        return False

    @property
    def extra_js(self) -> list[str]:  # type: ignore[override]
        return [url_for("custreg_admin.static", filename="moves.js")]

    def render(self, template, **kwargs):
        kwargs.setdefault("card_url", _card_url)
        kwargs.setdefault("sales_status_label", lambda code: label(SALES_STATUS_LABELS, code))
        return super().render(template, **kwargs)

    def _missing(self):
        flash(gettext("That customer does not exist."), "error")
        return redirect(url_for("custreg_customer.index_view"))

    @expose("/")
    def index(self):
        return redirect(url_for("custreg_customer.index_view"))

    @expose("/search/")
    def search(self):
        """Customers a move or a merge can go to, as JSON for search-as-you-type."""
        exclude = request.args.get("exclude", "")
        found = project_service.find_customers(
            request.args.get("q", ""),
            exclude_id=parse_id(exclude),
            limit=SEARCH_LIMIT,
        )
        return jsonify(results=[_candidate(c) for c in found])

    # --- move projects ----------------------------------------------------------------------

    @expose("/projects/", methods=("GET", "POST"))
    def projects(self):
        source = customer_service.get_customer(request.values.get("id"))
        if source is None:
            return self._missing()
        if request.method == "POST":
            return self._move(source)
        checks = project_service.project_checks(source)
        chosen = set(_ids(request.args.getlist("project")))
        target = customer_service.get_customer(request.args.get("target"))
        query = request.args.get("q", "").strip()
        if request.args.get("action") == "review":
            problem = project_service.move_refusal(source, target, chosen)
            if problem is None:
                return self.render(
                    "custreg_admin/moves/projects_confirm.html",
                    source=source,
                    target=target,
                    projects=[c for c in checks if c.id in chosen],
                    back_url=self.get_url(
                        ".projects", id=source.id, target=target.id, project=sorted(chosen), q=query
                    ),
                )
            flash(problem, "error")
        candidates = (
            project_service.find_customers(query, exclude_id=source.id, limit=SEARCH_LIMIT)
            if query
            else []
        )
        if target is not None and target.id != source.id and target not in candidates:
            candidates.insert(0, target)
        return self.render(
            "custreg_admin/moves/projects.html",
            source=source,
            checks=checks,
            chosen=chosen,
            target=target,
            query=query,
            candidates=[_candidate(c) for c in candidates],
            searched=bool(query),
        )

    def _move(self, source: Customer):
        target = customer_service.get_customer(request.form.get("target"))
        ids = _ids(request.form.getlist("project"))
        try:
            moved = project_service.move_projects(source, target, ids, user=current_custreg_user())
        except DomainError as error:
            flash(str(error), "error")
            back = {"id": source.id, "project": ids, "action": "edit"}
            if target is not None:
                back["target"] = target.id
            return redirect(self.get_url(".projects", **back))
        if len(moved) == 1:
            message = html(
                gettext("Moved project “%(name)s” to %(customer)s."),
                name=moved[0],
                customer=_card_link(target),
            )
        else:
            message = html(
                ngettext(
                    "Moved %(num)s project to %(customer)s: %(names)s.",
                    "Moved %(num)s projects to %(customer)s: %(names)s.",
                    len(moved),
                ),
                num=len(moved),
                customer=_card_link(target),
                names=", ".join(f"“{n}”" for n in moved),
            )
        flash(message, "success")
        return redirect(_card_url(source))

    # --- merge ------------------------------------------------------------------------------

    @expose("/merge/", methods=("GET", "POST"))
    def merge(self):
        duplicate = customer_service.get_customer(request.values.get("id"))
        if duplicate is None:
            return self._missing()
        if request.method == "POST":
            return self._merge(duplicate)
        keep = customer_service.get_customer(request.args.get("keep"))
        query = request.args.get("q", "").strip()
        if request.args.get("action") == "preview":
            if keep is None:
                flash(gettext("Choose the customer to keep."), "error")
            else:
                try:
                    plan = project_service.plan_merge(duplicate, keep)
                except DomainError as error:
                    flash(str(error), "error")
                else:
                    return self.render(
                        "custreg_admin/moves/merge_preview.html",
                        duplicate=duplicate,
                        keep=keep,
                        plan=plan,
                        country_name=country_name,
                        back_url=self.get_url(".merge", id=duplicate.id, keep=keep.id, q=query),
                    )
        suggested = project_service.likely_duplicates(duplicate)
        candidates = (
            project_service.find_customers(query, exclude_id=duplicate.id, limit=SEARCH_LIMIT)
            if query
            else []
        )
        if keep is not None and keep.id != duplicate.id and keep not in candidates + suggested:
            candidates.insert(0, keep)
        return self.render(
            "custreg_admin/moves/merge.html",
            duplicate=duplicate,
            keep=keep,
            query=query,
            suggested=[_candidate(c) for c in suggested],
            candidates=[_candidate(c) for c in candidates],
            searched=bool(query),
            merged_into=project_service.merged_into(duplicate),
        )

    def _merge(self, duplicate: Customer):
        keep = customer_service.get_customer(request.form.get("keep"))
        choices = {
            name: request.form[f"field-{name}"]
            for name, _, _ in project_service.MERGE_FIELDS
            if f"field-{name}" in request.form
        }
        try:
            plan = project_service.merge_customers(
                duplicate,
                keep,
                choices,
                user=current_custreg_user(),
                plan_token=request.form.get("token") or None,
            )
        except DomainError as error:
            flash(str(error), "error")
            if keep is None:
                return redirect(self.get_url(".merge", id=duplicate.id))
            return redirect(self.get_url(".merge", id=duplicate.id, keep=keep.id, action="preview"))
        message = html(
            gettext("Merged %(customer)s into this customer and inactivated it."),
            customer=_card_link(duplicate),
        )
        if plan.blocked_projects or plan.invoice_count:
            message += Markup(" ") + html(
                gettext("What could not move stays on the inactivated card.")
            )
        flash(message, "success")
        return redirect(_card_url(keep))

    # --- history ----------------------------------------------------------------------------

    @expose("/history/")
    def history(self):
        customer = customer_service.get_customer(request.args.get("id"))
        if customer is None:
            return self._missing()
        page = request.args.get("page", "0")
        page = parse_int(page, maximum=MAX_PAGE) or 0
        kinds = history_service.kinds_of(customer.id)
        kind = request.args.get("kind", "")
        kind = kind if kind in kinds else ""
        events, total = history_service.customer_history(
            customer, page=page, per_page=HISTORY_PAGE_SIZE, kind=kind or None
        )
        viewer = current_custreg_user()
        money = history_service.money_visibility(viewer, events)
        return self.render(
            "custreg_admin/moves/history.html",
            customer=customer,
            events=[
                (
                    e,
                    history_service.describe(
                        e, money_visible=(e.entity_type, e.entity_id) in money
                    ),
                )
                for e in events
            ],
            total=total,
            page=page,
            pages=max(1, -(-total // HISTORY_PAGE_SIZE)),
            kind=kind,
            kinds=[(k, history_service.kind_label(k)) for k in kinds],
            kind_label=history_service.kind_label,
            local_time=local_datetime,
            merged_into=project_service.merged_into(customer),
            merged_from=project_service.merged_from(customer),
        )
