"""customer registry status (active, liquidation, bankrupt, ceased)

Revision ID: 0004_registry_status
Revises: 0003_history
Create Date: 2026-11-27 10:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_registry_status'
down_revision = '0003_history'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('custreg_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registry_status', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_custreg_customer_registry_status'), ['registry_status'], unique=False)


def downgrade():
    with op.batch_alter_table('custreg_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custreg_customer_registry_status'))
        batch_op.drop_column('registry_status')
