"""Calendar rules: months, closed months, edit windows (DOMAIN.md §2.7, decision D2)."""

from __future__ import annotations

import calendar
import datetime as dt


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def last_closed_month(today: dt.date) -> tuple[int, int]:
    """The latest month whose books are closed: the month before the current one."""
    return add_months(today.year, today.month, -1)


def is_closed(year: int, month: int, today: dt.date) -> bool:
    return (year, month) <= last_closed_month(today)
