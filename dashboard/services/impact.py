"""Live impact of unsaved workspace edits on a site's P&L (issue: revenue engine and P&L).

While someone edits statistics, rates or payroll, the workspace shows for each month of its
window the external revenue, internal revenue, payroll, FLC and FLC against budget *as they
will be once the edits are saved*. The edits are turned into changes of the month's forecast
drivers (``pnl.DriverChange``) exactly as the save would store them, and the P&L is computed
by the same engine as the P&L page (``pnl.pnl_lines``): one set of formulas.

Edits arrive from the browser, so they are checked again here: an edit the save would refuse
(malformed, out of range, a locked day, a code the site does not use) is left out and counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from dashboard.domain import payroll as pr
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import statistics as st
from dashboard.services import payroll, statistics
from dashboard.services import pnl as pnl_service
from dashboard.services import rates as rates_service
from dashboard.services.scope import Principal, require_view

EDITABLE_STATISTICS = st.ROOM_INPUTS + st.COUNT_INPUTS + st.RATIO_INPUTS
Key = tuple[int, int]  # (year, month)


@dataclass
class _Change:
    external_revenue: float = 0.0
    occupied_rooms: float = 0.0
    payroll: float = 0.0
    hours: dict[int, float] | None = None

    def frozen(self) -> pnl_service.DriverChange:
        return pnl_service.DriverChange(
            self.external_revenue, self.occupied_rooms, self.payroll, dict(self.hours or {})
        )


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    return st.parse_number(value)


def clean_statistic_edits(window: dict, edits: dict) -> tuple[dict, int]:
    """The statistic edits the save would accept (editable day of the window, known field,
    valid value), and how many were left out."""
    days = {d["day"]: d for d in window["days"]}
    clean, skipped = {}, 0
    for key, raw in (edits or {}).items():
        day, _, field_name = str(key).partition("|")
        value = _number(raw)
        row = days.get(day)
        if (
            row is None
            or not row["editable"]
            or field_name not in EDITABLE_STATISTICS
            or value is None
            or st.validate_statistic(field_name, value, window["total_rooms"])
        ):
            skipped += 1
            continue
        clean[key] = value
    return clean, skipped


def clean_rate_edits(window: dict, edits: dict, today: dt.date) -> tuple[dict, int]:
    """Rate edits of the window's months as {"YYYY-MM": {category: rate}}, and how many were
    left out (malformed, out of range, a closed month; other months do not touch the window)."""
    months = {f"{y}-{m:02d}" for y, m in window["months"]}
    clean: dict[str, dict[str, float]] = defaultdict(dict)
    skipped = 0
    for key, edit in (edits or {}).items():
        month, _, category = str(key).partition("|")
        value = _number(edit.get("value")) if isinstance(edit, dict) else None
        try:
            year, number = int(month[:4]), int(month[5:7])
        except ValueError:
            skipped += 1
            continue
        if (
            value is None
            or st.validate_rate(value)
            or category not in window["rates"].get(month, {})
            or not rates_service.is_rate_month_editable(year, number, today)
        ):
            skipped += 1
            continue
        if month in months:
            clean[month][category] = value
    return dict(clean), skipped


def statistics_changes(
    window: dict, stat_edits: dict, rate_edits: dict, room_input: str
) -> dict[Key, _Change]:
    """Per month of the window: what the edits add to external revenue and occupied rooms.

    A day that shows actuals is the ledger's, not the forecast's, and does not move. An edited
    day is derived as the grid shows it; any forecast day of a month whose rates change is
    repriced: a saved day as the save reprices it (to the cent, as stored), a day nobody saved
    at the new rates (``statistics.unsaved_day_revenue``, as the P&L prices it)."""
    changes: dict[Key, _Change] = {}
    for row in window["days"]:
        iso = row["day"]
        month = iso[:7]
        edited = any(key.startswith(iso + "|") for key in stat_edits)
        month_rates = rate_edits.get(month)
        saved = int(row.get("version") or 0) > 0
        if not edited and not month_rates:
            continue
        rates = {**window["rates"][month], **(month_rates or {})}
        if edited:
            values, shows_actual = st.shown_day_values(
                row, stat_edits, window["total_rooms"], rates, room_input
            )
            if shows_actual:
                continue
            revenue, rooms = values["external_revenue"], values["occupied_rooms"]
        else:
            if not row["editable"] and row.get("actual_valet_daily") is not None:
                continue  # a day that shows actuals: the ledger's, not the forecast's
            counts = {f: row.get(f"forecast_{f}", 0.0) for f in st.STAT_FIELDS}
            revenue = float(st.external_revenue(counts, rates))
            if saved:
                revenue = round(revenue, 2)
            rooms = row.get("forecast_occupied_rooms", 0.0)
        change = changes.setdefault((int(iso[:4]), int(iso[5:7])), _Change())
        change.external_revenue += revenue - row.get("forecast_external_revenue", 0.0)
        change.occupied_rooms += rooms - row.get("forecast_occupied_rooms", 0.0)
    return changes


def clean_payroll_edits(data: dict, edits: dict, mode: str) -> tuple[dict, int]:
    """The payroll edits of one month the save would accept in ``mode`` (Group mode edits
    groups, Code mode codes), and how many were left out."""
    groups = {g["id"] for g in data["groups"] if payroll.editable_codes(data, g["id"])}
    codes = {c["id"]: c for c in data["codes"]}
    clean, skipped = {}, 0
    for key, raw in edits.items():
        day, _, target = str(key).partition("|")
        value = _number(raw)
        try:
            target_id = int(target[1:])
        except ValueError:
            target_id = None
        known = (target.startswith("g") and target_id in groups) or (
            target.startswith("c") and target_id in codes and not codes[target_id]["salaried"]
        )
        level = pr.GROUP_LEVEL if target.startswith("g") else pr.CODE_LEVEL
        if (
            not known
            or not data["editable"].get(day)
            or value is None
            or pr.validate_hours(value)
            # Locked days are already out (``editable``): only the level rule is left.
            or pr.payroll_edit_block_reason(dt.date.max, dt.date.min, mode, level)
        ):
            skipped += 1
            continue
        clean[key] = round(value, 2)
    return clean, skipped


def payroll_change(data: dict, edits: dict, mode: str) -> _Change:
    """What a month's payroll edits add to its payroll cost and hours per job code, priced as
    the save prices them (group rate in Group mode, the code's rate in Code mode)."""
    hours = payroll.code_hours_with_edits(data, edits)
    cost = payroll.code_cost(data, mode, hours)
    change = _Change(hours={})
    for key in payroll.touched_keys(data, edits):
        cell = data["cells"][key]
        code = int(key.split("|")[1])
        change.payroll += cost[key] - cell["fc"]
        change.hours[code] = change.hours.get(code, 0.0) + hours[key] - cell["f"]
    return change


def _month_figures(lines: pd.DataFrame, year: int, month: int) -> dict:
    row = lines[(lines["year"] == year) & (lines["month"] == month)]
    if row.empty:
        return dict.fromkeys(("external_revenue", "internal_revenue", "payroll", "flc"), 0.0)
    first = row.iloc[0]
    return {
        "external_revenue": float(first["external_revenue"]),
        "internal_revenue": float(first["internal_revenue"]),
        "payroll": float(first["payroll"]),
        "flc": float(first["flc"]),
        "kind": first["kind"],
        "ir_fallback": first["ir_fallback"],
    }


def live_impact(
    session: Session,
    principal: Principal,
    site_id: int,
    start: Key,
    today: dt.date,
    stat_edits: dict | None = None,
    rate_edits: dict | None = None,
    payroll_edits: dict | None = None,
    payroll_mode: str | None = None,
    room_input: str = "occupancy",
) -> dict:
    """The window's months with the P&L figures as saved and as they will be with the edits.

    Returns ``months``: per month label, kind (actual | trending | forecast), and for
    external revenue, internal revenue, payroll and FLC the value with the edits, the budget
    FLC, FLC − budget ($, the % text — "n/a" when the budget is 0 — and its bold and negative
    flags, as on the P&L page) and the FLC change the
    edits make; ``edits_counted`` and ``edits_skipped`` (edits the save would refuse).
    """
    require_view(session, principal, site_id, today)
    window = statistics.window_payload(
        statistics.load_window(session, principal, site_id, start, today, exact=True)
    )
    months = [tuple(m) for m in window["months"]]
    room_input = room_input if room_input in st.ROOM_INPUTS else "occupancy"
    stats, skipped_stats = clean_statistic_edits(window, stat_edits or {})
    rates, skipped_rates = clean_rate_edits(window, rate_edits or {}, today)
    changes = statistics_changes(window, stats, rates, room_input)
    counted = len(stats) + sum(len(v) for v in rates.values())
    skipped = skipped_stats + skipped_rates

    by_month: dict[Key, dict] = defaultdict(dict)
    for key, value in (payroll_edits or {}).items():
        day = str(key).split("|")[0]
        try:
            when = dt.date.fromisoformat(day)
        except ValueError:
            skipped += 1
            continue
        by_month[(when.year, when.month)][key] = value
    for (year, month), month_edits in sorted(by_month.items()):
        data = payroll.load_month(session, principal, site_id, year, month, today)
        mode = payroll_mode if payroll_mode in payroll.MODES else data["mode"]
        clean, left_out = clean_payroll_edits(data, month_edits, mode)
        skipped += left_out
        if not clean:
            continue
        counted += len(clean)
        made = payroll_change(data, clean, mode)
        change = changes.setdefault((year, month), _Change())
        change.payroll += made.payroll
        change.hours = {**(change.hours or {})}
        for code, hours in (made.hours or {}).items():
            change.hours[code] = change.hours.get(code, 0.0) + hours

    frozen = {(site_id, y, m): c.frozen() for (y, m), c in changes.items()}
    years = sorted({y for y, _ in months})
    # As saved: the stored figures (no engine run when nothing is edited: the workspace
    # opening); with the edits: the engine, on the saved inputs + the edits' driver changes.
    saved = pd.concat([pnl_service.pnl_lines(session, [site_id], y, today) for y in years])
    edited = (
        pd.concat(
            [
                pnl_service.pnl_line_variants(session, [site_id], y, today, [frozen])[0]
                for y in years
            ]
        )
        if frozen
        else saved
    )
    budget = pd.concat([pnl_service.basis_lines(session, [site_id], y) for y in years])
    rows = []
    for year, month in months:
        now = _month_figures(edited, year, month)
        before = _month_figures(saved, year, month)
        budget_flc = _month_figures(budget, year, month)["flc"]
        shown = pnl_domain.variance_display(now["flc"], budget_flc)
        rows.append(
            {
                "year": year,
                "month": month,
                "label": dt.date(year, month, 1).strftime("%b %Y"),
                "kind": now.get("kind", pnl_domain.FORECAST_MONTH),
                "ir_fallback": now.get("ir_fallback"),
                "external_revenue": round(now["external_revenue"], 2),
                "internal_revenue": round(now["internal_revenue"], 2),
                "payroll": round(now["payroll"], 2),
                "flc": round(now["flc"], 2),
                "budget_flc": round(budget_flc, 2),
                "flc_vs_budget": round(shown.amount, 2),
                "flc_vs_budget_pct": shown.percent,
                "flc_vs_budget_bold": shown.bold,
                "flc_vs_budget_negative": shown.negative,
                "flc_change": round(now["flc"] - before["flc"], 2),
            }
        )
    return {"months": rows, "edits_counted": counted, "edits_skipped": skipped}
