"""P&L assembly (DOMAIN.md §7.1, §7.3, §7.4) and variance on an explicit basis (decision D4,
§7.5).

Lines are positive amounts, as shown on the P&L (IR, PTEB and insurance arrive from the
ledger as credits/negatives and are shown as absolute values). Forecast lines follow the
documented target of §7.1, not the reference implementation's "forecast = budget" (§13.2):

* payroll — Σ forecast payroll cost (the payroll module computes it);
* PTEB — (budget PTEB ÷ budget payroll) × forecast payroll;
* insurance — 5.77% (management agreement) or 4.45% (others) × forecast payroll + budgeted
  vehicle insurance (7082) (+ the management agreement's additional % of forecast payroll);
* claims — 0 in forecast; actual only;
* parking rents, other expense — budget + the Other Expenses tab's adjustments;
* internal revenue — ``dashboard.domain.revenue``;
* FLC = IR − (payroll + claims + parking rents + other expense + PTEB + insurance).

The current month (§7.4) uses the same formulas on blended drivers (actual to date + forecast
for the remaining days) and then: claims = actual posted; parking rents and other expense =
max(forecast, actual posted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from dashboard.domain import revenue

# Expense lines subtracted from internal revenue to get FLC; external revenue is not in FLC.
FLC_EXPENSE_LINES = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
PNL_LINES = ("external_revenue", "internal_revenue", *FLC_EXPENSE_LINES)

INSURANCE_RATE_MANAGEMENT_AGREEMENT = 0.0577  # of forecast payroll (§7.1, §12.2)
INSURANCE_RATE_OTHER = 0.0445
FORECAST_CLAIMS = 0.0  # claims are never forecast (§7.1): actuals only

# The Other Expenses tab's category that books to the Parking Rents line (GL 7170); every
# other category books to Other Expense.
PARKING_RENTS_CATEGORY = "rents_parking"

# Kinds of month on the P&L (§7.3, §7.4).
ACTUAL_MONTH, TRENDING_MONTH, FORECAST_MONTH = "actual", "trending", "forecast"

# Variance display (§7.3, §7.5).
BOLD_VARIANCE = 0.075  # |%| ≥ 7.5% → bold; also the "high" level of forecast vs budget
MEDIUM_VARIANCE = 0.05  # 5% ≤ |%| < 7.5% → "medium"
HIGH, MEDIUM, LOW = "high", "medium", "low"


def flc(lines):
    """FLC = internal revenue − (payroll + claims + parking rents + other expense + PTEB +
    insurance).

    ``lines`` is a mapping (dict, pandas row or DataFrame) of P&L line → amount; amounts are
    positive, as shown on the P&L. Works element-wise on pandas columns.
    """
    expenses = 0
    for line in FLC_EXPENSE_LINES:
        expenses = expenses + lines[line]
    return lines["internal_revenue"] - expenses


def variance(value: float, basis: float) -> tuple[float, float | None]:
    """($ variance, fraction) of ``value`` against ``basis``; fraction None ("n/a") if basis 0."""
    delta = value - basis
    return delta, (delta / basis if basis else None)


# --- Forecast lines -----------------------------------------------------------------------


def pteb_forecast(budget_pteb: float, budget_payroll: float, forecast_payroll: float) -> float:
    """(budget PTEB ÷ budget payroll) × forecast payroll; with no budget payroll there is no
    ratio, so the budget PTEB stands."""
    if not budget_payroll:
        return budget_pteb
    return budget_pteb / budget_payroll * forecast_payroll


def insurance_forecast(
    forecast_payroll: float,
    vehicle_insurance: float,
    *,
    management_agreement: bool,
    additional_pct: float = 0.0,
) -> float:
    """5.77% (management agreement) or 4.45% × forecast payroll + budgeted vehicle insurance;
    a management agreement's additional % is a further fraction of forecast payroll."""
    if management_agreement:
        rate = INSURANCE_RATE_MANAGEMENT_AGREEMENT + additional_pct
    else:
        rate = INSURANCE_RATE_OTHER
    return rate * forecast_payroll + vehicle_insurance


def expense_forecast(budget: float, adjustment: float = 0.0) -> float:
    """Parking rents / other expense: budget + the Other Expenses tab's adjustment
    (Σ forecast − budget of the line's categories)."""
    return budget + adjustment


def split_expense_adjustments(adjustments: Mapping[str, float]) -> tuple[float, float]:
    """(parking rents, other expense) adjustments from the tab's per-category adjustments:
    Rents – Parking goes to Parking Rents, every other category to Other Expense."""
    rents = adjustments.get(PARKING_RENTS_CATEGORY, 0.0)
    other = sum(v for k, v in adjustments.items() if k != PARKING_RENTS_CATEGORY)
    return rents, other


def trending_expense(
    forecast: float | Mapping[str, float], posted: float | Mapping[str, float]
) -> float:
    """Current month parking rents / other expense: max(forecast, actual posted so far), per
    main account when both are given per account (Σ over accounts of the larger)."""
    if isinstance(forecast, Mapping) != isinstance(posted, Mapping):
        raise TypeError("forecast and posted must both be amounts or both be per account")
    if isinstance(forecast, Mapping):
        accounts = set(forecast) | set(posted)
        return sum(max(forecast.get(a, 0.0), posted.get(a, 0.0)) for a in accounts)
    return max(forecast, posted)


# --- Current month ------------------------------------------------------------------------


def month_kind(year: int, month: int, today: dt.date) -> str:
    """Months before today's month are actual, today's month is trending, later months are
    forecast (also every month of a future year — unlike the reference, §13.5)."""
    if (year, month) < (today.year, today.month):
        return ACTUAL_MONTH
    if (year, month) == (today.year, today.month):
        return TRENDING_MONTH
    return FORECAST_MONTH


def last_loaded_day(actual_by_day: Mapping[dt.date, float]) -> dt.date | None:
    """Last day with an actual > 0: a feed of zeros is not "loaded" (§2.6); None if none."""
    loaded = [day for day, value in actual_by_day.items() if value and value > 0]
    return max(loaded) if loaded else None


def month_to_date_blend(
    actual_by_day: Mapping[dt.date, float],
    forecast_by_day: Mapping[dt.date, float],
    through: dt.date | None,
) -> float:
    """Σ actual of the days up to ``through`` + Σ forecast of the later days (§7.4); with no
    loaded day (``through`` None) the forecast alone."""
    to_date = (
        sum(v for day, v in actual_by_day.items() if day <= through) if through is not None else 0.0
    )
    remaining = sum(v for day, v in forecast_by_day.items() if through is None or day > through)
    return to_date + remaining


# --- P&L of a month -----------------------------------------------------------------------


@dataclass(frozen=True)
class PnlLines:
    """One site-month's P&L lines (positive amounts)."""

    external_revenue: float = 0.0
    internal_revenue: float = 0.0
    payroll: float = 0.0
    claims: float = 0.0
    parking_rents: float = 0.0
    other_expense: float = 0.0
    pteb: float = 0.0
    insurance: float = 0.0

    @property
    def flc(self) -> float:
        return flc(self.as_dict())

    def as_dict(self) -> dict[str, float]:
        return {line: getattr(self, line) for line in PNL_LINES}


@dataclass(frozen=True)
class PostedToDate:
    """What the ledger has posted so far in the current month: the individual claims and the
    parking rents / other expense line totals."""

    claims: tuple[float, ...] = ()
    parking_rents: float = 0.0
    other_expense: float = 0.0


def forecast_pnl(
    budget: Mapping[str, float],
    terms: revenue.SiteTerms,
    inputs: revenue.MonthInputs,
    ytd: revenue.YearToDate | None = None,
    *,
    parking_rents_adjustment: float = 0.0,
    other_expense_adjustment: float = 0.0,
    posted: PostedToDate | None = None,
) -> tuple[PnlLines, revenue.RevenueBreakdown]:
    """Forecast P&L lines of a site-month and the IR breakdown behind them.

    ``budget`` holds the month's budget lines (``PnlMonth`` fields: payroll, pteb,
    parking_rents, other_expense, vehicle_insurance, internal_revenue; missing = 0).
    ``inputs`` holds the drivers with ``payroll`` = forecast payroll (blended for the current
    month); its ``pteb``, ``insurance``, ``claims`` and ``budget_internal_revenue`` are
    replaced by the values computed here, so a management agreement passes through exactly
    the P&L lines. The adjustments come from ``split_expense_adjustments``.

    ``posted`` marks the current month: claims = the claims posted, parking rents and other
    expense = max(forecast, posted). ``PnlMonth`` holds line totals, so the max is taken per
    line; a caller with per-account postings uses ``trending_expense`` per account instead.

    For accumulated shares over several months, thread ``ytd`` with
    ``revenue.year_to_date_after`` and ``revenue.year_to_date_for``.
    """
    payroll = inputs.payroll
    pteb = pteb_forecast(budget.get("pteb", 0.0), budget.get("payroll", 0.0), payroll)
    insurance = insurance_forecast(
        payroll,
        budget.get("vehicle_insurance", 0.0),
        management_agreement=terms.is_management_agreement,
        additional_pct=terms.management.insurance_additional_pct,
    )
    parking_rents = expense_forecast(budget.get("parking_rents", 0.0), parking_rents_adjustment)
    other_expense = expense_forecast(budget.get("other_expense", 0.0), other_expense_adjustment)
    claims: tuple[float, ...] = ()
    claims_line = FORECAST_CLAIMS
    if posted is not None:
        claims = tuple(posted.claims)
        claims_line = float(sum(claims))
        parking_rents = trending_expense(parking_rents, posted.parking_rents)
        other_expense = trending_expense(other_expense, posted.other_expense)
    breakdown = revenue.internal_revenue(
        terms,
        replace(
            inputs,
            pteb=pteb,
            insurance=insurance,
            claims=claims,
            budget_internal_revenue=budget.get("internal_revenue", inputs.budget_internal_revenue),
        ),
        ytd or revenue.YearToDate(),
    )
    lines = PnlLines(
        external_revenue=inputs.external_revenue,
        internal_revenue=breakdown.total,
        payroll=payroll,
        claims=claims_line,
        parking_rents=parking_rents,
        other_expense=other_expense,
        pteb=pteb,
        insurance=insurance,
    )
    return lines, breakdown


def cumulative_flc_to_budget(
    trend_flc: Sequence[float], budget_flc: Sequence[float]
) -> list[float]:
    """ "FLC $ to Budget – Cumulative": running Σ of (trend FLC − budget FLC) month by month."""
    if len(trend_flc) != len(budget_flc):
        raise ValueError("trend and budget FLC need the same months")
    running, out = 0.0, []
    for trend, budget in zip(trend_flc, budget_flc, strict=True):
        running += trend - budget
        out.append(running)
    return out


# --- Variance display ---------------------------------------------------------------------


def _tenths_of_percent(fraction: float) -> int:
    """|fraction| in tenths of a percent, rounded half up as displayed (0.07449 → 74)."""
    return int((Decimal(repr(abs(fraction))) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_text(fraction: float | None) -> str:
    """ "+7.5%" / "-12.0%" / "0.0%"; "n/a" when there is no basis (D4)."""
    if fraction is None:
        return "n/a"
    tenths = _tenths_of_percent(fraction)
    sign = "" if tenths == 0 else ("-" if fraction < 0 else "+")
    return f"{sign}{tenths // 10}.{tenths % 10}%"


def variance_is_bold(fraction: float | None) -> bool:
    """Bold when the displayed |%| ≥ 7.5% (so "7.5%" is always bold); never for "n/a"."""
    return fraction is not None and _tenths_of_percent(fraction) >= round(BOLD_VARIANCE * 1000)


def variance_level(fraction: float | None) -> str | None:
    """high (|%| ≥ 7.5%), medium (5–7.5%), low (< 5%); None for "n/a"."""
    if fraction is None:
        return None
    tenths = _tenths_of_percent(fraction)
    if tenths >= round(BOLD_VARIANCE * 1000):
        return HIGH
    if tenths >= round(MEDIUM_VARIANCE * 1000):
        return MEDIUM
    return LOW


@dataclass(frozen=True)
class VarianceDisplay:
    """What a variance cell shows: $ amount, fraction (None = "n/a"), the % text, the basis
    it is measured against (D4) and the flags: bold (|%| ≥ 7.5%), negative (red)."""

    amount: float
    fraction: float | None
    percent: str
    basis: str
    bold: bool
    negative: bool
    level: str | None


def variance_display(value: float, basis_value: float, basis: str = "budget") -> VarianceDisplay:
    """Variance of ``value`` against ``basis_value`` with its display flags (§7.5, D4)."""
    amount, fraction = variance(value, basis_value)
    return VarianceDisplay(
        amount=amount,
        fraction=fraction,
        percent=percent_text(fraction),
        basis=basis,
        bold=variance_is_bold(fraction),
        negative=amount < 0,
        level=variance_level(fraction),
    )
