"""What the card's action pages share: links to cards, the search-as-you-type candidates."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from ...models import Customer
from ...rules.request_ids import parse_ids

SEARCH_LIMIT = 20


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
