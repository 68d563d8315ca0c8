"""the security office: a desk alert's two photos, encrypted, for a short time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa
import desk_platform.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_photos',
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('hospital_id', sa.String(length=64), nullable=False),
    sa.Column('photos_enc', sa.LargeBinary(), nullable=False),
    sa.Column('keep_until', desk_platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id')
    )


def downgrade() -> None:
    op.drop_table('alert_photos')
