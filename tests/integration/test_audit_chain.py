"""The audit log's hash chain on SQLite and PostgreSQL: audited actions verify, a deleted or
altered row is found (with the guards dropped, as the tables' owner could), audited writes
from many threads at once still chain without deadlock; on PostgreSQL the app role made by
``db-roles`` may append to the audit log but not change, empty or unguard it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from dashboard.__main__ import main
from dashboard.data import migrate
from dashboard.data.db import Database, make_engine
from dashboard.data.models import AppSetting, AuditChainHead, AuditLog, User
from dashboard.services import audit, submissions, workspace_save
from dashboard.services import statistics as stats
from dashboard.services.accounts import principal_of
from tests.conftest import TEST_TODAY, person_for_site

MONTH = (2027, 5)


def test_canonical_text_and_hash_of_a_hand_checked_row():
    row = {
        "chain_seq": 3,
        "at": dt.datetime(2026, 11, 23, 9, 30, 5, 120),
        "user_id": 7,
        "site_id": None,
        "action": "update",
        "entity": "statistic_day",
        "record_key": "2026-11-24",
        "field": "valet_daily",
        "old_value": "12.0",
        "new_value": "15.5",
        "reason": "Café",
        "id": 99,  # not hashed: the chain's order is chain_seq
    }
    expected = (
        '{"action":"update","at":"2026-11-23 09:30:05.000120","chain_seq":3,'
        '"entity":"statistic_day","field":"valet_daily","new_value":"15.5","old_value":"12.0",'
        '"reason":"Café","record_key":"2026-11-24","site_id":null,"user_id":7}'
    )
    assert audit.canonical_text(row) == expected
    # printf '%s' "$(printf '0%.0s' {1..64})$expected" | sha256sum  (UTF-8 bytes)
    assert (
        audit.chain_hash(audit.GENESIS_HASH, row)
        == "5fe3eb6809907118fd7f1b3ab3ebb9d98a09114d06f86165122c6cc814fab37d"
    )
    assert audit.chain_hash("1" * 64, row) != audit.chain_hash(audit.GENESIS_HASH, row)
    assert audit.chain_hash(audit.GENESIS_HASH, {**row, "new_value": "15.6"}) != (
        audit.chain_hash(audit.GENESIS_HASH, row)
    )


def _verify(url, monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(["audit-verify", *args])
    return code, capsys.readouterr().out


def _admin(db) -> object:
    with db.read() as session:
        return principal_of(session.scalar(select(User).where(User.role == "admin")))


def _hotel(built) -> int:
    sites = built["site"]
    return int(sites.loc[sites["total_rooms"] > 0, "id"].iloc[0])


def _audited_actions(db, built) -> None:
    """A save, a refused save (its own transaction), a threshold change, a rolled-back
    transaction and a sign-in row: the audit rows of ordinary use."""
    site_id = _hotel(built)
    person = person_for_site(db, built, site_id, "account_manager")
    day = dt.date(*MONTH, 3)
    first = workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day, "valet_daily", 41, 0)], [], TEST_TODAY
    )
    assert first.ok, (first.problems, first.conflicts)
    stale = workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day, "valet_daily", 42, 0)], [], TEST_TODAY
    )
    assert stale.conflicts  # audited as save_refused
    assert submissions.set_thresholds(db, _admin(db), 0.12, 2500).ok
    with pytest.raises(RuntimeError), db.write() as session:
        audit.record(session, user_id=person.user_id, action="rolled_back", entity="test")
        raise RuntimeError("rolled back: its audit row is dropped")
    with db.write() as session:
        audit.record(session, user_id=person.user_id, action="sign_in", entity="session")


def _rows(db) -> list:
    with db.read() as session:
        return session.execute(
            select(AuditLog.id, AuditLog.chain_seq, AuditLog.chain_hash).order_by(
                AuditLog.chain_seq
            )
        ).all()


def _unguard(db) -> None:
    """What the owner of audit_log can do: switch its append-only triggers off."""
    with db.write() as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update"))
            session.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_audited_actions_verify(private_portfolio, monkeypatch, capsys):
    db, built = private_portfolio
    _audited_actions(db, built)
    rows = _rows(db)
    assert [seq for _, seq, _ in rows] == list(range(1, len(rows) + 1))
    with db.read() as session:
        actions = set(session.scalars(select(AuditLog.action)))
        head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    assert {"update", "save_refused", "sign_in"} <= actions
    assert "rolled_back" not in actions
    assert tuple(head) == (len(rows), rows[-1].chain_hash)
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 0, out
    assert f"intact: {len(rows)} row(s); head {len(rows)}:{rows[-1].chain_hash}" in out


def test_a_deleted_row_is_reported(private_portfolio, monkeypatch, capsys):
    db, built = private_portfolio
    _audited_actions(db, built)
    rows = _rows(db)
    assert len(rows) >= 5
    _unguard(db)
    with db.write() as session:
        session.execute(text("DELETE FROM audit_log WHERE chain_seq = 3"))
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 1
    assert (
        f"audit row id {rows[3].id} (chain_seq 4): chain_seq 3 missing before it "
        f"(after row id {rows[1].id}): row(s) deleted"
    ) in out
    assert "1 break(s)" in out

    with db.write() as session:  # and the last row: only the head still counts it
        session.execute(text(f"DELETE FROM audit_log WHERE chain_seq = {len(rows)}"))
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 1
    assert (
        f"chain head (chain_seq {len(rows)}): the last row has chain_seq {len(rows) - 1}: "
        f"chain_seq {len(rows)} deleted"
    ) in out
    assert "2 break(s)" in out


def test_an_altered_row_is_reported(private_portfolio, monkeypatch, capsys):
    db, built = private_portfolio
    _audited_actions(db, built)
    rows = _rows(db)
    head = f"{len(rows)}:{rows[-1].chain_hash}"
    _unguard(db)
    with db.write() as session:
        session.execute(text("UPDATE audit_log SET new_value = '999' WHERE chain_seq = 2"))
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 1
    assert f"audit row id {rows[1].id} (chain_seq 2): altered" in out
    assert "1 break(s)" in out

    # The owner re-hashes the altered row too: the next row no longer follows from it.
    with db.read() as session:
        altered = session.execute(select(AuditLog).where(AuditLog.chain_seq == 2)).scalar_one()
        fields = {name: getattr(altered, name) for name in audit.CHAINED_FIELDS}
    rehashed = audit.chain_hash(rows[0].chain_hash, fields)
    with db.write() as session:
        session.execute(
            text("UPDATE audit_log SET chain_hash = :h WHERE chain_seq = 2"), {"h": rehashed}
        )
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 1
    assert f"audit row id {rows[2].id} (chain_seq 3): altered" in out
    assert f"audit row id {rows[1].id} " not in out

    # ... and every later row and the head: the chain holds, but not the head printed before.
    previous = rehashed
    with db.write() as session:
        for row in session.scalars(
            select(AuditLog).where(AuditLog.chain_seq > 2).order_by(AuditLog.chain_seq)
        ).all():
            fields = {name: getattr(row, name) for name in audit.CHAINED_FIELDS}
            previous = audit.chain_hash(previous, fields)
            session.execute(
                text("UPDATE audit_log SET chain_hash = :h WHERE id = :id"),
                {"h": previous, "id": row.id},
            )
        session.execute(text("UPDATE audit_chain_head SET hash = :h"), {"h": previous})
    assert _verify(db.url, monkeypatch, capsys)[0] == 0
    code, out = _verify(db.url, monkeypatch, capsys, "--expect", head)
    assert code == 1
    assert f"(chain_seq {len(rows)}): its hash is not the one recorded (--expect)" in out


def test_a_row_written_around_the_audit_writer_is_reported(private_portfolio, monkeypatch, capsys):
    db, built = private_portfolio
    _audited_actions(db, built)
    with db.write() as session:
        session.execute(
            text(
                "INSERT INTO audit_log (at, action, entity, record_key, field) "
                "VALUES (CURRENT_TIMESTAMP, 'forged', 'test', '', '')"
            )
        )
        forged = session.scalar(select(func.max(AuditLog.id)))
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 1
    assert f"audit row id {forged}: not chained" in out


THREADS = 10
TRANSACTIONS = 4


def test_audited_writes_from_many_threads_chain_without_deadlock(
    private_portfolio, monkeypatch, capsys
):
    """10 threads released together, each 4 transactions: workspace saves of different days
    of one site (which lock the month's submission row and the site's figures) and plain
    audited transactions with 3 rows each, one of which rolls back."""
    db, built = private_portfolio
    site_id = _hotel(built)
    person = person_for_site(db, built, site_id, "account_manager")
    with db.read() as session:
        before = session.scalar(select(func.count()).select_from(AuditLog))
    start = threading.Barrier(THREADS)
    failures: list = []

    def work(i: int) -> None:
        start.wait()
        try:
            for t in range(TRANSACTIONS):
                if i % 2 == 0:
                    day = dt.date(*MONTH, 1) + dt.timedelta(days=i * TRANSACTIONS // 2 + t)
                    edit = stats.StatisticEdit(day, "valet_daily", 100 + i * 10 + t, 0)
                    result = workspace_save.save_forecast_inputs(
                        db, person, site_id, [edit], [], TEST_TODAY
                    )
                    assert result.ok, (result.problems, result.conflicts)
                    continue
                try:
                    with db.write() as session:
                        key = f"audit_chain_test_{i}"
                        row = session.get(AppSetting, key)
                        if row is None:
                            session.add(AppSetting(key=key, value=str(t)))
                        else:
                            row.value = str(t)
                        audit.record_all(
                            session,
                            [
                                {"user_id": person.user_id, "action": "test", "entity": key}
                                for _ in range(3)
                            ],
                        )
                        if t == TRANSACTIONS - 1 and i == 1:
                            raise LookupError("rolled back")
                except LookupError:
                    pass
        except Exception as problem:  # noqa: BLE001 - reported below
            failures.append((i, repr(problem)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs (deadlock?)"
    assert failures == []
    with db.read() as session:
        after = session.scalar(select(func.count()).select_from(AuditLog))
        tests = session.scalar(select(func.count()).where(AuditLog.action == "test"))
    plain = (THREADS // 2) * TRANSACTIONS - 1  # one rolled back
    assert tests == plain * 3
    assert after > before + tests  # the saves' rows too
    rows = _rows(db)
    assert [seq for _, seq, _ in rows] == list(range(1, len(rows) + 1))
    code, out = _verify(db.url, monkeypatch, capsys)
    assert code == 0, out
    assert f"intact: {after} row(s)" in out


def test_db_roles_on_sqlite_explains_the_boundary(tmp_path, capsys):
    code = main(["db-roles", "--admin-url", f"sqlite:///{tmp_path / 'x.db'}"])
    out = capsys.readouterr().out
    assert code == 0
    assert "SQLite has no roles" in out
    assert "permissions" in out


def _denied(db: Database, statement: str) -> str:
    with pytest.raises(DBAPIError) as refused, db.write() as session:
        session.execute(text(statement))
    assert refused.value.orig.sqlstate == "42501", refused.value  # insufficient_privilege
    return str(refused.value.orig)


def test_the_app_role_can_append_to_the_audit_log_but_not_change_it(
    private_portfolio, monkeypatch, capsys
):
    db, built = private_portfolio
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles exist only on PostgreSQL (SQLite: the test above)")
    url = make_url(db.url)
    database = url.database
    owner, app = f"dashboard_owner_{database}", f"dashboard_app_{database}"
    app_db = None
    try:
        args = ["db-roles", "--admin-url", db.url, "--owner", owner, "--app", app]
        assert main(args) == 0
        out = capsys.readouterr().out
        owner_url = url.set(username=owner).render_as_string(hide_password=False)
        app_url = url.set(username=app).render_as_string(hide_password=False)
        assert f"DATABASE_OWNER_URL={owner_url}" in out
        assert f"DATABASE_URL={app_url}" in out
        assert f"created {owner}, {app}" in out
        # Migrations run as the owner (0007 drops and creates the guards), then the roles
        # again: a second run changes nothing that is right.
        migrate.downgrade(owner_url, "0006")
        migrate.upgrade(owner_url)
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "created" not in out and "(0 moved to it)" in out

        _audited_actions(db, built)  # as the superuser, before
        app_db = Database(app_url)
        with app_db.write() as session:
            audit.record(session, user_id=None, action="sign_in_failed", entity="session")
        for statement in (
            "UPDATE audit_log SET reason = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_log_no_change ON audit_log",
            "ALTER TABLE audit_log OWNER TO CURRENT_USER",
            "DELETE FROM audit_chain_head",
            "INSERT INTO audit_chain_head (id, seq, hash) VALUES (2, 0, '')",
            "TRUNCATE site_statistic_day",
            "CREATE TABLE audit_log_copy (id int)",
            "SET session_replication_role = replica",
        ):
            _denied(app_db, statement)
        assert "must be owner" in _denied(app_db, "ALTER TABLE audit_log DISABLE TRIGGER ALL")

        # The app's ordinary work as the app role: saves, settings, a new person.
        site_id = _hotel(built)
        person = person_for_site(app_db, built, site_id, "account_manager")
        saved = workspace_save.save_forecast_inputs(
            app_db,
            person,
            site_id,
            [stats.StatisticEdit(dt.date(*MONTH, 20), "valet_daily", 77, 0)],
            [],
            TEST_TODAY,
        )
        assert saved.ok, (saved.problems, saved.conflicts)
        assert submissions.set_thresholds(app_db, _admin(app_db), 0.2, 3000).ok
        code, out = _verify(app_url, monkeypatch, capsys)
        assert code == 0, out
    finally:
        if app_db is not None:
            app_db.dispose()
        admin = make_engine(db.url)
        with admin.begin() as conn:
            for role in (owner, app):
                exists = conn.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).first()
                if exists:
                    conn.exec_driver_sql(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
                    conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        with admin.begin() as conn:
            for role in (owner, app):
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()
