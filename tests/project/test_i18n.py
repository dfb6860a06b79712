"""Languages: how the locale is chosen, the switcher, Flask-Admin's and the module's catalogues,
local number, money and date formats, and a host app's own locale selector."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import flask_admin
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from flask import Flask
from flask_admin import Admin
from flask_babel import Babel
from flask_login import LoginManager
from sqlalchemy import text

from custreg_admin import CustReg, i18n, sync_user
from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.services.setup import seed_defaults

from ..conftest import PG_URL, _empty_pg_tables
from ..helpers import csrf_token, log_in

SUMMARY = "/admin/customers/"
SWITCH = "/admin/language"


def _admin_catalogue(language: str) -> Translations:
    """Flask-Admin's own catalogue of a language, as it ships it."""
    path = Path(flask_admin.__file__).parent / "translations"
    return Translations.load(str(path), [language], "admin")


def _current_language(page: str) -> str:
    found = re.search(r'data-testid="language-current".*?<span lang="([a-z]+)">', page, re.S)
    assert found, "no language switcher on the page"
    return found.group(1)


def _user_locale(app, user_id: int) -> str | None:
    with app.app_context():
        return db.session.get(User, user_id).locale


def _set_user_locale(app, user_id: int, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


def _switch(client, locale: str, next_url: str = SUMMARY, page: str = SUMMARY):
    token = csrf_token(client, page)
    return client.post(SWITCH, data={"locale": locale, "next": next_url, "csrf_token": token})


# --- which language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "language"),
    [
        ("fi", "fi"),
        ("fi-FI", "fi"),
        ("fi_FI", "fi"),
        ("nb", "nb"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("sv-SE", None),
        ("", None),
        (None, None),
    ],
)
def test_ui_language_of_a_locale(value, language):
    assert i18n.ui_language(value) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("sv-SE,sv;q=0.9,fi;q=0.8,en;q=0.5", "fi"),  # Swedish first: not offered, Finnish next
        ("nn-NO,nn;q=0.9,en;q=0.5", "nb"),
        ("no;q=0.9,en;q=0.8", "nb"),
        ("de-DE,en-US;q=0.7,fi;q=0.6", "en"),
        ("en;q=0.1,fi;q=0.9", "fi"),  # by quality, not by position
        ("de-DE,sv", None),
    ],
)
def test_accept_language_best_match(app, header, language):
    with app.test_request_context("/admin/", headers={"Accept-Language": header}):
        from flask import request

        assert i18n.accepted_language(request.accept_languages) == language


def test_profile_then_browser_then_default(app_factory, make_user, client):
    app = client.application
    user = make_user("admin")
    log_in(client, user)
    # no profile setting, no browser preference: CUSTREG_DEFAULT_LOCALE ("en")
    assert _current_language(client.get(SUMMARY).get_data(as_text=True)) == "en"
    # the browser's
    finnish = {"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"}
    assert _current_language(client.get(SUMMARY, headers=finnish).get_data(as_text=True)) == "fi"
    # the profile's beats the browser's
    _set_user_locale(app, user.id, "nb")
    page = client.get(SUMMARY, headers=finnish).get_data(as_text=True)
    assert _current_language(page) == "nb"


def test_default_locale_setting(app_factory, make_user):
    app = app_factory(CUSTREG_DEFAULT_LOCALE="fi")
    with app.app_context():
        db.create_all()
        seed_defaults()
    client = app.test_client()
    user = make_user("admin")
    log_in(client, user)
    assert _current_language(client.get(SUMMARY).get_data(as_text=True)) == "fi"
    headers = {"Accept-Language": "en-GB"}
    assert _current_language(client.get(SUMMARY, headers=headers).get_data(as_text=True)) == "en"


def _no_settings() -> None:
    """An installation before its first seed (the session's schema may hold an earlier one)."""
    from custreg_admin.models import CustomerStatus, InvoiceStatus, InvoiceTemplate, VatRate

    if PG_URL:
        _empty_pg_tables()
        return
    db.create_all()
    for model in (CustomerStatus, InvoiceStatus, VatRate, InvoiceTemplate):
        db.session.execute(db.delete(model))
    db.session.commit()


@pytest.mark.parametrize(
    ("locale", "status", "invoice_status", "vat", "template"),
    [
        ("fi", "Aktiivinen", "Maksettu", "Yleinen 25,5 %", "Vakiopohja (suomi)"),
        ("nb", "Aktiv", "Betalt", "Alminnelig sats 25 %", "Standardmal (norsk)"),
    ],
)
def test_settings_are_seeded_in_the_installations_language(
    app_factory, locale, status, invoice_status, vat, template
):
    """A Finnish or Norwegian installation starts with settings named in its language; seeding
    again (or in another language later) adds nothing twice; the demo finds the rows."""
    from custreg_admin import demo
    from custreg_admin.models import CustomerStatus, InvoiceStatus, InvoiceTemplate, VatRate

    app = app_factory(CUSTREG_DEFAULT_LOCALE=locale)
    with app.app_context():
        _no_settings()
        assert seed_defaults() == 18
        names = {
            model: set(db.session.scalars(db.select(model.name)))
            for model in (CustomerStatus, InvoiceStatus, VatRate, InvoiceTemplate)
        }
        assert status in names[CustomerStatus] and "Active" not in names[CustomerStatus]
        assert invoice_status in names[InvoiceStatus] and "Paid" not in names[InvoiceStatus]
        assert vat in names[VatRate] and template in names[InvoiceTemplate]
        assert seed_defaults() == 0
        assert seed_defaults("en") == 0  # an English name is not added beside the local one
        demo.generate(30, seed=3)
        sent = db.session.scalar(
            db.select(InvoiceStatus).where(InvoiceStatus.name == invoice_status)
        )
        assert sent.counts_as_sent
        assert db.session.scalar(db.select(db.func.count()).select_from(InvoiceStatus)) == 5


def test_an_english_seed_is_not_seeded_again_in_another_language(app_factory):
    app = app_factory(CUSTREG_DEFAULT_LOCALE="fi")
    with app.app_context():
        _no_settings()
        assert seed_defaults("en") == 18
        assert seed_defaults() == 0


# --- the switcher -------------------------------------------------------------------------------


def test_switcher_saves_the_choice_in_the_profile_and_it_persists(app, client, make_user):
    user = make_user("manager")
    log_in(client, user)
    response = _switch(client, "fi", next_url="/admin/customers/?search=Oy")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/customers/?search=Oy"
    assert _user_locale(app, user.id) == "fi"
    # the next page is in Finnish: the switcher says so, Flask-Admin's own strings are Finnish
    page = client.get(SUMMARY).get_data(as_text=True)
    assert _current_language(page) == "fi"
    create = _admin_catalogue("fi").ugettext("Create")
    assert create != "Create" and f">{create}</a>" in page

    # log out (the login page keeps the language), in a new browser log in again: still Finnish
    token = csrf_token(client, SUMMARY)
    client.post("/admin/logout", data={"csrf_token": token})
    assert 'lang="fi"' in client.get("/admin/login").get_data(as_text=True)
    fresh = app.test_client()
    log_in(fresh, user)
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}
    page = fresh.get(SUMMARY, headers=english_browser).get_data(as_text=True)
    assert _current_language(page) == "fi"

    # and back to English
    _switch(fresh, "en")
    assert _user_locale(app, user.id) == "en"
    page = fresh.get(SUMMARY, headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert _current_language(page) == "en"
    assert ">Create</a>" in page


def test_switcher_on_the_login_page_is_kept_for_the_next_login(app, client, make_user):
    user = make_user("user")
    page = client.get("/admin/login").get_data(as_text=True)
    assert 'data-testid="language-switcher"' in page and 'lang="en"' in page
    response = _switch(client, "nb", next_url="/admin/login", page="/admin/login")
    assert response.headers["Location"] == "/admin/login"
    assert '<html lang="nb">' in client.get("/admin/login").get_data(as_text=True)
    assert _user_locale(app, user.id) is None
    log_in(client, user)
    assert _user_locale(app, user.id) == "nb"
    # someone else logging in on this browser afterwards keeps their own setting
    other = make_user("user")
    _set_user_locale(app, other.id, "fi")
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, SUMMARY)})
    log_in(client, other)
    assert _user_locale(app, other.id) == "fi"
    assert _current_language(client.get(SUMMARY).get_data(as_text=True)) == "fi"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "admin/customers/",
    ],
)
def test_switcher_never_redirects_off_site(client, login, target):
    login("user")
    response = _switch(client, "fi", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_switcher_refuses_an_unknown_language_with_a_message(app, client, make_user):
    user = make_user("user")
    _set_user_locale(app, user.id, "fi")
    log_in(client, user)
    response = _switch(client, "sv")
    assert response.status_code == 302
    assert _user_locale(app, user.id) == "fi"  # nothing lost
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kieltä &#39;sv&#39; ei ole käytettävissä" in page  # in the user's language


def test_switcher_needs_the_csrf_token(app, client, make_user):
    user = make_user("user")
    log_in(client, user)
    response = client.post(SWITCH, data={"locale": "fi", "next": SUMMARY})
    assert response.status_code == 400
    assert _user_locale(app, user.id) is None


def test_users_form_offers_the_languages(admin_client, app, make_user):
    user = make_user("user")
    page = admin_client.get(f"/admin/settings/users/edit/?id={user.id}").get_data(as_text=True)
    for code, name in i18n.LANGUAGES.items():
        assert f'<option value="{code}">{name}</option>' in page
    token = csrf_token(admin_client, f"/admin/settings/users/edit/?id={user.id}")
    response = admin_client.post(
        f"/admin/settings/users/edit/?id={user.id}",
        data={
            "name": user.name,
            "email": user.email,
            "role": "user",
            "is_active": "y",
            "locale": "nb",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert _user_locale(app, user.id) == "nb"


# --- catalogues at work -------------------------------------------------------------------------


def test_flask_admin_speaks_norwegian_bokmal(client, login):
    """Flask-Admin ships Norwegian as ``no``; an ``nb`` page uses it."""
    login("admin")
    norwegian = _admin_catalogue("no")
    page = client.get(SUMMARY, headers={"Accept-Language": "nb-NO"}).get_data(as_text=True)
    for english in ("List", "Create"):
        translated = norwegian.ugettext(english)
        assert translated != english
        assert f">{translated}</a>" in page
    # the filter operations, which Flask-Admin names in Python
    page = client.get("/admin/projects/", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '"operation": "er"' in page  # Flask-Admin's "er lik", corrected by the module
    assert '"equals"' not in page


@pytest.fixture
def own_catalogue(tmp_path) -> Iterator[dict[str, str]]:
    """A small Finnish catalogue of the module's domain in place of the shipped one."""
    wanted = {
        "Log out": "Kirjaudu ulos",
        "Customers": "Asiakkaat",
        "Summary": "Yhteenveto",
        "Log in": "Kirjaudu sisään",
    }
    catalog = Catalog(locale="fi", domain=i18n.DOMAIN)
    for msgid, msgstr in wanted.items():
        catalog.add(msgid, msgstr)
    folder = tmp_path / "fi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / f"{i18n.DOMAIN}.mo", "wb") as mo:
        write_mo(mo, catalog)
    saved = i18n.domain._translation_directories
    i18n.domain._translation_directories = [str(tmp_path)]
    i18n.domain.cache.clear()
    try:
        yield wanted
    finally:
        i18n.domain._translation_directories = saved
        i18n.domain.cache.clear()


def test_module_strings_come_from_its_own_domain(own_catalogue, app, client, make_user):
    user = make_user("admin")
    _set_user_locale(app, user.id, "fi")
    log_in(client, user)
    page = client.get(SUMMARY).get_data(as_text=True)
    assert "Kirjaudu ulos" in page and ">Log out<" not in page
    # menu category and view name, fixed at start-up, are translated per request
    assert "Asiakkaat" in page and "Yhteenveto" in page
    # the same app in English
    _switch(client, "en")
    page = client.get(SUMMARY).get_data(as_text=True)
    assert ">Log out<" in page and "Asiakkaat" not in page


def test_login_page_in_the_chosen_language(own_catalogue, client):
    _switch(client, "fi", next_url="/admin/login", page="/admin/login")
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Kirjaudu sisään" in page and '<html lang="fi">' in page


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("fi", "EUR", "1\u00a0234\u00a0567,89\u00a0€"),
        ("nb", "NOK", "kr\u00a01\u00a0234\u00a0567,89"),  # the "kr 1 234 567,89"
        ("fi", "NOK", "1\u00a0234\u00a0567,89\u00a0NOK"),
        ("en", "EUR", "€1,234,567.89"),
        ("nb", "EUR", "1\u00a0234\u00a0567,89\u00a0€"),
    ],
)
def test_money_in_the_locale(app, language, currency, expected):
    from custreg_admin.admin.formatting import money

    with app.test_request_context("/admin/", headers={"Accept-Language": language}):
        assert money(Decimal("1234567.89"), currency) == expected


def test_money_in_the_company_currency(app_factory):
    app = app_factory(CUSTREG_CURRENCY="NOK")
    from custreg_admin.admin.formatting import money

    with app.test_request_context("/admin/", headers={"Accept-Language": "nb"}):
        assert money(Decimal("-1500")) == "-kr\u00a01\u00a0500,00"


# --- a host app's own locale selector -------------------------------------------------------


def _host(database_url: str, *, selector=None, babel: bool = True) -> Flask:
    """A host app with its own Admin and login (the module's user: a synced row whose profile
    language is nb)."""
    app = Flask("i18n_host")
    app.config.update(
        TESTING=True,
        SECRET_KEY="host",
        CUSTREG_DATABASE_URL=database_url,
        CUSTREG_REGISTRIES="",
        WTF_CSRF_ENABLED=False,
    )
    if babel:
        Babel(app, locale_selector=selector)
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: None)
    admin = Admin(app, name="Host", url="/admin")
    CustReg().init_app(
        app, admin=admin, user_loader=lambda: sync_user("host@example.com", "Host", "admin")
    )
    with app.app_context():
        if PG_URL:
            names = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            db.create_all()
        seed_defaults()
        sync_user("host@example.com", "Host", "admin").locale = "nb"
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def host_factory(_pg_schema, database_url) -> Iterator:
    built: list[Flask] = []

    def build(**options) -> Flask:
        app = _host(database_url, **options)
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_host_locale_selector_is_followed(host_factory):
    app = host_factory(selector=lambda: "fi")
    assert not app.extensions["custreg_admin"].chooses_locale
    client = app.test_client()
    page = client.get("/admin/customers/", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    finnish = _admin_catalogue("fi").ugettext("Create")
    assert f">{finnish}</a>" in page
    assert 'data-testid="language-switcher"' not in page
    assert client.post("/admin/language", data={"locale": "en"}).status_code == 404


def test_host_babel_without_selector_gets_the_modules(host_factory):
    app = host_factory()
    assert app.extensions["custreg_admin"].chooses_locale
    client = app.test_client()
    page = client.get("/admin/customers/").get_data(as_text=True)
    assert _current_language(page) == "nb"  # the module user's profile setting
    # the host's own pages keep the host's default locale
    with app.test_request_context("/elsewhere", headers={"Accept-Language": "fi"}):
        from flask_babel import get_locale

        assert str(get_locale()) == "en"


def test_host_without_babel_gets_one(host_factory):
    app = host_factory(babel=False)
    assert "babel" in app.extensions
    page = app.test_client().get("/admin/customers/").get_data(as_text=True)
    assert _current_language(page) == "nb"


# --- the catalogues ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "custreg_admin" / "translations"
POT = TRANSLATIONS / f"{i18n.DOMAIN}.pot"
LOCALES = ("fi", "nb")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _make_variables() -> dict[str, str]:
    """The Makefile's variables (``NAME := value``, continued lines joined), expanded."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    raw = dict(re.findall(r"^([A-Z0-9_]+)\s*[:?]?=\s*(.*)$", text, re.M))

    def expand(value: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: expand(raw.get(m.group(1), "")), value)

    return {name: expand(value) for name, value in raw.items()}


def _extract(target: Path) -> None:
    """``pybabel extract`` exactly as ``make messages`` runs it."""
    import shlex
    import subprocess
    import sys

    args = shlex.split(_make_variables()["I18N_EXTRACT"])
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *args, "-o", str(target), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def _read_po(path: Path, locale: str | None = None) -> Catalog:
    from babel.messages.pofile import read_po

    with open(path, "rb") as po:
        return read_po(po, locale=locale)


def _key(message) -> tuple:
    """(context, msgid) of a message; a plural's msgid as a tuple (read_mo gives lists)."""
    msgid = tuple(message.id) if isinstance(message.id, list | tuple) else message.id
    return message.context, msgid


def _string(message):
    return tuple(message.string) if isinstance(message.string, list | tuple) else message.string


def _keys(catalog: Catalog) -> set:
    return {_key(m) for m in catalog if m.id}


def _show(keys) -> str:
    return "\n".join(f"  {ctx + ' | ' if ctx else ''}{mid!r}" for ctx, mid in sorted(keys, key=str))


def test_pot_is_up_to_date_with_the_sources(tmp_path):
    """A string added, changed or removed in the code without ``make messages`` fails here."""
    fresh = tmp_path / "fresh.pot"
    _extract(fresh)
    in_code, in_pot = _keys(_read_po(fresh)), _keys(_read_po(POT))
    assert in_code == in_pot, (
        "custreg_admin.pot is out of date; run `make messages`.\n"
        f"missing from the .pot:\n{_show(in_code - in_pot)}\n"
        f"no longer in the code:\n{_show(in_pot - in_code)}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_every_message_of_the_pot(locale):
    """``pybabel update`` ran: the catalogue lists exactly the .pot's messages."""
    catalog = _read_po(TRANSLATIONS / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", locale)
    pot = _keys(_read_po(POT))
    assert _keys(catalog) == pot, (
        f"{locale}: run `make messages`.\nmissing:\n{_show(pot - _keys(catalog))}\n"
        f"extra:\n{_show(_keys(catalog) - pot)}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po(locale, tmp_path):
    """The committed .mo is what compiling the .po gives (``make messages`` compiles)."""
    from babel.messages.mofile import read_mo

    po = TRANSLATIONS / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    fresh = tmp_path / "fresh.mo"
    with open(fresh, "wb") as out:
        write_mo(out, _read_po(po, locale))

    def messages(path: Path) -> dict:
        with open(path, "rb") as fp:
            return {_key(m): _string(m) for m in read_mo(fp) if m.id}

    assert messages(mo) == messages(fresh), f"{mo} is out of date: run `make messages`"


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text or "")}


def _catalogue_problems(locale: str) -> list[str]:
    catalog = _read_po(TRANSLATIONS / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        name = f"{message.context + ' | ' if message.context else ''}{message.id!r}"
        if message.pluralizable:
            singular, plural = message.id
            forms = list(message.string)
            wanted = _placeholders(singular) | _placeholders(plural)
            if len(forms) != catalog.num_plurals or not all(forms):
                problems.append(f"untranslated: {name}")
                continue
            for form in forms:  # a singular may leave out the count ("yksi asiakas")
                found = _placeholders(form)
                if not found <= wanted or (wanted - {"num"}) - found:
                    problems.append(f"placeholders differ: {name} -> {form!r}")
        else:
            if not message.string:
                problems.append(f"untranslated: {name}")
                continue
            if _placeholders(message.string) != _placeholders(message.id):
                problems.append(f"placeholders differ: {name} -> {message.string!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {name}")
    for message, errors in catalog.check():  # Babel's own checks (python-format...)
        problems.extend(f"{message.id!r}: {error}" for error in errors)
    return problems


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale):
    """Every message translated, none fuzzy, the same placeholders as the English."""
    problems = _catalogue_problems(locale)
    assert not problems, f"{locale}: {len(problems)} problems:\n" + "\n".join(problems[:60])


def test_catalogue_check_finds_what_is_wrong(tmp_path, monkeypatch):
    """The completeness check itself: it reports untranslated, fuzzy and broken placeholders."""
    catalog = Catalog(locale="fi", domain=i18n.DOMAIN)
    catalog.add("Summary", "Yhteenveto")
    catalog.add("Log out", "")
    catalog.add("Customer %(number)s", "Asiakas %(numero)s")
    catalog.add("Mass updates", "Massapäivitykset", flags=["fuzzy"])
    catalog.add(("%(num)s customer", "%(num)s customers"), ("yksi asiakas", "%(num)s asiakasta"))
    catalog.add(("%(num)s row", "%(num)s rows"), ("%(num)s rivi", ""))
    folder = tmp_path / "fi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    from babel.messages.pofile import write_po

    with open(folder / f"{i18n.DOMAIN}.po", "wb") as po:
        write_po(po, catalog)
    monkeypatch.setattr(f"{__name__}.TRANSLATIONS", tmp_path)
    problems = "\n".join(_catalogue_problems("fi"))
    assert "untranslated: 'Log out'" in problems
    assert "placeholders differ: 'Customer %(number)s'" in problems
    assert "fuzzy: 'Mass updates'" in problems
    assert "untranslated: ('%(num)s row', '%(num)s rows')" in problems
    assert "Summary" not in problems and "customer" not in problems


# --- pages in Finnish and Norwegian: no English from the catalogue ------------------------------


class _Visible(HTMLParser):
    """Text nodes and the attributes people read (title, placeholder, aria-label, alt, the
    value of buttons), without scripts and styles."""

    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name in self.ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _visible_text(page: str) -> list[str]:
    parser = _Visible()
    parser.feed(page)
    return parser.texts


def _english_patterns(locale: str) -> dict[str, str]:
    """English text from the catalogue that must not show on a page in ``locale``: msgids long
    enough to be unambiguous (the literal parts of those with placeholders), except those the
    translators kept as they are (a name, say)."""
    from babel.messages.mofile import read_mo

    with open(TRANSLATIONS / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo", "rb") as fp:
        translated = {_key(m): _string(m) for m in read_mo(fp) if m.id}
    patterns: dict[str, str] = {}
    for message in _read_po(POT):
        if not message.id or message.context == "seeded setting":
            continue  # seeded settings are data, in the installation's language (tested apart)
        ids = message.id if message.pluralizable else (message.id,)
        kept = translated.get(_key(message))
        kept = set(kept) if isinstance(kept, tuple) else {kept}
        for msgid in ids:
            if msgid in kept:
                continue  # the translation is the English word itself
            for part in PLACEHOLDER.split(msgid)[::3]:
                part = " ".join(part.split()).strip(" :;,.(")
                words = part.split()
                if (len(words) >= 2 and len(part) >= 10) or (len(words) == 1 and len(part) >= 9):
                    patterns.setdefault(part, msgid)
    return patterns


@pytest.fixture
def pages_data(app, make_user):
    """A customer with everything on its card, and a user to look at it."""
    from .. import builders as b

    with app.app_context():
        owner = make_user("manager", name="Maija Myyjä")
        today = date.today()
        retail = b.segment("Vähittäiskauppa")
        kahvila = b.customer("Kahvila Oy", owner=owner, segments=[retail], business_id="0112038-9")
        b.customer("Leipomo Oy", owner=owner)
        work = b.project(kahvila, manager=owner, name="Verkkokauppa")
        b.invoice(kahvila, "1234.50", today, project=work)
        b.sales_case(kahvila, name="Kassajärjestelmä")
        software = b.industry("Ohjelmistot", "62010")
        db.session.commit()
        return {"customer": kahvila.id, "industry": software.id}


def _pages(client, customer_id: int, industry_id: int) -> dict[str, str]:
    """The pages a new user goes through, as HTML."""
    pages = {}
    for name, url in {
        "dashboard": "/admin/",
        "summary": SUMMARY,
        "KPI cards": "/admin/customers/kpis/",  # what the Summary fetches into its placeholders
        "card": f"/admin/customers/details/?id={customer_id}",
        "add customer": "/admin/customers/new/",
        "mass update": f"/admin/customers/mass-update/?ids={customer_id}&action=industry",
        "mass updates": "/admin/customers/mass-update/history/",
        "reports": "/admin/reports/",
        "report builder": "/admin/reports/build/?type=customers",
        "move projects": f"/admin/customers/moves/projects/?id={customer_id}",
        "merge": f"/admin/customers/moves/merge/?id={customer_id}",
        "history": f"/admin/customers/moves/history/?id={customer_id}",
        "users": "/admin/settings/users/",
        "industries": "/admin/settings/industries/",
        "registries": "/admin/settings/registries/",
        "projects": "/admin/projects/",  # Flask-Admin's own filters and page-size menu
        "customer statuses": "/admin/settings/customer-statuses/",
        "user": "/admin/settings/users/details/?id=1",
        "second page": SUMMARY + "?page_size=50",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.get_data(as_text=True)
    token = csrf_token(client, SUMMARY)
    confirm = client.post(
        "/admin/customers/mass-update/preview/",
        data={
            "csrf_token": token,
            "action": "industry",
            "ids": str(customer_id),
            "value": str(industry_id),
            "return_url": SUMMARY,
        },
    )
    assert 'data-testid="confirm-form"' in confirm.get_data(as_text=True)
    pages["mass update confirmation"] = confirm.get_data(as_text=True)
    refused = client.post(  # a value missing: the choice page again, with the error
        "/admin/customers/mass-update/preview/",
        data={"csrf_token": token, "action": "add_segments", "ids": str(customer_id)},
        follow_redirects=True,
    )
    pages["mass update error"] = refused.get_data(as_text=True)
    return pages


@pytest.mark.commits
@pytest.mark.parametrize("locale", LOCALES)
def test_pages_show_no_english_from_the_catalogue(app, client, make_user, pages_data, locale):
    patterns = _english_patterns(locale)
    assert len(patterns) > 300  # the check has teeth
    # the login page, logged out, in the language picked there
    _switch(client, locale, next_url="/admin/login", page="/admin/login")
    pages = {"login": client.get("/admin/login").get_data(as_text=True)}
    user = make_user("admin")
    _set_user_locale(client.application, user.id, locale)
    log_in(client, user)
    pages.update(_pages(client, pages_data["customer"], pages_data["industry"]))
    offenders = []
    for name, page in pages.items():
        for shown in _visible_text(page):
            offenders.extend(
                f"{name}: {english!r} in {shown[:80]!r}" for english in patterns if english in shown
            )
    per_page = Counter(offender.split(":", 1)[0] for offender in offenders)
    assert not offenders, (
        f"{len(offenders)} English texts on {locale} pages ({dict(per_page)}):\n"
        + "\n".join(sorted(set(offenders))[:80])
    )
    # Flask-Admin's own strings, as its catalogue and templates write them in English
    flask_admin_english = _flask_admin_patterns()
    assert len(flask_admin_english) > 40
    for name, page in pages.items():
        for shown in _visible_text(page):
            offenders.extend(
                f"{name}: Flask-Admin's {english.pattern!r} in {shown[:80]!r}"
                for english in flask_admin_english
                if english.search(shown)
            )
        if name != "login":
            assert re.search(rf'<html lang="{locale}"', page), f"{name}: no <html lang={locale}>"
    assert not offenders, "\n".join(sorted(set(offenders))[:80])


def _flask_admin_patterns() -> list[re.Pattern]:
    """English that Flask-Admin shows: the msgids of its catalogue (long enough to be
    unambiguous; whole words), the words its templates write without a catalogue (the navbar
    button, the page-size menu), its filter operations in the filters' data, and its yes/no
    tooltips (``is_active: true``)."""
    catalogue = Translations.load(
        str(Path(flask_admin.__file__).parent / "translations"), ["fi"], "admin"
    )
    patterns = []
    for msgid in catalogue._catalog:
        msgid = msgid[0] if isinstance(msgid, tuple) else msgid
        for part in PLACEHOLDER.split(msgid)[::3]:
            part = " ".join(part.split()).strip(" :;,.(?")
            words = part.split()
            if (len(words) >= 2 and len(part) >= 10) or (len(words) == 1 and len(part) >= 9):
                patterns.append(re.compile(rf"\b{re.escape(part)}\b"))
    patterns += [
        re.compile(r"Toggle navigation"),
        re.compile(r"\b\d+ items?\b"),
        re.compile(r'"operation": "(equals|not equal|contains|empty|in list|between)"'),
        re.compile(r"\w+: (true|false)\b"),
    ]
    return patterns


def test_flask_admin_check_catches_english(app, client, make_user, pages_data):
    """The check of Flask-Admin's strings itself: an English list page is full of them, and so
    are Flask-Admin's stock template and yes/no formatter that the module replaces."""
    from flask_admin.model.typefmt import bool_formatter

    log_in(client, make_user("admin"))
    stock = Path(flask_admin.__file__).parent / "templates" / "bootstrap4" / "admin" / "base.html"
    texts = _visible_text(stock.read_text()) + _visible_text(
        bool_formatter(None, True, "is_active")
    )
    for url in ("/admin/settings/users/", "/admin/projects/", "/admin/customers/new/"):
        texts += _visible_text(client.get(url).get_data(as_text=True))
    found = {
        english.pattern
        for text in texts
        for english in _flask_admin_patterns()
        if english.search(text)
    }
    assert {"Toggle navigation", r"\b\d+ items?\b", r"\w+: (true|false)\b"} <= found
    assert rf"\b{re.escape('Create New Record')}\b" in found


@pytest.mark.parametrize(
    ("locale", "phrases", "wrong"),
    [
        (
            "fi",
            ("Lisää osoite", "Lisää yhteyshenkilö", "20 riviä", "Luo uusi tietue"),
            "Lisää Osoite",
        ),
        ("nb", ("Legg til adresse", "Legg til kontaktperson", "20 rader"), "Legge til Adresse"),
        ("en", ("Add address", "Add contact person", "20 items"), "Add Address"),
    ],
)
def test_flask_admin_phrases_read_as_a_native_speaker_writes_them(
    app, client, make_user, locale, phrases, wrong
):
    user = make_user("admin")
    _set_user_locale(client.application, user.id, locale)
    log_in(client, user)
    text = " | ".join(
        _visible_text(client.get("/admin/customers/new/").get_data(as_text=True))
        + _visible_text(client.get("/admin/settings/users/").get_data(as_text=True))
    )
    for phrase in phrases:
        assert phrase in text
    assert wrong not in text
    users = client.get("/admin/settings/users/").get_data(as_text=True)
    yes = {"fi": "Kyllä", "nb": "Ja", "en": "Yes"}[locale]
    assert f'title="{yes}"' in users and "is_active: true" not in users


def test_country_list_has_no_pseudo_locales(app):
    from custreg_admin.admin.fields import country_choices

    for locale in ("en", "fi", "nb"):
        with app.test_request_context(headers={"Accept-Language": locale}):
            codes = {code for code, _ in country_choices()}
        assert {"FI", "NO", "XK", "AQ"} <= codes
        assert not codes & {"XA", "XB", "ZZ", "EU", "EZ", "UN", "QO"}


def test_english_check_catches_an_untranslated_page(app, client, make_user, pages_data):
    """The page check itself: an English page is full of catalogue strings."""
    patterns = _english_patterns("fi")
    user = make_user("admin")
    log_in(client, user)
    page = client.get("/admin/customers/kpis/").get_data(as_text=True)
    found = {english for text in _visible_text(page) for english in patterns if english in text}
    assert {"Margin this year", "How is this calculated?", "Prospects in pipeline"} <= found


# --- formats on the pages and in the files -------------------------------------------------------


@pytest.mark.commits
def test_pages_and_files_use_the_locales_formats(app, client, make_user, pages_data):
    """Money, numbers and dates as Finnish writes them on the pages; the CSV's decimal comma
    follows; the XLSX keeps real numbers and dates."""
    import csv
    import io

    from babel.dates import format_date
    from openpyxl import load_workbook

    user = make_user("admin")
    _set_user_locale(app, user.id, "fi")
    log_in(client, user)
    today = date.today()
    card = client.get(f"/admin/customers/details/?id={pages_data['customer']}").get_data(
        as_text=True
    )
    assert "1\u00a0234,50\u00a0€" in card  # the invoice's total
    assert format_date(today, "medium", locale="fi") in card  # its date, d.M.yyyy
    assert today.isoformat() not in card

    home = client.get("/admin/").get_data(as_text=True)
    assert format_date(today, "full", locale="fi") in home  # "torstai 27. marraskuuta 2026"
    assert format_date(today, "LLL yy", locale="fi") in home  # the chart's month labels

    query = "type=customers&columns=name&columns=billing_this_year&columns=created_at"
    builder = client.get(f"/admin/reports/build/?{query}").get_data(as_text=True)
    assert "1\u00a0234,50" in builder and "1,234.50" not in builder

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/admin/reports/download/csv/?{query}").data.decode("utf-8-sig")
            ),
            delimiter=";",  # the Finnish default
        )
    )
    assert ["Kahvila Oy", "1234,50", today.isoformat()] in rows

    sheet = load_workbook(
        io.BytesIO(client.get(f"/admin/reports/download/xlsx/?{query}").data)
    ).active
    values = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    billing, created = values["Kahvila Oy"][1], values["Kahvila Oy"][2]
    assert billing.value == 1234.5 and billing.data_type == "n" and "0.00" in billing.number_format
    assert created.is_date and created.value.date() == today


def test_norwegian_bokmal_formats(app, client, make_user, pages_data):
    user = make_user("admin")
    _set_user_locale(app, user.id, "nb")
    log_in(client, user)
    card = client.get(f"/admin/customers/details/?id={pages_data['customer']}").get_data(
        as_text=True
    )
    assert "1\u00a0234,50\u00a0€" in card  # the company's currency here is EUR
    from babel.dates import format_date

    assert format_date(date.today(), "medium", locale="nb") in card  # "27. nov. 2026"


def test_the_owner_filter_marks_inactive_users_in_each_viewers_language(app, make_user):
    """The filter choices are cached for all viewers; the marks are made per request."""
    make_user("user", name="Ville Vanha", is_active=False)
    finn, english = make_user("admin"), make_user("admin")
    _set_user_locale(app, finn.id, "fi")
    _set_user_locale(app, english.id, "en")
    pages = {}
    for user in (finn, english, finn):  # the first request fills the cache, the others read it
        client = app.test_client()
        log_in(client, user)
        pages.setdefault(user.id, []).append(client.get(SUMMARY).get_data(as_text=True))
    assert all("Ville Vanha (ei aktiivinen)" in page for page in pages[finn.id])
    assert "Ville Vanha (inactive)" in pages[english.id][0]
    assert "(ei aktiivinen)" not in pages[english.id][0]
