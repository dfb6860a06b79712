"""Alembic environment of custreg-admin.

Runs inside a Flask app: ``flask custreg init-db`` (``services.setup.upgrade_schema``, with the
module's own Alembic configuration, whatever ``Migrate`` the app has) or, on the stand-alone app,
Flask-Migrate's ``flask db``. The connection is the module's ``db.engine``: the host's engine when
the host passed its ``db``, else the module's own database. It only ever looks at the module's
own tables (``custreg_*``) and keeps its revision in ``custreg_alembic_version``, so it shares a
database with a host app's tables and the host's own migrations (``alembic_version``).
"""

import logging

from alembic import context
from flask import current_app

from custreg_admin import models  # noqa: F401  (registers every table on the metadata)
from custreg_admin.extensions import TABLE_PREFIX, VERSION_TABLE, db

logger = logging.getLogger("alembic.env")
config = context.config


def include_name(name, type_, parent_names):
    if type_ == "table":
        return name.startswith(TABLE_PREFIX)
    return True


def _configure_args() -> dict:
    args = {
        "target_metadata": db.metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "compare_type": True,
        "render_as_batch": True,
    }
    migrate_state = current_app.extensions.get("migrate")  # the host's Migrate is not ours
    if migrate_state is not None and getattr(migrate_state, "db", None) is db:
        for key, value in migrate_state.configure_args.items():
            args.setdefault(key, value)
    return args


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url), literal_binds=True, **_configure_args())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    args = _configure_args()
    args.setdefault("process_revision_directives", process_revision_directives)
    with db.engine.connect() as connection:
        context.configure(connection=connection, **args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
