"""The Celery worker's entry point: ``celery -A dashboard.worker:celery worker`` (Procfile ``worker:``).

The worker builds the same app as the web processes so that the tasks of the Dash background
callbacks (registered with the app's Celery app) and the figure recomputes are known to it.
Needs ``REDIS_URL``; without it, background work runs inside the web processes.
"""

from __future__ import annotations

from dashboard.app import create_app
from dashboard.config import Settings

settings = Settings.from_env()
if not settings.redis_url:
    raise SystemExit("The worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).")
dash_app = create_app(settings)  # not named "app": celery -A would take it for its own
celery = dash_app.server.extensions["dashboard.jobs"].celery
