"""Sign-in and sign-out: the login manager, its user loader (a live server-side session, see
``services/sessions.py``) and the two form routes (throttled, see
``services/sign_in_throttle.py``)."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from dashboard.context import SignedInUser, csrf_token, csrf_valid, get_db, session_limits
from dashboard.services import accounts, audit, sessions, sign_in_throttle

log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: no open redirect through ?next=.
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _wait_message(seconds: int) -> str:
    return f"Too many attempts. Try again in {seconds} second{'' if seconds == 1 else 's'}."


def register(server: Flask) -> None:
    """The login manager and the sign-in and sign-out routes of ``server``."""
    login_manager = LoginManager(server)
    login_manager.login_view = "sign_in"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str):
        # The cookie only names a session; the row decides (signed out, password changed,
        # deactivated, idle, expired: refused by every worker and instance alike).
        principal = sessions.principal_of_session(
            get_db(), session.get("sid"), user_id, session_limits()
        )
        return SignedInUser(principal) if principal else None

    @server.route("/login", methods=["GET", "POST"], endpoint="sign_in")
    def sign_in():
        next_url = _safe_next(request.values.get("next"))
        if current_user.is_authenticated:
            return redirect(next_url)
        error, status, headers = None, 200, {}
        email = ""
        if request.method == "POST":
            if not csrf_valid(request.form.get("csrf")):
                abort(400)  # no token, or not this session's: a forged or stale form
            email = request.form.get("email", "").strip()
            password = request.form.get("password", "")
            db = get_db()
            admission = sign_in_throttle.admit(db, email, request.remote_addr or "unknown")
            if admission.wait_s:  # refused before the password is looked at
                log.info("sign-in throttled for %ss", admission.wait_s)
                error, status = _wait_message(admission.wait_s), 429
                headers["Retry-After"] = str(admission.wait_s)
            else:
                with db.read() as db_session:
                    principal = accounts.authenticate(db_session, email, password)
                with db.write() as db_session:
                    audit.record(
                        db_session,
                        user_id=principal.user_id if principal else None,
                        action="sign_in" if principal else "sign_in_failed",
                        entity="session",
                        record_key=email.lower()[:80],
                    )
                    if principal:
                        sign_in_throttle.succeeded(db_session, admission.attempt_id)
                        accounts.upgrade_password_hash(db_session, principal.user_id, password)
                        token = sessions.start(db_session, principal.user_id)
                if principal:
                    session.clear()
                    session["sid"] = token
                    csrf_token()  # a new token for the signed-in session (its sign-out form)
                    login_user(SignedInUser(principal))
                    session.permanent = True
                    return redirect(next_url)
                error, status = "The e-mail or password is not right.", 401
        page = render_template(
            "login.html", error=error, email=email, next_url=next_url, csrf=csrf_token()
        )
        return page, status, headers

    @server.route("/logout", methods=["POST"], endpoint="sign_out")
    def sign_out():
        if not csrf_valid(request.form.get("csrf")):
            abort(400)  # a sign-out another site posted, or a form of another session
        with get_db().write() as db_session:
            sessions.end(db_session, session.get("sid"))  # audited when it was live
        logout_user()
        session.clear()
        return redirect(url_for("sign_in"))
