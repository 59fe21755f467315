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

``walk_months`` walks the months of a set of sites in order: closed months from the ledger,
forecast and trending months through ``forecast_pnl``, the year to date carried from month
to month for sites whose internal revenue accumulates over a year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from dashboard.domain import adjustments, revenue

# Expense lines subtracted from internal revenue to get FLC; external revenue is not in FLC.
FLC_EXPENSE_LINES = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
PNL_LINES = ("external_revenue", "internal_revenue", *FLC_EXPENSE_LINES)

INSURANCE_RATE_MANAGEMENT_AGREEMENT = 0.0577  # of forecast payroll (§7.1, §12.2)
INSURANCE_RATE_OTHER = 0.0445
FORECAST_CLAIMS = 0.0  # claims are never forecast (§7.1): actuals only

# The Other Expenses tab's category that books to the Parking Rents line (GL 7170); every
# other category books to Other Expense.
PARKING_RENTS_CATEGORY = "rents_parking"

# The Other Expenses tab's category that books to the Claims line (GL 7100, §7.1).
CLAIMS_CATEGORY = "loss_damage_claims"

# Billable payroll accounts (6000s) have no budget or forecast of their own: the wage
# accounts take the forecast payroll of the hourly and the salaried job codes. Overtime
# (6050) is inside the hourly codes' cost already, so it gets nothing (no double billing).
PAYROLL_ACCOUNT_SOURCES = {"6010": "hourly_payroll", "6020": "salaried_payroll"}

# GL account of each Other Expenses category (§6.2).
_CATEGORY_ACCOUNTS = {
    category: account
    for category, (_label, account) in adjustments.OTHER_EXPENSE_CATEGORIES.items()
}
_ANNUAL = (revenue.ANNUAL_CALENDAR, revenue.ANNUAL_ANNIVERSARY)

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


# --- The site-year month walk -------------------------------------------------------------


def annual_accumulations(terms: revenue.SiteTerms) -> list[str]:
    """Accumulation periods longer than a month that change this site's IR."""
    found = []
    if terms.has(revenue.REVENUE_SHARE) and terms.revenue_share_tiers:
        found.append(terms.revenue_share_accumulation)
    if terms.is_management_agreement:
        if terms.management.profit_share_tiers:
            found.append(terms.management.profit_share_accumulation)
        found.append(terms.management.claims_cap_type)
    return [a for a in found if a in _ANNUAL]


def accumulates(terms: revenue.SiteTerms) -> bool:
    """The site's IR carries a year to date (annual revenue or profit share, claims cap): its
    months are walked in order, closed months included."""
    return terms.is_configured and bool(annual_accumulations(terms))


def looks_back(terms: revenue.SiteTerms) -> bool:
    """An anniversary period that can begin in the previous calendar year."""
    start = terms.contract_start
    return (
        terms.is_configured
        and revenue.ANNUAL_ANNIVERSARY in annual_accumulations(terms)
        and start is not None
        and start.month != 1
    )


def needs_hours(terms: revenue.SiteTerms) -> bool:
    """The IR needs hours per job code: per labor hour billing, or a management fee per labor
    hour."""
    return terms.has(revenue.PER_LABOR_HOUR) or (
        terms.is_management_agreement and terms.management.fee_type == revenue.MA_PER_LABOR_HOUR
    )


@dataclass
class MonthWalkInputs:
    """What the month walk reads besides the ledger.

    ``drivers``: per (site_id, year, month) of the forecast and trending months a mapping with
    external_revenue, occupied_rooms, payroll, hourly_payroll, salaried_payroll,
    other_revenue and other_revenue_budget. ``hours``: per (site_id, year, month) the hours
    per job code id. ``expenses``: per (site_id, year, month, kind) the Other Expenses tab's
    amounts per category (kinds budget, forecast, actual).
    """

    drivers: dict[tuple[int, int, int], dict]
    hours: dict[tuple[int, int, int], dict]
    expenses: dict[tuple[int, int, int, str], dict[str, float]]


def account_amounts(
    terms: revenue.SiteTerms,
    categories: Mapping[str, float],
    drivers: Mapping[str, float] | None,
) -> dict[str, float]:
    """Amount per GL account code for the site's billable accounts: the Other Expenses
    categories by their GL account, the wage accounts from the forecast payroll (``drivers``;
    None for a closed month, whose payroll is the ledger's)."""
    if not terms.billable.accounts:
        return {}
    amounts = {_CATEGORY_ACCOUNTS[c]: v for c, v in categories.items()}
    if drivers is not None:
        for code, source in PAYROLL_ACCOUNT_SOURCES.items():
            amounts[code] = float(drivers[source])
    return amounts


def posted_to_date(
    forecast: Mapping[str, float], actual: Mapping[str, float] | None
) -> PostedToDate:
    """What the current month has posted so far, per main account (the Other Expenses tab's
    actual row): claims as posted; parking rents and other expense as Σ per account of
    max(forecast, posted), which ``forecast_pnl`` then compares with the forecast line."""
    actual = actual or {}
    rents = PARKING_RENTS_CATEGORY
    others = [c for c in adjustments.OTHER_EXPENSE_FIELDS if c != rents]
    claims = actual.get(CLAIMS_CATEGORY, 0.0)
    return PostedToDate(
        claims=(claims,) if claims else (),
        parking_rents=trending_expense(forecast.get(rents, 0.0), actual.get(rents, 0.0)),
        other_expense=trending_expense(
            {c: forecast.get(c, 0.0) for c in others},
            # Claims book to their own line, not to other expense.
            {c: actual.get(c, 0.0) for c in others if c != CLAIMS_CATEGORY},
        ),
    )


def walk_months(
    site_ids: Sequence[int],
    months: Sequence[tuple[int, int]],
    terms: Mapping[int, revenue.SiteTerms],
    kinds: Mapping[tuple[int, int], str],
    ledger: Mapping[tuple[int, int, int, str], Mapping[str, float]],
    closes: Mapping[int, dt.date],
    chained: Collection[int],
    inputs: MonthWalkInputs,
    keep: Collection[tuple[int, int]] | None = None,
) -> list[dict]:
    """P&L lines of every site in ``site_ids`` for the consecutive ``months``, site by site
    and month by month: one dict per site-month with site_id, year, month, kind, the
    ``PNL_LINES`` and ir_fallback (why the IR is the budget IR, else None).

    * ``kinds`` (``month_kind``) says what each month is. An actual month is the ledger's
      'actual' row (``ledger`` keyed by (site_id, year, month, kind); a missing row reads 0).
    * After a site's closing date (``closes``) its open months are 0.
    * A forecast month is ``forecast_pnl`` of the ledger's 'budget' row and the month's
      ``inputs``; the Other Expenses tab's forecast row (else its budget row) gives the billed
      expense accounts and adjusts parking rents and other expense by forecast − budget.
    * A trending month is the same with what has posted so far (``posted_to_date``).

    Sites in ``chained`` (``accumulates``) carry their year to date from month to month, the
    actual months included (their IR is recomputed from the ledger's drivers only to carry
    it). ``keep``: only these months are wanted; sites not in ``chained`` skip the others.
    """
    drivers, hours, expenses = inputs.drivers, inputs.hours, inputs.expenses
    out: list[dict] = []
    empty_categories = dict.fromkeys(adjustments.OTHER_EXPENSE_FIELDS, 0.0)
    for site_id in site_ids:
        site = terms[site_id]
        close = closes.get(site_id)
        ytd = revenue.YearToDate()
        carries = site_id in chained
        for y, m in months:
            if keep is not None and (y, m) not in keep and not carries:
                continue  # not wanted, and no later month depends on it
            kind = kinds[(y, m)]
            month_start = dt.date(y, m, 1)
            row = {"site_id": site_id, "year": y, "month": m, "kind": kind, "ir_fallback": None}
            if kind == ACTUAL_MONTH:
                actual = ledger.get((site_id, y, m, "actual"))
                row.update({line: (actual or {}).get(line, 0.0) for line in PNL_LINES})
                if carries and actual is not None:
                    ytd = revenue.year_to_date_for(site, month_start, ytd)
                    month = revenue.MonthInputs(
                        month_start,
                        external_revenue=actual["external_revenue"],
                        occupied_rooms=actual["occupied_rooms"],
                        hours_by_job_code=hours.get((site_id, y, m), {}),
                        payroll=actual["payroll"],
                        pteb=actual["pteb"],
                        insurance=actual["insurance"],
                        claims=(actual["claims"],) if actual["claims"] else (),
                        account_amounts=account_amounts(
                            site, expenses.get((site_id, y, m, "actual"), empty_categories), None
                        ),
                    )
                    breakdown = revenue.internal_revenue(site, month, ytd)
                    ytd = revenue.year_to_date_after(ytd, month, breakdown)
                out.append(row)
                continue
            if close is not None and month_start > close:
                # Closed sites are forecast through their closing month, zero afterwards.
                row.update(dict.fromkeys(PNL_LINES, 0.0))
                out.append(row)
                continue
            budget = ledger.get((site_id, y, m, "budget"), {})
            d = drivers[(site_id, y, m)]
            budget_categories = expenses.get((site_id, y, m, "budget"))
            forecast_categories = expenses.get((site_id, y, m, "forecast"))
            chosen = adjustments.month_values(
                forecast_categories, budget_categories, adjustments.OTHER_EXPENSE_FIELDS
            )
            rents_adjustment = other_adjustment = 0.0
            if forecast_categories is not None:
                rents_adjustment, other_adjustment = split_expense_adjustments(
                    adjustments.expense_adjustments(forecast_categories, budget_categories or {})
                )
            posted = None
            if kind == TRENDING_MONTH:
                posted = posted_to_date(chosen, expenses.get((site_id, y, m, "actual")))
            month = revenue.MonthInputs(
                month_start,
                external_revenue=float(d["external_revenue"]),
                occupied_rooms=float(d["occupied_rooms"]),
                hours_by_job_code=hours.get((site_id, y, m), {}),
                payroll=float(d["payroll"]),
                account_amounts=account_amounts(site, chosen, d),
                other_revenue=float(d["other_revenue"]),
                other_revenue_budget=float(d["other_revenue_budget"]),
                budget_internal_revenue=budget.get("internal_revenue", 0.0),
            )
            if carries:
                ytd = revenue.year_to_date_for(site, month_start, ytd)
            lines, breakdown = forecast_pnl(
                budget,
                site,
                month,
                ytd if carries else None,
                parking_rents_adjustment=rents_adjustment,
                other_expense_adjustment=other_adjustment,
                posted=posted,
            )
            if carries:
                ytd = revenue.year_to_date_after(ytd, month, breakdown)
            row.update(lines.as_dict())
            row["ir_fallback"] = breakdown.fallback_reason
            out.append(row)
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
