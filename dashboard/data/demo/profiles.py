"""Demand profiles of the demo world (DOMAIN.md §12.4): what kind of place each site is, and
how its demand moves through the year, the week and the holidays.

A site's *kind* follows its name (a "Beach Resort" is a resort, "Downtown Suites" a business
hotel, an "Office Tower Garage" serves commuters) and its *climate* its market (winter-sun
markets peak in February–March, mountain markets in winter and summer, the rest in summer).
Pure functions of those two; ``operations`` turns them into days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.data.demo.calendar import HOLIDAY_WINDOWS, holiday_matrix

# --- Kinds ------------------------------------------------------------------------------------

BUSINESS, RESORT, LEISURE, AIRPORT_HOTEL = "business", "resort", "leisure", "airport_hotel"
HOSPITAL, COMMUTER, CITY_PARKING = "hospital", "commuter", "city_parking"
RETAIL, VENUE, AIRPORT_PARKING = "retail", "venue", "airport_parking"
HOTEL_KINDS = (BUSINESS, RESORT, LEISURE, AIRPORT_HOTEL)
KINDS = (*HOTEL_KINDS, HOSPITAL, COMMUTER, CITY_PARKING, RETAIL, VENUE, AIRPORT_PARKING)

# The property names of ``master`` (the last words of a site's name) -> kind.
KIND_OF_NAME = {
    "Grand Hotel": BUSINESS,
    "Convention Center Hotel": BUSINESS,
    "Downtown Suites": BUSINESS,
    "Plaza Hotel": BUSINESS,
    "Towers": BUSINESS,
    "Resort & Spa": RESORT,
    "Beach Resort": RESORT,
    "Conference Resort": RESORT,
    "Golf Resort": RESORT,
    "Harbor View Hotel": LEISURE,
    "Riverfront Inn": LEISURE,
    "Park Hotel": LEISURE,
    "Marina Hotel": LEISURE,
    "Airport Hotel": AIRPORT_HOTEL,
    "Arena Lot": VENUE,
    "Stadium Garage": VENUE,
    "Airport Lot": AIRPORT_PARKING,
    "Office Tower Garage": COMMUTER,
    "Transit Lot": COMMUTER,
    "Mall Garage": RETAIL,
    "Surface Lot": CITY_PARKING,
    "Garage": CITY_PARKING,
    "Street Lot": CITY_PARKING,
}


def kind_of(name: str, market: str, segment: str) -> str:
    """The kind of a site from its name ("<market> <property>[ <n>]"); hospitals by segment."""
    if segment == "Healthcare":
        return HOSPITAL
    words = name.removeprefix(market).strip().split(" ")
    if words and words[-1].isdigit():
        words = words[:-1]
    return KIND_OF_NAME.get(" ".join(words), CITY_PARKING)


# --- Climates ---------------------------------------------------------------------------------

SUMMER, WINTER_SUN, MOUNTAIN = "summer", "winter_sun", "mountain"
WINTER_SUN_MARKETS = frozenset(
    {
        "Miami",
        "Orlando",
        "Tampa",
        "Phoenix",
        "Scottsdale",
        "Palm Springs",
        "Tucson",
        "Honolulu",
        "Las Vegas",
        "New Orleans",
        "San Antonio",
        "Houston",
        "Austin",
    }
)
MOUNTAIN_MARKETS = frozenset({"Denver", "Salt Lake City", "Reno", "Boise"})
# Coastal markets where a hurricane can close a site for a few days (August–October).
HURRICANE_MARKETS = frozenset(
    {"Miami", "Tampa", "Orlando", "New Orleans", "Houston", "Charleston", "Savannah"}
)


def climate_of(market: str) -> str:
    """A market's climate (a numbered market, "Boston 2", is Boston's)."""
    base = market.rstrip("0123456789 ")
    if base in WINTER_SUN_MARKETS:
        return WINTER_SUN
    if base in MOUNTAIN_MARKETS:
        return MOUNTAIN
    return SUMMER


# --- Seasonality ------------------------------------------------------------------------------

# Relative demand in the middle of each month, January first, before a site's own amplitude.
RESORT_SEASON = {
    SUMMER: (0.60, 0.64, 0.78, 0.90, 1.05, 1.30, 1.45, 1.40, 1.08, 0.92, 0.72, 0.74),
    WINTER_SUN: (1.22, 1.38, 1.42, 1.20, 0.98, 0.85, 0.86, 0.76, 0.66, 0.84, 1.00, 1.14),
    MOUNTAIN: (1.30, 1.32, 1.14, 0.78, 0.72, 1.04, 1.22, 1.12, 0.90, 0.76, 0.78, 1.20),
}
SEASON = {
    # Conventions in spring and autumn, a soft summer, a deep holiday trough.
    BUSINESS: (0.78, 0.90, 1.04, 1.08, 1.08, 1.02, 0.88, 0.90, 1.08, 1.12, 0.98, 0.74),
    AIRPORT_HOTEL: (0.92, 0.93, 1.02, 1.02, 1.03, 1.06, 1.08, 1.05, 1.00, 1.00, 0.96, 0.92),
    HOSPITAL: (1.02, 1.03, 1.01, 1.00, 0.99, 0.98, 0.97, 0.98, 1.00, 1.01, 1.00, 1.00),
    COMMUTER: (0.98, 1.01, 1.03, 1.02, 1.01, 0.98, 0.93, 0.94, 1.03, 1.04, 1.01, 0.94),
    CITY_PARKING: (0.92, 0.94, 1.00, 1.02, 1.04, 1.05, 1.04, 1.03, 1.00, 1.00, 0.98, 0.98),
    RETAIL: (0.86, 0.84, 0.95, 0.97, 1.00, 1.00, 1.02, 1.05, 0.95, 0.97, 1.10, 1.38),
    VENUE: (0.85, 0.90, 1.00, 1.05, 1.05, 1.10, 1.12, 1.08, 1.10, 1.02, 0.92, 0.85),
    AIRPORT_PARKING: (0.92, 0.90, 1.06, 1.02, 1.02, 1.10, 1.14, 1.08, 0.96, 1.00, 1.02, 1.06),
}
RESORT_AMPLITUDE = 0.85  # scales the resort seasons above (in logs)
# How much of the climate's resort season each kind carries (exponent on RESORT_SEASON).
CLIMATE_WEIGHT = {RESORT: 1.0, LEISURE: 0.55, BUSINESS: 0.15, CITY_PARKING: 0.2}


def season_levels(kind: str, climate: str) -> np.ndarray:
    """Relative demand in the middle of each month (12 values, geometric mean 1)."""
    resort = RESORT_AMPLITUDE * np.log(np.asarray(RESORT_SEASON[climate]))
    if kind in (RESORT, LEISURE):
        log = CLIMATE_WEIGHT[kind] * resort
    else:
        log = np.log(np.asarray(SEASON[kind])) + CLIMATE_WEIGHT.get(kind, 0.0) * resort
    return np.exp(log - log.mean())


_MID_MONTH = np.array(
    [15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]
)


def season_curve(levels: np.ndarray, day_of_year: np.ndarray, amplitude: float = 1.0):
    """Daily seasonal factor: the log of ``levels`` (mid-month values) interpolated around the
    year (no step at a month's edge), × ``amplitude`` (a site stronger or milder than its
    kind's profile)."""
    log = np.log(np.asarray(levels, dtype=float)) * amplitude
    x = np.concatenate([_MID_MONTH - 365.0, _MID_MONTH, _MID_MONTH + 365.0])
    y = np.concatenate([log, log, log])
    return np.exp(np.interp(np.asarray(day_of_year, dtype=float), x, y))


def month_ratio(levels: np.ndarray, amplitude: float = 1.0, year: int = 2025) -> float:
    """Busiest ÷ quietest month of ``season_curve`` (monthly means of the days of ``year``)."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    curve = season_curve(levels, days.day_of_year.to_numpy() - 0.5, amplitude)
    means = pd.Series(curve).groupby(days.month.to_numpy()).mean()
    return float(means.max() / means.min())


# --- Weekdays ---------------------------------------------------------------------------------

# Monday first; each averages 1 over the week.
WEEKDAY = {
    BUSINESS: (1.02, 1.18, 1.20, 1.08, 0.82, 0.76, 0.94),
    RESORT: (0.86, 0.84, 0.88, 0.96, 1.18, 1.30, 0.98),
    LEISURE: (0.90, 0.90, 0.94, 1.00, 1.12, 1.22, 0.92),
    AIRPORT_HOTEL: (1.04, 1.08, 1.08, 1.04, 0.96, 0.86, 0.94),
    HOSPITAL: (1.16, 1.15, 1.12, 1.10, 1.05, 0.72, 0.70),
    COMMUTER: (1.16, 1.22, 1.22, 1.16, 1.04, 0.62, 0.58),
    CITY_PARKING: (1.00, 1.00, 1.02, 1.05, 1.12, 0.98, 0.83),
    RETAIL: (0.84, 0.82, 0.86, 0.92, 1.10, 1.40, 1.06),
    VENUE: (0.80, 0.82, 0.90, 1.00, 1.18, 1.30, 1.00),
    AIRPORT_PARKING: (1.04, 0.98, 0.96, 1.00, 1.06, 0.96, 1.00),
}
# A hotel's day visitors (restaurants, events, meetings) peak on Friday and Saturday.
HOTEL_VISITORS = (0.92, 0.95, 0.98, 1.02, 1.12, 1.15, 0.86)

# --- Holidays ---------------------------------------------------------------------------------

# Demand on the days of each holiday window (``calendar.HOLIDAY_WINDOWS``) against an
# ordinary day of the same weekday; windows not named move nothing.
HOLIDAY_EFFECT = {
    BUSINESS: {
        "new_year": 0.45,
        "mlk": 0.9,
        "presidents": 0.9,
        "easter": 0.8,
        "memorial": 0.7,
        "july4": 0.55,
        "labor": 0.7,
        "thanksgiving_eve": 0.7,
        "thanksgiving": 0.4,
        "black_friday": 0.45,
        "thanksgiving_weekend": 0.6,
        "christmas": 0.35,
        "holiday_week": 0.5,
    },
    RESORT: {
        "new_year": 1.25,
        "mlk": 1.1,
        "presidents": 1.15,
        "easter": 1.15,
        "memorial": 1.2,
        "july4": 1.25,
        "labor": 1.2,
        "thanksgiving_eve": 1.1,
        "thanksgiving": 1.1,
        "black_friday": 1.2,
        "thanksgiving_weekend": 1.15,
        "holiday_week": 1.3,
    },
    LEISURE: {
        "new_year": 1.15,
        "mlk": 1.05,
        "presidents": 1.08,
        "easter": 1.08,
        "memorial": 1.12,
        "july4": 1.15,
        "labor": 1.1,
        "black_friday": 1.1,
        "christmas": 0.85,
        "holiday_week": 1.15,
    },
    AIRPORT_HOTEL: {
        "new_year": 0.8,
        "thanksgiving_eve": 1.1,
        "thanksgiving": 0.7,
        "christmas": 0.6,
        "holiday_week": 0.9,
    },
    HOSPITAL: {
        "new_year": 0.6,
        "mlk": 0.9,
        "presidents": 0.9,
        "easter": 0.85,
        "memorial": 0.75,
        "july4": 0.65,
        "labor": 0.75,
        "thanksgiving": 0.55,
        "black_friday": 0.8,
        "christmas": 0.55,
        "holiday_week": 0.85,
    },
    COMMUTER: {
        "new_year": 0.3,
        "mlk": 0.6,
        "presidents": 0.65,
        "easter": 0.8,
        "memorial": 0.45,
        "july4": 0.3,
        "labor": 0.45,
        "thanksgiving_eve": 0.8,
        "thanksgiving": 0.2,
        "black_friday": 0.45,
        "christmas": 0.25,
        "holiday_week": 0.55,
    },
    CITY_PARKING: {
        "new_year": 0.7,
        "memorial": 0.85,
        "july4": 0.8,
        "labor": 0.85,
        "thanksgiving": 0.5,
        "christmas": 0.45,
        "holiday_week": 0.85,
    },
    RETAIL: {
        "new_year": 0.6,
        "easter": 0.7,
        "memorial": 1.1,
        "july4": 0.7,
        "labor": 1.1,
        "thanksgiving": 0.25,
        "black_friday": 1.9,
        "thanksgiving_weekend": 1.4,
        "christmas": 0.45,
        "holiday_week": 1.25,
    },
    VENUE: {"new_year": 1.4, "july4": 1.3},
    AIRPORT_PARKING: {
        "new_year": 0.9,
        "presidents": 1.1,
        "easter": 1.1,
        "memorial": 1.15,
        "july4": 1.1,
        "labor": 1.15,
        "thanksgiving_eve": 1.3,
        "thanksgiving": 0.8,
        "thanksgiving_weekend": 1.15,
        "christmas": 0.85,
        "holiday_week": 1.2,
    },
}


def holiday_factors(days: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Per kind, the holiday factor of every day (1 on ordinary days)."""
    windows = holiday_matrix(days)
    out = {}
    for kind in KINDS:
        effect = np.array([HOLIDAY_EFFECT[kind].get(name, 1.0) for name in HOLIDAY_WINDOWS])
        out[kind] = np.exp(np.log(effect) @ windows)
    return out


def saturate(x, cap: float = 0.995, sharpness: float = 12.0):
    """Occupancy from demand: ≈ x while well below ``cap``, bending smoothly towards it (a
    hotel sells out: peak weeks are flatter than the demand behind them)."""
    x = np.asarray(x, dtype=float)
    return x / (1.0 + (x / cap) ** sharpness) ** (1.0 / sharpness)
