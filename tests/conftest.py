"""Shared fixtures: for each test that asks for one, a real database of its own (SQLite, or
PostgreSQL when DATABASE_URL points at it) holding a small demo portfolio — a copy of a
template built once per session — and the app, a Flask test client and a sign-in helper on
it."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shutil
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import psutil
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
# Copies of the template kept ready on PostgreSQL (~20 MB each): a run of quick tests takes
# them without waiting while slower tests give the thread time to make them.
SPARE_COPIES = 6

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


class Databases:
    """The suite's databases: a template built once per session (migrated, the portfolio
    loaded, its figures computed) and the copies of it that tests use, each dropped after
    its test.

    On SQLite a copy is a copy of the template's file (~3 ms). On PostgreSQL it is ``CREATE
    DATABASE … TEMPLATE`` (the default WAL_LOG strategy, ~0.15 s for this 20 MB database;
    FILE_COPY takes ~0.6 s as it forces a checkpoint) and ``DROP DATABASE … WITH (FORCE)``
    (~0.1 s): a thread of this class keeps a few copies ready and another drops the used
    ones, while the tests run.

    Names: ``<name>_template`` and ``<name>_<pid>_<n>`` beside the database named by
    DATABASE_URL (``test_template``, ``test_4711_12``), files of a temporary folder on
    SQLite. The database named by DATABASE_URL itself is only used when a Celery worker
    started outside the suite does the background work (REDIS_URL set): see ``worker_url``.
    """

    def __init__(self, base_url: str, folder: Path) -> None:
        self.base = make_url(base_url)
        self.postgres = self.base.get_backend_name() == "postgresql"
        self.folder = folder
        self.stem = self.base.database if self.postgres else "test"
        self.numbers = itertools.count(1)
        self.made: set[str] = set()  # to drop at the end at the latest
        self.template = self._url(f"{self.stem}_template")
        self.admin = None
        self.maker = self.dropper = None  # a thread each (PostgreSQL)
        self.spares: deque[Future] = deque()  # the next tests' copies, made or being made
        self.dropping: list[Future] = []
        self.handed = 0
        if self.postgres:
            self.admin = make_engine(self._url("postgres"), isolation_level="AUTOCOMMIT")
            self.maker = ThreadPoolExecutor(1, thread_name_prefix="test-database-maker")
            self.dropper = ThreadPoolExecutor(1, thread_name_prefix="test-database-dropper")
            # Their threads start now, before any dash test server: stopping one raises
            # SystemExit in every thread started after the server's (dash's KillerThread).
            for pool in (self.maker, self.dropper):
                pool.submit(lambda: None).result()

    def _url(self, name: str) -> str:
        if self.postgres:
            return self.base.set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.folder / f'{name}.db'}"

    @staticmethod
    def _name(url: str) -> str:
        return make_url(url).database

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def build_template(self, built) -> None:
        self.built = built
        self.drop(self.template)
        self.forget_leftovers()
        if self.postgres:
            self._sql(f'CREATE DATABASE "{self._name(self.template)}"')
        migrate.upgrade(self.template)
        engine = make_engine(self.template)
        write_portfolio(engine, built, _hashes(built))
        engine.dispose()
        database = Database(self.template)
        figures.recompute(database, TEST_TODAY)  # as seeding does: every view reads them
        database.dispose()
        if self.postgres:
            # Statistics for the planner, and nothing left for autovacuum to visit (a
            # session on the template makes CREATE DATABASE … TEMPLATE wait).
            engine = make_engine(self.template, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("VACUUM ANALYZE"))
            engine.dispose()
        else:
            # Everything in the main file: a copy is that one file.
            conn = sqlite3.connect(self._name(self.template))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def _new_url(self, kind: str = "") -> str:
        """A name no database of this session has had."""
        url = self._url(f"{self.stem}_{os.getpid()}_{kind}{next(self.numbers)}")
        self.made.add(url)
        return url

    def _create(self, url: str) -> str:
        self._sql(f'CREATE DATABASE "{self._name(url)}" TEMPLATE "{self._name(self.template)}"')
        return url

    def copy(self, url: str | None = None) -> str:
        """A fresh copy of the template: at ``url`` (whatever is there is dropped first) or
        under a name of its own."""
        if not self.postgres:
            url = url or self._new_url()
            self.drop(url)
            self.made.add(url)
            shutil.copyfile(self._name(self.template), self._name(url))
            return url
        if not self.spares:
            self.spares.append(self.maker.submit(self._create, self._new_url()))
        taken = self.spares.popleft()
        self.handed += 1
        # Made while tests run (slower tests give time to refill); as many as copies were
        # asked for so far, so a run of a few tests does not make six for nothing.
        while len(self.spares) < min(SPARE_COPIES, self.handed):
            self.spares.append(self.maker.submit(self._create, self._new_url()))
        ready = taken.result()
        if url is None:
            return ready
        self.drop(url)  # ends the sessions of whoever is connected (the worker)
        self._sql(f'ALTER DATABASE "{self._name(ready)}" RENAME TO "{self._name(url)}"')
        self.made.discard(ready)
        self.made.add(url)
        return url

    def empty(self) -> str:
        """An empty database of its own (for a portfolio of another size)."""
        url = self._new_url("private_")
        if self.postgres:
            self._sql(f'CREATE DATABASE "{self._name(url)}"')
        return url

    def drop(self, url: str, wait: bool = True) -> None:
        """Drop a database, ending whatever is still connected to it; ``wait=False``: in the
        dropping thread, for a name that is never used again."""
        self.made.discard(url)
        if not self.postgres:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._name(url)}{suffix}").unlink(missing_ok=True)
            return
        statement = f'DROP DATABASE IF EXISTS "{self._name(url)}" WITH (FORCE)'
        if wait:
            self._sql(statement)
        else:
            for done in [f for f in self.dropping if f.done()]:
                done.result()  # a drop that failed in the thread fails here
                self.dropping.remove(done)
            self.dropping.append(self.dropper.submit(self._sql, statement))

    def forget_leftovers(self) -> None:
        """Drop the copies that sessions killed before their end left on a local server."""
        if not self.postgres or self.base.host not in (None, "127.0.0.1", "localhost", "::1"):
            return
        with self.admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": self.stem.replace("_", r"\_") + r"\_%"},
            ).scalars()
            pattern = re.compile(rf"{re.escape(self.stem)}_(\d+)_(private_)?\d+")
            for name in list(names):
                found = pattern.fullmatch(name)
                if found and not psutil.pid_exists(int(found.group(1))):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for pool in (self.maker, self.dropper):
            if pool is not None:
                pool.shutdown(wait=True)
        for done in [*self.spares, *self.dropping]:
            done.result()  # a failure in a thread is reported here
        for url in list(self.made):
            self.drop(url)
        self.drop(self.template)
        if self.admin is not None:
            self.admin.dispose()


def worker_url() -> str | None:
    """With REDIS_URL set, background work goes to a Celery worker that was started before
    the suite (CI's third pass) with DATABASE_URL: it reads and writes that database only, so
    each test's copy is made under that name (dropped and made anew per test), and the test
    waits at its end until the worker has nothing of it left to do. None otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url and os.environ.get("REDIS_URL") else None


def _hashes(built) -> list[str]:
    """The demo password hashed for each person of the portfolio, each with its own salt."""
    return seed_password_hashes(DEMO_PASSWORD, len(built.frames["app_user"]))


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """The template (the 12-site demo portfolio, figures computed) and its copies."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = "sqlite://"
    manager = Databases(url, tmp_path_factory.mktemp("db"))
    manager.build_template(build_portfolio(TEST_SITES, TEST_SEED, TEST_TODAY))
    yield manager
    manager.close()


@pytest.fixture(scope="session")
def portfolio(databases):
    """The 12-site portfolio built by the demo generator: what every test's database holds
    when the test starts."""
    return databases.built


@pytest.fixture
def database_url(databases):
    """A database of this test's own: a fresh copy of the template, dropped after the test.
    ``db``, ``settings`` and ``app`` (and processes a test starts with this URL) share it;
    no other test sees it."""
    worker = worker_url()
    url = databases.copy(worker)
    yield url
    if worker:
        _wait_for_the_worker(os.environ["REDIS_URL"])
    databases.drop(url, wait=bool(worker))  # the worker's name is taken again by the next


def _wait_for_the_worker(redis_url: str, timeout: float = 120.0) -> None:
    """Until the suite's Celery worker has nothing queued or running: messages wait in the
    list ``celery`` and, once delivered, stay in the hash ``unacked`` until the task ends
    (every task acknowledges late, ``dashboard.tasks``)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout
        while client.llen("celery") or client.hlen("unacked"):
            if time.monotonic() > deadline:
                raise AssertionError("the Celery worker still runs this test's jobs")
            time.sleep(0.05)
    finally:
        client.close()


@pytest.fixture
def private_portfolio(databases, request):
    """A small portfolio in a database of its own (3 sites unless parametrised), for tests
    that want another size or start processes of their own. Yields (Database, portfolio)."""
    sites = getattr(request, "param", 3)
    url = databases.empty()
    migrate.upgrade(url)
    built = build_portfolio(sites, TEST_SEED, TEST_TODAY)
    database = Database(url)
    write_portfolio(database.engine, built, _hashes(built))
    figures.recompute(database, TEST_TODAY)
    yield database, built
    database.dispose()
    databases.drop(url, wait=False)


@pytest.fixture
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
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def app(settings):
    dash_app = create_app(settings)
    yield dash_app
    # A refresh of the figures this app started in a thread (no Redis) ends before the
    # test's database is dropped.
    for thread in threading.enumerate():
        if thread.name.startswith("figures-") and thread is not threading.current_thread():
            thread.join(timeout=120)
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
