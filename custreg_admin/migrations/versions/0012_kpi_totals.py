"""KPI aggregates: sums per customer, project, invoice status and month, backfilled

Revision ID: 0012_kpi_totals
Revises: 0011_customer_keys
Create Date: 2026-12-03 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_kpi_totals'
down_revision = '0011_customer_keys'
branch_labels = None
depends_on = None

_BACKFILL = """
INSERT INTO custreg_kpi_total (customer_id, project_id, status_id, month, billed_cents,
    billed_count, invoice_count, cost_cents, cost_count)
SELECT i.customer_id, i.project_id, i.status_id, {invoice_month},
       COALESCE(SUM(CASE WHEN {trim}(i.number, ' ' || char(9) || char(13) || char(10)) <> ''
                         THEN CAST(ROUND(i.total * 100) AS BIGINT) ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN {trim}(i.number, ' ' || char(9) || char(13) || char(10)) <> ''
                         THEN 1 ELSE 0 END), 0),
       COUNT(*), 0, 0
  FROM custreg_invoice i
 GROUP BY i.customer_id, i.project_id, i.status_id, {invoice_month}
UNION ALL
SELECT p.customer_id, c.project_id, NULL, {cost_month}, 0, 0, 0,
       SUM(CAST(ROUND(c.amount * 100) AS BIGINT)), COUNT(*)
  FROM custreg_cost c JOIN custreg_project p ON p.id = c.project_id
 GROUP BY p.customer_id, c.project_id, {cost_month}
"""


def _month(column, dialect):
    if dialect == 'sqlite':
        return (f"(CAST(strftime('%Y', {column}) AS INTEGER) * 12"
                f" + CAST(strftime('%m', {column}) AS INTEGER) - 1)")
    return f"CAST(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}) - 1 AS INTEGER)"


def upgrade():
    op.create_table(
        'custreg_kpi_total',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('status_id', sa.Integer(), nullable=True),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('billed_cents', sa.BigInteger(), nullable=False),
        sa.Column('billed_count', sa.Integer(), nullable=False),
        sa.Column('invoice_count', sa.Integer(), nullable=False),
        sa.Column('cost_cents', sa.BigInteger(), nullable=False),
        sa.Column('cost_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('custreg_kpi_total', schema=None) as batch_op:
        batch_op.create_index('ix_custreg_kpi_total_customer_month', ['customer_id', 'month'], unique=False)
        batch_op.create_index('ix_custreg_kpi_total_month_status', ['month', 'status_id'], unique=False)
        batch_op.create_index('ix_custreg_kpi_total_project', ['project_id'], unique=False)
    dialect = op.get_bind().dialect.name
    trim = 'trim' if dialect == 'sqlite' else 'btrim'
    sql = _BACKFILL.format(
        invoice_month=_month('i.date', dialect), cost_month=_month('c.date', dialect), trim=trim
    )
    if dialect != 'sqlite':
        sql = sql.replace('char(', 'chr(')
    op.execute(sql)


def downgrade():
    with op.batch_alter_table('custreg_kpi_total', schema=None) as batch_op:
        batch_op.drop_index('ix_custreg_kpi_total_project')
        batch_op.drop_index('ix_custreg_kpi_total_month_status')
        batch_op.drop_index('ix_custreg_kpi_total_customer_month')
    op.drop_table('custreg_kpi_total')
