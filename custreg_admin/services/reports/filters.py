"""Reports: the filters both report types offer, with how a value is checked and its condition."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from ...i18n import gettext, lazy_gettext, lazy_pgettext
from ...models import (
    Customer,
    CustomerStatus,
    Industry,
    customer_segment,
)
from ...rules.money import CENT
from ...rules.request_ids import parse_id
from .. import choices
from .definitions import QueryContext, ReportFilter
from .sql import _billing_this_year_raw, _non_empty

# --------------------------------------------------------------------------- filters


def _parse_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise ValueError(gettext("choose one from the list"))
    return value


def _parse_owner(text: str) -> int | str:
    return "none" if text == "none" else _parse_id(text)


def _parse_country(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(gettext("give a two-letter country code"))
    return code


def _parse_money(text: str) -> Decimal:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(gettext("%(text)s is not an amount", text=repr(text))) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValueError(gettext("%(text)s is not an amount", text=repr(text)))
    return value.quantize(CENT)


def _format_money(value: Decimal) -> str:
    return f"{value:.2f}"


def _choice(options: Sequence[tuple[str, str]]) -> Callable[[str], str]:
    allowed = {value for value, _ in options}

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(gettext("choose one from the list"))
        return text

    return parse


def _owner_condition(ctx: QueryContext, value) -> ColumnElement[bool]:
    return Customer.owner_id.is_(None) if value == "none" else Customer.owner_id == value


def _segment_condition(ctx: QueryContext, value: int) -> ColumnElement[bool]:
    members = select(customer_segment.c.customer_id).where(customer_segment.c.segment_id == value)
    return Customer.id.in_(members)


def _active_condition(column) -> Callable[[QueryContext, str], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: str) -> ColumnElement[bool]:
        if value == "active":
            return column.is_(True)
        if value == "inactive":
            return column.is_(False)
        return true()

    return condition


def _email_condition(column) -> Callable[[QueryContext, str], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: str) -> ColumnElement[bool]:
        return _non_empty(column) if value == "yes" else ~_non_empty(column)

    return condition


def _billing_bound(*, at_least: bool) -> Callable[[QueryContext, Decimal], ColumnElement[bool]]:
    def condition(ctx: QueryContext, value: Decimal) -> ColumnElement[bool]:
        figure = _billing_this_year_raw(ctx)  # NULL where hidden: never matches
        bound = int(value * 100) if ctx.sqlite else value
        return figure >= bound if at_least else figure <= bound

    return condition


def _load_users() -> list[tuple[str, str]]:
    return [("none", gettext("(no owner)")), *choices.user_choices()]


def _load(model) -> Callable[[], list[tuple[str, str]]]:
    return lambda: choices.named_choices(model)


def _load_countries() -> list[tuple[str, str]]:
    return [(code, code) for code in choices.customer_countries()]


ACTIVE_STATE_CHOICES = (
    # TRANSLATORS: customers that are not inactivated (a filter choice)
    ("active", lazy_pgettext("customers", "Active")),
    ("inactive", lazy_gettext("Inactivated")),
    ("all", lazy_gettext("All")),
)
CONTACT_STATE_CHOICES = (
    # TRANSLATORS: contact persons who still work there (a filter choice)
    ("active", lazy_pgettext("contacts", "Active")),
    ("inactive", lazy_gettext("Inactive")),
    ("all", lazy_gettext("All")),
)
HAS_EMAIL_CHOICES = (("yes", lazy_gettext("Has e-mail")), ("no", lazy_gettext("No e-mail")))


def _customer_filters(*, email_column, email_label: Any) -> tuple[ReportFilter, ...]:
    return (
        ReportFilter(
            "owner",
            lazy_gettext("Account owner"),
            "choice",
            _owner_condition,
            parse=_parse_owner,
            load_choices=_load_users,
        ),
        ReportFilter(
            "industry",
            lazy_gettext("Industry"),
            "choice",
            lambda ctx, v: Customer.industry_id == v,
            parse=_parse_id,
            load_choices=_load(Industry),
        ),
        ReportFilter(
            "status",
            lazy_pgettext("field", "Status"),
            "choice",
            lambda ctx, v: Customer.status_id == v,
            parse=_parse_id,
            load_choices=_load(CustomerStatus),
        ),
        ReportFilter(
            "segment",
            lazy_gettext("Market segment"),
            "choice",
            _segment_condition,
            parse=_parse_id,
            load_choices=choices.segment_choices,
        ),
        ReportFilter(
            "country",
            lazy_gettext("Country"),
            "choice",
            lambda ctx, v: Customer.country == v,
            parse=_parse_country,
            load_choices=_load_countries,
        ),
        ReportFilter(
            "active_state",
            lazy_gettext("Customers"),
            "choice",
            _active_condition(Customer.is_active),
            parse=_choice(ACTIVE_STATE_CHOICES),
            choices=ACTIVE_STATE_CHOICES,
            default="active",
        ),
        ReportFilter(
            "has_email",
            email_label,
            "choice",
            _email_condition(email_column),
            parse=_choice(HAS_EMAIL_CHOICES),
            choices=HAS_EMAIL_CHOICES,
        ),
        ReportFilter(
            "billing_min",
            lazy_gettext("Billing this year at least"),
            "money",
            _billing_bound(at_least=True),
            parse=_parse_money,
            format=_format_money,
        ),
        ReportFilter(
            "billing_max",
            lazy_gettext("Billing this year at most"),
            "money",
            _billing_bound(at_least=False),
            parse=_parse_money,
            format=_format_money,
        ),
    )
