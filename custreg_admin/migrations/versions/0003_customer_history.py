"""customer history

Revision ID: 0003_history
Revises: 0002_reports
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_history'
down_revision = '0002_reports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custreg_customer_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('related_customer_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['custreg_customer.id'], name=op.f('fk_custreg_customer_event_customer_id_custreg_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_customer_id'], ['custreg_customer.id'], name=op.f('fk_custreg_customer_event_related_customer_id_custreg_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['custreg_user.id'], name=op.f('fk_custreg_customer_event_user_id_custreg_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_customer_event'))
    )
    with op.batch_alter_table('custreg_customer_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custreg_customer_event_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_customer_event_related_customer_id'), ['related_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_customer_event_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('custreg_customer_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custreg_customer_event_user_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_customer_event_related_customer_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_customer_event_customer_id'))

    op.drop_table('custreg_customer_event')
