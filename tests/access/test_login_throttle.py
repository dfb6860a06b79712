"""Log-in that tells nothing and cannot be turned against users: unknown e-mails get the same
password work, failures from one address never lock the account for others, the limiter's keys
are the app's and hash the e-mail, a storage outage logs one line, not a traceback per attempt,
and behind trusted proxies (``CUSTREG_PROXY_FIX``) addresses are the clients'."""

from __future__ import annotations

import logging
import os

import pytest

from custreg_admin.admin import auth
from custreg_admin.extensions import db
from custreg_admin.services import users

from ..helpers import PASSWORD, csrf_token

REDIS_URL = os.environ.get("CUSTREG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ATTACKER, COLLEAGUE = "203.0.113.66", "198.51.100.10"


def _post(client, email: str, password: str, ip: str, **headers):
    client.environ_base["REMOTE_ADDR"] = ip
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers,
    )


def _fresh_app(app_factory, **config):
    app = app_factory(**config)
    with app.app_context():
        db.create_all()
    return app


def test_an_unknown_email_costs_the_same_password_check(ctx, make_user, monkeypatch):
    checked = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    assert users.authenticate("nobody@example.com", "whatever-password") is None
    assert len(checked) == 1 and checked[0].split("$")[0] == make_user().password_hash.split("$")[0]


def test_an_inactive_user_costs_the_same_password_check(ctx, make_user, monkeypatch):
    user = make_user(is_active=False)
    checked = []
    import custreg_admin.models.user as user_model

    real = user_model.check_password_hash
    monkeypatch.setattr(
        user_model, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    assert users.authenticate(user.email, PASSWORD) is None
    assert len(checked) == 1


def test_failures_from_one_address_never_lock_a_colleague_out(client, make_user):
    colleague = make_user("user")
    for _ in range(5):
        assert _post(client, colleague.email, "wrong-guess", ATTACKER).status_code == 401
    assert _post(client, colleague.email, "wrong-guess", ATTACKER).status_code == 429
    # the attacker's address is refused even with the right password...
    assert _post(client, colleague.email, PASSWORD, ATTACKER).status_code == 429
    # ...the colleague, from their own address, logs in at once
    own = client.application.test_client()
    assert _post(own, colleague.email, PASSWORD, COLLEAGUE).status_code == 302


def test_failures_from_many_addresses_slow_the_account_never_block_it(
    app_factory, make_user, monkeypatch
):
    app = _fresh_app(
        app_factory, CUSTREG_LOGIN_ACCOUNT_SLOWDOWN="3/minute", CUSTREG_LOGIN_SLOWDOWN_SECONDS=0.05
    )
    slept = []
    monkeypatch.setattr(auth.time, "sleep", slept.append)
    with app.app_context():
        from custreg_admin.services.users import create_user

        create_user("owner@example.com", "Owner", PASSWORD, "user")
    client = app.test_client()
    for n in range(3):
        assert _post(client, "owner@example.com", "guess", f"192.0.2.{n}").status_code == 401
    assert slept == []
    for n in range(3, 8):  # a botnet keeps guessing: every attempt waits, none is refused
        assert _post(client, "owner@example.com", "guess", f"192.0.2.{n}").status_code == 401
    assert slept == [0.05] * 5
    owner = app.test_client()
    assert _post(owner, "owner@example.com", PASSWORD, COLLEAGUE).status_code == 302
    assert slept == [0.05] * 6


def test_many_accounts_from_one_address_hit_the_per_address_cap(app_factory):
    client = _fresh_app(app_factory, CUSTREG_LOGIN_IP_RATE_LIMIT="6/minute").test_client()
    statuses = [_post(client, f"g{n}@example.com", "x", ATTACKER).status_code for n in range(8)]
    assert statuses == [401] * 6 + [429] * 2
    other = client.application.test_client()
    assert _post(other, "g0@example.com", "x", COLLEAGUE).status_code == 401


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({error})")
    return redis.Redis.from_url(REDIS_URL)


def test_limiter_keys_carry_the_apps_prefix_and_no_email(app_factory):
    server = _redis_or_skip()
    app = _fresh_app(app_factory, CUSTREG_RATELIMIT_STORAGE_URI=REDIS_URL)
    throttle = app.extensions["custreg_admin"].login_throttle
    email = "Secret.Person@example.com"
    before = set(server.keys("*"))
    assert _post(app.test_client(), email, "x", ATTACKER).status_code == 401
    made = [k.decode() for k in set(server.keys("*")) - before]
    try:
        assert len(made) == 3, made  # account+address, address, account
        assert all(throttle.prefix in key for key in made)
        assert throttle.prefix.startswith("custreg:")
        assert not any("secret" in key.lower() or "example.com" in key for key in made)
        assert sum(throttle.account_key(email) in key for key in made) == 2
        # another database, another prefix
        other = app_factory(CUSTREG_DATABASE_URL="sqlite://")
        assert other.extensions["custreg_admin"].login_throttle.prefix != throttle.prefix
    finally:
        if made:
            server.delete(*made)


def test_a_storage_outage_logs_one_line_not_a_traceback_per_attempt(app_factory, make_user, caplog):
    app = _fresh_app(app_factory, CUSTREG_RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    user = make_user("user")
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        statuses = [_post(client, user.email, "wrong", ATTACKER).status_code for _ in range(9)]
        assert _post(client, user.email, PASSWORD, ATTACKER).status_code == 302
    assert statuses == [401] * 9  # log-in by password alone while the storage is away
    ours = [r for r in caplog.records if "throttle" in r.getMessage()]
    assert len(ours) == 1 and ours[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info]


def test_behind_a_trusted_proxy_the_clients_addresses_count(app_factory, make_user):
    app = _fresh_app(app_factory, CUSTREG_PROXY_FIX=1)
    with app.app_context():
        from custreg_admin.services.users import create_user

        create_user("colleague@example.com", "Colleague", PASSWORD, "user")
    proxy = "10.0.0.2"
    client = app.test_client()
    for _ in range(6):
        _post(client, "colleague@example.com", "guess", proxy, **{"X-Forwarded-For": ATTACKER})
    refused = _post(
        client, "colleague@example.com", "guess", proxy, **{"X-Forwarded-For": ATTACKER}
    )
    assert refused.status_code == 429
    own = app.test_client()
    answer = _post(own, "colleague@example.com", PASSWORD, proxy, **{"X-Forwarded-For": COLLEAGUE})
    assert answer.status_code == 302
