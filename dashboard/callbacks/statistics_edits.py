"""Unsaved statistics edits of the workspace: one typed cell (``apply_cell``) and a whole
month filled from the proposal or the budget (``fill_month``), validated by the domain rules
as they are made. Pure: the window payload and the edits in, new edits out."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from dashboard.components import statistics_grid as grid
from dashboard.components.formatting import money, percent
from dashboard.domain import statistics as st
from dashboard.domain import submission as sm
from dashboard.domain.pnl import variance
from dashboard.services.statistics import proposal_value


def apply_cell(edits: dict, payload: dict, day: str, field: str, raw, from_display: bool):
    """New edits with one cell set, or (None, message) when the value is refused."""
    day_row = next((d for d in payload["days"] if d["day"] == day), None)
    if day_row is None or not day_row["editable"]:
        return None, f"{day}: days before today are read-only."
    value = st.parse_number(raw)
    if value is not None and from_display:
        value = grid.from_display(field, value)
    message = st.validate_statistic(field, value, payload["total_rooms"])
    if message:
        label = grid.day_label(dt.date.fromisoformat(day))
        return None, f"{label} · {message}"
    updated = dict(edits)
    forecast = day_row.get(f"forecast_{field}")
    key = f"{day}|{field}"
    if forecast is not None and abs(forecast - value) < 1e-9:
        updated.pop(key, None)  # typed back to the saved value: no longer an edit
    else:
        updated[key] = value
    # Occupancy and occupied rooms are two views of one input: keep only the last one typed.
    if field in st.ROOM_INPUTS:
        other = "occupied_rooms" if field == "occupancy" else "occupancy"
        updated.pop(f"{day}|{other}", None)
    return updated, None


@dataclass(frozen=True)
class Fill:
    """What ``fill_month`` did: the new edits, the days changed, the message to show and
    whether the month's change against the budget is above the variance thresholds."""

    edits: dict
    days: int
    message: str
    warning: bool = False


def _month_revenue(payload: dict, edits: dict, prefix: str, room_input: str) -> tuple[float, float]:
    """(forecast as shown with ``edits``, budget) external revenue of the month's forecast
    days (days that show actuals are the books: left out of both)."""
    rates = payload["rates"][prefix]
    shown = budget = 0.0
    for day_row in payload["days"]:
        if not day_row["day"].startswith(prefix):
            continue
        values, shows_actual = st.shown_day_values(
            day_row, edits, payload["total_rooms"], rates, room_input
        )
        if shows_actual:
            continue
        shown += float(values["external_revenue"])
        budget += float(day_row.get("budget_external_revenue") or 0.0)
    return shown, budget


def fill_month(
    payload: dict,
    edits: dict,
    year: int,
    month: int,
    source: str,
    room_input: str,
    limits: sm.Thresholds,
) -> Fill:
    """Every open day of the month takes ``source``'s values ("proposal": the stored
    proposal; "budget": the budget month's even spread) for each input, as unsaved edits; a
    day already showing them is left alone. The message gives the month's external revenue
    before and after against the budget, and warns when the filled month is off the budget
    by the variance thresholds (§7.5: % or $)."""
    prefix = f"{year}-{month:02d}"
    label = f"{calendar.month_name[month]} {year}"
    has_rooms = payload["total_rooms"] > 0
    room_field = "occupied_rooms" if room_input == "occupied_rooms" else "occupancy"
    fields = [
        f
        for f in (room_field, *st.COUNT_INPUTS, *st.RATIO_INPUTS)
        if has_rooms or f not in (*st.ROOM_INPUTS, *st.RATIO_INPUTS)
    ]
    before, budget = _month_revenue(payload, edits, prefix, room_input)
    updated, days, missing = dict(edits), 0, 0
    for day_row in payload["days"]:
        if not (day_row["editable"] and day_row["day"].startswith(prefix)):
            continue
        if source == "proposal" and proposal_value(day_row, fields[0]) is None:
            missing += 1
            continue
        rates = payload["rates"][prefix]
        shown, _ = st.shown_day_values(day_row, updated, payload["total_rooms"], rates, room_input)
        changed = False
        for field in fields:
            target = (
                proposal_value(day_row, field)
                if source == "proposal"
                else day_row.get(f"budget_{field}")
            )
            target = float(target or 0.0)
            if abs(float(shown.get(field) or 0.0) - target) < 1e-6:
                continue
            result, problem = apply_cell(
                updated, payload, day_row["day"], field, target, from_display=False
            )
            if problem is None:
                updated, changed = result, True
        days += changed
    what = "the proposal" if source == "proposal" else "the budget's even spread"
    if not days:
        reason = (
            f"No open day of {label} has a proposal yet (the proposal job has not run for "
            "this site)."
            if source == "proposal" and missing
            else f"Every open day of {label} already shows {what}."
        )
        return Fill(edits, 0, reason)
    done = f"Filled {days} day(s) of {label} from {what}"
    message, warning = month_change(payload, edits, updated, year, month, room_input, limits, done)
    return Fill(updated, days, message, warning=warning)


def month_change(
    payload: dict,
    before_edits: dict,
    after_edits: dict,
    year: int,
    month: int,
    room_input: str,
    limits: sm.Thresholds,
    done: str,
) -> tuple[str, bool]:
    """What a fill or a spread did to the month (the guard rail, §7.5): its external
    revenue before → after against the budget, not saved yet; and whether it is off the
    budget by the variance thresholds (% or $), with a warning in the message."""
    prefix = f"{year}-{month:02d}"
    before, budget = _month_revenue(payload, before_edits, prefix, room_input)
    after, _ = _month_revenue(payload, after_edits, prefix, room_input)
    amount, fraction = variance(after, budget)
    flag = sm.variance_flag("external_revenue", after, budget, limits)
    vs_budget = f"{money(amount)} ({percent(fraction)})" if fraction is not None else money(amount)
    label = f"{calendar.month_name[month]} {year}"
    message = (
        f"{done}: {label} external revenue {money(before)} → {money(after)}, {vs_budget} vs "
        "budget. Not saved yet: review, then Save — or Undo."
    )
    if flag is not None:
        message = (
            "⚠ "
            + message
            + f" Its external revenue is off the budget by more than the variance threshold "
            f"({percent(limits.pct)} or {money(limits.amount)}); the live impact panel shows "
            "what that does to FLC."
        )
    return message, flag is not None


def _weights(days: list[dict], field: str) -> list[float]:
    """The day profile a total is spread by: the proposal's, else the budget's (even)."""
    for weights in (
        [proposal_value(day, field) for day in days],
        [day.get(f"budget_{field}") for day in days],
    ):
        if all(w is not None for w in weights) and sum(weights) > 0:
            return [float(w) for w in weights]
    return [1.0] * len(days)


def spread_bucket(
    edits: dict,
    payload: dict,
    first: str,
    last: str,
    field: str,
    raw,
    room_input: str,
) -> tuple[dict | None, str | None]:
    """A total typed in the Weekly or Monthly view (days ``first`` .. ``last``), as day edits
    of its open days (§14: daily entry far ahead is wasted effort), or (None, message):

    * a count or occupied rooms: the total less what the past days of the bucket hold, spread
      by the proposal's day profile (weekday pattern, holidays; ``st.spread_total``);
    * occupancy: the occupied rooms it means over the bucket's days, spread the same way;
    * drive-in and capture (averaged by the roll-up): every open day the value that makes
      the bucket's average the one typed.

    The bucket's roll-up then reads back what was typed. All days or none: a day the rules
    refuse refuses the whole total."""
    label = f"{grid.day_label(dt.date.fromisoformat(first))} – {grid.day_label(dt.date.fromisoformat(last))}"
    value = st.parse_number(raw)
    if value is None:
        return None, f"{label} · Enter a number."
    value = grid.from_display(field, value)
    rooms = payload["total_rooms"]
    days = [d for d in payload["days"] if first <= d["day"] <= last]
    open_days = [d for d in days if d["editable"]]
    if not open_days:
        return None, f"{label} · Every day of it is past or locked: nothing to change."
    shown = {
        d["day"]: st.shown_day_values(d, edits, rooms, payload["rates"][d["day"][:7]], room_input)[
            0
        ]
        for d in days
    }
    closed = [d["day"] for d in days if not d["editable"]]
    if field in (*st.COUNT_INPUTS, "occupied_rooms", "occupancy"):
        measure = "occupied_rooms" if field in st.ROOM_INPUTS else field
        target = value * rooms * len(days) if field == "occupancy" else value
        fixed = sum(float(shown[d].get(measure) or 0.0) for d in closed)
        if target < fixed - 1e-9:
            held = (
                grid.to_display(field, fixed / (rooms * len(days)))
                if field == "occupancy"
                else fixed
            )
            unit = "%" if field == "occupancy" else ""
            return None, (
                f"{label} · Its past days already hold {held:,.1f}{unit}: the total cannot be less."
            )
        rest = max(target - fixed, 0.0)
        weights = _weights(open_days, measure)
        if measure == "occupied_rooms":  # whole rooms: to the nearest room of the total
            parts = st.spread_whole(round(rest), weights)
            if field == "occupancy":
                parts = [part / rooms for part in parts]
        elif float(rest).is_integer():  # a whole number of vehicles: whole vehicles a day
            parts = st.spread_whole(int(rest), weights)
        else:
            parts = st.spread_total(rest, weights)
    elif field in st.RATIO_INPUTS:
        fixed = sum(float(shown[d].get(field) or 0.0) for d in closed)
        parts = [(value * len(days) - fixed) / len(open_days)] * len(open_days)
    else:
        return None, f"{label} · {field} is not an input."
    updated = dict(edits)
    for day, part in zip(open_days, parts, strict=True):
        result, problem = apply_cell(updated, payload, day["day"], field, part, from_display=False)
        if problem:
            return None, f"{label} · {problem}"
        updated = result
    return updated, None
