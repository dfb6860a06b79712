"""Embedding without side effects: a host user gets a row in the module's users table only when
they first use the module and the ``access`` hook admits them; the example host's secret."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from custreg_admin.extensions import db
from custreg_admin.models import User

from ..deploy.test_embedding import _example_module, host, host_factory, host_login  # noqa: F401 - fixtures


def _rows(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.email).order_by(User.email)))


def test_host_pages_leave_no_row_for_anyone(host):  # noqa: F811
    for email in ("boss@host.example", "seller@host.example", "intern@host.example"):
        client = host.test_client()
        host_login(client, email)
        assert client.get("/admin/").status_code == 200  # the host's admin, with its menu
        assert client.get("/admin/host_user/").status_code == 200
    assert _rows(host) == []


def test_the_module_menu_shows_on_host_pages_before_the_first_visit(host):  # noqa: F811
    client = host.test_client()
    host_login(client, "seller@host.example")
    page = client.get("/admin/").get_data(as_text=True)
    assert "/admin/customers/" in page
    assert _rows(host) == []


def test_a_refused_host_user_leaves_no_row(host):  # noqa: F811
    client = host.test_client()
    host_login(client, "intern@host.example")  # uses_crm=False: the access hook refuses
    for path in ("/admin/customers/", "/admin/dashboard/", "/admin/reports/"):
        assert client.get(path).status_code == 403, path
    assert _rows(host) == []
    with host.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_admitted_host_user_gets_a_row_on_first_use(host):  # noqa: F811
    client = host.test_client()
    host_login(client, "seller@host.example")
    assert client.get("/admin/customers/").status_code == 200
    assert _rows(host) == ["seller@host.example"]
    assert client.get("/admin/customers/").status_code == 200
    assert _rows(host) == ["seller@host.example"]


def test_the_example_host_refuses_a_default_secret_in_production(monkeypatch, tmp_path):
    module = _example_module()
    monkeypatch.delenv("HOST_SECRET_KEY", raising=False)
    monkeypatch.delenv("HOST_ENV", raising=False)
    with pytest.raises(RuntimeError, match="HOST_SECRET_KEY"):
        module.create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}"})
    monkeypatch.setenv("HOST_SECRET_KEY", "from-the-environment")
    app = module.create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}"})
    assert app.config["SECRET_KEY"] == "from-the-environment"
