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
        if source == "proposal" and f"proposal_{fields[0]}" not in day_row:
            missing += 1
            continue
        rates = payload["rates"][prefix]
        shown, _ = st.shown_day_values(day_row, updated, payload["total_rooms"], rates, room_input)
        changed = False
        for field in fields:
            target = float(day_row.get(f"{source}_{field}") or 0.0)
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
    after, _ = _month_revenue(payload, updated, prefix, room_input)
    amount, fraction = variance(after, budget)
    flag = sm.variance_flag("external_revenue", after, budget, limits)
    vs_budget = f"{money(amount)} ({percent(fraction)})" if fraction is not None else money(amount)
    message = (
        f"Filled {days} day(s) of {label} from {what}: external revenue {money(before)} → "
        f"{money(after)}, {vs_budget} vs budget. Not saved yet: review, then Save — or Undo."
    )
    if flag is not None:
        message = (
            "⚠ "
            + message
            + f" Its external revenue is off the budget by more than the variance threshold "
            f"({percent(limits.pct)} or {money(limits.amount)}); the live impact panel shows "
            "what that does to FLC."
        )
    return Fill(updated, days, message, warning=flag is not None)
