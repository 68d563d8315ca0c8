"""users.source / users.source_version: accounts cached from the platform; office_alerts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

A hospital's staff accounts are managed on the platform; the sync worker caches them here with
their argon2 hashes (``source = 'platform'``, the platform's version of the account), so a desk
signs them in offline and refuses a person disabled there after its next sync. Accounts made on
the desk (the bootstrap administrator, ``desk-app users add``) stay ``'local'``.

``office_alerts``: the alerts of every window of the hospital and the platform's own (the
security office), as the platform's alerts delta and push bring them, with their handled state
(who, when, note: handled once for all desks). The detail and the note are encrypted. No photo:
the photos stay on the desk that raised the alert (``alerts``).
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
    op.create_table(
        'office_alerts',
        sa.Column('alert_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('booking_id', sa.String(length=64), nullable=True),
        sa.Column('visit_ids_json', sa.Text(), nullable=False),
        sa.Column('desk_ids_json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('detail_enc', sa.LargeBinary(), nullable=False),
        sa.Column('handled_by', sa.String(length=64), nullable=True),
        sa.Column('handled_at', sa.DateTime(), nullable=True),
        sa.Column('handled_note_enc', sa.LargeBinary(), nullable=True),
        sa.Column('handled_desk', sa.String(length=64), nullable=True),
        sa.Column('handled_here', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_office_alerts')),
    )
    with op.batch_alter_table('office_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_alerts_created_at'), ['created_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('office_alerts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('source_version')
        batch_op.drop_column('source')
