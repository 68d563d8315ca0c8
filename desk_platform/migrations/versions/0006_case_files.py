"""the police's case files: several per blacklist entry (a second case adds a file)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:00:00

``blacklist_cases`` was keyed by ``entry_id`` (one file per entry, so a second case against a
person replaced the first). It gets its own key ``case_id`` and keeps ``entry_id`` as an indexed
column; every existing file is kept with a new ``case_id``. The table is rebuilt (the primary
key changes), the same way on SQLite and PostgreSQL. The downgrade keeps the newest file of each
entry.
"""
import uuid

import sqlalchemy as sa
from alembic import op

import desk_platform.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_FILE_COLUMNS = ('entry_id', 'case_number', 'county', 'evidence_enc', 'created_at',
                 'created_by', 'lifted_at', 'lifted_by', 'lift_reason')


def _columns() -> list[sa.Column]:
    """The file's columns as 0003 made them (the key aside), built fresh for each table."""
    kinds = {'evidence_enc': sa.LargeBinary(),
             'created_at': desk_platform.db.UtcDateTime(timezone=True),
             'lifted_at': desk_platform.db.UtcDateTime(timezone=True),
             'lift_reason': sa.String(length=500)}
    optional = {'lifted_at', 'lifted_by', 'lift_reason'}
    return [sa.Column(k, kinds.get(k, sa.String(length=64)), nullable=k in optional)
            for k in _FILE_COLUMNS]


def _rename_old() -> sa.Table:
    with op.batch_alter_table('blacklist_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_blacklist_cases_county_created')
    op.rename_table('blacklist_cases', 'blacklist_cases_old')
    return sa.Table('blacklist_cases_old', sa.MetaData(), *_columns())  # read with our types


def upgrade() -> None:
    old = _rename_old()
    new = op.create_table('blacklist_cases',
                          sa.Column('case_id', sa.String(length=36), nullable=False),
                          *_columns(),
                          sa.PrimaryKeyConstraint('case_id', name='pk_blacklist_cases'))
    conn = op.get_bind()
    rows = conn.execute(sa.select(*(old.c[k] for k in _FILE_COLUMNS))).mappings().all()
    if rows:
        conn.execute(new.insert(), [{'case_id': str(uuid.uuid4()), **r} for r in rows])
    op.drop_table('blacklist_cases_old')
    with op.batch_alter_table('blacklist_cases', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_cases_county_created', ['county', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_blacklist_cases_entry', ['entry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('blacklist_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_blacklist_cases_entry')
    old = _rename_old()
    new = op.create_table('blacklist_cases', *_columns(),
                          sa.PrimaryKeyConstraint('entry_id', name='pk_blacklist_cases_entry'))
    conn = op.get_bind()
    newest: dict[str, dict] = {}
    for r in conn.execute(sa.select(*(old.c[k] for k in _FILE_COLUMNS))
                          .order_by(old.c.created_at)).mappings():
        newest[r['entry_id']] = dict(r)
    if newest:
        conn.execute(new.insert(), list(newest.values()))
    op.drop_table('blacklist_cases_old')
    with op.batch_alter_table('blacklist_cases', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_cases_county_created', ['county', 'created_at'],
                              unique=False)
