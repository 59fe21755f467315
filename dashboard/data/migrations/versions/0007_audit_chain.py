"""audit chain: every audit row carries its place in a hash chain (chain_seq, chain_hash) and
audit_chain_head holds the last one; rows already in the log are chained in id order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dashboard.services.audit import CHAINED_FIELDS, GENESIS_HASH, HEAD_ID, chain_hash

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000

# The append-only guards of 0001, dropped around the backfill (they refuse every UPDATE) and
# around SQLite's table copies, then created again.
AUDIT_GUARD_SQLITE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
AUDIT_GUARD_POSTGRES = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _create_audit_guards() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in AUDIT_GUARD_POSTGRES if postgres else AUDIT_GUARD_SQLITE:
        op.execute(statement)


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


_audit = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("at", sa.DateTime()),
    sa.column("user_id", sa.Integer()),
    sa.column("site_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("record_key", sa.String()),
    sa.column("field", sa.String()),
    sa.column("old_value", sa.Text()),
    sa.column("new_value", sa.Text()),
    sa.column("reason", sa.Text()),
    sa.column("chain_seq", sa.BigInteger()),
    sa.column("chain_hash", sa.String()),
)
_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.String()),
)


def _chain_existing_rows() -> tuple[int, str]:
    """Number and hash the rows already in the log, in id order; the last (seq, hash)."""
    bind = op.get_bind()
    fields = [_audit.c[name] for name in CHAINED_FIELDS if name != "chain_seq"]
    seq, previous, after = 0, GENESIS_HASH, None
    stamp = (
        _audit.update()
        .where(_audit.c.id == sa.bindparam("row_id"))
        .values(chain_seq=sa.bindparam("seq"), chain_hash=sa.bindparam("hash"))
    )
    while True:
        query = sa.select(_audit.c.id, *fields).order_by(_audit.c.id).limit(BACKFILL_BATCH)
        if after is not None:
            query = query.where(_audit.c.id > after)
        page = bind.execute(query).all()
        if not page:
            return seq, previous
        stamps = []
        for row in page:
            seq += 1
            previous = chain_hash(previous, {**row._mapping, "chain_seq": seq})
            stamps.append({"row_id": row.id, "seq": seq, "hash": previous})
        bind.execute(stamp, stamps)
        after = page[-1].id


def upgrade() -> None:
    _drop_audit_guards()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_chain_seq", ["chain_seq"], unique=True)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    seq, last = _chain_existing_rows()
    op.execute(_head.insert().values(id=HEAD_ID, seq=seq, hash=last))
    _create_audit_guards()


def downgrade() -> None:
    _drop_audit_guards()
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_chain_seq")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
    _create_audit_guards()
