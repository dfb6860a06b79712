"""Template filters for money, numbers and percentages, in the request's locale (Flask-Babel)."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app
from flask_babel import format_currency, format_decimal


def money(value: Decimal | int | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    return format_currency(value, currency or current_app.config["CUSTREG_CURRENCY"])


def number(value: int | Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def signed_percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{format_decimal(abs(value), format='#,##0.0')} %"


def register_filters(app: Flask) -> None:
    app.add_template_filter(money, "custreg_money")
    app.add_template_filter(number, "custreg_number")
    app.add_template_filter(signed_percent, "custreg_percent")
