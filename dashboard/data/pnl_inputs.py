"""The P&L engine's inputs, read for a set of sites at once (DOMAIN.md §7): forecast drivers
(day by day a person's entry, else the stored proposal, else the budget month's even daily
share: ``dashboard.services.proposals``), the current month's
trending drivers (actual to date + forecast for the remaining days, §7.4), the statistics and
payroll budgets, the Other Revenue and Other Expenses tabs' rows, the ledger (``PnlMonth``),
actual hours per job code and the sites' closing dates.

Every read is aggregated in SQL and combined with pandas: a fixed number of queries whatever
the number of sites. The small SQL/pandas helpers (``year_of``, ``in_months``, ``to_float``...)
are shared with ``dashboard.services.kpi``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Integer, Select, and_, cast, extract, func, or_, select
from sqlalchemy.orm import Session, aliased

from dashboard.data import figures as figures_repo
from dashboard.data.frames import read_frame
from dashboard.data.models import (
    JobCode,
    OtherExpenseMonth,
    OtherRevenueMonth,
    ParkingRateMonth,
    PayrollBudgetMonth,
    PayrollDay,
    PnlMonth,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    StatisticProposalDay,
)
from dashboard.domain import adjustments as adj
from dashboard.domain import pnl
from dashboard.domain import statistics as st
from dashboard.domain.periods import days_in_month

KEYS = ["site_id", "year", "month"]
MONTH_COLUMNS = [
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


def year_of(column):
    """SQL: the year of a date column, as an integer."""
    return cast(extract("year", column), Integer)


def month_of(column):
    """SQL: the month (1–12) of a date column, as an integer."""
    return cast(extract("month", column), Integer)


def in_months(year_column, month_column, months: Iterable[tuple[int, int]]):
    """SQL condition: (year, month) is one of ``months``."""
    by_year: dict[int, list[int]] = defaultdict(list)
    for y, m in months:
        by_year[y].append(m)
    return or_(*[and_(year_column == y, month_column.in_(sorted(ms))) for y, ms in by_year.items()])


def date_span(months: Sequence[tuple[int, int]]) -> tuple[dt.date, dt.date]:
    """First day of the earliest and last day of the latest of ``months``."""
    first, last = min(months), max(months)
    return dt.date(*first, 1), dt.date(*last, days_in_month(*last))


def month_grid(site_ids: Sequence[int], months: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """One row per site × month (site_id, year, month) with the month's number of ``days``."""
    count = len(months)
    return pd.DataFrame(
        {
            "site_id": np.repeat(np.asarray(site_ids, dtype=int), count),
            "year": np.tile([y for y, _ in months], len(site_ids)).astype(int),
            "month": np.tile([m for _, m in months], len(site_ids)).astype(int),
            "days": np.tile([float(days_in_month(*ym)) for ym in months], len(site_ids)),
        }
    )


def to_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``columns`` of ``frame`` as floats, missing = 0 (in place; returns ``frame``)."""
    for c in columns:
        column = frame[c]
        if column.dtype != np.float64:  # object (Decimal, None) from the database
            column = pd.to_numeric(column, errors="coerce").astype(float)
        frame[c] = column.fillna(0.0)
    return frame


_KEY_TYPES = {"site_id": np.int64, "year": np.int64, "month": np.int64}


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with integer site_id, year and month columns (to merge on them)."""
    # Only the key columns that are not integers yet: astype is costly on small frames.
    todo = {c: t for c, t in _KEY_TYPES.items() if frame[c].dtype != t}
    return frame.astype(todo) if todo else frame


_STAT_SUMS = ["ext_saved", "rooms_saved", "saved_days", "ext_day", "rooms_budget"]


def _spread(saved: pd.Series, budget: pd.Series, unsaved_days, days) -> pd.Series:
    """Saved forecast + the budget month's even daily share for each unsaved day."""
    return saved + budget * unsaved_days / days


def _empty_drivers() -> Drivers:
    return Drivers(
        pd.DataFrame(columns=[*KEYS, *MONTH_COLUMNS]),
        pd.DataFrame(columns=[*KEYS, "job_code_id", "hours"]),
        pd.DataFrame(columns=[*KEYS, "kind", *adj.OTHER_EXPENSE_FIELDS]),
    )


def forecast_drivers(
    session: Session, site_ids: Sequence[int], year: int, months: Sequence[int] | None = None
) -> Drivers:
    """Forecast drivers of ``site_ids`` for the ``months`` of ``year`` (all 12 by default),
    every day of them forecast (the current month's blend with actuals is
    ``trending_drivers``): per site, day by day the saved forecast day, else the stored
    proposal, else the budget month's even daily share (statistics); per job code the saved
    forecast days + the code's budget spread evenly over its unsaved days (payroll)."""
    chosen = [(year, m) for m in (months or range(1, 13))]
    return forecast_drivers_for_months(session, sorted({int(s) for s in site_ids}), chosen)


def forecast_drivers_for_months(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> Drivers:
    """``forecast_drivers`` of the sorted site ``ids`` for any (year, month) pairs, which
    may span years."""
    if not ids or not months:
        return _empty_drivers()
    first, last = date_span(months)
    grid = month_grid(ids, months)

    # Statistics: saved forecast days, proposed days, the budget month over the rest.
    s = SiteStatisticDay
    saved = read_frame(
        session,
        select(
            s.site_id,
            year_of(s.day),
            month_of(s.day),
            func.sum(s.external_revenue),
            func.sum(s.occupied_rooms),
            func.count(),
        )
        .where(s.site_id.in_(ids), s.kind == "forecast", s.day >= first, s.day <= last)
        .group_by(s.site_id, year_of(s.day), month_of(s.day)),
        [*KEYS, "ext_saved", "rooms_saved", "saved_days"],
    )
    rates = forecast_rates(session, ids, months)
    stats = (
        grid.merge(keyed(saved), on=KEYS, how="left")
        .merge(statistics_budget(session, ids, months), on=KEYS, how="left")
        .merge(unsaved_day_revenue(session, ids, months, rates), on=KEYS, how="left")
        .merge(proposal_sums(session, ids, months, rates=rates), on=KEYS, how="left")
    )
    stats = to_float(stats, [*_STAT_SUMS, *PROPOSAL_SUMS])
    # Day by day: the entry, else the proposal, else the budget's even share; every forecast
    # day at the month's forecast rates, saved or not (D3).
    budget_days = stats["days"] - stats["saved_days"] - stats["proposal_days"]
    stats["external_revenue"] = (
        stats["ext_saved"] + stats["ext_proposal"] + stats["ext_day"] * budget_days
    )
    stats["occupied_rooms"] = stats["rooms_proposal"] + _spread(
        stats["rooms_saved"], stats["rooms_budget"], budget_days, stats["days"]
    )

    # Payroll per job code: saved forecast days + the code's budget over its unsaved days.
    p = PayrollDay
    pay_saved = read_frame(
        session,
        select(
            p.site_id,
            year_of(p.day),
            month_of(p.day),
            p.job_code_id,
            func.sum(p.hours),
            func.sum(p.cost),
            func.count(),
        )
        .where(p.site_id.in_(ids), p.kind == "forecast", p.day >= first, p.day <= last)
        .group_by(p.site_id, year_of(p.day), month_of(p.day), p.job_code_id),
        [*KEYS, "job_code_id", "hours_saved", "cost_saved", "saved_days"],
    )
    codes = (
        payroll_budget(session, ids, months)
        .merge(keyed(pay_saved), on=[*KEYS, "job_code_id"], how="outer")
        .merge(schedule_sums(session, ids, months), on=[*KEYS, "job_code_id"], how="outer")
    )
    codes = codes.merge(grid, on=KEYS, how="inner").merge(
        labor_factors(session, ids, months), on=KEYS, how="left"
    )
    codes = to_float(codes, [*_CODE_SUMS, "hours_saved", "cost_saved", "saved_days"])
    codes = _code_forecast(session, codes, codes["days"] - codes["saved_days"], codes["days"])
    return _assemble(
        session,
        stats,
        codes,
        other_revenue(session, ids, months),
        other_expense(session, ids, months),
    )


def statistics_budget(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Statistics budget months: site_id, year, month, ext_budget, rooms_budget."""
    b = StatisticBudgetMonth
    return keyed(
        read_frame(
            session,
            select(b.site_id, b.year, b.month, b.external_revenue, b.occupied_rooms).where(
                b.site_id.in_(ids), in_months(b.year, b.month, months)
            ),
            [*KEYS, "ext_budget", "rooms_budget"],
        )
    )


_COUNT_FIELDS = [field for field, _category in st.REVENUE_CATEGORIES]
_RATE_CATEGORIES = [category for _field, category in st.REVENUE_CATEGORIES]


def forecast_rates(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Per site-month the forecast rate of each category — the saved forecast rate, else the
    budget's (0 where neither is): site_id, year, month, days, rate_<category>."""
    r = ParkingRateMonth
    rates = read_frame(
        session,
        select(r.site_id, r.year, r.month, r.category, r.kind, r.rate).where(
            r.site_id.in_(ids),
            r.kind.in_(("budget", "forecast")),
            in_months(r.year, r.month, months),
        ),
        [*KEYS, "category", "kind", "rate"],
    )
    grid = month_grid(ids, months)
    if len(rates):
        rates = keyed(rates)
        rates["rate"] = pd.to_numeric(rates["rate"], errors="coerce").astype(float)
        # The saved forecast rate wins over the budget's.
        rates = rates.sort_values("kind").drop_duplicates([*KEYS, "category"], keep="last")
        wide = rates.pivot_table(index=KEYS, columns="category", values="rate", aggfunc="first")
        grid = grid.merge(
            wide.add_prefix("rate_").reset_index(), on=KEYS, how="left", suffixes=("", "")
        )
    for category in _RATE_CATEGORIES:
        column = f"rate_{category}"
        grid[column] = grid[column].fillna(0.0) if column in grid else 0.0
    return grid[[*KEYS, "days", *[f"rate_{c}" for c in _RATE_CATEGORIES]]]


def _valued(frame: pd.DataFrame, counts: dict) -> np.ndarray:
    """Σ over the 8 categories of ``counts`` × the frame's rate_<category> columns."""
    return st.external_revenue(
        counts, {c: frame[f"rate_{c}"].to_numpy(dtype=float) for c in _RATE_CATEGORIES}
    )


def unsaved_day_revenue(
    session: Session,
    ids: list[int],
    months: Sequence[tuple[int, int]],
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per site-month the external revenue of one forecast day that neither a person nor the
    proposal filled (``statistics.unsaved_day_revenue``: the budget's counts at the month's
    forecast rates — the saved rate, else the budget rate): site_id, year, month, ext_day."""
    b = StatisticBudgetMonth
    budget = keyed(
        read_frame(
            session,
            select(b.site_id, b.year, b.month, *[getattr(b, f) for f in _COUNT_FIELDS]).where(
                b.site_id.in_(ids), in_months(b.year, b.month, months)
            ),
            [*KEYS, *_COUNT_FIELDS],
        )
    )
    if rates is None:
        rates = forecast_rates(session, ids, months)
    grid = rates.merge(budget, on=KEYS, how="left")
    to_float(grid, _COUNT_FIELDS)
    grid["ext_day"] = st.unsaved_day_revenue(
        {f: grid[f].to_numpy() for f in _COUNT_FIELDS},
        grid["days"].to_numpy(dtype=float),
        {c: grid[f"rate_{c}"].to_numpy(dtype=float) for c in _RATE_CATEGORIES},
    )
    return grid[[*KEYS, "ext_day"]]


PROPOSAL_SUMS = ["proposal_days", "ext_proposal", "rooms_proposal", *st.VEHICLE_FIELDS]


def proposal_sums(
    session: Session,
    ids: list[int],
    months: Sequence[tuple[int, int]],
    *,
    from_day: dt.date | None = None,
    after: Select | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per site-month the stored proposal of the days nobody saved (no forecast entry):
    site_id, year, month, proposal_days, ext_proposal (the proposed counts at the month's
    forecast rates, D3), rooms_proposal and each vehicle count. ``from_day``: only days from
    it; ``after``: a subquery (site_id, through) — only days after the site's ``through``
    (the current month's last loaded actual day), all days where it has none; ``rates``:
    ``forecast_rates`` when already read."""
    p, f = StatisticProposalDay, SiteStatisticDay
    first, last = date_span(months)
    entered = (
        select(f.id).where(f.site_id == p.site_id, f.kind == "forecast", f.day == p.day).exists()
    )
    query = select(
        p.site_id,
        year_of(p.day),
        month_of(p.day),
        func.count(),
        func.sum(p.occupied_rooms),
        *[func.sum(getattr(p, c)) for c in st.VEHICLE_FIELDS],
    ).where(p.site_id.in_(ids), p.day >= max(first, from_day or first), p.day <= last, ~entered)
    if after is not None:
        query = query.outerjoin(after, after.c.site_id == p.site_id).where(
            or_(after.c.through.is_(None), p.day > after.c.through)
        )
    sums = read_frame(
        session,
        query.group_by(p.site_id, year_of(p.day), month_of(p.day)),
        [*KEYS, "proposal_days", "rooms_proposal", *st.VEHICLE_FIELDS],
    )
    if rates is None:
        rates = forecast_rates(session, ids, months)
    grid = rates.merge(keyed(sums), on=KEYS, how="left")
    grid = to_float(grid, ["proposal_days", "rooms_proposal", *st.VEHICLE_FIELDS])
    grid["ext_proposal"] = _valued(grid, {c: grid[c].to_numpy() for c in _COUNT_FIELDS})
    return grid[[*KEYS, *PROPOSAL_SUMS]]


def payroll_budget(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Payroll budget months per job code: site_id, year, month, job_code_id, hours_budget,
    cost_budget."""
    b = PayrollBudgetMonth
    return keyed(
        read_frame(
            session,
            select(b.site_id, b.year, b.month, b.job_code_id, b.hours, b.cost).where(
                b.site_id.in_(ids), in_months(b.year, b.month, months)
            ),
            [*KEYS, "job_code_id", "hours_budget", "cost_budget"],
        )
    )


_CODE_SUMS = [
    "hours_budget",
    "cost_budget",
    "hours_scheduled",
    "cost_scheduled",
    "scheduled_days",
]


def schedule_sums(
    session: Session,
    ids: list[int],
    months: Sequence[tuple[int, int]],
    *,
    after: Select | None = None,
) -> pd.DataFrame:
    """Per site-month and job code the schedule of the days nobody saved a forecast for:
    site_id, year, month, job_code_id, hours_scheduled, cost_scheduled, scheduled_days.
    ``after``: a subquery (site_id, through) — only days after the site's ``through``."""
    p, f = PayrollDay, aliased(PayrollDay)
    first, last = date_span(months)
    entered = (
        select(f.id)
        .where(
            f.site_id == p.site_id,
            f.kind == "forecast",
            f.day == p.day,
            f.job_code_id == p.job_code_id,
        )
        .exists()
    )
    query = select(
        p.site_id,
        year_of(p.day),
        month_of(p.day),
        p.job_code_id,
        func.sum(p.hours),
        func.sum(p.cost),
        func.count(),
    ).where(p.site_id.in_(ids), p.kind == "scheduled", p.day >= first, p.day <= last, ~entered)
    if after is not None:
        query = query.outerjoin(after, after.c.site_id == p.site_id).where(
            or_(after.c.through.is_(None), p.day > after.c.through)
        )
    return keyed(
        read_frame(
            session,
            query.group_by(p.site_id, year_of(p.day), month_of(p.day), p.job_code_id),
            [*KEYS, "job_code_id", "hours_scheduled", "cost_scheduled", "scheduled_days"],
        )
    ).astype({"job_code_id": int})


def labor_factors(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Per site-month the factor on the hourly job codes' budget that makes the month's hours
    the proposal's (``dashboard.services.proposals``: labor hours from the proposed volume):
    (mean proposed hours per day × the month's days − the salaried codes' budget hours) ÷
    the hourly codes' budget hours, never below 0; NaN where the month has no proposal or no
    hourly budget: site_id, year, month, labor_factor."""
    p = StatisticProposalDay
    first, last = date_span(months)
    proposed = read_frame(
        session,
        select(p.site_id, year_of(p.day), month_of(p.day), func.avg(p.labor_hours))
        .where(p.site_id.in_(ids), p.day >= first, p.day <= last)
        .group_by(p.site_id, year_of(p.day), month_of(p.day)),
        [*KEYS, "proposed_per_day"],
    )
    b = PayrollBudgetMonth
    budget = read_frame(
        session,
        select(b.site_id, b.year, b.month, JobCode.is_salaried, func.sum(b.hours))
        .join(JobCode, JobCode.id == b.job_code_id)
        .where(b.site_id.in_(ids), in_months(b.year, b.month, months))
        .group_by(b.site_id, b.year, b.month, JobCode.is_salaried),
        [*KEYS, "salaried", "hours"],
    )
    grid = month_grid(ids, months).merge(keyed(proposed), on=KEYS, how="left")
    budget = keyed(budget)
    budget["hours"] = pd.to_numeric(budget["hours"], errors="coerce").astype(float)
    budget["salaried"] = budget["salaried"].astype(bool)
    for flag, column in ((True, "salaried_hours"), (False, "hourly_hours")):
        part = budget[budget["salaried"] == flag][[*KEYS, "hours"]]
        grid = grid.merge(part.rename(columns={"hours": column}), on=KEYS, how="left")
    grid = to_float(grid, ["salaried_hours", "hourly_hours"])
    grid["proposed_per_day"] = pd.to_numeric(grid["proposed_per_day"], errors="coerce")
    hourly = grid["hourly_hours"].where(grid["hourly_hours"] > 0)
    factor = (grid["proposed_per_day"] * grid["days"] - grid["salaried_hours"]) / hourly
    grid["labor_factor"] = factor.clip(lower=0.0)
    return grid[[*KEYS, "labor_factor"]]


def salaried_codes(session: Session, code_ids: Iterable) -> set[int]:
    """The salaried job codes among ``code_ids``."""
    ids = sorted({int(c) for c in pd.Series(list(code_ids)).dropna()})
    if not ids:
        return set()
    return set(session.scalars(select(JobCode.id).where(JobCode.id.in_(ids), JobCode.is_salaried)))


def _code_forecast(session: Session, codes: pd.DataFrame, unsaved, days) -> pd.DataFrame:
    """Hours and cost per job code of the days nobody saved (``unsaved`` of ``days``): the
    schedule where there is one, else the code's budget — an hourly code's scaled to the
    month's proposed labor hours (``labor_factor``) — spread evenly; + the saved days."""
    salaried = codes["job_code_id"].isin(salaried_codes(session, codes["job_code_id"]))
    factor = codes["labor_factor"].where(~salaried & codes["labor_factor"].notna(), 1.0)
    budget_days = (unsaved - codes["scheduled_days"]).clip(lower=0)
    share = factor * budget_days / days
    codes["hours"] = codes["hours_saved"] + codes["hours_scheduled"] + codes["hours_budget"] * share
    codes["cost"] = codes["cost_saved"] + codes["cost_scheduled"] + codes["cost_budget"] * share
    return codes


def _assemble(
    session: Session,
    stats: pd.DataFrame,
    codes: pd.DataFrame,
    other_revenue: pd.DataFrame,
    other_expense: pd.DataFrame,
) -> Drivers:
    """Month-level drivers from the statistics and the per-code payroll."""
    salaried = codes["job_code_id"].isin(salaried_codes(session, codes["job_code_id"])).to_numpy()
    codes = codes.assign(
        hourly_payroll=np.where(salaried, 0.0, codes["cost"]),
        salaried_payroll=np.where(salaried, codes["cost"], 0.0),
    )
    payroll = keyed(
        codes.groupby(KEYS, as_index=False).agg(
            payroll=("cost", "sum"),
            hourly_payroll=("hourly_payroll", "sum"),
            salaried_payroll=("salaried_payroll", "sum"),
            labor_hours=("hours", "sum"),
        )
    )
    months = keyed(stats[[*KEYS, "external_revenue", "occupied_rooms"]])
    months = months.merge(payroll, on=KEYS, how="left").merge(other_revenue, on=KEYS, how="left")
    months = to_float(months, MONTH_COLUMNS)
    hours = keyed(codes[[*KEYS, "job_code_id", "hours"]]).astype({"job_code_id": int})
    return Drivers(months[[*KEYS, *MONTH_COLUMNS]], hours, other_expense)


def other_revenue(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Σ of the Other Revenue tab's signed columns: forecast row else budget row, and budget."""
    o = OtherRevenueMonth
    total = sum(getattr(o, f) for f in adj.OTHER_REVENUE_FIELDS)
    rows = read_frame(
        session,
        select(o.site_id, o.year, o.month, o.kind, total).where(
            o.site_id.in_(ids),
            in_months(o.year, o.month, months),
            o.kind.in_(("budget", "forecast")),
        ),
        [*KEYS, "kind", "amount"],
    )
    rows = to_float(keyed(rows), ["amount"])
    budget = rows[rows["kind"] == "budget"].drop(columns="kind")
    forecast = rows[rows["kind"] == "forecast"].drop(columns="kind")
    both = budget.rename(columns={"amount": "other_revenue_budget"}).merge(
        forecast.rename(columns={"amount": "forecast"}), on=KEYS, how="outer"
    )
    both["other_revenue"] = both["forecast"].where(
        both["forecast"].notna(), both["other_revenue_budget"]
    )
    both = to_float(both, ["other_revenue", "other_revenue_budget"])
    return keyed(both[[*KEYS, "other_revenue", "other_revenue_budget"]])


def other_expense(
    session: Session,
    ids: list[int],
    months: Sequence[tuple[int, int]],
    kinds: tuple[str, ...] = ("budget", "forecast", "actual"),
) -> pd.DataFrame:
    """The Other Expenses tab's rows of ``kinds``: site_id, year, month, kind and one column
    per category."""
    o = OtherExpenseMonth
    frame = read_frame(
        session,
        select(
            o.site_id,
            o.year,
            o.month,
            o.kind,
            *[getattr(o, f) for f in adj.OTHER_EXPENSE_FIELDS],
        ).where(o.site_id.in_(ids), in_months(o.year, o.month, months), o.kind.in_(kinds)),
        [*KEYS, "kind", *adj.OTHER_EXPENSE_FIELDS],
    )
    return to_float(keyed(frame), adj.OTHER_EXPENSE_FIELDS)


def trending_drivers(session: Session, site_ids: Sequence[int], today: dt.date) -> Drivers:
    """Drivers of today's month (§7.4): per site, actual daily external revenue and occupied
    rooms through the last loaded statistics day and actual payroll (cost, hours per code)
    through the last loaded payroll day, + the forecast of the remaining days (saved forecast
    days, else the stored proposal, else the budget month's even daily share). "Loaded" = a
    day with an actual > 0
    (``pnl.last_loaded_day``); a site with no day loaded is all forecast. Equivalent to
    ``pnl.month_to_date_blend`` per site, aggregated in SQL."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return _empty_drivers()
    year, month = today.year, today.month
    months = [(year, month)]
    n = float(days_in_month(year, month))
    first, last = date_span(months)
    grid = month_grid(ids, months)

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
    actual = read_frame(
        session,
        select(s.site_id, func.sum(s.external_revenue), func.sum(s.occupied_rooms))
        .join(loaded_stats, loaded_stats.c.site_id == s.site_id)
        .where(s.kind == "actual", s.day >= first, s.day <= loaded_stats.c.through)
        .group_by(s.site_id),
        ["site_id", "ext_actual", "rooms_actual"],
    )
    saved = read_frame(
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
    through = read_frame(
        session, select(loaded_stats.c.site_id, loaded_stats.c.through), ["site_id", "through"]
    )
    rates = forecast_rates(session, ids, months)
    proposed = proposal_sums(session, ids, months, after=loaded_stats, rates=rates)
    stats = (
        grid.merge(statistics_budget(session, ids, months), on=KEYS, how="left")
        .merge(unsaved_day_revenue(session, ids, months, rates), on=KEYS, how="left")
        .merge(proposed, on=KEYS, how="left")
    )
    for part in (actual, saved, through):
        stats = stats.merge(part.astype({"site_id": int}), on="site_id", how="left")
    stats = to_float(stats, ["ext_actual", "rooms_actual", *_STAT_SUMS, *PROPOSAL_SUMS])
    budget_days = remaining_days(stats["through"]) - stats["saved_days"] - stats["proposal_days"]
    stats["external_revenue"] = (
        stats["ext_actual"]
        + stats["ext_saved"]
        + stats["ext_proposal"]
        + stats["ext_day"] * budget_days
    )
    stats["occupied_rooms"] = (
        stats["rooms_actual"]
        + stats["rooms_proposal"]
        + _spread(stats["rooms_saved"], stats["rooms_budget"], budget_days, n)
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
    pay_actual = read_frame(
        session,
        select(p.site_id, p.job_code_id, func.sum(p.hours), func.sum(p.cost))
        .join(loaded_pay, loaded_pay.c.site_id == p.site_id)
        .where(p.kind == "actual", p.day >= first, p.day <= loaded_pay.c.through)
        .group_by(p.site_id, p.job_code_id),
        [*code_keys, "hours_actual", "cost_actual"],
    )
    pay_saved = read_frame(
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
    pay_through = read_frame(
        session, select(loaded_pay.c.site_id, loaded_pay.c.through), ["site_id", "through"]
    )
    scheduled = schedule_sums(session, ids, months, after=loaded_pay).drop(
        columns=["year", "month"]
    )
    codes = payroll_budget(session, ids, months).drop(columns=["year", "month"])
    for part in (pay_actual, pay_saved, scheduled):
        codes = codes.merge(
            part.astype({"site_id": int, "job_code_id": int}), on=code_keys, how="outer"
        )
    codes = codes.merge(pay_through.astype({"site_id": int}), on="site_id", how="left")
    factors = labor_factors(session, ids, months)[["site_id", "labor_factor"]]
    codes = codes.merge(factors, on="site_id", how="left")
    codes = to_float(
        codes,
        [*_CODE_SUMS, "hours_actual", "cost_actual", "hours_saved", "cost_saved", "saved_days"],
    )
    unsaved = remaining_days(codes["through"]) - codes["saved_days"]
    codes = _code_forecast(session, codes, unsaved, n)
    codes["hours"] += codes["hours_actual"]
    codes["cost"] += codes["cost_actual"]
    codes["year"], codes["month"] = year, month
    return _assemble(
        session,
        stats,
        codes,
        other_revenue(session, ids, months),
        other_expense(session, ids, months),
    )


# --- Ledger and actual hours ---------------------------------------------------------------


def pnl_rows(
    session: Session,
    ids: list[int],
    years: list[int],
    kinds: tuple[str, ...],
    month: int | None = None,
) -> dict[tuple[int, int, int, str], dict[str, float]]:
    """``PnlMonth`` rows keyed by (site_id, year, month, kind); ``month``: that month only."""
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
                *([] if month is None else [PnlMonth.month == month]),
            )
        )
        .fetchall()
    )
    out = {}
    for r in rows:
        out[(r[0], r[1], r[2], r[3])] = dict(zip(fields, (float(v or 0.0) for v in r[4:])))  # noqa: B905
    return out


def ledger_month_sums(
    session: Session, sites: Select, year: int, kind: str
) -> dict[str, np.ndarray]:
    """Per P&L line the 12 monthly sums (in SQL) of the ``PnlMonth`` rows of ``kind`` and
    ``year`` over the sites of ``sites`` (a query of site ids); no row sums to 0."""
    p = PnlMonth
    rows = session.execute(
        select(p.month, *[func.sum(getattr(p, line)) for line in pnl.PNL_LINES])
        .where(figures_repo.site_filter(p.site_id, sites), p.year == year, p.kind == kind)
        .group_by(p.month)
    ).all()
    out = {line: np.zeros(12) for line in pnl.PNL_LINES}
    for month, *sums in rows:
        for line, value in zip(pnl.PNL_LINES, sums, strict=True):
            out[line][int(month) - 1] = float(value or 0.0)
    return out


def actual_hours(
    session: Session, ids: list[int], months: Sequence[tuple[int, int]]
) -> pd.DataFrame:
    """Actual hours per job code and month (for the closed months of management agreements
    billed per labor hour whose profit share accumulates: the profit basis needs them)."""
    first, last = date_span(months)
    p = PayrollDay
    return read_frame(
        session,
        select(p.site_id, year_of(p.day), month_of(p.day), p.job_code_id, func.sum(p.hours))
        .where(p.site_id.in_(ids), p.kind == "actual", p.day >= first, p.day <= last)
        .group_by(p.site_id, year_of(p.day), month_of(p.day), p.job_code_id),
        [*KEYS, "job_code_id", "hours"],
    )


def close_dates(session: Session, site_ids: Sequence[int]) -> dict[int, dt.date]:
    """Closing date per site of ``site_ids`` that has one (sites still open are left out)."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return {}
    return dict(
        session.execute(
            select(Site.id, Site.close_date).where(Site.id.in_(ids), Site.close_date.is_not(None))
        ).all()
    )
