"""Per-request access to the app's database, settings and the signed-in person."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_login import UserMixin, current_user

from dashboard.config import Settings
from dashboard.data.db import Database
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


def current_principal() -> Principal | None:
    """The signed-in person, or None (callbacks must refuse then)."""
    if not current_user or not current_user.is_authenticated:
        return None
    return current_user.principal


def today() -> dt.date:
    return get_settings().today()
