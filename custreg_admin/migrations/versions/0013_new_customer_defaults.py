"""the status new customers start with: custreg_customer_status.is_default_for_new (issue #17)

The seeded "Active" (in whichever of the module's languages it was seeded) becomes the default.

Revision ID: 0013_new_customer_defaults
Revises: 0012_kpi_totals
Create Date: 2026-12-03 14:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_new_customer_defaults'
down_revision = '0012_kpi_totals'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN, never batch mode: on SQLite batch mode copies the table and drops the
    # old one, and with foreign keys on that sets every customer's status to NULL
    op.add_column(
        'custreg_customer_status',
        sa.Column('is_default_for_new', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        "UPDATE custreg_customer_status SET is_default_for_new = true WHERE id = ("
        "SELECT min(id) FROM custreg_customer_status "
        "WHERE name IN ('Active', 'Aktiivinen', 'Aktiv'))"
    )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':  # SQLite 3.35+: no table copy (see upgrade)
        op.execute('ALTER TABLE custreg_customer_status DROP COLUMN is_default_for_new')
    else:
        op.drop_column('custreg_customer_status', 'is_default_for_new')
