"""Issue 17: a new customer starts with its creator as the account owner and the status chosen in
Settings as "default for new customers" (seeded: Active); one default at most."""

from __future__ import annotations

import re

from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import CustomerStatus

from ..helpers import csrf_token

NEW = "/admin/customers/new/"
STATUSES = "/admin/settings/customer-statuses/"


def _selected(page: str, field: str) -> str | None:
    """The value of the option selected in the form's select ``field``."""
    block = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', page, re.S)
    assert block is not None, f"no select {field}"
    option = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', block.group(1))
    option = option or re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', block.group(1))
    return option.group(1) if option else None


def _status_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(CustomerStatus.id).where(CustomerStatus.name == name))


def _defaults(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(CustomerStatus.name).where(CustomerStatus.is_default_for_new.is_(True))
            )
        )


def test_seeded_active_is_the_one_default(app):
    assert _defaults(app) == ["Active"]


def test_the_form_starts_with_the_creator_as_owner_and_the_default_status(app, client, login):
    manager = login("manager")
    page = client.get(NEW).get_data(as_text=True)
    assert _selected(page, "owner") == str(manager.id)
    assert _selected(page, "status") == str(_status_id(app, "Active"))


def test_a_plain_user_starts_as_the_owner_too(app, client, login):
    user = login("user")
    page = client.get(NEW).get_data(as_text=True)
    assert _selected(page, "owner") == str(user.id)


def test_choosing_another_default_in_settings_replaces_the_first(app, admin_client):
    passive = _status_id(app, "Passive")
    token = csrf_token(admin_client, STATUSES)
    response = admin_client.post(
        f"{STATUSES}edit/?id={passive}",
        data={"csrf_token": token, "name": "Passive", "is_default_for_new": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _defaults(app) == ["Passive"]
    page = admin_client.get(NEW).get_data(as_text=True)
    assert _selected(page, "status") == str(passive)
    listing = admin_client.get(STATUSES).get_data(as_text=True)
    assert "Default for new customers" in listing


def test_without_a_default_status_the_form_leaves_status_empty(app, admin_client):
    with app.app_context():
        for status in db.session.scalars(select(CustomerStatus)):
            status.is_default_for_new = False
        db.session.commit()
    page = admin_client.get(NEW).get_data(as_text=True)
    assert _selected(page, "status") in (None, "", "__None")
