"""Deterministic demo-portfolio generator (DOMAIN.md §12).

``build_portfolio`` makes every table as a DataFrame from (number of sites, seed, today) alone;
``write_portfolio`` bulk-loads them. The same code builds the ~650-site demo and the few-site
portfolios of the tests.

What the data looks like (the builders in ``dashboard.data.demo`` say how):
* ~45 districts (median ≈ 15 sites) in 3 regions; healthcare ("- HC") and parking-brand ("UPP")
  districts; hotel rooms for the hospitality sites (median ≈ 300), parking spaces (median ≈ 180);
  the contract mix, escalators, billing thresholds and wages of §12.1–§12.3 (``master``,
  ``contracts``).
* Daily actual statistics from 1 January two years back through yesterday: each site a kind
  of place in a climate (``profiles``), its demand season × weekday × holidays × events ×
  growth × noise (``operations``): resorts strongly seasonal, business hotels busy midweek
  and empty at Christmas, hospitals flat.
* Monthly budgets (statistics, rates, payroll by job code, other revenue and expenses, P&L lines)
  for last, this and next year, made as an operator makes them: the last twelve closed months
  × planned growth with a bias per site, partly spread by a template, aggregators
  under-budgeted (``budget``, ``ledger``). Every internal revenue is the revenue engine's.
* Daily payroll actuals by job code for this year to date, schedules for the next two weeks;
  monthly P&L actuals for every closed month; submitted forecasts of the last closed months
  (``history``); no saved forecasts (a forecast exists only once a person saves one,
  DOMAIN.md §2.5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.data.demo import budget, history, ledger, master, operations
from dashboard.data.demo import contracts as contract_builder
from dashboard.data.demo.calendar import Calendar

DEMO_PASSWORD = "forecast-demo"

# Tables in load order (foreign keys first).
LOAD_ORDER = (
    "region",
    "district",
    "site",
    "contract",
    "fixed_fee_line",
    "job_group",
    "job_code",
    "site_job_code",
    "plh_job_rate",
    "share_tier",
    "billable_account",
    "ma_billable_expense",
    "app_user",
    "scope_assignment",
    "statistic_budget_month",
    "site_statistic_day",
    "parking_rate_month",
    "payroll_budget_month",
    "payroll_day",
    "other_revenue_month",
    "other_expense_month",
    "pnl_month",
    "forecast_submission",
    "forecast_snapshot_line",
    "app_setting",
)


@dataclass
class Portfolio:
    """Every table of a demo portfolio as a DataFrame, keyed by table name, in load order;
    the printed demo sign-ins; and what each site is (``site_profile``: site_id, market,
    kind and climate of ``dashboard.data.demo.profiles``; not a table)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    demo_accounts: dict[str, str] = field(default_factory=dict)  # role -> e-mail
    site_profile: pd.DataFrame | None = None

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.frames[table]


def build_portfolio(n_sites: int = 650, seed: int = 7, today: dt.date | None = None) -> Portfolio:
    """Build a deterministic portfolio of ``n_sites`` sites as of ``today``.

    The master data and contracts come from one stream of random numbers (so a seed's sites
    and contracts stay put when the world around them changes); each later builder has a
    stream of its own, spawned from the seed.
    """
    if n_sites < 1:
        raise ValueError("a portfolio needs at least one site")
    calendar = Calendar(today or dt.date.today())
    rng = np.random.default_rng(seed)
    org = master.build_organisation(rng, n_sites, calendar.first_actual)
    jobs = master.build_jobs(rng, org.site)
    contracts = contract_builder.build_contracts(rng, org.site)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    world = operations.build_world(streams[0], org, calendar)
    payroll = operations.build_payroll(streams[1], org.site, jobs.site_job_code, world)
    plan = budget.build_budget(streams[2], org, jobs.site_job_code, world, payroll)
    other = ledger.build_other_lines(streams[3], org, contracts, world)
    books = ledger.build_pnl(
        streams[4], org, contracts, jobs.site_job_code, world, payroll, plan, other
    )
    people = master.build_people(streams[6], org.region, org.district, org.site, org.is_hotel)
    past = history.build_history(
        streams[5],
        org.site,
        books.pnl_month,
        jobs.site_job_code,
        world.days,
        payroll.hours,
        people,
    )
    frames = {
        "region": org.region,
        "district": org.district,
        "site": org.site,
        "contract": books.contract,
        "fixed_fee_line": books.terms.fixed_fee_line,
        "job_group": jobs.job_group,
        "job_code": jobs.job_code,
        "site_job_code": jobs.site_job_code,
        "plh_job_rate": books.terms.plh_job_rate,
        "share_tier": books.terms.share_tier,
        "billable_account": contracts.billable_account,
        "ma_billable_expense": contracts.ma_billable_expense,
        "app_user": people.app_user,
        "scope_assignment": people.scope_assignment,
        "statistic_budget_month": plan.statistic_budget_month,
        "site_statistic_day": operations.statistic_days(world, n_sites),
        "parking_rate_month": pd.concat(
            [plan.budget_rate_rows, operations.actual_rate_rows(world, n_sites)],
            ignore_index=True,
        ).assign(version=1),
        "payroll_budget_month": plan.payroll_budget_month,
        "payroll_day": payroll.payroll_day,
        "other_revenue_month": other.other_revenue_month,
        "other_expense_month": other.other_expense_month,
        "pnl_month": books.pnl_month,
        "forecast_submission": past.forecast_submission,
        "forecast_snapshot_line": past.forecast_snapshot_line,
        "app_setting": pd.DataFrame(
            {
                "key": ["variance_threshold_pct", "variance_threshold_amount"],
                "value": ["0.075", "5000"],
            }
        ),
    }
    profile = pd.DataFrame(
        {
            "site_id": org.site["id"],
            "market": org.market,
            "kind": org.kind,
            "climate": org.climate,
        }
    )
    return Portfolio({name: frames[name] for name in LOAD_ORDER}, people.demo_accounts, profile)


def write_portfolio(engine, portfolio: Portfolio, password_hashes: Sequence[str]) -> dict[str, int]:
    """Load ``portfolio`` into an empty, migrated database; returns rows per table.

    The demo people get ``password_hashes`` in order (hashes of the printed demo password,
    each with its own salt: ``accounts.seed_password_hashes``).
    """
    from dashboard.data.bulk import insert_frame, reset_sequences
    from dashboard.data.models import Base

    counts = {}
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
    with engine.begin() as conn:
        for table, frame in portfolio.frames.items():
            if table == "app_user":
                if len(password_hashes) != len(frame):
                    raise ValueError(f"{len(frame)} people, {len(password_hashes)} hashes")
                frame = frame.assign(password_hash=list(password_hashes), created_at=now)
            if table == "scope_assignment":
                frame = frame.assign(created_at=now)
            counts[table] = insert_frame(conn, table, frame)
        reset_sequences(conn, Base.metadata)
    return counts
