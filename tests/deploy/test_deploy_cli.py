"""The command line of the installed package: tasks that sign nothing run without
``CUSTREG_SECRET_KEY`` (serving still refuses), a PostgreSQL URL without its driver is one line
naming the extra, and create-user and the login form share one e-mail rule."""

from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup, NoAppException

from custreg_admin import create_app
from custreg_admin.config import MissingDatabaseDriver
from custreg_admin.security import InsecureConfiguration

from ..helpers import csrf_token


@pytest.fixture
def production(monkeypatch, tmp_path):
    """A production shell: no secret key, no development mode, an empty SQLite database."""
    for name in ("CUSTREG_SECRET_KEY", "CUSTREG_ENV", "FLASK_DEBUG", "CUSTREG_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTREG_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CUSTREG_REGISTRIES", "")
    return tmp_path / "instance"


def _flask(*args: str, input: str | None = None):
    cli = FlaskGroup(create_app=create_app)
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_command_line_tasks_run_without_a_secret_key(production):
    assert "init-db" in _flask("custreg", "--help").output
    result = _flask("custreg", "init-db")
    assert result.exit_code == 0 and "newest schema" in result.output
    assert (production / "custreg.db").is_file()
    result = _flask(
        "custreg",
        "create-user",
        "--email",
        "it@example.com",
        "--name",
        "IT",
        "--password",
        "long-enough-password",
    )
    assert result.exit_code == 0 and "Created admin it@example.com." in result.output
    assert _flask("custreg", "plugins").exit_code == 0
    assert not (production / "secret_key").exists()  # nothing kept: the key was thrown away


def test_serving_in_production_still_refuses_without_a_secret_key(production):
    with pytest.raises(InsecureConfiguration, match="CUSTREG_SECRET_KEY is not set"):
        create_app()  # gunicorn 'custreg_admin:create_app()': no command line around it


def test_a_postgresql_url_without_the_driver_names_the_extra(production, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    config = {"CUSTREG_SECRET_KEY": "k", "CUSTREG_DATABASE_URL": "postgresql://db/custreg"}
    with pytest.raises(MissingDatabaseDriver) as caught:
        create_app(config)
    message = str(caught.value)
    assert "\n" not in message and "pip install 'custreg-admin[postgres]'" in message
    # under `flask` it is shown as one "Error: ..." line, not a traceback
    assert isinstance(caught.value, NoAppException)


SPECIAL_USE = "admin@e.test"


def test_create_user_and_the_login_form_refuse_the_same_addresses(app, client, production):
    refused = _flask(
        "custreg",
        "create-user",
        "--email",
        SPECIAL_USE,
        "--name",
        "A",
        "--password",
        "long-enough-password",
    )
    assert refused.exit_code != 0
    reason = "is not a valid e-mail address"
    assert f"{SPECIAL_USE} {reason}" in refused.output
    page = client.post(
        "/admin/login",
        data={"email": SPECIAL_USE, "password": "whatever", "csrf_token": csrf_token(client)},
    ).get_data(as_text=True)
    assert f"{SPECIAL_USE} {reason}" in page
