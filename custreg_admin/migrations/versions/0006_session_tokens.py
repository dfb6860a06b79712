"""users: a session token that sessions and remember-me cookies carry (revocable sessions)

Revision ID: 0006_session_tokens
Revises: 0005_mass_updates
Create Date: 2026-12-03 09:45:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_session_tokens'
down_revision = '0005_mass_updates'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('custreg_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    # every existing user gets a token of their own (sessions made before this log in again)
    users = sa.table('custreg_user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('custreg_user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_custreg_user_session_token'), ['session_token'])


def downgrade():
    with op.batch_alter_table('custreg_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_custreg_user_session_token'), type_='unique')
        batch_op.drop_column('session_token')
