"""Industry names in the installation's language (``CUSTREG_DEFAULT_LOCALE``: en, fi, nb).

A registry names a company's industry by a 5-digit code of its national classification (Finland's
TOL 2008, ``70100``; Norway's SN2007, ``06.100``) and a name in its own language(s): YTJ gives
Finnish, Swedish and English, Brønnøysund Norwegian only. An industry created from a registry
pick should read in the installation's language, so:

1. the registry's own name in that language, with its code, where it gives one (YTJ in an
   English or Finnish installation, Brønnøysund in a Norwegian one);
2. else the **division** (the code's first two digits) with its name from
   ``custreg_admin/data/industry_classification.csv``. Both classifications are built on NACE
   Rev. 2, whose 21 sections and 88 divisions they share; the table has the official names (NACE
   Rev. 2 in English, TOL 2008 in Finnish, SN2007 in Norwegian). Below the division the national
   classes part ways (a TOL and an SN 5-digit code need not mean the same), and this module ships
   no 5-digit names: it never names a 5-digit class in a language its registry did not use;
3. else (a code outside the table) the registry's own code and name, as they came.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

LANGUAGES = ("en", "fi", "nb")


@cache
def classification() -> dict[str, dict[str, str]]:
    """Section letter or 2-digit division -> {"en": ..., "fi": ..., "nb": ...}."""
    source = resources.files("custreg_admin") / "data" / "industry_classification.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: {lang: row[lang] for lang in LANGUAGES} for row in csv.DictReader(handle)
        }


def division_of(code: str | None) -> str | None:
    """The 2-digit division of a TOL / SN / NACE code (``70100``, ``06.100``, ``62.01``)."""
    digits = re.sub(r"\D", "", code or "")
    return digits[:2] if len(digits) >= 2 else None


def localised(
    code: str | None, names: Mapping[str, str], name: str | None, language: str
) -> tuple[str | None, str | None]:
    """The industry (code, name) to offer in ``language``, from a registry's ``code``, its names
    per language ``names`` and its main ``name`` (see the module's docstring for the order)."""
    own = (names or {}).get(language)
    if own:
        return code, own
    division = division_of(code)
    names_of_division = classification().get(division or "")
    if names_of_division and names_of_division.get(language):
        return division, names_of_division[language]
    return code, name
