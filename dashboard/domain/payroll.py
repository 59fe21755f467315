"""Payroll forecasting (DOMAIN.md §2.4, §2.5, §5, §10, §11; decision D2).

Pure functions on plain numbers and dates. Job codes are passed as any objects with the
attributes of ``SiteJobCode`` (``active_employee_count``, ``average_hourly_rate``), so ORM rows
and the small ``SiteCodeRate`` record below both work. Lists returned for a group's codes are in
the order the codes were given.

Two different weeks exist on the Payroll tab, on purpose:

* the page the user sees is a **Sunday–Saturday** week of the starting month (§5.4);
* overtime for PLH billing is counted per job code per **Saturday–Friday** work week, as the
  reference implementation does (§5.3); a work week may start in the previous month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from dashboard.domain.pnl import variance
from dashboard.domain.statistics import week_buckets

DEFAULT_HOURLY_RATE = 15.0  # §5.3: used when a code (or a whole group) has no rate
SALARIED_HOURS_PER_EMPLOYEE_DAY = 8.0  # §5.2: salaried hours/day = 8 h × active employees
SALARY_DAYS_PER_YEAR = 365  # §5.2: salaried cost/day = allocated annual salary ÷ 365
OVERTIME_THRESHOLD_HOURS = 40.0  # §5.3: per job code per work week
OVERTIME_WEEK_FIRST_WEEKDAY = 5  # Saturday, in date.weekday() numbering (Monday 0 … Sunday 6)
VARIANCE_FLAG_THRESHOLD = 0.10  # §5.4: ⚠ when |forecast − budget| ÷ budget > 10%
MAX_HOURS_PER_EDIT = 500.0  # §10: the edit dialog's slider runs 0–500 hours

CODE_MODE, GROUP_MODE = "Code", "Group"  # PayrollHeader.forecast_mode values
GROUP_LEVEL, CODE_LEVEL = "group", "code"  # what a single edit targets


class CodeRate(Protocol):
    """What the payroll formulas need from a site's job code (the ``SiteJobCode`` fields)."""

    active_employee_count: int
    average_hourly_rate: float


@dataclass(frozen=True)
class SiteCodeRate:
    """A plain ``CodeRate`` for callers holding DataFrame rows rather than ORM objects."""

    active_employee_count: int
    average_hourly_rate: float


# --- Week paging (§5.4) -----------------------------------------------------------------------


def month_weeks(year: int, month: int) -> list[list[dt.date]]:
    """The Payroll tab's pages: Sunday–Saturday weeks of the month, **clipped to the month**.

    Each week is the list of its dates inside the month, so the first and last weeks may be
    shorter than 7 days (a month starting on Saturday opens with a 1-day week). Clipping was
    chosen over full weeks with "outside the month" flags because the tab shows the starting
    month only (§5.4) and days of other months have no row to show.
    """
    return [
        [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        for start, end, _label in week_buckets(year, month)
    ]


def week_index(day: dt.date) -> int:
    """Index (0-based) of the page of ``day``'s month that contains ``day``."""
    for index, week in enumerate(month_weeks(day.year, day.month)):
        if week[0] <= day <= week[-1]:
            return index
    raise AssertionError("every day of a month lies in one of its weeks")  # pragma: no cover


def initial_week_index(year: int, month: int, today: dt.date) -> int:
    """The page to open: the week containing today when today is in the month, else the first."""
    if (today.year, today.month) == (year, month):
        return week_index(today)
    return 0


def week_label(week: Sequence[dt.date]) -> str:
    """Pager text as in §5.4: 'Jun 1 – Jun 7' (a 1-day week reads 'Mar 1')."""
    first, last = week[0], week[-1]
    text = f"{first:%b} {first.day}"
    return text if first == last else f"{text} – {last:%b} {last.day}"


# --- Rates and cost (§2.4, §5.3) ---------------------------------------------------------------


def effective_hourly_rate(rate: float | None) -> float:
    """A code's costing rate: its average hourly rate, or $15 when it has none (0 or missing).

    §2.4 stores 0 when the code had no hours in the trailing 14 days, so 0 means "unknown",
    not "free".
    """
    return float(rate) if rate and rate > 0 else DEFAULT_HOURLY_RATE


def group_hourly_rate(codes: Sequence[CodeRate]) -> float:
    """Group mode rate: member codes' average hourly rates weighted by active employee count.

    * Codes without a rate (0, see ``effective_hourly_rate``) are left out of the average so
      an unknown rate does not pull the group rate towards $0.
    * When every remaining code has 0 active employees, the simple mean of their rates.
    * When no code has a rate (or the group has no codes), the $15 default.
    """
    rated = [c for c in codes if c.average_hourly_rate and c.average_hourly_rate > 0]
    if not rated:
        return DEFAULT_HOURLY_RATE
    weight = sum(max(0, c.active_employee_count) for c in rated)
    if weight > 0:
        return sum(max(0, c.active_employee_count) * c.average_hourly_rate for c in rated) / weight
    return sum(c.average_hourly_rate for c in rated) / len(rated)


def cost_for_hours(hours: float, rate: float | None) -> float:
    """cost = hours × rate (Code mode with the code's rate; Group mode with the group rate).

    ``rate`` goes through ``effective_hourly_rate``, so a missing rate costs $15/h.
    """
    return hours * effective_hourly_rate(rate)


def hours_from_dollars(dollars: float, rate: float | None) -> float | None:
    """Hours bought by ``dollars`` at ``rate`` (input by cost, §5.3), rounded to 2 decimals as
    hours are stored; None when the rate is 0 or missing (no conversion possible).

    Pass the rate the cost will use (``effective_hourly_rate`` or ``group_hourly_rate``), which
    is never 0; the None case guards callers that pass a raw rate.
    """
    if not rate or rate <= 0:
        return None
    return _round2(dollars / rate)


def split_by_weights(total: float, weights: Sequence[float]) -> list[float]:
    """Split ``total`` in proportion to ``weights``, each part rounded to 2 decimals, with the
    rounding remainder put on the part with the largest weight (the first one on a tie), so the
    parts add up to ``total`` (itself rounded to 2 decimals) exactly.

    All weights 0 (or negative, treated as 0) → equal split. No weights → [] for a total of 0;
    a non-zero total with nowhere to go is an error.
    """
    if not weights:
        if _cents(total):
            raise ValueError("cannot split a non-zero amount across no codes")
        return []
    clean = [max(0.0, float(w)) for w in weights]
    if sum(clean) <= 0:
        clean = [1.0] * len(clean)
    total_cents = _cents(total)
    weight_sum = Decimal(str(sum(clean)))
    parts = [
        int((total_cents * Decimal(str(w)) / weight_sum).quantize(Decimal(1), ROUND_HALF_UP))
        for w in clean
    ]
    largest = clean.index(max(clean))
    parts[largest] += int(total_cents) - sum(parts)
    return [float(Decimal(p) / 100) for p in parts]


def split_group_hours(hours: float, codes: Sequence[CodeRate]) -> list[float]:
    """Group mode: a group's hours for a day shared among its codes by active employee count
    (equal split when all counts are 0), 2 decimals, summing exactly to ``hours``."""
    return split_by_weights(hours, [c.active_employee_count for c in codes])


def group_day(hours: float, codes: Sequence[CodeRate]) -> list[tuple[float, float]]:
    """Group mode entry for one day → (hours, cost) per member code.

    Group cost = hours × group rate, rounded to cents, then shared in proportion to the codes'
    hours, so Σ code hours = ``hours`` and Σ code cost = the group cost, both to the cent.
    """
    code_hours = split_group_hours(hours, codes)
    group_cost = cost_for_hours(hours, group_hourly_rate(codes))
    code_costs = split_by_weights(group_cost, code_hours) if code_hours else []
    return list(zip(code_hours, code_costs, strict=True))


# --- Budget and salaried codes (§5.1, §5.2) ----------------------------------------------------


def budget_day(month_hours: float, month_cost: float, days_in_month: int) -> tuple[float, float]:
    """Budget (hours, cost) for one day: the monthly budget spread evenly over the month's days.

    Salaried codes use ``salaried_hours_per_day`` for hours instead (§5.2); their cost is this
    even spread.
    """
    return month_hours / days_in_month, month_cost / days_in_month


def salaried_hours_per_day(active_employee_count: int) -> float:
    """Salaried hours for a day = 8 h × active employee count (budget, schedule and forecast)."""
    return SALARIED_HOURS_PER_EMPLOYEE_DAY * max(0, active_employee_count)


def salaried_cost_per_day(allocated_salary_cost: float) -> float:
    """Salaried cost for a day = the code's allocated annual salary ÷ 365.

    ``allocated_salary_cost`` is the site-code total from HR allocations (all its employees).
    A leap year therefore carries 366/365 of the salary, as in the reference.
    """
    return allocated_salary_cost / SALARY_DAYS_PER_YEAR


def salaried_forecast_day(
    active_employee_count: int, allocated_salary_cost: float
) -> tuple[float, float]:
    """Forecast (hours, cost) of a salaried code for one day: derived, never typed by an AM
    (§5.1 [DECIDED]); the same derivation as the schedule (§5.2)."""
    return (
        salaried_hours_per_day(active_employee_count),
        salaried_cost_per_day(allocated_salary_cost),
    )


# --- Overtime and PLH billable revenue (§1.1, §2.3, §5.3) --------------------------------------


def overtime_week_start(day: dt.date) -> dt.date:
    """The Saturday that starts ``day``'s overtime work week (Saturday–Friday)."""
    return day - dt.timedelta(days=(day.weekday() - OVERTIME_WEEK_FIRST_WEEKDAY) % 7)


def week_overtime_hours(week_hours: float) -> float:
    """Overtime hours of one job code in one work week: hours above 40 (0 below)."""
    return max(0.0, week_hours - OVERTIME_THRESHOLD_HOURS)


def split_regular_overtime(
    daily_hours: Mapping[dt.date, float],
) -> dict[dt.date, tuple[float, float]]:
    """(regular, overtime) hours per day for one job code.

    Days are grouped into Saturday–Friday work weeks and taken in date order; once a week's
    running total passes 40 h the excess is overtime, so the overtime falls on the days that
    cross the line and each week's overtime equals ``week_overtime_hours`` of its total. Pass the
    work week's days from the neighbouring month too (actual or forecast) when a week straddles
    the month edge, or the split at the edge undercounts.
    """
    result: dict[dt.date, tuple[float, float]] = {}
    running: dict[dt.date, float] = {}
    for day in sorted(daily_hours):
        hours = daily_hours[day]
        week = overtime_week_start(day)
        before = running.get(week, 0.0)
        after = before + hours
        running[week] = after
        ot = week_overtime_hours(after) - week_overtime_hours(before)
        result[day] = (hours - ot, ot)
    return result


def plh_revenue(
    regular_hours: float,
    overtime_hours: float,
    rate: float | None,
    overtime_rate: float | None = None,
) -> float:
    """Billable revenue = regular hours × billable rate + overtime hours × overtime rate.

    ``overtime_rate`` is the contract's overtime **dollar rate per hour** (``PlhJobRate.
    overtime_rate``, §2.3; e.g. $31/h against a $27.60 regular rate, §12), not a multiplier.
    A code without a billable rate (``rate`` None or 0) earns 0. A missing overtime rate bills
    overtime at the regular rate [our assumption; DOMAIN is silent].
    """
    if not rate:
        return 0.0
    ot_rate = rate if overtime_rate is None else overtime_rate
    return regular_hours * rate + overtime_hours * ot_rate


def plh_week_revenue(
    week_hours: float, rate: float | None, overtime_rate: float | None = None
) -> float:
    """Billable revenue of one job code for one work week: first 40 h at the regular rate, the
    rest at the overtime rate."""
    ot = week_overtime_hours(week_hours)
    return plh_revenue(week_hours - ot, ot, rate, overtime_rate)


def plh_daily_revenue(
    daily_hours: Mapping[dt.date, float], rate: float | None, overtime_rate: float | None = None
) -> dict[dt.date, float]:
    """Billable revenue per day of one job code (stored on ``PayrollDay.revenue``), with the
    overtime placed by ``split_regular_overtime``; a week's days add up to
    ``plh_week_revenue`` of the week's hours."""
    return {
        day: plh_revenue(regular, ot, rate, overtime_rate)
        for day, (regular, ot) in split_regular_overtime(daily_hours).items()
    }


# --- Variance flag (§5.4, §7.5) ----------------------------------------------------------------


def payroll_variance_flag(forecast: float, budget: float) -> bool:
    """⚠ when the forecast is more than 10% away from budget: |F − B| ÷ B > 10% (exactly 10%
    is not flagged). With a budget of 0 the percentage is "n/a" (D4); the flag is then raised
    for any non-zero forecast (hours or dollars with no budget are worth a look) and not for 0.
    """
    delta, fraction = variance(forecast, budget)
    if fraction is None:
        return round(delta, 2) != 0
    # Rounded so that binary noise (1.1 − 1.0 = 0.10000000000000009) does not flag exactly 10%.
    return round(abs(fraction), 9) > VARIANCE_FLAG_THRESHOLD


# --- KPIs (§11) --------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def payroll_pct_of_internal_revenue(payroll: float, internal_revenue: float) -> float | None:
    """PPIR = payroll ÷ internal revenue, a fraction; None ("n/a") when IR is 0."""
    return _ratio(payroll, internal_revenue)


def labor_to_revenue(
    payroll: float, external_revenue: float, internal_revenue: float
) -> float | None:
    """Labor-to-revenue = payroll ÷ (external + internal revenue); None when that is 0."""
    return _ratio(payroll, external_revenue + internal_revenue)


def overtime_pct(overtime_hours: float, total_hours: float) -> float | None:
    """Overtime % = overtime hours ÷ total hours (overtime included in the total); None at 0 h."""
    return _ratio(overtime_hours, total_hours)


def vehicles_per_labor_hour(vehicles: float, labor_hours: float) -> float | None:
    """Productivity = vehicles ÷ labor hours; None when there are no hours."""
    return _ratio(vehicles, labor_hours)


def fill_rate(actual_hours: float, scheduled_hours: float) -> float | None:
    """Fill rate = actual ÷ scheduled hours; None when nothing was scheduled."""
    return _ratio(actual_hours, scheduled_hours)


# --- Modes, edit rules, validation (§5.1, §5.4, §10, decision D2) ------------------------------


def default_forecast_mode(contract_types: Iterable[str] | str) -> str:
    """Code mode for Per Labor Hour contracts (also hybrids carrying the flag), else Group.

    ``contract_types`` is the list of flags or the stored 'FixedFee;PerLaborHour' string.
    """
    flags = contract_types.split(";") if isinstance(contract_types, str) else contract_types
    return CODE_MODE if "PerLaborHour" in {f.strip() for f in flags} else GROUP_MODE


def payroll_edit_block_reason(
    day: dt.date,
    today: dt.date,
    forecast_mode: str,
    level: str,
    is_salaried: bool = False,
) -> str | None:
    """Why a forecast cell cannot be edited, or None when it can.

    Today and earlier are locked (the shift is under way, D2); salaried codes are derived;
    Group mode edits groups only and Code mode edits codes only (§10).
    """
    if day <= today:
        return "Payroll for today and earlier is read-only (the shift is under way)."
    if is_salaried:
        return "Salaried pay comes from HR allocations and is not forecast here."
    if forecast_mode == GROUP_MODE and level != GROUP_LEVEL:
        return "This site forecasts payroll by job group: edit the group, not a job code."
    if forecast_mode == CODE_MODE and level != CODE_LEVEL:
        return "This site forecasts payroll by job code: edit a job code, not the group."
    return None


def validate_hours(value: float | None) -> str | None:
    """Why ``value`` (already parsed, e.g. by ``statistics.parse_number``; None = not a number)
    cannot be stored as a day's hours for a group or code, or None when it can. Range 0–500
    per edit (§10). More than 2 decimals is accepted and rounded when stored."""
    if value is None:
        return "Hours: enter a number."
    if value < 0:
        return "Hours cannot be negative."
    if value > MAX_HOURS_PER_EDIT:
        return f"Hours must be between 0 and {MAX_HOURS_PER_EDIT:,.0f} for one day."
    return None


def validate_dollars(value: float | None, rate: float | None) -> str | None:
    """Why a cost typed in dollars cannot be stored, or None: a number, not negative, a rate to
    convert with, and the hours it buys (``hours_from_dollars``) within the 0–500 range."""
    if value is None:
        return "Cost: enter an amount in dollars."
    if value < 0:
        return "Cost cannot be negative."
    hours = hours_from_dollars(value, rate)
    if hours is None:
        return "Cost cannot be converted to hours: this job has no hourly rate."
    if hours > MAX_HOURS_PER_EDIT:
        return (
            f"${value:,.2f} buys {hours:,.2f} hours at ${rate:,.2f}/h; "
            f"one day allows at most {MAX_HOURS_PER_EDIT:,.0f} hours."
        )
    return None


# --- Rounding ----------------------------------------------------------------------------------


def _cents(amount: float) -> Decimal:
    """``amount`` in whole hundredths, half away from zero (via str to avoid binary noise)."""
    return (Decimal(str(amount)) * 100).quantize(Decimal(1), ROUND_HALF_UP)


def _round2(amount: float) -> float:
    return float(_cents(amount) / 100)
