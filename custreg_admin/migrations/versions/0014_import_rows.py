"""stored import reviews: custreg_import_run (the validation job) and custreg_import_row (each
row's result) (issue #18, scale)

Plain CREATE TABLE: no existing table changes.

Revision ID: 0014_import_rows
Revises: 0013_new_customer_defaults
Create Date: 2026-12-03 16:10:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_import_rows'
down_revision = '0013_new_customer_defaults'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'custreg_import_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['custreg_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_custreg_import_run_user_id', 'custreg_import_run', ['user_id'])
    op.create_table(
        'custreg_import_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('plan_no', sa.Integer(), nullable=False),
        sa.Column('raw', sa.JSON(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('has_errors', sa.Boolean(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('customer', sa.String(length=320), nullable=True),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('notes', sa.JSON(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=True),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['custreg_import_run.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_custreg_import_row_run_line', 'custreg_import_row', ['run_id', 'line'])
    op.create_index('ix_custreg_import_row_run_plan', 'custreg_import_row', ['run_id', 'plan_no'])


def downgrade():
    op.drop_table('custreg_import_row')
    op.drop_table('custreg_import_run')
