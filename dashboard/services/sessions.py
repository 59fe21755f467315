"""Signed-in sessions kept on the server (``user_session``), so that a sign-out, a password
change or a deactivation ends a session on every worker and instance at once, with or
without Redis.

The browser's session cookie carries a random token (``session["sid"]``); the row's id is the
token's SHA-256, so the table never holds a usable token. A session is live while its row
exists, has not ended, was used within the idle timeout and is younger than its absolute
lifetime. Checking costs one indexed read per request (the row and the person together);
``last_seen_at`` is written at most once a minute per session, not on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dashboard.data.db import Database
from dashboard.data.models import User, UserSession
from dashboard.services import audit
from dashboard.services.scope import Principal

LIFETIME = dt.timedelta(hours=8)  # absolute, from sign-in (DOMAIN.md §9)
IDLE_TIMEOUT = dt.timedelta(minutes=60)  # default of SESSION_IDLE_MINUTES
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale last_seen_at may get (idle is that coarse)
KEEP_ENDED = dt.timedelta(days=30)  # rows older than this are pruned (the audit log stays)

# Why a session ended (``user_session.ended_reason``).
SIGN_OUT = "sign_out"
PASSWORD_CHANGED = "password_changed"
DEACTIVATED = "deactivated"
IDLE = "idle"
EXPIRED = "expired"


@dataclass(frozen=True)
class Limits:
    """How long a session lives: ``idle`` since it was last used, ``lifetime`` in all."""

    idle: dt.timedelta = IDLE_TIMEOUT
    lifetime: dt.timedelta = LIFETIME


def utc_now() -> dt.datetime:
    """Now in UTC without a zone, as the database columns hold it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def row_id(token: str) -> str:
    """The row id of a session token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_id: int, now: dt.datetime | None = None) -> str:
    """Open a session for the person inside the caller's transaction (the sign-in's, which
    audits it); returns the token for the cookie. Old rows are pruned now and then."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=row_id(token), user_id=user_id, created_at=now, last_seen_at=now))
    if secrets.randbelow(100) == 0:  # about one sign-in in a hundred, on any worker
        prune(session, now)
    return token


def principal_of_session(
    db: Database,
    token: str | None,
    user_id: object,
    limits: Limits,
    now: dt.datetime | None = None,
) -> Principal | None:
    """The person of a live session, or None: no token, no row, the row of someone else,
    ended, idle too long, past its lifetime, or the person deactivated. A session found idle
    or expired is ended (and audited) once; a live one records its use at most once a minute."""
    if not token or user_id is None:
        return None
    try:
        wanted_user = int(str(user_id))
    except ValueError:
        return None
    now = now or utc_now()
    sid = row_id(token)
    with db.read() as session:
        row = session.execute(
            select(
                UserSession.created_at,
                UserSession.last_seen_at,
                User.id,
                User.role,
                User.display_name,
                User.email,
                User.is_active,
            )
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.id == sid, UserSession.ended_at.is_(None))
        ).first()
    if row is None or row.id != wanted_user or not row.is_active:
        return None
    reason = _over_limit(row.created_at, row.last_seen_at, limits, now)
    if reason:
        with db.write() as session:
            if _end_rows(session, [sid], reason, now):
                audit.record(
                    session,
                    user_id=row.id,
                    action="session_ended",
                    entity="session",
                    record_key=row.email[:80],
                    reason=reason,
                )
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with db.write() as session:
            session.execute(
                update(UserSession)
                .where(
                    UserSession.id == sid,
                    UserSession.ended_at.is_(None),
                    UserSession.last_seen_at <= now - TOUCH_EVERY,  # parallel requests: once
                )
                .values(last_seen_at=now)
            )
    return Principal(row.id, row.role, row.display_name, row.email)


def _over_limit(
    created_at: dt.datetime, last_seen_at: dt.datetime, limits: Limits, now: dt.datetime
) -> str | None:
    if now - created_at >= limits.lifetime:
        return EXPIRED
    if now - last_seen_at >= limits.idle:
        return IDLE
    return None


def end(session: Session, token: str | None, now: dt.datetime | None = None) -> bool:
    """Sign-out: end the session of this token (audited as ``sign_out``). Returns whether a
    live session was ended; a missing or already ended one is no error."""
    if not token:
        return False
    found = session.execute(
        select(UserSession.id, User.id, User.email)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == row_id(token), UserSession.ended_at.is_(None))
    ).first()
    if found is None:
        return False
    sid, user_id, email = found
    ended = _end_rows(session, [sid], SIGN_OUT, now or utc_now())
    if ended:
        audit.record(
            session, user_id=user_id, action="sign_out", entity="session", record_key=email[:80]
        )
    return ended > 0


def end_all(
    session: Session,
    user_id: int,
    reason: str,
    by: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """End every live session of a person (a password change, a deactivation) inside the
    caller's transaction; audited as ``sessions_ended`` with the reason and the count, by
    ``by`` (None: the system). Returns how many were ended."""
    ids = session.scalars(
        select(UserSession.id).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    ).all()
    ended = _end_rows(session, list(ids), reason, now or utc_now()) if ids else 0
    if ended:
        email = session.scalar(select(User.email).where(User.id == user_id)) or ""
        audit.record(
            session,
            user_id=by,
            action="sessions_ended",
            entity="session",
            record_key=email[:80],
            new_value=ended,
            reason=reason,
        )
    return ended


def _end_rows(session: Session, ids: list[str], reason: str, now: dt.datetime) -> int:
    """End the rows among ``ids`` still live; returns how many (0: another worker ended them
    first, and audited it)."""
    return session.execute(
        update(UserSession)
        .where(UserSession.id.in_(ids), UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def prune(session: Session, now: dt.datetime | None = None) -> int:
    """Delete session rows started more than ``KEEP_ENDED`` ago (long past their lifetime);
    the audit log keeps the history. Returns how many were deleted."""
    cutoff = (now or utc_now()) - KEEP_ENDED
    return session.execute(
        delete(UserSession)
        .where(UserSession.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
