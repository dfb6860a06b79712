"""drop the two indexes of custreg_customer that no query uses (issue #15, item 5)

``invoice_template_id`` and ``vat_rate_id`` are never searched, filtered or sorted on; reports
join the template and the VAT rate by *their* primary keys. The indexes only served the
``ON DELETE SET NULL`` of deleting a template or a VAT rate in Settings (a rare one-off that
may scan the table), while every update of a customer row on PostgreSQL that is not HOT, such
as a mass update, had to write an entry into each of them. The review of every index, and the
query each remaining one serves, is the comment above ``Customer`` in models/customer.py.

Revision ID: 0010_customer_index_review
Revises: 0009_customer_import
Create Date: 2026-12-03 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_customer_index_review'
down_revision = '0009_customer_import'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_custreg_customer_invoice_template_id', table_name='custreg_customer')
    op.drop_index('ix_custreg_customer_vat_rate_id', table_name='custreg_customer')


def downgrade():
    op.create_index(
        'ix_custreg_customer_vat_rate_id', 'custreg_customer', ['vat_rate_id'], unique=False
    )
    op.create_index(
        'ix_custreg_customer_invoice_template_id',
        'custreg_customer',
        ['invoice_template_id'],
        unique=False,
    )
