"""A customer's history: every change, newest first, by kind, in pages."""

from __future__ import annotations

from flask import request
from flask_admin import expose

from ...context import current_custreg_user
from ...rules.request_ids import page_count, parse_int
from ...services import customers as customer_service
from ...services import history as history_service
from ..formatting import local_datetime

HISTORY_PAGE_SIZE = 50
MAX_PAGE = 100_000


class HistoryPage:
    """``/history/`` (a mixin of :class:`CardActionsView`)."""

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
            pages=page_count(total, HISTORY_PAGE_SIZE),
            kind=kind,
            kinds=[(k, history_service.kind_label(k)) for k in kinds],
            kind_label=history_service.kind_label,
            local_time=local_datetime,
            merged_into=customer_service.merged_into(customer),
            merged_from=customer_service.merged_from(customer),
        )
