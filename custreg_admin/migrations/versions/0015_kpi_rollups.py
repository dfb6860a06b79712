"""KPI rollups: the aggregates per customer and month (no project key) and the company's totals
per month, filled from custreg_kpi_total

Revision ID: 0015_kpi_rollups
Revises: 0014_import_rows
Create Date: 2026-12-03 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_kpi_rollups'
down_revision = '0014_import_rows'
branch_labels = None
depends_on = None

_SUMS = 'billed_cents, billed_count, invoice_count, cost_cents, cost_count'

_FILL_CUSTOMER_MONTH = f"""
INSERT INTO custreg_kpi_customer_month (customer_id, month, status_id, is_internal, {_SUMS})
SELECT t.customer_id, t.month, COALESCE(t.status_id, 0),
       CASE WHEN t.status_id IS NULL THEN COALESCE(p.is_internal, {{false}}) ELSE {{false}} END,
       SUM(t.billed_cents), SUM(t.billed_count), SUM(t.invoice_count), SUM(t.cost_cents),
       SUM(t.cost_count)
  FROM custreg_kpi_total t
  LEFT JOIN custreg_project p ON p.id = t.project_id AND t.status_id IS NULL
 GROUP BY t.customer_id, t.month, COALESCE(t.status_id, 0),
       CASE WHEN t.status_id IS NULL THEN COALESCE(p.is_internal, {{false}}) ELSE {{false}} END
"""

_FILL_MONTH = f"""
INSERT INTO custreg_kpi_month (month, status_id, is_internal, {_SUMS})
SELECT month, status_id, is_internal, SUM(billed_cents), SUM(billed_count),
       SUM(invoice_count), SUM(cost_cents), SUM(cost_count)
  FROM custreg_kpi_customer_month
 GROUP BY month, status_id, is_internal
"""


def _sums():
    return [
        sa.Column('billed_cents', sa.BigInteger(), nullable=False),
        sa.Column('billed_count', sa.Integer(), nullable=False),
        sa.Column('invoice_count', sa.Integer(), nullable=False),
        sa.Column('cost_cents', sa.BigInteger(), nullable=False),
        sa.Column('cost_count', sa.Integer(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'custreg_kpi_customer_month',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('is_internal', sa.Boolean(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'custreg_kpi_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('is_internal', sa.Boolean(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', 'status_id', 'is_internal', name='uq_custreg_kpi_month_key'),
    )
    false = '0' if op.get_bind().dialect.name == 'sqlite' else 'false'
    op.execute(_FILL_CUSTOMER_MONTH.format(false=false))
    op.create_index(
        'ix_custreg_kpi_customer_month_customer',
        'custreg_kpi_customer_month',
        ['customer_id', 'month'],
    )
    op.execute(_FILL_MONTH)


def downgrade():
    op.drop_table('custreg_kpi_month')
    op.drop_index('ix_custreg_kpi_customer_month_customer', table_name='custreg_kpi_customer_month')
    op.drop_table('custreg_kpi_customer_month')
