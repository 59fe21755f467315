"""The proposal layer (issue 15, item 2; decision D10): per site and future day the measured
proposal of ``dashboard.domain.forecast``, stored, so that a day nobody saved shows and counts
it everywhere — the statistics grid, the save, the live panel, the P&L and every view of the
stored figures (``dashboard.data.pnl_inputs``, ``dashboard.services.kpi``).

Precedence, day by day: a person's entry (a saved forecast day) > the proposal > the budget
month spread evenly (a site or day without a proposal). Revenue is not stored: the proposed
counts are valued at the month's forecast rates when read (D3), so a rate change reprices
every proposed day.

Refreshed (``refresh``) for today's date — the history is every actual before today, the days
are today .. the end of the last year the P&L shows — by the figures job whenever a site's
proposals are older than today (the daily rollover: ``figures.recompute``), after an import of
actuals, and by ``python -m dashboard proposals``. Each refresh replaces a site's days whole in
the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from dashboard.data.frames import read_frame
from dashboard.data.models import (
    PayrollBudgetMonth,
    PayrollDay,
    Site,
    SiteProposalState,
    SiteStatisticDay,
    StatisticBudgetMonth,
    StatisticProposalDay,
)
from dashboard.domain import forecast as fc
from dashboard.domain import statistics as st

ROOMS, REVENUE, LABOR = "occupied_rooms", "external_revenue", fc.LABOR_HOURS
# What the method forecasts: rooms, each vehicle category, labor hours.
FORECAST_MEASURES = (ROOMS, *fc.VEHICLE_MEASURES, LABOR)
# History read before the origin: two years of references, a year of pairs, three weeks of
# neighbours for a missing reference day.
LOOKBACK_DAYS = 2 * fc.YEAR_DAYS + 364 + 21
# Stored per day: the statistics grid's inputs and overnight counts (revenue is priced when
# read), and labor hours.
STORED = (
    "occupancy",
    "occupied_rooms",
    *st.COUNT_INPUTS,
    *st.RATIO_INPUTS,
    "self_overnight",
    "valet_overnight",
    LABOR,
)
# A stored day's source: the best of its measures' (history > budget > recent > volume).
_SOURCE_ORDER = (fc.FROM_HISTORY, fc.FROM_BUDGET, fc.FROM_RECENT, fc.FROM_VOLUME, fc.FROM_NOTHING)
BATCH_SITES = 100


def site_frame(session: Session, site_ids: Sequence[int] | None) -> pd.DataFrame:
    query = select(Site.id, Site.site_number, Site.total_rooms).order_by(Site.id)
    if site_ids is not None:
        query = query.where(Site.id.in_(list(site_ids)))
    return read_frame(session, query, ["site_id", "site_number", "total_rooms"])


def _statistics(session: Session, ids: list[int], first: dt.date, last: dt.date) -> pd.DataFrame:
    s = SiteStatisticDay
    columns = [ROOMS, *fc.VEHICLE_MEASURES, REVENUE]
    frame = read_frame(
        session,
        select(s.site_id, s.day, *[getattr(s, c) for c in columns]).where(
            s.site_id.in_(ids), s.kind == "actual", s.day >= first, s.day <= last
        ),
        ["site_id", "day", *columns],
    )
    return as_floats(frame, columns)


def _labor(session: Session, ids: list[int], first: dt.date, last: dt.date) -> pd.DataFrame:
    p = PayrollDay
    frame = read_frame(
        session,
        select(p.site_id, p.day, func.sum(p.hours))
        .where(p.site_id.in_(ids), p.kind == "actual", p.day >= first, p.day <= last)
        .group_by(p.site_id, p.day),
        ["site_id", "day", LABOR],
    )
    return as_floats(frame, [LABOR])


def _budgets(session: Session, ids: list[int], first: dt.date, last: dt.date) -> pd.DataFrame:
    """Monthly budgets of the statistics and of the payroll hours (Σ job codes)."""
    b = StatisticBudgetMonth
    columns = [ROOMS, *fc.VEHICLE_MEASURES]
    years = (b.year >= first.year) & (b.year <= last.year)
    stats = read_frame(
        session,
        select(b.site_id, b.year, b.month, *[getattr(b, c) for c in columns]).where(
            b.site_id.in_(ids), years
        ),
        ["site_id", "year", "month", *columns],
    )
    p = PayrollBudgetMonth
    hours = read_frame(
        session,
        select(p.site_id, p.year, p.month, func.sum(p.hours))
        .where(p.site_id.in_(ids), p.year >= first.year, p.year <= last.year)
        .group_by(p.site_id, p.year, p.month),
        ["site_id", "year", "month", LABOR],
    )
    keys = ["site_id", "year", "month"]
    merged = int_keys(stats).merge(int_keys(hours), on=keys, how="outer")
    return as_floats(merged, [*columns, LABOR], fill=False)


def as_floats(frame: pd.DataFrame, columns, fill: bool = True) -> pd.DataFrame:
    for c in columns:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        if fill:
            frame[c] = frame[c].fillna(0.0)
    return frame


def int_keys(frame: pd.DataFrame) -> pd.DataFrame:
    for c in ("site_id", "year", "month"):
        if c in frame:
            frame[c] = frame[c].astype(np.int64)
    return frame


@dataclass(frozen=True)
class Inputs:
    """What the methods read for a batch of sites: ``daily`` actuals (site_id, day, the
    forecast measures, external revenue, has_statistics, has_labor) and monthly ``budget``
    totals (the statistics and Σ payroll hours)."""

    daily: pd.DataFrame
    budget: pd.DataFrame


def read_inputs(session: Session, ids: list[int], first: dt.date, last: dt.date) -> Inputs:
    """Actuals of ``first`` .. ``last`` and the budgets of their years, for ``ids``: four
    statements whatever the number of sites and days."""
    stats = _statistics(session, ids, first, last)
    labor = _labor(session, ids, first, last)
    daily = stats.merge(labor, on=["site_id", "day"], how="outer")
    daily["has_statistics"] = daily[ROOMS].notna()
    daily["has_labor"] = daily[LABOR].notna()
    return Inputs(daily, _budgets(session, ids, first, last))


def proposal_for_sites(
    session: Session,
    sites: pd.DataFrame,
    origin: dt.date,
    last: dt.date,
    method: fc.Method = fc.DEFAULT_METHOD,
    inputs: Inputs | None = None,
) -> fc.Proposal:
    """The proposal (``FORECAST_MEASURES``) of ``sites`` (site_id, total_rooms) for every day
    from ``origin`` to ``last``, from the actuals before ``origin``: ``forecast.Proposal``."""
    ids = sites["site_id"].astype(int).tolist()
    if inputs is None:
        inputs = read_inputs(session, ids, origin - dt.timedelta(days=LOOKBACK_DAYS), last)
    history = before(inputs.daily, origin)[["site_id", "day", *FORECAST_MEASURES]]
    rooms = dict(zip(sites["site_id"], sites["total_rooms"].astype(float), strict=True))
    return fc.propose(
        history,
        pd.date_range(origin, last, freq="D").date,
        budget=inputs.budget,
        capacity={ROOMS: rooms},
        measures=list(FORECAST_MEASURES),
        origin=origin,
        sites=ids,
        method=method,
    )


def before(daily: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    return daily[pd.to_datetime(daily["day"]) < pd.Timestamp(day)]


# --- The stored layer ---------------------------------------------------------------------------


def last_day(today: dt.date) -> dt.date:
    """The last day proposed: the end of the last year whose P&L is shown (``figures``)."""
    return dt.date(today.year + 1, 12, 31)


def _day_sources(sources: pd.DataFrame) -> np.ndarray:
    """Per row of ``sources`` the best source among the statistics measures."""
    columns = [c for c in FORECAST_MEASURES if c != LABOR and c in sources]
    best = np.full(len(sources), fc.FROM_NOTHING, dtype=object)
    for source in reversed(_SOURCE_ORDER):
        hit = (sources[columns] == source).any(axis=1).to_numpy()
        best[hit] = source
    return best


def stored_rows(proposal: fc.Proposal, sites: pd.DataFrame) -> list[dict]:
    """The rows of ``StatisticProposalDay`` for a ``forecast.Proposal`` of ``sites``."""
    values = proposal.values
    if values.empty:
        return []
    rooms = values["site_id"].map(
        dict(zip(sites["site_id"], sites["total_rooms"].astype(float), strict=True))
    )
    inputs = fc.statistics_inputs(values, rooms.to_numpy(dtype=float))
    inputs["source"] = _day_sources(proposal.sources)
    frame = inputs[["site_id", "day", "source", *STORED]].copy()
    frame["site_id"] = frame["site_id"].astype(int)
    frame[list(STORED)] = frame[list(STORED)].astype(float).fillna(0.0).clip(lower=0.0)
    return frame.to_dict("records")


def refresh(session: Session, site_ids: Sequence[int], today: dt.date) -> int:
    """Recompute and store the proposals of ``site_ids`` for ``today`` in the caller's
    transaction (each site's days replaced whole); returns the days written. The caller
    recomputes or marks stale the sites' figures."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return 0
    sites = site_frame(session, ids)
    last = last_day(today)
    written = 0
    session.execute(delete(StatisticProposalDay).where(StatisticProposalDay.site_id.in_(ids)))
    session.execute(delete(SiteProposalState).where(SiteProposalState.site_id.in_(ids)))
    for begin in range(0, len(sites), BATCH_SITES):
        chosen = sites.iloc[begin : begin + BATCH_SITES]
        rows = stored_rows(proposal_for_sites(session, chosen, today, last), chosen)
        if rows:
            session.execute(insert(StatisticProposalDay), rows)
        written += len(rows)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    session.execute(
        insert(SiteProposalState),
        [
            {"site_id": s, "as_of": today, "computed_at": now, "first_day": today, "last_day": last}
            for s in sites["site_id"].astype(int)
        ],
    )
    session.flush()
    return written


def outdated(session: Session, site_ids: Sequence[int], today: dt.date) -> list[int]:
    """Sites among ``site_ids`` whose proposals were not computed for ``today``."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return []
    current = set(
        session.scalars(
            select(SiteProposalState.site_id).where(
                SiteProposalState.site_id.in_(ids), SiteProposalState.as_of == today
            )
        )
    )
    return [s for s in ids if s not in current]
