"""Shared input controls of the pages."""

from __future__ import annotations

import datetime as dt

from dashboard.components.formatting import month_label
from dashboard.domain.periods import add_months


def month_options(today: dt.date) -> list[dict[str, str]]:
    """Months of the previous, current and next year (DOMAIN.md §3.2 starting-year options)."""
    first = (today.year - 1, 1)
    return [
        {"value": f"{y}-{m:02d}", "label": month_label(y, m)}
        for y, m in (add_months(*first, i) for i in range(36))
    ]
