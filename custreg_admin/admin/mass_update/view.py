"""The mass update pages' view (endpoint ``custreg_mass_update``); the URLs are in the package
docs."""

from __future__ import annotations

import secrets

from flask import flash, redirect, request, url_for
from flask_admin import expose
from itsdangerous import BadSignature
from markupsafe import Markup
from werkzeug.routing import BuildError

from ...context import current_custreg_user
from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext, html, ngettext
from ...models import MassUpdateBatch
from ...rules import access
from ...rules.request_ids import pack_ids, page_count, parse_int, unpack_ids
from ...services import mass_update as service
from ..base import ProtectedView
from ..formatting import local_datetime, number
from .requests import (
    CHANGES_PAGE_SIZE,
    CLEAR,
    HISTORY_PAGE_SIZE,
    MAX_PAGE,
    TOKEN_MAX_AGE,
    _choices,
    _safe_return,
    _selection_from,
    _selection_params,
    _serializer,
    _summary_url,
    _value_from,
)


class MassUpdateView(ProtectedView):
    """Endpoint ``custreg_mass_update``; see the module docs for its URLs."""

    def render(self, template, **kwargs):
        kwargs.setdefault("actions", service.ACTIONS)
        kwargs.setdefault("clear_value", CLEAR)
        kwargs.setdefault("local_time", local_datetime)
        kwargs.setdefault("skip_reason", service.skip_reason_label)
        kwargs.setdefault("summary_url", _summary_url())
        return super().render(template, **kwargs)

    def _choose_url(self, selection, action: str | None, return_url: str, **extra) -> str:
        params = _selection_params(selection)
        if action:
            params["action"] = action
        params["return_url"] = return_url
        params.update(extra)
        return self.get_url(".index", **params)

    # --- 1. choose the action and its value --------------------------------------------------

    @expose("/")
    def index(self):
        return_url = _safe_return(request.args.get("return_url"))
        try:
            selection = _selection_from(request.args)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(return_url)
        if selection is None:
            return redirect(self.get_url(".history"))
        try:
            count, mine = service.count_selection(current_custreg_user(), selection)
            label = service.describe_selection(selection)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(return_url)
        action = service.ACTIONS.get(request.args.get("action", ""))
        return self.render(
            "custreg_admin/mass_update/choose.html",
            selection_params=_selection_params(selection),
            selection_label=label,
            count=count,
            mine=mine,
            action=action,
            choices=_choices(action),
            chosen=set(request.args.getlist("value")),
            return_url=return_url,
            action_url=lambda key: self._choose_url(selection, key, return_url),
        )

    @expose("/from-report/", methods=("POST",))
    def from_report(self):
        """The Customers report's selection form (see :mod:`custreg_admin.admin.reports`)."""
        query = request.form.get("report_query", "")
        try:
            return_url = url_for("custreg_reports.build_view") + ("?" + query if query else "")
        except BuildError:
            return_url = _summary_url()
        if request.form.get("all_matching") == "1":
            params = {"report": query}
        else:
            ids = request.form.getlist("customer_ids")
            if not ids:
                flash(gettext("Tick at least one row, or choose all matching rows."), "error")
                return redirect(return_url)
            params = {"ids": ",".join(ids)}
        return redirect(self.get_url(".index", return_url=return_url, **params))

    # --- 2. confirmation ----------------------------------------------------------------------

    @expose("/preview/", methods=("POST",))
    def preview(self):
        form = request.form
        return_url = _safe_return(form.get("return_url"))
        action = form.get("action", "")
        try:
            selection = _selection_from(form)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(return_url)
        if selection is None:
            flash(gettext("Select the customers to update first."), "error")
            return redirect(return_url)
        value = _value_from(action, form)
        try:
            plan = service.plan(current_custreg_user(), selection, action, value)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(self._choose_url(selection, action, return_url))
        key = secrets.token_urlsafe(16)
        token = _serializer().dumps(
            {
                "u": current_custreg_user().id,
                "a": plan.action.key,
                "v": plan.value.raw(plan.action),
                "s": selection.as_json(),
                "i": pack_ids(plan.ids),
                "k": key,
            }
        )
        values = [str(v) for v in plan.value.ids] or [CLEAR]
        return self.render(
            "custreg_admin/mass_update/confirm.html",
            plan=plan,
            token=token,
            return_url=return_url,
            selection_params=_selection_params(selection),
            own_params=_selection_params(selection.only_own()),
            values=values,
            back_url=self._choose_url(selection, plan.action.key, return_url, value=values),
        )

    # --- 3. apply -----------------------------------------------------------------------------

    @expose("/apply/", methods=("POST",))
    def apply_view(self):
        return_url = _safe_return(request.form.get("return_url"))
        try:
            data = _serializer().loads(request.form.get("token", ""), max_age=TOKEN_MAX_AGE)
            if not isinstance(data, dict) or data.get("u") != current_custreg_user().id:
                raise BadSignature("not this user's confirmation")
            ids = unpack_ids(data["i"])
            selection = service.Selection.from_json(data["s"])
            action, value, key = data["a"], data["v"], data["k"]
        except (BadSignature, KeyError, TypeError, DomainError):
            flash(
                gettext(
                    "This confirmation is no longer valid (it has expired or was altered); "
                    "nothing was changed. Select the customers and review the mass update again."
                ),
                "error",
            )
            return redirect(return_url)
        try:
            batch = service.apply(
                current_custreg_user(), ids, action, value, selection=selection, plan_key=str(key)
            )
        except service.AlreadyApplied as error:
            flash(str(error), "warning")
            if error.batch_id:
                return redirect(self.get_url(".batch_view", batch_id=error.batch_id))
            return redirect(return_url)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(self._choose_url(selection, action, return_url))
        message = html(
            ngettext(
                "%(num)s customer updated.", "%(num)s customers updated.", batch.changed_count
            ),
            num=number(batch.changed_count),
        )
        if batch.unchanged_count:
            message += Markup(" ") + html(
                ngettext(
                    "%(num)s customer already had that value.",
                    "%(num)s customers already had that value.",
                    batch.unchanged_count,
                ),
                num=number(batch.unchanged_count),
            )
        link = Markup('<a href="%s">%s</a>') % (
            self.get_url(".batch_view", batch_id=batch.id),
            gettext("See the changes or undo them"),
        )
        message += Markup(" %s.") % link
        flash(message, "success")
        return redirect(return_url)

    # --- 4. history, batch, undo --------------------------------------------------------------

    @expose("/history/")
    def history(self):
        page = request.args.get("page", "0")
        page = parse_int(page, maximum=MAX_PAGE) or 0
        rows, total = service.batches(page=page, per_page=HISTORY_PAGE_SIZE)
        return self.render(
            "custreg_admin/mass_update/history.html",
            batches=rows,
            total=total,
            page=page,
            pages=page_count(total, HISTORY_PAGE_SIZE),
            may_undo=self._may_undo,
        )

    def _may_undo(self, batch: MassUpdateBatch) -> bool:
        if batch.undo_of_id is not None or batch.undone_at is not None:
            return False
        if not batch.changed_count:
            return False
        return bool(access.may(current_custreg_user(), "edit", batch))

    def _batch(self, batch_id: int) -> MassUpdateBatch | None:
        batch = db.session.get(MassUpdateBatch, batch_id)
        if batch is None:
            flash(gettext("That mass update does not exist."), "error")
        return batch

    @expose("/batch/<int:batch_id>/")
    def batch_view(self, batch_id: int):
        batch = self._batch(batch_id)
        if batch is None:
            return redirect(self.get_url(".history"))
        page = request.args.get("page", "0")
        page = parse_int(page, maximum=MAX_PAGE) or 0
        skipped_only = request.args.get("skipped") == "1"
        changes, total = service.batch_changes(
            batch, page=page, per_page=CHANGES_PAGE_SIZE, skipped_only=skipped_only
        )
        return self.render(
            "custreg_admin/mass_update/batch.html",
            batch=batch,
            action=service.ACTIONS.get(batch.action),
            changes=changes,
            total=total,
            page=page,
            pages=page_count(total, CHANGES_PAGE_SIZE),
            skipped_only=skipped_only,
            may_undo=self._may_undo(batch),
            undo_batch=service.undoing_batch(batch),
        )

    @expose("/batch/<int:batch_id>/undo/", methods=("GET", "POST"))
    def undo_view(self, batch_id: int):
        batch = self._batch(batch_id)
        if batch is None:
            return redirect(self.get_url(".history"))
        batch_url = self.get_url(".batch_view", batch_id=batch.id)
        if request.method == "POST":
            try:
                done = service.undo(current_custreg_user(), batch.id)
            except DomainError as error:
                flash(str(error), "error")
                return redirect(batch_url)
            message = ngettext(
                "Mass update #%(id)s undone: %(num)s customer restored.",
                "Mass update #%(id)s undone: %(num)s customers restored.",
                done.changed_count,
                id=batch_id,
                num=number(done.changed_count),
            )
            if done.skipped_count:
                message += " " + ngettext(
                    "%(num)s customer skipped; it is listed below with the reason.",
                    "%(num)s customers skipped; they are listed below with the reason.",
                    done.skipped_count,
                    num=number(done.skipped_count),
                )
            flash(message, "success" if not done.skipped_count else "warning")
            return redirect(
                self.get_url(
                    ".batch_view", batch_id=done.id, skipped="1" if done.skipped_count else None
                )
            )
        try:
            undo_plan = service.plan_undo(current_custreg_user(), batch.id)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(batch_url)
        return self.render(
            "custreg_admin/mass_update/undo.html",
            batch=batch,
            action=service.ACTIONS.get(batch.action),
            undo_plan=undo_plan,
            batch_url=batch_url,
        )
