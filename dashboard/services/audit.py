"""Appending to the audit log; the only code that writes ``audit_log`` (never updates it)."""

from __future__ import annotations

from collections.abc import Iterable

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
    record_all(
        session,
        [
            {
                "user_id": user_id,
                "site_id": site_id,
                "action": action,
                "entity": entity,
                "record_key": record_key,
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
                "reason": reason,
            }
        ],
    )


def record_all(session: Session, entries: Iterable[dict]) -> None:
    """Append many audit rows (each with ``record``'s keywords) in one statement, inside the
    caller's transaction."""
    rows = [
        {
            "user_id": e["user_id"],
            "site_id": e.get("site_id"),
            "action": e["action"],
            "entity": e["entity"],
            "record_key": e.get("record_key", ""),
            "field": e.get("field", ""),
            "old_value": None if e.get("old_value") is None else str(e["old_value"]),
            "new_value": None if e.get("new_value") is None else str(e["new_value"]),
            "reason": e.get("reason"),
        }
        for e in entries
    ]
    if rows:
        session.execute(insert(AuditLog), rows)
