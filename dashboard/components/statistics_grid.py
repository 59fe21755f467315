"""Statistics grid: column definitions and rows (days, weeks or months) for one page.

Rows are built from the serialised window (see ``services.statistics.window_payload``) plus
the person's unsaved edits; derived values come from ``dashboard.domain.statistics``.
Ratios travel as fractions; the grid shows and edits them as percentages.
"""

from __future__ import annotations

import calendar
import datetime as dt

from dashboard.domain import statistics as st

PERCENT_FIELDS = ("occupancy", "drive_in_ratio", "capture_ratio")
ROOM_FIELDS = (
    "occupancy",
    "occupied_rooms",
    "drive_in_ratio",
    "capture_ratio",
    "self_overnight",
    "valet_overnight",
)
COLUMN_ORDER = st.COUNT_INPUTS + st.RATIO_INPUTS
DERIVED_ORDER = ("self_overnight", "valet_overnight")
SHORT_LABELS = {
    "occupancy": "Occ %",
    "occupied_rooms": "Occ rooms",
    "valet_daily": "Valet daily",
    "valet_monthly": "Valet monthly",
    "self_daily": "Self daily",
    "self_monthly": "Self monthly",
    "self_aggregator": "Self aggr.",
    "valet_aggregator": "Valet aggr.",
    "valet_comps": "Valet comps",
    "self_comps": "Self comps",
    "drive_in_ratio": "Drive-in %",
    "capture_ratio": "Capture %",
    "self_overnight": "Self overnight",
    "valet_overnight": "Valet overnight",
    "external_revenue": "External revenue",
}


def to_display(field: str, value: float | None) -> float | None:
    if value is None:
        return None
    return round(value * 100, 4) if field in PERCENT_FIELDS else value


def from_display(field: str, value: float) -> float:
    return value / 100 if field in PERCENT_FIELDS else value


def column_defs(
    total_rooms: int, room_input: str, daily: bool, compare: str = "forecast"
) -> list[dict]:
    """Date | room input | counts | ratios | derived (read-only) — DOMAIN.md §3.3 order.

    Forecast grids are editable — ``daily`` by day, else by week or month (a total spread
    over the days: ``callbacks.statistics_edits.spread_bucket``); comparison grids are
    read-only, and the accuracy comparison shows (actual − forecast) ÷ forecast with
    arrows."""
    editing = compare == "forecast"  # daily cells, or week / month totals spread over days
    has_rooms = total_rooms > 0
    other_room = "occupied_rooms" if room_input == "occupancy" else "occupancy"

    def col(field: str, editable: bool) -> dict:
        percent = field in PERCENT_FIELDS
        spec = {
            "field": field,
            "headerName": SHORT_LABELS[field],
            "headerTooltip": st.FIELD_LABELS[field],
            "type": "rightAligned",
            "minWidth": 78,
            "valueFormatter": {
                "function": f"formatStat(params.value, {'true' if percent else 'false'})"
            },
            # One legend (``SOURCE_LEGEND``): what each forecast cell shows.
            "cellClassRules": {
                "cell-unsaved": "isUnsavedEdit(params)",
                "cell-entry": "cellSource(params) === 'entry'",
                "cell-proposal": "cellSource(params) === 'proposal'",
                "cell-budget": "cellSource(params) === 'budget'",
                "cell-readonly": "!params.data.editable" if editable else "true",
                "cell-actual": "params.data.shows_actual === true",
            },
        }
        if compare == "accuracy":
            spec["valueFormatter"] = {"function": "formatAccuracy(params.value)"}
            spec["cellClassRules"] = {"cell-readonly": "true"}
        if editable and editing:
            spec["editable"] = {"function": "params.data.editable === true"}
            # Keep exactly what was typed; the server parses and validates it.
            spec["valueParser"] = {"function": "params.newValue"}
            spec["cellDataType"] = False
        return spec

    columns = [
        {
            "field": "label",
            "headerName": "Date",
            "pinned": "left",
            "minWidth": 104,
            "cellClass": "cell-date",
            "editable": False,
        }
    ]
    if has_rooms:
        columns.append(col(room_input, True))
    columns += [col(f, True) for f in COLUMN_ORDER if has_rooms or f not in ROOM_FIELDS]
    derived = [f for f in DERIVED_ORDER if has_rooms]
    if has_rooms:
        derived.append(other_room)
    columns += [col(f, False) for f in derived]
    revenue = col("external_revenue", False)
    if compare != "accuracy":
        revenue["valueFormatter"] = {"function": "formatMoney(params.value)"}
    revenue["minWidth"] = 110
    columns.append(revenue)
    return columns


# What a forecast cell shows, as the legend above the grid names it (colours: app.css).
SOURCE_LEGEND = (
    ("cell-entry", "Entered", "a person saved this day"),
    ("cell-proposal", "Proposal", "measured from the site's history (nobody saved this day)"),
    ("cell-budget", "Budget", "the budget month spread evenly (no history to measure from)"),
    ("cell-unsaved", "Unsaved edit", "typed here, not saved yet"),
    ("cell-actual", "Actual", "a day already loaded: read-only"),
)


def day_label(day: dt.date) -> str:
    return f"{day.strftime('%a')} / {day.strftime('%b')} {day.day}"


def page_rows(payload: dict, edits: dict, month_index: int, room_input: str) -> list[dict]:
    """Daily rows of the window's ``month_index``-th month."""
    year, month = payload["months"][month_index]
    rates = payload["rates"][f"{year}-{month:02d}"]
    rows = []
    for day_row in payload["days"]:
        day = dt.date.fromisoformat(day_row["day"])
        if (day.year, day.month) != (year, month):
            continue
        values, shows_actual = st.shown_day_values(
            day_row, edits, payload["total_rooms"], rates, room_input
        )
        row = {
            "row_id": day_row["day"],
            "day": day_row["day"],
            "label": day_label(day),
            "editable": day_row["editable"],
            "version": day_row["version"],
            "shows_actual": shows_actual,
            "weekend": day.weekday() >= 5,
            "source": day_row.get("source", "budget"),
            # Fields with an unsaved edit (the derived ones follow their inputs).
            "edited": sorted(
                key.partition("|")[2] for key in edits if key.startswith(day_row["day"] + "|")
            ),
        }
        for field in SHORT_LABELS:
            row[field] = to_display(field, values.get(field, 0.0))
            row[f"budget_{field}"] = to_display(field, day_row.get(f"budget_{field}", 0.0))
        rows.append(row)
    return rows


COMPARISONS = {
    "forecast": "Forecast",
    "budget": "Budget",
    "prior": "Prior year (same weekday 52 weeks earlier)",
    "accuracy": "Forecast accuracy: (actual − forecast) ÷ forecast, past days",
}


def comparison_rows(payload: dict, month_index: int, compare: str) -> list[dict]:
    """Read-only daily rows of the budget, the prior year, or the forecast's accuracy."""
    year, month = payload["months"][month_index]
    rows = []
    for day_row in payload["days"]:
        day = dt.date.fromisoformat(day_row["day"])
        if (day.year, day.month) != (year, month):
            continue
        row = {
            "row_id": day_row["day"],
            "day": day_row["day"],
            "label": day_label(day),
            "editable": False,
            "version": day_row["version"],
            "weekend": day.weekday() >= 5,
        }
        for field in SHORT_LABELS:
            if compare == "budget":
                value = to_display(field, day_row.get(f"budget_{field}"))
            elif compare == "prior":
                value = to_display(field, day_row.get(f"prior_{field}"))
            else:
                actual = day_row.get(f"actual_{field}")
                forecast = day_row.get(f"forecast_{field}")
                value = (
                    (actual - forecast) / forecast
                    if actual is not None and not day_row["editable"] and forecast
                    else None
                )
            row[field] = value
        rows.append(row)
    return rows


def bucket_rows(
    payload: dict, edits: dict, month_index: int | None, room_input: str, view: str
) -> list[dict]:
    """Weekly (weeks of one month) or monthly (the three months) roll-ups of the forecast as
    shown; a bucket with an open day takes a typed total (``spread_bucket``)."""
    total_rooms = payload["total_rooms"]
    per_day = {}
    for day_row in payload["days"]:
        day = dt.date.fromisoformat(day_row["day"])
        rates = payload["rates"][f"{day.year}-{day.month:02d}"]
        values, _ = st.shown_day_values(day_row, edits, total_rooms, rates, room_input)
        budget = {f: day_row.get(f"budget_{f}", 0.0) for f in SHORT_LABELS}
        per_day[day] = (values, budget)
    if view == "monthly":
        buckets = [
            (
                dt.date(y, m, 1),
                dt.date(y, m, calendar.monthrange(y, m)[1]),
                f"{calendar.month_name[m]} {y}",
            )
            for y, m in payload["months"]
        ]
    else:
        year, month = payload["months"][month_index or 0]
        buckets = st.week_buckets(year, month)
    rows = []
    for first, last, label in buckets:
        days = [d for d in per_day if first <= d <= last]
        values = st.roll_up([per_day[d][0] for d in days], total_rooms)
        budget = st.roll_up([per_day[d][1] for d in days], total_rooms)
        row = {
            "row_id": first.isoformat(),
            "day": first.isoformat(),
            "last": last.isoformat(),
            "label": label,
            # A total can be typed while one day of the bucket is open; it goes to those days.
            "editable": any(
                d["editable"]
                for d in payload["days"]
                if first.isoformat() <= d["day"] <= last.isoformat()
            ),
            "version": 0,
        }
        for field in SHORT_LABELS:
            row[field] = to_display(field, values.get(field, 0.0))
            row[f"budget_{field}"] = to_display(field, budget.get(field, 0.0))
        rows.append(row)
    return rows


def month_summary(payload: dict, edits: dict, room_input: str) -> list[dict]:
    """Per month of the window: forecast vs budget vehicles, external revenue, occupancy."""
    rows = bucket_rows(payload, edits, None, room_input, "monthly")
    vehicle_fields = [f for f in st.COUNT_INPUTS if not f.endswith("comps")] + list(DERIVED_ORDER)
    summary = []
    for row in rows:
        summary.append(
            {
                "label": row["label"],
                "vehicles": sum(row[f] for f in vehicle_fields),
                "budget_vehicles": sum(row[f"budget_{f}"] for f in vehicle_fields),
                "external_revenue": row["external_revenue"],
                "budget_external_revenue": row["budget_external_revenue"],
                "occupancy": from_display("occupancy", row["occupancy"]),
                "budget_occupancy": from_display("occupancy", row["budget_occupancy"]),
            }
        )
    return summary
