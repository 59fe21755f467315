"""Setting up a database: migrate, load the demo portfolio, find the demo sign-ins."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.data import migrate
from dashboard.data.db import Database
from dashboard.data.models import AppSetting, Site
from dashboard.data.seed import DEMO_PASSWORD, build_portfolio, write_portfolio
from dashboard.services import figures
from dashboard.services.accounts import seed_password_hashes

DEMO_ACCOUNTS_KEY = "demo_sign_ins"


@dataclass(frozen=True)
class SeedReport:
    sites: int
    rows: int
    build_seconds: float
    write_seconds: float
    demo_accounts: dict[str, str]
    figures_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.build_seconds + self.write_seconds + self.figures_seconds


def site_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Site)) or 0


def seed_demo(
    db: Database,
    n_sites: int = 650,
    seed: int = 7,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Load a demo portfolio into an empty, migrated database and compute its derived
    figures (``progress(done, total)`` after each batch of sites)."""
    with db.read() as session:
        if site_count(session):
            raise RuntimeError("The database already holds sites; use --reset to start over.")
    today = today or dt.date.today()
    t0 = time.perf_counter()
    portfolio = build_portfolio(n_sites, seed, today)
    t1 = time.perf_counter()
    people = len(portfolio.frames["app_user"])
    rows = write_portfolio(db.engine, portfolio, seed_password_hashes(DEMO_PASSWORD, people))
    t2 = time.perf_counter()
    with db.write() as session:
        session.merge(AppSetting(key=DEMO_ACCOUNTS_KEY, value=json.dumps(portfolio.demo_accounts)))
    db.analyze()  # the planner's statistics of the loaded tables
    figures.recompute(db, today, progress=progress)
    db.analyze()
    t3 = time.perf_counter()
    return SeedReport(
        n_sites, sum(rows.values()), t1 - t0, t2 - t1, portfolio.demo_accounts, t3 - t2
    )


def demo_accounts(db: Database) -> dict[str, str]:
    with db.read() as session:
        stored = session.scalar(select(AppSetting.value).where(AppSetting.key == DEMO_ACCOUNTS_KEY))
    return json.loads(stored) if stored else {}


def prepare_database(url: str, reset: bool = False) -> None:
    """Migrate to the latest schema (from empty when ``reset``)."""
    if reset:
        migrate.downgrade(url, "base")
    migrate.upgrade(url)
