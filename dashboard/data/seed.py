"""Deterministic demo-portfolio generator (DOMAIN.md §12).

``build_portfolio`` makes every table as a DataFrame from (number of sites, seed, today) alone;
``write_portfolio`` bulk-loads them. The same code builds the ~650-site demo and the few-site
portfolios of the tests.

What the data looks like:
* ~45 districts (median ≈ 15 sites) in 3 regions; healthcare ("- HC") and parking-brand ("UPP")
  districts; hotel rooms for the hospitality sites (median ≈ 300), parking spaces (median ≈ 180);
  the contract mix, escalators, billing thresholds and wages of §12.1–§12.3.
* Daily actual statistics from 1 January two years back through yesterday, built from a site's
  own weekday pattern (business vs leisure hotels, weekday-heavy hospitals), seasonality, growth
  trend, events (conventions, proms: +15–40%), renovation dips and noise: not an even spread.
* Monthly budgets (statistics, rates, payroll by job code, other revenue and expenses, P&L lines)
  for last, this and next year; the budget is the site's expected pattern without weekdays,
  events or noise, with a budgeting error of a few per cent.
* Daily payroll actuals by job code for this year to date, schedules for the next two weeks;
  monthly P&L actuals for every closed month; no saved forecasts (a forecast exists only once a
  person saves one, DOMAIN.md §2.5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.data.demo import contracts as contract_builder
from dashboard.data.demo import history, ledger, master, operations
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
    """Every table of a demo portfolio as a DataFrame, keyed by table name, in load order."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    demo_accounts: dict[str, str] = field(default_factory=dict)  # role -> e-mail

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.frames[table]


def build_portfolio(n_sites: int = 650, seed: int = 7, today: dt.date | None = None) -> Portfolio:
    """Build a deterministic portfolio of ``n_sites`` sites as of ``today``."""
    if n_sites < 1:
        raise ValueError("a portfolio needs at least one site")
    calendar = Calendar(today or dt.date.today())
    rng = np.random.default_rng(seed)
    org = master.build_organisation(rng, n_sites, calendar.first_actual)
    jobs = master.build_jobs(rng, org.site)
    contracts = contract_builder.build_contracts(rng, org.site)
    stats = operations.build_statistics(rng, org.site, org.style, calendar)
    payroll = operations.build_payroll(rng, org.site, jobs.site_job_code, stats, calendar)
    other = ledger.build_other_lines(rng, org.site, org.is_hotel, contracts, stats.months, calendar)
    books = ledger.build_pnl(
        rng, org.site, contracts, jobs.site_job_code, stats, payroll, other, calendar
    )
    people = master.build_people(rng, org.region, org.district, org.site, org.is_hotel)
    past = history.build_history(
        rng,
        org.site,
        books.pnl_month,
        jobs.site_job_code,
        stats.days,
        payroll.actual_hours,
        people,
    )
    frames = {
        "region": org.region,
        "district": org.district,
        "site": org.site,
        "contract": contracts.contract,
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
        "statistic_budget_month": stats.statistic_budget_month,
        "site_statistic_day": stats.site_statistic_day,
        "parking_rate_month": stats.parking_rate_month,
        "payroll_budget_month": payroll.payroll_budget_month,
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
    return Portfolio({name: frames[name] for name in LOAD_ORDER}, people.demo_accounts)


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
