"""The customer card's action pages: moving projects to another customer, merging a duplicate
customer, a customer's history.

One view (endpoint ``custreg_moves``), one module per page: ``project_moves``, ``merge``,
``history``; ``common`` holds what they share.

Reached from the customer card's Actions menu; not in the main menu. Every page works as plain
HTML forms: a GET form picks (search, choose, review), a POST with CSRF token changes, and only
after a confirmation page. ``static/moves.js`` adds search-as-you-type where JavaScript runs.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_admin import expose

from ...i18n import gettext
from ...rules.request_ids import parse_id
from ...services import customers as customer_service
from ...services.labels import SALES_STATUS_LABELS, label
from ..base import ProtectedView
from .common import SEARCH_LIMIT, _candidate, _card_url
from .history import HistoryPage
from .merge import MergePages
from .project_moves import ProjectMovePages


class CardActionsView(ProjectMovePages, MergePages, HistoryPage, ProtectedView):
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
        found = customer_service.find_customers(
            request.args.get("q", ""),
            exclude_id=parse_id(exclude),
            limit=SEARCH_LIMIT,
        )
        return jsonify(results=[_candidate(c) for c in found])
