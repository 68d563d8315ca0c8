"""users.source / users.source_version: accounts cached from the platform

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

A hospital's staff accounts are managed on the platform; the sync worker caches them here with
their argon2 hashes (``source = 'platform'``, the platform's version of the account), so a desk
signs them in offline and refuses a person disabled there after its next sync. Accounts made on
the desk (the bootstrap administrator, ``desk-app users add``) stay ``'local'``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False,
                                      server_default='local'))
        batch_op.add_column(sa.Column('source_version', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('source_version')
        batch_op.drop_column('source')
