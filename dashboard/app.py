"""Application factory: the Flask server, sign-in, security headers and the Dash app."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dash
from flask import Flask, jsonify, redirect, request, url_for
from flask_caching import Cache
from flask_login import current_user
from sqlalchemy.exc import DataError
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import auth
from dashboard.config import Settings
from dashboard.data.db import Database
from dashboard.security import register_security_headers
from dashboard.services import sessions
from dashboard.tasks import Jobs

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR.parent / "assets"
BACKGROUND_CACHE_DIR = PACKAGE_DIR.parent / "instance" / "background-jobs"
LOCAL_CACHE_DIR = PACKAGE_DIR.parent / "instance" / "cache"

# Paths served without a session: the sign-in page and static files only.
log = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
MAX_BODY = 2_000_000  # bytes of a request body (uploads, when they come, get their own limit)
PUBLIC_EXACT = ("/login", "/healthz", "/_favicon.ico", "/favicon.ico")


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Flask server and the Dash app; returns the Dash app (``.server`` is Flask)."""
    settings = settings or Settings.from_env()
    server = Flask(__name__, template_folder=str(PACKAGE_DIR / "templates"))
    server.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=sessions.LIFETIME,
        # The cookie is written when the session changes (sign-in, sign-out), not by every
        # callback: a callback answered after sign-out cannot put the old session back, and
        # the 8-hour lifetime is absolute (DOMAIN.md §9; the session's row enforces it).
        SESSION_REFRESH_EACH_REQUEST=False,
        # The largest callback body is ~50 KB; a larger one is refused (413) before it is
        # read, parsed or logged.
        MAX_CONTENT_LENGTH=MAX_BODY,
        TESTING=settings.testing,
    )
    server.extensions["dashboard.settings"] = settings
    server.extensions["dashboard.db"] = Database(settings.database_url)
    # Redis when there is one; else a folder every worker of this machine shares (so the
    # statistics window and a report's roll-up kept by one gunicorn worker serve the
    # others), a private one per app in tests. Sessions and sign-in throttling live in the
    # database (they must hold on every instance, and after a restart).
    cache_config = (
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url}
        if settings.redis_url
        else {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": tempfile.mkdtemp(prefix="dashboard-cache-")
            if settings.testing
            else str(LOCAL_CACHE_DIR),
            "CACHE_THRESHOLD": 20_000,
        }
    )
    cache = Cache(server, config={**cache_config, "CACHE_KEY_PREFIX": "dashboard:"})
    server.extensions["dashboard.cache"] = cache

    jobs = Jobs(settings, server.extensions["dashboard.db"])
    server.extensions["dashboard.jobs"] = jobs

    if settings.trusted_proxies:
        # The client's address (sign-in throttling) and scheme as the nearest N proxies saw
        # them; without it X-Forwarded-For is ignored (anyone can send one).
        count = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=count, x_proto=count)

    auth.register(server)
    _register_health(server)
    _register_guards(server)

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(ASSETS_DIR),
        title="Site Forecasting",
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        background_callback_manager=_background_manager(settings, jobs),
    )
    from dashboard.callbacks import adjustments as adjustments_callbacks
    from dashboard.callbacks import audit as audit_callbacks
    from dashboard.callbacks import exports as export_callbacks
    from dashboard.callbacks import home as home_callbacks
    from dashboard.callbacks import impact as impact_callbacks
    from dashboard.callbacks import payroll as payroll_callbacks
    from dashboard.callbacks import performance as performance_callbacks
    from dashboard.callbacks import pnl as pnl_callbacks
    from dashboard.callbacks import report as report_callbacks
    from dashboard.callbacks import review as review_callbacks
    from dashboard.callbacks import shell as shell_callbacks
    from dashboard.callbacks import submission as submission_callbacks
    from dashboard.callbacks import workspace as workspace_callbacks
    from dashboard.components.shell import app_shell

    app.layout = app_shell
    shell_callbacks.register(app)
    home_callbacks.register(app)
    workspace_callbacks.register(app)
    payroll_callbacks.register(app)
    adjustments_callbacks.register(app)
    pnl_callbacks.register(app)
    impact_callbacks.register(app)
    submission_callbacks.register(app)
    submission_callbacks.register_home(app)
    review_callbacks.register(app)
    review_callbacks.register_thresholds(app)
    audit_callbacks.register(app)
    performance_callbacks.register(app)
    report_callbacks.register(app)
    export_callbacks.register(app)
    _register_callback_checks(app)
    _finish_setup(app)
    register_security_headers(app)  # after setup: hashes every inline script
    return app


CALLBACK_PATH = "/_dash-update-component"


def _callback_body_problem(body, callback_map) -> str | None:
    """Why a callback request body is not one the app can answer (None: it can)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "no such callback"
    if not isinstance(body.get("outputs"), dict | list):
        return "outputs must be an object or a list"
    for name in ("inputs", "state"):
        items = body.get(name, [])
        if not isinstance(items, list):
            return f"{name} must be a list"
        for item in items:
            if isinstance(item, list):  # pattern-matching (ALL) inputs: a list of specs
                if not all(isinstance(i, dict) and "property" in i for i in item):
                    return f"each of {name} needs an id and a property"
            elif not (isinstance(item, dict) and "id" in item and "property" in item):
                return f"each of {name} needs an id and a property"
    if not isinstance(body.get("changedPropIds", []), list):
        return "changedPropIds must be a list"
    return None


def _register_callback_checks(app: dash.Dash) -> None:
    """A malformed callback request gets a 400 with a short reason, never a 500: its shape
    is checked before Dash reads it, and values of the wrong kind that a callback trips on
    (a number where a month goes, an object where a list goes) answer 400 too (logged,
    without the body)."""
    server = app.server

    @server.before_request
    def _well_formed_callback():
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        problem = _callback_body_problem(request.get_json(silent=True), app.callback_map)
        if problem:
            return jsonify(error=f"Malformed callback request: {problem}."), 400
        return None

    @server.errorhandler(TypeError)
    @server.errorhandler(ValueError)
    @server.errorhandler(OverflowError)
    @server.errorhandler(DataError)  # a value the database refuses (out of its range)
    @server.errorhandler(dash.exceptions.UnsupportedRelativePath)  # a page path Dash refuses
    @server.errorhandler(dash.exceptions.InvalidCallbackReturnValue)  # e.g. a 2**64 input
    @server.errorhandler(KeyError)
    @server.errorhandler(AttributeError)
    @server.errorhandler(IndexError)
    def _values_do_not_fit(error):
        if request.path != CALLBACK_PATH:
            raise error
        output = (request.get_json(silent=True) or {}).get("output", "?")
        log.warning(
            "callback %s refused values it could not use: %s: %s",
            str(output)[:120],
            type(error).__name__,
            str(error)[:200],
        )
        return jsonify(error="The request's values do not fit this callback."), 400


def _finish_setup(app: dash.Dash) -> None:
    """Run Dash's first-request setup (its resources, scripts, the pages router) now, before
    the server takes any request. Dash runs it in a before-request hook that marks itself done
    before it is: a fresh worker's first parallel requests could be served half set up (a 500
    for "dash is not a registered library", an empty stylesheet, a page stuck on Loading)."""
    server = app.server
    hooks = [
        hook
        for hook in server.before_request_funcs.get(None, [])
        if getattr(hook, "__module__", "") == "dash.dash"
    ]
    with server.test_request_context("/"):
        for hook in hooks:
            hook()


def _background_manager(settings: Settings, jobs: Jobs):
    """Dash background callbacks (long exports, bulk actions) run as Celery tasks with Redis;
    without Redis, in a process of this machine with a disk cache for their progress."""
    if jobs.queued:
        return dash.CeleryManager(jobs.celery)
    import diskcache

    folder = BACKGROUND_CACHE_DIR if not settings.testing else None
    return dash.DiskcacheManager(diskcache.Cache(str(folder) if folder else None))


def _register_health(server: Flask) -> None:
    @server.route("/healthz")
    def health():
        return jsonify(status="ok")


def _register_guards(server: Flask) -> None:
    @server.before_request
    def _same_origin_posts():
        """A state-changing request that a browser says came from another site is refused
        (browsers send Origin with every POST; scripts and tests that send none pass on to
        the session and token checks)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        sent = request.headers.get("Origin") or request.headers.get("Referer")
        if sent and sent != "null" and urlsplit(sent).netloc != request.host:
            return jsonify(error="Refused: this request came from another site."), 403
        return None

    @server.errorhandler(413)
    def _too_large(_error):
        return jsonify(error=f"Refused: requests are limited to {MAX_BODY // 1_000_000} MB."), 413

    @server.before_request
    def _require_sign_in():
        path = request.path
        if path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
            return None
        if current_user.is_authenticated:
            return None
        if path.startswith("/_dash-") or request.method != "GET":
            return jsonify(error="Sign in first."), 401
        return redirect(url_for("sign_in", next=request.full_path.rstrip("?")))
