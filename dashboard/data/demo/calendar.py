"""The dates a demo portfolio spans, from ``today`` alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Calendar:
    """Actuals run from 1 January two years back through yesterday; budgets cover last, this
    and next year; the modelled days run to the end of next year."""

    today: dt.date

    @property
    def year(self) -> int:
        return self.today.year

    @property
    def budget_years(self) -> tuple[int, int, int]:
        return (self.year - 1, self.year, self.year + 1)

    @property
    def first_actual(self) -> dt.date:
        return dt.date(self.year - 2, 1, 1)

    @property
    def last_actual(self) -> dt.date:
        return self.today - dt.timedelta(days=1)

    @property
    def model_end(self) -> dt.date:
        return dt.date(self.year + 1, 12, 31)
