"""Statistics and parking rates of one site: the 3-month window and the save command.

The save is one transaction: scope check, every edit validated (all problems reported at
once), lock rules, optimistic version checks, derived values recomputed here (never trusted
from the browser), audit rows. A conflict refuses the whole save; the refused attempt is
audited in a transaction of its own so both attempts are accounted for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.data import statistics_repo as repo
from dashboard.data.db import Database
from dashboard.data.models import RATE_CATEGORIES, ParkingRateMonth, SiteStatisticDay
from dashboard.domain import statistics as st
from dashboard.domain.periods import add_months, days_in_month
from dashboard.services import adjustments, audit, figures, payroll, submissions, versioned
from dashboard.services.scope import Principal, require_edit, require_view

WINDOW_MONTHS = 3
FORWARD_LIMIT_DAYS = submissions.FORWARD_LIMIT_DAYS  # input up to a year ahead (§3.6)
INPUT_FIELDS = st.ROOM_INPUTS + st.COUNT_INPUTS + st.RATIO_INPUTS


@dataclass(frozen=True)
class StatisticEdit:
    """One edited cell: ``version`` is the forecast row's version the person saw (0 = none).

    Values are in storage units: ratios and occupancy as fractions (the grid converts the
    percentages people type)."""

    day: dt.date
    field: str
    value: object
    version: int = 0


@dataclass(frozen=True)
class RateEdit:
    year: int
    month: int
    category: str
    value: object
    version: int = 0


@dataclass(frozen=True)
class Problem:
    """A refused cell: ``key`` is the day (ISO) or 'YYYY-MM/category' for rates."""

    key: str
    field: str
    message: str


@dataclass(frozen=True)
class Conflict:
    key: str
    field: str
    yours: object
    theirs: object
    by: str | None


@dataclass
class SaveResult:
    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    saved_cells: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.conflicts


class _ConflictDetected(Exception):
    pass


def window_months(start_year: int, start_month: int) -> list[tuple[int, int]]:
    return [add_months(start_year, start_month, i) for i in range(WINDOW_MONTHS)]


def is_day_editable(day: dt.date, today: dt.date) -> bool:
    """Decision D2: days before today are read-only; today and later editable (a year ahead)."""
    return today <= day <= today + dt.timedelta(days=FORWARD_LIMIT_DAYS)


def is_rate_month_editable(year: int, month: int, today: dt.date) -> bool:
    """Past years and months before the current month are read-only."""
    return (year, month) >= (today.year, today.month) and year <= today.year + 1


def budget_day(budget_months: dict, day: dt.date, total_rooms: int) -> dict:
    month = budget_months.get((day.year, day.month))
    # The budget month holds counts, rooms and revenue; ratios follow from them.
    values = {c: getattr(month, c, 0.0) for c in repo.STAT_COLUMNS} if month else {}
    return st.spread_budget_month(values, days_in_month(day.year, day.month), total_rooms)


@dataclass
class StatisticsWindow:
    site_id: int
    site_number: str
    site_name: str
    total_rooms: int
    months: list[tuple[int, int]]
    days: pd.DataFrame  # one row per day: budget_*, forecast_*, actual_*, prior_*, version...
    rates: pd.DataFrame  # repo.rates frame for the window's years


def load_window(
    session: Session, principal: Principal, site_id: int, start: tuple[int, int], today: dt.date
) -> StatisticsWindow:
    """Everything the statistics page shows for a site and 3 months from ``start``."""
    require_view(session, principal, site_id, today)
    site = repo.site(session, site_id)
    months = window_months(*start)
    first = dt.date(*months[0], 1)
    last = dt.date(*months[-1], days_in_month(*months[-1]))
    budget = repo.budget_months(session, site_id, months)
    forecast = repo.statistic_days(session, site_id, "forecast", first, last).set_index("day")
    actual = repo.statistic_days(session, site_id, "actual", first, last).set_index("day")
    prior = repo.statistic_days(
        session, site_id, "actual", first - st.PRIOR_YEAR_OFFSET, last - st.PRIOR_YEAR_OFFSET
    ).set_index("day")
    years = sorted({y for y, _ in months})
    rate_frame = repo.rates(session, site_id, years, ("budget", "forecast", "actual"))

    # Plain dicts per day: far faster than a pandas lookup per day and column.
    forecast_by_day = forecast.to_dict("index")
    actual_by_day = actual.to_dict("index")
    prior_by_day = prior.to_dict("index")
    rows = []
    for day in pd.date_range(first, last).date:
        row = {"day": day, "editable": is_day_editable(day, today)}
        b = budget_day(budget, day, site.total_rooms)
        row.update({f"budget_{k}": v for k, v in b.items()})
        saved = forecast_by_day.get(day)
        if saved is not None:
            row.update({f"forecast_{c}": float(saved[c]) for c in repo.STAT_COLUMNS})
            row["version"] = int(saved["version"])
            row["updated_by"] = saved["updated_by"]
        else:
            row.update({f"forecast_{c}": b.get(c, 0.0) for c in repo.STAT_COLUMNS})
            row["version"] = 0
            row["updated_by"] = None
        loaded = actual_by_day.get(day)
        if loaded is not None:
            row.update({f"actual_{c}": float(loaded[c]) for c in repo.STAT_COLUMNS})
        earlier = prior_by_day.get(day - st.PRIOR_YEAR_OFFSET)
        if earlier is not None:
            row.update({f"prior_{c}": float(earlier[c]) for c in repo.STAT_COLUMNS})
        rows.append(row)
    return StatisticsWindow(
        site.id,
        site.site_number,
        site.name,
        site.total_rooms,
        months,
        pd.DataFrame(rows),
        rate_frame,
    )


def _validate(
    stat_edits: list[StatisticEdit],
    rate_edits: list[RateEdit],
    total_rooms: int,
    today: dt.date,
) -> tuple[list[Problem], dict, dict]:
    problems: list[Problem] = []
    stats: dict[dt.date, dict[str, tuple[float, int]]] = {}
    rates: dict[tuple[int, int, str], tuple[float, int]] = {}
    for edit in stat_edits:
        key = edit.day.isoformat()
        value = st.parse_number(edit.value)
        message = st.validate_statistic(edit.field, value, total_rooms)
        if message is None and not is_day_editable(edit.day, today):
            message = (
                "Days before today are read-only."
                if edit.day < today
                else "Forecasts reach one year ahead."
            )
        if message:
            problems.append(Problem(key, edit.field, message))
        else:
            stats.setdefault(edit.day, {})[edit.field] = (value, int(edit.version))
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
    return problems, stats, rates


def save_forecast_inputs(
    db: Database,
    principal: Principal,
    site_id: int,
    stat_edits: list[StatisticEdit],
    rate_edits: list[RateEdit],
    today: dt.date,
    room_input: str = "occupancy",
    payroll_edits: Sequence[payroll.PayrollEdit] = (),
    payroll_mode: str | None = None,
    payroll_mode_version: int = 0,
    adjustment_edits: Sequence[adjustments.AdjustmentEdit] = (),
) -> SaveResult:
    """Save the edited inputs of a site's workspace in one transaction (see module doc):
    statistics, rates, payroll, other revenue and other expenses (``payroll_mode`` is the Group/Code choice of the month of
    the payroll edits; None keeps the stored one)."""
    result = SaveResult()
    attempted: list[Conflict] = []
    try:
        with db.write() as session:
            require_edit(session, principal, site_id, today)
            site = repo.site(session, site_id)
            problems, stats, rates = _validate(stat_edits, rate_edits, site.total_rooms, today)
            if payroll_mode is not None and payroll_mode not in payroll.MODES:
                problems.append(Problem("", "forecast mode", "Unknown payroll forecast mode."))
                payroll_mode = None
            payroll_problems, payroll_clean = payroll.validate_edits(
                session,
                site_id,
                list(payroll_edits),
                payroll_mode or payroll.stored_mode(session, site, payroll_edits),
                today,
                Problem,
            )
            problems += payroll_problems
            actualised = adjustments.actualised_months(
                session, site_id, adjustments.edit_months(adjustment_edits)
            )
            adjustment_problems, adjustment_clean = adjustments.validate_adjustments(
                list(adjustment_edits), today, actualised
            )
            problems += adjustment_problems
            months = _edited_months(stats, rates, payroll_clean, adjustment_edits)
            for (year, month), reason in submissions.edit_problems(
                session, principal, site_id, months
            ):
                problems.append(Problem(f"{year}-{month:02d}", "month", reason))
            if problems:
                result.problems = problems
                return result
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            changes = (
                sum(len(fields) for fields in stats.values())
                + len(rates)
                + len(payroll_clean)
                + len(adjustment_clean)
            )
            submissions.record_edits(session, principal, site_id, months, now, changes)
            result.saved_cells += _save_rates(session, principal, site_id, rates, now, attempted)
            _reprice_saved_days(session, site, {(y, m) for y, m, _ in rates})
            result.saved_cells += _save_days(
                session, principal, site, stats, room_input, now, attempted
            )
            result.saved_cells += payroll.save_edits(
                session,
                principal,
                site_id,
                payroll_clean,
                payroll_mode,
                payroll_mode_version,
                now,
                today,
                attempted,
                Conflict,
            )
            result.saved_cells += adjustments.save_adjustments(
                session, principal, site_id, adjustment_clean, now, attempted
            )
            if attempted:
                raise _ConflictDetected
            if result.saved_cells:
                session.flush()
                # The site's P&L, KPIs, review row and reports read the stored figures.
                figures.refresh(session, [site_id], today, (figures.FORECAST,))
    except _ConflictDetected:
        result.conflicts = attempted
        result.saved_cells = 0
    except IntegrityError:
        # Another person saved the same new row between our read and our insert.
        result.conflicts = attempted or [
            Conflict("", "", None, None, "another person (saved at the same moment)")
        ]
        result.saved_cells = 0
    if result.conflicts:
        with db.write() as session:
            for conflict in result.conflicts:
                audit.record(
                    session,
                    user_id=principal.user_id,
                    site_id=site_id,
                    action="save_refused",
                    entity="forecast_input",
                    record_key=conflict.key,
                    field=conflict.field,
                    old_value=conflict.theirs,
                    new_value=conflict.yours,
                    reason=f"conflict: saved meanwhile by {conflict.by or 'another person'}",
                )
    return result


def _edited_months(stats, rates, payroll_clean, adjustment_edits) -> set[tuple[int, int]]:
    """The forecast months a save touches (each has its own submission state)."""
    months = {(day.year, day.month) for day in stats}
    months |= {(y, m) for y, m, _ in rates}
    months |= {(e.day.year, e.day.month) for e, _ in payroll_clean}
    months |= adjustments.edit_months(adjustment_edits)
    return months


def _save_rates(session, principal, site_id, rates, now, conflicts) -> int:
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


def _save_days(session, principal, site, stats, room_input, now, conflicts) -> int:
    if not stats:
        return 0
    days = sorted(stats)
    saved = repo.forecast_rows_for_update(session, site.id, days)
    months = sorted({(d.year, d.month) for d in days})
    budget = repo.budget_months(session, site.id, months)
    rate_frame = repo.rates(
        session, site.id, sorted({y for y, _ in months}), ("budget", "forecast")
    )
    count = 0
    month_rates: dict[tuple[int, int], dict] = {}
    for day in days:
        edits = stats[day]
        versions = {version for _, version in edits.values()}
        row = saved.get(day)
        current_version = row.version if row else 0
        if versions != {current_version}:
            by = _display_name(session, row.updated_by_id) if row else None
            for name, (value, _) in edits.items():
                theirs = getattr(row, name) if row else None
                conflicts.append(Conflict(day.isoformat(), name, value, theirs, by))
            continue
        base = (
            {c: getattr(row, c) for c in repo.STAT_COLUMNS}
            if row
            else budget_day(budget, day, site.total_rooms)
        )
        inputs = {f: base.get(f, 0.0) for f in INPUT_FIELDS}
        for name, (value, _) in edits.items():
            inputs[name] = value
        mode = "occupied_rooms" if "occupied_rooms" in edits else room_input
        if "occupancy" in edits:
            mode = "occupancy"
        if (day.year, day.month) not in month_rates:
            month_rates[(day.year, day.month)] = repo.month_rates(rate_frame, day.year, day.month)
        derived = st.derive_day(inputs, site.total_rooms, month_rates[(day.year, day.month)], mode)
        values = {c: float(derived[c]) for c in repo.STAT_COLUMNS}
        written = versioned.write(
            session,
            SiteStatisticDay,
            None if row is None else row.id,
            current_version,
            values,
            user_id=principal.user_id,
            now=now,
            keys={"site_id": site.id, "day": day},
        )
        if not written:
            for name, (value, _) in edits.items():
                conflicts.append(Conflict(day.isoformat(), name, value, None, None))
                continue
        for name in INPUT_FIELDS + st.DERIVED_FIELDS:
            old = base.get(name, 0.0)
            new = values[name]
            if name in edits or abs((old or 0.0) - new) > 1e-9:
                audit.record(
                    session,
                    user_id=principal.user_id,
                    site_id=site.id,
                    action="update" if row else "insert",
                    entity="statistic_day",
                    record_key=day.isoformat(),
                    field=name,
                    old_value=old,
                    new_value=new,
                )
        count += len(edits)
    session.flush()
    return count


def _reprice_saved_days(session, site, months: set[tuple[int, int]]) -> None:
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


def _display_name(session, user_id) -> str | None:
    from dashboard.data.models import User

    return session.get(User, user_id).display_name if user_id else None


def _compact(value):
    if isinstance(value, float):
        rounded = round(value, PAYLOAD_DECIMALS)
        return int(rounded) if rounded.is_integer() else rounded
    return value


PAYLOAD_DECIMALS = 6


def window_payload(window: StatisticsWindow) -> dict:
    """The window as JSON-ready data for the browser's store (fractions, ISO days)."""
    days = window.days.copy()
    days["day"] = days["day"].map(lambda d: d.isoformat())
    keep = [c for c in days.columns if c != "updated_by"]
    records = [
        # Missing values are left out (readers use .get) and floats keep 6 decimals, far
        # below what any cell shows: this halves what the browser downloads and stores.
        {k: _compact(v) for k, v in row.items() if v is not None and v == v}
        for row in days[keep].astype(object).to_dict("records")
    ]
    return {
        "site_id": window.site_id,
        "site_number": window.site_number,
        "site_name": window.site_name,
        "total_rooms": window.total_rooms,
        "months": [list(m) for m in window.months],
        "days": records,
        "rates": {f"{y}-{m:02d}": repo.month_rates(window.rates, y, m) for y, m in window.months},
    }


TREND_DAYS = 28


def history_trend(session: Session, principal: Principal, site_id: int, today: dt.date) -> dict:
    """This year's trend against last year: Σ vehicles (and occupied rooms) over the last
    ``TREND_DAYS`` loaded days ÷ Σ over the same weekdays 52 weeks earlier (decision D10)."""
    require_view(session, principal, site_id, today)
    last = today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=TREND_DAYS - 1)
    recent = repo.statistic_days(session, site_id, "actual", first, last)
    prior = repo.statistic_days(
        session, site_id, "actual", first - st.PRIOR_YEAR_OFFSET, last - st.PRIOR_YEAR_OFFSET
    )
    vehicles = list(st.COUNT_INPUTS)
    recent_total = float(recent[vehicles].to_numpy().sum()) if len(recent) else 0.0
    prior_total = float(prior[vehicles].to_numpy().sum()) if len(prior) else 0.0
    return {
        "trend": st.history_trend(recent_total, prior_total),
        "recent_vehicles": recent_total,
        "prior_vehicles": prior_total,
        "days": len(recent),
    }


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
    editable = {f"{m:02d}": is_rate_month_editable(year, m, today) for m in range(1, 13)}
    return {"site_id": site_id, "year": year, "cells": cells, "editable": editable}
