"""visits.local_day: the Beijing calendar day of each check-in, indexed, for day statistics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Existing rows are filled in from ``checked_in_at`` (stored as naive UTC).
"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_CHINA = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_day', sa.String(length=10), nullable=True))
    visits = sa.table('visits', sa.column('visit_id', sa.String),
                      sa.column('checked_in_at', sa.DateTime), sa.column('local_day', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(visits.c.visit_id, visits.c.checked_in_at)).all()
    for visit_id, at in rows:
        day = at.replace(tzinfo=UTC).astimezone(_CHINA).date().isoformat()
        conn.execute(visits.update().where(visits.c.visit_id == visit_id).values(local_day=day))
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.alter_column('local_day', existing_type=sa.String(length=10), nullable=False)
        batch_op.create_index(batch_op.f('ix_visits_local_day'), ['local_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_local_day'))
        batch_op.drop_column('local_day')
