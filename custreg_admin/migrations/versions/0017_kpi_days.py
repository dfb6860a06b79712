"""KPI day rows: numbered invoices per customer, day and invoice status, and the company's
totals per day and status (the month-to-date comparison), filled from the invoices

Revision ID: 0017_kpi_days
Revises: 0016_kpi_flags
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_kpi_days'
down_revision = '0016_kpi_flags'
branch_labels = None
depends_on = None

_FILL_CUSTOMER_DAY = """
INSERT INTO custreg_kpi_customer_day (customer_id, day, status_id, billed_cents, billed_count)
SELECT customer_id, date, status_id, SUM(CAST(ROUND(total * 100) AS BIGINT)), COUNT(*)
  FROM custreg_invoice
 WHERE {trim}(number, ' ' || {char}(9) || {char}(13) || {char}(10)) <> ''
 GROUP BY customer_id, date, status_id
"""

_FILL_DAY = """
INSERT INTO custreg_kpi_day (day, status_id, billed_cents, billed_count)
SELECT day, status_id, SUM(billed_cents), SUM(billed_count)
  FROM custreg_kpi_customer_day
 GROUP BY day, status_id
"""


def _sums():
    return [
        sa.Column('billed_cents', sa.BigInteger(), nullable=False),
        sa.Column('billed_count', sa.Integer(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'custreg_kpi_customer_day',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'custreg_kpi_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day', 'status_id', name='uq_custreg_kpi_day_key'),
    )
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.execute(_FILL_CUSTOMER_DAY.format(trim='trim' if sqlite else 'btrim',
                                         char='char' if sqlite else 'chr'))
    op.create_index(
        'ix_custreg_kpi_customer_day_customer', 'custreg_kpi_customer_day', ['customer_id', 'day']
    )
    op.execute(_FILL_DAY)
    if not sqlite:
        op.execute('ANALYZE custreg_kpi_customer_day')
        op.execute('ANALYZE custreg_kpi_day')


def downgrade():
    op.drop_table('custreg_kpi_day')
    op.drop_index('ix_custreg_kpi_customer_day_customer', table_name='custreg_kpi_customer_day')
    op.drop_table('custreg_kpi_customer_day')
