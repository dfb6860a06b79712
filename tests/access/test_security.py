"""Security baseline: secret key, cookies, password hashing, CSP, login throttling, ``next=``."""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import urlsplit

import pytest
from werkzeug.security import generate_password_hash

from custreg_admin import create_app
from custreg_admin.extensions import db
from custreg_admin.models import User
from custreg_admin.security import InsecureConfiguration

from ..deploy import test_embedding
from ..helpers import PASSWORD, csrf_token, log_in

host_factory = test_embedding.host_factory  # the host-app fixture

REDIS_URL = os.environ.get("CUSTREG_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


# --- secret key ----------------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    for name in ("CUSTREG_SECRET_KEY", "CUSTREG_ENV", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InsecureConfiguration, match="CUSTREG_SECRET_KEY is not set"):
        create_app({"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    # an instance-folder key left by a development run does not make production start
    create_app({"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "CUSTREG_ENV": "development"})
    with pytest.raises(InsecureConfiguration):
        create_app({"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    monkeypatch.setenv("CUSTREG_SECRET_KEY", "from-the-environment")
    app = create_app({"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.secret_key == "from-the-environment"


def test_flask_debug_counts_as_development(tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTREG_SECRET_KEY", raising=False)
    monkeypatch.delenv("CUSTREG_ENV", raising=False)
    app = create_app({"CUSTREG_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "DEBUG": True})
    assert len(app.secret_key) == 64


# --- cookies -------------------------------------------------------------------------------------


def _cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def _log_in_remembered(client, user, **request_kwargs):
    base = request_kwargs.get("base_url", "http://localhost")
    page = client.get("/admin/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    request_kwargs.setdefault("headers", {"Referer": f"{base}/admin/login"})
    return client.post(
        "/admin/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "remember": "y"},
        **request_kwargs,
    )


def test_cookies_are_httponly_lax_and_not_secure_over_plain_http(client, make_user):
    cookies = _cookies(_log_in_remembered(client, make_user()))
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
        assert "Secure" not in cookies[name]


def test_cookies_are_secure_when_the_request_is_https(app, make_user):
    client = app.test_client()
    response = _log_in_remembered(client, make_user(), base_url="https://localhost")
    assert response.status_code == 302
    cookies = _cookies(response)
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]


def test_cookies_are_secure_with_custreg_https(app_factory, make_user):
    app = app_factory(CUSTREG_HTTPS=True)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    # the test client keeps Secure cookies only for https; the header is what matters here
    response = client.get("/admin/login")
    assert "Secure" in _cookies(response)["session"]


# --- passwords -----------------------------------------------------------------------------------


def _method(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]


@pytest.fixture
def default_hashing(app):
    """The app without the suite's cheap hash method: werkzeug's default, as installed."""
    app.config["CUSTREG_PASSWORD_HASH_METHOD"] = None
    return app


def test_passwords_use_werkzeugs_current_default(default_hashing, client, ctx):
    from custreg_admin.services.users import create_user

    user = create_user("new@example.com", "New", "a-long-password")
    assert _method(user.password_hash) == _method(generate_password_hash("anything"))
    assert "a-long-password" not in user.password_hash


def test_an_old_hash_is_upgraded_at_the_next_login(default_hashing, app, client, make_user):
    user = make_user()
    with app.app_context():
        row = db.session.get(User, user.id)
        row.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.commit()
    assert log_in(client, user).status_code == 302
    with app.app_context():
        upgraded = db.session.get(User, user.id).password_hash
    assert _method(upgraded) == _method(generate_password_hash("anything"))
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert log_in(client, user).status_code == 302  # the new hash checks the same password


def test_a_configured_hash_method_is_used_and_reached_at_the_next_login(app, client, make_user):
    from custreg_admin.services.users import create_user

    app.config["CUSTREG_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2000"
    with app.app_context():
        assert create_user("new@example.com", "New", "a-long-password").password_hash.startswith(
            "pbkdf2:sha256:2000$"
        )
    user = make_user()
    with app.app_context():
        row = db.session.get(User, user.id)
        row.password_hash = generate_password_hash(PASSWORD)  # werkzeug's default (scrypt)
        db.session.commit()
    assert log_in(client, user).status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).password_hash.startswith("pbkdf2:sha256:2000$")


# --- next= ---------------------------------------------------------------------------------------


def _log_in_with_next(client, user, target: str):
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target},
    )


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "///evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "https:evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " javascript:alert(1)",
        "/%2F%2Fevil.example",
        "\t//evil.example",
        "evil.example",
    ],
)
def test_login_next_never_leaves_the_site(client, make_user, target):
    response = _log_in_with_next(client, make_user(), target)
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    if "evil" in location:  # only as a path on this site: /%2F%2Fevil.example
        assert location == "/%2F%2Fevil.example"
    else:
        assert location == "/admin/"


def test_login_next_keeps_a_same_site_path_with_query(client, make_user):
    target = "/admin/customers/?search=Acme&page=2"
    response = _log_in_with_next(client, make_user(), target)
    assert response.headers["Location"] == target


# --- Content-Security-Policy ---------------------------------------------------------------------


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: part.strip()[len(part.split()[0]) :].strip()
        for part in header.split(";")
        if part.strip()
    }


def test_module_pages_have_a_csp_with_a_fresh_nonce_on_every_script(app, admin_client):
    nonces = set()
    for path in ("/admin/", "/admin/customers/", "/admin/customers/new/", "/admin/reports/"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["frame-ancestors"] == "'self'"
        assert policy["object-src"] == "'none'"
        assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
        assert "'unsafe-inline'" not in policy["script-src"]
        [nonce] = _NONCE.findall(policy["script-src"])
        nonces.add(nonce)
        page = response.get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts, path
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag, (path, tag)
        assert "csp.js" in page  # takes over Flask-Admin's inline handlers
        assert not re.search(r"<[^>]*\sonclick=", page), path  # browsers would refuse them
    listing = admin_client.get("/admin/customers/").get_data(as_text=True)
    assert "data-custreg-onclick=\"return modelActions.execute('mass_update');\"" in listing
    assert len(nonces) == 4  # one per request


def test_login_page_and_static_files_have_the_policy_too(client):
    assert "frame-ancestors 'self'" in client.get("/admin/login").headers["Content-Security-Policy"]
    with client.get("/custreg_admin/static/csp.js") as response:
        assert response.status_code == 200 and "Content-Security-Policy" in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_csp_can_be_switched_off_or_replaced(app_factory, make_user):
    off = app_factory(CUSTREG_CSP="off")
    assert "Content-Security-Policy" not in off.test_client().get("/admin/login").headers
    custom = app_factory(CUSTREG_CSP="default-src 'self'; script-src 'self' 'nonce-{nonce}'")
    header = custom.test_client().get("/admin/login").headers["Content-Security-Policy"]
    assert header.startswith("default-src 'self'; script-src 'self' 'nonce-")
    assert "{nonce}" not in header


def test_a_policy_already_on_the_response_is_kept(app_factory):
    app = app_factory()

    @app.after_request
    def host_policy(response):  # registered later, runs earlier: the host's own header
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert app.test_client().get("/admin/login").headers["Content-Security-Policy"] == (
        "default-src 'none'"
    )


def test_in_a_host_admin_the_policy_is_off_by_default_and_never_on_host_routes(host_factory):
    from ..deploy.test_embedding import add_host_user, host_login

    app = host_factory()
    add_host_user(app, "boss@host.example", is_admin=True)
    client = app.test_client()
    host_login(client, "boss@host.example")
    assert client.get("/admin/customers/").status_code == 200
    assert "Content-Security-Policy" not in client.get("/admin/customers/").headers


def test_in_a_host_admin_the_policy_can_be_switched_on_for_the_modules_pages(host_factory):
    from ..deploy.test_embedding import add_host_user, host_login

    app = host_factory(config={"CUSTREG_CSP": "on"})
    add_host_user(app, "boss@host.example", is_admin=True)
    client = app.test_client()
    host_login(client, "boss@host.example")
    response = client.get("/admin/customers/")
    assert response.status_code == 200
    [nonce] = _NONCE.findall(response.headers["Content-Security-Policy"])
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert "Content-Security-Policy" not in client.get("/admin/host_user/").headers
    assert "Content-Security-Policy" not in client.get("/token").headers


def test_templates_carry_no_inline_script_or_handler():
    """The module's own templates: scripts only from files with the nonce, no on*= handlers."""
    from pathlib import Path

    import custreg_admin

    folder = Path(custreg_admin.__file__).parent / "templates"
    for template in folder.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag and "admin_csp_nonce_attribute" in tag, (template, tag)


# --- login throttling ----------------------------------------------------------------------------


def _fail(client, email: str, ip: str = "203.0.113.7"):
    client.environ_base["REMOTE_ADDR"] = ip
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": email, "password": "wrong-password", "csrf_token": token},
    )


def _succeed(client, user, ip: str = "203.0.113.7"):
    client.environ_base["REMOTE_ADDR"] = ip
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )


def test_failed_logins_are_throttled_per_account_and_ip(client, make_user):
    user = make_user()
    for _ in range(5):
        assert _fail(client, user.email).status_code == 401
    refused = _fail(client, user.email)
    assert refused.status_code == 429
    assert "Too many failed log-in attempts" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # the right password is refused too while the limit holds, from that IP
    assert _succeed(client, user).status_code == 429
    # the same account from another IP, and another account from this IP, still get in
    assert _succeed(client, user, ip="198.51.100.9").status_code == 302
    other_client = client.application.test_client()
    assert _succeed(other_client, make_user()).status_code == 302


def test_successful_logins_do_not_count(client, make_user):
    user = make_user()
    for _ in range(8):
        assert _succeed(client, user).status_code == 302
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert _fail(client, user.email).status_code == 401


def test_one_ip_trying_many_accounts_hits_the_per_ip_cap(app_factory):
    app = app_factory(CUSTREG_LOGIN_IP_RATE_LIMIT="8/minute")
    client = app.test_client()
    with app.app_context():
        db.create_all()
    statuses = [_fail(client, f"guess{n}@example.com").status_code for n in range(10)]
    assert statuses[:8] == [401] * 8 and statuses[8:] == [429, 429]


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis at {REDIS_URL} is required (REQUIRE_REDIS) but: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({error}); set REQUIRE_REDIS=1 in CI")


def test_two_workers_sharing_redis_share_the_count(app_factory, make_user):
    """Two app instances (two gunicorn workers) on one Redis: 3 failures on one and 2 on the
    other make 5, and both refuse the sixth."""
    _redis_or_skip()
    first = app_factory(CUSTREG_RATELIMIT_STORAGE_URI=REDIS_URL)
    second = app_factory(CUSTREG_RATELIMIT_STORAGE_URI=REDIS_URL)
    email = f"{uuid.uuid4().hex}@example.com"  # fresh counters in the shared Redis
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    one, two = first.test_client(), second.test_client()
    assert [_fail(one, email, ip).status_code for _ in range(3)] == [401] * 3
    assert [_fail(two, email, ip).status_code for _ in range(2)] == [401] * 2
    assert _fail(one, email, ip).status_code == 429
    assert _fail(two, email, ip).status_code == 429
    # a worker with its own memory storage would not have known
    alone = app_factory().test_client()
    assert _fail(alone, email, ip).status_code == 401


def test_a_hosts_limiter_is_used_not_replaced(_pg_schema, database_url, tmp_path):
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from custreg_admin import CustReg
    from custreg_admin.config import sqlalchemy_url

    from ..deploy.test_embedding import host_db

    app = Flask("host_with_limiter")
    app.config.update(
        TESTING=True, SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url)
    )
    app.instance_path = str(tmp_path / "instance")
    host_db.init_app(app)
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")
    CustReg(app, db=host_db)
    assert app.extensions["limiter"] == {limiter}
    assert app.extensions["custreg_admin"].login_throttle.limiter is limiter
    with app.app_context():
        db.session.remove()
        host_db.engine.dispose()
