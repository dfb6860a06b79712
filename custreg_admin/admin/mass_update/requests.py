"""Reading the mass update pages' requests: the selection, the value, the return address, the
signed confirmation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, request, url_for
from itsdangerous import URLSafeTimedSerializer

from ...i18n import gettext
from ...models import MarketSegment, User, VatRate
from ...rules.request_ids import InvalidSelection
from ...services import choices
from ...services import mass_update as service

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
