"""The P&L of one site or many: forecast lines per site and month, the basis to compare them
with, and the portfolio view (DOMAIN.md §7; decisions D4, D7).

Month by month (``dashboard.domain.pnl.month_kind``):

* closed months (before today's month) are the ledger: ``PnlMonth`` rows of kind 'actual';
* the current month trends (§7.4): actual daily external revenue, occupied rooms and payroll
  through the last loaded day + forecast for the remaining days; claims as posted; parking
  rents and other expense max(forecast, posted) per main account; PTEB and insurance forecast;
* later months are forecast by ``dashboard.domain.pnl.forecast_pnl`` from the inputs people
  saved, each falling back to the budget where nothing is saved:

  - external revenue / occupied rooms = Σ saved forecast statistic days + the statistics
    budget month spread evenly over the unsaved days;
  - payroll and hours per job code = Σ saved forecast payroll days + the payroll budget month
    of the code spread evenly over the code's unsaved days;
  - other revenue = the Other Revenue tab's forecast row, else its budget row; the Other
    Expenses tab adjusts the budgeted expense lines by forecast − budget per category;
  - internal revenue from the contract terms, carrying the year to date for annual revenue
    and profit shares and claims caps; the budget IR with the reason when the terms cannot
    be used (``ir_fallback``).

Everything is read for all the sites at once (a fixed number of queries, aggregated in SQL and
combined with pandas), so the portfolio of every visible site costs the same few queries as
one site.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Integer, and_, cast, extract, func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard.data import figures as figures_repo
from dashboard.data.frames import frame_of, read_frame
from dashboard.data.models import (
    OTHER_EXPENSE_ACCOUNTS,
    BillableAccount,
    Contract,
    District,
    FixedFeeLine,
    JobCode,
    ManagementBillableExpense,
    OtherExpenseMonth,
    OtherRevenueMonth,
    PayrollBudgetMonth,
    PayrollDay,
    PlhJobRate,
    PnlMonth,
    Region,
    ScopeAssignment,
    ShareTier,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    User,
)
from dashboard.domain import adjustments as adj
from dashboard.domain import pnl
from dashboard.domain import revenue as rv
from dashboard.domain.periods import days_in_month
from dashboard.services.scope import Principal, visible_sites

BUDGET_BASIS, PRIOR_YEAR_BASIS = "budget", "prior_year"
BASES = (BUDGET_BASIS, PRIOR_YEAR_BASIS)
BASIS_LABELS = {BUDGET_BASIS: "Budget", PRIOR_YEAR_BASIS: "Prior year"}

LINE_LABELS = {
    "external_revenue": "External Revenue",
    "internal_revenue": "Internal Revenue",
    "payroll": "Payroll",
    "claims": "Claims",
    "parking_rents": "Parking Rents",
    "other_expense": "Other Expense",
    "pteb": "PTEB",
    "insurance": "Insurance",
    "flc": "FLC",
}
SHOWN_LINES = (*pnl.PNL_LINES, "flc")
LINE_COLUMNS = ["site_id", "year", "month", "kind", *pnl.PNL_LINES, "flc", "ir_fallback"]
CUMULATIVE_FLC = "flc_cumulative"

# Billable payroll accounts (6000s) have no budget or forecast of their own: the wage
# accounts take the forecast payroll of the hourly and the salaried job codes. Overtime
# (6050) is inside the hourly codes' cost already, so it gets nothing (no double billing).
PAYROLL_ACCOUNT_SOURCES = {"6010": "hourly_payroll", "6020": "salaried_payroll"}

_CLAIMS_CATEGORY = "loss_damage_claims"  # GL 7100: books to the Claims line (§7.1)
_ANNUAL = (rv.ANNUAL_CALENDAR, rv.ANNUAL_ANNIVERSARY)


# --- Contract terms -------------------------------------------------------------------------


def site_terms(session: Session, site_ids: Iterable[int]) -> dict[int, rv.SiteTerms]:
    """Contract terms of every site in ``site_ids`` (one query per contract table).

    A site without a ``Contract`` row is unconfigured (its IR falls back to budget). The
    contract start that anchors anniversary years is the site's start date.
    """
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return {}
    sites = session.execute(
        select(Site.id, Site.contract_types, Site.start_date).where(Site.id.in_(ids))
    ).all()
    contracts = {
        row["site_id"]: row
        for row in session.execute(
            select(*Contract.__table__.c).where(Contract.site_id.in_(ids))
        ).mappings()
    }
    fees: dict[int, list[rv.FeeLine]] = defaultdict(list)
    for r in session.execute(
        select(
            FixedFeeLine.site_id,
            FixedFeeLine.monthly_fee,
            FixedFeeLine.start_date,
            FixedFeeLine.end_date,
            FixedFeeLine.name,
        )
        .where(FixedFeeLine.site_id.in_(ids))
        .order_by(FixedFeeLine.id)
    ):
        fees[r.site_id].append(
            rv.FeeLine(float(r.monthly_fee or 0.0), r.start_date, r.end_date, r.name)
        )
    rates: dict[int, list[rv.JobRate]] = defaultdict(list)
    for r in session.execute(
        select(
            PlhJobRate.site_id,
            PlhJobRate.job_code_id,
            PlhJobRate.rate,
            PlhJobRate.start_date,
            PlhJobRate.end_date,
            PlhJobRate.overtime_rate,
        )
        .where(PlhJobRate.site_id.in_(ids))
        .order_by(PlhJobRate.id)
    ):
        rates[r.site_id].append(
            rv.JobRate(
                r.job_code_id,
                float(r.rate or 0.0),
                r.start_date,
                r.end_date,
                float(r.overtime_rate or 0.0),
            )
        )
    tiers: dict[tuple[int, str], list[rv.Tier]] = defaultdict(list)
    for r in session.execute(
        select(ShareTier.site_id, ShareTier.scheme, ShareTier.lower_bound, ShareTier.share_pct)
        .where(ShareTier.site_id.in_(ids))
        .order_by(ShareTier.lower_bound)
    ):
        tiers[(r.site_id, r.scheme)].append(
            rv.Tier(float(r.lower_bound or 0.0), float(r.share_pct or 0.0))
        )
    accounts: dict[int, list[rv.BillableAccount]] = defaultdict(list)
    for r in session.execute(
        select(
            BillableAccount.site_id,
            BillableAccount.code,
            BillableAccount.kind,
            BillableAccount.enabled,
        )
        .where(BillableAccount.site_id.in_(ids))
        .order_by(BillableAccount.id)
    ):
        accounts[r.site_id].append(rv.BillableAccount(r.code, r.kind, bool(r.enabled)))
    expenses: dict[int, list[rv.NonGlExpense]] = defaultdict(list)
    for r in session.execute(
        select(
            ManagementBillableExpense.site_id,
            ManagementBillableExpense.basis,
            ManagementBillableExpense.value,
            ManagementBillableExpense.name,
        )
        .where(ManagementBillableExpense.site_id.in_(ids))
        .order_by(ManagementBillableExpense.id)
    ):
        expenses[r.site_id].append(rv.NonGlExpense(r.basis, float(r.value or 0.0), r.name))

    terms: dict[int, rv.SiteTerms] = {}
    for site_id, flags, start in sites:
        c = contracts.get(site_id)
        if c is None:
            terms[site_id] = rv.SiteTerms(flags or "", is_configured=False, contract_start=start)
            continue
        billable = rv.BillableAccountTerms(
            accounts=tuple(accounts[site_id]),
            additional_payroll_amount=float(c["additional_payroll_amount"] or 0.0),
            pteb_enabled=bool(c["pteb_enabled"]),
            pteb_type=c["pteb_type"] or rv.PERCENTAGE,
            pteb_pct=float(c["pteb_pct"] or 0.0),
            pteb_escalator_month=c["pteb_escalator_month"],
            pteb_escalator_value=float(c["pteb_escalator_value"] or 0.0),
            pteb_escalator_type=c["pteb_escalator_type"] or rv.PERCENTAGE,
            support_enabled=bool(c["support_enabled"]),
            support_type=c["support_type"] or rv.PERCENTAGE,
            support_amount=float(c["support_amount"] or 0.0),
            support_payroll_type=c["support_payroll_type"] or rv.BILLABLE_PAYROLL,
        )
        management = rv.ManagementAgreementTerms(
            fee_type=c["management_fee_type"],
            fee_amount=float(c["management_fee_amount"] or 0.0),
            insurance_type=c["ma_insurance_type"] or rv.INSURANCE_BASED_ON_BILLABLE_ACCOUNTS,
            insurance_additional_pct=float(c["ma_insurance_additional_pct"] or 0.0),
            claims_cap=float(c["claims_cap"] or 0.0),
            claims_cap_type=c["claims_cap_type"],
            profit_share_tiers=tuple(tiers[(site_id, "profit_share")]),
            profit_share_accumulation=c["profit_share_accumulation"] or rv.MONTHLY,
            billable_expenses=tuple(expenses[site_id]),
        )
        terms[site_id] = rv.SiteTerms(
            flags or "",
            is_configured=bool(c["is_configured"]),
            increment_month=c["increment_month"],
            increment_pct=float(c["increment_pct"] or 0.0),
            contract_start=start,
            fee_lines=tuple(fees[site_id]),
            job_rates=tuple(rates[site_id]),
            occupied_room_rate=float(c["occupied_room_rate"] or 0.0),
            revenue_share_tiers=tuple(tiers[(site_id, "revenue_share")]),
            revenue_share_accumulation=c["revenue_share_accumulation"] or rv.MONTHLY,
            billable=billable,
            management=management,
        )
    return terms


def _accumulations(terms: rv.SiteTerms) -> list[str]:
    """Accumulation periods longer than a month that change this site's IR."""
    found = []
    if terms.has(rv.REVENUE_SHARE) and terms.revenue_share_tiers:
        found.append(terms.revenue_share_accumulation)
    if terms.is_management_agreement:
        if terms.management.profit_share_tiers:
            found.append(terms.management.profit_share_accumulation)
        found.append(terms.management.claims_cap_type)
    return [a for a in found if a in _ANNUAL]


def _accumulates(terms: rv.SiteTerms) -> bool:
    return terms.is_configured and bool(_accumulations(terms))


def _looks_back(terms: rv.SiteTerms) -> bool:
    """An anniversary period that can begin in the previous calendar year."""
    start = terms.contract_start
    return (
        terms.is_configured
        and rv.ANNUAL_ANNIVERSARY in _accumulations(terms)
        and start is not None
        and start.month != 1
    )


def _needs_hours(terms: rv.SiteTerms) -> bool:
    return terms.has(rv.PER_LABOR_HOUR) or (
        terms.is_management_agreement and terms.management.fee_type == rv.MA_PER_LABOR_HOUR
    )


# --- Drivers ------------------------------------------------------------------------------

_KEYS = ["site_id", "year", "month"]
_MONTH_COLUMNS = [
    "external_revenue",
    "occupied_rooms",
    "payroll",
    "hourly_payroll",
    "salaried_payroll",
    "labor_hours",
    "other_revenue",
    "other_revenue_budget",
]


@dataclass(frozen=True)
class Drivers:
    """Forecast drivers of a set of sites, one row per (site_id, year, month).

    ``months`` columns: external_revenue, occupied_rooms, payroll (Σ job codes),
    hourly_payroll, salaried_payroll, labor_hours, other_revenue (the Other Revenue tab's
    forecast row, else its budget row, Σ of the signed columns), other_revenue_budget.
    ``hours`` holds hours per (site_id, year, month, job_code_id). ``other_expense`` holds the
    Other Expenses tab's rows per (site_id, year, month, kind) as stored (kinds budget,
    forecast, actual), one column per category.
    """

    months: pd.DataFrame
    hours: pd.DataFrame
    other_expense: pd.DataFrame


@dataclass(frozen=True)
class DriverChange:
    """What unsaved edits add to one site-month's forecast drivers (the live impact panel):
    external revenue and occupied rooms from statistics and rates, hourly payroll cost and
    hours (per job code) from the payroll forecast."""

    external_revenue: float = 0.0
    occupied_rooms: float = 0.0
    payroll: float = 0.0
    hours_by_code: dict[int, float] = field(default_factory=dict)


def _apply_changes(
    inputs: _Inputs,
    changes: dict[tuple[int, int, int], DriverChange],
    terms: dict[int, rv.SiteTerms],
) -> None:
    for key, change in changes.items():
        record = inputs.drivers.get(key)
        if record is None:
            continue  # a closed month: edits cannot reach it
        record = dict(record)
        record["external_revenue"] = float(record["external_revenue"]) + change.external_revenue
        record["occupied_rooms"] = float(record["occupied_rooms"]) + change.occupied_rooms
        record["payroll"] = float(record["payroll"]) + change.payroll
        record["hourly_payroll"] = float(record["hourly_payroll"]) + change.payroll
        record["labor_hours"] = float(record["labor_hours"]) + sum(change.hours_by_code.values())
        inputs.drivers[key] = record
        if change.hours_by_code and _needs_hours(terms[key[0]]):
            hours = dict(inputs.hours.get(key, {}))
            for code, delta in change.hours_by_code.items():
                hours[int(code)] = hours.get(int(code), 0.0) + delta
            inputs.hours[key] = hours


_frame = read_frame


def _year_of(column):
    return cast(extract("year", column), Integer)


def _month_of(column):
    return cast(extract("month", column), Integer)


def _in_months(year_column, month_column, months: Iterable[tuple[int, int]]):
    """SQL condition: (year, month) is one of ``months``."""
    by_year: dict[int, list[int]] = defaultdict(list)
    for y, m in months:
        by_year[y].append(m)
    return or_(*[and_(year_column == y, month_column.in_(sorted(ms))) for y, ms in by_year.items()])


def _date_span(months: Sequence[tuple[int, int]]) -> tuple[dt.date, dt.date]:
    first, last = min(months), max(months)
    return dt.date(*first, 1), dt.date(*last, days_in_month(*last))


def _month_grid(site_ids: Sequence[int], months: Sequence[tuple[int, int]]) -> pd.DataFrame:
    count = len(months)
    return pd.DataFrame(
        {
            "site_id": np.repeat(np.asarray(site_ids, dtype=int), count),
            "year": np.tile([y for y, _ in months], len(site_ids)).astype(int),
            "month": np.tile([m for _, m in months], len(site_ids)).astype(int),
            "days": np.tile([float(days_in_month(*ym)) for ym in months], len(site_ids)),
        }
    )


def _to_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for c in columns:
        column = frame[c]
        if column.dtype != np.float64:  # object (Decimal, None) from the database
            column = pd.to_numeric(column, errors="coerce").astype(float)
        frame[c] = column.fillna(0.0)
    return frame


_KEY_TYPES = {"site_id": np.int64, "year": np.int64, "month": np.int64}


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    # Only the key columns that are not integers yet: astype is costly on small frames.
    todo = {c: t for c, t in _KEY_TYPES.items() if frame[c].dtype != t}
    return frame.astype(todo) if todo else frame


def _spread(saved: pd.Series, budget: pd.Series, unsaved_days, days) -> pd.Series:
    """Saved forecast + the budget month's even daily share for each unsaved day."""
    return saved + budget * unsaved_days / days


def _empty_drivers() -> Drivers:
    return Drivers(
        pd.DataFrame(columns=[*_KEYS, *_MONTH_COLUMNS]),
        pd.DataFrame(columns=[*_KEYS, "job_code_id", "hours"]),
        pd.DataFrame(columns=[*_KEYS, "kind", *adj.OTHER_EXPENSE_FIELDS]),
    )


def forecast_drivers(
    session: Session, site_ids: Sequence[int], year: int, months: Sequence[int] | None = None
) -> Drivers:
    """Forecast drivers of ``site_ids`` for the ``months`` of ``year`` (all 12 by default),
    every day of them forecast (the current month's blend with actuals is
    ``trending_drivers``): saved forecast days + the budget month spread evenly over the
    unsaved days, per site (statistics) and per job code (payroll)."""
    chosen = [(year, m) for m in (months or range(1, 13))]
    return _forecast_drivers(session, sorted({int(s) for s in site_ids}), chosen)


def _forecast_drivers(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> Drivers:
    if not ids or not months:
        return _empty_drivers()
    first, last = _date_span(months)
    grid = _month_grid(ids, months)

    # Statistics: saved forecast days + the budget month spread over the unsaved days.
    s = SiteStatisticDay
    saved = _frame(
        session,
        select(
            s.site_id,
            _year_of(s.day),
            _month_of(s.day),
            func.sum(s.external_revenue),
            func.sum(s.occupied_rooms),
            func.count(),
        )
        .where(s.site_id.in_(ids), s.kind == "forecast", s.day >= first, s.day <= last)
        .group_by(s.site_id, _year_of(s.day), _month_of(s.day)),
        [*_KEYS, "ext_saved", "rooms_saved", "saved_days"],
    )
    stats = grid.merge(_keyed(saved), on=_KEYS, how="left").merge(
        _statistics_budget(session, ids, months), on=_KEYS, how="left"
    )
    stats = _to_float(
        stats, ["ext_saved", "rooms_saved", "saved_days", "ext_budget", "rooms_budget"]
    )
    unsaved = stats["days"] - stats["saved_days"]
    stats["external_revenue"] = _spread(
        stats["ext_saved"], stats["ext_budget"], unsaved, stats["days"]
    )
    stats["occupied_rooms"] = _spread(
        stats["rooms_saved"], stats["rooms_budget"], unsaved, stats["days"]
    )

    # Payroll per job code: saved forecast days + the code's budget over its unsaved days.
    p = PayrollDay
    pay_saved = _frame(
        session,
        select(
            p.site_id,
            _year_of(p.day),
            _month_of(p.day),
            p.job_code_id,
            func.sum(p.hours),
            func.sum(p.cost),
            func.count(),
        )
        .where(p.site_id.in_(ids), p.kind == "forecast", p.day >= first, p.day <= last)
        .group_by(p.site_id, _year_of(p.day), _month_of(p.day), p.job_code_id),
        [*_KEYS, "job_code_id", "hours_saved", "cost_saved", "saved_days"],
    )
    codes = _payroll_budget(session, ids, months).merge(
        _keyed(pay_saved), on=[*_KEYS, "job_code_id"], how="outer"
    )
    codes = _to_float(
        codes.merge(grid, on=_KEYS, how="inner"),
        ["hours_budget", "cost_budget", "hours_saved", "cost_saved", "saved_days"],
    )
    unsaved = codes["days"] - codes["saved_days"]
    codes["hours"] = _spread(codes["hours_saved"], codes["hours_budget"], unsaved, codes["days"])
    codes["cost"] = _spread(codes["cost_saved"], codes["cost_budget"], unsaved, codes["days"])
    return _assemble(
        session,
        stats,
        codes,
        _other_revenue(session, ids, months),
        _other_expense(session, ids, months),
    )


def _statistics_budget(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    b = StatisticBudgetMonth
    return _keyed(
        _frame(
            session,
            select(b.site_id, b.year, b.month, b.external_revenue, b.occupied_rooms).where(
                b.site_id.in_(ids), _in_months(b.year, b.month, months)
            ),
            [*_KEYS, "ext_budget", "rooms_budget"],
        )
    )


def _payroll_budget(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    b = PayrollBudgetMonth
    return _keyed(
        _frame(
            session,
            select(b.site_id, b.year, b.month, b.job_code_id, b.hours, b.cost).where(
                b.site_id.in_(ids), _in_months(b.year, b.month, months)
            ),
            [*_KEYS, "job_code_id", "hours_budget", "cost_budget"],
        )
    )


def _assemble(
    session: Session,
    stats: pd.DataFrame,
    codes: pd.DataFrame,
    other_revenue: pd.DataFrame,
    other_expense: pd.DataFrame,
) -> Drivers:
    """Month-level drivers from the statistics and the per-code payroll."""
    code_ids = sorted({int(c) for c in codes["job_code_id"].dropna()})
    salaried_codes = (
        {
            code_id
            for code_id, salaried in session.execute(
                select(JobCode.id, JobCode.is_salaried).where(JobCode.id.in_(code_ids))
            )
            if salaried
        }
        if code_ids
        else set()
    )
    salaried = codes["job_code_id"].isin(salaried_codes).to_numpy()
    codes = codes.assign(
        hourly_payroll=np.where(salaried, 0.0, codes["cost"]),
        salaried_payroll=np.where(salaried, codes["cost"], 0.0),
    )
    payroll = _keyed(
        codes.groupby(_KEYS, as_index=False).agg(
            payroll=("cost", "sum"),
            hourly_payroll=("hourly_payroll", "sum"),
            salaried_payroll=("salaried_payroll", "sum"),
            labor_hours=("hours", "sum"),
        )
    )
    months = _keyed(stats[[*_KEYS, "external_revenue", "occupied_rooms"]])
    months = months.merge(payroll, on=_KEYS, how="left").merge(other_revenue, on=_KEYS, how="left")
    months = _to_float(months, _MONTH_COLUMNS)
    hours = _keyed(codes[[*_KEYS, "job_code_id", "hours"]]).astype({"job_code_id": int})
    return Drivers(months[[*_KEYS, *_MONTH_COLUMNS]], hours, other_expense)


def _other_revenue(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Σ of the Other Revenue tab's signed columns: forecast row else budget row, and budget."""
    o = OtherRevenueMonth
    total = sum(getattr(o, f) for f in adj.OTHER_REVENUE_FIELDS)
    rows = _frame(
        session,
        select(o.site_id, o.year, o.month, o.kind, total).where(
            o.site_id.in_(ids),
            _in_months(o.year, o.month, months),
            o.kind.in_(("budget", "forecast")),
        ),
        [*_KEYS, "kind", "amount"],
    )
    rows = _to_float(_keyed(rows), ["amount"])
    budget = rows[rows["kind"] == "budget"].drop(columns="kind")
    forecast = rows[rows["kind"] == "forecast"].drop(columns="kind")
    both = budget.rename(columns={"amount": "other_revenue_budget"}).merge(
        forecast.rename(columns={"amount": "forecast"}), on=_KEYS, how="outer"
    )
    both["other_revenue"] = both["forecast"].where(
        both["forecast"].notna(), both["other_revenue_budget"]
    )
    both = _to_float(both, ["other_revenue", "other_revenue_budget"])
    return _keyed(both[[*_KEYS, "other_revenue", "other_revenue_budget"]])


def _other_expense(
    session: Session,
    ids: list[int],
    months: Sequence[tuple[int, int]],
    kinds: tuple[str, ...] = ("budget", "forecast", "actual"),
) -> pd.DataFrame:
    o = OtherExpenseMonth
    frame = _frame(
        session,
        select(
            o.site_id,
            o.year,
            o.month,
            o.kind,
            *[getattr(o, f) for f in adj.OTHER_EXPENSE_FIELDS],
        ).where(o.site_id.in_(ids), _in_months(o.year, o.month, months), o.kind.in_(kinds)),
        [*_KEYS, "kind", *adj.OTHER_EXPENSE_FIELDS],
    )
    return _to_float(_keyed(frame), adj.OTHER_EXPENSE_FIELDS)


def trending_drivers(session: Session, site_ids: Sequence[int], today: dt.date) -> Drivers:
    """Drivers of today's month (§7.4): per site, actual daily external revenue and occupied
    rooms through the last loaded statistics day and actual payroll (cost, hours per code)
    through the last loaded payroll day, + the forecast of the remaining days (saved forecast
    days, else the budget month's even daily share). "Loaded" = a day with an actual > 0
    (``pnl.last_loaded_day``); a site with no day loaded is all forecast. Equivalent to
    ``pnl.month_to_date_blend`` per site, aggregated in SQL."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return _empty_drivers()
    year, month = today.year, today.month
    months = [(year, month)]
    n = float(days_in_month(year, month))
    first, last = _date_span(months)
    grid = _month_grid(ids, months)

    def remaining_days(through: pd.Series) -> pd.Series:
        loaded = [d.day if isinstance(d, dt.date) else 0 for d in through]
        return n - pd.Series(loaded, index=through.index, dtype=float)

    # Statistics.
    s = SiteStatisticDay
    loaded_stats = (
        select(s.site_id, func.max(s.day).label("through"))
        .where(
            s.site_id.in_(ids),
            s.kind == "actual",
            s.day >= first,
            s.day <= last,
            or_(s.external_revenue > 0, s.occupied_rooms > 0),
        )
        .group_by(s.site_id)
        .subquery()
    )
    actual = _frame(
        session,
        select(s.site_id, func.sum(s.external_revenue), func.sum(s.occupied_rooms))
        .join(loaded_stats, loaded_stats.c.site_id == s.site_id)
        .where(s.kind == "actual", s.day >= first, s.day <= loaded_stats.c.through)
        .group_by(s.site_id),
        ["site_id", "ext_actual", "rooms_actual"],
    )
    saved = _frame(
        session,
        select(s.site_id, func.sum(s.external_revenue), func.sum(s.occupied_rooms), func.count())
        .outerjoin(loaded_stats, loaded_stats.c.site_id == s.site_id)
        .where(
            s.site_id.in_(ids),
            s.kind == "forecast",
            s.day >= first,
            s.day <= last,
            or_(loaded_stats.c.through.is_(None), s.day > loaded_stats.c.through),
        )
        .group_by(s.site_id),
        ["site_id", "ext_saved", "rooms_saved", "saved_days"],
    )
    through = _frame(
        session, select(loaded_stats.c.site_id, loaded_stats.c.through), ["site_id", "through"]
    )
    stats = grid.merge(_statistics_budget(session, ids, months), on=_KEYS, how="left")
    for part in (actual, saved, through):
        stats = stats.merge(part.astype({"site_id": int}), on="site_id", how="left")
    stats = _to_float(
        stats,
        [
            "ext_actual",
            "rooms_actual",
            "ext_saved",
            "rooms_saved",
            "saved_days",
            "ext_budget",
            "rooms_budget",
        ],
    )
    unsaved = remaining_days(stats["through"]) - stats["saved_days"]
    stats["external_revenue"] = stats["ext_actual"] + _spread(
        stats["ext_saved"], stats["ext_budget"], unsaved, n
    )
    stats["occupied_rooms"] = stats["rooms_actual"] + _spread(
        stats["rooms_saved"], stats["rooms_budget"], unsaved, n
    )

    # Payroll per job code.
    p = PayrollDay
    loaded_days = (
        select(p.site_id, p.day)
        .where(p.site_id.in_(ids), p.kind == "actual", p.day >= first, p.day <= last)
        .group_by(p.site_id, p.day)
        .having(func.sum(p.cost) > 0)
        .subquery()
    )
    loaded_pay = (
        select(loaded_days.c.site_id, func.max(loaded_days.c.day).label("through"))
        .group_by(loaded_days.c.site_id)
        .subquery()
    )
    code_keys = ["site_id", "job_code_id"]
    pay_actual = _frame(
        session,
        select(p.site_id, p.job_code_id, func.sum(p.hours), func.sum(p.cost))
        .join(loaded_pay, loaded_pay.c.site_id == p.site_id)
        .where(p.kind == "actual", p.day >= first, p.day <= loaded_pay.c.through)
        .group_by(p.site_id, p.job_code_id),
        [*code_keys, "hours_actual", "cost_actual"],
    )
    pay_saved = _frame(
        session,
        select(p.site_id, p.job_code_id, func.sum(p.hours), func.sum(p.cost), func.count())
        .outerjoin(loaded_pay, loaded_pay.c.site_id == p.site_id)
        .where(
            p.site_id.in_(ids),
            p.kind == "forecast",
            p.day >= first,
            p.day <= last,
            or_(loaded_pay.c.through.is_(None), p.day > loaded_pay.c.through),
        )
        .group_by(p.site_id, p.job_code_id),
        [*code_keys, "hours_saved", "cost_saved", "saved_days"],
    )
    pay_through = _frame(
        session, select(loaded_pay.c.site_id, loaded_pay.c.through), ["site_id", "through"]
    )
    codes = _payroll_budget(session, ids, months).drop(columns=["year", "month"])
    for part in (pay_actual, pay_saved):
        codes = codes.merge(
            part.astype({"site_id": int, "job_code_id": int}), on=code_keys, how="outer"
        )
    codes = codes.merge(pay_through.astype({"site_id": int}), on="site_id", how="left")
    codes = _to_float(
        codes,
        [
            "hours_budget",
            "cost_budget",
            "hours_actual",
            "cost_actual",
            "hours_saved",
            "cost_saved",
            "saved_days",
        ],
    )
    unsaved = remaining_days(codes["through"]) - codes["saved_days"]
    codes["hours"] = codes["hours_actual"] + _spread(
        codes["hours_saved"], codes["hours_budget"], unsaved, n
    )
    codes["cost"] = codes["cost_actual"] + _spread(
        codes["cost_saved"], codes["cost_budget"], unsaved, n
    )
    codes["year"], codes["month"] = year, month
    return _assemble(
        session,
        stats,
        codes,
        _other_revenue(session, ids, months),
        _other_expense(session, ids, months),
    )


# --- P&L lines ------------------------------------------------------------------------------


def _pnl_rows(
    session: Session, ids: list[int], years: list[int], kinds: tuple[str, ...]
) -> dict[tuple[int, int, int, str], dict[str, float]]:
    """``PnlMonth`` rows keyed by (site_id, year, month, kind)."""
    if not ids:
        return {}
    fields = [*pnl.PNL_LINES, "vehicle_insurance", "occupied_rooms"]
    rows = (
        session.connection()
        .execute(
            select(
                PnlMonth.site_id,
                PnlMonth.year,
                PnlMonth.month,
                PnlMonth.kind,
                *[getattr(PnlMonth, f) for f in fields],
            ).where(
                PnlMonth.site_id.in_(ids),
                PnlMonth.year.in_(years),
                PnlMonth.kind.in_(kinds),
            )
        )
        .fetchall()
    )
    out = {}
    for r in rows:
        out[(r[0], r[1], r[2], r[3])] = dict(zip(fields, (float(v or 0.0) for v in r[4:])))  # noqa: B905
    return out


def _category_rows(frame: pd.DataFrame) -> dict[tuple[int, int, int, str], dict[str, float]]:
    if frame.empty:
        return {}
    keys = zip(frame["site_id"], frame["year"], frame["month"], frame["kind"], strict=True)
    values = frame[list(adj.OTHER_EXPENSE_FIELDS)].to_numpy(dtype=float).tolist()
    return {
        (int(s), int(y), int(m), k): dict(zip(adj.OTHER_EXPENSE_FIELDS, v, strict=True))
        for (s, y, m, k), v in zip(keys, values, strict=True)
    }


def _hours_by_code(frame: pd.DataFrame, sites: set[int]) -> dict[tuple[int, int, int], dict]:
    out: dict[tuple[int, int, int], dict] = defaultdict(dict)
    if frame.empty or not sites:
        return out
    chosen = frame[frame["site_id"].isin(sites)]
    for s, y, m, code, hours in chosen[
        ["site_id", "year", "month", "job_code_id", "hours"]
    ].itertuples(index=False):
        key = (int(s), int(y), int(m))
        out[key][int(code)] = out[key].get(int(code), 0.0) + float(hours)
    return out


def _actual_hours(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Actual hours per job code and month (for the closed months of management agreements
    billed per labor hour whose profit share accumulates: the profit basis needs them)."""
    first, last = _date_span(months)
    p = PayrollDay
    return _frame(
        session,
        select(p.site_id, _year_of(p.day), _month_of(p.day), p.job_code_id, func.sum(p.hours))
        .where(p.site_id.in_(ids), p.kind == "actual", p.day >= first, p.day <= last)
        .group_by(p.site_id, _year_of(p.day), _month_of(p.day), p.job_code_id),
        [*_KEYS, "job_code_id", "hours"],
    )


def _account_amounts(
    terms: rv.SiteTerms, categories: dict[str, float], drivers: dict[str, float] | None
) -> dict[str, float]:
    """Amount per GL account code for the site's billable accounts: the Other Expenses
    categories by their GL account, the wage accounts from the forecast payroll."""
    if not terms.billable.accounts:
        return {}
    amounts = {OTHER_EXPENSE_ACCOUNTS[c]: v for c, v in categories.items()}
    if drivers is not None:
        for code, source in PAYROLL_ACCOUNT_SOURCES.items():
            amounts[code] = float(drivers[source])
    return amounts


@dataclass
class _Inputs:
    """Everything ``_compute`` reads besides the ledger, keyed by (site_id, year, month)."""

    drivers: dict[tuple[int, int, int], dict]
    hours: dict[tuple[int, int, int], dict]
    expenses: dict[tuple[int, int, int, str], dict[str, float]]


def _load_inputs(
    session: Session,
    ids: list[int],
    months: list[tuple[int, int]],
    kinds: dict[tuple[int, int], str],
    today: dt.date,
    terms: dict[int, rv.SiteTerms],
    chained: set[int],
) -> _Inputs:
    current = (today.year, today.month)
    forecast_months = [ym for ym in months if kinds[ym] == pnl.FORECAST_MONTH]
    parts = [_forecast_drivers(session, ids, forecast_months)]
    if kinds.get(current) == pnl.TRENDING_MONTH:
        parts.append(trending_drivers(session, ids, today))
    drivers: dict[tuple[int, int, int], dict] = {}
    hours: dict[tuple[int, int, int], dict] = {}
    expenses: dict[tuple[int, int, int, str], dict[str, float]] = {}
    hour_sites = {s for s in ids if _needs_hours(terms[s])}
    for part in parts:
        for record in part.months.to_dict("records"):
            drivers[(int(record["site_id"]), int(record["year"]), int(record["month"]))] = record
        hours.update(_hours_by_code(part.hours, hour_sites))
        expenses.update(_category_rows(part.other_expense))
    closed = [ym for ym in months if kinds[ym] == pnl.ACTUAL_MONTH]
    if chained and closed:
        # Closed months of accumulating sites: the billed expense accounts and (management
        # fee per labor hour) the hours that went into their profit basis.
        billed = sorted(s for s in chained if terms[s].billable.accounts)
        if billed:
            expenses.update(
                _category_rows(_other_expense(session, billed, closed, kinds=("actual",)))
            )
        per_hour = sorted(
            s
            for s in chained
            if terms[s].is_management_agreement
            and terms[s].management.fee_type == rv.MA_PER_LABOR_HOUR
        )
        if per_hour:
            hours.update(_hours_by_code(_actual_hours(session, per_hour, closed), set(per_hour)))
    return _Inputs(drivers, hours, expenses)


def _compute(
    session: Session,
    ids: list[int],
    months: list[tuple[int, int]],
    today: dt.date,
    terms: dict[int, rv.SiteTerms],
    variants: Sequence[dict[tuple[int, int, int], DriverChange] | None] = (None,),
    keep: set[tuple[int, int]] | None = None,
) -> list[list[dict]]:
    """P&L lines of ``ids`` for the consecutive ``months``, once per variant of driver
    changes (None: the saved forecast): per variant, one dict per site-month. The inputs are
    read once for all variants. ``keep``: only these months are wanted; sites whose internal
    revenue does not accumulate skip the others (accumulating sites still walk every month
    for their year to date)."""
    if not ids:
        return [[] for _ in variants]
    years = sorted({y for y, _ in months})
    kinds = {ym: pnl.month_kind(*ym, today) for ym in months}
    ledger = _pnl_rows(session, ids, years, ("budget", "actual"))
    closes = dict(
        session.execute(
            select(Site.id, Site.close_date).where(Site.id.in_(ids), Site.close_date.is_not(None))
        ).all()
    )
    open_months = [ym for ym in months if kinds[ym] != pnl.ACTUAL_MONTH]
    # Actual months feed the year to date of accumulating sites before a forecast month.
    chained = {s for s in ids if open_months and _accumulates(terms[s])}
    loaded = (
        _load_inputs(session, ids, months, kinds, today, terms, chained)
        if open_months
        else _Inputs({}, {}, {})
    )
    results = []
    for changes in variants:
        inputs = loaded
        if changes:
            inputs = _Inputs(
                dict(loaded.drivers), {k: dict(v) for k, v in loaded.hours.items()}, loaded.expenses
            )
            _apply_changes(inputs, changes, terms)
        results.append(
            _rows_of(ids, months, today, terms, kinds, ledger, closes, chained, inputs, keep)
        )
    return results


def _rows_of(
    ids: list[int],
    months: list[tuple[int, int]],
    today: dt.date,
    terms: dict[int, rv.SiteTerms],
    kinds: dict[tuple[int, int], str],
    ledger: dict,
    closes: dict,
    chained: set[int],
    loaded: _Inputs,
    keep: set[tuple[int, int]] | None = None,
) -> list[dict]:
    drivers, hours, expenses = loaded.drivers, loaded.hours, loaded.expenses
    out: list[dict] = []
    empty_categories = dict.fromkeys(adj.OTHER_EXPENSE_FIELDS, 0.0)
    for site_id in ids:
        site = terms[site_id]
        close = closes.get(site_id)
        ytd = rv.YearToDate()
        accumulates = site_id in chained
        for y, m in months:
            if keep is not None and (y, m) not in keep and site_id not in chained:
                continue  # not wanted, and no later month depends on it
            kind = kinds[(y, m)]
            month_start = dt.date(y, m, 1)
            row = {"site_id": site_id, "year": y, "month": m, "kind": kind, "ir_fallback": None}
            if kind == pnl.ACTUAL_MONTH:
                actual = ledger.get((site_id, y, m, "actual"))
                row.update({line: (actual or {}).get(line, 0.0) for line in pnl.PNL_LINES})
                if accumulates and actual is not None:
                    ytd = rv.year_to_date_for(site, month_start, ytd)
                    inputs = rv.MonthInputs(
                        month_start,
                        external_revenue=actual["external_revenue"],
                        occupied_rooms=actual["occupied_rooms"],
                        hours_by_job_code=hours.get((site_id, y, m), {}),
                        payroll=actual["payroll"],
                        pteb=actual["pteb"],
                        insurance=actual["insurance"],
                        claims=(actual["claims"],) if actual["claims"] else (),
                        account_amounts=_account_amounts(
                            site, expenses.get((site_id, y, m, "actual"), empty_categories), None
                        ),
                    )
                    breakdown = rv.internal_revenue(site, inputs, ytd)
                    ytd = rv.year_to_date_after(ytd, inputs, breakdown)
                out.append(row)
                continue
            if close is not None and month_start > close:
                # Closed sites are forecast through their closing month, zero afterwards.
                row.update(dict.fromkeys(pnl.PNL_LINES, 0.0))
                out.append(row)
                continue
            budget = ledger.get((site_id, y, m, "budget"), {})
            d = drivers[(site_id, y, m)]
            budget_categories = expenses.get((site_id, y, m, "budget"))
            forecast_categories = expenses.get((site_id, y, m, "forecast"))
            chosen = adj.month_values(
                forecast_categories, budget_categories, adj.OTHER_EXPENSE_FIELDS
            )
            rents_adjustment = other_adjustment = 0.0
            if forecast_categories is not None:
                rents_adjustment, other_adjustment = pnl.split_expense_adjustments(
                    adj.expense_adjustments(forecast_categories, budget_categories or {})
                )
            posted = None
            if kind == pnl.TRENDING_MONTH:
                posted = _posted(chosen, expenses.get((site_id, y, m, "actual")))
            inputs = rv.MonthInputs(
                month_start,
                external_revenue=float(d["external_revenue"]),
                occupied_rooms=float(d["occupied_rooms"]),
                hours_by_job_code=hours.get((site_id, y, m), {}),
                payroll=float(d["payroll"]),
                account_amounts=_account_amounts(site, chosen, d),
                other_revenue=float(d["other_revenue"]),
                other_revenue_budget=float(d["other_revenue_budget"]),
                budget_internal_revenue=budget.get("internal_revenue", 0.0),
            )
            if accumulates:
                ytd = rv.year_to_date_for(site, month_start, ytd)
            lines, breakdown = pnl.forecast_pnl(
                budget,
                site,
                inputs,
                ytd if accumulates else None,
                parking_rents_adjustment=rents_adjustment,
                other_expense_adjustment=other_adjustment,
                posted=posted,
            )
            if accumulates:
                ytd = rv.year_to_date_after(ytd, inputs, breakdown)
            row.update(lines.as_dict())
            row["ir_fallback"] = breakdown.fallback_reason
            out.append(row)
    return out


def _posted(forecast: dict[str, float], actual: dict[str, float] | None) -> pnl.PostedToDate:
    """What the current month has posted so far, per main account (the Other Expenses tab's
    actual row): claims as posted; parking rents and other expense as Σ per account of
    max(forecast, posted), which ``forecast_pnl`` then compares with the forecast line."""
    actual = actual or {}
    rents = pnl.PARKING_RENTS_CATEGORY
    others = [c for c in adj.OTHER_EXPENSE_FIELDS if c != rents]
    claims = actual.get(_CLAIMS_CATEGORY, 0.0)
    return pnl.PostedToDate(
        claims=(claims,) if claims else (),
        parking_rents=pnl.trending_expense(forecast.get(rents, 0.0), actual.get(rents, 0.0)),
        other_expense=pnl.trending_expense(
            {c: forecast.get(c, 0.0) for c in others},
            # Claims book to their own line, not to other expense.
            {c: actual.get(c, 0.0) for c in others if c != _CLAIMS_CATEGORY},
        ),
    )


def _lines_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in LINE_COLUMNS if c != "flc"])
    frame = _to_float(frame, pnl.PNL_LINES)
    frame["flc"] = pnl.flc(frame)
    frame["ir_fallback"] = pd.Series(
        [None if v is None or v != v else v for v in frame["ir_fallback"]],
        index=frame.index,
        dtype=object,
    )
    frame = frame.astype({"site_id": int, "year": int, "month": int})
    return frame[LINE_COLUMNS].sort_values(["site_id", "month"]).reset_index(drop=True)


def computed_lines(
    session: Session, site_ids: Sequence[int], year: int, today: dt.date
) -> pd.DataFrame:
    """The P&L of ``site_ids`` for the 12 months of ``year``, computed by the engine from
    the inputs: one row per site × month with ``LINE_COLUMNS`` (kind actual | trending |
    forecast, the 8 lines, FLC, and the reason the internal revenue fell back to budget, else
    None). ``dashboard.services.figures`` stores it; views read ``pnl_lines``."""
    return pnl_line_variants(session, site_ids, year, today, [None])[0]


def pnl_lines(session: Session, site_ids: Sequence[int], year: int, today: dt.date) -> pd.DataFrame:
    """``computed_lines`` as stored when the inputs last changed (D14): a read of the derived
    figures for the years they are kept for; other years (all closed: the ledger) are
    computed. Sites whose figures are being refreshed show their last stored figures
    (``figures.pending`` says which). No scope check: callers pass sites the person may see
    (``filtered_site_ids``)."""
    ids = sorted({int(s) for s in site_ids})
    if year not in figures_repo.forecast_years(today):
        return computed_lines(session, ids, year, today)
    stored = figures_repo.read(
        session, ids, ("forecast",), (year, 1), (year, 12), columns=SHOWN_LINES
    )
    return _stored_frame(stored)


def _stored_frame(stored: pd.DataFrame) -> pd.DataFrame:
    frame = stored.drop(columns="series")
    frame["ir_fallback"] = (
        frame["ir_fallback"].astype(object).where(frame["ir_fallback"].notna(), None)
    )
    return frame[LINE_COLUMNS].sort_values(["site_id", "year", "month"]).reset_index(drop=True)


def pnl_line_variants(
    session: Session,
    site_ids: Sequence[int],
    year: int,
    today: dt.date,
    variants: Sequence[dict[tuple[int, int, int], DriverChange] | None],
) -> list[pd.DataFrame]:
    """``pnl_lines`` once per variant: None is the saved forecast; a dict of driver changes
    keyed by (site, year, month) is added to the saved forecast drivers — the P&L as it will
    be once unsaved edits are saved (the workspace's live impact). Inputs are read once."""
    ids = sorted({int(s) for s in site_ids})
    terms = site_terms(session, ids)
    ids = [s for s in ids if s in terms]  # unknown ids have no row
    months = [(year, m) for m in range(1, 13)]
    open_year = any(pnl.month_kind(year, m, today) != pnl.ACTUAL_MONTH for m in range(1, 13))
    back = {s for s in ids if open_year and _looks_back(terms[s])}
    results = _compute(session, [s for s in ids if s not in back], months, today, terms, variants)
    if back:
        longer = [(year - 1, m) for m in range(1, 13)] + months
        earlier = _compute(session, sorted(back), longer, today, terms, variants)
        for rows, more in zip(results, earlier, strict=True):
            rows += [r for r in more if r["year"] == year]
    return [_lines_frame(rows) for rows in results]


def month_lines(
    session: Session, site_ids: Sequence[int], year: int, month: int, today: dt.date
) -> pd.DataFrame:
    """The stored P&L lines of one month for many sites (``pnl_lines`` of that month)."""
    ids = sorted({int(s) for s in site_ids})
    if year not in figures_repo.forecast_years(today):
        return computed_month_lines(session, ids, year, month, today)
    stored = figures_repo.read(
        session, ids, ("forecast",), (year, month), (year, month), columns=SHOWN_LINES
    )
    return _stored_frame(stored)


def computed_month_lines(
    session: Session, site_ids: Sequence[int], year: int, month: int, today: dt.date
) -> pd.DataFrame:
    """The P&L lines of one month for many sites, computed in one pass: sites whose internal
    revenue accumulates walk the year from January (from the January before when they reach
    back a year) for their year to date; the others compute the month alone."""
    ids = sorted({int(s) for s in site_ids})
    terms = site_terms(session, ids)
    ids = [s for s in ids if s in terms]
    if not ids:
        return _lines_frame([])
    chained = any(_accumulates(terms[s]) for s in ids)
    back = any(_looks_back(terms[s]) for s in ids)
    months = [(year, m) for m in range(1, month + 1)] if chained or back else [(year, month)]
    if back:
        months = [(year - 1, m) for m in range(1, 13)] + months
    rows = _compute(session, ids, months, today, terms, keep={(year, month)})[0]
    return _lines_frame([r for r in rows if (r["year"], r["month"]) == (year, month)])


def basis_lines(
    session: Session, site_ids: Sequence[int], year: int, basis: str = BUDGET_BASIS
) -> pd.DataFrame:
    """What ``pnl_lines`` is compared with, in the same shape (``kind`` = the basis):
    'budget' — the year's budget rows; 'prior_year' — the ledger's actual rows of the year
    before, on the same month numbers (D7). A missing row reads 0 (variance "n/a")."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    ids = sorted({int(s) for s in site_ids})
    if basis == BUDGET_BASIS:
        source_year, source_kind = year, "budget"
    else:
        source_year, source_kind = year - 1, "actual"
    known = set(session.scalars(select(Site.id).where(Site.id.in_(ids)))) if ids else set()
    grid = pd.DataFrame(
        [(s, m) for s in sorted(known) for m in range(1, 13)], columns=["site_id", "month"]
    )
    p = PnlMonth
    rows = (
        session.connection()
        .execute(
            select(p.site_id, p.month, *[getattr(p, line) for line in pnl.PNL_LINES]).where(
                p.site_id.in_(sorted(known)), p.year == source_year, p.kind == source_kind
            )
        )
        .fetchall()
        if known
        else []
    )
    ledger = frame_of(rows, ["site_id", "month", *pnl.PNL_LINES])
    frame = grid.merge(
        ledger.astype({"site_id": int, "month": int}), on=["site_id", "month"], how="left"
    )
    for line in pnl.PNL_LINES:
        frame[line] = pd.to_numeric(frame[line]).astype(float).fillna(0.0)
    frame["year"], frame["kind"], frame["ir_fallback"] = year, basis, None
    frame["flc"] = pnl.flc(frame)
    frame = frame.astype({"site_id": int, "year": int, "month": int})
    return frame[LINE_COLUMNS].sort_values(["site_id", "month"]).reset_index(drop=True)


# --- Filters and scope ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """P&L filters (§7.3); every one given narrows the sites (they are intersected), and the
    result is always within the person's scope."""

    region_id: int | None = None
    district_id: int | None = None
    site_id: int | None = None
    account_manager_id: int | None = None
    contract_type: str | None = None
    business_segment: str | None = None


def _filtered_sites(principal: Principal, today: dt.date, filters: Filters | None):
    filters = filters or Filters()
    query = select(Site.id, Site.site_number, Site.name).where(
        Site.id.in_(visible_sites(principal, today))
    )
    if filters.region_id is not None:
        query = query.where(
            Site.district_id.in_(select(District.id).where(District.region_id == filters.region_id))
        )
    if filters.district_id is not None:
        query = query.where(Site.district_id == filters.district_id)
    if filters.site_id is not None:
        query = query.where(Site.id == filters.site_id)
    if filters.account_manager_id is not None:
        assigned = select(ScopeAssignment.site_id).where(
            ScopeAssignment.user_id == filters.account_manager_id,
            ScopeAssignment.site_id.is_not(None),
            or_(ScopeAssignment.valid_from.is_(None), ScopeAssignment.valid_from <= today),
            or_(ScopeAssignment.valid_to.is_(None), ScopeAssignment.valid_to >= today),
        )
        query = query.where(Site.id.in_(assigned))
    if filters.contract_type:
        # Flags are stored ';'-separated: match a whole flag, not a part of one.
        flags = literal(";") + Site.contract_types + literal(";")
        query = query.where(flags.contains(f";{filters.contract_type};", autoescape=True))
    if filters.business_segment:
        query = query.where(Site.business_segment == filters.business_segment)
    return query.order_by(Site.site_number)


def filtered_site_ids(
    session: Session, principal: Principal, today: dt.date, filters: Filters | None = None
) -> list[int]:
    """Ids of the sites the filters select, always within the person's scope, in site-number
    order."""
    return [row[0] for row in session.execute(_filtered_sites(principal, today, filters))]


# --- Portfolio view -------------------------------------------------------------------------


def _money(value: float) -> float:
    return round(float(value), 2)


def _variance_cell(value: float, basis_value: float, basis: str) -> dict:
    shown = pnl.variance_display(value, basis_value, basis)
    return {
        "amount": _money(shown.amount),
        "fraction": shown.fraction,
        "percent": shown.percent,
        "bold": shown.bold,
        "negative": shown.negative,
        "level": shown.level,
    }


def _month_matrices(frame: pd.DataFrame, ids: list[int]) -> dict[str, np.ndarray]:
    """Per shown line a site × month array (rows in the order of ``ids``; missing = 0)."""
    position = {site_id: i for i, site_id in enumerate(ids)}
    rows = frame["site_id"].map(position)
    keep = rows.notna().to_numpy()
    rows = rows[keep].astype(int).to_numpy()
    cols = frame["month"].to_numpy()[keep].astype(int) - 1
    matrices = {}
    for line in SHOWN_LINES:
        matrix = np.zeros((len(ids), 12))
        np.add.at(matrix, (rows, cols), frame[line].to_numpy(dtype=float)[keep])
        matrices[line] = matrix
    return matrices


def _site_rows(ids: list[int], names: dict, values: np.ndarray, basis: np.ndarray) -> list[dict]:
    """One line's drill-down: each site's monthly values and basis, in site-number order."""
    rounded = np.round(values, 2).tolist()
    rounded_basis = np.round(basis, 2).tolist()
    totals = np.round(values.sum(axis=1), 2).tolist()
    basis_totals = np.round(basis.sum(axis=1), 2).tolist()
    return [
        {
            "site_id": site_id,
            "site_number": names[site_id][0],
            "name": names[site_id][1],
            "values": rounded[i],
            "basis": rounded_basis[i],
            "total": totals[i],
            "basis_total": basis_totals[i],
        }
        for i, site_id in enumerate(ids)
    ]


def portfolio_pnl(
    session: Session,
    principal: Principal,
    year: int,
    today: dt.date,
    filters: Filters | None = None,
    basis: str = BUDGET_BASIS,
    *,
    include_sites: bool = True,
) -> dict:
    """The P&L of the filtered sites in the person's scope, JSON-ready.

    ``months``: 12 entries (month, label, kind, actual). ``lines``: per P&L line and FLC the
    summed monthly ``values``, the ``basis`` values, per month and for the total the variance
    cell ($, fraction, % text, bold, negative, level — D4, §7.5), ``total``, ``basis_total``
    and ``pct_of_ir`` (fraction of the IR total; None for external revenue); then the row
    "FLC $ to basis – cumulative". ``by_site`` (unless ``include_sites`` is False): per line
    the sites' monthly values and basis (site number and name) for drill-down.
    ``ir_fallbacks``: sites whose forecast IR is the budget IR, with the reason.
    """
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    sites = session.execute(_filtered_sites(principal, today, filters)).all()
    ids = [s[0] for s in sites]
    values = pnl_lines(session, ids, year, today)
    base = basis_lines(session, ids, year, basis)
    kinds = [pnl.month_kind(year, m, today) for m in range(1, 13)]
    matrices = _month_matrices(values, ids)
    basis_matrices = _month_matrices(base, ids)
    ir_total = float(matrices["internal_revenue"].sum())
    lines = []
    for line in SHOWN_LINES:
        monthly = matrices[line].sum(axis=0)
        basis_monthly = basis_matrices[line].sum(axis=0)
        total, basis_total = float(monthly.sum()), float(basis_monthly.sum())
        lines.append(
            {
                "line": line,
                "label": LINE_LABELS[line],
                "values": [_money(v) for v in monthly],
                "basis": [_money(v) for v in basis_monthly],
                "variance": [
                    _variance_cell(float(v), float(b), basis)
                    for v, b in zip(monthly, basis_monthly, strict=True)
                ],
                "total": _money(total),
                "basis_total": _money(basis_total),
                "total_variance": _variance_cell(total, basis_total, basis),
                "pct_of_ir": (
                    None if line == "external_revenue" or not ir_total else total / ir_total
                ),
            }
        )
    flc_values = matrices["flc"].sum(axis=0)
    flc_basis = basis_matrices["flc"].sum(axis=0)
    cumulative = pnl.cumulative_flc_to_budget(list(flc_values), list(flc_basis))
    lines.append(
        {
            "line": CUMULATIVE_FLC,
            "label": f"FLC $ to {BASIS_LABELS[basis]} – Cumulative",
            "values": [_money(v) for v in cumulative],
            "total": _money(cumulative[-1]),
            "pct_of_ir": None,
        }
    )
    fallbacks = values[values["ir_fallback"].notna()]
    names = {s[0]: (s[1], s[2]) for s in sites}
    result = {
        "year": year,
        "basis": basis,
        "basis_label": BASIS_LABELS[basis],
        "site_count": len(ids),
        "months": [
            {
                "month": m,
                "label": calendar.month_abbr[m],
                "kind": kinds[m - 1],
                "actual": kinds[m - 1] == pnl.ACTUAL_MONTH,
            }
            for m in range(1, 13)
        ],
        "lines": lines,
        "ir_fallbacks": [
            {
                "site_id": int(site_id),
                "site_number": names[site_id][0],
                "name": names[site_id][1],
                "months": sorted(int(m) for m in group["month"]),
                "reason": group["ir_fallback"].iloc[0],
            }
            for site_id, group in fallbacks.groupby("site_id", sort=True)
        ],
    }
    if include_sites:
        result["by_site"] = {
            line: _site_rows(ids, names, matrices[line], basis_matrices[line])
            for line in SHOWN_LINES
        }
    return result


def filter_options(session: Session, principal: Principal, today: dt.date) -> dict:
    """Choices of the P&L filters, limited to the sites the person may see."""
    visible = visible_sites(principal, today)
    rows = session.execute(
        select(
            Site.id,
            Site.site_number,
            Site.name,
            Site.business_segment,
            Site.contract_types,
            District.id,
            District.name,
            Region.id,
            Region.name,
        )
        .join(District, District.id == Site.district_id)
        .join(Region, Region.id == District.region_id)
        .where(Site.id.in_(visible))
        .order_by(Site.site_number)
    ).all()
    managers = session.execute(
        select(User.id, User.display_name)
        .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
        .where(
            User.role == "account_manager",
            ScopeAssignment.site_id.in_(visible),
            or_(ScopeAssignment.valid_to.is_(None), ScopeAssignment.valid_to >= today),
        )
        .distinct()
        .order_by(User.display_name)
    ).all()

    def choices(pairs):
        return [{"value": str(v), "label": label} for v, label in dict(pairs).items()]

    return {
        "region": choices(sorted({(r[7], r[8]) for r in rows}, key=lambda p: p[1])),
        "district": choices(sorted({(r[5], r[6]) for r in rows}, key=lambda p: p[1])),
        "site": [{"value": str(r[0]), "label": f"{r[1]} · {r[2]}"} for r in rows],
        "account_manager": choices((m[0], m[1]) for m in managers),
        "contract_type": [
            {"value": f, "label": f}
            for f in sorted({f for r in rows for f in (r[4] or "").split(";") if f})
        ],
        "business_segment": [
            {"value": s, "label": s} for s in sorted({r[3] for r in rows if r[3]})
        ],
    }
