"""Move projects to another customer: choose projects and target, review, confirm."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose

from ...context import current_custreg_user
from ...errors import DomainError
from ...i18n import gettext, html, ngettext
from ...models import Customer
from ...services import customers as customer_service
from .common import SEARCH_LIMIT, _candidate, _card_link, _card_url, _ids


class ProjectMovePages:
    """``/projects/`` (a mixin of :class:`CardActionsView`)."""

    @expose("/projects/", methods=("GET", "POST"))
    def projects(self):
        source = customer_service.get_customer(request.values.get("id"))
        if source is None:
            return self._missing()
        if request.method == "POST":
            return self._move(source)
        checks = customer_service.project_checks(source)
        chosen = set(_ids(request.args.getlist("project")))
        target = customer_service.get_customer(request.args.get("target"))
        query = request.args.get("q", "").strip()
        if request.args.get("action") == "review":
            problem = customer_service.move_refusal(source, target, chosen)
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
            customer_service.find_customers(query, exclude_id=source.id, limit=SEARCH_LIMIT)
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
            moved = customer_service.move_projects(source, target, ids, user=current_custreg_user())
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
