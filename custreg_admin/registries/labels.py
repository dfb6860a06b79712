"""A registry plugin's label in the viewer's language.

A provider's ``label`` is either one string (shown in every language) or a mapping of language
codes to strings, ``{"en": ..., "fi": ..., "nb": ...}``: the viewer's language is used, else
English, else the first one given. Language codes are matched as the UI names them (``nb``);
``no`` and ``nn`` count as ``nb``, and ``fi_FI`` or ``nb-NO`` as their language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import has_app_context

from ..i18n import current_language, ui_language


def label_problem(label: Any) -> str | None:
    """Why ``label`` is no usable label (``None``: it is one)."""
    if isinstance(label, str):
        return None if label.strip() else "must be a non-empty string"
    if isinstance(label, Mapping):
        if not label:
            return "must name at least one language"
        for language, text in label.items():
            if not (isinstance(language, str) and language.strip()):
                return f"has a language code that is not a string: {language!r}"
            if not (isinstance(text, str) and text.strip()):
                return f"has no text for {language!r}"
        return None
    return "must be a string or a mapping of language codes to strings"


def label_in(label: str | Mapping[str, str] | None, language: str | None = None) -> str | None:
    """``label`` in ``language`` (default: the request's UI language), else English, else the
    first one given; a plain string as it is."""
    if label is None or isinstance(label, str):
        return label
    if not label:
        return None
    wanted = language or (current_language() if has_app_context() else "en")
    by_language = {ui_language(code) or code.lower(): text for code, text in label.items()}
    for code in (ui_language(wanted) or wanted, "en"):
        if code in by_language:
            return by_language[code]
    return next(iter(label.values()))
