"""Backtest of the forecast proposal (decision D10, issue 15 item 6): how close each method's
monthly totals come to the actuals that followed a cut-off.

For each batch of sites (100), one read per table scoped to the batch (statistics and payroll
actuals of the span, statistics and payroll budgets, rates; for FLC the ledger, contract
terms and budget rows); then per method — budget even spread (today's default), seasonal
naive (the same weekday 52 weeks earlier, ``forecast.seasonal_naive``) and the proposal
(``forecast.propose``) — the days from the cut-off to ``months`` later are forecast from the
history *before* the cut-off only and summed per site-month over the days that have actuals
(a month still running counts its loaded days on both sides).

Measures:

* occupied rooms (sites with rooms only);
* vehicles: the 8 revenue categories and the comps (as the KPI pages count them);
* external revenue: each method's counts per category × the month's **actual** rate
  (else the latest actual rate before it, else the budget rate), against the stored actual
  external revenue — so that it measures the volumes, not the rates;
* labor hours: Σ payroll actual hours of every job code;
* FLC, for the months the ledger has closed: each method's rooms, revenue and hours through
  the P&L engine (``pnl.walk_months``; payroll is the budget's per job code with the hourly
  codes scaled to the method's hours, other revenue and expenses their budget rows), against
  the ledger's actual FLC. The same engine fed the *actual* volumes and hours
  (``ACTUAL_DRIVERS``) shows how close any volume forecast could come: the rest is the
  engine against the ledger (claims, expenses, contract terms the engine reads differently).

Per method and measure: the mean absolute percentage error of the monthly totals (MAPE,
|forecast − actual| ÷ |actual|), its median, and the share of site-months within 5% of
actual; site-months with an actual of 0 are left out (a percentage of 0 is undefined).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data import contract_terms, pnl_inputs
from dashboard.data.frames import read_frame
from dashboard.data.models import (
    JobCode,
    ParkingRateMonth,
    Site,
)
from dashboard.domain import forecast as fc
from dashboard.domain import pnl
from dashboard.domain import statistics as st
from dashboard.domain.periods import add_months
from dashboard.services.proposals import (
    FORECAST_MEASURES,
    LABOR,
    LOOKBACK_DAYS,
    ROOMS,
    as_floats,
    before,
    int_keys,
    proposal_for_sites,
    read_inputs,
    site_frame,
)

BUDGET_SPREAD, SEASONAL_NAIVE, PROPOSAL = "budget_spread", "seasonal_naive", "proposal"
# Not a method: the held-out actual volumes and hours through the P&L engine, the best FLC
# any volume forecast could reach (the rest is the engine against the ledger).
ACTUAL_DRIVERS = "actual_drivers"
FORECAST_METHODS = (BUDGET_SPREAD, SEASONAL_NAIVE, PROPOSAL)
METHODS = (*FORECAST_METHODS, ACTUAL_DRIVERS)
METHOD_LABELS = {
    BUDGET_SPREAD: "budget even spread (today's default)",
    SEASONAL_NAIVE: "seasonal naive (same weekday 52 weeks earlier)",
    PROPOSAL: "proposal (dashboard.domain.forecast)",
    ACTUAL_DRIVERS: "FLC ceiling: the actual volumes and hours",
}
VEHICLES, REVENUE = "vehicles", "external_revenue"
FLC = "flc"
DAILY_MEASURES = (ROOMS, VEHICLES, REVENUE, LABOR)  # summed from the methods' days
MEASURES = (*DAILY_MEASURES, FLC)
MEASURE_LABELS = {
    ROOMS: "occupied rooms",
    VEHICLES: "vehicles",
    REVENUE: "external revenue",
    LABOR: "labor hours",
    FLC: "FLC",
}
WITHIN = 0.05  # a site-month is "within 5%" when |forecast − actual| ≤ 5% of actual

_REVENUE_FIELDS = [count for count, _category in st.REVENUE_CATEGORIES]
BATCH_SITES = 100


@dataclass(frozen=True)
class Score:
    method: str
    measure: str
    site_months: int
    mape: float | None
    within_5pct: float | None
    median_ape: float | None = None  # robust where actuals come near 0 (FLC)


@dataclass
class Backtest:
    """A backtest's result: ``scores`` per method × measure; ``site_months`` one row per
    site × month × measure × method (forecast, actual, days compared)."""

    cutoff: dt.date
    months: list[tuple[int, int]]
    sites: int
    scores: list[Score]
    site_months: pd.DataFrame
    seconds: float
    notes: list[str] = field(default_factory=list)

    def score(self, method: str, measure: str) -> Score:
        found = [s for s in self.scores if s.method == method and s.measure == measure]
        return found[0] if found else Score(method, measure, 0, None, None)


# --- Reads (one statement per table and batch of sites) ----------------------------------


def _rates(session: Session, ids: list[int], first_year: int, last_year: int) -> pd.DataFrame:
    r = ParkingRateMonth
    frame = read_frame(
        session,
        select(r.site_id, r.year, r.month, r.category, r.kind, r.rate).where(
            r.site_id.in_(ids),
            r.kind.in_(("actual", "budget")),
            r.year >= first_year,
            r.year <= last_year,
        ),
        ["site_id", "year", "month", "category", "kind", "rate"],
    )
    return as_floats(int_keys(frame), ["rate"])


# --- Valuation ------------------------------------------------------------------------------


def valuation_rates(rates: pd.DataFrame, months: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """Per site, month of ``months`` and revenue category the rate counts are valued at: the
    month's actual rate, else the latest actual rate before it, else the month's budget rate,
    else 0. Columns site_id, year, month, ``rate_<category>``."""
    categories = [category for _count, category in st.REVENUE_CATEGORIES]
    sites = sorted(rates["site_id"].unique()) if len(rates) else []
    out = []
    actual = rates[rates["kind"] == "actual"].copy()
    actual["key"] = actual["year"] * 12 + actual["month"]
    budget = rates[rates["kind"] == "budget"]
    for y, m in months:
        key = y * 12 + m
        latest = (
            actual[actual["key"] <= key]
            .sort_values("key")
            .drop_duplicates(["site_id", "category"], keep="last")
            .pivot(index="site_id", columns="category", values="rate")
        )
        planned = budget[(budget["year"] == y) & (budget["month"] == m)].pivot(
            index="site_id", columns="category", values="rate"
        )
        chosen = latest.combine_first(planned).reindex(index=sites, columns=categories)
        chosen = chosen.fillna(0.0).add_prefix("rate_")
        chosen.index.name = "site_id"
        chosen = chosen.reset_index()
        chosen.insert(1, "year", y)
        chosen.insert(2, "month", m)
        out.append(chosen)
    if not out:
        return pd.DataFrame(
            columns=["site_id", "year", "month", *[f"rate_{c}" for c in categories]]
        )
    return int_keys(pd.concat(out, ignore_index=True))


def monthly_totals(
    daily: pd.DataFrame, compared: pd.DataFrame, rates: pd.DataFrame
) -> pd.DataFrame:
    """A method's daily forecast summed per site-month over the compared days: rooms,
    vehicles and external revenue over the days with statistics actuals, labor hours over
    the days with payroll actuals. ``compared``: site_id, day, has_statistics, has_labor."""
    frame = daily.merge(compared, on=["site_id", "day"], how="inner")
    stats = frame["has_statistics"].to_numpy(dtype=bool)
    labor = frame["has_labor"].to_numpy(dtype=bool)
    days = pd.to_datetime(frame["day"])
    frame["year"], frame["month"] = days.dt.year.astype(np.int64), days.dt.month.astype(np.int64)
    frame = frame.merge(rates, on=["site_id", "year", "month"], how="left")
    revenue = np.zeros(len(frame))
    for count, category in st.REVENUE_CATEGORIES:
        revenue += frame[count].to_numpy(float) * frame[f"rate_{category}"].fillna(0.0).to_numpy(
            float
        )
    out = pd.DataFrame(
        {
            "site_id": frame["site_id"].astype(np.int64),
            "year": frame["year"],
            "month": frame["month"],
            ROOMS: np.where(stats, frame[ROOMS].to_numpy(float), 0.0),
            VEHICLES: np.where(stats, frame[list(fc.VEHICLE_MEASURES)].sum(axis=1), 0.0),
            REVENUE: np.where(stats, revenue, 0.0),
            LABOR: np.where(labor, frame[LABOR].to_numpy(float), 0.0),
        }
    )
    return out.groupby(["site_id", "year", "month"], as_index=False).sum()


def _actual_totals(held_out: pd.DataFrame) -> pd.DataFrame:
    frame = held_out.copy()
    days = pd.to_datetime(frame["day"])
    frame["year"], frame["month"] = days.dt.year.astype(np.int64), days.dt.month.astype(np.int64)
    frame[VEHICLES] = frame[list(fc.VEHICLE_MEASURES)].sum(axis=1)
    frame["statistics_days"] = frame["has_statistics"].astype(int)
    frame["labor_days"] = frame["has_labor"].astype(int)
    columns = [ROOMS, VEHICLES, REVENUE, LABOR, "statistics_days", "labor_days"]
    return frame.groupby(["site_id", "year", "month"], as_index=False)[columns].sum()


# --- FLC through the P&L engine --------------------------------------------------------------


def _month_sums(daily: pd.DataFrame) -> pd.DataFrame:
    days = pd.to_datetime(daily["day"])
    frame = daily.assign(year=days.dt.year.astype(np.int64), month=days.dt.month.astype(np.int64))
    columns = [ROOMS, LABOR, *_REVENUE_FIELDS]
    return frame.groupby(["site_id", "year", "month"], as_index=False)[columns].sum()


def flc_site_months(
    session: Session,
    ids: list[int],
    cutoff: dt.date,
    months: list[tuple[int, int]],
    forecasts: dict[str, pd.DataFrame],
    rates: pd.DataFrame,
) -> pd.DataFrame:
    """Each method's FLC per site-month through the P&L engine (``pnl.walk_months``), against
    the ledger's actual FLC, for the months of ``months`` that the ledger has closed.

    A method's drivers: its occupied rooms and its counts × the valuation rates (whole
    months); payroll the budget's per job code with the hourly codes' hours and cost scaled
    to the method's labor hours (salaried codes as budgeted); other revenue and other
    expenses their budget rows (no later entry leaks in). The months of the cut-off's year
    before it are the ledger's actuals, so that annual shares carry their year to date."""
    ledger = pnl_inputs.pnl_rows(
        session, ids, sorted({cutoff.year, *(y for y, _ in months)}), ("budget", "actual")
    )
    closed = [ym for ym in months if any((s, *ym, "actual") in ledger for s in ids)]
    if not closed or cutoff.day != 1:
        return pd.DataFrame()
    walk = [(cutoff.year, m) for m in range(1, cutoff.month)] + list(months)
    kinds = {ym: pnl.ACTUAL_MONTH if ym < months[0] else pnl.FORECAST_MONTH for ym in walk}
    terms = contract_terms.site_terms(session, ids)
    chained = {s for s in ids if pnl.accumulates(terms[s])}
    closes = pnl_inputs.close_dates(session, ids)
    expenses = {
        (int(r.site_id), int(r.year), int(r.month), "budget"): {
            f: float(getattr(r, f)) for f in pnl.adjustments.OTHER_EXPENSE_FIELDS
        }
        for r in pnl_inputs.other_expense(session, ids, months, kinds=("budget",)).itertuples()
    }
    other = pnl_inputs.other_revenue(session, ids, months).set_index(["site_id", "year", "month"])
    codes = pnl_inputs.payroll_budget(session, ids, months)
    code_ids = sorted({int(c) for c in codes["job_code_id"]})
    salaried_codes = set(
        session.scalars(select(JobCode.id).where(JobCode.id.in_(code_ids), JobCode.is_salaried))
    )
    codes = pnl_inputs.to_float(codes, ["hours_budget", "cost_budget"])
    codes["salaried"] = codes["job_code_id"].isin(salaried_codes)
    keys = ["site_id", "year", "month"]

    # Per site-month: salaried (hours, cost), hourly (hours, cost), hours per job code.
    budget_pay: dict[tuple, list[float]] = {}
    code_hours: dict[tuple, list[tuple[int, float, bool]]] = {}
    for s, y, m, code, hours_budget, cost_budget, is_salaried in codes[
        [*keys, "job_code_id", "hours_budget", "cost_budget", "salaried"]
    ].itertuples(index=False):
        key = (int(s), int(y), int(m))
        totals = budget_pay.setdefault(key, [0.0, 0.0, 0.0, 0.0])
        offset = 0 if is_salaried else 2
        totals[offset] += hours_budget
        totals[offset + 1] += cost_budget
        code_hours.setdefault(key, []).append((int(code), hours_budget, bool(is_salaried)))
    other_budget = other["other_revenue_budget"].to_dict()

    rows = []
    for name, daily in forecasts.items():
        sums = _month_sums(daily).merge(rates, on=keys, how="left")
        revenue = np.zeros(len(sums))
        for count, category in st.REVENUE_CATEGORIES:
            revenue += sums[count].to_numpy(float) * sums[f"rate_{category}"].fillna(0.0).to_numpy()
        drivers, hours = {}, {}
        for (s, y, m, rooms, labor), month_revenue in zip(
            sums[[*keys, ROOMS, LABOR]].itertuples(index=False), revenue, strict=True
        ):
            key = (int(s), int(y), int(m))
            salaried_hours, salaried_cost, hourly_hours, hourly_cost = budget_pay.get(
                key, [0.0, 0.0, 0.0, 0.0]
            )
            scale = max(labor - salaried_hours, 0.0) / hourly_hours if hourly_hours > 0 else 1.0
            hours[key] = {
                code: h * (1.0 if is_salaried else scale)
                for code, h, is_salaried in code_hours.get(key, [])
            }
            budget_other = float(other_budget.get(key, 0.0))
            drivers[key] = {
                "external_revenue": float(month_revenue),
                "occupied_rooms": float(rooms),
                "payroll": hourly_cost * scale + salaried_cost,
                "hourly_payroll": hourly_cost * scale,
                "salaried_payroll": salaried_cost,
                "labor_hours": float(labor),
                "other_revenue": budget_other,
                "other_revenue_budget": budget_other,
            }
        inputs = pnl.MonthWalkInputs(drivers, hours, expenses)
        lines = pnl.walk_months(
            ids, walk, terms, kinds, ledger, closes, chained, inputs, set(closed)
        )
        for line in lines:
            key = (line["site_id"], line["year"], line["month"])
            actual = ledger.get((*key, "actual"))
            if (line["year"], line["month"]) not in closed or actual is None:
                continue
            rows.append(
                {
                    "site_id": key[0],
                    "year": key[1],
                    "month": key[2],
                    "measure": FLC,
                    "method": name,
                    "forecast": float(pnl.flc(line)),
                    "actual": float(pnl.flc(actual)),
                    "days": pd.Period(year=key[1], month=key[2], freq="M").days_in_month,
                }
            )
    return pd.DataFrame(rows)


# --- The run --------------------------------------------------------------------------------


def horizon(cutoff: dt.date, months: int) -> list[tuple[int, int]]:
    """The months from the cut-off's month, ``months`` of them."""
    return [add_months(cutoff.year, cutoff.month, i) for i in range(months)]


def _batch(
    session: Session,
    sites: pd.DataFrame,
    cutoff: dt.date,
    end: dt.date,
    months: list[tuple[int, int]],
    method: fc.Method,
) -> pd.DataFrame:
    ids = sites["site_id"].astype(int).tolist()
    last = end - dt.timedelta(days=1)
    inputs = read_inputs(session, ids, cutoff - dt.timedelta(days=LOOKBACK_DAYS), last)
    rates = valuation_rates(_rates(session, ids, cutoff.year - 1, last.year), months)
    held_out = inputs.daily[pd.to_datetime(inputs.daily["day"]) >= pd.Timestamp(cutoff)].copy()
    for c in (*FORECAST_MEASURES, REVENUE):
        held_out[c] = held_out[c].fillna(0.0)
    history = before(inputs.daily, cutoff)[["site_id", "day", *FORECAST_MEASURES]]
    days = pd.date_range(cutoff, last, freq="D").date
    measures = list(FORECAST_MEASURES)
    rooms = dict(zip(sites["site_id"], sites["total_rooms"].astype(float), strict=True))
    forecasts = {
        BUDGET_SPREAD: fc.budget_spread(inputs.budget, days, measures),
        SEASONAL_NAIVE: fc.seasonal_naive(history, days, measures, budget=inputs.budget, sites=ids),
        PROPOSAL: proposal_for_sites(session, sites, cutoff, last, method, inputs).values,
    }
    for daily_forecast in forecasts.values():
        daily_forecast["site_id"] = daily_forecast["site_id"].astype(np.int64)
    compared = held_out[["site_id", "day", "has_statistics", "has_labor"]]
    actual = _actual_totals(held_out)
    rows = []
    for name, daily_forecast in forecasts.items():
        totals = monthly_totals(daily_forecast, compared, rates)
        merged = actual.merge(totals, on=["site_id", "year", "month"], suffixes=("_a", "_f"))
        for measure in DAILY_MEASURES:
            days_column = "labor_days" if measure == LABOR else "statistics_days"
            rows.append(
                pd.DataFrame(
                    {
                        "site_id": merged["site_id"],
                        "year": merged["year"],
                        "month": merged["month"],
                        "measure": measure,
                        "method": name,
                        "forecast": merged[f"{measure}_f"],
                        "actual": merged[f"{measure}_a"],
                        "days": merged[days_column],
                    }
                )
            )
    actual_drivers = held_out[["site_id", "day", *FORECAST_MEASURES]].astype({"site_id": np.int64})
    flc = flc_site_months(
        session, ids, cutoff, months, {**forecasts, ACTUAL_DRIVERS: actual_drivers}, rates
    )
    if len(flc):
        rows.append(flc)
    frame = pd.concat(rows, ignore_index=True)
    # Rooms only where the site has rooms; nothing compared where no day was.
    hotel = frame["site_id"].map(rooms).fillna(0.0) > 0
    return frame[(frame["days"] > 0) & ((frame["measure"] != ROOMS) | hotel)]


def scores(site_months: pd.DataFrame) -> list[Score]:
    """MAPE and share within 5% per method and measure: |forecast − actual| ÷ |actual| (FLC
    can be negative), over the site-months whose actual is not 0."""
    out = []
    for name in METHODS:
        for measure in MEASURES:
            chosen = site_months[
                (site_months["method"] == name)
                & (site_months["measure"] == measure)
                & (site_months["actual"] != 0)
            ]
            if chosen.empty:
                if name != ACTUAL_DRIVERS or measure == FLC:
                    out.append(Score(name, measure, 0, None, None))
                continue
            error = (chosen["forecast"] - chosen["actual"]).abs() / chosen["actual"].abs()
            out.append(
                Score(
                    name,
                    measure,
                    len(chosen),
                    float(error.mean()),
                    float((error <= WITHIN + 1e-12).mean()),
                    float(error.median()),
                )
            )
    return out


def run(
    session: Session,
    cutoff: dt.date,
    months: int = 3,
    site_ids: Sequence[int] | None = None,
    *,
    batch_sites: int = BATCH_SITES,
    method: fc.Method = fc.DEFAULT_METHOD,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Backtest every site (or ``site_ids``) from ``cutoff`` for ``months`` months."""
    if months < 1:
        raise ValueError("--months must be at least 1")
    started = time.perf_counter()
    chosen = horizon(cutoff, months)
    end_year, end_month = add_months(*chosen[-1], 1)
    end = dt.date(end_year, end_month, 1)
    sites = site_frame(session, site_ids)
    parts = []
    for begin in range(0, len(sites), batch_sites):
        batch = sites.iloc[begin : begin + batch_sites]
        parts.append(_batch(session, batch, cutoff, end, chosen, method))
        if progress:
            progress(min(begin + batch_sites, len(sites)), len(sites))
    site_months = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            columns=["site_id", "year", "month", "measure", "method", "forecast", "actual", "days"]
        )
    )
    notes = []
    loaded = site_months[site_months["measure"] == VEHICLES].groupby(["year", "month"])["days"]
    for (y, m), days in loaded.max().items():
        full = pd.Period(year=int(y), month=int(m), freq="M").days_in_month
        if days < full:
            notes.append(f"{y}-{m:02d}: {days} of {full} days have actuals; compared on those.")
    return Backtest(
        cutoff=cutoff,
        months=chosen,
        sites=len(sites),
        scores=scores(site_months),
        site_months=site_months,
        seconds=time.perf_counter() - started,
        notes=notes,
    )


# --- Output ----------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def table(result: Backtest) -> str:
    """The scores as a text table: per method, per measure the share of site-months within
    5% and the MAPE."""
    first, last = result.months[0], result.months[-1]
    lines = [
        f"Backtest: cut-off {result.cutoff}, {len(result.months)} month(s) "
        f"{first[0]}-{first[1]:02d}..{last[0]}-{last[1]:02d}, {result.sites} site(s), "
        f"{result.seconds:.1f} s",
        "Share of site-months within 5% of actual (monthly MAPE)",
    ]
    width = max(len(label) for label in METHOD_LABELS.values())
    header = f"{'method':<{width}}" + "".join(f"  {MEASURE_LABELS[m]:>20}" for m in MEASURES)
    lines += [header, "-" * len(header)]
    for name in METHODS:
        cells = []
        for measure in MEASURES:
            s = result.score(name, measure)
            cells.append(f"  {_percent(s.within_5pct) + ' (' + _percent(s.mape) + ')':>20}")
        lines.append(f"{METHOD_LABELS[name]:<{width}}" + "".join(cells))
    counts = ", ".join(
        f"{MEASURE_LABELS[m]} {result.score(PROPOSAL, m).site_months}" for m in MEASURES
    )
    lines.append(f"site-months compared: {counts}")
    lines += result.notes
    return "\n".join(lines)


def as_json(result: Backtest) -> dict:
    """The result as JSON-ready data: the scores, and per method, measure and month."""
    by_month = []
    for (name, measure, y, m), chosen in result.site_months[
        result.site_months["actual"] != 0
    ].groupby(["method", "measure", "year", "month"]):
        error = (chosen["forecast"] - chosen["actual"]).abs() / chosen["actual"].abs()
        by_month.append(
            {
                "method": name,
                "measure": measure,
                "month": f"{y}-{m:02d}",
                "site_months": len(chosen),
                "mape": float(error.mean()),
                "within_5pct": float((error <= WITHIN + 1e-12).mean()),
            }
        )
    return {
        "cutoff": result.cutoff.isoformat(),
        "months": [f"{y}-{m:02d}" for y, m in result.months],
        "sites": result.sites,
        "seconds": round(result.seconds, 2),
        "revenue_valued_at": "the month's actual rate, else the latest actual rate, else budget",
        "scores": [s.__dict__ for s in result.scores],
        "by_month": by_month,
        "notes": result.notes,
    }


# --- Command line (``python -m dashboard backtest``) ----------------------------------------


def add_command(sub) -> None:
    """Register ``backtest`` on the command line's subparsers."""
    parser = sub.add_parser(
        "backtest",
        help="accuracy of the forecast proposal vs budget spread and seasonal naive",
        description=(
            "Forecast the months after --cutoff from the history before it with each method "
            "and compare monthly totals with the actuals (MAPE, share within 5%)."
        ),
    )
    parser.add_argument("--cutoff", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--months", type=int, default=3, help="months held out (default 3)")
    parser.add_argument("--sites", nargs="+", metavar="N", help="site numbers (default: all)")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    parser.add_argument("--json", metavar="OUT", help="also write the result as JSON")
    parser.set_defaults(func=command)


def command(args, settings) -> int:
    """Run the backtest, print the table (and write --json); exit 0."""
    import json
    import sys

    from dashboard.data.db import Database

    db = Database(args.database_url or settings.database_url)
    try:
        with db.read() as session:
            ids = None
            if args.sites:
                wanted = {n.strip().zfill(4) for n in args.sites}
                found = dict(
                    session.execute(
                        select(Site.site_number, Site.id).where(Site.site_number.in_(wanted))
                    ).all()
                )
                unknown = sorted(wanted - set(found))
                if unknown:
                    print(f"error: unknown site number(s): {', '.join(unknown)}", file=sys.stderr)
                    return 2
                ids = sorted(found.values())
            try:
                result = run(session, args.cutoff, args.months, ids)
            except ValueError as problem:
                print(f"error: {problem}", file=sys.stderr)
                return 2
    finally:
        db.dispose()
    print(table(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(as_json(result), out, indent=2)
        print(f"Written to {args.json}")
    return 0
