"""The P&L of one site or many: forecast lines per site and month and the basis to compare
them with (DOMAIN.md §7; decisions D4, D7). The portfolio view and its filters are
``dashboard.services.pnl_portfolio``.

Month by month (``dashboard.domain.pnl.month_kind``; the walk is
``dashboard.domain.pnl.walk_months``):

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

Everything is read for all the sites at once (``dashboard.data.pnl_inputs`` and
``dashboard.data.contract_terms``: a fixed number of queries, aggregated in SQL and combined
with pandas), so the portfolio of every visible site costs the same few queries as one site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dashboard.data import contract_terms, pnl_inputs
from dashboard.data import figures as figures_repo
from dashboard.data.frames import frame_of
from dashboard.data.models import PnlMonth, Site
from dashboard.domain import adjustments as adj
from dashboard.domain import pnl
from dashboard.domain import revenue as rv

BUDGET_BASIS, PRIOR_YEAR_BASIS = "budget", "prior_year"
BASES = (BUDGET_BASIS, PRIOR_YEAR_BASIS)

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


# --- Unsaved edits --------------------------------------------------------------------------


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
    inputs: pnl.MonthWalkInputs,
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
        if change.hours_by_code and pnl.needs_hours(terms[key[0]]):
            hours = dict(inputs.hours.get(key, {}))
            for code, delta in change.hours_by_code.items():
                hours[int(code)] = hours.get(int(code), 0.0) + delta
            inputs.hours[key] = hours


# --- Inputs and the walk ------------------------------------------------------------------


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


def _load_inputs(
    session: Session,
    ids: list[int],
    months: list[tuple[int, int]],
    kinds: dict[tuple[int, int], str],
    today: dt.date,
    terms: dict[int, rv.SiteTerms],
    chained: set[int],
) -> pnl.MonthWalkInputs:
    current = (today.year, today.month)
    forecast_months = [ym for ym in months if kinds[ym] == pnl.FORECAST_MONTH]
    parts = [pnl_inputs.forecast_drivers_for_months(session, ids, forecast_months)]
    if kinds.get(current) == pnl.TRENDING_MONTH:
        parts.append(pnl_inputs.trending_drivers(session, ids, today))
    drivers: dict[tuple[int, int, int], dict] = {}
    hours: dict[tuple[int, int, int], dict] = {}
    expenses: dict[tuple[int, int, int, str], dict[str, float]] = {}
    hour_sites = {s for s in ids if pnl.needs_hours(terms[s])}
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
                _category_rows(pnl_inputs.other_expense(session, billed, closed, kinds=("actual",)))
            )
        per_hour = sorted(
            s
            for s in chained
            if terms[s].is_management_agreement
            and terms[s].management.fee_type == rv.MA_PER_LABOR_HOUR
        )
        if per_hour:
            hours.update(
                _hours_by_code(pnl_inputs.actual_hours(session, per_hour, closed), set(per_hour))
            )
    return pnl.MonthWalkInputs(drivers, hours, expenses)


def _compute(
    session: Session,
    ids: list[int],
    months: list[tuple[int, int]],
    today: dt.date,
    terms: dict[int, rv.SiteTerms],
    variants: Sequence[dict[tuple[int, int, int], DriverChange] | None] = (None,),
    keep: set[tuple[int, int]] | None = None,
    drivers_out: dict | None = None,
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
    ledger = pnl_inputs.pnl_rows(session, ids, years, ("budget", "actual"))
    closes = pnl_inputs.close_dates(session, ids)
    open_months = [ym for ym in months if kinds[ym] != pnl.ACTUAL_MONTH]
    # Actual months feed the year to date of accumulating sites before a forecast month.
    chained = {s for s in ids if open_months and pnl.accumulates(terms[s])}
    loaded = (
        _load_inputs(session, ids, months, kinds, today, terms, chained)
        if open_months
        else pnl.MonthWalkInputs({}, {}, {})
    )
    if drivers_out is not None:  # the saved forecast's drivers, for callers that need them
        drivers_out.update(loaded.drivers)
    results = []
    for changes in variants:
        inputs = loaded
        if changes:
            inputs = pnl.MonthWalkInputs(
                dict(loaded.drivers), {k: dict(v) for k, v in loaded.hours.items()}, loaded.expenses
            )
            _apply_changes(inputs, changes, terms)
        results.append(
            pnl.walk_months(ids, months, terms, kinds, ledger, closes, chained, inputs, keep)
        )
    return results


# --- P&L lines ------------------------------------------------------------------------------


def _lines_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in LINE_COLUMNS if c != "flc"])
    frame = pnl_inputs.to_float(frame, pnl.PNL_LINES)
    frame["flc"] = pnl.flc(frame)
    frame["ir_fallback"] = pd.Series(
        [None if v is None or v != v else v for v in frame["ir_fallback"]],
        index=frame.index,
        dtype=object,
    )
    frame = frame.astype({"site_id": int, "year": int, "month": int})
    return frame[LINE_COLUMNS].sort_values(["site_id", "month"]).reset_index(drop=True)


def computed_lines(
    session: Session,
    site_ids: Sequence[int],
    year: int,
    today: dt.date,
    drivers_out: dict | None = None,
) -> pd.DataFrame:
    """The P&L of ``site_ids`` for the 12 months of ``year``, computed by the engine from
    the inputs: one row per site × month with ``LINE_COLUMNS`` (kind actual | trending |
    forecast, the 8 lines, FLC, and the reason the internal revenue fell back to budget, else
    None). ``dashboard.services.figures`` stores it; views read ``pnl_lines``.
    ``drivers_out``: filled with the drivers of the open months the walk used, keyed by
    (site, year, month) (``occupied_rooms``, ``labor_hours``, ...)."""
    return pnl_line_variants(session, site_ids, year, today, [None], drivers_out)[0]


def pnl_lines(session: Session, site_ids: Sequence[int], year: int, today: dt.date) -> pd.DataFrame:
    """``computed_lines`` as stored when the inputs last changed (D14): a read of the derived
    figures for the years they are kept for; other years (all closed: the ledger) are
    computed. Sites whose figures are being refreshed show their last stored figures
    (``figures.pending`` says which). No scope check: callers pass sites the person may see
    (``pnl_portfolio.filtered_site_ids``)."""
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
    drivers_out: dict | None = None,
) -> list[pd.DataFrame]:
    """``pnl_lines`` once per variant: None is the saved forecast; a dict of driver changes
    keyed by (site, year, month) is added to the saved forecast drivers — the P&L as it will
    be once unsaved edits are saved (the workspace's live impact). Inputs are read once."""
    ids = sorted({int(s) for s in site_ids})
    terms = contract_terms.site_terms(session, ids)
    ids = [s for s in ids if s in terms]  # unknown ids have no row
    months = [(year, m) for m in range(1, 13)]
    open_year = any(pnl.month_kind(year, m, today) != pnl.ACTUAL_MONTH for m in range(1, 13))
    back = {s for s in ids if open_year and pnl.looks_back(terms[s])}
    results = _compute(
        session,
        [s for s in ids if s not in back],
        months,
        today,
        terms,
        variants,
        drivers_out=drivers_out,
    )
    if back:
        longer = [(year - 1, m) for m in range(1, 13)] + months
        earlier = _compute(
            session, sorted(back), longer, today, terms, variants, drivers_out=drivers_out
        )
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
    terms = contract_terms.site_terms(session, ids)
    ids = [s for s in ids if s in terms]
    if not ids:
        return _lines_frame([])
    chained = any(pnl.accumulates(terms[s]) for s in ids)
    back = any(pnl.looks_back(terms[s]) for s in ids)
    months = [(year, m) for m in range(1, month + 1)] if chained or back else [(year, month)]
    if back:
        months = [(year - 1, m) for m in range(1, 13)] + months
    rows = _compute(session, ids, months, today, terms, keep={(year, month)})[0]
    return _lines_frame([r for r in rows if (r["year"], r["month"]) == (year, month)])


FALLBACKS_LISTED = 20  # sites on budget internal revenue named on the P&L (all are counted)


def month_sums(
    session: Session, sites: Select, year: int, today: dt.date, basis: str = BUDGET_BASIS
) -> tuple[dict[str, np.ndarray], tuple[list[tuple[int, int, str]], int], dict[str, np.ndarray]]:
    """The P&L of the sites of ``sites`` (a query of site ids) summed per month — per shown
    line (FLC included) 12 sums —, the (site_id, month, reason) of the months whose internal
    revenue is the budget's (of the first ``FALLBACKS_LISTED`` such sites) with the count of
    such sites, and the same sums of the ``basis`` (``basis_month_sums``).

    Stored years are summed in SQL, the P&L and its basis in one statement; other years
    (closed: the ledger) are computed."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    basis_of = ("budget", year) if basis == BUDGET_BASIS else ("actual", year - 1)
    first, last = figures_repo.history_span(today)
    if year in figures_repo.forecast_years(today) and first[0] <= basis_of[1] <= last[0]:
        sums = figures_repo.series_month_sums(
            session, sites, [("forecast", year), basis_of], SHOWN_LINES
        )
        values = {
            line: sums[("forecast", year)][line].to_numpy(dtype=float) for line in SHOWN_LINES
        }
        base = {line: sums[basis_of][line].to_numpy(dtype=float) for line in SHOWN_LINES}
        return values, figures_repo.fallbacks(session, sites, year, FALLBACKS_LISTED), base
    base = basis_month_sums(session, sites, year, basis)
    if year in figures_repo.forecast_years(today):
        sums = figures_repo.month_sums(session, sites, "forecast", year, SHOWN_LINES)
        fallbacks = figures_repo.fallbacks(session, sites, year, FALLBACKS_LISTED)
        return {line: sums[line].to_numpy(dtype=float) for line in SHOWN_LINES}, fallbacks, base
    frame = computed_lines(session, list(session.scalars(sites)), year, today)
    summed = frame.groupby("month")[list(SHOWN_LINES)].sum().reindex(range(1, 13))
    chosen = frame[frame["ir_fallback"].notna()]
    every = [(int(r.site_id), int(r.month), str(r.ir_fallback)) for r in chosen.itertuples()]
    named = sorted({s for s, _m, _r in every})[:FALLBACKS_LISTED]
    fallbacks = ([row for row in sorted(every) if row[0] in named], len({s for s, *_ in every}))
    values = {line: summed[line].fillna(0.0).to_numpy(dtype=float) for line in SHOWN_LINES}
    return values, fallbacks, base


def basis_month_sums(
    session: Session, sites: Select, year: int, basis: str = BUDGET_BASIS
) -> dict[str, np.ndarray]:
    """``basis_lines`` of the sites of ``sites`` summed per month in SQL from the ledger: per
    shown line (FLC included) 12 sums."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    if basis == BUDGET_BASIS:
        sums = pnl_inputs.ledger_month_sums(session, sites, year, "budget")
    else:
        sums = pnl_inputs.ledger_month_sums(session, sites, year - 1, "actual")
    sums["flc"] = pnl.flc(sums)
    return sums


def basis_lines(
    session: Session,
    site_ids: Sequence[int],
    year: int,
    basis: str = BUDGET_BASIS,
    month: int | None = None,
) -> pd.DataFrame:
    """What ``pnl_lines`` is compared with, in the same shape (``kind`` = the basis):
    'budget' — the year's budget rows; 'prior_year' — the ledger's actual rows of the year
    before, on the same month numbers (D7). A missing row reads 0 (variance "n/a").
    ``month``: that month only."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    ids = sorted({int(s) for s in site_ids})
    if basis == BUDGET_BASIS:
        source_year, source_kind = year, "budget"
    else:
        source_year, source_kind = year - 1, "actual"
    known = set(session.scalars(select(Site.id).where(Site.id.in_(ids)))) if ids else set()
    months = range(1, 13) if month is None else [month]
    grid = pd.DataFrame(
        [(s, m) for s in sorted(known) for m in months], columns=["site_id", "month"]
    )
    p = PnlMonth
    where = [p.site_id.in_(sorted(known)), p.year == source_year, p.kind == source_kind]
    if month is not None:
        where.append(p.month == month)
    rows = (
        session.connection()
        .execute(
            select(p.site_id, p.month, *[getattr(p, line) for line in pnl.PNL_LINES]).where(*where)
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
