"""KPI inputs per site and month for the trends, benchmarking and variance pages (DOMAIN.md
§11): the additive components of ``dashboard.domain.kpi`` for four series.

* **actual** — closed months: the statistics actuals (daily rows summed), the ledger's P&L
  lines, the payroll actuals (hours, overtime hours);
* **budget** — the statistics, payroll and P&L budget months;
* **forecast** — closed months: the *submitted* forecast of record (the snapshot frozen at
  submission, ``ForecastSnapshotLine``); the current and later months: the live forecast, the
  same numbers the P&L page shows (``services.pnl``), with the month's statistics day by day
  as saved, else as proposed, else the budget's even share (actual to date in the current
  month);
* **prior_year** — the actual series of the same calendar month a year earlier (D7).

Everything is read for all the sites at once, aggregated in SQL (a fixed number of queries).
No scope check here: callers pass sites the person may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.data import figures as figures_repo
from dashboard.data.contract_terms import site_terms
from dashboard.data.frames import read_frame
from dashboard.data.models import (
    ForecastSnapshotLine,
    ForecastSubmission,
    PayrollBudgetMonth,
    PayrollDay,
    PnlMonth,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
)
from dashboard.data.pnl_inputs import (
    date_span,
    forecast_drivers,
    in_months,
    month_of,
    proposal_sums,
    to_float,
    trending_drivers,
    year_of,
)
from dashboard.domain import kpi
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import statistics as st
from dashboard.domain.periods import add_months, days_in_month
from dashboard.services import pnl as pnl_service

ACTUAL, BUDGET, FORECAST, PRIOR_YEAR = "actual", "budget", "forecast", "prior_year"
SERIES = (ACTUAL, BUDGET, FORECAST, PRIOR_YEAR)
SERIES_LABELS = {
    ACTUAL: "Actual",
    BUDGET: "Budget",
    FORECAST: "Forecast",
    PRIOR_YEAR: "Prior year",
}
KEYS = ["site_id", "year", "month"]
COLUMNS = [*KEYS, "series", *kpi.COMPONENTS]

VEHICLE_FIELDS = st.VEHICLE_FIELDS  # every parked vehicle (DOMAIN.md §3.1)
_COST_LINES = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")


Month = tuple[int, int]


def months_between(first: Month, last: Month) -> list[Month]:
    """The months from ``first`` to ``last`` inclusive (empty when last < first)."""
    out: list[Month] = []
    y, m = first
    while (y, m) <= last:
        out.append((y, m))
        y, m = add_months(y, m, 1)
    return out


def _statistics(session: Session, ids: list[int], first: dt.date, last: dt.date, kind: str):
    s = SiteStatisticDay
    vehicles = sum(getattr(s, f) for f in VEHICLE_FIELDS)
    return read_frame(
        session,
        select(
            s.site_id,
            year_of(s.day),
            month_of(s.day),
            func.sum(s.occupied_rooms),
            func.sum(s.self_overnight + s.valet_overnight),
            func.sum(s.valet_overnight),
            func.sum(vehicles),
            func.sum(s.external_revenue),
            func.count(),
        )
        .where(s.site_id.in_(ids), s.kind == kind, s.day >= first, s.day <= last)
        .group_by(s.site_id, year_of(s.day), month_of(s.day)),
        [
            *KEYS,
            "occupied_rooms",
            "overnight_vehicles",
            "valet_overnight",
            "vehicles",
            "external_revenue",
            "days_counted",
        ],
    )


def _payroll_hours(session: Session, ids: list[int], first: dt.date, last: dt.date, kind: str):
    p = PayrollDay
    return read_frame(
        session,
        select(
            p.site_id,
            year_of(p.day),
            month_of(p.day),
            func.sum(p.hours),
            func.sum(p.overtime_hours),
        )
        .where(p.site_id.in_(ids), p.kind == kind, p.day >= first, p.day <= last)
        .group_by(p.site_id, year_of(p.day), month_of(p.day)),
        [*KEYS, "labor_hours", "overtime_hours"],
    )


def ledger_lines(session: Session, ids: list[int], months: Sequence[Month], kind: str):
    p = PnlMonth
    frame = read_frame(
        session,
        select(
            p.site_id,
            p.year,
            p.month,
            p.internal_revenue,
            *[getattr(p, c) for c in _COST_LINES],
            p.external_revenue,
        ).where(p.site_id.in_(ids), p.kind == kind, in_months(p.year, p.month, months)),
        [*KEYS, "internal_revenue", *_COST_LINES, "ledger_external_revenue"],
    )
    frame = to_float(frame, ["internal_revenue", *_COST_LINES, "ledger_external_revenue"])
    frame["flc"] = pnl_domain.flc(frame)
    return frame[[*KEYS, "internal_revenue", "payroll", "flc", "ledger_external_revenue"]]


def _available_rooms(session: Session, ids: list[int], months: Sequence[Month]) -> pd.DataFrame:
    rooms = dict(session.execute(select(Site.id, Site.total_rooms).where(Site.id.in_(ids))).all())
    rows = [
        (s, y, m, float(rooms[s]) * days_in_month(y, m) if rooms.get(s) else np.nan)
        for s in ids
        for y, m in months
    ]
    return pd.DataFrame(rows, columns=[*KEYS, "available_rooms"])


def _grid(ids: list[int], months: Sequence[Month]) -> pd.DataFrame:
    return pd.DataFrame([(s, y, m) for s in ids for y, m in months], columns=KEYS)


def _merge(base: pd.DataFrame, *parts: pd.DataFrame) -> pd.DataFrame:
    out = base
    for part in parts:
        if part.empty:
            continue
        part = part.astype({"site_id": int, "year": int, "month": int})
        out = out.merge(part, on=KEYS, how="left")
    return out


def _finish(frame: pd.DataFrame, series: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["series"] = series
    for c in kpi.COMPONENTS:
        if c not in frame:
            frame[c] = np.nan
        else:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame[COLUMNS]


def actual_components(session: Session, ids: list[int], months: Sequence[Month]) -> pd.DataFrame:
    """Closed months only (callers pass closed months)."""
    if not months:
        return pd.DataFrame(columns=COLUMNS)
    first, last = date_span(months)
    stats = _statistics(session, ids, first, last, "actual").drop(columns="days_counted")
    hours = _payroll_hours(session, ids, first, last, "actual")
    ledger = ledger_lines(session, ids, months, "actual")
    frame = _merge(_grid(ids, months), _available_rooms(session, ids, months), stats, hours)
    frame = _merge(frame, ledger)
    if "ledger_external_revenue" in frame:
        # The books are the authority on a closed month's external revenue (same as the P&L).
        frame["external_revenue"] = frame["ledger_external_revenue"].where(
            frame["ledger_external_revenue"].notna(), frame.get("external_revenue")
        )
    return _finish(frame, ACTUAL)


def linked_ir(
    session: Session, target: pd.DataFrame, budget: pd.DataFrame | None = None
) -> pd.Series:
    """Per row of ``target`` (site_id, year, month, external_revenue, payroll,
    occupied_rooms) ``kpi.revenue_linked_ir`` against the budget of the site-month (read
    when ``budget`` is not given); NaN where the month has no budget, 0 for a site without
    contract terms."""
    if target.empty:
        return pd.Series(index=target.index, dtype=float)
    ids = sorted({int(s) for s in target["site_id"]})
    if budget is None:
        months = sorted({(int(y), int(m)) for y, m in zip(target.year, target.month, strict=True)})
        budget = budget_components(session, ids, months)
    terms = site_terms(session, ids)
    plan = {
        (int(s), int(y), int(m)): (_value(e), _value(i))
        for s, y, m, e, i in zip(
            budget["site_id"],
            budget["year"],
            budget["month"],
            budget["external_revenue"],
            budget["internal_revenue"],
            strict=True,
        )
    }
    out = []
    for s, y, m, e, p, r in zip(
        target["site_id"],
        target["year"],
        target["month"],
        target["external_revenue"],
        target["payroll"],
        target["occupied_rooms"],
        strict=True,
    ):
        key = (int(s), int(y), int(m))
        if key not in plan:
            out.append(np.nan)
        elif key[0] not in terms:
            out.append(0.0)
        else:
            budget_external, budget_internal = plan[key]
            out.append(
                kpi.revenue_linked_ir(
                    terms[key[0]],
                    dt.date(key[1], key[2], 1),
                    budget_external,
                    budget_internal,
                    _value(e),
                    _value(p),
                    _value(r),
                )
            )
    return pd.Series(out, index=target.index, dtype=float)


def _value(value) -> float:
    return 0.0 if value is None or value != value else float(value)


def budget_components(session: Session, ids: list[int], months: Sequence[Month]) -> pd.DataFrame:
    if not months:
        return pd.DataFrame(columns=COLUMNS)
    b = StatisticBudgetMonth
    vehicles = sum(getattr(b, f) for f in VEHICLE_FIELDS)
    stats = read_frame(
        session,
        select(
            b.site_id,
            b.year,
            b.month,
            b.occupied_rooms,
            b.self_overnight + b.valet_overnight,
            b.valet_overnight,
            vehicles,
        ).where(b.site_id.in_(ids), in_months(b.year, b.month, months)),
        [*KEYS, "occupied_rooms", "overnight_vehicles", "valet_overnight", "vehicles"],
    )
    p = PayrollBudgetMonth
    hours = read_frame(
        session,
        select(p.site_id, p.year, p.month, func.sum(p.hours))
        .where(p.site_id.in_(ids), in_months(p.year, p.month, months))
        .group_by(p.site_id, p.year, p.month),
        [*KEYS, "labor_hours"],
    )
    ledger = ledger_lines(session, ids, months, "budget").rename(
        columns={"ledger_external_revenue": "external_revenue"}
    )
    frame = _merge(_grid(ids, months), _available_rooms(session, ids, months), stats, hours)
    frame = _merge(frame, ledger)
    return _finish(frame, BUDGET)  # the budget has no overtime hours: NaN


def submitted_components(session: Session, ids: list[int], months: Sequence[Month]) -> pd.DataFrame:
    """The forecast of record of closed months: the snapshot of the site-month's last
    submission, whatever happened to it afterwards (snapshots are only taken on submit;
    sites that never submitted have none)."""
    if not months:
        return pd.DataFrame(columns=COLUMNS)
    f, line = ForecastSubmission, ForecastSnapshotLine
    rows = read_frame(
        session,
        select(f.site_id, f.year, f.month, line.line, line.value, line.taken_at)
        .join(line, line.submission_id == f.id)
        .where(
            f.site_id.in_(ids),
            in_months(f.year, f.month, months),
            line.line.in_(
                ("external_revenue", "internal_revenue", "payroll", "flc")
                + ("occupied_rooms", "labor_hours")
            ),
        ),
        [*KEYS, "line", "value", "taken_at"],
    )
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = rows.sort_values("taken_at").drop_duplicates([*KEYS, "line"], keep="last")
    wide = rows.pivot_table(index=KEYS, columns="line", values="value", aggfunc="last")
    wide = wide.reset_index()
    wide.columns.name = None
    frame = _merge(_grid(ids, months), _available_rooms(session, ids, months), wide)
    frame = frame[frame.get("flc", pd.Series(index=frame.index)).notna()]
    return _finish(frame, FORECAST)


def live_forecast(
    session: Session,
    ids: list[int],
    months: Sequence[Month],
    today: dt.date,
    lines: pd.DataFrame | None = None,
    drivers: dict | None = None,
) -> pd.DataFrame:
    """The current month (trending) and later months, as the P&L and the workspace show
    them; ``lines``: the engine's P&L lines of those months when already computed, and
    ``drivers`` the drivers its walk used (``pnl.computed_lines(drivers_out=...)``)."""
    if not months:
        return pd.DataFrame(columns=COLUMNS)
    if lines is None:
        lines = pd.concat(
            [
                pnl_service.computed_lines(session, ids, year, today)
                for year in sorted({y for y, _ in months})
            ],
            ignore_index=True,
        )
    wanted = set(months)
    lines = lines[[(y, m) in wanted for y, m in zip(lines["year"], lines["month"], strict=True)]]
    lines = lines[[*KEYS, "external_revenue", "internal_revenue", "payroll", "flc"]]

    if drivers is not None:
        chosen = [
            (s, y, m, record["occupied_rooms"], record["labor_hours"])
            for (s, y, m), record in drivers.items()
            if (y, m) in wanted
        ]
        driver_frame = pd.DataFrame(chosen, columns=[*KEYS, "occupied_rooms", "labor_hours"])
    else:
        current = (today.year, today.month)
        later = [ym for ym in months if ym != current]
        parts = []
        for year in sorted({y for y, _ in later}):
            chosen_months = [m for y, m in later if y == year]
            parts.append(forecast_drivers(session, ids, year, chosen_months).months)
        if current in wanted:
            parts.append(trending_drivers(session, ids, today).months)
        driver_frame = pd.concat(parts, ignore_index=True)[[*KEYS, "occupied_rooms", "labor_hours"]]

    first, last = date_span(months)
    vehicles = _forecast_vehicles(session, ids, months, today, first, last)
    saved_hours = _payroll_hours(session, ids, max(first, today), last, "forecast")
    overtime = saved_hours[[*KEYS, "overtime_hours"]]  # NaN where nothing is saved
    frame = _merge(_grid(ids, months), _available_rooms(session, ids, months), lines, driver_frame)
    frame = _merge(frame, vehicles, overtime)
    return _finish(frame, FORECAST)


def _forecast_vehicles(session, ids, months, today, first, last) -> pd.DataFrame:
    """Overnight, valet-overnight and all vehicles of open months: actual days before today
    (current month), saved forecast days from today, the stored proposal of the days nobody
    saved, the budget month's even daily share for the days none of them covers."""
    columns = ["overnight_vehicles", "valet_overnight", "vehicles"]
    saved = _statistics(session, ids, max(first, today), last, "forecast")
    actual = (
        _statistics(session, ids, first, today - dt.timedelta(days=1), "actual")
        if first < today
        else pd.DataFrame(columns=saved.columns)
    )
    budget = budget_components(session, ids, months)[[*KEYS, *columns]]
    grid = _grid(ids, months)
    grid["days"] = [float(days_in_month(y, m)) for y, m in zip(grid.year, grid.month, strict=True)]
    out = grid.merge(budget, on=KEYS, how="left")
    for name, part in (("saved", saved), ("actual", actual)):
        part = part.astype({"site_id": int, "year": int, "month": int}) if not part.empty else part
        renamed = part.rename(columns={c: f"{c}_{name}" for c in [*columns, "days_counted"]})
        if part.empty:
            for c in [*columns, "days_counted"]:
                out[f"{c}_{name}"] = 0.0
        else:
            out = out.merge(renamed[[*KEYS, *renamed.columns[3:]]], on=KEYS, how="left")
    out = to_float(
        out,
        [c for c in out.columns if c.endswith(("_saved", "_actual"))] + columns,
    )
    proposed = proposal_sums(session, ids, months, from_day=today)
    proposed["overnight_vehicles"] = proposed["valet_overnight"] + proposed["self_overnight"]
    proposed["vehicles"] = proposed[list(st.VEHICLE_FIELDS)].sum(axis=1)
    out = out.merge(
        proposed[[*KEYS, "proposal_days", *columns]].rename(
            columns={c: f"{c}_proposal" for c in columns}
        ),
        on=KEYS,
        how="left",
    )
    out = to_float(out, ["proposal_days", *[f"{c}_proposal" for c in columns]])
    uncovered = (
        out["days"] - out["days_counted_saved"] - out["days_counted_actual"] - out["proposal_days"]
    ).clip(lower=0)
    for c in columns:
        out[c] = (
            out[f"{c}_actual"]
            + out[f"{c}_saved"]
            + out[f"{c}_proposal"]
            + out[c] * uncovered / out["days"]
        )
    return out[[*KEYS, *columns]]


def computed_components(
    session: Session,
    site_ids: Sequence[int],
    first: Month,
    last: Month,
    today: dt.date,
    series: Sequence[str] = SERIES,
) -> pd.DataFrame:
    """The KPI components of ``site_ids`` for the months ``first``..``last``: one row per
    site × month × series (``COLUMNS``); a component a series has no source for is NaN."""
    ids = sorted({int(s) for s in site_ids})
    months = months_between(first, last)
    if not ids or not months:
        return pd.DataFrame(columns=COLUMNS)
    closed_through = add_months(today.year, today.month, -1)
    closed = [ym for ym in months if ym <= closed_through]
    open_months = [ym for ym in months if ym > closed_through]
    parts = []
    if ACTUAL in series:
        parts.append(actual_components(session, ids, closed))
    if BUDGET in series:
        parts.append(budget_components(session, ids, months))
    if FORECAST in series:
        parts.append(submitted_components(session, ids, closed))
        parts.append(live_forecast(session, ids, open_months, today))
    if PRIOR_YEAR in series:
        earlier = [(y - 1, m) for y, m in months if (y - 1, m) <= closed_through]
        prior = actual_components(session, ids, earlier)
        prior["year"] = prior["year"] + 1
        prior["series"] = PRIOR_YEAR
        parts.append(prior)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    return frame.astype({"site_id": int, "year": int, "month": int})


def components(
    session: Session,
    site_ids: Sequence[int],
    first: Month,
    last: Month,
    today: dt.date,
    series: Sequence[str] = SERIES,
    with_linked_ir: bool = False,
) -> pd.DataFrame:
    """``computed_components`` as stored when the inputs last changed (D14): the derived
    figures of the sites, read in a fixed number of queries. Months outside the stored span
    are computed. ``with_linked_ir``: also ``ir_linked`` (``linked_ir``) on the actual
    rows and the forecast rows of open months."""
    ids = sorted({int(s) for s in site_ids})
    months = months_between(first, last)
    columns = [*COLUMNS, "ir_linked"] if with_linked_ir else COLUMNS
    if not ids or not months:
        return pd.DataFrame(columns=columns)
    prior_first = add_months(*first, -12)
    if not _stored_span_covers(prior_first, last, today):
        frame = computed_components(session, ids, first, last, today, series)
        if with_linked_ir:
            closed_through = add_months(today.year, today.month, -1)
            closed = pd.Series(
                [(y, m) <= closed_through for y, m in zip(frame.year, frame.month, strict=True)],
                index=frame.index,
                dtype=bool,
            )
            target = (frame["series"] == ACTUAL) | ((frame["series"] == FORECAST) & ~closed)
            frame["ir_linked"] = np.nan
            frame.loc[target, "ir_linked"] = linked_ir(session, frame[target])
        return frame
    stored = figures_repo.read(
        session,
        ids,
        ("actual", "budget", "submitted", "forecast"),
        prior_first,
        last,
        columns=[*kpi.COMPONENTS, *(["ir_linked"] if with_linked_ir else [])],
    )
    parts = _chosen(stored, first, last, today, series, columns)
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["series", "site_id", "year", "month"], kind="stable")
    return frame.astype({"site_id": int, "year": int, "month": int}).reset_index(drop=True)


def _stored_span_covers(first: Month, last: Month, today: dt.date) -> bool:
    """Whether the stored figures hold every month of ``first``..``last``."""
    span_first, span_last = figures_repo.history_span(today)
    return span_first <= first and last <= span_last


def component_sums(
    session: Session,
    site_ids: Sequence[int],
    first: Month,
    last: Month,
    today: dt.date,
    series: Sequence[str] = SERIES,
) -> pd.DataFrame:
    """``components`` summed over the sites per year × month × series (in SQL from the
    stored figures), with ``rows``: the site-months summed (for the forecast of closed
    months: the submitted ones)."""
    ids = sorted({int(s) for s in site_ids})
    months = months_between(first, last)
    keys = ["year", "month", "series"]
    if not ids or not months:
        return pd.DataFrame(columns=[*keys, *kpi.COMPONENTS, "rows"])
    prior_first = add_months(*first, -12)
    if not _stored_span_covers(prior_first, last, today):
        parts = computed_components(session, ids, first, last, today, series)
        if parts.empty:
            return pd.DataFrame(columns=[*keys, *kpi.COMPONENTS, "rows"])
        grouped = parts.groupby(keys, sort=True)
        summed = grouped[list(kpi.COMPONENTS)].sum(min_count=1)
        summed["rows"] = grouped.size()
        return summed.reset_index()
    stored = figures_repo.period_totals(
        session,
        ids,
        ("actual", "budget", "submitted", "forecast"),
        prior_first,
        last,
        kpi.COMPONENTS,
    )
    parts = _chosen(stored, first, last, today, series, [*keys, *kpi.COMPONENTS, "rows"])
    if not parts:
        return pd.DataFrame(columns=[*keys, *kpi.COMPONENTS, "rows"])
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _chosen(
    stored: pd.DataFrame,
    first: Month,
    last: Month,
    today: dt.date,
    series: Sequence[str],
    columns: list[str],
) -> list[pd.DataFrame]:
    """The rows of each shown series out of the stored ones: actual and prior year from the
    books of closed months, budget, and the forecast — the submitted snapshot for closed
    months, the live forecast for the rest."""
    closed_through = add_months(today.year, today.month, -1)
    key = stored["year"] * 100 + stored["month"]
    inside = (key >= first[0] * 100 + first[1]) & (key <= last[0] * 100 + last[1])
    closed = key <= closed_through[0] * 100 + closed_through[1]
    parts = []
    if ACTUAL in series:
        parts.append(_as_series(stored[(stored["series"] == "actual") & inside & closed], ACTUAL))
    if BUDGET in series:
        parts.append(_as_series(stored[(stored["series"] == "budget") & inside], BUDGET))
    if FORECAST in series:
        parts.append(
            _as_series(stored[(stored["series"] == "submitted") & inside & closed], FORECAST)
        )
        parts.append(
            _as_series(stored[(stored["series"] == "forecast") & inside & ~closed], FORECAST)
        )
    if PRIOR_YEAR in series:
        shifted = (stored["year"] + 1) * 100 + stored["month"]
        wanted = (shifted >= first[0] * 100 + first[1]) & (shifted <= last[0] * 100 + last[1])
        prior = stored[(stored["series"] == "actual") & wanted & closed].copy()
        prior["year"] = prior["year"] + 1
        parts.append(_as_series(prior, PRIOR_YEAR))
    return [p[columns] for p in parts if not p.empty]


def _as_series(rows: pd.DataFrame, series: str) -> pd.DataFrame:
    out = rows.copy()
    out["series"] = series
    return out
