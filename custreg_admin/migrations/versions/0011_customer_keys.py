"""customer search and sort keys: identifiers matched by index, the Summary sorted by index

The table custreg_customer_key (:class:`custreg_admin.models.CustomerKey`), filled from the
existing customers by :func:`custreg_admin.services.customer_keys.rebuild_all` (one home for
how a key is made). PostgreSQL: the extension pg_trgm and a trigram index on the customer name
(the name search ``ILIKE '%word%'``).

Revision ID: 0011_customer_keys
Revises: 0010_customer_index_review
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

from custreg_admin.services.customer_keys import rebuild_all


# revision identifiers, used by Alembic.
revision = '0011_customer_keys'
down_revision = '0010_customer_index_review'
branch_labels = None
depends_on = None


def _key():
    return sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql')


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'custreg_customer_key',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('number', _key(), nullable=True),
        sa.Column('business_id', _key(), nullable=True),
        sa.Column('vat_number', _key(), nullable=True),
        sa.Column('city', sa.String(length=100), nullable=True),
        sa.Column('owner', sa.String(length=200), nullable=True),
        sa.Column('industry', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['custreg_customer.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id'),
    )
    with op.batch_alter_table('custreg_customer_key', schema=None) as batch_op:
        batch_op.create_index('ix_custreg_customer_key_number', ['number'], unique=False)
        batch_op.create_index('ix_custreg_customer_key_business_id', ['business_id'], unique=False)
        batch_op.create_index('ix_custreg_customer_key_vat_number', ['vat_number'], unique=False)
        batch_op.create_index('ix_custreg_customer_key_city', ['city', 'customer_id'], unique=False)
        batch_op.create_index('ix_custreg_customer_key_owner', ['owner', 'customer_id'], unique=False)
        batch_op.create_index(
            'ix_custreg_customer_key_industry', ['industry', 'customer_id'], unique=False
        )
        batch_op.create_index('ix_custreg_customer_key_status', ['status', 'customer_id'], unique=False)
    if postgresql:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index(
            'ix_custreg_customer_name_trgm',
            'custreg_customer',
            ['name'],
            unique=False,
            postgresql_using='gin',
            postgresql_ops={'name': 'gin_trgm_ops'},
        )
    session = Session(bind=op.get_bind())
    rebuild_all(session)
    session.flush()


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_custreg_customer_name_trgm', table_name='custreg_customer')
    op.drop_table('custreg_customer_key')
