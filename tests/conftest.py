"""Shared fixtures: a real database (SQLite, or PostgreSQL when DATABASE_URL points at it)
holding a small demo portfolio, the app, a Flask test client and a sign-in helper."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.data import migrate
from dashboard.data.db import Database, make_engine
from dashboard.data.models import User
from dashboard.data.seed import DEMO_PASSWORD, build_portfolio, write_portfolio
from dashboard.services import figures
from dashboard.services.accounts import principal_of, seed_password_hashes

TEST_TODAY = dt.date(2026, 11, 23)
TEST_SITES = 12
TEST_SEED = 11

os.environ.setdefault("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")


def pytest_setup_options():
    """Chromium options for dash[testing] (headless is added by --headless)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    return options


def _reset_database(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    _reset_database(url)
    migrate.upgrade(url)
    return url


def _hashes(built) -> list[str]:
    """The demo password hashed for each person of the portfolio, each with its own salt."""
    return seed_password_hashes(DEMO_PASSWORD, len(built.frames["app_user"]))


@pytest.fixture(scope="session")
def portfolio(database_url):
    """A 12-site portfolio built by the demo generator, loaded once per test session."""
    built = build_portfolio(TEST_SITES, TEST_SEED, TEST_TODAY)
    engine = make_engine(database_url)
    write_portfolio(engine, built, _hashes(built))
    engine.dispose()
    database = Database(database_url)
    figures.recompute(database, TEST_TODAY)  # as seeding does: every view reads them
    database.dispose()
    return built


def private_database_url(database_url: str, name: str) -> str:
    """A second, empty database beside the suite's: a file next to it on SQLite, a database
    of the same server on PostgreSQL (dropped and created anew)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        path = Path(parsed.database).with_name(f"{name}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    private = f"{parsed.database}_{name}"
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{private}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{private}"'))
    admin.dispose()
    return parsed.set(database=private).render_as_string(hide_password=False)


@pytest.fixture
def private_portfolio(database_url, request):
    """A small portfolio in a database of its own, for tests that make many changes: the
    shared database stays as other tests expect it. Yields (Database, portfolio)."""
    sites = getattr(request, "param", 3)
    url = private_database_url(database_url, f"private_{os.getpid()}")
    migrate.upgrade(url)
    built = build_portfolio(sites, TEST_SEED, TEST_TODAY)
    database = Database(url)
    write_portfolio(database.engine, built, _hashes(built))
    figures.recompute(database, TEST_TODAY)
    yield database, built
    database.dispose()


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    # REDIS_URL set (CI's third pass): the shared cache, the job queue and background
    # callbacks go through Redis to a Celery worker started with the same SECRET_KEY.
    return Settings(
        database_url=database_url,
        secret_key=os.environ.get("SECRET_KEY") or "test-secret-key-not-for-production",
        redis_url=os.environ.get("REDIS_URL") or None,
        today_override=TEST_TODAY,
        testing=True,
    )


@pytest.fixture(autouse=True)
def _shared_cache_per_test():
    """With Redis, the app's cache outlives an app instance: sign-in throttles and revoked
    sessions of one test must not reach the next."""
    yield
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter("dashboard:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def db(database_url, portfolio):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def app(settings, portfolio):
    dash_app = create_app(settings)
    yield dash_app
    dash_app.server.extensions["dashboard.db"].dispose()


@pytest.fixture
def client(app):
    return app.server.test_client()


class SignIn:
    """Signs a Flask test client in through the real sign-in form."""

    def __init__(self, client) -> None:
        self.client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, next_url: str = "/"):
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return self.client.post(
            "/login",
            data={"csrf": token, "email": email, "password": password, "next": next_url},
        )

    def logout(self):
        with self.client.session_transaction() as session:
            token = session.get("csrf", "")
        return self.client.post("/logout", data={"csrf": token})


@pytest.fixture
def auth(client) -> SignIn:
    return SignIn(client)


def sites_of(portfolio, email: str) -> set[int]:
    """Site ids an account manager is assigned to, straight from the generated frames."""
    users = portfolio["app_user"]
    user_id = int(users.loc[users["email"] == email, "id"].iloc[0])
    grants = portfolio["scope_assignment"]
    return {int(s) for s in grants.loc[grants["user_id"] == user_id, "site_id"].dropna()}


def person_for_site(db, portfolio, site_id, role="district_manager"):
    """A person of ``role`` whose scope holds ``site_id``."""
    site = portfolio["site"].set_index("id").loc[site_id]
    grants = portfolio["scope_assignment"]
    users = portfolio["app_user"].set_index("id")
    for grant in grants.itertuples():
        district, granted_site = grant.district_id, grant.site_id
        if role == "district_manager" and pd.notna(district) and district == site["district_id"]:
            break
        if role == "account_manager" and pd.notna(granted_site) and granted_site == site_id:
            break
    else:  # pragma: no cover - the generator gives every district a manager
        raise AssertionError("nobody covers the site")
    with db.read() as session:
        user = session.scalar(select(User).where(User.email == users.at[grant.user_id, "email"]))
        return principal_of(user)


def post_background(client, body: dict, timeout: float = 60.0):
    """Post a background callback the way the renderer does: the first answer names the
    job, then the same request with its handles is repeated until the job's answer comes
    (the job runs in the Celery worker or a local process). Returns the last response."""
    import time

    answer = client.post("/_dash-update-component", json=body)
    if answer.status_code != 200:
        return answer
    handles = answer.get_json()
    assert "cacheKey" in handles and "job" in handles, handles
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.post(
            "/_dash-update-component",
            json=body,
            query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]},
        )
        data = answer.get_json() if answer.status_code == 200 else None
        if answer.status_code != 200 or (data and "response" in data):
            return answer
        time.sleep(0.2)
    raise AssertionError("the background job did not answer in time")
