"""KPI rows per viewer: the per-customer month and day rows carry the customer's account owner
and the project's manager; their sums per (owner, manager, month or day, ...) are two new
tables, which a plain user's figures read. The per-customer rows are derived data: dropped and
filled again from custreg_kpi_total and the invoices.

Revision ID: 0018_kpi_viewers
Revises: 0017_kpi_days
Create Date: 2026-12-03 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_kpi_viewers'
down_revision = '0017_kpi_days'
branch_labels = None
depends_on = None

_SUMS = 'billed_cents, billed_count, invoice_count, cost_cents, cost_count'
_INTERNAL = 'CASE WHEN t.status_id IS NULL THEN COALESCE(p.is_internal, {false}) ELSE {false} END'

_FILL_CUSTOMER_MONTH = f"""
INSERT INTO custreg_kpi_customer_month
       (customer_id, month, status_id, is_internal, owner_id, manager_id, {_SUMS})
SELECT t.customer_id, t.month, COALESCE(t.status_id, 0), {_INTERNAL},
       COALESCE(c.owner_id, 0), COALESCE(p.manager_id, 0),
       SUM(t.billed_cents), SUM(t.billed_count), SUM(t.invoice_count), SUM(t.cost_cents),
       SUM(t.cost_count)
  FROM custreg_kpi_total t
  LEFT JOIN custreg_project p ON p.id = t.project_id
  LEFT JOIN custreg_customer c ON c.id = t.customer_id
 GROUP BY t.customer_id, t.month, COALESCE(t.status_id, 0), {_INTERNAL},
       COALESCE(c.owner_id, 0), COALESCE(p.manager_id, 0)
"""

_FILL_CUSTOMER_DAY = """
INSERT INTO custreg_kpi_customer_day
       (customer_id, owner_id, manager_id, day, status_id, billed_cents, billed_count)
SELECT i.customer_id, COALESCE(c.owner_id, 0), COALESCE(p.manager_id, 0), i.date, i.status_id,
       SUM(CAST(ROUND(i.total * 100) AS BIGINT)), COUNT(*)
  FROM custreg_invoice i
  LEFT JOIN custreg_customer c ON c.id = i.customer_id
  LEFT JOIN custreg_project p ON p.id = i.project_id
 WHERE {trim}(i.number, ' ' || {char}(9) || {char}(13) || {char}(10)) <> ''
 GROUP BY i.customer_id, COALESCE(c.owner_id, 0), COALESCE(p.manager_id, 0), i.date, i.status_id
"""

_FILL_VIEWER_MONTH = f"""
INSERT INTO custreg_kpi_viewer_month
       (owner_id, manager_id, month, status_id, is_internal, {_SUMS})
SELECT owner_id, manager_id, month, status_id, is_internal, SUM(billed_cents),
       SUM(billed_count), SUM(invoice_count), SUM(cost_cents), SUM(cost_count)
  FROM custreg_kpi_customer_month
 GROUP BY owner_id, manager_id, month, status_id, is_internal
"""

_FILL_VIEWER_DAY = """
INSERT INTO custreg_kpi_viewer_day (owner_id, manager_id, day, status_id, billed_cents, billed_count)
SELECT owner_id, manager_id, day, status_id, SUM(billed_cents), SUM(billed_count)
  FROM custreg_kpi_customer_day
 GROUP BY owner_id, manager_id, day, status_id
"""


def _month_sums():
    return [
        sa.Column('billed_cents', sa.BigInteger(), nullable=False),
        sa.Column('billed_count', sa.Integer(), nullable=False),
        sa.Column('invoice_count', sa.Integer(), nullable=False),
        sa.Column('cost_cents', sa.BigInteger(), nullable=False),
        sa.Column('cost_count', sa.Integer(), nullable=False),
    ]


def _day_sums():
    return [
        sa.Column('billed_cents', sa.BigInteger(), nullable=False),
        sa.Column('billed_count', sa.Integer(), nullable=False),
    ]


def _viewer():
    return [
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('manager_id', sa.Integer(), nullable=False),
    ]


def _create_customer_tables(viewers):
    extra = _viewer() if viewers else []
    op.create_table(
        'custreg_kpi_customer_month',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('is_internal', sa.Boolean(), nullable=False),
        *extra,
        *_month_sums(),
        sa.PrimaryKeyConstraint('id'),
    )
    extra = _viewer() if viewers else []
    op.create_table(
        'custreg_kpi_customer_day',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        *extra,
        *_day_sums(),
        sa.PrimaryKeyConstraint('id'),
    )


def _drop_customer_tables():
    op.drop_index('ix_custreg_kpi_customer_month_customer', table_name='custreg_kpi_customer_month')
    op.drop_table('custreg_kpi_customer_month')
    op.drop_index('ix_custreg_kpi_customer_day_customer', table_name='custreg_kpi_customer_day')
    op.drop_table('custreg_kpi_customer_day')


def _index_customer_tables():
    op.create_index(
        'ix_custreg_kpi_customer_month_customer',
        'custreg_kpi_customer_month',
        ['customer_id', 'month'],
    )
    op.create_index(
        'ix_custreg_kpi_customer_day_customer', 'custreg_kpi_customer_day', ['customer_id', 'day']
    )


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    false = '0' if sqlite else 'false'
    _drop_customer_tables()
    _create_customer_tables(viewers=True)
    op.create_table(
        'custreg_kpi_viewer_month',
        sa.Column('id', sa.Integer(), nullable=False),
        *_viewer(),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('is_internal', sa.Boolean(), nullable=False),
        *_month_sums(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint(
            'owner_id', 'manager_id', 'month', 'status_id', 'is_internal',
            name='uq_custreg_kpi_viewer_month_key',
        ),
    )
    op.create_index(
        'ix_custreg_kpi_viewer_month_manager', 'custreg_kpi_viewer_month', ['manager_id', 'month']
    )
    op.create_table(
        'custreg_kpi_viewer_day',
        sa.Column('id', sa.Integer(), nullable=False),
        *_viewer(),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        *_day_sums(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint(
            'owner_id', 'manager_id', 'day', 'status_id', name='uq_custreg_kpi_viewer_day_key'
        ),
    )
    op.create_index(
        'ix_custreg_kpi_viewer_day_manager', 'custreg_kpi_viewer_day', ['manager_id', 'day']
    )
    op.execute(_FILL_CUSTOMER_MONTH.format(false=false))
    op.execute(_FILL_CUSTOMER_DAY.format(trim='trim' if sqlite else 'btrim',
                                         char='char' if sqlite else 'chr'))
    _index_customer_tables()
    op.execute(_FILL_VIEWER_MONTH)
    op.execute(_FILL_VIEWER_DAY)
    if not sqlite:
        for table in ('custreg_kpi_customer_month', 'custreg_kpi_customer_day',
                      'custreg_kpi_viewer_month', 'custreg_kpi_viewer_day'):
            op.execute(f'ANALYZE {table}')


_REFILL_CUSTOMER_MONTH = f"""
INSERT INTO custreg_kpi_customer_month (customer_id, month, status_id, is_internal, {_SUMS})
SELECT customer_id, month, status_id, is_internal, SUM(billed_cents), SUM(billed_count),
       SUM(invoice_count), SUM(cost_cents), SUM(cost_count)
  FROM custreg_kpi_customer_month_old
 GROUP BY customer_id, month, status_id, is_internal
"""


def downgrade():
    op.drop_index('ix_custreg_kpi_viewer_day_manager', table_name='custreg_kpi_viewer_day')
    op.drop_table('custreg_kpi_viewer_day')
    op.drop_index('ix_custreg_kpi_viewer_month_manager', table_name='custreg_kpi_viewer_month')
    op.drop_table('custreg_kpi_viewer_month')
    op.drop_index('ix_custreg_kpi_customer_month_customer', table_name='custreg_kpi_customer_month')
    op.rename_table('custreg_kpi_customer_month', 'custreg_kpi_customer_month_old')
    op.drop_index('ix_custreg_kpi_customer_day_customer', table_name='custreg_kpi_customer_day')
    op.rename_table('custreg_kpi_customer_day', 'custreg_kpi_customer_day_old')
    _create_customer_tables(viewers=False)
    op.execute(_REFILL_CUSTOMER_MONTH)
    op.execute(
        'INSERT INTO custreg_kpi_customer_day (customer_id, day, status_id, billed_cents,'
        ' billed_count) SELECT customer_id, day, status_id, SUM(billed_cents), SUM(billed_count)'
        ' FROM custreg_kpi_customer_day_old GROUP BY customer_id, day, status_id'
    )
    op.drop_table('custreg_kpi_customer_month_old')
    op.drop_table('custreg_kpi_customer_day_old')
    _index_customer_tables()
