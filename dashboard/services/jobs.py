"""Job groups and job codes (DOMAIN.md §2.4): administrators map codes to groups.

Rules: only an active code goes into a group, and only into an active group; a group can be
deactivated only when all of its codes are inactive. Codes are site-agnostic, so a mapping
applies to every site using the code. Every change is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data.models import JobCode, JobGroup
from dashboard.services import audit
from dashboard.services.scope import Principal, ScopeError


class JobRuleError(ValueError):
    """A mapping change that breaks a §2.4 rule; the message says which."""


def _require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise ScopeError("Only an administrator can change job groups and codes.")


def active_groups(session: Session) -> list[dict]:
    rows = session.execute(
        select(JobGroup.id, JobGroup.title)
        .where(JobGroup.is_active.is_(True))
        .order_by(JobGroup.title)
    ).all()
    return [{"id": r.id, "title": r.title} for r in rows]


def assign_code_to_group(
    session: Session, principal: Principal, code_id: int, group_id: int
) -> str:
    """Put a job code into a job group; returns a confirmation naming both."""
    _require_admin(principal)
    code = session.get(JobCode, code_id)
    group = session.get(JobGroup, group_id)
    if code is None or group is None:
        raise JobRuleError("Unknown job code or job group.")
    if not code.is_active:
        raise JobRuleError(f"{code.code} is inactive: only active codes can be assigned.")
    if not group.is_active:
        raise JobRuleError(f"{group.title} is inactive: codes can only join active groups.")
    old = session.get(JobGroup, code.job_group_id).title if code.job_group_id else None
    code.job_group_id = group.id
    audit.record(
        session,
        user_id=principal.user_id,
        action="update",
        entity="job_code",
        record_key=code.code,
        field="job_group",
        old_value=old,
        new_value=group.title,
    )
    return f"{code.code} now belongs to {group.title}."


def set_group_active(session: Session, principal: Principal, group_id: int, active: bool) -> str:
    """Activate or deactivate a job group (deactivation needs all its codes inactive)."""
    _require_admin(principal)
    group = session.get(JobGroup, group_id)
    if group is None:
        raise JobRuleError("Unknown job group.")
    if not active:
        still_active = session.scalars(
            select(JobCode.code).where(
                JobCode.job_group_id == group_id, JobCode.is_active.is_(True)
            )
        ).all()
        if still_active:
            raise JobRuleError(
                f"{group.title} still has active codes ({', '.join(sorted(still_active))}); "
                "deactivate or move them first."
            )
    old = group.is_active
    group.is_active = active
    audit.record(
        session,
        user_id=principal.user_id,
        action="update",
        entity="job_group",
        record_key=group.title,
        field="is_active",
        old_value=old,
        new_value=active,
    )
    return f"{group.title} is now {'active' if active else 'inactive'}."
