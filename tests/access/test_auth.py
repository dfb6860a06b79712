"""Login, logout, access to every admin page, CSRF."""

from __future__ import annotations

from ..helpers import PASSWORD, csrf_token, log_in


def _admin_get_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or not rule.rule.startswith("/admin"):
            continue
        if rule.endpoint.startswith("custreg_auth.") or rule.endpoint.endswith(
            (".static", ".ajax_lookup", ".ajax_update")
        ):
            continue
        urls.append(rule.rule)
    return sorted(urls)


def test_every_admin_page_needs_a_login(app, client):
    urls = _admin_get_urls(app)
    assert "/admin/" in urls and "/admin/customers/" in urls and len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login" in response.headers["Location"], url


def test_every_admin_page_renders_for_an_admin(app, admin_client):
    for url in _admin_get_urls(app):
        response = admin_client.get(url)
        # details/edit/confirmation pages without an id redirect back to their list; the
        # form scripts' JSON endpoints say what is missing
        answered = response.status_code in (200, 302) or (
            response.status_code == 400 and response.is_json and response.json.get("error")
        )
        assert answered, (url, response.status_code)


def test_login_with_right_password_goes_to_next_page(client, make_user):
    user = make_user("manager")
    token = csrf_token(client, "/admin/login?next=/admin/customers/")
    response = client.post(
        "/admin/login",
        data={
            "email": user.email.upper(),
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/admin/customers/",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/customers/"
    assert client.get("/admin/customers/").status_code == 200


def test_wrong_password_and_inactive_user_are_refused(client, make_user):
    user = make_user()
    response = log_in(client, user, password="wrong-password")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302

    inactive = make_user(is_active=False)
    assert log_in(client, inactive).status_code == 401


def test_passwords_are_hashed(ctx, make_user):
    from custreg_admin.extensions import db
    from custreg_admin.models import User

    user = db.session.get(User, make_user().id)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_logout_needs_post_with_csrf(client, login):
    login()
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400  # no CSRF token
    assert client.get("/admin/").status_code == 200
    token = csrf_token(client, "/admin/")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_login_without_or_with_forged_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    response = client.post(
        "/admin/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": "forged.token.value"},
    )
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_admin_forms_refuse_posts_without_csrf(admin_client):
    response = admin_client.post("/admin/customers/new/", data={"name": "No Token Oy"})
    assert response.status_code == 400
    response = admin_client.post(
        "/admin/settings/industries/new/", data={"name": "X", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    response = admin_client.post(
        "/admin/customers/action/", data={"action": "delete", "rowid": "1"}
    )
    assert response.status_code == 400


def test_users_page_is_for_admins_only(client, login):
    login("manager")
    assert client.get("/admin/settings/users/").status_code == 403


def test_role_user_reads_settings_but_cannot_change_them(client, login):
    login("user")
    assert client.get("/admin/settings/industries/").status_code == 200
    response = client.get("/admin/settings/industries/new/")
    assert response.status_code == 302  # Flask-Admin sends it back to the list
    token = csrf_token(client, "/admin/")
    client.post("/admin/settings/industries/new/", data={"name": "Sneaky", "csrf_token": token})
    assert "Sneaky" not in client.get("/admin/settings/industries/").get_data(as_text=True)


def test_session_cookie_flags(client, make_user):
    response = log_in(client, make_user())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
