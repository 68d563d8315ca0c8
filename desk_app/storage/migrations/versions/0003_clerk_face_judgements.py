"""face_judgements (the clerk's call on undecided faces, no images); visits.card_confirmed_by/_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

For each undecided face the desk keeps only the distance, the clerk's judgement ("same" /
"different"), the seconds it took and the thresholds in force: what ``desk-app calibrate faces
--from-desk-history`` and the per-clerk figures of the statistics screen read. A number read by
the counter camera is not chip-verified; the clerk who checked the physical card, and when, go
into the visit.
"""
import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'face_judgements',
        sa.Column('judgement_id', sa.String(length=36), nullable=False),
        sa.Column('visit_id', sa.String(length=36), nullable=False),
        sa.Column('clerk', sa.String(length=64), nullable=False),
        sa.Column('judged_at', sa.DateTime(), nullable=False),
        sa.Column('distance', sa.Float(), nullable=True),
        sa.Column('judgement', sa.String(length=16), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('match_distance', sa.Float(), nullable=False),
        sa.Column('mismatch_distance', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.visit_id'],
                                name=op.f('fk_face_judgements_visit_id_visits')),
        sa.PrimaryKeyConstraint('judgement_id', name=op.f('pk_face_judgements')),
    )
    with op.batch_alter_table('face_judgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_judgements_clerk'), ['clerk'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_judgements_judged_at'), ['judged_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_face_judgements_visit_id'), ['visit_id'],
                              unique=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_confirmed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('card_confirmed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('card_confirmed_at')
        batch_op.drop_column('card_confirmed_by')
    op.drop_table('face_judgements')
