"""The Workspace's Rates tab: a site's monthly parking rates per category.

Loading gives a year of budget, forecast and actual rates for the grid. The save steps run
inside the workspace's save transaction (``workspace_save.save_forecast_inputs`` checks scope,
opens the transaction and audits refused attempts): ``validate_rate_edits`` collects every
problem at once, ``save_rates`` writes each rate with its version checked and an audit row,
and ``reprice_saved_days`` brings the external revenue of saved forecast days in line with
their month's new rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from dashboard.data import statistics_repo as repo
from dashboard.data.models import RATE_CATEGORIES, ParkingRateMonth, Site, SiteStatisticDay
from dashboard.domain import statistics as st
from dashboard.domain.periods import days_in_month
from dashboard.services import audit, month_locks, versioned
from dashboard.services.save_results import Conflict, Problem
from dashboard.services.scope import Principal, require_view

# (year, month, category) -> (rate, version the person saw)
CleanRates = dict[tuple[int, int, str], tuple[float, int]]


@dataclass(frozen=True)
class RateEdit:
    """One edited rate: ``version`` is the forecast rate's version the person saw (0 = none)."""

    year: int
    month: int
    category: str
    value: object
    version: int = 0


def is_rate_month_editable(year: int, month: int, today: dt.date) -> bool:
    """Past years and months before the current month are read-only."""
    return (year, month) >= (today.year, today.month) and year <= today.year + 1


def load_rates(
    session: Session, principal: Principal, site_id: int, year: int, today: dt.date
) -> dict:
    """A year of rates for the Rates grid: per category and month the budget, the saved
    forecast (with its version) and the actual rate of closed months; JSON-ready."""
    require_view(session, principal, site_id, today)
    frame = repo.rates(session, site_id, [year], ("budget", "forecast", "actual"))
    cells: dict[str, dict] = {}
    for row in frame.itertuples():
        cell = cells.setdefault(f"{row.month:02d}|{row.category}", {})
        cell[row.kind] = float(row.rate)
        if row.kind == "forecast":
            cell["version"] = int(row.version)
            cell["updated_by"] = row.updated_by
    locks = month_locks.month_edit_blocks(
        session, principal, site_id, [(year, m) for m in range(1, 13)], today
    )
    editable = {
        f"{m:02d}": is_rate_month_editable(year, m, today) and locks[(year, m)] is None
        for m in range(1, 13)
    }
    return {
        "site_id": site_id,
        "year": year,
        "cells": cells,
        "editable": editable,
        "locks": {f"{m:02d}": locks[(year, m)] for m in range(1, 13)},
    }


def validate_rate_edits(
    rate_edits: list[RateEdit], today: dt.date
) -> tuple[list[Problem], CleanRates]:
    """Every refused rate edit, and the accepted ones as (year, month, category) ->
    (rate rounded to cents, version)."""
    problems: list[Problem] = []
    rates: CleanRates = {}
    for edit in rate_edits:
        key = f"{edit.year}-{edit.month:02d}/{edit.category}"
        value = st.parse_number(edit.value)
        message = (
            "Unknown rate category."
            if edit.category not in RATE_CATEGORIES
            else st.validate_rate(value)
        )
        if message is None and not is_rate_month_editable(edit.year, edit.month, today):
            message = "Months before the current month are read-only."
        if message:
            problems.append(Problem(key, edit.category, message))
        else:
            rates[(edit.year, edit.month, edit.category)] = (round(value, 2), int(edit.version))
    return problems, rates


def save_rates(
    session: Session,
    principal: Principal,
    site_id: int,
    rates: CleanRates,
    now: dt.datetime,
    conflicts: list[Conflict],
) -> int:
    """Write accepted rate edits of one site; returns rates saved. Version mismatches are
    appended to ``conflicts``; the caller rolls the transaction back when there are any."""
    if not rates:
        return 0
    years = sorted({y for y, _, _ in rates})
    current = repo.rates(session, site_id, years, ("forecast",))
    saved = {(r.year, r.month, r.category): r for r in current.itertuples()}
    count = 0
    for (year, month, category), (value, version) in rates.items():
        key = f"{year}-{month:02d}/{category}"
        row = saved.get((year, month, category))
        if (int(row.version) if row is not None else 0) != version:
            theirs, by = (float(row.rate), row.updated_by) if row is not None else (None, None)
            conflicts.append(Conflict(key, category, value, theirs, by))
            continue
        written = versioned.write(
            session,
            ParkingRateMonth,
            None if row is None else row.id,
            version,
            {"rate": value},
            user_id=principal.user_id,
            now=now,
            keys={"site_id": site_id, "year": year, "month": month, "category": category},
        )
        if not written:
            conflicts.append(Conflict(key, category, value, float(row.rate), row.updated_by))
            continue
        old = None if row is None else float(row.rate)
        audit.record(
            session,
            user_id=principal.user_id,
            site_id=site_id,
            action="update",
            entity="parking_rate",
            record_key=key,
            field=category,
            old_value=old,
            new_value=value,
        )
        count += 1
    session.flush()
    return count


def reprice_saved_days(session: Session, site: Site, months: set[tuple[int, int]]) -> None:
    """External revenue of saved forecast days follows their month's (new) rates. A derived
    value, so the row's version stays: nobody's edit is overtaken by a repricing."""
    for year, month in sorted(months):
        first = dt.date(year, month, 1)
        last = dt.date(year, month, days_in_month(year, month))
        month_rates = repo.month_rates(
            repo.rates(session, site.id, [year], ("budget", "forecast")), year, month
        )
        saved = repo.statistic_days(session, site.id, "forecast", first, last)
        for row in saved.itertuples():
            revenue = round(float(st.external_revenue(row._asdict(), month_rates)), 2)
            if abs(revenue - float(row.external_revenue)) > 0.004:
                session.execute(
                    update(SiteStatisticDay)
                    .where(SiteStatisticDay.id == row.id)
                    .values(external_revenue=revenue)
                    .execution_options(synchronize_session=False)
                )
