"""row versions (no lost updates) and the rules the database enforces (triggers)

Customers, projects, invoices and proposals get ``version`` (SQLAlchemy's version_id_col).
The triggers of :mod:`custreg_admin.models.constraints` (one home for their SQL, also created by
``create_all``): a project with invoices or proposals keeps its customer, an invoice's project
belongs to the invoice's customer, market segments form no cycle.

Revision ID: 0007_versions_and_triggers
Revises: 0006_session_tokens
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from custreg_admin.models.constraints import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = '0007_versions_and_triggers'
down_revision = '0006_session_tokens'
branch_labels = None
depends_on = None

VERSIONED = ('custreg_customer', 'custreg_project', 'custreg_invoice', 'custreg_proposal')


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False)
            )
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
