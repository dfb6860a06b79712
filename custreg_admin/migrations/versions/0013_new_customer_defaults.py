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
    with op.batch_alter_table('custreg_customer_status') as batch_op:
        batch_op.add_column(
            sa.Column('is_default_for_new', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE custreg_customer_status SET is_default_for_new = true WHERE id = ("
        "SELECT min(id) FROM custreg_customer_status "
        "WHERE name IN ('Active', 'Aktiivinen', 'Aktiv'))"
    )


def downgrade():
    with op.batch_alter_table('custreg_customer_status') as batch_op:
        batch_op.drop_column('is_default_for_new')
