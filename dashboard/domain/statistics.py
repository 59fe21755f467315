"""Site statistics derivations (DOMAIN.md §3.1, §3.5 formula 1, decision D3).

Every function works on plain floats and, unchanged, on numpy arrays or pandas Series, so the
grid, the P&L and the demo generator share one implementation.
"""

from __future__ import annotations

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


def rate_from_revenue(revenue: float, vehicles: float) -> float:
    """Budget or actual rate = revenue ÷ vehicles (0 with no vehicles)."""
    return revenue / vehicles if vehicles else 0.0
