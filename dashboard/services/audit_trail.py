"""Reading the audit log: a site's (or, for district managers, a district's) changes and
transitions, filtered by person, date range, field and kind, and as CSV. Read-only: the log
is append-only (database triggers refuse UPDATE and DELETE; ``services/audit.py`` only
inserts)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data.models import AuditLog, Site, User
from dashboard.services.scope import Principal, ScopeError, visible_site_ids

ROW_LIMIT = 5_000
COLUMNS = (
    ("at", "When (UTC)"),
    ("person", "Person"),
    ("site", "Site"),
    ("action", "Kind"),
    ("entity", "Record"),
    ("record_key", "Key"),
    ("field", "Field"),
    ("old_value", "Old value"),
    ("new_value", "New value"),
    ("reason", "Comment / reason"),
)


@dataclass(frozen=True)
class AuditFilters:
    site_id: int | None = None
    district_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    field: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


def _site_ids(session: Session, principal: Principal, filters: AuditFilters, today: dt.date):
    visible = visible_site_ids(session, principal, today)
    if filters.site_id is not None:
        if filters.site_id not in visible:
            raise ScopeError("This site is not in your scope.")
        return [filters.site_id]
    if filters.district_id is not None:
        ids = [
            s
            for s in session.scalars(select(Site.id).where(Site.district_id == filters.district_id))
            if s in visible
        ]
        if not ids:
            raise ScopeError("This district is not in your scope.")
        return ids
    raise ScopeError("Choose a site or a district.")


def audit_rows(
    session: Session, principal: Principal, filters: AuditFilters, today: dt.date
) -> tuple[list[dict], bool]:
    """The newest ``ROW_LIMIT`` matching rows (newest first) and whether more exist."""
    ids = _site_ids(session, principal, filters, today)
    query = (
        select(AuditLog, User.display_name, Site.site_number, Site.name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .join(Site, Site.id == AuditLog.site_id)
        .where(AuditLog.site_id.in_(ids))
    )
    if filters.user_id is not None:
        query = query.where(AuditLog.user_id == filters.user_id)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.field:
        query = query.where(AuditLog.field == filters.field)
    if filters.start is not None:
        query = query.where(AuditLog.at >= dt.datetime.combine(filters.start, dt.time.min))
    if filters.end is not None:
        query = query.where(
            AuditLog.at < dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min)
        )
    found = session.execute(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(ROW_LIMIT + 1)
    ).all()
    rows = [
        {
            "id": log.id,
            "at": log.at.isoformat(sep=" ", timespec="seconds"),
            "person": name or "System",
            "site": f"{number} · {site_name}",
            "action": log.action,
            "entity": log.entity,
            "record_key": log.record_key,
            "field": log.field,
            "old_value": log.old_value,
            "new_value": log.new_value,
            "reason": log.reason,
        }
        for log, name, number, site_name in found[:ROW_LIMIT]
    ]
    return rows, len(found) > ROW_LIMIT


def filter_choices(
    session: Session, principal: Principal, filters: AuditFilters, today: dt.date
) -> dict:
    """People, kinds and fields that occur in the chosen site's or district's log."""
    ids = _site_ids(session, principal, filters, today)
    people = session.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(AuditLog.user_id).where(AuditLog.site_id.in_(ids))))
        .order_by(User.display_name)
    ).all()
    kinds = session.scalars(
        select(AuditLog.action)
        .where(AuditLog.site_id.in_(ids))
        .distinct()
        .order_by(AuditLog.action)
    ).all()
    fields = session.scalars(
        select(AuditLog.field)
        .where(AuditLog.site_id.in_(ids), AuditLog.field != "")
        .distinct()
        .order_by(AuditLog.field)
    ).all()
    return {
        "people": [{"value": str(i), "label": n} for i, n in people],
        "kinds": list(kinds),
        "fields": list(fields),
    }


def to_csv(rows: list[dict], header_lines: list[str]) -> str:
    """CSV with the filters stated in comment lines above the header."""
    out = io.StringIO()
    for line in header_lines:
        out.write(f"# {line}\n")
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])
    return out.getvalue()
