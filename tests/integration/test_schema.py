"""The migration builds exactly the models' schema; the audit log refuses change."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from dashboard.data.models import AuditLog, Base


def test_migration_matches_models(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_connection_settings(db):
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        else:
            assert db.engine.dialect.name == "postgresql"
            assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"


def test_foreign_keys_are_enforced(db):
    with pytest.raises(DBAPIError), db.write() as session:
        session.execute(
            text(
                "INSERT INTO scope_assignment (user_id, site_id, created_at) "
                "VALUES (999999, 1, CURRENT_TIMESTAMP)"
            )
        )


def test_audit_log_is_append_only(db):
    with db.write() as session:
        session.execute(insert(AuditLog).values(action="test", entity="schema"))
    for statement in ("UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
            session.execute(text(statement))
    with db.read() as session:
        assert (
            session.execute(text("SELECT COUNT(*) FROM audit_log WHERE entity = 'schema'")).scalar()
            >= 1
        )


def test_postgresql_connections_run_without_jit(db):
    """JIT compiling a short statement whose cost the planner overestimated took 250 ms of
    a 3 ms query: the app's connections turn it off."""
    from sqlalchemy import text

    from dashboard.data.db import is_sqlite

    if is_sqlite(db.engine):
        pytest.skip("JIT is PostgreSQL's (SQLite: nothing to turn off)")
    with db.read() as session:
        assert session.execute(text("SHOW jit")).scalar() == "off"
