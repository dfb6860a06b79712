"""Money, numbers, percentages and dates in the request's locale (Babel, through Flask-Babel's
locale), as template filters and for the views.

Times are shown in ``CUSTREG_TIMEZONE`` (stored times are UTC without a zone). Money is in the
company's currency, ``CUSTREG_CURRENCY``, unless a currency is given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from flask import Flask, current_app
from flask_admin.babel import gettext as admin_gettext
from flask_admin.model import typefmt
from flask_babel import format_currency, format_decimal, get_locale
from markupsafe import Markup

MONTH_SKELETON = "yMMM"  # "Jan 2026", "tammi 2026", "jan. 2026"
#: A chart's month label: "Jan 26", "tammi 26", "jan 26".
SHORT_MONTH_PATTERN = "LLL yy"


#: Where house style differs from CLDR's pattern: Norwegian kroner before the amount in nb
#: ("kr 1 234 567,89", as Norwegian invoices and price lists write it; CLDR puts "kr" after).
CURRENCY_PATTERNS: dict[tuple[str, str], str] = {("nb", "NOK"): "\u00a4\u00a0#,##0.00"}


def money(value: Decimal | int | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    currency = currency or current_app.config["CUSTREG_CURRENCY"]
    pattern = CURRENCY_PATTERNS.get((str(get_locale()), currency))
    return format_currency(value, currency, format=pattern)


def number(value: int | Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def amount(value: Decimal | int | None) -> str:
    """Money without the currency, two decimals: "1,234.50", "1 234,50"."""
    return "" if value is None else format_decimal(value, format="#,##0.00")


def signed_percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{format_decimal(abs(value), format='#,##0.0')} %"


def _locale() -> Locale:
    return get_locale() or Locale("en")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("CUSTREG_TIMEZONE") or "Europe/Helsinki")


def _datetime_pattern(locale: Locale) -> str:
    """The locale's medium date with its short time: "Jan 5, 2026, 2:03 PM", "5.1.2026 14.03",
    "5. jan. 2026, 14:03"."""
    return (
        locale.datetime_formats["medium"]
        .replace("{1}", locale.date_formats["medium"].pattern)
        .replace("{0}", locale.time_formats["short"].pattern)
    )


def local_datetime(value: dt.datetime | None) -> str:
    """A stored (UTC) time in ``CUSTREG_TIMEZONE``: date and time of day in the locale."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    locale = _locale()
    local = value.astimezone(_zone())
    return babel_dates.format_datetime(local, _datetime_pattern(locale), locale=locale)


def date(value: dt.date | dt.datetime | None, format: str = "medium") -> str:
    """A date in the locale ("Jan 5, 2026", "5.1.2026", "5. jan. 2026"); a stored time is taken
    in ``CUSTREG_TIMEZONE`` first."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(_zone()).date()
    return babel_dates.format_date(value, format=format, locale=_locale())


def month(value: dt.date) -> str:
    """A month and its year: "Jan 2026", "tammi 2026"."""
    return babel_dates.format_skeleton(MONTH_SKELETON, value, locale=_locale())


def short_month(value: dt.date) -> str:
    """A month for a chart's axis: "Jan 26", "tammi 26"."""
    return babel_dates.format_date(value, SHORT_MONTH_PATTERN, locale=_locale())


def register_filters(app: Flask) -> None:
    app.add_template_filter(money, "custreg_money")
    app.add_template_filter(number, "custreg_number")
    app.add_template_filter(amount, "custreg_amount")
    app.add_template_filter(signed_percent, "custreg_percent")
    app.add_template_filter(local_datetime, "custreg_datetime")
    app.add_template_filter(date, "custreg_date")
    app.add_template_filter(month, "custreg_month")


def yes_no_icon(view, value, name) -> Markup:
    """A yes/no column as Flask-Admin's check or minus icon, titled "Yes"/"No" in the viewer's
    language (Flask-Admin's own titles read ``is_active: true``)."""
    icon = "fa-check-circle" if value else "fa-minus-circle"
    title = admin_gettext("Yes") if value else admin_gettext("No")
    return Markup('<span class="fa {} glyphicon" title="{}" aria-label="{}"></span>').format(
        icon, title, title
    )


#: Flask-Admin's list and details formatters with :func:`yes_no_icon` for booleans.
LIST_FORMATTERS = {**typefmt.BASE_FORMATTERS, bool: yes_no_icon}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, bool: yes_no_icon}
