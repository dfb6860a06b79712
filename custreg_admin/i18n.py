"""The module's translations and how the locale of a request is chosen.

**Messages.** Every string the module shows goes through its own gettext domain,
``custreg_admin`` (catalogues in ``custreg_admin/translations``), so it never mixes with a host
app's ``messages``. In Python: :func:`gettext`, :func:`ngettext`, :func:`pgettext` (at the point
of use, in a request) and :func:`lazy_gettext` & co. for strings fixed at import or registration
time (menu names, column labels, action labels); outside a request they give the English text.
In the module's templates: ``_t("...")``, ``_tn("one", "many", n)``, ``_tp("context", "...")``,
passed to every template the module renders (like Flask-Admin's ``_gettext`` for its own
domain); they escape the translation and the values put into it. English is the msgid.

**Locale.** :func:`select_locale` answers Flask-Babel for the module's requests: the user's
profile setting (``custreg_user.locale``), else the language picked with the switcher while
logged out (kept in the session), else the best match of the browser's ``Accept-Language`` among
:data:`LANGUAGES` (``no`` and ``nn`` count as ``nb``), else ``CUSTREG_DEFAULT_LOCALE``. A host
app whose Flask-Babel already has a locale selector keeps it: the module follows it and shows
no switcher.

**Flask-Admin's strings.** Flask-Admin ships its Norwegian strings as ``no``; Babel finds
nothing for ``nb``. :func:`init_app` makes Flask-Admin's domain answer ``nb`` (and ``nn``) with
its ``no`` catalogue, and puts the module's corrections on top of Flask-Admin's fi and no
catalogues (:class:`FlaskAdminTranslations`: casing, wrong words, the page-size menu that
Flask-Admin's template cannot translate). Every module page declares its language
(``<html lang="fi">``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, Response, current_app, has_request_context, request, session
from flask_babel import Babel, Domain, force_locale, get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from .context import EXTENSION_KEY, current_custreg_user

DOMAIN = "custreg_admin"
TRANSLATIONS_DIR = str(Path(__file__).parent / "translations")

#: The languages of the UI: code -> the language's name in itself (shown as is, never translated).
LANGUAGES: Mapping[str, str] = {"en": "English", "fi": "Suomi", "nb": "Norsk bokmål"}
#: Languages a browser or profile may name, and the UI language they get.
LANGUAGE_ALIASES: Mapping[str, str] = {"en": "en", "fi": "fi", "nb": "nb", "no": "nb", "nn": "nb"}
#: Session keys: the language picked with the switcher; picked while logged out (saved to the
#: profile at the next login).
SESSION_KEY = "custreg_locale"
PENDING_KEY = "custreg_locale_pending"

domain = Domain(translation_directories=[TRANSLATIONS_DIR], domain=DOMAIN)


# --- messages -------------------------------------------------------------------------------


def gettext(string: str, **variables: Any) -> str:
    """The translation of ``string`` in the request's locale, ``%(name)s`` filled in."""
    return domain.gettext(string, **variables)


def N_(string: str) -> str:
    """Marks ``string`` for the catalogue and returns it untranslated: for texts kept in English
    (in the database) and translated with :func:`gettext` when shown."""
    return string


def ngettext(singular: str, plural: str, n: int, /, **variables: Any) -> str:
    """Singular or plural by ``n`` in the request's locale; ``%(num)s`` is ``n`` unless given
    (a formatted number, say)."""
    variables.setdefault("num", n)
    return domain.get_translations().ungettext(singular, plural, n) % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    """Like :func:`gettext`, for a word that needs two translations (``context`` tells them
    apart)."""
    return domain.pgettext(context, string, **variables)


class LazyText(LazyString):
    """A translation made when the text is used (``str()``); escaped when put into HTML
    (Flask-Babel's lazy strings count as safe HTML as they are)."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    """A string translated when it is shown (menus, labels fixed at start-up)."""
    return LazyText(domain.gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, n: int, /, **variables: Any) -> LazyText:
    return LazyText(ngettext, singular, plural, n, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyText:
    return LazyText(domain.pgettext, context, string, **variables)


def ngettext_forms(singular: str, plural: str) -> list[str]:
    """The singular and plural of a message with its placeholders left in, for a script that
    fills them (``[one, other]``: the module's languages have these two forms)."""
    translations = domain.get_translations()
    return [translations.ungettext(singular, plural, n) for n in (1, 2)]


def html(translated: str, **variables: Any) -> Markup:
    """A translated message as HTML: the text escaped, ``%(name)s`` filled with ``variables``
    (escaped unless they are :class:`~markupsafe.Markup`, such as a link)."""
    text = escape(translated)
    return text % variables if variables else text


def _t(string: str, **variables: Any) -> Markup:
    return html(domain.get_translations().ugettext(string), **variables)


def _tn(singular: str, plural: str, n: int, /, **variables: Any) -> Markup:
    """Singular or plural by ``n``; ``%(num)s`` is ``n`` unless given (e.g. formatted)."""
    variables.setdefault("num", n)
    return html(domain.get_translations().ungettext(singular, plural, n), **variables)


def _tp(context: str, string: str, **variables: Any) -> Markup:
    return html(domain.get_translations().upgettext(context, string), **variables)


#: What the module's templates get to translate with (see the module docs).
TEMPLATE_HELPERS = {"_t": _t, "_tn": _tn, "_tp": _tp}


# --- choosing the locale --------------------------------------------------------------------


def ui_language(value: Any) -> str | None:
    """The UI language (a key of :data:`LANGUAGES`) for a locale such as ``nb-NO``, ``fi_FI``,
    ``no`` or ``en-GB``; None when the module has no such language."""
    language = str(value or "").replace("_", "-").split("-")[0].strip().lower()
    return LANGUAGE_ALIASES.get(language)


def accepted_language(accept_languages) -> str | None:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (werkzeug's
    ``request.accept_languages``), in the browser's order of preference."""
    for value, quality in accept_languages:
        if quality > 0:
            found = ui_language(value)
            if found:
                return found
    return None


def default_language(app: Flask | None = None) -> str:
    app = app or current_app
    return ui_language(app.config.get("CUSTREG_DEFAULT_LOCALE")) or "en"


def _is_module_request() -> bool:
    state = current_app.extensions.get(EXTENSION_KEY)
    return state is not None and request.blueprint in state.blueprints


def select_locale() -> str | None:
    """Flask-Babel's locale selector for the module (see the module docs for the order).

    Requests to the host app's own pages get ``None``: Flask-Babel's default locale, as before
    the module was mounted."""
    if not has_request_context() or not _is_module_request():
        return None
    user = current_custreg_user()
    return (
        ui_language(getattr(user, "locale", None))
        or ui_language(session.get(SESSION_KEY))
        or accepted_language(request.accept_languages)
        or default_language()
    )


def current_language() -> str:
    """The UI language of the current request (a key of :data:`LANGUAGES`)."""
    return ui_language(get_locale()) or default_language()


def init_app(app: Flask) -> bool:
    """Set up Flask-Babel for the module; returns whether the module chooses the locale (False:
    the host's own locale selector does)."""
    babel = app.extensions.get("babel")
    if babel is None:
        Babel(app, locale_selector=select_locale, default_locale=default_language(app))
        chooses = True
    elif babel.locale_selector is None:
        babel.locale_selector = select_locale
        chooses = True
    else:
        chooses = False
    app.before_request(_flask_admin_language)
    app.after_request(_declare_language)
    return chooses


#: Flask-Admin's catalogue for these languages is its ``no``.
_FLASK_ADMIN_NORWEGIAN = ("nb", "nn")
#: Context of Flask-Admin's strings that the module translates again (``msgctxt``).
FLASK_ADMIN_CONTEXT = "Flask-Admin"


def _flask_admin_strings() -> dict[str, LazyText]:
    """Flask-Admin's strings (its msgids) that read wrongly in its fi and no catalogues (wrong
    casing, "vastaa", "kohteita", "Legge til"): the module's catalogue translates them again,
    with the context :data:`FLASK_ADMIN_CONTEXT`."""
    return {
        "Name": lazy_pgettext("Flask-Admin", "Name"),
        "equals": lazy_pgettext("Flask-Admin", "equals"),
        "not equal": lazy_pgettext("Flask-Admin", "not equal"),
        "empty": lazy_pgettext("Flask-Admin", "empty"),
        "in list": lazy_pgettext("Flask-Admin", "in list"),
        "not in list": lazy_pgettext("Flask-Admin", "not in list"),
        "Failed to update record. %(error)s": lazy_pgettext(
            "Flask-Admin", "Failed to update record. %(error)s"
        ),
        "Failed to delete records. %(error)s": lazy_pgettext(
            "Flask-Admin", "Failed to delete records. %(error)s"
        ),
        "Are you sure you want to delete selected records?": lazy_pgettext(
            "Flask-Admin", "Are you sure you want to delete selected records?"
        ),
        "Integrity error. %(message)s": lazy_pgettext(
            "Flask-Admin", "Integrity error. %(message)s"
        ),
        "Not a valid choice": lazy_pgettext("Flask-Admin", "Not a valid choice"),
        "Invalid Choice: could not coerce": lazy_pgettext(
            "Flask-Admin", "Invalid Choice: could not coerce"
        ),
        "There are no items in the table.": lazy_pgettext(
            "Flask-Admin", "There are no items in the table."
        ),
        "Record was successfully created.": lazy_pgettext(
            "Flask-Admin", "Record was successfully created."
        ),
        "Record does not exist.": lazy_pgettext("Flask-Admin", "Record does not exist."),
        "Record was successfully saved.": lazy_pgettext(
            "Flask-Admin", "Record was successfully saved."
        ),
        "Failed to save record.": lazy_pgettext("Flask-Admin", "Failed to save record."),
        "Yes": lazy_pgettext("Flask-Admin", "Yes"),
        "No": lazy_pgettext("Flask-Admin", "No"),
        "View Record": lazy_pgettext("Flask-Admin", "View Record"),
        "Edit Record": lazy_pgettext("Flask-Admin", "Edit Record"),
        "With selected": lazy_pgettext("Flask-Admin", "With selected"),
        "Save and Add Another": lazy_pgettext("Flask-Admin", "Save and Add Another"),
        "Sort by %(name)s": lazy_pgettext("Flask-Admin", "Sort by %(name)s"),
        "Details": lazy_pgettext("Flask-Admin", "Details"),
        "Delete?": lazy_pgettext("Flask-Admin", "Delete?"),
        "Add": lazy_pgettext("Flask-Admin", "Add"),
        "Add Filter": lazy_pgettext("Flask-Admin", "Add Filter"),
        "Export": lazy_pgettext("Flask-Admin", "Export"),
        "Apply": lazy_pgettext("Flask-Admin", "Apply"),
        "Reset Filters": lazy_pgettext("Flask-Admin", "Reset Filters"),
        # TRANSLATORS: the page-size menu of a list: "20 rows"
        "items": lazy_pgettext("Flask-Admin", "items"),
        "Create New Record": lazy_pgettext("Flask-Admin", "Create New Record"),
    }


#: The page-size menu's entries, which Flask-Admin's template formats before translating them
#: (``_ngettext('{} item'.format(n), '{} items'.format(n), n)``).
_PAGE_SIZE_ITEM = re.compile(r"(\d+) item")


class FlaskAdminTranslations(NullTranslations):
    """Flask-Admin's catalogue of a language with the module's corrections on top: the strings of
    :func:`_flask_admin_strings` and the page-size menu come from the module's catalogue."""

    def __init__(self, base: NullTranslations) -> None:
        super().__init__()
        self.base = base
        #: translated when asked (the module's catalogue as it is then), never kept
        self.corrections = _flask_admin_strings()

    def ugettext(self, message: str) -> str:
        found = self.corrections.get(message)
        return str(found) if found is not None else self.base.ugettext(message)

    gettext = ugettext

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        if _PAGE_SIZE_ITEM.fullmatch(singular) and plural == f"{n} items":
            return ngettext("%(num)s item", "%(num)s items", n)
        return self.base.ungettext(singular, plural, n)

    ngettext = ungettext

    def upgettext(self, context: str, message: str) -> str:
        return self.base.upgettext(context, message)

    pgettext = upgettext

    def unpgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.base.unpgettext(context, singular, plural, n)

    npgettext = unpgettext


def _flask_admin_language() -> None:
    """Give Flask-Admin's ``admin`` domain, for the request's language, its catalogue (``no``
    for ``nb``/``nn``) with the module's corrections on top (:class:`FlaskAdminTranslations`).

    Flask-Babel caches a domain's translations per locale; the entry is filled once per locale.
    The corrections apply to every Flask-Admin page of the app in that language.
    """
    if not has_request_context() or request.blueprint is None:
        return
    try:
        from flask_admin.babel import domain as admin_domain
    except ImportError:  # pragma: no cover - Flask-Admin without Flask-Babel support
        return
    locale = get_locale()
    if locale is None or ui_language(locale) is None:
        return
    key = (str(locale), admin_domain.domain[0])
    if isinstance(admin_domain.cache.get(key), FlaskAdminTranslations):
        return
    if locale.language in _FLASK_ADMIN_NORWEGIAN:
        with force_locale(Locale("no")):
            base = admin_domain.get_translations()
    else:
        admin_domain.cache.pop(key, None)
        base = admin_domain.get_translations()
    admin_domain.cache[key] = FlaskAdminTranslations(base)


def _declare_language(response: Response) -> Response:
    """``<html lang="...">`` on the module's pages: Flask-Admin's base template (and a host's)
    writes a bare ``<html>``; the module's own full pages already declare it."""
    if (
        response.mimetype != "text/html"
        or response.direct_passthrough
        or response.is_streamed
        or not has_request_context()
        or not _is_module_request()
    ):
        return response
    body = response.get_data()
    head = body[:1024]
    at = head.find(b"<html>")
    if at < 0:
        return response
    language = current_language().encode()
    response.set_data(body[:at] + b'<html lang="' + language + b'">' + body[at + 6 :])
    return response


#: The page-size menu's entries (see :class:`FlaskAdminTranslations`): extracted for the
#: catalogue, used there.
PAGE_SIZE_ENTRIES = lazy_ngettext("%(num)s item", "%(num)s items", 20)
