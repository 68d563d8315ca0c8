"""staff accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 11:30:00
"""
from alembic import op
import sqlalchemy as sa
import desk_platform.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('hospital_id', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', desk_platform.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', desk_platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', desk_platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('username'),
    sa.UniqueConstraint('version')
    )
    op.create_index('ix_staff_hospital_version', 'staff', ['hospital_id', 'version'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_staff_hospital_version', table_name='staff')
    op.drop_table('staff')
