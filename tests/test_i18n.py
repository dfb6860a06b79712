"""Languages: how the locale is chosen, the switcher, Flask-Admin's and the module's catalogues,
local number, money and date formats, and a host app's own locale selector."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
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

from .conftest import PG_URL
from .helpers import csrf_token, log_in

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
    assert "There is no language &#39;sv&#39; here" in page


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
    assert norwegian.ugettext("equals") in page
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
        ("nb", "NOK", "1\u00a0234\u00a0567,89\u00a0kr"),
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
        assert money(Decimal("-1500")) == "-1\u00a0500,00\u00a0kr"


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
