"""Settings read from environment variables, with safe development defaults.

Every default that is only fit for development is reported by :func:`development_warnings`
so the command line can print it at start.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "dashboard.db"


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@dataclass(frozen=True)
class Settings:
    """Runtime settings of one app instance."""

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = ""
    redis_url: str | None = None
    # Fixed "today" for demos and tests; None means the real date.
    today_override: dt.date | None = None
    session_cookie_secure: bool = False
    # Minutes a session may go unused before it ends (it ends 8 hours after sign-in anyway).
    session_idle_minutes: int = 60
    # Proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none).
    trusted_proxies: int = 0
    testing: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        today_raw = env.get("DASHBOARD_TODAY")
        values: dict[str, object] = {
            "database_url": env.get("DATABASE_URL") or default_database_url(),
            "secret_key": env.get("SECRET_KEY", ""),
            "redis_url": env.get("REDIS_URL") or None,
            "today_override": dt.date.fromisoformat(today_raw) if today_raw else None,
            "session_cookie_secure": env.get("SESSION_COOKIE_SECURE", "0") == "1",
            "session_idle_minutes": int(env.get("SESSION_IDLE_MINUTES") or 60),
            "trusted_proxies": int(env.get("TRUSTED_PROXIES") or 0),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def resolved_secret_key(self) -> str:
        # Without SECRET_KEY, a random key is generated once and kept in instance/ so that
        # every worker of this machine signs sessions alike; production must set SECRET_KEY.
        return self.secret_key or _instance_secret()

    def today(self) -> dt.date:
        return self.today_override or dt.date.today()


SECRET_KEY_FILE = PROJECT_ROOT / "instance" / "secret_key"


def _instance_secret() -> str:
    if not SECRET_KEY_FILE.exists():
        SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return SECRET_KEY_FILE.read_text().strip()


def development_warnings(settings: Settings) -> list[str]:
    notes = []
    if not settings.secret_key:
        notes.append(
            f"SECRET_KEY is not set: using a generated development key kept in {SECRET_KEY_FILE} "
            "(set SECRET_KEY in production)."
        )
    if settings.database_url.startswith("sqlite"):
        notes.append(f"DATABASE_URL is the embedded SQLite database: {settings.database_url}")
    if not settings.redis_url:
        notes.append(
            "REDIS_URL is not set: the cache is a folder of this machine (instance/cache) and "
            "background work runs inside the web processes."
        )
    return notes
