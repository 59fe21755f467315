"""The dates a demo portfolio spans, from ``today`` alone, and the holidays of its world."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain import forecast


@dataclass(frozen=True)
class Calendar:
    """Actuals are stored from 1 January two years back through yesterday; budgets cover
    last, this and next year; the modelled days run from 1 November three years back (the
    months the first budget is made from) to the end of next year."""

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
    def world_start(self) -> dt.date:
        return dt.date(self.year - 3, 11, 1)

    @property
    def model_end(self) -> dt.date:
        return dt.date(self.year + 1, 12, 31)


# --- Holidays ---------------------------------------------------------------------------------


# Easter and the n-th weekday of a month: the proposal's calendar (one definition), re-exported
# for the generator's holiday windows.
easter_sunday = forecast.easter_sunday
nth_weekday = forecast.nth_weekday


HOLIDAY_WINDOWS = (
    "new_year",  # New Year's Eve and Day
    "mlk",  # Martin Luther King Jr. Day weekend (Saturday to Monday)
    "presidents",  # Presidents' Day weekend
    "easter",  # Good Friday to Easter Sunday
    "memorial",  # Memorial Day weekend
    "july4",
    "labor",  # Labor Day weekend
    "thanksgiving_eve",
    "thanksgiving",
    "black_friday",
    "thanksgiving_weekend",
    "christmas",  # Christmas Eve and Day
    "holiday_week",  # 26 to 30 December
)


def holiday_windows(year: int) -> dict[str, list[dt.date]]:
    """The days of each holiday window of ``year`` (``HOLIDAY_WINDOWS``): the US holidays
    that move demand, with the long weekends around them."""
    day = dt.timedelta(days=1)
    easter = easter_sunday(year)
    mlk = nth_weekday(year, 1, 0, 3)
    presidents = nth_weekday(year, 2, 0, 3)
    memorial = nth_weekday(year, 5, 0, -1)
    labor = nth_weekday(year, 9, 0, 1)
    thanksgiving = nth_weekday(year, 11, 3, 4)
    return {
        "new_year": [dt.date(year, 1, 1), dt.date(year, 12, 31)],
        "mlk": [mlk - 2 * day, mlk - day, mlk],
        "presidents": [presidents - 2 * day, presidents - day, presidents],
        "easter": [easter - 2 * day, easter - day, easter],
        "memorial": [memorial - 2 * day, memorial - day, memorial],
        "july4": [dt.date(year, 7, 4)],
        "labor": [labor - 2 * day, labor - day, labor],
        "thanksgiving_eve": [thanksgiving - day],
        "thanksgiving": [thanksgiving],
        "black_friday": [thanksgiving + day],
        "thanksgiving_weekend": [thanksgiving + 2 * day, thanksgiving + 3 * day],
        "christmas": [dt.date(year, 12, 24), dt.date(year, 12, 25)],
        "holiday_week": [dt.date(year, 12, d) for d in range(26, 31)],
    }


def holiday_matrix(days: pd.DatetimeIndex) -> np.ndarray:
    """Booleans (len(HOLIDAY_WINDOWS), len(days)): whether each day is in each window."""
    out = np.zeros((len(HOLIDAY_WINDOWS), len(days)), dtype=bool)
    index = {d: i for i, d in enumerate(days.date)}
    for year in range(days[0].year, days[-1].year + 1):
        for w, name in enumerate(HOLIDAY_WINDOWS):
            for d in holiday_windows(year)[name]:
                i = index.get(d)
                if i is not None:
                    out[w, i] = True
    return out
