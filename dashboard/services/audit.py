"""Appending to the audit log; the only code that writes ``audit_log`` (never updates it)."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from dashboard.data.models import AuditLog


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    site_id: int | None = None,
    record_key: str = "",
    field: str = "",
    old_value: object = None,
    new_value: object = None,
    reason: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction."""
    session.execute(
        insert(AuditLog).values(
            user_id=user_id,
            site_id=site_id,
            action=action,
            entity=entity,
            record_key=record_key,
            field=field,
            old_value=None if old_value is None else str(old_value),
            new_value=None if new_value is None else str(new_value),
            reason=reason,
        )
    )
