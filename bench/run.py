"""Benchmark harness: time the home page's services and Dash callbacks on a seeded portfolio.

Run ``python -m bench.run --help``; README.md in this folder explains the scenarios and the
budgets. By default the portfolio is built in its own SQLite file ``bench/out/bench-<sites>.db``
(never the app's ``instance/dashboard.db``); ``--database-url`` resets and seeds another
database instead (e.g. PostgreSQL). "Today" is fixed at :data:`TODAY` so every run measures the
same data.

Adding a scenario
-----------------
A scenario is a function ``(ctx: Context) -> Measurement`` stored in :data:`SCENARIOS` under
its name; the ``@scenario("name")`` decorator does that, and the table lists scenarios in
registration order. A scenario does its setup (signing in, picking a site), then hands one
operation to ``ctx.measure(op)``, which runs it ``--warmup`` times untimed and ``--repeat``
times timed with :func:`time.perf_counter`. ``op`` takes no arguments, does the thing once,
raises :class:`BenchError` when the result is wrong, and returns the payload size in bytes
(or ``None`` when there is no payload)::

    @scenario("site_detail_service_account_manager")
    def site_detail_service(ctx: Context) -> Measurement:
        principal = ctx.principal("account_manager")
        site_id = ctx.first_site("account_manager")

        def op() -> None:
            with ctx.db.read() as session:
                detail = home.site_month_detail(
                    session, principal, site_id, *ctx.year_month, ctx.today
                )
            if detail is None:
                raise BenchError("site out of scope")

        return ctx.measure(op)

Helpers on :class:`Context`: ``db`` (a :class:`Database` on the bench database), ``app`` (the
Dash app, built once), ``principal(role)``, ``client(role)`` (a Flask test client signed in as
that demo role, with the Dash layout and dependencies already fetched), ``first_site(role)``,
``callback(client, output, inputs, state)`` (POST ``/_dash-update-component``, checked;
returns the response size) and ``month`` / ``year_month`` / ``today``. To give the scenario a
budget, add its name prefix to :data:`BUDGETS_MS`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import math
import platform
import re
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from dashboard.config import DEFAULT_SQLITE_PATH, Settings
from dashboard.data.db import Database
from dashboard.data.models import Base
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services import accounts, figures, home, portfolio, workspace_save
from dashboard.services import payroll as payroll_service
from dashboard.services import statistics as statistics_service
from dashboard.services.scope import Principal, visible_site_ids

TODAY = dt.date(2026, 11, 23)
OUT_DIR = Path(__file__).resolve().parent / "out"
BENCH_SECRET_KEY = "bench-only-not-a-secret"  # keeps the app off instance/secret_key
ROLES = ("account_manager", "district_manager", "regional_vp", "executive", "admin")
SITE_ROLES = ("account_manager", "district_manager")  # home page lists sites; others districts
# Budgets (p95, milliseconds) by scenario-name prefix; first match wins.
BUDGETS_MS: dict[str, float] = {
    "home_service_": 300.0,
    "home_callback_": 300.0,
    "site_detail_callback_": 300.0,
    "statistics_live_impact": 500.0,
    "statistics_save_month": 400.0,
    "statistics_": 300.0,
    "payroll_": 300.0,
    "pnl_site_": 200.0,
    "pnl_district_": 500.0,
    "pnl_": 2000.0,
    "review_district_": 500.0,
    "review_approve_one": 200.0,
    "review_bulk_approve_": 2000.0,
    "figures_recompute_": 120_000.0,
    "review_region_": 2000.0,
    "report_regional_": 2000.0,
    "kpi_trends_": 2000.0,
    "benchmark_": 2000.0,
    "waterfall_": 2000.0,
}
CSRF_RE = re.compile(r'name="csrf"\s+value="([^"]+)"')


class BenchError(RuntimeError):
    """A scenario got a wrong answer (status code, missing output, ...)."""


@dataclass
class Measurement:
    name: str
    times_ms: list[float] = field(default_factory=list)
    payload_bytes: int | None = None
    notes: str = ""
    error: str | None = None
    floor_p50_ms: float | None = None  # --floor: the minimal SQL + orjson of the same scope

    @property
    def floor_ratio(self) -> float | None:
        if not self.floor_p50_ms or self.p50 is None:
            return None
        return self.p50 / self.floor_p50_ms

    @property
    def n(self) -> int:
        return len(self.times_ms)

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile (q in 0..100) of the timed runs."""
        if not self.times_ms:
            return None
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def p50(self) -> float | None:
        return statistics.median(self.times_ms) if self.times_ms else None

    @property
    def p95(self) -> float | None:
        return self.percentile(95)

    @property
    def max(self) -> float | None:
        return max(self.times_ms) if self.times_ms else None

    @property
    def budget_ms(self) -> float | None:
        for prefix, budget in BUDGETS_MS.items():
            if self.name.startswith(prefix):
                return budget
        return None

    @property
    def over_budget(self) -> bool:
        return self.budget_ms is not None and self.p95 is not None and self.p95 > self.budget_ms

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "n": self.n,
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "max_ms": self.max,
            "budget_ms": self.budget_ms,
            "over_budget": self.over_budget,
        }


@dataclass
class DataInfo:
    """The portfolio under test and how it got there."""

    url: str
    backend: str
    sites: int
    seed: int
    reused: bool
    build_seconds: float | None
    write_seconds: float | None
    seeded_rows: int | None
    total_rows: int
    size_mb: float
    demo_accounts: dict[str, str]
    figures_seconds: float | None = None

    @property
    def seed_seconds(self) -> float | None:
        if self.build_seconds is None or self.write_seconds is None:
            return None
        return self.build_seconds + self.write_seconds


# --------------------------------------------------------------------------------------------
# Floors (--floor): the least any implementation must do for a scenario's scope — its rows
# read with plain SQL and serialised with orjson — timed beside the scenario.

FLOORS: dict[str, Callable[[Context], Callable[[], int]]] = {}


def floor(name: str):
    def register(fn):
        FLOORS[name] = fn
        return fn

    return register


def _raw(ctx: Context, sql: str, **params) -> int:
    import orjson

    with ctx.db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params).fetchall()]
    return len(orjson.dumps(rows, default=str))


@floor("statistics_window_service")
def _floor_window(ctx: Context):
    site_id, _person = _largest_hotel_and_editor(ctx)
    first, last = dt.date(2026, 11, 1), dt.date(2027, 1, 31)

    def op() -> int:
        return _raw(
            ctx,
            "SELECT * FROM site_statistic_day WHERE site_id = :s AND day BETWEEN :a AND :b",
            s=site_id, a=first, b=last,
        ) + _raw(
            ctx,
            "SELECT * FROM parking_rate_month WHERE site_id = :s AND year IN (2026, 2027)",
            s=site_id,
        ) + _raw(
            ctx,
            "SELECT * FROM statistic_budget_month WHERE site_id = :s AND year IN (2026, 2027)",
            s=site_id,
        ) + _raw(
            ctx,
            "SELECT * FROM statistic_proposal_day WHERE site_id = :s AND day BETWEEN :a AND :b",
            s=site_id, a=first, b=last,
        )  # fmt: skip

    return op


@floor("review_district_rollup")
def _floor_rollup(ctx: Context):
    from dashboard.services import review

    district_id, _count, _person = _largest_district_and_manager(ctx)
    year, month = review.forecast_month(ctx.today)
    sites = "SELECT id FROM site WHERE district_id = :d"

    def op() -> int:
        return _raw(
            ctx,
            f"SELECT * FROM site_month_figure WHERE series = 'forecast' AND year = :y "
            f"AND month = :m AND site_id IN ({sites})",
            y=year, m=month, d=district_id,
        ) + _raw(
            ctx,
            f"SELECT * FROM pnl_month WHERE kind = 'budget' AND year = :y AND month = :m "
            f"AND site_id IN ({sites})",
            y=year, m=month, d=district_id,
        ) + _raw(
            ctx,
            f"SELECT * FROM forecast_submission WHERE year = :y AND month = :m "
            f"AND site_id IN ({sites})",
            y=year, m=month, d=district_id,
        )  # fmt: skip

    return op


def _floor_year(ctx: Context):
    year = ctx.today.year

    def op() -> int:
        return _raw(
            ctx,
            "SELECT * FROM site_month_figure WHERE series = 'forecast' AND year = :y",
            y=year,
        ) + _raw(
            ctx,
            "SELECT * FROM pnl_month WHERE kind = 'budget' AND year = :y",
            y=year,
        )  # fmt: skip

    return op


floor("pnl_portfolio_executive")(_floor_year)


@floor("report_regional_executive")
def _floor_report(ctx: Context):
    year_rows = _floor_year(ctx)
    year = ctx.today.year

    def op() -> int:
        return year_rows() + _raw(
            ctx,
            "SELECT * FROM pnl_month WHERE kind = 'actual' AND year = :y",
            y=year - 1,
        ) + _raw(
            ctx,
            "SELECT * FROM site_month_figure WHERE series = 'submitted' AND year = :y",
            y=year,
        ) + _raw(
            ctx,
            "SELECT site_id, status FROM forecast_submission WHERE year = :y",
            y=year,
        )  # fmt: skip

    return op


# --------------------------------------------------------------------------------------------
# Preparing the database


def default_url(sites: int) -> str:
    return f"sqlite:///{OUT_DIR / f'bench-{sites}.db'}"


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_url_is_safe(url: str) -> None:
    """The harness wipes its database: refuse the app's own file and the test database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if Path(parsed.database).resolve() == DEFAULT_SQLITE_PATH.resolve():
                raise SystemExit(f"Refusing to benchmark on the app's database {parsed.database}.")
        else:
            raise SystemExit("Use a SQLite file, not an in-memory database.")
    elif parsed.database == "test":
        raise SystemExit("Refusing to reset the database named 'test' (the test suite's).")


def _sqlite_files(url: str) -> list[Path]:
    base = Path(make_url(url).database)
    return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]


def _meta_path(url: str) -> Path:
    base = Path(make_url(url).database)
    return base.with_name(base.stem + ".seed.json")


def _count_rows(db: Database) -> int:
    total = 0
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            total += session.scalar(select(func.count()).select_from(table)) or 0
    return total


def _size_mb(db: Database, url: str) -> float:
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in _sqlite_files(url) if p.exists()) / 1e6
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            return conn.scalar(text("select pg_database_size(current_database())")) / 1e6
    return float("nan")


def _holds_portfolio(db: Database, sites: int) -> bool:
    try:
        with db.read() as session:
            count = portfolio.site_count(session)
    except Exception:  # no schema yet
        return False
    return count == sites and bool(portfolio.demo_accounts(db))


def prepare_data(url: str, sites: int, seed: int, keep: bool) -> DataInfo:
    """Build (or, with ``keep``, reuse) the portfolio; returns what was measured on the way."""
    check_url_is_safe(url)
    backend = make_url(url).get_backend_name()
    wanted = {"sites": sites, "seed": seed, "today": TODAY.isoformat()}
    previous: dict[str, Any] = {}
    reuse = False
    if backend == "sqlite":
        meta_path = _meta_path(url)
        if keep and meta_path.exists() and _sqlite_files(url)[0].exists():
            previous = json.loads(meta_path.read_text())
            reuse = all(previous.get(k) == v for k, v in wanted.items())
        if reuse:
            portfolio.prepare_database(url)  # bring a kept file to the current schema
        else:
            for path in [*_sqlite_files(url), meta_path]:
                path.unlink(missing_ok=True)
            portfolio.prepare_database(url)
    else:
        if keep:
            portfolio.prepare_database(url)
        else:
            portfolio.prepare_database(url, reset=True)

    db = Database(url)
    try:
        if reuse or (backend != "sqlite" and keep):
            reuse = _holds_portfolio(db, sites)
            if not reuse:  # --keep on a database that holds something else: start over
                db.dispose()
                portfolio.prepare_database(url, reset=True)
                db = Database(url)
        if reuse:
            build = previous.get("build_seconds")
            write = previous.get("write_seconds")
            seeded_rows = previous.get("rows")
            demo = portfolio.demo_accounts(db)
            # A kept database from before the derived figures, or computed for another day.
            figures_seconds = figures.recompute(db, TODAY, only_stale=True).seconds
        else:
            report = portfolio.seed_demo(db, sites, seed, TODAY)
            build, write, seeded_rows = report.build_seconds, report.write_seconds, report.rows
            figures_seconds = report.figures_seconds
            demo = report.demo_accounts
            if backend == "sqlite":
                _meta_path(url).write_text(
                    json.dumps(
                        {
                            **wanted,
                            "build_seconds": build,
                            "write_seconds": write,
                            "rows": seeded_rows,
                        }
                    )
                )
        missing = [role for role in ROLES if role not in demo]
        if missing:
            raise BenchError(f"The seeded portfolio has no demo account for {missing}.")
        return DataInfo(
            url=url,
            backend=backend,
            sites=sites,
            seed=seed,
            reused=reuse,
            build_seconds=build,
            write_seconds=write,
            figures_seconds=figures_seconds,
            seeded_rows=seeded_rows,
            total_rows=_count_rows(db),
            size_mb=_size_mb(db, url),
            demo_accounts=demo,
        )
    finally:
        db.dispose()


# --------------------------------------------------------------------------------------------
# The context scenarios work with


class Context:
    def __init__(self, args: argparse.Namespace, data: DataInfo) -> None:
        self.args = args
        self.data = data
        self.today = TODAY
        self.year_month = (TODAY.year, TODAY.month)
        self.month = f"{TODAY.year}-{TODAY.month:02d}"  # the home-month dropdown's value
        self.settings = Settings(
            database_url=data.url,
            secret_key=BENCH_SECRET_KEY,
            today_override=TODAY,
            testing=True,
        )
        self.db = Database(data.url)
        self._app = None
        self._clients: dict[str, Any] = {}
        self._principals: dict[str, Principal] = {}

    @property
    def app(self):
        if self._app is None:
            from dashboard.app import create_app

            self._app = create_app(self.settings)
        return self._app

    def email(self, role: str) -> str:
        return self.data.demo_accounts[role]

    def principal(self, role: str) -> Principal:
        if role not in self._principals:
            with self.db.read() as session:
                found = accounts.authenticate(session, self.email(role), DEMO_PASSWORD)
            if found is None:
                raise BenchError(f"The demo {role} {self.email(role)} cannot sign in.")
            self._principals[role] = found
        return self._principals[role]

    def first_site(self, role: str) -> int:
        with self.db.read() as session:
            ids = visible_site_ids(session, self.principal(role), self.today)
        if not ids:
            raise BenchError(f"The demo {role} sees no site.")
        return min(ids)

    def sign_in(self, client, role: str) -> None:
        """GET /login for the csrf token, POST the form; raises unless redirected."""
        page = client.get("/login")
        if page.status_code != 200:
            raise BenchError(f"GET /login answered {page.status_code}")
        token = CSRF_RE.search(page.get_data(as_text=True))
        if token is None:
            raise BenchError("No csrf field on the sign-in page.")
        answer = client.post(
            "/login",
            data={
                "csrf": token.group(1),
                "email": self.email(role),
                "password": DEMO_PASSWORD,
                "next": "/",
            },
        )
        if answer.status_code != 302:
            raise BenchError(f"POST /login as {role} answered {answer.status_code}, not 302")
        if "/login" in answer.headers.get("Location", ""):
            raise BenchError(f"POST /login as {role} redirected back to the sign-in page")

    def client(self, role: str):
        """A test client signed in as the demo ``role``, with the Dash app loaded."""
        if role not in self._clients:
            client = self.app.server.test_client()
            self.sign_in(client, role)
            for path in ("/", "/_dash-layout", "/_dash-dependencies"):
                answer = client.get(path)
                if answer.status_code != 200:
                    raise BenchError(f"GET {path} as {role} answered {answer.status_code}")
            self._clients[role] = client
        return self._clients[role]

    def callback(
        self,
        client,
        output: str,
        inputs: dict[str, Any],
        state: dict[str, Any] | None = None,
        expect: str | None = None,
    ) -> int:
        """POST the body the Dash renderer sends for a single-output callback.

        ``output`` and the keys of ``inputs``/``state`` are "component-id.property". Checks
        the status, that the answer holds the output and, when given, the text ``expect``
        (e.g. a component id); returns the response size in bytes.
        """
        body = dash_body(output, inputs, state or {})
        answer = client.post("/_dash-update-component", json=body)
        if answer.status_code != 200:
            raise BenchError(f"callback {output} answered {answer.status_code}")
        out_id, out_prop = output.rsplit(".", 1)
        payload = answer.get_json(silent=True) or {}
        if out_prop not in payload.get("response", {}).get(out_id, {}):
            raise BenchError(f"callback {output} answered without {output}")
        if expect is not None and expect not in answer.get_data(as_text=True):
            raise BenchError(f"callback {output} answered without {expect!r}")
        return len(answer.data)

    def measure(
        self,
        op: Callable[[], int | None],
        name: str = "",
        setup: Callable[[], None] | None = None,
    ) -> Measurement:
        """Time ``op``; ``setup`` (untimed) runs before each run, e.g. to undo the last one."""
        result = Measurement(name)
        for _ in range(self.args.warmup):
            if setup:
                setup()
            op()
        for _ in range(self.args.repeat):
            if setup:
                setup()
            start = time.perf_counter()
            size = op()
            result.times_ms.append((time.perf_counter() - start) * 1000)
            if size is not None:
                result.payload_bytes = size
        return result

    def close(self) -> None:
        self.db.dispose()
        if self._app is not None:
            self._app.server.extensions["dashboard.db"].dispose()


def dash_body(output: str, inputs: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The JSON of ``/_dash-update-component`` for one output (see ``Dash.dispatch``)."""

    def prop(key: str, value: Any) -> dict[str, Any]:
        component, name = key.rsplit(".", 1)
        return {"id": component, "property": name, "value": value}

    out_id, out_prop = output.rsplit(".", 1)
    return {
        "output": output,
        "outputs": {"id": out_id, "property": out_prop},
        "inputs": [prop(k, v) for k, v in inputs.items()],
        "changedPropIds": list(inputs),
        "state": [prop(k, v) for k, v in state.items()],
    }


# --------------------------------------------------------------------------------------------
# Scenarios

Scenario = Callable[[Context], Measurement]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        if name in SCENARIOS:
            raise ValueError(f"scenario {name} registered twice")
        SCENARIOS[name] = fn
        return fn

    return register


@scenario("seed")
def seed_scenario(ctx: Context) -> Measurement:
    """Building and writing the portfolio (done once before any scenario runs)."""
    data = ctx.data
    result = Measurement("seed")
    if data.seed_seconds is not None:
        result.times_ms.append(data.seed_seconds * 1000)
    parts = [
        f"{data.sites} sites",
        f"{data.total_rows:,} rows",
        f"{data.size_mb:.1f} MB",
    ]
    if data.seed_seconds is not None:
        parts.append(
            f"build {data.build_seconds:.1f} s + write {data.write_seconds:.1f} s"
            f" + figures {data.figures_seconds or 0.0:.1f} s"
        )
    if data.reused:
        parts.append("kept from an earlier run")
    result.notes = ", ".join(parts)
    return result


@scenario("sign_in")
def sign_in_scenario(ctx: Context) -> Measurement:
    """GET /login + POST /login with a fresh client each time (argon2 check, audit write)."""
    app = ctx.app

    def op() -> None:
        ctx.sign_in(app.server.test_client(), "account_manager")

    return ctx.measure(op)


def home_service(role: str) -> Scenario:
    def run(ctx: Context) -> Measurement:
        principal = ctx.principal(role)
        rows: list[int] = []

        def op() -> None:
            with ctx.db.read() as session:
                if role in SITE_ROLES:
                    frame = home.site_budget_summary(session, principal, *ctx.year_month, ctx.today)
                else:
                    frame = home.district_budget_overview(
                        session, principal, *ctx.year_month, ctx.today
                    )
                    home.region_totals(frame)
            if frame.empty:
                raise BenchError(f"home data of the demo {role} is empty")
            rows.append(len(frame))

        result = ctx.measure(op)
        noun = "site" if role in SITE_ROLES else "district"
        result.notes = f"{rows[-1]} {noun}{'' if rows[-1] == 1 else 's'}"
        return result

    return run


def home_callback(role: str) -> Scenario:
    def run(ctx: Context) -> Measurement:
        client = ctx.client(role)
        return ctx.measure(
            lambda: ctx.callback(
                client,
                "home-content.children",
                {"home-month.value": ctx.month, "shell-figures-refreshed.data": 0},
                # the sites grid or the districts grid, not the "no sites" alert
                expect="home-sites-grid" if role in SITE_ROLES else "home-districts-grid",
            )
        )

    return run


for _role in ROLES:
    scenario(f"home_service_{_role}")(home_service(_role))
    scenario(f"home_callback_{_role}")(home_callback(_role))


@scenario("site_detail_callback_account_manager")
def site_detail_callback(ctx: Context) -> Measurement:
    """The site-detail panel for the account manager's first site."""
    client = ctx.client("account_manager")
    site_id = ctx.first_site("account_manager")

    def op() -> int:
        size = ctx.callback(
            client,
            "home-site-detail.children",
            {"home-site-select.value": str(site_id)},
            {"home-month.value": ctx.month},
            expect="home-site-detail-table",  # not "This site is not in your scope."
        )
        return size

    result = ctx.measure(op)
    result.notes = f"site id {site_id}"
    return result


# --------------------------------------------------------------------------------------------
# Running and reporting


# --- Statistics workspace (issue: statistics and parking rates) --------------------------------


def _largest_hotel_and_editor(ctx: Context) -> tuple[int, Principal]:
    """The site with the most rooms and a district manager who may edit it."""
    from dashboard.data.models import ScopeAssignment, Site, User
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        site = session.scalars(select(Site).order_by(Site.total_rooms.desc())).first()
        user = session.scalars(
            select(User)
            .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
            .where(ScopeAssignment.district_id == site.district_id, User.role == "district_manager")
        ).first()
        if user is None:
            raise BenchError("No district manager covers the largest site.")
        return site.id, principal_of(user)


@scenario("statistics_window_service")
def statistics_window(ctx: Context) -> Measurement:
    """Open a site's 3-month statistics window: the query and the browser payload."""
    import orjson

    site_id, person = _largest_hotel_and_editor(ctx)

    def op() -> int:
        with ctx.db.read() as session:
            window = statistics_service.load_window(
                session, person, site_id, ctx.year_month, ctx.today
            )
        payload = statistics_service.window_payload(window)
        if len(payload["days"]) != 92:
            raise BenchError(f"window has {len(payload['days'])} days, not 92")
        # orjson, as Dash serialises (plotly's JSON engine picks orjson when installed) and as
        # the floor does; the stdlib json of earlier runs added ~1.6 ms.
        return len(orjson.dumps(payload))

    return ctx.measure(op)


@scenario("statistics_save_month")
def statistics_save(ctx: Context) -> Measurement:
    """Save a month of edits (3 inputs on each of December's 31 days) in one transaction."""
    site_id, person = _largest_hotel_and_editor(ctx)
    days = [dt.date(2026, 12, d) for d in range(1, 32)]
    counter = iter(range(1, 10_000))

    def op() -> None:
        bump = next(counter)
        with ctx.db.read() as session:
            window = statistics_service.load_window(session, person, site_id, (2026, 12), ctx.today)
        versions = {
            d: int(v) for d, v in zip(window.days["day"], window.days["version"], strict=True)
        }
        edits = []
        for day in days:
            for name, value in (
                ("valet_daily", 40 + bump % 7),
                ("self_daily", 60 + bump % 5),
                ("drive_in_ratio", 0.30 + (bump % 10) / 100),
            ):
                edits.append(statistics_service.StatisticEdit(day, name, value, versions[day]))
        result = workspace_save.save_forecast_inputs(ctx.db, person, site_id, edits, [], ctx.today)
        if not result.ok:
            raise BenchError(f"save refused: {result.problems[:2]} {result.conflicts[:2]}")

    return ctx.measure(op)


def _largest_payroll_site_and_editor(ctx: Context) -> tuple[int, Principal]:
    """The site with the most job codes and a district manager who may edit it."""
    from dashboard.data.models import ScopeAssignment, Site, SiteJobCode, User
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        site_id = session.scalars(
            select(SiteJobCode.site_id)
            .group_by(SiteJobCode.site_id)
            .order_by(func.count().desc(), SiteJobCode.site_id)
        ).first()
        site = session.get(Site, site_id)
        user = session.scalars(
            select(User)
            .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
            .where(ScopeAssignment.district_id == site.district_id, User.role == "district_manager")
        ).first()
        if user is None:
            raise BenchError("No district manager covers the largest payroll site.")
        return site.id, principal_of(user)


@scenario("payroll_month_open")
def payroll_month_open(ctx: Context) -> Measurement:
    """Open a month of payroll (budget, schedule, actual, forecast per code and day) and
    compute what the Payroll tab shows for its busiest week."""
    from dashboard.components import payroll_grid

    site_id, person = _largest_payroll_site_and_editor(ctx)

    def op() -> int:
        with ctx.db.read() as session:
            data = payroll_service.load_month(session, person, site_id, *ctx.year_month, ctx.today)
        values = payroll_grid.computed(data, {})
        week = payroll_grid.weeks(data)[2]
        payroll_grid.rows(data, {}, week, "forecast", "hours", values)
        payroll_grid.total_rows(data, week, values, "forecast")
        return len(json.dumps(data))

    return ctx.measure(op)


@scenario("payroll_save_week")
def payroll_save_week(ctx: Context) -> Measurement:
    """Save a week of forecast hours (every hourly group or code × 7 days) in one transaction."""
    site_id, person = _largest_payroll_site_and_editor(ctx)
    year, month = ctx.year_month
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    days = [dt.date(next_year, next_month, d) for d in range(8, 15)]
    counter = iter(range(1, 10_000))

    def op() -> None:
        bump = next(counter)
        with ctx.db.read() as session:
            data = payroll_service.load_month(
                session, person, site_id, next_year, next_month, ctx.today
            )
        edits = []
        for day in days:
            iso = day.isoformat()
            if data["mode"] == "Group":
                targets = [
                    (
                        "group",
                        g["id"],
                        [c["id"] for c in payroll_service.editable_codes(data, g["id"])],
                    )
                    for g in data["groups"]
                    if payroll_service.editable_codes(data, g["id"])
                ]
            else:
                targets = [("code", c["id"], [c["id"]]) for c in data["codes"] if not c["salaried"]]
            for level, target, codes in targets:
                versions = {c: data["cells"][f"{iso}|{c}"]["v"] for c in codes}
                edits.append(
                    payroll_service.PayrollEdit(day, level, target, 8 + bump % 5, versions)
                )
        result = workspace_save.save_forecast_inputs(
            ctx.db, person, site_id, [], [], ctx.today, payroll_edits=edits
        )
        if not result.ok:
            raise BenchError(f"save refused: {result.problems[:2]} {result.conflicts[:2]}")
        return len(edits)

    return ctx.measure(op)


@scenario("statistics_live_impact")
def statistics_live_impact(ctx: Context) -> Measurement:
    """The workspace's live impact panel after an edit: the largest hotel's 3-month window
    with a day's statistics edit, a rate edit and (its payroll month) a group's hours,
    recomputed through the P&L engine as saved and as edited."""
    from dashboard.services import impact

    site_id, person = _largest_hotel_and_editor(ctx)
    year, month = ctx.year_month
    day = dt.date(year, month, 27).isoformat()
    with ctx.db.read() as session:
        data = payroll_service.load_month(session, person, site_id, year, month, ctx.today)
    mode = data["mode"]
    if mode == "Group":
        group = next(g for g in data["groups"] if payroll_service.editable_codes(data, g["id"]))
        target = f"g{group['id']}"
    else:
        target = f"c{next(c['id'] for c in data['codes'] if not c['salaried'])}"
    stat_edits = {f"{day}|valet_daily": 400.0, f"{day}|occupancy": 0.9}
    rate_edits = {f"{year}-{month:02d}|valet_daily": {"value": 55.0, "version": 0}}
    payroll_edits = {f"{day}|{target}": 40.0}

    def op() -> int:
        with ctx.db.read() as session:
            result = impact.live_impact(
                session,
                person,
                site_id,
                ctx.year_month,
                ctx.today,
                stat_edits,
                rate_edits,
                payroll_edits,
                mode,
            )
        if result["edits_counted"] != 4:
            raise BenchError(f"edits counted {result['edits_counted']}, expected 4")
        return len(json.dumps(result))

    result = ctx.measure(op)
    result.notes = f"site id {site_id}, 4 edits ({mode} mode)"
    return result


def _largest_district_and_manager(ctx: Context) -> tuple[int, int, Principal]:
    from dashboard.data.models import ScopeAssignment, Site, User
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        district_id, count = session.execute(
            select(Site.district_id, func.count(Site.id))
            .group_by(Site.district_id)
            .order_by(func.count(Site.id).desc(), Site.district_id)
        ).first()
        user = session.scalars(
            select(User)
            .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
            .where(ScopeAssignment.district_id == district_id, User.role == "district_manager")
        ).first()
        if user is None:
            raise BenchError("No district manager covers the largest district.")
        return district_id, count, principal_of(user)


def _pnl_measure(ctx: Context, person: Principal, filters, sites_expected: int | None = None):
    from dashboard.services import pnl_portfolio

    def op() -> int:
        with ctx.db.read() as session:
            result = pnl_portfolio.portfolio_pnl(
                session, person, ctx.today.year, ctx.today, filters, "budget"
            )
        if result["site_count"] < 1 or (
            sites_expected is not None and result["site_count"] != sites_expected
        ):
            raise BenchError(f"P&L covers {result['site_count']} sites, expected {sites_expected}")
        return len(json.dumps(result))

    return ctx.measure(op)


@scenario("pnl_site_account_manager")
def pnl_site_account_manager(ctx: Context) -> Measurement:
    """The P&L page of one site (the largest hotel) as opened from its workspace: 12 months,
    budget basis, drill-down rows included."""
    from dashboard.services import pnl_portfolio

    site_id, person = _largest_hotel_and_editor(ctx)
    result = _pnl_measure(ctx, person, pnl_portfolio.Filters(site_id=site_id), 1)
    result.notes = f"site id {site_id}"
    return result


@scenario("pnl_district_manager")
def pnl_district_manager(ctx: Context) -> Measurement:
    """The P&L page of the largest district for its district manager, drill-down rows included."""
    from dashboard.services import pnl_portfolio

    district_id, count, person = _largest_district_and_manager(ctx)
    result = _pnl_measure(ctx, person, pnl_portfolio.Filters(district_id=district_id), count)
    result.notes = f"district id {district_id}, {count} sites"
    return result


@scenario("pnl_portfolio_executive")
def pnl_portfolio_executive(ctx: Context) -> Measurement:
    """The P&L page for an executive: every site's 12 months (actual, trending, forecast with
    the revenue engine) summed, against budget."""
    from dashboard.data.models import User
    from dashboard.services import pnl_portfolio
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        person = principal_of(session.scalars(select(User).where(User.role == "executive")).first())

    def op() -> int:
        with ctx.db.read() as session:
            result = pnl_portfolio.portfolio_pnl(
                session, person, ctx.today.year, ctx.today, None, "budget"
            )
        if result["site_count"] < 1:
            raise BenchError("no sites in the P&L")
        return len(json.dumps(result))

    return ctx.measure(op)


@scenario("review_district_rollup")
def review_district_rollup(ctx: Context) -> Measurement:
    """The district review page for the largest district and next month: every site's
    submission state, forecast vs budget (the P&L engine), flags and explanations."""
    from dashboard.services import review

    district_id, count, person = _largest_district_and_manager(ctx)
    year, month = review.forecast_month(ctx.today)

    def op() -> int:
        import orjson

        with ctx.db.read() as session:
            result = review.district_rollup(session, person, district_id, year, month, ctx.today)
        if len(result["rows"]) != count:
            raise BenchError(f"{len(result['rows'])} rows, expected {count}")
        # orjson, as Dash serialises and as the floor does (the stdlib json of earlier runs
        # added ~0.6 ms).
        return len(orjson.dumps(result, default=str))

    result = ctx.measure(op)
    result.notes = f"district id {district_id}, {count} sites"
    return result


def _submitted_district(ctx: Context):
    """The largest district's sites, each submitted for the review month by someone other
    than its district manager, with every flagged line explained: ready to approve. Returns
    (district id, person, year, month, reset) where ``reset()`` puts them back to submitted
    and returns each site's version."""
    from sqlalchemy import delete, insert, update

    from dashboard.data.models import ForecastSubmission, Site, User, VarianceExplanation
    from dashboard.domain import submission as sm
    from dashboard.services import review

    district_id, count, person = _largest_district_and_manager(ctx)
    year, month = review.forecast_month(ctx.today)
    with ctx.db.read() as session:
        ids = list(session.scalars(select(Site.id).where(Site.district_id == district_id)))
        submitter = session.scalars(
            select(User.id).where(User.role == "account_manager").order_by(User.id)
        ).first()

    def reset() -> dict[int, int]:
        now = dt.datetime(2026, 11, 20, 9, 0)
        with ctx.db.write() as session:
            f = ForecastSubmission
            mine = (f.site_id.in_(ids), f.year == year, f.month == month)
            session.execute(
                update(f)
                .where(*mine)
                .values(
                    status=sm.SUBMITTED, submitted_by_id=submitter, submitted_at=now,
                    reviewed_by_id=None, reviewed_at=None, version=1,
                )
            )  # fmt: skip
            have = set(session.scalars(select(f.site_id).where(*mine)))
            missing = [s for s in ids if s not in have]
            if missing:
                session.execute(
                    insert(f),
                    [
                        {
                            "site_id": s, "year": year, "month": month, "status": sm.SUBMITTED,
                            "submitted_by_id": submitter, "submitted_at": now, "version": 1,
                        }
                        for s in missing
                    ],
                )  # fmt: skip
            e = VarianceExplanation
            session.execute(delete(e).where(e.site_id.in_(ids), e.year == year, e.month == month))
            session.execute(
                insert(e),
                [
                    {"site_id": s, "year": year, "month": month, "line": line, "text": "Bench."}
                    for s in ids
                    for line in sm.FLAGGED_LINES
                ],
            )
        return dict.fromkeys(ids, 1)

    return district_id, person, year, month, reset, ids


@scenario("review_approve_one")
def review_approve_one(ctx: Context) -> Measurement:
    """A district manager approves one submitted site-month (version-checked, audited)."""
    from dashboard.domain import submission as sm
    from dashboard.services import submissions

    district_id, person, year, month, reset, ids = _submitted_district(ctx)
    site_id = ids[0]
    versions: dict[int, int] = {}

    def setup() -> None:
        versions.update(reset())

    def op() -> None:
        outcome = submissions.decide(
            ctx.db, person, site_id, year, month, sm.APPROVE, None, versions[site_id], ctx.today
        )
        if not outcome.ok:
            raise BenchError(outcome.message)

    result = ctx.measure(op, setup=setup)
    result.notes = f"site id {site_id}, district id {district_id}"
    return result


@scenario("review_bulk_approve_district")
def review_bulk_approve(ctx: Context) -> Measurement:
    """Bulk approval of every submitted site of the largest district."""
    from dashboard.services import submissions

    district_id, person, year, month, reset, ids = _submitted_district(ctx)
    versions: dict[int, int] = {}

    def setup() -> None:
        versions.update(reset())

    def op() -> None:
        approved, skipped = submissions.bulk_approve(
            ctx.db, person, sorted(versions.items()), year, month, ctx.today
        )
        if len(approved) != len(ids):
            raise BenchError(f"{len(approved)} approved of {len(ids)}: {skipped[:2]}")

    result = ctx.measure(op, setup=setup)
    result.notes = f"district id {district_id}, {len(ids)} sites"
    return result


@scenario("figures_recompute_portfolio")
def figures_recompute_portfolio(ctx: Context) -> Measurement:
    """A full recompute of every site's stored figures (the daily rollover, a bulk import),
    in one process, batches of sites in their own transactions."""
    from dashboard.services import figures

    def op() -> None:
        done = figures.recompute(ctx.db, ctx.today)
        if done.sites != ctx.data.sites:
            raise BenchError(f"{done.sites} sites recomputed of {ctx.data.sites}")

    result = ctx.measure(op)
    result.notes = f"{ctx.data.sites} sites, batches of {figures.BATCH_SITES}"
    return result


def _recompute_part(url: str, today: str, site_ids: list[int]) -> int:
    from dashboard.services import figures

    db = Database(url)
    try:
        return figures.recompute(db, dt.date.fromisoformat(today), site_ids).sites
    finally:
        db.dispose()


@scenario("figures_recompute_portfolio_2_workers")
def figures_recompute_two(ctx: Context) -> Measurement:
    """The same full recompute split between two processes (as two Celery workers would
    share two tasks of half the sites each)."""
    from concurrent.futures import ProcessPoolExecutor

    from dashboard.data.models import Site

    with ctx.db.read() as session:
        ids = list(session.scalars(select(Site.id).order_by(Site.id)))
    halves = [ids[0::2], ids[1::2]]

    def op() -> None:
        with ProcessPoolExecutor(2) as pool:
            done = sum(
                pool.map(
                    _recompute_part,
                    [ctx.data.url] * 2,
                    [ctx.today.isoformat()] * 2,
                    halves,
                )
            )
        if done != len(ids):
            raise BenchError(f"{done} sites recomputed of {len(ids)}")

    result = ctx.measure(op)
    result.notes = f"{len(ids)} sites in 2 processes"
    return result


@scenario("review_region_overview")
def review_region_overview(ctx: Context) -> Measurement:
    """The regional vice president's overview: per district of the region, sites by state,
    late submissions and reviews waiting more than 3 business days."""
    from dashboard.data.models import User
    from dashboard.services import review
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        person = principal_of(
            session.scalars(
                select(User).where(User.role == "regional_vp").order_by(User.id)
            ).first()
        )
    year, month = review.forecast_month(ctx.today)

    def op() -> int:
        with ctx.db.read() as session:
            result = review.region_overview(session, person, year, month, ctx.today)
        if not result:
            raise BenchError("no district in the region")
        return len(json.dumps(result))

    result = ctx.measure(op)
    result.notes = "first regional vice president's region"
    return result


def _first_of_role(ctx: Context, role: str) -> Principal:
    from dashboard.data.models import User
    from dashboard.services.accounts import principal_of

    with ctx.db.read() as session:
        return principal_of(
            session.scalars(select(User).where(User.role == role).order_by(User.id)).first()
        )


@scenario("report_regional_executive")
def report_regional_executive(ctx: Context) -> Measurement:
    """The regional report for an executive: every site's year of FLC (the P&L engine),
    budget, prior year, submission status, at-risk rules, accuracy of the submitted forecasts
    of the closed months, rolled up to districts and regions."""
    from dashboard.services import regional_report

    person = _first_of_role(ctx, "executive")

    def op() -> int:
        with ctx.db.read() as session:
            report = regional_report.regional_report(session, person, ctx.today)
        if not report.sites:
            raise BenchError("no sites in the report")
        return len(json.dumps([report.regions, report.districts, report.sites], default=str))

    result = ctx.measure(op)
    result.notes = "all sites, this year"
    return result


_REPORT_CALLBACKS = (
    # (outputs, inputs): the callbacks a Regional report open runs, in order.
    (
        (
            "report-data.data",
            "report-top-bottom.children",
            "report-risk-rule.children",
            "report-risk-grid-export-context.data",
            "report-freshness.children",
            "report-pending.data",
        ),
        ("report-year.value", "shell-figures-refreshed.data"),
    ),
    (
        ("report-district-chart-box.children", "report-accuracy-chart-box.children"),
        ("report-data.data",),
    ),
    (("report-risk-grid.rowData", "report-risk-grid.columnDefs"), ("report-data.data",)),
    (
        (
            "report-grid.rowData",
            "report-grid.columnDefs",
            "report-grid.pinnedBottomRowData",
            "report-crumbs.children",
            "report-grid-export-context.data",
            "report-cards.children",
            "report-cards-scope.children",
            "report-site-links.children",
        ),
        ("report-data.data", "report-drill.data"),
    ),
)


def _report_callback(ctx: Context, kept: bool) -> Measurement:
    """The Regional report page's callbacks for an executive through the Flask app: the
    report's handle and cards, its charts and its at-risk rows (the grid's rows come from
    the handle, as in the drill), JSON-serialised. ``kept``: another person with the same
    scope opened it before (the report kept for its fingerprint); else the shared cache is
    emptied before each run (computed): the request asks for the background job that
    computes the report (a process of its own here, polled every 20 ms as the page polls
    every 250 ms), whose answer carries the handle."""
    client = ctx.client("executive")
    cache = ctx.app.server.extensions["dashboard.cache"]
    job_key = next(k for k in ctx.app.callback_map if k.lstrip(".").startswith("report-data.data@"))

    def job(pending) -> tuple[int, dict]:
        import time

        body = {
            "output": job_key,
            "outputs": [
                {"id": part.split(".", 1)[0], "property": part.split(".", 1)[1]}
                for part in job_key.strip(".").split("...")
            ],
            "inputs": [{"id": "report-pending", "property": "data", "value": pending}],
            "changedPropIds": ["report-pending.data"],
            "state": [],
        }
        first = client.post("/_dash-update-component", json=body).get_json()
        query = {"cacheKey": first["cacheKey"], "job": first["job"]}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            answer = client.post("/_dash-update-component", json=body, query_string=query)
            data = answer.get_json() if answer.status_code == 200 else None
            if answer.status_code != 200:
                raise BenchError(f"report job answered {answer.status_code}")
            if data and "response" in data:
                return len(answer.data), data["response"]
            time.sleep(0.02)
        raise BenchError("the report job did not answer in time")

    def post(outputs, inputs, values) -> dict:
        body = {
            "output": ".." + "...".join(outputs) + "..",
            "outputs": [
                {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outputs
            ],
            "inputs": [
                {"id": i.rsplit(".", 1)[0], "property": i.rsplit(".", 1)[1], "value": values[i]}
                for i in inputs
            ],
            "changedPropIds": [inputs[0]],
            "state": [],
        }
        answer = client.post("/_dash-update-component", json=body)
        if answer.status_code != 200:
            raise BenchError(f"report callback {outputs[0]} answered {answer.status_code}")
        return answer

    def op() -> int:
        values = {
            "report-year.value": ctx.today.year,
            "shell-figures-refreshed.data": 0,
            "report-drill.data": None,
        }
        size = 0
        for outputs, inputs in _REPORT_CALLBACKS:
            answer = post(outputs, inputs, values)
            size += len(answer.data)
            if outputs[0] == "report-data.data":
                response = answer.get_json()["response"]
                pending = response["report-pending"]["data"]
                if pending is not None:
                    if kept:
                        raise BenchError("the kept report was not found")
                    more, response = job(pending)
                    size += more
                values["report-data.data"] = response["report-data"]["data"]
        return size

    result = ctx.measure(op, setup=None if kept else cache.clear)
    result.notes = (
        "kept report (same fingerprint)"
        if kept
        else "computed by the background job (cache emptied)"
    )
    return result


@scenario("report_callback_computed")
def report_callback_computed(ctx: Context) -> Measurement:
    return _report_callback(ctx, kept=False)


@scenario("report_callback_kept")
def report_callback_kept(ctx: Context) -> Measurement:
    return _report_callback(ctx, kept=True)


@scenario("report_regional_workbook")
def report_regional_workbook(ctx: Context) -> Measurement:
    """The report's XLSX export end to end: the report + the five-sheet workbook."""
    from dashboard.services import regional_report

    person = _first_of_role(ctx, "executive")

    def op() -> int:
        with ctx.db.read() as session:
            report = regional_report.regional_report(session, person, ctx.today)
        return len(regional_report.workbook(report, person))

    result = ctx.measure(op)
    result.notes = "all sites, 5 sheets"
    return result


@scenario("kpi_trends_region")
def kpi_trends_region(ctx: Context) -> Measurement:
    """KPI trends of the first regional vice president's region over the default range (12
    months back to December): actual, budget, submitted/live forecast, prior year."""
    from dashboard.services import performance

    person = _first_of_role(ctx, "regional_vp")
    with ctx.db.read() as session:
        choices = performance.scope_choices(session, person, ctx.today)
    region_id = int(choices[performance.REGION][0]["value"])
    first, last = performance.default_range(ctx.today)

    def op() -> int:
        with ctx.db.read() as session:
            trends = performance.kpi_trends(
                session, person, ctx.today, performance.REGION, region_id, first, last
            )
        if trends.frame.empty:
            raise BenchError("no trend rows")
        return len(trends.frame.to_json())

    result = ctx.measure(op)
    result.notes = f"region id {region_id}, {first[0]}-{first[1]:02d}..{last[0]}-{last[1]:02d}"
    return result


@scenario("benchmark_site_region")
def benchmark_site_region(ctx: Context) -> Measurement:
    """A district manager benchmarks a site of the largest district against its region
    (closed months of this year, actual)."""
    from dashboard.services import performance

    district_id, _count, person = _largest_district_and_manager(ctx)
    with ctx.db.read() as session:
        site_id = min(
            s.site_id
            for s in performance._site_rows(session).values()
            if s.district_id == district_id
        )

    def op() -> int:
        with ctx.db.read() as session:
            result = performance.benchmark(
                session,
                person,
                ctx.today,
                site_id,
                "region",
                "flc_margin",
                (ctx.today.year, 1),
                (ctx.today.year, ctx.today.month - 1),
            )
        if not result.ranks:
            raise BenchError("no ranks")
        return len(result.distribution.to_json())

    result = ctx.measure(op)
    result.notes = f"site id {site_id} vs its region"
    return result


@scenario("waterfall_district_year")
def waterfall_district_year(ctx: Context) -> Measurement:
    """The FLC variance breakdown of the largest district for the year (actual + forecast)."""
    from dashboard.services import performance

    district_id, count, person = _largest_district_and_manager(ctx)

    def op() -> None:
        with ctx.db.read() as session:
            result = performance.flc_waterfall(
                session,
                person,
                ctx.today,
                performance.DISTRICT,
                district_id,
                (ctx.today.year, 1),
                (ctx.today.year, 12),
            )
        if result.site_count != count:
            raise BenchError("wrong district")

    result = ctx.measure(op)
    result.notes = f"district id {district_id}, {count} sites, 12 months"
    return result


def select_scenarios(patterns: list[str] | None) -> list[str]:
    if not patterns:
        return list(SCENARIOS)
    chosen = []
    for pattern in patterns:
        matches = [name for name in SCENARIOS if fnmatch.fnmatchcase(name, pattern)]
        if not matches:
            raise SystemExit(f"No scenario matches {pattern!r}; known: {', '.join(SCENARIOS)}")
        chosen.extend(m for m in matches if m not in chosen)
    return [name for name in SCENARIOS if name in chosen]  # registration order


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def format_table(results: list[Measurement]) -> str:
    header = ("scenario", "n", "p50 ms", "p95 ms", "max ms", "payload bytes", "notes")
    rows = []
    for r in results:
        notes = r.notes
        if r.error:
            notes = f"FAILED: {r.error}"
        elif r.budget_ms is not None and r.p95 is not None:
            verdict = "OVER BUDGET" if r.over_budget else "ok"
            notes = f"{notes}; " if notes else ""
            notes += f"p95 budget {r.budget_ms:.0f} ms: {verdict}"
        rows.append(
            (
                r.name,
                str(r.n),
                _ms(r.p50),
                _ms(r.p95),
                _ms(r.max),
                "-" if r.payload_bytes is None else f"{r.payload_bytes:,}",
                notes,
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3, 4, 5}

    def line(cells) -> str:
        return "  ".join(
            (c.rjust(w) if i in right else c.ljust(w))
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Time the dashboard's home page services and callbacks on a seeded portfolio.",
    )
    parser.add_argument("--sites", type=int, default=650, help="portfolio size (default 650)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per scenario")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed runs before the timed ones (default 1)"
    )
    parser.add_argument(
        "--database-url",
        help="benchmark this database instead (it is RESET and seeded), "
        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the minimal SQL + orjson of the same scope and print app ÷ floor",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database when it already holds this portfolio (skips seeding)",
    )
    parser.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these scenarios (shell-style patterns allowed, e.g. 'home_*')",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write results as JSON")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a budget is exceeded"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    if args.repeat < 1 or args.warmup < 0 or args.sites < 1:
        raise SystemExit("--repeat and --sites must be positive, --warmup not negative.")
    names = select_scenarios(args.scenario)
    url = args.database_url or default_url(args.sites)

    print(f"Preparing {display_url(url)} ({args.sites} sites, seed {args.seed})...", flush=True)
    data = prepare_data(url, args.sites, args.seed, args.keep)
    print(
        f"Portfolio: {data.sites} sites, {data.total_rows:,} rows, {data.size_mb:.1f} MB "
        f"({data.backend}{', kept' if data.reused else ''}); today {TODAY}, "
        f"{args.repeat} timed runs after {args.warmup} warm-up",
        flush=True,
    )
    ctx = Context(args, data)
    results: list[Measurement] = []
    try:
        for name in names:
            print(f"  {name}...", flush=True)
            try:
                result = SCENARIOS[name](ctx)
            except Exception as problem:  # keep going; report at the end
                traceback.print_exc()
                result = Measurement(name, error=f"{type(problem).__name__}: {problem}")
            result.name = name
            if args.floor and name in FLOORS and not result.error:
                base = ctx.measure(FLOORS[name](ctx))
                result.floor_p50_ms = base.p50
                result.notes = "; ".join(
                    x
                    for x in (
                        result.notes,
                        f"floor p50 {base.p50:.1f} ms, app ÷ floor {result.floor_ratio:.1f}",
                    )
                    if x
                )
            results.append(result)
    finally:
        ctx.close()

    print()
    print(format_table(results))
    failed = [r.name for r in results if r.error]
    over = [r.name for r in results if r.over_budget]
    if over:
        print(f"\nOver budget (p95): {', '.join(over)}")
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "python": platform.python_version(),
                    "machine": platform.platform(),
                    "args": {
                        "sites": args.sites,
                        "seed": args.seed,
                        "repeat": args.repeat,
                        "warmup": args.warmup,
                    },
                    "data": {
                        **{k: v for k, v in asdict(data).items() if k != "url"},
                        "url": display_url(data.url),
                        "seed_seconds": data.seed_seconds,
                    },
                    "results": [r.summary() for r in results],
                },
                indent=2,
            )
        )
        print(f"Wrote {args.json}")
    if failed or (args.check and over):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
