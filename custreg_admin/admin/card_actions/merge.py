"""Merge a duplicate customer into the one to keep: choose, preview per field, confirm."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from markupsafe import Markup

from ...context import current_custreg_user
from ...errors import DomainError
from ...i18n import gettext, html
from ...models import Customer
from ...services import customers as customer_service
from ..fields import country_name
from .common import SEARCH_LIMIT, _candidate, _card_link, _card_url


class MergePages:
    """``/merge/`` (a mixin of :class:`CardActionsView`)."""

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
                    plan = customer_service.plan_merge(duplicate, keep)
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
        suggested = customer_service.likely_duplicates(duplicate)
        candidates = (
            customer_service.find_customers(query, exclude_id=duplicate.id, limit=SEARCH_LIMIT)
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
            merged_into=customer_service.merged_into(duplicate),
        )

    def _merge(self, duplicate: Customer):
        keep = customer_service.get_customer(request.form.get("keep"))
        choices = {
            name: request.form[f"field-{name}"]
            for name, _, _ in customer_service.MERGE_FIELDS
            if f"field-{name}" in request.form
        }
        try:
            plan = customer_service.merge_customers(
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
