"""Form choices shared by the admin views."""

from __future__ import annotations

from functools import cache

from babel import Locale

# Shown first in country pickers: the countries whose registries and rules the module knows.
PREFERRED_COUNTRIES = ("FI", "NO", "SE", "DK", "EE", "DE", "GB", "US")


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    names = {
        code: name
        for code, name in Locale("en").territories.items()
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "EZ", "UN", "QO")
    }
    first = [(code, f"{names[code]} ({code})") for code in PREFERRED_COUNTRIES]
    rest = sorted(
        (
            (code, f"{name} ({code})")
            for code, name in names.items()
            if code not in PREFERRED_COUNTRIES
        ),
        key=lambda item: item[1],
    )
    return tuple(first + rest)


def country_name(code: str | None) -> str:
    return dict(country_choices()).get((code or "").upper(), code or "")


try:  # WTForms 3.3 declares options as SelectChoice and deprecates plain tuples
    from wtforms.fields.choices import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    _SelectChoice = None


def as_choices(pairs) -> list:
    """SelectField choices from (value, label) pairs, in the form this WTForms prefers."""
    if _SelectChoice is None:
        return list(pairs)
    return [_SelectChoice(value, label) for value, label in pairs]


def country_select_choices() -> list:
    return as_choices(country_choices())


def optional_country_select_choices() -> list:
    return as_choices([("", "")] + list(country_choices()))
