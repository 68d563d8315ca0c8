"""face_judgements.score_basis: the unit a clerk's call's distance was scored in

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

A call's ``distance`` is a plain distance or a cohort score, and a cohort score depends on the
cohort file in use. ``calibrate faces --from-desk-history`` must compare like with like: the
thresholds alone cannot tell (version 3's plain band and version 5's cohort band both end at
0.615). "distance" or "cohort:<the file's digest>"; calls recorded before this revision get "".
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('face_judgements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score_basis', sa.String(length=64), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('face_judgements', schema=None) as batch_op:
        batch_op.drop_column('score_basis')
