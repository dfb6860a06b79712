"""saved reports

Revision ID: 0002_reports
Revises: 0001
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_reports'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custreg_saved_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('report_type', sa.String(length=30), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('sort', sa.String(length=100), nullable=True),
    sa.Column('csv_delimiter', sa.String(length=1), nullable=True),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['custreg_user.id'], name=op.f('fk_custreg_saved_report_owner_id_custreg_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custreg_saved_report')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_custreg_saved_report_owner_id'))
    )
    with op.batch_alter_table('custreg_saved_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custreg_saved_report_is_shared'), ['is_shared'], unique=False)
        batch_op.create_index(batch_op.f('ix_custreg_saved_report_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('custreg_saved_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custreg_saved_report_owner_id'))
        batch_op.drop_index(batch_op.f('ix_custreg_saved_report_is_shared'))

    op.drop_table('custreg_saved_report')
