"""Per-request access to the app's database, settings and the signed-in person."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from flask import current_app, has_request_context, session
from flask_login import UserMixin, current_user

from dashboard.config import Settings
from dashboard.data.db import Database
from dashboard.services import sessions
from dashboard.services.scope import Principal


class SignedInUser(UserMixin):
    """What flask-login keeps for the request; services receive ``principal``."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.id = str(principal.user_id)


def get_db() -> Database:
    return current_app.extensions["dashboard.db"]


def get_jobs():
    """The app's background work queue (``dashboard.tasks.Jobs``)."""
    return current_app.extensions["dashboard.jobs"]


def get_settings() -> Settings:
    return current_app.extensions["dashboard.settings"]


def session_limits() -> sessions.Limits:
    """How long a session of this app lives: the settings' idle timeout, the absolute
    lifetime."""
    return sessions.Limits(idle=dt.timedelta(minutes=get_settings().session_idle_minutes))


def current_principal() -> Principal | None:
    """The signed-in person, or None (callbacks must refuse then). In a background callback
    (a Celery task or a process of its own: no request), the person of the session cookie the
    browser sent with the job, checked as a request would be (signature, then the session's
    row: signed out, ended, idle, expired)."""
    if not has_request_context():
        return _principal_of_job()
    if not current_user or not current_user.is_authenticated:
        return None
    return current_user.principal


def _principal_of_job() -> Principal | None:
    import dash
    from itsdangerous import BadSignature

    try:
        cookies = dash.callback_context.cookies or {}
    except Exception:  # noqa: BLE001 - not inside a callback at all
        return None
    server = current_app
    raw = cookies.get(server.config.get("SESSION_COOKIE_NAME", "session"))
    serializer = server.session_interface.get_signing_serializer(server)
    if not raw or serializer is None:
        return None
    lifetime = server.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    try:
        data = serializer.loads(raw, max_age=lifetime)
    except BadSignature:
        return None
    return sessions.principal_of_session(
        get_db(), data.get("sid"), data.get("_user_id"), session_limits()
    )


def today() -> dt.date:
    return get_settings().today()


def csrf_token() -> str:
    """The session's token for form posts (sign-in, sign-out), made when it has none."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_valid(sent: str | None) -> bool:
    """Whether a posted token is the session's (a missing token never matches)."""
    expected = session.get("csrf")
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))
