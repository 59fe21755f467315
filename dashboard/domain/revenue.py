"""Internal revenue components per contract type (DOMAIN.md §7.2).

Pure functions on plain numbers; rates and percentages are fractions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence


def escalation_count(start: dt.date, month_start: dt.date, increment_month: int | None) -> int:
    """How many annual escalations apply in the month beginning ``month_start``.

    An escalation happens on the 1st of ``increment_month`` each year after the line started
    (a line starting on that very day is priced new), up to and including ``month_start``.
    """
    if not increment_month:
        return 0
    count = 0
    for year in range(start.year, month_start.year + 1):
        trigger = dt.date(year, increment_month, 1)
        if start < trigger <= month_start:
            count += 1
    return count


def escalated(amount: float, pct: float, escalations: int) -> float:
    """amount × (1 + pct) ** escalations (compounding)."""
    return amount * (1.0 + pct) ** escalations


def is_active(start: dt.date, end: dt.date | None, on: dt.date) -> bool:
    return start <= on and (end is None or end >= on)


def fixed_fee(
    lines: Iterable[tuple[float, dt.date, dt.date | None]],
    month_start: dt.date,
    increment_month: int | None,
    increment_pct: float,
) -> float:
    """Σ of the service fees active on the 1st of the month, each escalated (compounding)."""
    total = 0.0
    for fee, start, end in lines:
        if is_active(start, end, month_start):
            n = escalation_count(start, month_start, increment_month)
            total += escalated(fee, increment_pct, n)
    return total


def per_occupied_room(room_rate: float, occupied_rooms: float) -> float:
    """Fee per occupied room × occupied rooms of the month."""
    return room_rate * occupied_rooms


def per_labor_hour(
    rated_hours: Iterable[tuple[float, float, dt.date, dt.date | None]],
    month_start: dt.date,
    increment_month: int | None,
    increment_pct: float,
) -> float:
    """Σ over job rates active in the month of hours × regular billable rate (escalated).

    ``rated_hours`` holds (hours, regular rate, rate start, rate end) per job code.
    """
    total = 0.0
    for hours, rate, start, end in rated_hours:
        if is_active(start, end, month_start):
            n = escalation_count(start, month_start, increment_month)
            total += hours * escalated(rate, increment_pct, n)
    return total


def tiered_share(amount: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Share of ``amount`` under tiers of (lower bound, share fraction), sorted by bound first.

    Revenue in a tier = max(0, min(amount, next bound) − bound).
    """
    ordered = sorted(tiers)
    total = 0.0
    for i, (bound, pct) in enumerate(ordered):
        upper = ordered[i + 1][0] if i + 1 < len(ordered) else float("inf")
        total += max(0.0, min(amount, upper) - bound) * pct
    return total


def revenue_share_monthly(external_revenue: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Revenue share with monthly accumulation: the tiers apply to the month's revenue."""
    return tiered_share(external_revenue, tiers)
