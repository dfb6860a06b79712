"""Revocable sessions: cookies carry a per-user session token (Flask-Login's alternative
token), renewed on logout, on a new password and on deactivation; the remember-me lifetime is
a setting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from custreg_admin.extensions import db
from custreg_admin.models import User

from ..helpers import PASSWORD, csrf_token

PAGE = "/admin/customers/"


def _log_in_remembered(client: FlaskClient, user: User):
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "remember": "y"},
    )
    assert response.status_code == 302
    return response


def _copy(app, source: FlaskClient, *names: str) -> FlaskClient:
    """Another browser holding copies of ``names`` cookies (a stolen cookie, say)."""
    thief = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def _logged_in(client: FlaskClient) -> bool:
    response = client.get(PAGE)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    return False


def _stolen_copies(app, client):
    return _copy(app, client, "session"), _copy(app, client, "remember_token")


def test_copied_cookies_work_while_the_session_lasts(app, client, make_user):
    _log_in_remembered(client, make_user("admin"))
    session_copy, remember_copy = _stolen_copies(app, client)
    assert _logged_in(session_copy) and _logged_in(remember_copy)


def test_logout_ends_the_session_and_the_remember_cookie_on_the_server(app, client, make_user):
    _log_in_remembered(client, make_user("admin"))
    session_copy, remember_copy = _stolen_copies(app, client)
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 302
    assert not _logged_in(client)
    assert not _logged_in(session_copy)
    assert not _logged_in(remember_copy)


def _user_form(client: FlaskClient, user_id: int) -> dict[str, str]:
    page = client.get(f"/admin/settings/users/edit/?id={user_id}").get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)}
    for name in ("name", "email"):
        form[name] = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
    form.update(role="user", is_active="y", locale="")
    return form


def test_a_password_reset_by_an_admin_ends_the_users_sessions(app, client, make_user):
    victim = make_user("user")
    _log_in_remembered(client, victim)
    session_copy, remember_copy = _stolen_copies(app, client)

    admin = app.test_client()
    _log_in_remembered(admin, make_user("admin"))
    form = _user_form(admin, victim.id)
    form["new_password"] = "a-brand-new-password"
    response = admin.post(f"/admin/settings/users/edit/?id={victim.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)

    assert not _logged_in(client)
    assert not _logged_in(session_copy)
    assert not _logged_in(remember_copy)
    assert _logged_in(admin)  # the admin's own session is not touched


def test_an_edit_without_a_new_password_keeps_the_sessions(app, client, make_user):
    user = make_user("user")
    _log_in_remembered(client, user)
    admin = app.test_client()
    _log_in_remembered(admin, make_user("admin"))
    form = _user_form(admin, user.id)
    form["name"] = "Renamed"
    assert admin.post(f"/admin/settings/users/edit/?id={user.id}", data=form).status_code == 302
    assert _logged_in(client)


def test_deactivation_ends_the_sessions_and_reactivation_does_not_revive_them(
    app, client, make_user
):
    user = make_user("user")
    _log_in_remembered(client, user)
    session_copy, remember_copy = _stolen_copies(app, client)
    with app.app_context():
        row = db.session.get(User, user.id)
        row.is_active = False
        db.session.commit()
        row.is_active = True
        db.session.commit()
    assert not _logged_in(client)
    assert not _logged_in(session_copy)
    assert not _logged_in(remember_copy)


def test_a_password_rehash_at_login_keeps_other_sessions(app, client, make_user):
    user = make_user("user")
    with app.app_context():
        row = db.session.get(User, user.id)
        token = row.session_token
        row.set_password(PASSWORD, end_sessions=False)
        db.session.commit()
        assert row.session_token == token
        row.set_password(PASSWORD)
        db.session.commit()
        assert row.session_token != token


def test_session_cookies_made_from_a_user_id_log_nobody_in(app, make_user):
    """What cookies held before the session tokens (the user's id) no longer works."""
    user = make_user("admin")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert not _logged_in(client)


def _remember_expiry(response) -> datetime:
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_"))
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    return datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def test_remember_me_lasts_14_days_by_default_and_is_a_setting(app, app_factory, make_user):
    user = make_user("admin")
    expiry = _remember_expiry(_log_in_remembered(app.test_client(), user))
    assert abs(expiry - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=5)

    short = app_factory(CUSTREG_REMEMBER_DAYS=2)
    expiry = _remember_expiry(_log_in_remembered(short.test_client(), user))
    assert abs(expiry - (datetime.now(UTC) + timedelta(days=2))) < timedelta(minutes=5)
