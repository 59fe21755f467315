"""Site statistics derivations (DOMAIN.md §3.1, §3.5 formula 1, decision D3).

Every function works on plain floats and, unchanged, on numpy arrays or pandas Series, so the
grid, the P&L and the demo generator share one implementation.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

# The 8 revenue-earning categories: (count field, rate category). Overnight counts are derived.
REVENUE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("valet_daily", "valet_daily"),
    ("valet_monthly", "valet_monthly"),
    ("valet_overnight", "valet_overnight"),
    ("valet_aggregator", "valet_aggregator"),
    ("self_daily", "self_daily"),
    ("self_monthly", "self_monthly"),
    ("self_overnight", "self_overnight"),
    ("self_aggregator", "self_aggregator"),
)


# Every parked vehicle: the 8 revenue categories and the comps (DOMAIN.md §3.1), as the KPI
# pages and the forecast proposal count them.
VEHICLE_FIELDS = (
    "valet_daily",
    "valet_monthly",
    "valet_overnight",
    "valet_aggregator",
    "valet_comps",
    "self_daily",
    "self_monthly",
    "self_overnight",
    "self_aggregator",
    "self_comps",
)


def occupied_rooms_from_occupancy(occupancy, total_rooms):
    """occupied = round(occupancy × total_rooms) (half away from zero, as the reference)."""
    return np.floor(np.asarray(occupancy, dtype=float) * total_rooms + 0.5)


def occupancy_from_occupied_rooms(occupied_rooms, total_rooms):
    """occupancy = occupied ÷ total_rooms; 0 when the site has no rooms."""
    occupied = np.asarray(occupied_rooms, dtype=float)
    rooms = np.asarray(total_rooms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(rooms > 0, occupied / np.where(rooms > 0, rooms, 1), 0.0)
    return result if result.ndim else float(result)


def overnight_vehicles(occupied_rooms, drive_in_ratio, capture_ratio):
    """(valet_overnight, self_overnight) = drive_in × occupied × capture, × (1 − capture).

    Ratios are fractions. Self overnight is 0 when capture ≥ 100% (valet takes every car).
    """
    cars = np.asarray(drive_in_ratio, dtype=float) * np.asarray(occupied_rooms, dtype=float)
    capture = np.asarray(capture_ratio, dtype=float)
    valet = cars * capture
    self_park = np.where(capture >= 1.0, 0.0, cars * (1.0 - capture))
    if np.ndim(valet) == 0:
        return float(valet), float(self_park)
    return valet, self_park


def drive_in_and_capture(occupied_rooms, valet_overnight, self_overnight):
    """Inverse formulas (fractions): drive-in = overnight ÷ occupied, capture = valet ÷ overnight.

    Both are 0 when there are no occupied rooms (capture also 0 with no overnight cars).
    """
    occupied = np.asarray(occupied_rooms, dtype=float)
    valet = np.asarray(valet_overnight, dtype=float)
    overnight = valet + np.asarray(self_overnight, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        drive_in = np.where(occupied > 0, overnight / np.where(occupied > 0, occupied, 1), 0.0)
        capture = np.where(
            (occupied > 0) & (overnight > 0), valet / np.where(overnight > 0, overnight, 1), 0.0
        )
    if drive_in.ndim == 0:
        return float(drive_in), float(capture)
    return drive_in, capture


def external_revenue(counts, rates):
    """External revenue = Σ over the 8 categories of count × rate; comps earn nothing.

    ``counts`` maps count fields to numbers (or arrays); ``rates`` maps rate categories to the
    month's forecast rate (numbers or arrays aligned with the counts). A missing category
    counts as 0.
    """
    total = 0.0
    for count_field, rate_category in REVENUE_CATEGORIES:
        count = np.asarray(counts.get(count_field, 0.0), dtype=float)
        total = total + count * np.asarray(rates.get(rate_category, 0.0), dtype=float)
    return total if np.ndim(total) else float(total)


def unsaved_day_revenue(month_counts, days_in_month, rates):
    """External revenue of one day nobody saved (D3): the month's budget counts of the 8
    categories spread evenly over its days, valued at the month's forecast rates (the saved
    rate, else the budget rate). A rate change reprices every forecast day, saved or not, and
    the statistics tab and the P&L agree; with the budget's own rates (budget revenue ÷
    budget vehicles) a month nobody touched is the budget's revenue.

    ``month_counts`` maps count fields to the month's totals (numbers or arrays); ``rates``
    maps rate categories to numbers or arrays; ``days_in_month`` a number or an array."""
    days = np.asarray(days_in_month, dtype=float)
    daily = {
        count_field: np.asarray(month_counts.get(count_field, 0.0), dtype=float) / days
        for count_field, _category in REVENUE_CATEGORIES
    }
    return external_revenue(daily, rates)


def rate_from_revenue(revenue: float, vehicles: float) -> float:
    """Budget or actual rate = revenue ÷ vehicles (0 with no vehicles)."""
    return revenue / vehicles if vehicles else 0.0


# --- Inputs, validation (DOMAIN.md §3.1, §10) -------------------------------------------------

COUNT_INPUTS = (
    "valet_daily",
    "valet_monthly",
    "self_daily",
    "self_monthly",
    "self_aggregator",
    "valet_aggregator",
    "valet_comps",
    "self_comps",
)
RATIO_INPUTS = ("drive_in_ratio", "capture_ratio")
ROOM_INPUTS = ("occupancy", "occupied_rooms")  # one of them is the input, per the toggle
DERIVED_FIELDS = ("self_overnight", "valet_overnight", "external_revenue")
# Every stored statistic, in the grid's order (DOMAIN.md §3.3).
STAT_FIELDS = ROOM_INPUTS + COUNT_INPUTS + RATIO_INPUTS + DERIVED_FIELDS
MAX_VEHICLES = 99_999
MAX_RATE = 999.99

FIELD_LABELS = {
    "occupancy": "Occupancy %",
    "occupied_rooms": "Occupied rooms",
    "valet_daily": "Valet daily",
    "valet_monthly": "Valet monthly",
    "self_daily": "Self daily",
    "self_monthly": "Self monthly",
    "self_aggregator": "Self aggregator",
    "valet_aggregator": "Valet aggregator",
    "valet_comps": "Valet comps",
    "self_comps": "Self comps",
    "drive_in_ratio": "Drive-in ratio",
    "capture_ratio": "Capture ratio",
    "self_overnight": "Self overnight",
    "valet_overnight": "Valet overnight",
    "external_revenue": "External revenue",
}


def parse_number(raw) -> float | None:
    """A number from what a person typed or pasted ('1,234', ' 12.5 ', '45%'); None if it is
    not one. Empty counts as 0 (DOMAIN.md §10)."""
    if raw is None:
        return 0.0
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip().replace(",", "").removesuffix("%").strip()
        if text == "":
            return 0.0
        try:
            value = float(text)
        except ValueError:
            return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def validate_statistic(field: str, value, total_rooms: int) -> str | None:
    """Why ``value`` (already parsed; ratios as fractions) cannot be stored in ``field``, or
    None when it can."""
    label = FIELD_LABELS.get(field, field)
    if field not in COUNT_INPUTS + RATIO_INPUTS + ROOM_INPUTS:
        return f"{label} cannot be edited."
    if value is None:
        return f"{label}: enter a number."
    if value < 0:
        return f"{label} cannot be negative."
    if field in RATIO_INPUTS or field == "occupancy":
        if value > 1:
            return f"{label} cannot be over 100%."
        if total_rooms == 0 and value > 0:
            return f"{label}: this site has no rooms."
    elif field == "occupied_rooms":
        if total_rooms == 0 and value > 0:
            return f"{label}: this site has no rooms."
        if value > total_rooms:
            return f"Occupied rooms cannot exceed the site's {total_rooms:,} rooms."
        if value != int(value):
            return "Occupied rooms must be a whole number."
    elif value > MAX_VEHICLES:
        return f"{label} must be between 0 and {MAX_VEHICLES:,}."
    return None


def validate_rate(value) -> str | None:
    if value is None:
        return "Enter a rate in dollars."
    if value < 0:
        return "A rate cannot be negative."
    if value > MAX_RATE:
        return f"A rate must be between $0.00 and ${MAX_RATE:,.2f}."
    return None


def derive_day(inputs: dict, total_rooms: int, rates: dict, room_input: str = "occupancy"):
    """Complete a day's statistics from its inputs: the other room measure, overnight
    vehicles and external revenue (at the month's forecast ``rates``)."""
    row = dict(inputs)
    if total_rooms <= 0:
        row["occupancy"] = 0.0
        row["occupied_rooms"] = 0.0
        row["drive_in_ratio"] = 0.0
        row["capture_ratio"] = 0.0
    elif room_input == "occupied_rooms":
        row["occupancy"] = float(occupancy_from_occupied_rooms(row["occupied_rooms"], total_rooms))
    else:
        row["occupied_rooms"] = float(occupied_rooms_from_occupancy(row["occupancy"], total_rooms))
    row["valet_overnight"], row["self_overnight"] = overnight_vehicles(
        row["occupied_rooms"], row["drive_in_ratio"], row["capture_ratio"]
    )
    row["external_revenue"] = round(float(external_revenue(row, rates)), 2)
    return row


# --- A day as shown with unsaved edits (DOMAIN.md §3.4) ----------------------------------------


def edited_day_inputs(day_row: dict, edits: dict, iso: str) -> dict:
    """A window day's forecast inputs (saved or budget) with the unsaved ``edits`` of that
    day (keyed "YYYY-MM-DD|field") applied."""
    inputs = {
        f: day_row.get(f"forecast_{f}", 0.0) for f in ROOM_INPUTS + COUNT_INPUTS + RATIO_INPUTS
    }
    for key, value in edits.items():
        day_key, field = key.split("|")
        if day_key == iso:
            inputs[field] = value
    return inputs


def shown_day_values(
    day_row: dict, edits: dict, total_rooms: int, rates: dict, room_input: str
) -> tuple[dict, bool]:
    """A day's values as shown: actuals for past days that have them, otherwise the forecast
    (saved or budget) with the unsaved edits applied and derived values recomputed."""
    iso = day_row["day"]
    if not day_row["editable"] and day_row.get("actual_valet_daily") is not None:
        return {f: day_row.get(f"actual_{f}") for f in STAT_FIELDS}, True
    edited = any(k.startswith(iso + "|") for k in edits)
    if not edited:
        return {f: day_row.get(f"forecast_{f}", 0.0) for f in STAT_FIELDS}, False
    inputs = edited_day_inputs(day_row, edits, iso)
    mode = "occupied_rooms" if f"{iso}|occupied_rooms" in edits else room_input
    if f"{iso}|occupancy" in edits:
        mode = "occupancy"
    return derive_day(inputs, total_rooms, rates, mode), False


# --- Budget spread, roll-ups (DOMAIN.md §2.6, §3.2) ------------------------------------------


def spread_budget_month(month_budget: dict, days_in_month: int, total_rooms: int) -> dict:
    """One day's budget from the monthly budget, spread evenly across the month's days.

    Counts divide by the days; occupancy = monthly occupied ÷ (rooms × days); drive-in and
    capture follow from the monthly counts by the inverse formulas.
    """
    day = {f: month_budget.get(f, 0.0) / days_in_month for f in COUNT_INPUTS}
    occupied = month_budget.get("occupied_rooms", 0.0)
    day["occupied_rooms"] = occupied / days_in_month
    day["occupancy"] = float(occupancy_from_occupied_rooms(occupied, total_rooms * days_in_month))
    drive_in, capture = drive_in_and_capture(
        occupied, month_budget.get("valet_overnight", 0.0), month_budget.get("self_overnight", 0.0)
    )
    day["drive_in_ratio"], day["capture_ratio"] = drive_in, capture
    day["valet_overnight"] = month_budget.get("valet_overnight", 0.0) / days_in_month
    day["self_overnight"] = month_budget.get("self_overnight", 0.0) / days_in_month
    day["external_revenue"] = month_budget.get("external_revenue", 0.0) / days_in_month
    return day


def week_buckets(year: int, month: int) -> list[tuple[dt.date, dt.date, str]]:
    """Sunday–Saturday weeks of a month, cut at the month's edges: (first, last, label) with
    labels like 'June 1 - 7'."""
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    buckets = []
    start = first
    while start <= last:
        # weekday(): Monday 0 … Saturday 5, Sunday 6
        end = min(last, start + dt.timedelta(days=(5 - start.weekday()) % 7))
        label = f"{calendar.month_name[month]} {start.day} - {end.day}"
        buckets.append((start, end, label))
        start = end + dt.timedelta(days=1)
    return buckets


SUMMED_FIELDS = COUNT_INPUTS + ("occupied_rooms",) + DERIVED_FIELDS


def roll_up(days, total_rooms: int) -> dict:
    """Aggregate daily rows (dicts) into one: counts and revenue summed; occupancy re-weighted
    (Σ occupied ÷ Σ available rooms); drive-in and capture simple averages (DOMAIN.md §3.2)."""
    days = list(days)
    if not days:
        return {}
    result = {f: sum(d.get(f, 0.0) for d in days) for f in SUMMED_FIELDS}
    available = total_rooms * len(days)
    result["occupancy"] = result["occupied_rooms"] / available if available else 0.0
    for ratio in RATIO_INPUTS:
        result[ratio] = sum(d.get(ratio, 0.0) for d in days) / len(days)
    result["days"] = len(days)
    return result


def spread_total(total: float, weights) -> list[float]:
    """``total`` over days in proportion to ``weights`` (a day profile, e.g. the proposal's:
    weekday pattern and holidays), evenly when the weights are all 0 (or negative, or not
    numbers). The parts add up to ``total``: the last part is the total less the others, so
    a typed week or month total reads back as typed."""
    clean = [w if isinstance(w, int | float) and w > 0 and w == w else 0.0 for w in weights]
    if not clean:
        return []
    weight_sum = sum(clean)
    if weight_sum <= 0:
        clean, weight_sum = [1.0] * len(clean), float(len(clean))
    parts = [total * w / weight_sum for w in clean[:-1]]
    return [*parts, total - sum(parts)]


def spread_whole(total: int, weights) -> list[int]:
    """``spread_total`` in whole units (rooms, vehicles) adding up to ``total`` exactly: each
    day the whole part of its share, the units left over to the days with the largest
    fractions (the earliest first on a tie)."""
    shares = spread_total(float(total), weights)
    whole = [int(np.floor(x + 1e-9)) for x in shares]
    left = int(total) - sum(whole)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - whole[i]), i))
    for i in order[:left]:
        whole[i] += 1
    return whole


# --- The prior year (decision D7) ------------------------------------------------------------

PRIOR_YEAR_OFFSET = dt.timedelta(days=364)  # same weekday 52 weeks earlier (decision D7)
