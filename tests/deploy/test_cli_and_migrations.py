"""`flask custreg init-db` and `create-user`; migrations match the models on both databases."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from custreg_admin import create_app
from custreg_admin.config import sqlalchemy_url
from custreg_admin.extensions import db
from custreg_admin.models import CustomerStatus, User
from custreg_admin.services.setup import upgrade_schema


@pytest.fixture
def fresh_database_url(tmp_path):
    """An empty database: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    pg = os.environ.get("CUSTREG_TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"custreg_migr_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(sqlalchemy_url(pg), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture
def fresh_app(fresh_database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "CUSTREG_DATABASE_URL": fresh_database_url,
            "CUSTREG_SECRET_KEY": "k",
            "CUSTREG_REGISTRIES": "",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_init_db_migrates_an_empty_database_and_seeds_it(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["custreg", "init-db"])
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    with fresh_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert "custreg_alembic_version" in tables and "alembic_version" not in tables
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        statuses = db.session.scalars(select(CustomerStatus.name)).all()
        assert sorted(statuses) == ["Active", "Passive"]
        # the migrated schema is exactly what the models declare
        with db.engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_name": lambda name, type_, parents: (
                        type_ != "table" or name.startswith("custreg_")
                    ),
                    # PostgreSQL's trigram index (ddl_if): autogenerate would add it everywhere
                    "include_object": lambda obj, name, type_, reflected, other: (
                        postgres or not (type_ == "index" and name.endswith("_trgm"))
                    ),
                    "compare_type": True,
                    "version_table": "custreg_alembic_version",
                },
            )
            assert compare_metadata(context, db.metadata) == []
    again = runner.invoke(args=["custreg", "init-db"])
    assert again.exit_code == 0 and "0 default settings added" in again.output


def test_init_db_leaves_other_tables_alone(fresh_app):
    with fresh_app.app_context(), db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE host_thing (id INTEGER PRIMARY KEY, label TEXT)"))
        connection.execute(text("INSERT INTO host_thing (id, label) VALUES (1, 'keep me')"))
    result = fresh_app.test_cli_runner().invoke(args=["custreg", "init-db"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT label FROM host_thing")).scalar() == "keep me"


def test_create_user_command(fresh_app):
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["custreg", "init-db"])
    result = runner.invoke(
        args=["custreg", "create-user", "--email", "Boss@Example.com", "--name", "Boss"],
        input="s3cret-password\ns3cret-password\n",
    )
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.is_active) == ("boss@example.com", "admin", True)
        assert user.check_password("s3cret-password")
    duplicate = runner.invoke(
        args=[
            "custreg",
            "create-user",
            "--email",
            "boss@example.com",
            "--name",
            "Again",
            "--password",
            "another-password",
        ],
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    short = runner.invoke(
        args=[
            "custreg",
            "create-user",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--password",
            "short",
        ],
    )
    assert short.exit_code != 0 and "at least 8 characters" in short.output


def test_the_migrated_database_enforces_the_rules_itself(fresh_app):
    """The migrations create the triggers that ``create_all`` creates: a raw write cannot move
    an invoiced project or make a market segment its own ancestor."""
    from sqlalchemy.exc import IntegrityError

    assert fresh_app.test_cli_runner().invoke(args=["custreg", "init-db"]).exit_code == 0
    setup = (
        "INSERT INTO custreg_customer (id, number, name, country, is_active) "
        "VALUES (1, 1, 'A', 'FI', true), (2, 2, 'B', 'FI', true)",
        "INSERT INTO custreg_project (id, customer_id, name, is_internal, kind, sales_status, "
        "is_closed) VALUES (1, 1, 'P', false, 'project', 'won', false)",
        "INSERT INTO custreg_invoice (customer_id, project_id, date, status_id, total) "
        "SELECT 1, 1, '2026-01-01', MIN(id), 1 FROM custreg_invoice_status",
        "INSERT INTO custreg_market_segment (id, name) VALUES (1, 'A'), (2, 'B')",
        "UPDATE custreg_market_segment SET parent_id = 1 WHERE id = 2",
    )
    with fresh_app.app_context(), db.engine.begin() as connection:
        for statement in setup:
            connection.execute(text(statement))
    refused = (
        "UPDATE custreg_project SET customer_id = 2 WHERE id = 1",
        "UPDATE custreg_market_segment SET parent_id = 2 WHERE id = 1",
    )
    for statement in refused:
        with (
            fresh_app.app_context(),
            db.engine.begin() as connection,
            pytest.raises(IntegrityError, match="custreg:"),
        ):
            connection.execute(text(statement))
    with fresh_app.app_context(), db.engine.connect() as connection:
        versions = connection.execute(text("SELECT version FROM custreg_project")).scalars().all()
        assert versions == [1]  # the server default of the new column


def test_upgrading_a_database_with_customers_keeps_what_they_refer_to(fresh_app):
    """A database with data at an older revision, upgraded to the newest: every customer keeps
    its status, owner, industry, invoice template and VAT rate (on SQLite a migration that copies
    a referenced table in batch mode would set them all to NULL)."""
    references = ("status_id", "owner_id", "industry_id", "invoice_template_id", "vat_rate_id")
    with fresh_app.app_context():
        upgrade_schema("0008_complete_history")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO custreg_user (id, email, name, password_hash, role, is_active,"
                " can_view_all_invoices, session_token)"
                " VALUES (1, 'a@example.com', 'A', 'x', 'admin', true, false, 't')",
                "INSERT INTO custreg_customer_status (id, name) VALUES (1, 'Active')",
                "INSERT INTO custreg_industry (id, code, name) VALUES (1, '62010', 'IT')",
                "INSERT INTO custreg_invoice_template (id, name, language) VALUES (1, 'T', 'fi')",
                "INSERT INTO custreg_vat_rate (id, name, percent, country)"
                " VALUES (1, 'General', 25.5, 'FI')",
                "INSERT INTO custreg_customer (id, number, name, country, is_active,"
                f" {', '.join(references)}) VALUES (1, 1001, 'Oy', 'FI', true, 1, 1, 1, 1, 1)",
            ):
                connection.execute(text(statement))
        upgrade_schema("head")
        with db.engine.connect() as connection:
            row = connection.execute(
                text(f"SELECT {', '.join(references)} FROM custreg_customer")
            ).one()
        assert tuple(row) == (1, 1, 1, 1, 1)
        status = db.session.get(CustomerStatus, 1)
        assert status.is_default_for_new  # the seeded "Active" became the default
