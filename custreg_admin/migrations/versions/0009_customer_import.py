"""customer import: batches, their per-customer changes, saved column mappings

Revision ID: 0009_customer_import
Revises: 0008_complete_history
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_customer_import'
down_revision = '0008_complete_history'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custreg_import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('settings_created', sa.JSON(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_by_name', sa.String(length=200), nullable=True),
    sa.Column('undo_report', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['undone_by_id'], ['custreg_user.id'], name=op.f('fk_custreg_import_batch_undone_by_id_custreg_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['custreg_user.id'], name=op.f('fk_custreg_import_batch_user_id_custreg_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_import_batch'))
    )
    with op.batch_alter_table('custreg_import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custreg_import_batch_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_import_batch_undone_by_id'), ['undone_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_import_batch_user_id'), ['user_id'], unique=False)

    op.create_table('custreg_import_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=320), nullable=False),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('added', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['custreg_import_batch.id'], name=op.f('fk_custreg_import_change_batch_id_custreg_import_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['custreg_customer.id'], name=op.f('fk_custreg_import_change_customer_id_custreg_customer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_import_change'))
    )
    with op.batch_alter_table('custreg_import_change', schema=None) as batch_op:
        batch_op.create_index('ix_custreg_import_change_batch_customer', ['batch_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_import_change_customer_id'), ['customer_id'], unique=False)

    op.create_table('custreg_import_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['custreg_user.id'], name=op.f('fk_custreg_import_mapping_user_id_custreg_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_import_mapping')),
    sa.UniqueConstraint('name', name=op.f('uq_custreg_import_mapping_name'))
    )
    with op.batch_alter_table('custreg_import_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custreg_import_mapping_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('custreg_import_mapping')
    op.drop_table('custreg_import_change')
    op.drop_table('custreg_import_batch')
