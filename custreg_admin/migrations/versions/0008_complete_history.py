"""complete history: which row an entry is about, filter by kind

Revision ID: 0008_complete_history
Revises: 0007_versions_and_triggers
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_complete_history'
down_revision = '0007_versions_and_triggers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('custreg_customer_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entity_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('entity_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_custreg_customer_event_customer_kind', ['customer_id', 'kind'], unique=False)
        batch_op.create_index('ix_custreg_customer_event_entity', ['entity_type', 'entity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('custreg_customer_event', schema=None) as batch_op:
        batch_op.drop_index('ix_custreg_customer_event_entity')
        batch_op.drop_index('ix_custreg_customer_event_customer_kind')
        batch_op.drop_column('entity_id')
        batch_op.drop_column('entity_type')
