"""KPIs, benchmarking, forecast accuracy and FLC variance waterfalls (DOMAIN.md §7.5, §11).

Pure calculations on pandas / numpy / plain Python — no database, no Dash.

* **Components** are additive per site-month amounts (rooms, vehicles, revenue, payroll, hours,
  FLC). KPIs are computed from them; when sites or months are rolled up the *components* are
  summed first and the ratios taken afterwards (ratio of sums, never an average of ratios), so a
  big site weighs in proportion to its size.
* **Benchmarking** ranks a site against its peers (percentile, rank, robust z-score outliers).
* **Forecast accuracy** uses the §7.5 error (A − F) ÷ F: MAPE, bias and share within tolerance.
* **FLC waterfall** splits budget FLC → forecast (or actual) FLC into business drivers, worked
  in integer cents so the drivers add up to the FLC change exactly.

Ratios are fractions (0–1); formatting as % happens at the edge.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from dashboard.domain import revenue as rv

# Additive per site-month amounts; every KPI below is built from these.
COMPONENTS = (
    "available_rooms",
    "occupied_rooms",
    "overnight_vehicles",
    "valet_overnight",
    "vehicles",
    "external_revenue",
    "internal_revenue",
    "payroll",
    "labor_hours",
    "overtime_hours",
    "flc",
)

KPI_UNITS = ("percent", "money", "count", "ratio")


@dataclass(frozen=True)
class Kpi:
    """A KPI = numerator component ÷ denominator component (or the numerator alone).

    ``unit`` is one of ``KPI_UNITS`` and only tells the edge how to format the value;
    "percent" values are fractions (0.575 → 57.5%). ``higher_is_better`` drives benchmarking
    (e.g. a lower payroll % of internal revenue is better).
    """

    key: str
    label: str
    unit: str
    numerator: str
    denominator: str | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.unit not in KPI_UNITS:
            raise ValueError(
                f"KPI {self.key!r}: unit must be one of {KPI_UNITS}, not {self.unit!r}"
            )


KPIS: dict[str, Kpi] = {
    kpi.key: kpi
    for kpi in (
        Kpi("occupancy", "Occupancy %", "percent", "occupied_rooms", "available_rooms"),
        Kpi("drive_in_ratio", "Drive-in ratio", "percent", "overnight_vehicles", "occupied_rooms"),
        Kpi("capture_ratio", "Capture ratio", "percent", "valet_overnight", "overnight_vehicles"),
        Kpi("vehicles", "Vehicles", "count", "vehicles"),
        Kpi(
            "external_revenue_per_vehicle",
            "External revenue per vehicle",
            "money",
            "external_revenue",
            "vehicles",
        ),
        Kpi("internal_revenue", "Internal revenue", "money", "internal_revenue"),
        Kpi(
            "payroll_pct_ir",
            "Payroll % of internal revenue",
            "percent",
            "payroll",
            "internal_revenue",
            higher_is_better=False,
        ),
        Kpi(
            "vehicles_per_labor_hour",
            "Vehicles per labor hour",
            "ratio",
            "vehicles",
            "labor_hours",
        ),
        Kpi(
            "overtime_pct",
            "Overtime %",
            "percent",
            "overtime_hours",
            "labor_hours",
            higher_is_better=False,
        ),
        Kpi("flc", "FLC", "money", "flc"),
        Kpi("flc_margin", "FLC margin %", "percent", "flc", "internal_revenue"),
    )
}


# --------------------------------------------------------------------------------------------
# KPIs from components
# --------------------------------------------------------------------------------------------


def _component(frame: pd.DataFrame, column: str) -> pd.Series:
    """A component column as floats; a missing column counts as all NaN."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return frame[column].astype("float64")


def kpi_values(frame: pd.DataFrame, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with one column per KPI key (all ``KPIS`` by default).

    Computed row by row from the component columns. A ratio whose denominator is 0 or NaN, or
    whose numerator is NaN, is NaN (never ±inf); missing component columns count as NaN.
    """
    selected = list(KPIS) if keys is None else list(keys)
    unknown = [key for key in selected if key not in KPIS]
    if unknown:
        raise KeyError(f"unknown KPI key(s): {unknown}")
    result = frame.copy()
    for key in selected:
        kpi = KPIS[key]
        numerator = _component(frame, kpi.numerator)
        if kpi.denominator is None:
            values = numerator
        else:
            denominator = _component(frame, kpi.denominator)
            usable = denominator.notna() & (denominator != 0) & numerator.notna()
            values = (numerator / denominator.where(usable)).where(usable)
        result[key] = values.where(np.isfinite(values))
    return result


def aggregate(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum the components over the groups ``by`` and compute the KPIs on the sums.

    Aggregated ratios are ratios of sums — district occupancy = Σ occupied ÷ Σ available —
    never averages of the sites' ratios. A group whose values of a component are all NaN keeps
    NaN for it (not 0). Columns other than ``by`` and the components are dropped; ``by = []``
    gives one total row.
    """
    present = [column for column in COMPONENTS if column in frame.columns and column not in by]
    numeric = frame[present].astype("float64")
    if by:
        keyed = pd.concat([frame[by], numeric], axis=1)
        summed = keyed.groupby(by, dropna=False, sort=True)[present].sum(min_count=1)
        summed = summed.reset_index()
    else:
        summed = numeric.sum(min_count=1).to_frame().T.reset_index(drop=True)
        summed = summed.astype("float64")
    return kpi_values(summed)


# --------------------------------------------------------------------------------------------
# Benchmarking
# --------------------------------------------------------------------------------------------


def _floats(values: Iterable[float]) -> np.ndarray:
    """Any iterable of numbers (list, Series, array, generator) as a float array."""
    if not isinstance(values, np.ndarray | pd.Series | pd.Index | list | tuple):
        values = list(values)
    return np.asarray(values, dtype="float64")


def _clean(values: Iterable[float]) -> np.ndarray:
    array = _floats(values)
    return array[~np.isnan(array)]


def _peers(values: Iterable[float], value: float) -> np.ndarray:
    """The other peers' values: NaN dropped and exactly one occurrence of ``value`` removed."""
    clean = _clean(values)
    matches = np.flatnonzero(clean == value)
    if matches.size:
        clean = np.delete(clean, matches[0])
    return clean


def percentile_rank(values: Sequence[float], value: float, higher_is_better: bool = True) -> float:
    """Share (0–100) of the *other* peers that ``value`` beats; ties count half.

    Pass the peer group's values *including* the site's own; exactly one occurrence of the
    site's value is removed so the site is never ranked against itself (if the value is not
    among them, all of them are treated as other peers). NaN values are ignored.
    "Beats" means the peer is worse: lower when ``higher_is_better``, higher otherwise.
    Result = (worse + 0.5 × ties) ÷ number of other peers × 100; NaN when there are no other
    peers or ``value`` is NaN.
    """
    if value is None or math.isnan(value):
        return math.nan
    others = _peers(values, value)
    if others.size == 0:
        return math.nan
    worse = np.count_nonzero(others < value if higher_is_better else others > value)
    ties = np.count_nonzero(others == value)
    return float((worse + 0.5 * ties) / others.size * 100)


def rank_of(
    values: Sequence[float], value: float, higher_is_better: bool = True
) -> tuple[int, int]:
    """(rank, count): 1-based rank of ``value`` among ``values`` (1 = best) and the number of
    non-NaN values including the site. Ties share the better rank ("1, 1, 3").

    Pass the values including the site's own (if it is not among them it is counted in).
    A NaN ``value`` is unranked: rank 0.
    """
    clean = _clean(values)
    if value is None or math.isnan(value):
        return 0, int(clean.size)
    others = _peers(clean, value)
    better = np.count_nonzero(others > value if higher_is_better else others < value)
    return int(better) + 1, int(others.size) + 1


# Modified z-score threshold above which a value is an outlier (Iglewicz & Hoaglin).
OUTLIER_THRESHOLD = 3.5
_MAD_SCALE = 0.6745  # Φ⁻¹(0.75): makes the MAD comparable to a standard deviation
_MEAN_AD_SCALE = 1.253314  # √(π/2): same for the mean absolute deviation


def robust_z(values: Iterable[float]) -> np.ndarray:
    """Modified z-score (Iglewicz & Hoaglin): 0.6745 × (x − median) ÷ MAD.

    MAD = median |x − median|. When more than half the values are equal (MAD = 0) the score
    falls back to (x − median) ÷ (1.253314 × mean |x − median|); when that is also 0 (all
    values equal) every score is 0. NaN in → NaN out; NaN is ignored for the median and MAD.
    Unlike a plain z-score, one extreme site cannot hide itself by inflating the spread.
    """
    array = _floats(values)
    result = np.full(array.shape, np.nan)
    present = ~np.isnan(array)
    if not present.any():
        return result
    clean = array[present]
    median = np.median(clean)
    deviation = clean - median
    absolute = np.abs(deviation)
    mad = np.median(absolute)
    if mad > 0:
        result[present] = _MAD_SCALE * deviation / mad
        return result
    mean_ad = absolute.mean()
    if mean_ad > 0:
        result[present] = deviation / (_MEAN_AD_SCALE * mean_ad)
    else:
        result[present] = 0.0
    return result


def outliers(
    frame: pd.DataFrame, value_column: str, threshold: float = OUTLIER_THRESHOLD
) -> pd.DataFrame:
    """Rows of ``frame`` whose |robust z| of ``value_column`` ≥ ``threshold``.

    Adds a ``robust_z`` column and sorts by |z| descending (most unusual first).
    """
    scored = frame.assign(robust_z=robust_z(frame[value_column].to_numpy()))
    flagged = scored[scored["robust_z"].abs() >= threshold]
    return flagged.sort_values("robust_z", key=lambda z: z.abs(), ascending=False, kind="stable")


# --------------------------------------------------------------------------------------------
# Forecast accuracy (§7.5: error = (A − F) ÷ F)
# --------------------------------------------------------------------------------------------

ACCURACY_TOLERANCE = 0.05  # "share of sites within 5%" (§11)
_TOLERANCE_EPSILON = 1e-12  # so a pair exactly on the boundary counts as within


def forecast_errors(actual: Iterable[float], forecast: Iterable[float]) -> np.ndarray:
    """Elementwise forecast error (A − F) ÷ |F| as fractions.

    Positive = the actual came in above the forecast (dividing by |F| keeps that meaning for a
    negative forecast). F = 0 or NaN, or A NaN → NaN.
    """
    a = _floats(actual)
    f = _floats(forecast)
    usable = ~np.isnan(a) & ~np.isnan(f) & (f != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = (a - f) / np.abs(f)
    return np.where(usable, errors, np.nan)


@dataclass(frozen=True)
class Accuracy:
    """Forecast accuracy over a set of (actual, forecast) pairs.

    ``mape`` = mean |error|; ``bias`` = mean error (positive: actuals above forecast);
    ``within`` = share of pairs with |error| ≤ tolerance — all fractions. ``count`` = pairs
    used; ``excluded`` = pairs dropped (forecast 0 or missing, or actual missing).
    """

    mape: float
    bias: float
    within: float
    count: int
    excluded: int


def _within(errors: np.ndarray, tolerance: float) -> np.ndarray:
    return np.abs(errors) <= tolerance + _TOLERANCE_EPSILON


def forecast_accuracy(
    actual: Iterable[float], forecast: Iterable[float], tolerance: float = ACCURACY_TOLERANCE
) -> Accuracy:
    """MAPE, bias and share within ``tolerance`` (inclusive) of the usable pairs.

    With no usable pair mape, bias and within are NaN and count is 0.
    """
    errors = forecast_errors(actual, forecast)
    usable = errors[~np.isnan(errors)]
    excluded = int(errors.size - usable.size)
    if usable.size == 0:
        return Accuracy(math.nan, math.nan, math.nan, 0, excluded)
    absolute = np.abs(usable)
    return Accuracy(
        mape=float(absolute.mean()),
        bias=float(usable.mean()),
        within=float(np.mean(_within(usable, tolerance))),
        count=int(usable.size),
        excluded=excluded,
    )


def accuracy_by(keys: Iterable, actual: Iterable[float], forecast: Iterable[float]) -> pd.DataFrame:
    """``forecast_accuracy``'s mape, bias and count per key of the pairs (one pass for many
    sites, districts or months): indexed by key (sorted), only keys with a usable pair."""
    errors = forecast_errors(actual, forecast)
    usable = ~np.isnan(errors)
    keys = np.asarray(list(keys) if not isinstance(keys, np.ndarray | pd.Series) else keys)
    if keys.size == 0 or not usable.any():
        return pd.DataFrame({"mape": [], "bias": [], "count": []})
    found, position = np.unique(keys[usable], return_inverse=True)
    count = np.bincount(position)
    used = errors[usable]
    return pd.DataFrame(
        {
            "mape": np.bincount(position, weights=np.abs(used)) / count,
            "bias": np.bincount(position, weights=used) / count,
            "count": count,
        },
        index=found,
    )


def accuracy_of_sums(
    usable: Iterable[float], abs_error: Iterable[float], error: Iterable[float]
) -> tuple[np.ndarray, np.ndarray]:
    """``forecast_accuracy``'s mape and bias from the sums of its errors over groups of pairs
    (how many were usable, Σ |error|, Σ error): the means, NaN for a group with no usable
    pair. Sums of sums give the accuracy of a larger group (a district of sites)."""
    count = _floats(usable)
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = np.where(count > 0, _floats(abs_error) / count, np.nan)
        bias = np.where(count > 0, _floats(error) / count, np.nan)
    return mape, bias


# --------------------------------------------------------------------------------------------
# FLC variance waterfall
# --------------------------------------------------------------------------------------------

WATERFALL_STEPS = (
    ("volume", "Vehicle volume"),
    ("rate", "Rate (revenue per vehicle)"),
    ("ir_terms", "Internal revenue terms"),
    ("payroll_hours", "Payroll hours"),
    ("wage_rate", "Wage rate"),
    ("other_lines", "Other lines"),
)
WATERFALL_TOTAL = "total"


@dataclass(frozen=True)
class FlcDrivers:
    """The amounts behind one site-month's (or period's) FLC, in dollars and hours.

    ``other_costs`` = claims + parking rents + other expense + PTEB + insurance.
    """

    vehicles: float
    external_revenue: float
    internal_revenue: float
    payroll: float
    labor_hours: float
    other_costs: float

    @property
    def flc(self) -> float:
        """FLC = internal revenue − payroll − other costs."""
        return self.internal_revenue - self.payroll - self.other_costs


def _decimal(amount: float) -> Decimal:
    if amount is None or not math.isfinite(amount):
        raise ValueError(f"waterfall amounts must be finite numbers, got {amount!r}")
    return Decimal(repr(float(amount))) if not isinstance(amount, Decimal) else amount


def _cents(amount: float | Decimal) -> int:
    """Dollars → integer cents, half away from zero."""
    value = amount if isinstance(amount, Decimal) else _decimal(amount)
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _flc_cents(drivers: FlcDrivers) -> int:
    return _cents(drivers.internal_revenue) - _cents(drivers.payroll) - _cents(drivers.other_costs)


def flc_waterfall(
    budget: FlcDrivers, target: FlcDrivers, revenue_linked_ir: float
) -> dict[str, float]:
    """Split the FLC change budget → target (forecast or actual) into drivers, in dollars.

    ``revenue_linked_ir`` (E) is the part of the internal-revenue change caused by the
    external-revenue change (from the contract engine: revenue shares, percentage fees...).

    * ``volume`` — E's share due to more/fewer vehicles, valued at the budgeted external
      revenue per vehicle: E × (ΔV × budget revenue per vehicle) ÷ ΔExternal revenue.
      All of E when there is no budgeted volume or no external-revenue change.
    * ``rate`` — the rest of E: revenue per vehicle (prices, length of stay, mix) differing
      from budget.
    * ``ir_terms`` — internal-revenue change not driven by external revenue: fixed and
      management fees, other internal revenue, contract terms.
    * ``payroll_hours`` — more/fewer labor hours at the budgeted cost per hour (a cost: more
      hours lower FLC). All of the payroll change when either side has no hours.
    * ``wage_rate`` — the rest of the payroll change: the cost per hour (wage rates, overtime,
      job mix).
    * ``other_lines`` — claims, parking rents, other expense, PTEB and insurance.

    Worked in integer cents, so ``total`` (the sum of the drivers) equals target FLC − budget
    FLC exactly, FLC being taken from the cents of internal revenue, payroll and other costs.
    """
    linked = _decimal(revenue_linked_ir)
    linked_cents = _cents(linked)
    budget_vehicles = _decimal(budget.vehicles)
    external_change = _decimal(target.external_revenue) - _decimal(budget.external_revenue)
    if budget_vehicles > 0 and external_change != 0:
        revenue_per_vehicle = _decimal(budget.external_revenue) / budget_vehicles
        volume_share = (
            (_decimal(target.vehicles) - budget_vehicles) * revenue_per_vehicle / external_change
        )
        volume = _cents(linked * volume_share)
    else:
        volume = linked_cents
    rate = linked_cents - volume

    ir_terms = _cents(target.internal_revenue) - _cents(budget.internal_revenue) - linked_cents

    payroll_change = _cents(target.payroll) - _cents(budget.payroll)
    budget_hours = _decimal(budget.labor_hours)
    target_hours = _decimal(target.labor_hours)
    if budget_hours > 0 and target_hours > 0:
        budget_cost_per_hour = _decimal(budget.payroll) / budget_hours
        payroll_hours = -_cents((target_hours - budget_hours) * budget_cost_per_hour)
        wage_rate = -payroll_change - payroll_hours
    else:
        payroll_hours = -payroll_change
        wage_rate = 0

    other_lines = -(_cents(target.other_costs) - _cents(budget.other_costs))

    steps = {
        "volume": volume,
        "rate": rate,
        "ir_terms": ir_terms,
        "payroll_hours": payroll_hours,
        "wage_rate": wage_rate,
        "other_lines": other_lines,
    }
    total = sum(steps.values())
    # By construction; a failure here is a programming error, not bad input.
    assert total == _flc_cents(target) - _flc_cents(budget)
    return {**{key: cents / 100 for key, cents in steps.items()}, WATERFALL_TOTAL: total / 100}


def revenue_linked_ir(
    terms: rv.SiteTerms,
    month_start: dt.date,
    budget_external_revenue: float,
    budget_internal_revenue: float,
    target_external_revenue: float,
    target_payroll: float,
    target_occupied_rooms: float,
) -> float:
    """The internal revenue the contract earns on the target's external revenue minus what it
    earns on the budget's, every other input at the target's (month-alone contract math: an
    annual share's year to date is not carried, the waterfall's IR-terms step takes the
    rest). 0 when the external revenue did not move."""
    if target_external_revenue == budget_external_revenue:
        return 0.0
    inputs = rv.MonthInputs(
        month_start,
        external_revenue=target_external_revenue,
        occupied_rooms=target_occupied_rooms,
        payroll=target_payroll,
        budget_internal_revenue=budget_internal_revenue,
    )
    with_target = rv.internal_revenue(terms, inputs)
    with_budget = rv.internal_revenue(
        terms, replace(inputs, external_revenue=budget_external_revenue)
    )
    return round(with_target.total - with_budget.total, 2)


def sum_waterfalls(items: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Sum waterfalls per key (a district's = Σ its sites'), exactly in cents.

    Always has every step and ``total`` (zeros for no items); extra keys are summed too.
    """
    totals: dict[str, int] = {key: 0 for key, _ in WATERFALL_STEPS}
    totals[WATERFALL_TOTAL] = 0
    for item in items:
        for key, amount in item.items():
            totals[key] = totals.get(key, 0) + _cents(amount)
    return {key: cents / 100 for key, cents in totals.items()}


# --------------------------------------------------------------------------------------------
# At-risk sites (§11: "negative FLC trend / below target")
# --------------------------------------------------------------------------------------------

RECENT_MONTHS = 3  # the "trend" window: the last closed months, against a year earlier


def at_risk_reasons(
    forecast_flc: float,
    budget_flc: float,
    recent_flc: float | None,
    recent_prior_year_flc: float | None,
    threshold_pct: float,
    threshold_amount: float,
) -> list[str]:
    """Why a site (or any roll-up) is at risk; empty when it is not.

    * **Below budget**: the year's FLC (actual to date + forecast) is below the budgeted FLC
      by at least ``threshold_pct`` of |budget| *and* at least ``threshold_amount`` dollars
      (both, so a small site is not flagged for a few dollars nor a large one for a rounding
      share).
    * **Negative FLC trend**: the FLC of the last ``RECENT_MONTHS`` closed months is below the
      same months a year earlier by at least ``threshold_pct`` of |that year-earlier FLC|.
      Skipped when either window is missing (a new site).
    """
    reasons = []
    shortfall = budget_flc - forecast_flc
    if (
        shortfall > 0
        and shortfall >= threshold_amount
        and (budget_flc == 0 or shortfall / abs(budget_flc) >= threshold_pct)
    ):
        share = f" ({shortfall / abs(budget_flc):.1%})" if budget_flc else ""
        reasons.append(f"FLC ${shortfall:,.0f}{share} below budget for the year")
    if recent_flc is not None and recent_prior_year_flc is not None:
        drop = recent_prior_year_flc - recent_flc
        if drop > 0 and (
            recent_prior_year_flc == 0 or drop / abs(recent_prior_year_flc) >= threshold_pct
        ):
            share = f" ({drop / abs(recent_prior_year_flc):.1%})" if recent_prior_year_flc else ""
            reasons.append(
                f"FLC of the last {RECENT_MONTHS} closed months ${drop:,.0f}{share} below a "
                "year earlier"
            )
    return reasons


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator ÷ denominator for one figure (e.g. FLC margin = FLC ÷ IR); None when the
    denominator is 0 ("n/a")."""
    return numerator / denominator if denominator else None


def within_tolerance(
    actual_total: float, forecast_total: float, tolerance: float = ACCURACY_TOLERANCE
) -> bool | None:
    """Whether a site's forecast was within ``tolerance`` over a period: |ΣA − ΣF| ≤ tolerance
    × |ΣF| (the §7.5 error on the period's totals); None when the forecast total is 0."""
    return within_tolerances([actual_total], [forecast_total], tolerance)[0]


def within_tolerances(
    actual_totals: Iterable[float],
    forecast_totals: Iterable[float],
    tolerance: float = ACCURACY_TOLERANCE,
) -> list[bool | None]:
    """``within_tolerance`` of many (ΣA, ΣF) pairs at once."""
    errors = forecast_errors(actual_totals, forecast_totals)
    within = _within(errors, tolerance)
    return [None if np.isnan(e) else bool(w) for e, w in zip(errors, within, strict=True)]
