"""Operations of the demo portfolio (DOMAIN.md §3, §4, §5, §12.3, §12.4): daily statistics
from 1 January two years back through yesterday, monthly parking rates (budget and actual),
payroll by job code (actuals, schedules), and the statistics and payroll budgets.

Actuals follow a site's own weekday pattern (business vs leisure hotels, weekday-heavy
hospitals), seasonality, growth trend, events (conventions, proms: +15–40%), renovation dips
and noise; the budget is the site's expected pattern without weekdays, events or noise, with
a budgeting error of a few per cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.calendar import Calendar
from dashboard.data.demo.master import JOB_CODES, SEGMENT_HEALTHCARE, SEGMENT_OTHER
from dashboard.domain import statistics
from dashboard.domain.periods import last_closed_month

# Weekday factors, Monday first.
WEEKDAY = {
    "business": np.array([1.08, 1.12, 1.12, 1.06, 0.90, 0.84, 0.88]),
    "leisure": np.array([0.86, 0.85, 0.90, 0.96, 1.14, 1.24, 1.05]),
    "healthcare": np.array([1.16, 1.15, 1.12, 1.10, 1.05, 0.72, 0.70]),
    "parking": np.array([1.00, 1.00, 1.02, 1.05, 1.12, 0.98, 0.83]),
}
# Seasonality, January first.
SEASON = {
    "business": np.array([0.85, 0.95, 1.05, 1.05, 1.05, 1.00, 0.90, 0.92, 1.05, 1.08, 0.95, 0.80]),
    "leisure": np.array([0.82, 0.88, 1.00, 1.00, 1.05, 1.15, 1.22, 1.16, 0.98, 0.94, 0.86, 0.84]),
    "healthcare": np.array(
        [0.98, 1.00, 1.01, 1.00, 1.00, 0.99, 0.98, 0.99, 1.01, 1.02, 1.01, 0.99]
    ),
    "parking": np.array([0.92, 0.94, 1.00, 1.02, 1.04, 1.05, 1.04, 1.03, 1.00, 1.00, 0.98, 0.96]),
}


@dataclass
class Statistics:
    """The modelled days and months, every day's actual statistics (arrays of sites × days,
    stored only through yesterday), the expected and actual demand indices, and the tables
    built here."""

    days: pd.DatetimeIndex
    months: list[tuple[int, int]]
    actual: dict[str, np.ndarray]
    actual_index: np.ndarray
    expected_index: np.ndarray
    site_statistic_day: pd.DataFrame
    statistic_budget_month: pd.DataFrame
    parking_rate_month: pd.DataFrame


@dataclass
class Payroll:
    """Actual hours and cost of every modelled day per site job code (rows of
    ``site_job_code`` × days) and the tables built here."""

    actual_cost: np.ndarray
    actual_hours: np.ndarray
    payroll_day: pd.DataFrame
    payroll_budget_month: pd.DataFrame


def build_statistics(
    rng: np.random.Generator, site: pd.DataFrame, style: np.ndarray, calendar: Calendar
) -> Statistics:
    """Daily actual statistics, rates and the monthly statistics budget (see the module)."""
    n = len(site)
    first_actual, model_end = calendar.first_actual, calendar.model_end
    days = pd.date_range(first_actual, model_end, freq="D")
    n_days = len(days)
    weekday = days.day_of_week.to_numpy()
    month_idx = days.month.to_numpy() - 1
    years_from_start = (days - pd.Timestamp(first_actual)).days.to_numpy() / 365.25

    wd = np.stack([WEEKDAY[s][weekday] for s in style])  # (n, days)
    season = np.stack([SEASON[s][month_idx] for s in style])
    growth = rng.normal(0.03, 0.05, n)
    trend = (1.0 + growth[:, None]) ** years_from_start[None, :]
    expected_index = wd * season * trend  # the site's expected pattern

    events = np.ones((n, n_days))
    for i in range(n):
        k = int(rng.integers(6, 14)) * 4
        at = rng.integers(0, n_days - 3, k)
        lift = rng.uniform(1.15, 1.40, k)
        for a, f in zip(at, lift, strict=True):
            events[i, a : a + int(rng.integers(1, 4))] *= f
        if rng.random() < 0.05:  # renovation or construction dip
            a = int(rng.integers(0, n_days - 60))
            events[i, a : a + int(rng.integers(30, 60))] *= 0.7
    noise = np.exp(rng.normal(0.0, 0.08, (n, n_days)))
    actual_index = expected_index * events * noise

    rooms = site["total_rooms"].to_numpy().astype(float)
    spaces = site["parking_spaces"].to_numpy().astype(float)
    hotel = rooms > 0
    occ_base = np.where(hotel, rng.uniform(0.62, 0.84, n), 0.0)
    drive_base = np.where(hotel, rng.uniform(0.20, 0.60, n), 0.0)
    capture_base = np.where(
        hotel, np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0.40, 0.95, n)), 0.0
    )
    segment = site["business_segment"].to_numpy()
    turnover = np.where(hotel, rng.uniform(0.04, 0.14, n), rng.uniform(0.25, 0.8, n))
    transient = spaces * turnover
    valet_share = np.select(
        [hotel, segment == SEGMENT_HEALTHCARE, segment == SEGMENT_OTHER],
        [np.clip(capture_base, 0.3, 1.0), rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.25, n)],
        0.0,
    )
    monthly_valet_passes = np.where(valet_share > 0, rng.integers(0, 12, n), 0)
    monthly_self_passes = np.where(
        segment == SEGMENT_HEALTHCARE, rng.integers(10, 60, n), rng.integers(0, 25, n)
    )
    self_agg_base = np.where(rng.random(n) < 0.4, rng.uniform(1, 20, n), 0.0)
    valet_agg_base = np.where((valet_share > 0) & (rng.random(n) < 0.25), rng.uniform(1, 8, n), 0.0)
    comp_rate = rng.uniform(0.01, 0.05, n)

    def occupancy_of(index):
        # Occupancy moves with a damped version of the demand index.
        return np.clip(occ_base[:, None] * (1 + 0.6 * (index - 1)), 0.15, 0.99)

    def counts(index, occ, drive, capture, integer):
        r = np.round if integer else (lambda x: x)
        occupied = statistics.occupied_rooms_from_occupancy(occ, rooms[:, None])
        valet_on, self_on = statistics.overnight_vehicles(occupied, drive, capture)
        out = {
            "occupied_rooms": occupied,
            "valet_daily": r(transient[:, None] * valet_share[:, None] * index),
            "self_daily": r(transient[:, None] * (1 - valet_share[:, None]) * index),
            "valet_overnight": r(valet_on),
            "self_overnight": r(self_on),
            "self_aggregator": r(self_agg_base[:, None] * index),
            "valet_aggregator": r(valet_agg_base[:, None] * index),
        }
        out["valet_comps"] = r(comp_rate[:, None] * (out["valet_daily"] + out["valet_overnight"]))
        out["self_comps"] = r(comp_rate[:, None] * (out["self_daily"] + out["self_overnight"]))
        return out

    # Monthly passes are counted per month and carried on each day as a daily share.
    dim = days.days_in_month.to_numpy()
    pass_noise = np.clip(np.round(rng.normal(0, 1.5, (n, n_days))), -3, 3)

    actual_occ = occupancy_of(actual_index) * hotel[:, None]
    drive_noise = rng.normal(0, 0.02, (n, n_days))
    capture_noise = rng.normal(0, 0.03, (n, n_days))
    actual_drive = np.clip(drive_base[:, None] + drive_noise, 0, 1) * hotel[:, None]
    actual_capture = np.where(
        capture_base[:, None] >= 1.0,
        1.0,
        np.clip(capture_base[:, None] + capture_noise, 0, 0.99),
    )
    actual_capture = actual_capture * hotel[:, None]
    actual = counts(actual_index, actual_occ, actual_drive, actual_capture, integer=True)
    # Pass counts change month to month, constant within a month.
    month_key = (days.year.to_numpy() - first_actual.year) * 12 + month_idx
    month_noise = pass_noise[:, np.unique(month_key, return_index=True)[1]][:, month_key]
    actual["valet_monthly"] = np.maximum(monthly_valet_passes[:, None] + month_noise, 0) / dim
    actual["self_monthly"] = np.maximum(monthly_self_passes[:, None] + month_noise, 0) / dim
    # Ratios as stored are what the rounded counts imply (inverse formulas, §3.1).
    actual_drive, actual_capture = statistics.drive_in_and_capture(
        actual["occupied_rooms"], actual["valet_overnight"], actual["self_overnight"]
    )
    actual["occupancy"] = statistics.occupancy_from_occupied_rooms(
        actual["occupied_rooms"], rooms[:, None]
    )
    actual["drive_in_ratio"] = actual_drive
    actual["capture_ratio"] = actual_capture

    expected_occ = occupancy_of(expected_index) * hotel[:, None]
    expected = counts(
        expected_index,
        expected_occ,
        drive_base[:, None] * np.ones((1, n_days)),
        capture_base[:, None] * np.ones((1, n_days)),
        integer=False,
    )
    expected["valet_monthly"] = monthly_valet_passes[:, None] / dim
    expected["self_monthly"] = monthly_self_passes[:, None] / dim
    expected["self_aggregator"] *= 0  # aggregator budgets start at $0/0 (§3.1)
    expected["valet_aggregator"] *= 0

    # Rates: a base per site, raised in January (most) or July; actual collected rates vary.
    base_rates = {
        "valet_daily": rng.uniform(25, 50, n),
        "self_daily": rng.uniform(15, 30, n),
        "valet_monthly": rng.uniform(200, 300, n),
        "self_monthly": rng.uniform(200, 300, n) * 0.8,
    }
    base_rates["valet_overnight"] = base_rates["valet_daily"] * rng.uniform(1.0, 1.3, n)
    base_rates["self_overnight"] = base_rates["self_daily"] * rng.uniform(1.0, 1.3, n)
    base_rates["valet_aggregator"] = base_rates["valet_daily"] * 0.85
    base_rates["self_aggregator"] = base_rates["self_daily"] * 0.85
    raise_month = np.where(rng.random(n) < 0.7, 1, 7)
    raise_pct = rng.choice([0.0, 0.03, 0.05], size=n, p=[0.3, 0.5, 0.2])
    months = [(y, m) for y in range(first_actual.year, model_end.year + 1) for m in range(1, 13)]
    n_months = len(months)
    raises = np.zeros((n, n_months))
    for j, (y, m) in enumerate(months):
        raises[:, j] = (y - first_actual.year) + (m >= raise_month)
    rate_factor = (1 + raise_pct[:, None]) ** raises  # (n, months)
    actual_rate_noise = np.exp(rng.normal(0, 0.02, (n, n_months)))
    rate_rows = []
    budget_rate = {}
    actual_rate = {}
    closed = last_closed_month(calendar.today)
    for cat in statistics.REVENUE_CATEGORIES:
        c = cat[1]
        budget_rate[c] = np.round(base_rates[c][:, None] * rate_factor, 2)
        actual_rate[c] = np.round(budget_rate[c] * actual_rate_noise, 2)
        if c.endswith("aggregator"):
            budget_rate[c] = np.zeros_like(budget_rate[c])
    for j, (y, m) in enumerate(months):
        for c in budget_rate:
            if y in calendar.budget_years:
                rate_rows.append(
                    pd.DataFrame(
                        {
                            "site_id": np.arange(1, n + 1),
                            "year": y,
                            "month": m,
                            "category": c,
                            "kind": "budget",
                            "rate": budget_rate[c][:, j],
                        }
                    )
                )
            if (y, m) <= closed:
                rate_rows.append(
                    pd.DataFrame(
                        {
                            "site_id": np.arange(1, n + 1),
                            "year": y,
                            "month": m,
                            "category": c,
                            "kind": "actual",
                            "rate": actual_rate[c][:, j],
                        }
                    )
                )
    rates = pd.concat(rate_rows, ignore_index=True)
    rates["version"] = 1

    month_of_day = (days.year.to_numpy() - first_actual.year) * 12 + month_idx
    actual_rates_by_day = {c: actual_rate[c][:, month_of_day] for c in actual_rate}
    actual["external_revenue"] = np.round(
        statistics.external_revenue(actual, actual_rates_by_day), 2
    )

    # Daily actual rows: first day .. yesterday.
    upto = int((pd.Timestamp(calendar.last_actual) - days[0]).days) + 1
    fields = statistics.STAT_FIELDS
    stat = {
        "site_id": np.repeat(np.arange(1, n + 1), upto),
        "day": np.tile(days[:upto].to_numpy(), n),
        "kind": "actual",
    }
    for f in fields:
        stat[f] = np.asarray(actual[f])[:, :upto].reshape(-1)
    stat_frame = pd.DataFrame(stat)
    stat_frame["version"] = 1

    # Monthly budget for the budget years: expected pattern × a budgeting error.
    budget_error = np.exp(rng.normal(0, 0.04, (n, 1)))
    count_fields = [
        f
        for f in statistics.STAT_FIELDS
        if f not in ("occupancy", "drive_in_ratio", "capture_ratio", "external_revenue")
    ]
    rows = []
    for y in calendar.budget_years:
        for m in range(1, 13):
            sel = (days.year == y) & (days.month == m)
            j = months.index((y, m))
            row = {"site_id": np.arange(1, n + 1), "year": y, "month": m}
            for f in count_fields:
                scale = budget_error[:, 0] if f not in ("valet_monthly", "self_monthly") else 1
                row[f] = np.round(np.asarray(expected[f])[:, sel].sum(axis=1) * scale, 2)
            rates_month = {c: budget_rate[c][:, j] for c in budget_rate}
            row["external_revenue"] = np.round(statistics.external_revenue(row, rates_month), 2)
            rows.append(pd.DataFrame(row))
    stat_budget = pd.concat(rows, ignore_index=True)
    return Statistics(
        days=days,
        months=months,
        actual=actual,
        actual_index=actual_index,
        expected_index=expected_index,
        site_statistic_day=stat_frame,
        statistic_budget_month=stat_budget,
        parking_rate_month=rates,
    )


def build_payroll(
    rng: np.random.Generator,
    site: pd.DataFrame,
    site_job_code: pd.DataFrame,
    stats: Statistics,
    calendar: Calendar,
) -> Payroll:
    """Daily payroll by job code: actual hours and cost of every modelled day (stored for
    this year to date), schedules for the next two weeks, and the monthly budget per code."""
    days = stats.days
    sjc = site_job_code
    site_idx = sjc["site_id"].to_numpy() - 1
    code_idx = sjc["job_code_id"].to_numpy() - 1
    salaried = np.array([JOB_CODES[c][3] for c in code_idx])
    base_hours = np.array([JOB_CODES[c][5] for c in code_idx])
    elasticity = np.array([JOB_CODES[c][6] for c in code_idx])
    size = np.clip(site["parking_spaces"].to_numpy()[site_idx] / 180.0, 0.35, 4.0)
    scale = np.where(elasticity > 0, size**0.6, 1.0)
    rate = sjc["average_hourly_rate"].to_numpy()
    salary_per_day = sjc["allocated_salary_cost"].to_numpy() / 365.0
    employees = sjc["active_employee_count"].to_numpy()

    def hours_for(index_rows):
        h = base_hours[:, None] * scale[:, None] * (1 + elasticity[:, None] * (index_rows - 1))
        h = np.where(salaried[:, None], 8.0 * employees[:, None], h)
        return np.maximum(h, 0)

    exp_hours = hours_for(stats.expected_index[site_idx])
    act_hours = (
        np.round(
            hours_for(stats.actual_index[site_idx])
            * np.exp(rng.normal(0, 0.06, exp_hours.shape))
            * 4
        )
        / 4
    )
    act_hours = np.where(salaried[:, None], exp_hours, act_hours)
    ot_share = np.where(salaried, 0.0, rng.uniform(0.0, 0.08, len(sjc)))
    act_ot = np.round(act_hours * ot_share[:, None], 2)
    act_cost = np.where(
        salaried[:, None],
        salary_per_day[:, None] * np.ones((1, len(days))),
        (act_hours - act_ot) * rate[:, None] + act_ot * rate[:, None] * 1.5,
    )
    act_cost = np.round(act_cost, 2)

    # Daily actual rows for this year to date.
    year_start = int((pd.Timestamp(dt.date(calendar.year, 1, 1)) - days[0]).days)
    upto = int((pd.Timestamp(calendar.last_actual) - days[0]).days) + 1
    span = upto - year_start
    payroll_day = pd.concat(
        [
            pd.DataFrame(
                {
                    "site_id": np.repeat(sjc["site_id"].to_numpy(), span),
                    "day": np.tile(days[year_start:upto].to_numpy(), len(sjc)),
                    "job_code_id": np.repeat(sjc["job_code_id"].to_numpy(), span),
                    "kind": "actual",
                    "hours": act_hours[:, year_start:upto].reshape(-1),
                    "overtime_hours": act_ot[:, year_start:upto].reshape(-1),
                    "cost": act_cost[:, year_start:upto].reshape(-1),
                    "revenue": 0.0,
                    "version": 1,
                }
            ),
            _schedule(sjc, days, calendar.today, exp_hours, rate, salaried, salary_per_day),
        ],
        ignore_index=True,
    )

    # Monthly budget per code for the budget years.
    budget_error = np.exp(rng.normal(0.0, 0.05, len(sjc)))
    rows = []
    for y in calendar.budget_years:
        for m in range(1, 13):
            sel = (days.year == y) & (days.month == m)
            hours = np.round(exp_hours[:, sel].sum(axis=1) * budget_error, 2)
            cost = np.where(salaried, salary_per_day * sel.sum(), hours * rate)
            rows.append(
                pd.DataFrame(
                    {
                        "site_id": sjc["site_id"].to_numpy(),
                        "year": y,
                        "month": m,
                        "job_code_id": sjc["job_code_id"].to_numpy(),
                        "hours": hours,
                        "cost": np.round(cost, 2),
                    }
                )
            )
    return Payroll(
        actual_cost=act_cost,
        actual_hours=act_hours,
        payroll_day=payroll_day,
        payroll_budget_month=pd.concat(rows, ignore_index=True),
    )


def _schedule(sjc, days, today, exp_hours, rate, salaried, salary_per_day) -> pd.DataFrame:
    """Scheduled hours of the hourly codes for today and the next 13 days."""
    start = int((pd.Timestamp(today) - days[0]).days)
    end = min(start + 14, len(days))
    hourly = ~salaried
    hours = np.round(exp_hours[hourly, start:end] * 4) / 4
    span = end - start
    return pd.DataFrame(
        {
            "site_id": np.repeat(sjc["site_id"].to_numpy()[hourly], span),
            "day": np.tile(days[start:end].to_numpy(), int(hourly.sum())),
            "job_code_id": np.repeat(sjc["job_code_id"].to_numpy()[hourly], span),
            "kind": "scheduled",
            "hours": hours.reshape(-1),
            "overtime_hours": 0.0,
            "cost": np.round(hours * rate[hourly, None], 2).reshape(-1),
            "revenue": 0.0,
            "version": 1,
        }
    )
