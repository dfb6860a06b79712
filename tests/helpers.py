"""Helpers for tests: CSRF tokens, logging in, which database runs."""

from __future__ import annotations

import os
import re

from flask.testing import FlaskClient

from custreg_admin.models import User

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def is_postgres() -> bool:
    return bool(os.environ.get("CUSTREG_TEST_DATABASE_URL"))


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """The CSRF token of the client's session, read from a rendered form."""
    response = client.get(path)
    found = _CSRF.search(response.get_data(as_text=True))
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, user: User, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/admin/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
