"""The language switcher in the navigation bar: Summary in Finnish and Norwegian and back.

Screenshots of the Summary in each language are saved as ``test-artifacts/language-<code>.png``
(to look at the switcher in the navbar; the texts are the catalogue's, English until translated).
"""

from __future__ import annotations

import re
from pathlib import Path

import flask_admin
from babel.support import Translations
from playwright.sync_api import expect

from custreg_admin.extensions import db
from custreg_admin.models import User

from .. import builders as b
from .conftest import ARTIFACTS


def _flask_admin(language: str, text: str) -> str:
    path = Path(flask_admin.__file__).parent / "translations"
    return Translations.load(str(path), [language], "admin").ugettext(text)


def _pick(page, name: str) -> None:
    switcher = page.get_by_test_id("language-switcher")
    switcher.get_by_test_id("language-current").click()
    switcher.get_by_role("button", name=name, exact=True).click()


def test_switch_to_finnish_and_norwegian_and_back(page, live_server, make_user, log_in):
    app = live_server.app
    user = make_user("manager", name="Maija Myyjä")
    with app.app_context():
        b.customer("Kahvila Oy", owner=user)
        db.session.commit()
    log_in(page, user.email)
    page.goto("/admin/customers/?search=Kahvila")
    switcher = page.get_by_test_id("language-switcher")
    expect(switcher.get_by_test_id("language-current")).to_have_text("English")
    # the switcher sits in the navigation bar, beside the user's name
    expect(page.locator("nav.navbar").get_by_test_id("language-switcher")).to_be_visible()

    for code, name, flask_admin_code in (("fi", "Suomi", "fi"), ("nb", "Norsk bokmål", "no")):
        _pick(page, name)
        expect(page).to_have_url(re.compile(r"/admin/customers/\?search=Kahvila$"))
        expect(switcher.get_by_test_id("language-current")).to_have_text(name)
        # Flask-Admin's own texts in that language (nb: its "no" catalogue)
        create = _flask_admin(flask_admin_code, "Create")
        assert create != "Create"
        expect(page.get_by_role("link", name=create, exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="Kahvila Oy")).to_be_visible()
        page.screenshot(path=f"{ARTIFACTS}/language-{code}.png", full_page=False)
        with app.app_context():
            assert db.session.get(User, user.id).locale == code

    _pick(page, "English")
    expect(switcher.get_by_test_id("language-current")).to_have_text("English")
    expect(page.get_by_role("link", name="Create", exact=True)).to_be_visible()
