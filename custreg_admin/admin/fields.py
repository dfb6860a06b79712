"""Form choices shared by the admin views: countries and languages named in the viewer's locale."""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask_babel import get_locale

#: Babel's two-letter territories that are no country: the EU and the eurozone, the UN, outlying
#: Oceania, "unknown region", and the pseudo-locales' test regions (Pseudo-Accents, Pseudo-Bidi).
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
# Shown first in country pickers: the countries whose registries and rules the module knows.
PREFERRED_COUNTRIES = ("FI", "NO", "SE", "DK", "EE", "DE", "GB", "US")


def _locale() -> Locale:
    return get_locale() or Locale("en")


@cache
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    names = {
        code: name
        for code, name in Locale.parse(locale).territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    first = [(code, f"{names[code]} ({code})") for code in PREFERRED_COUNTRIES]
    rest = sorted(
        (
            (code, f"{name} ({code})")
            for code, name in names.items()
            if code not in PREFERRED_COUNTRIES
        ),
        key=lambda item: item[1].casefold(),
    )
    return tuple(first + rest)


def country_choices() -> tuple[tuple[str, str], ...]:
    """``(code, "Name (code)")`` of every country, named in the request's locale (Babel)."""
    return _country_choices(str(_locale()))


@cache
def _country_names(locale: str) -> dict[str, str]:
    return dict(_country_choices(locale))


def country_name(code: str | None) -> str:
    return _country_names(str(_locale())).get((code or "").upper(), code or "")


def language_name(code: str) -> str:
    """A language's name in the request's locale: "Finnish", "suomi", "finsk"."""
    try:
        name = Locale.parse(code).get_display_name(_locale())
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:] if name else code


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
