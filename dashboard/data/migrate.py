"""Run the Alembic migrations of this package programmatically."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
OWNER_URL_ENV = "DATABASE_OWNER_URL"


def schema_url(app_url: str) -> str:
    """The URL that migrations (and bulk loads) run with: ``DATABASE_OWNER_URL`` when set —
    the role that owns the tables (``python -m dashboard db-roles``); the app's own role may
    not change the schema — else ``app_url``. Both must name the same database."""
    owner_url = os.environ.get(OWNER_URL_ENV)
    if not owner_url:
        return app_url
    owner, app = make_url(owner_url), make_url(app_url)
    where = ("drivername", "host", "port", "database")
    if any(getattr(owner, part) != getattr(app, part) for part in where):
        raise ValueError(
            f"{OWNER_URL_ENV} names another database than DATABASE_URL "
            f"({owner.render_as_string()} vs {app.render_as_string()})"
        )
    return owner_url


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creates it from empty)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
