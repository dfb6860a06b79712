"""Customers > Mass updates: choose an action and its value, confirm, apply; history and undo.

Thin: the selection, counts, preview, apply and undo are :mod:`custreg_admin.services.mass_update`.

The URL contract (endpoint ``custreg_mass_update``, mounted at ``customers/mass-update``):

* ``GET /?ids=1,2,3`` (ticked rows; ``ids`` may also repeat), ``GET /?spec=<JSON>`` ("all N
  matching": the URL-encoded JSON of :meth:`CustomerSet.to_spec`) or ``GET /?report=<query>``
  (every customer of a Customers report: the report's URL-encoded query string), each with an
  optional ``action=`` (a key of :data:`~custreg_admin.services.mass_update.ACTIONS`) and
  ``return_url=`` (a path in this site; the Summary list when missing). Without a selection the
  page is the history.
* ``POST /from-report/``: the reports page's hook (``customer_ids``, ``all_matching=1``,
  ``report_query``); it redirects to the page above.
* ``POST /preview/`` shows the confirmation with a signed token carrying the frozen ids;
  ``POST /apply/`` applies that token; ``GET /history/``, ``GET /batch/<id>/`` and
  ``GET``/``POST /batch/<id>/undo/``.

Every POST carries the CSRF token (Flask-WTF checks it app-wide). The frozen selection travels
signed with the app's secret key (itsdangerous, with a time limit), bound to the user, with a
key that lets it apply once.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.routing import BuildError

from ..context import current_custreg_user
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext, html, ngettext
from ..models import MarketSegment, MassUpdateBatch, User, VatRate
from ..rules import access
from ..rules.request_ids import InvalidSelection, pack_ids, page_count, parse_int, unpack_ids
from ..services import choices
from ..services import mass_update as service
from .base import ProtectedView
from .formatting import local_datetime, number

TOKEN_SALT = "custreg-mass-update"
TOKEN_MAX_AGE = 2 * 60 * 60  # seconds a confirmation page stays valid
CLEAR = service.CLEAR  # the value form's "(none) - clear the industry"
HISTORY_PAGE_SIZE = 50
MAX_PAGE = 100_000
CHANGES_PAGE_SIZE = 50


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def _summary_url() -> str:
    return url_for("custreg_customer.index_view")


def _safe_return(url: str | None) -> str:
    """A return address on this site, as a path: a path as it is, a full URL of this host (a
    ``Referer``) as its path and query; anything else gives the Summary list."""
    url = (url or "").strip()
    if "\\" in url:
        return _summary_url()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return _summary_url()
        url = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if not url.startswith("/") or url.startswith("//"):
        return _summary_url()
    return url


# --- selection in requests ------------------------------------------------------------------


def _ids_from(values) -> list[str]:
    return [part for value in values.getlist("ids") for part in value.split(",") if part.strip()]


def _report_selection(query: str) -> service.Selection:
    values = dict(parse_qsl(query or "", keep_blank_values=True))
    if "type" not in values:
        raise InvalidSelection(
            gettext("The report could not be read; open the report's preview and select again.")
        )
    filters = {key[2:]: value for key, value in values.items() if key.startswith("f_")}
    return service.Selection.of_report(values["type"], filters)


def _selection_from(values) -> service.Selection | None:
    """The selection a request names (``ids``, ``spec`` or ``report``); None when none.

    Raises :class:`~custreg_admin.services.mass_update.InvalidSelection` for what cannot be read.
    """
    if values.get("spec"):
        selection = service.Selection.of_spec(values.get("spec"))
    elif values.get("report"):
        selection = _report_selection(values.get("report"))
    elif "ids" in values:
        selection = service.Selection.of_ids(_ids_from(values))
    else:
        return None
    return selection.only_own() if values.get("own_only") == "1" else selection


def _selection_params(selection: service.Selection) -> dict[str, str]:
    """Request values that give the selection back (hidden fields, links)."""
    if selection.ids is not None:
        params = {"ids": ",".join(str(i) for i in selection.ids)}
    elif selection.spec is not None:
        params = {"spec": json.dumps(selection.spec, separators=(",", ":"))}
    else:
        report = selection.report or {}
        query = {"type": report.get("type") or "customers"}
        query.update({f"f_{k}": v for k, v in (report.get("filters") or {}).items()})
        params = {"report": urlencode(query)}
    if selection.own_only:
        params["own_only"] = "1"
    return params


# --- values ---------------------------------------------------------------------------------


def _choices(action: service.Action | None) -> list[tuple[str, str]]:
    """(id, label) of the values an action offers."""
    if action is None:
        return []
    if action.model is User:
        return choices.user_choices(active_only=True)
    if action.model is VatRate:
        return choices.vat_rate_choices()
    if action.model is MarketSegment:
        return choices.segment_choices()
    return choices.named_choices(action.model)


def _value_from(action: str | None, form) -> Any:
    found = service.ACTIONS.get(action or "")
    if found is not None and found.is_segments:
        return form.getlist("value")
    return form.get("value", "")  # the service refuses an empty one; CLEAR clears


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
