"""Job code → group mapping by administrators (DOMAIN.md §2.4 rules), audited."""

import pytest
from sqlalchemy import select

from dashboard.data.models import AuditLog, JobCode, JobGroup
from dashboard.services import jobs
from dashboard.services.scope import Principal, ScopeError

ADMIN = Principal(user_id=None, role="admin", display_name="Admin", email="admin@example.com")


def _code(session, code):
    return session.scalar(select(JobCode).where(JobCode.code == code))


def _group(session, title):
    return session.scalar(select(JobGroup).where(JobGroup.title == title))


def test_an_unassigned_code_joins_an_active_group_and_is_audited(db):
    with db.write() as session:
        greeter, door = _code(session, "GREETER"), _group(session, "Door")
        original = greeter.job_group_id
        message = jobs.assign_code_to_group(session, ADMIN, greeter.id, door.id)
        assert message == "GREETER now belongs to Door."
    with db.read() as session:
        assert _code(session, "GREETER").job_group_id == door.id
        row = session.scalar(
            select(AuditLog).where(AuditLog.entity == "job_code", AuditLog.record_key == "GREETER")
        )
        assert (row.old_value, row.new_value) == (None, "Door")
    with db.write() as session:  # leave the shared database as it was
        _code(session, "GREETER").job_group_id = original


def test_rules_refuse_inactive_code_inactive_group_and_non_admins(db):
    with db.write() as session:
        greeter, shuttle = _code(session, "GREETER"), _group(session, "Shuttle")
        greeter.is_active = False
        with pytest.raises(jobs.JobRuleError, match="only active codes"):
            jobs.assign_code_to_group(session, ADMIN, greeter.id, shuttle.id)
        greeter.is_active = True
        with pytest.raises(jobs.JobRuleError, match="still has active codes"):
            jobs.set_group_active(session, ADMIN, shuttle.id, False)
        manager = Principal(user_id=None, role="district_manager", display_name="x", email="x")
        with pytest.raises(ScopeError):
            jobs.assign_code_to_group(session, manager, greeter.id, shuttle.id)
        session.rollback()


def test_a_group_without_active_codes_can_be_deactivated_then_refuses_codes(db):
    with db.write() as session:
        team = _group(session, "Team Lead")
        codes = session.scalars(select(JobCode).where(JobCode.job_group_id == team.id)).all()
        for code in codes:
            code.is_active = False
        assert jobs.set_group_active(session, ADMIN, team.id, False) == "Team Lead is now inactive."
        greeter = _code(session, "GREETER")
        with pytest.raises(jobs.JobRuleError, match="only join active groups"):
            jobs.assign_code_to_group(session, ADMIN, greeter.id, team.id)
        session.rollback()
