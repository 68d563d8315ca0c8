"""visits.local_day (Beijing calendar day, indexed, for day statistics); audit_log append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Existing rows are filled in from ``checked_in_at`` (stored as naive UTC). Triggers refuse
UPDATE and DELETE on audit_log: not a defence against someone who can drop them (the keyed hash
chain is), but no code path of the app can rewrite history by mistake.
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
    # Deleting is allowed only up to the retention anchor (seq in store_meta 'audit_anchor'),
    # which the retention purge moves first.
    if conn.dialect.name == "sqlite":
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   "WHEN old.seq > COALESCE((SELECT CAST(json_extract(value, '$.seq') AS INTEGER) "
                   "FROM store_meta WHERE key = 'audit_anchor'), 0) "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    elif conn.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'DELETE' AND OLD.seq <= COALESCE((SELECT (value::json->>'seq')::int "
            "FROM store_meta WHERE key = 'audit_anchor'), 0) THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'audit_log is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_local_day'))
        batch_op.drop_column('local_day')
