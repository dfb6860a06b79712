"""mass updates: batches and their per-customer changes

Revision ID: 0005_mass_updates
Revises: 0004_registry_status
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_mass_updates'
down_revision = '0004_registry_status'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custreg_mass_update_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('value_label', sa.Text(), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('selection_label', sa.Text(), nullable=False),
    sa.Column('selected_count', sa.Integer(), nullable=False),
    sa.Column('changed_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('undo_of_id', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_by_name', sa.String(length=200), nullable=True),
    sa.Column('plan_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['undo_of_id'], ['custreg_mass_update_batch.id'], name=op.f('fk_custreg_mass_update_batch_undo_of_id_custreg_mass_update_batch'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['undone_by_id'], ['custreg_user.id'], name=op.f('fk_custreg_mass_update_batch_undone_by_id_custreg_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['custreg_user.id'], name=op.f('fk_custreg_mass_update_batch_user_id_custreg_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_mass_update_batch')),
    sa.UniqueConstraint('plan_key', name=op.f('uq_custreg_mass_update_batch_plan_key'))
    )
    with op.batch_alter_table('custreg_mass_update_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custreg_mass_update_batch_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_mass_update_batch_undo_of_id'), ['undo_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_mass_update_batch_undone_by_id'), ['undone_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_mass_update_batch_user_id'), ['user_id'], unique=False)

    op.create_table('custreg_mass_update_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('before_value', sa.Integer(), nullable=True),
    sa.Column('after_value', sa.Integer(), nullable=True),
    sa.Column('skipped_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['custreg_mass_update_batch.id'], name=op.f('fk_custreg_mass_update_change_batch_id_custreg_mass_update_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['custreg_customer.id'], name=op.f('fk_custreg_mass_update_change_customer_id_custreg_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_mass_update_change'))
    )
    with op.batch_alter_table('custreg_mass_update_change', schema=None) as batch_op:
        batch_op.create_index('ix_custreg_mass_update_change_batch_customer', ['batch_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_mass_update_change_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('custreg_mass_update_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custreg_mass_update_change_customer_id'))
        batch_op.drop_index('ix_custreg_mass_update_change_batch_customer')

    op.drop_table('custreg_mass_update_change')
    with op.batch_alter_table('custreg_mass_update_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custreg_mass_update_batch_user_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_mass_update_batch_undone_by_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_mass_update_batch_undo_of_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_mass_update_batch_at'))

    op.drop_table('custreg_mass_update_batch')
