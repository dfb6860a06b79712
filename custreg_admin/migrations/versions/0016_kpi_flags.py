"""KPI flags: whether a customer has open work and whether it is a prospect (apart from its own
active flag), with partial indexes for the two KPI counts; filled from the projects and the
KPI aggregates

Revision ID: 0016_kpi_flags
Revises: 0015_kpi_rollups
Create Date: 2026-12-03 18:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_kpi_flags'
down_revision = '0015_kpi_rollups'
branch_labels = None
depends_on = None

# The definitions of custreg_admin.rules.open_work (KPI_FLAGS), as they were at this revision.
_OPEN = """
    SELECT 1 FROM custreg_project p
     WHERE p.customer_id = custreg_customer.id AND p.is_internal = false
       AND p.is_closed = false AND p.sales_status <> 'lost' {extra}
"""
_FILL_OPEN_WORK = f"UPDATE custreg_customer SET kpi_open_work = true WHERE EXISTS ({_OPEN.format(extra='')})"
_FILL_PROSPECT = f"""
UPDATE custreg_customer SET kpi_prospect = true
 WHERE EXISTS ({_OPEN.format(extra="AND p.kind = 'sales_case' AND p.sales_status = 'in_progress'")})
   AND NOT EXISTS (SELECT 1 FROM custreg_kpi_total t
                    WHERE t.customer_id = custreg_customer.id AND t.billed_count > 0
                      AND t.status_id IN (SELECT s.id FROM custreg_invoice_status s
                                           WHERE s.counts_as_sent = true))
   AND NOT EXISTS (SELECT 1 FROM custreg_project w
                    WHERE w.customer_id = custreg_customer.id AND w.sales_status = 'won')
"""

_INDEXES = {'ix_custreg_customer_kpi_active': 'kpi_open_work',
            'ix_custreg_customer_kpi_prospect': 'kpi_prospect'}


def upgrade():
    for name in ('kpi_open_work', 'kpi_prospect'):
        op.add_column(
            'custreg_customer',
            sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False),
        )
    op.execute(_FILL_OPEN_WORK)
    op.execute(_FILL_PROSPECT)
    # as custreg_admin.models.customer declares them (bare columns: = 1 on SQLite, which has no
    # boolean type)
    true = ' = 1' if op.get_bind().dialect.name == 'sqlite' else ''
    for index, flag in _INDEXES.items():
        where = sa.text(f'is_active{true} AND {flag}{true}')
        op.create_index(index, 'custreg_customer', ['id'], postgresql_where=where,
                        sqlite_where=where)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE custreg_customer')


def downgrade():
    for index in _INDEXES:
        op.drop_index(index, table_name='custreg_customer')
    # a plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no copy of a table others reference
    op.drop_column('custreg_customer', 'kpi_prospect')
    op.drop_column('custreg_customer', 'kpi_open_work')
