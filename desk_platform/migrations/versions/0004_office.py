"""the security office: alerts handled once for all desks; insiders' weekly figures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:00:00

(Rechained after the task force console's 0003 when main was merged on 2026-12-03.)
"""
from alembic import op
import sqlalchemy as sa
import desk_platform.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handled_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('handled_at', desk_platform.db.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('handled_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('handled_desk', sa.String(length=64), nullable=True))
    op.create_table('insider_weeks',
    sa.Column('hospital_id', sa.String(length=64), nullable=False),
    sa.Column('desk_id', sa.String(length=64), nullable=False),
    sa.Column('person', sa.String(length=64), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('overrides', sa.Integer(), nullable=False),
    sa.Column('fast_confirms', sa.Integer(), nullable=False),
    sa.Column('judged', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('reasons_json', sa.Text(), nullable=False),
    sa.Column('received_at', desk_platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hospital_id', 'desk_id', 'person', 'week')
    )


def downgrade() -> None:
    op.drop_table('insider_weeks')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('handled_desk')
        batch_op.drop_column('handled_note')
        batch_op.drop_column('handled_at')
        batch_op.drop_column('handled_by')
