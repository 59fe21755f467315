"""Statistics of one site: the 3-month window the Workspace shows, and the statistics step
of the workspace save.

``load_window`` gathers budget, forecast, actual and prior-year days (``window_payload`` makes
them JSON-ready for the browser). The save step runs inside the workspace's save transaction
(``workspace_save.save_forecast_inputs`` checks scope, opens the transaction and audits refused
attempts): ``validate_statistic_edits`` collects every problem at once (lock rule D2 included),
``save_days`` checks each day's version, recomputes the derived values here (never trusted
from the browser) and appends audit rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from dashboard.data import statistics_repo as repo
from dashboard.data.models import Site, SiteStatisticDay
from dashboard.domain import statistics as st
from dashboard.domain.periods import add_months, days_in_month
from dashboard.services import audit, month_locks, submissions, versioned
from dashboard.services.save_results import Conflict, Problem
from dashboard.services.scope import Principal, ScopeError, visible_sites

WINDOW_MONTHS = 3
FORWARD_LIMIT_DAYS = submissions.FORWARD_LIMIT_DAYS  # input up to a year ahead (§3.6)
INPUT_FIELDS = st.ROOM_INPUTS + st.COUNT_INPUTS + st.RATIO_INPUTS
# What a forecast day shows, best first: a person's entry, the stored proposal
# (``dashboard.services.proposals``), the budget month spread evenly.
SOURCE_ENTRY, SOURCE_PROPOSAL, SOURCE_BUDGET = "entry", "proposal", "budget"
SOURCES = (SOURCE_ENTRY, SOURCE_PROPOSAL, SOURCE_BUDGET)


@dataclass(frozen=True)
class StatisticEdit:
    """One edited cell: ``version`` is the forecast row's version the person saw (0 = none).

    Values are in storage units: ratios and occupancy as fractions (the grid converts the
    percentages people type)."""

    day: dt.date
    field: str
    value: object
    version: int = 0


def window_months(start_year: int, start_month: int) -> list[tuple[int, int]]:
    return [add_months(start_year, start_month, i) for i in range(WINDOW_MONTHS)]


def is_day_editable(day: dt.date, today: dt.date) -> bool:
    """Decision D2: days before today are read-only; today and later editable (a year ahead)."""
    return today <= day <= today + dt.timedelta(days=FORWARD_LIMIT_DAYS)


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
    # One per day: day, editable, budget_*, forecast_*, version, updated_by, and actual_* /
    # prior_* where loaded. Values keep PAYLOAD_DECIMALS decimals (what the browser gets).
    # ``source``: what the forecast columns show — a person's entry, the stored proposal, or
    # the budget's even spread (``SOURCES``); an entry's day with a proposal carries it as
    # ``proposal_*`` (``proposal_value``).
    records: list[dict]
    rates: dict[tuple[int, int], dict[str, float]]  # per month the rate of each category
    # Per month why the person may not change it (None: they may; days before today are
    # read-only for everyone): ``month_locks.month_edit_blocks``.
    locks: dict[tuple[int, int], str | None] = field(default_factory=dict)

    @cached_property
    def days(self) -> pd.DataFrame:
        """The records as a frame (one row per day)."""
        return pd.DataFrame(self.records)


_BUDGET_KEYS = [f"budget_{c}" for c in repo.STAT_COLUMNS]
# Where the stored proposal's columns and the inputs sit among STAT_COLUMNS.
_PROPOSED_AT = [repo.STAT_COLUMNS.index(c) for c in repo.PROPOSED_COLUMNS]
_INPUT_AT = [(f, repo.STAT_COLUMNS.index(f)) for f in INPUT_FIELDS]
_FORECAST_KEYS = [f"forecast_{c}" for c in repo.STAT_COLUMNS]
_ACTUAL_KEYS = [f"actual_{c}" for c in repo.STAT_COLUMNS]
_PRIOR_KEYS = [f"prior_{c}" for c in repo.STAT_COLUMNS]


def load_window(
    session: Session,
    principal: Principal,
    site_id: int,
    start: tuple[int, int],
    today: dt.date,
    exact: bool = False,
) -> StatisticsWindow:
    """Everything the statistics page shows for a site and 3 months from ``start``: four
    statements (the site within the person's scope, budgets, days, rates), the values of
    every day placed in one array and rounded at once to ``PAYLOAD_DECIMALS`` — unless
    ``exact`` (the live panel: it derives an edited day as the save will, from the exact
    budget spread; rounded ratios can move a day's revenue by a cent)."""
    site = repo.visible_site(session, site_id, visible_sites(principal, today))
    if site is None:
        raise ScopeError("This site is not in your scope.")
    months = window_months(*start)
    first = dt.date(*months[0], 1)
    last = dt.date(*months[-1], days_in_month(*months[-1]))
    budget = repo.budget_month_values(session, site_id, months)
    offset = st.PRIOR_YEAR_OFFSET
    # One statement: the window's saved forecast and actuals, and the actuals a year before
    # (52 weeks: the spans never overlap, so (kind, day) keys them apart).
    rows = repo.statistic_day_rows(
        session,
        site_id,
        [
            ("forecast", first, last),
            ("actual", first - offset, last - offset),
            ("actual", first, last),
        ],
    )
    rates = repo.window_rates(session, site_id, months)
    proposed = repo.proposal_rows(session, site_id, max(first, today), last)
    locks = month_locks.month_edit_blocks(session, principal, site_id, months, today)

    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    position = {day: i for i, day in enumerate(days)}
    width = len(repo.STAT_COLUMNS)
    # Columns: budget, forecast (entry > proposal > budget), actual, prior year.
    values = np.full((len(days), 4 * width), np.nan)
    revenue_column = repo.STAT_COLUMNS.index("external_revenue")
    for ym in months:
        month_budget = budget.get(ym, {})
        b = st.spread_budget_month(month_budget, days_in_month(*ym), site.total_rooms)
        spread = [b.get(c, 0.0) for c in repo.STAT_COLUMNS]
        chosen = [i for i, day in enumerate(days) if (day.year, day.month) == ym]
        values[chosen, :width] = spread
        # A day nobody saved: the budget's counts at the month's forecast rates (D3).
        spread[revenue_column] = st.unsaved_day_revenue(month_budget, days_in_month(*ym), rates[ym])
        values[chosen, width : 2 * width] = spread
    # A day nobody saved shows its stored proposal, priced at the month's forecast rates.
    sources = [SOURCE_BUDGET] * len(days)
    proposal_at: dict[int, int] = {}  # window row -> row of ``block``
    if proposed:
        rows_at = [position[row[0]] for row in proposed]
        proposal_at = {i: k for k, i in enumerate(rows_at)}
        block = np.zeros((len(proposed), width))
        block[:, _PROPOSED_AT] = np.array([row[2:] for row in proposed], dtype=float)
        day_rates = [rates[(row[0].year, row[0].month)] for row in proposed]
        block[:, revenue_column] = st.external_revenue(
            {c: block[:, repo.STAT_COLUMNS.index(c)] for c, _ in st.REVENUE_CATEGORIES},
            {c: np.array([r.get(c, 0.0) for r in day_rates]) for _f, c in st.REVENUE_CATEGORIES},
        )
        values[rows_at, width : 2 * width] = block
        for i in rows_at:
            sources[i] = SOURCE_PROPOSAL
    versions = [0] * len(days)
    editors: list[str | None] = [None] * len(days)
    has_actual = [False] * len(days)
    has_prior = [False] * len(days)
    for kind, _id, day, version, updated_by, *fields in rows:
        if kind == "forecast":
            i = position[day]
            values[i, width : 2 * width] = fields
            versions[i], editors[i] = int(version), updated_by
            sources[i] = SOURCE_ENTRY
        elif day in position:
            i = position[day]
            values[i, 2 * width : 3 * width] = fields
            has_actual[i] = True
        else:
            i = position[day + offset]
            values[i, 3 * width :] = fields
            has_prior[i] = True
    # Floats keep 6 decimals, far below what any cell shows: this halves what the browser
    # downloads and stores.
    rounded = (values if exact else np.round(values, PAYLOAD_DECIMALS)).tolist()
    records = []
    for i, day in enumerate(days):
        line = rounded[i]
        open_month = locks.get((day.year, day.month)) is None
        row = {"day": day, "editable": open_month and is_day_editable(day, today)}
        row.update(zip(_BUDGET_KEYS, line[:width], strict=True))
        row.update(zip(_FORECAST_KEYS, line[width : 2 * width], strict=True))
        if sources[i] == SOURCE_ENTRY and i in proposal_at:
            # What "Fill month from proposal" types over an entry (a day that shows its
            # proposal has it in its forecast columns already).
            proposal = block[proposal_at[i]]
            row.update({f"proposal_{f}": round(float(proposal[k]), 6) for f, k in _INPUT_AT})
        row["version"] = versions[i]
        row["source"] = sources[i]
        row["updated_by"] = editors[i]
        if has_actual[i]:
            row.update(zip(_ACTUAL_KEYS, line[2 * width : 3 * width], strict=True))
        if has_prior[i]:
            row.update(zip(_PRIOR_KEYS, line[3 * width :], strict=True))
        records.append(row)
    return StatisticsWindow(
        site.id,
        site.site_number,
        site.name,
        site.total_rooms,
        months,
        records,
        rates,
        locks,
    )


def proposal_value(day_row: dict, field: str) -> float | None:
    """The stored proposal of a window day's input ``field`` (None: the day has none)."""
    if day_row.get("source") == SOURCE_PROPOSAL:
        return day_row.get(f"forecast_{field}")
    return day_row.get(f"proposal_{field}")


# day -> {field: (value, version the person saw)}
CleanStatistics = dict[dt.date, dict[str, tuple[float, int]]]


def validate_statistic_edits(
    stat_edits: list[StatisticEdit], total_rooms: int, today: dt.date
) -> tuple[list[Problem], CleanStatistics]:
    """Every refused statistics cell, and the accepted ones as day -> field -> (value,
    version)."""
    problems: list[Problem] = []
    stats: CleanStatistics = {}
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
    return problems, stats


def save_days(
    session: Session,
    principal: Principal,
    site: Site,
    stats: CleanStatistics,
    room_input: str,
    now: dt.datetime,
    conflicts: list[Conflict],
) -> int:
    """Write accepted statistics edits of one site, derived values recomputed from the day's
    inputs and month's rates; returns cells saved. Version mismatches are appended to
    ``conflicts``; the caller rolls the transaction back when there are any."""
    if not stats:
        return 0
    days = sorted(stats)
    saved = repo.forecast_rows_for_update(session, site.id, days)
    months = sorted({(d.year, d.month) for d in days})
    budget = repo.budget_months(session, site.id, months)
    proposed = repo.proposal_days(session, site.id, days[0], days[-1])
    rate_frame = repo.rates(
        session, site.id, sorted({y for y, _ in months}), ("budget", "forecast")
    )
    count = 0
    trail: list[dict] = []
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
        if (day.year, day.month) not in month_rates:
            month_rates[(day.year, day.month)] = repo.month_rates(rate_frame, day.year, day.month)
        if row:
            base = {c: getattr(row, c) for c in repo.STAT_COLUMNS}
        elif day in proposed:  # the day shows its proposal: the edit starts from it
            base = dict(proposed[day][1])
            base["external_revenue"] = st.external_revenue(base, month_rates[(day.year, day.month)])
        else:
            base = budget_day(budget, day, site.total_rooms)
        inputs = {f: base.get(f, 0.0) for f in INPUT_FIELDS}
        for name, (value, _) in edits.items():
            inputs[name] = value
        mode = "occupied_rooms" if "occupied_rooms" in edits else room_input
        if "occupancy" in edits:
            mode = "occupancy"
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
            continue  # the caller rolls back: no audit rows for a day not written
        for name in INPUT_FIELDS + st.DERIVED_FIELDS:
            old = base.get(name, 0.0)
            new = values[name]
            if name in edits or abs((old or 0.0) - new) > 1e-9:
                trail.append(
                    {
                        "user_id": principal.user_id,
                        "site_id": site.id,
                        "action": "update" if row else "insert",
                        "entity": "statistic_day",
                        "record_key": day.isoformat(),
                        "field": name,
                        "old_value": old,
                        "new_value": new,
                    }
                )
        count += len(edits)
    audit.record_all(session, trail)  # one statement for the whole save
    session.flush()
    return count


def _display_name(session, user_id) -> str | None:
    from dashboard.data.models import User

    return session.get(User, user_id).display_name if user_id else None


PAYLOAD_DECIMALS = 6


def window_payload(window: StatisticsWindow) -> dict:
    """The window as JSON-ready data for the browser's store (fractions, ISO days, values
    already rounded by ``load_window``; the editor's name is left out)."""
    records = []
    for row in window.records:
        record = dict(row)
        record["day"] = row["day"].isoformat()
        del record["updated_by"]
        records.append(record)
    return {
        "site_id": window.site_id,
        "site_number": window.site_number,
        "site_name": window.site_name,
        "total_rooms": window.total_rooms,
        "months": [list(m) for m in window.months],
        "days": records,
        "rates": {f"{y}-{m:02d}": window.rates[(y, m)] for y, m in window.months},
        "locks": {f"{y}-{m:02d}": window.locks.get((y, m)) for y, m in window.months},
    }
