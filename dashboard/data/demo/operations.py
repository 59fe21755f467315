"""Operations of the demo world (DOMAIN.md §3, §4, §5, §12.3, §12.4): every day's statistics,
the parking rates collected, and the hours and cost of every job code, from three years back
to the end of next year (stored: statistics from 1 January two years back and payroll from
1 January through yesterday, schedules for the next two weeks).

A site's demand on a day is the product of

* its **season** (``profiles.season_levels`` of its kind and climate, × a site amplitude):
  a seaside resort's busiest month sells about 1.8× the rooms of its quietest, a business
  hotel's spring and autumn beat its holiday trough, a hospital is flat;
* its **weekday** pattern (business hotels Tuesday–Wednesday, resorts Friday–Saturday,
  hospitals and commuter garages on weekdays, malls on Saturday);
* **holidays** (``calendar.holiday_windows``: Christmas empties a business hotel and fills a
  resort; Black Friday fills a mall garage);
* **events**: group blocks and conventions, weddings, games and concerts at venues, citywide
  events shared by every site of a market, hurricanes in Gulf and Atlantic markets,
  renovations that take rooms out of order for one to three months;
* **growth** of its own (−8% … +12% a year), and for some sites a **lasting step** (a
  competitor opens, a tenant arrives) at a date of their history;
* **noise**: a daily part, a part that lasts a few days and a slow part that lasts months,
  so that a site runs above or below its pattern for a while; counts are Poisson draws
  around the demand.

Hotels turn demand into occupancy (bending towards sell-out, ``profiles.saturate``);
overnight cars are occupied rooms × drive-in × capture, and resort guests drive more in
season. Aggregator bookings grow 20–60% a year from the day a site joined a platform.
Collected rates are the posted rates (raised in January or July) × the site's collection
rate × a seasonal yield at resorts × a little noise. Labor hours follow volume.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo import profiles
from dashboard.data.demo.calendar import Calendar
from dashboard.data.demo.master import JOB_CODES, Organisation
from dashboard.domain import statistics
from dashboard.domain.periods import last_closed_month

RATE_CATEGORIES = tuple(category for _field, category in statistics.REVENUE_CATEGORIES)

# Events a year per kind: (count, days (low, high), lift (low, high)).
SITE_EVENTS = {
    profiles.BUSINESS: (10, (2, 4), (1.1, 1.4)),
    profiles.RESORT: (10, (2, 3), (1.1, 1.35)),
    profiles.LEISURE: (8, (1, 3), (1.1, 1.35)),
    profiles.AIRPORT_HOTEL: (5, (1, 2), (1.2, 1.5)),
    profiles.HOSPITAL: (0, (1, 1), (1.0, 1.0)),
    profiles.COMMUTER: (2, (1, 2), (1.1, 1.3)),
    profiles.CITY_PARKING: (12, (1, 2), (1.3, 1.8)),
    profiles.RETAIL: (6, (2, 3), (1.2, 1.4)),
    profiles.VENUE: (70, (1, 1), (2.0, 4.0)),
    profiles.AIRPORT_PARKING: (2, (1, 3), (1.1, 1.3)),
}
# How much a citywide event moves each kind (an exponent on the event's lift).
CITYWIDE_WEIGHT = {
    profiles.BUSINESS: 1.0,
    profiles.LEISURE: 0.7,
    profiles.RESORT: 0.3,
    profiles.AIRPORT_HOTEL: 0.5,
    profiles.CITY_PARKING: 1.0,
    profiles.VENUE: 0.5,
    profiles.RETAIL: 0.3,
}
# Noise of steady places against the others' (hospitals and commuter garages fill alike
# every week).
NOISE_SCALE = {profiles.HOSPITAL: 0.5, profiles.COMMUTER: 0.6, profiles.AIRPORT_PARKING: 0.8}
OCCUPANCY = {  # a hotel's mean occupancy before its season (low, high)
    profiles.BUSINESS: (0.62, 0.80),
    profiles.RESORT: (0.56, 0.72),
    profiles.LEISURE: (0.58, 0.76),
    profiles.AIRPORT_HOTEL: (0.66, 0.82),
}


@dataclass
class World:
    """Every modelled day of every site.

    ``actual`` holds the statistics (``statistics.STAT_FIELDS``) as arrays of sites × days;
    ``driver`` and ``expected_driver`` the labor driver (the site's vehicles against its
    mean of the last year, with and without the surprises: events, noise), and
    ``cars_per_day`` that mean; ``list_rate`` and ``actual_rate``
    the posted and collected rate per category as sites × months; ``agg_start`` the day index
    from which a site takes aggregator bookings (0: before the world began; len(days): never).
    """

    calendar: Calendar
    days: pd.DatetimeIndex
    months: list[tuple[int, int]]
    month_of_day: np.ndarray
    actual: dict[str, np.ndarray]
    driver: np.ndarray
    expected_driver: np.ndarray
    cars_per_day: np.ndarray
    list_rate: dict[str, np.ndarray]
    actual_rate: dict[str, np.ndarray]
    agg_start: np.ndarray
    season_month: np.ndarray  # sites × 12: mean seasonal factor of each calendar month

    def day_index(self, day: dt.date) -> int:
        return int((pd.Timestamp(day) - self.days[0]).days)

    def month_index(self, year: int, month: int) -> int:
        first = self.months[0]
        return (year - first[0]) * 12 + month - first[1]

    def monthly(self, daily: np.ndarray) -> np.ndarray:
        """Σ of a (rows × days) array per month: rows × months."""
        starts = np.flatnonzero(np.r_[True, np.diff(self.month_of_day) != 0])
        return np.add.reduceat(daily, starts, axis=1)


def _ar1(rng: np.random.Generator, shape, phi: float, sigma: float) -> np.ndarray:
    """An AR(1) series along the last axis with stationary standard deviation ``sigma``."""
    shocks = rng.normal(0.0, sigma * np.sqrt(1.0 - phi * phi), shape)
    out = np.empty(shape)
    out[:, 0] = rng.normal(0.0, sigma, shape[0])
    for t in range(1, shape[1]):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


def _events(
    rng: np.random.Generator, org: Organisation, days: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Lifts of surprises, sites × days: (demand events, rooms out of order)."""
    n, n_days = len(org.site), len(days)
    years = n_days / 365.25
    weekday = days.day_of_week.to_numpy()
    events = np.zeros((n, n_days))  # log lifts
    for i, kind in enumerate(org.kind):
        per_year, (d_low, d_high), (low, high) = SITE_EVENTS[kind]
        k = rng.poisson(per_year * years)
        if not k:
            continue
        if kind == profiles.VENUE:  # games and concerts: mostly Thursday to Sunday
            weights = np.where(weekday >= 3, 3.0, 1.0)
            at = rng.choice(n_days, size=k, p=weights / weights.sum())
        else:
            at = rng.integers(0, n_days, k)
        length = rng.integers(d_low, d_high + 1, k)
        lift = np.log(rng.uniform(low, high, k))
        for a, ln, lf in zip(at, length, lift, strict=True):
            events[i, a : a + ln] += lf
    # Citywide events and hurricanes, shared by every site of a market.
    for market in np.unique(org.market):
        sites = np.flatnonzero(org.market == market)
        weight = np.array([CITYWIDE_WEIGHT.get(k, 0.0) for k in org.kind[sites]])
        k = rng.poisson(3 * years)
        for a, ln, lf in zip(
            rng.integers(0, n_days, k),
            rng.integers(1, 5, k),
            np.log(rng.uniform(1.2, 1.6, k)),
            strict=True,
        ):
            events[sites, a : a + ln] += weight[:, None] * lf
        if market.rstrip("0123456789 ") in profiles.HURRICANE_MARKETS:
            for year in range(days[0].year, days[-1].year + 1):
                if rng.random() < 0.35:
                    start = dt.date(year, 8, 15) + dt.timedelta(days=int(rng.integers(0, 60)))
                    a = int((pd.Timestamp(start) - days[0]).days)
                    if 0 <= a < n_days:
                        events[sites, a : a + int(rng.integers(3, 7))] += np.log(
                            rng.uniform(0.25, 0.5)
                        )
    # Renovations: rooms out of order for one to three months at ~5% of hotels.
    out_of_order = np.zeros((n, n_days))
    for i in np.flatnonzero(org.is_hotel & (rng.random(n) < 0.05)):
        a = int(rng.integers(0, n_days - 30))
        out_of_order[i, a : a + int(rng.integers(30, 90))] = np.log(rng.uniform(0.65, 0.85))
    return events, out_of_order


def build_world(rng: np.random.Generator, org: Organisation, calendar: Calendar) -> World:
    """Every day's statistics and rates of every site (see the module)."""
    site = org.site
    n = len(site)
    days = pd.date_range(calendar.world_start, calendar.model_end, freq="D")
    n_days = len(days)
    weekday = days.day_of_week.to_numpy()
    day_of_year = days.day_of_year.to_numpy() - 0.5
    months = sorted({(d.year, d.month) for d in days})
    month_of_day = (days.year.to_numpy() - months[0][0]) * 12 + days.month.to_numpy() - months[0][1]
    years_from_today = (days - pd.Timestamp(calendar.today)).days.to_numpy() / 365.25

    kinds = list(profiles.KINDS)
    kind_idx = np.array([kinds.index(k) for k in org.kind])
    hotel = org.is_hotel
    rooms = site["total_rooms"].to_numpy().astype(float)
    spaces = site["parking_spaces"].to_numpy().astype(float)

    # Season: the kind × climate curve, × a site amplitude (in logs).
    amplitude = rng.uniform(0.8, 1.2, n)
    log_season = np.empty((n, n_days))
    season_month = np.empty((n, 12))
    for kind, climate in {(k, c) for k, c in zip(org.kind, org.climate, strict=True)}:
        sel = (org.kind == kind) & (org.climate == climate)
        levels = profiles.season_levels(kind, climate)
        curve = np.log(profiles.season_curve(levels, day_of_year))
        log_season[sel] = amplitude[sel, None] * curve[None, :]
        year = pd.date_range("2025-01-01", "2025-12-31", freq="D")
        by_month = pd.Series(profiles.season_curve(levels, year.day_of_year - 0.5))
        monthly = np.log(by_month.groupby(year.month.to_numpy()).mean().to_numpy())
        season_month[sel] = np.exp(amplitude[sel, None] * monthly[None, :])
    week = np.array([profiles.WEEKDAY[k] for k in kinds])[kind_idx][:, weekday]
    holiday_by_kind = profiles.holiday_factors(days)
    log_holiday = np.log(np.stack([holiday_by_kind[k] for k in kinds]))[kind_idx]

    growth = np.clip(rng.normal(0.025, 0.05, n), -0.08, 0.12)
    log_trend = growth[:, None] * years_from_today[None, :]
    shifted = rng.random(n) < 0.12
    shift_at = rng.integers(0, n_days, n)
    shift = np.where(rng.random(n) < 0.5, rng.uniform(0.82, 0.92, n), rng.uniform(1.08, 1.2, n))
    log_shift = np.where(
        shifted[:, None] & (np.arange(n_days)[None, :] >= shift_at[:, None]),
        np.log(shift)[:, None],
        0.0,
    )
    events, out_of_order = _events(rng, org, days)

    # Noise: a part that lasts months, one that lasts days, and the day's own.
    calm = np.array([NOISE_SCALE.get(k, 1.0) for k in org.kind])[:, None]
    slow = _ar1(rng, (n, n_days), 0.985, 0.025)
    fast = _ar1(rng, (n, n_days), 0.6, 0.06)
    log_noise = calm * (slow + fast)
    expected_log = log_season + np.log(week) + log_holiday + log_trend + log_shift

    # Hotels: rooms, then overnight cars.
    occ_low = np.array([OCCUPANCY.get(k, (0, 0))[0] for k in org.kind])
    occ_high = np.array([OCCUPANCY.get(k, (0, 0))[1] for k in org.kind])
    occ_mean = np.where(hotel, rng.uniform(occ_low, occ_high), 0.0)
    room_demand = np.exp(
        expected_log + events + out_of_order + log_noise + rng.normal(0, 0.045, (n, n_days))
    )
    occupancy = profiles.saturate(occ_mean[:, None] * room_demand) * hotel[:, None]
    occupied = statistics.occupied_rooms_from_occupancy(occupancy, rooms[:, None])
    leisure = np.isin(org.kind, (profiles.RESORT, profiles.LEISURE))
    drive_base = np.where(hotel, rng.uniform(0.20, 0.60, n), 0.0)
    weekend_night = np.isin(weekday, (4, 5))
    drive = drive_base[:, None] * np.exp(
        np.where(leisure[:, None], 0.15 * log_season + 0.06 * weekend_night[None, :], 0.0)
        + rng.normal(0, 0.05, (n, n_days))
    )
    drive = np.clip(drive, 0.0, 1.0)
    full_valet = rng.random(n) < 0.2
    capture_base = np.where(hotel, np.where(full_valet, 1.0, rng.uniform(0.40, 0.95, n)), 0.0)
    capture = np.where(
        full_valet[:, None],
        1.0,
        np.clip(capture_base[:, None] + rng.normal(0, 0.03, (n, n_days)), 0, 0.99),
    )
    valet_on, self_on = statistics.overnight_vehicles(occupied, drive, capture * hotel[:, None])
    actual = {
        "occupied_rooms": occupied,
        "valet_overnight": np.round(valet_on),
        "self_overnight": np.round(self_on),
    }

    # Day visitors (hotels) and parkers (every other site).
    visitor_expected = np.where(
        hotel[:, None],
        0.7 * (log_season + log_holiday)
        + np.log(np.array(profiles.HOTEL_VISITORS)[weekday])[None, :]
        + log_trend
        + log_shift,
        expected_log,
    )
    visitor_events = np.where(hotel[:, None], 0.7 * events, events)
    demand = np.exp(
        visitor_expected + visitor_events + log_noise + calm * rng.normal(0, 0.06, (n, n_days))
    )
    segment = site["business_segment"].to_numpy()
    turnover = np.where(hotel, rng.uniform(0.04, 0.14, n), rng.uniform(0.25, 0.8, n))
    transient = spaces * turnover
    valet_share = np.select(
        [hotel, segment == "Healthcare", segment == "Airport/Other"],
        [np.clip(capture_base, 0.3, 1.0), rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.25, n)],
        0.0,
    )
    actual["valet_daily"] = rng.poisson(transient[:, None] * valet_share[:, None] * demand)
    actual["self_daily"] = rng.poisson(transient[:, None] * (1 - valet_share[:, None]) * demand)

    # Aggregator bookings: sites join a platform (some before the world began, some lately)
    # and grow 20–60% a year from then on.
    self_agg = np.where(rng.random(n) < 0.4, rng.uniform(1, 20, n), 0.0)
    valet_agg = np.where((valet_share > 0) & (rng.random(n) < 0.25), rng.uniform(1, 8, n), 0.0)
    late = rng.random(n) < 0.45
    today_index = int((pd.Timestamp(calendar.today) - days[0]).days)
    agg_start = np.where(late, rng.integers(0, max(today_index - 60, 1), n), 0)
    agg_start = np.where((self_agg > 0) | (valet_agg > 0), agg_start, n_days)
    agg_growth = rng.uniform(0.2, 0.6, n)
    since = np.arange(n_days)[None, :] - agg_start[:, None]
    ramp = np.clip(since / 90.0, 0.0, 1.0) * (since >= 0)
    platform = ramp * (1 + agg_growth[:, None]) ** years_from_today[None, :] * demand
    actual["self_aggregator"] = rng.poisson(self_agg[:, None] * platform)
    actual["valet_aggregator"] = rng.poisson(valet_agg[:, None] * platform)

    comp_rate = rng.uniform(0.01, 0.05, n)
    actual["valet_comps"] = rng.poisson(
        comp_rate[:, None] * (actual["valet_daily"] + actual["valet_overnight"])
    )
    actual["self_comps"] = rng.poisson(
        comp_rate[:, None] * (actual["self_daily"] + actual["self_overnight"])
    )

    # Monthly passes: a count per month (changing a little month to month), carried on each
    # day as a daily share.
    valet_passes = np.where(valet_share > 0, rng.integers(0, 12, n), 0)
    self_passes = np.where(segment == "Healthcare", rng.integers(10, 60, n), rng.integers(0, 25, n))
    pass_change = np.clip(np.round(rng.normal(0, 1.5, (n, len(months)))), -3, 3)
    dim = days.days_in_month.to_numpy()
    change = pass_change[:, month_of_day]
    actual["valet_monthly"] = np.maximum(valet_passes[:, None] + change, 0) / dim
    actual["self_monthly"] = np.maximum(self_passes[:, None] + change, 0) / dim

    # Ratios as stored are what the counts imply (inverse formulas, §3.1).
    drive_in, capture_ratio = statistics.drive_in_and_capture(
        actual["occupied_rooms"], actual["valet_overnight"], actual["self_overnight"]
    )
    actual["occupancy"] = statistics.occupancy_from_occupied_rooms(occupied, rooms[:, None])
    actual["drive_in_ratio"] = drive_in
    actual["capture_ratio"] = capture_ratio

    # Rates: posted rates raised in January (most) or July; collected = posted × the site's
    # collection rate × a seasonal yield at resorts and leisure hotels × noise.
    base_rates = {
        "valet_daily": rng.uniform(25, 50, n),
        "self_daily": rng.uniform(15, 30, n),
        "valet_monthly": rng.uniform(200, 300, n),
        "self_monthly": rng.uniform(200, 300, n) * 0.8,
    }
    base_rates["valet_overnight"] = base_rates["valet_daily"] * rng.uniform(1.0, 1.3, n)
    base_rates["self_overnight"] = base_rates["self_daily"] * rng.uniform(1.0, 1.3, n)
    base_rates["valet_aggregator"] = base_rates["valet_daily"] * 0.85
    base_rates["self_aggregator"] = base_rates["self_daily"] * 0.85
    raise_month = np.where(rng.random(n) < 0.7, 1, 7)
    raise_pct = rng.choice([0.0, 0.03, 0.05], size=n, p=[0.3, 0.5, 0.2])
    raises = np.array(
        [[(y - calendar.year) + (m >= rm) for y, m in months] for rm in raise_month], dtype=float
    )
    list_factor = (1 + raise_pct[:, None]) ** raises
    collection = np.exp(rng.normal(-0.01, 0.02, n))
    month_numbers = np.array([m for _y, m in months]) - 1
    yield_ = np.where(leisure[:, None], season_month[:, month_numbers] ** 0.12, 1.0)
    rate_noise = np.exp(rng.normal(0, 0.015, (n, len(months))))
    list_rate, actual_rate = {}, {}
    for c in RATE_CATEGORIES:
        list_rate[c] = np.round(base_rates[c][:, None] * list_factor, 2)
        actual_rate[c] = np.round(list_rate[c] * collection[:, None] * yield_ * rate_noise, 2)
    by_day = {c: actual_rate[c][:, month_of_day] for c in actual_rate}
    actual["external_revenue"] = np.round(statistics.external_revenue(actual, by_day), 2)

    # Labor driver: the site's cars against their mean (hotels count their rooms' cars too).
    cars = (
        transient[:, None] * demand
        + (occ_mean * rooms * drive_base)[:, None] * np.exp(expected_log + events + log_noise)
        + 1e-9
    )
    expected_cars = (
        transient[:, None] * np.exp(visitor_expected)
        + (occ_mean * rooms * drive_base)[:, None] * np.exp(expected_log)
        + 1e-9
    )
    mean_cars = expected_cars[:, today_index - 365 : today_index].mean(axis=1, keepdims=True)
    return World(
        calendar=calendar,
        days=days,
        months=months,
        month_of_day=month_of_day,
        actual=actual,
        driver=cars / mean_cars,
        expected_driver=expected_cars / mean_cars,
        cars_per_day=mean_cars[:, 0],
        list_rate=list_rate,
        actual_rate=actual_rate,
        agg_start=agg_start,
        season_month=season_month,
    )


def statistic_days(world: World, n: int) -> pd.DataFrame:
    """The stored daily actuals: 1 January two years back through yesterday."""
    first = world.day_index(world.calendar.first_actual)
    upto = world.day_index(world.calendar.last_actual) + 1
    stat = {
        "site_id": np.repeat(np.arange(1, n + 1), upto - first),
        "day": np.tile(world.days[first:upto].to_numpy(), n),
        "kind": "actual",
    }
    for f in statistics.STAT_FIELDS:
        stat[f] = np.asarray(world.actual[f], dtype=float)[:, first:upto].reshape(-1)
    frame = pd.DataFrame(stat)
    frame["version"] = 1
    return frame


def actual_rate_rows(world: World, n: int) -> pd.DataFrame:
    """Collected rates of every closed month from the first stored one."""
    closed = last_closed_month(world.calendar.today)
    first = (world.calendar.first_actual.year, world.calendar.first_actual.month)
    rows = []
    for j, (y, m) in enumerate(world.months):
        if not first <= (y, m) <= closed:
            continue
        for c in RATE_CATEGORIES:
            rows.append(
                pd.DataFrame(
                    {
                        "site_id": np.arange(1, n + 1),
                        "year": y,
                        "month": m,
                        "category": c,
                        "kind": "actual",
                        "rate": world.actual_rate[c][:, j],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


# --- Payroll ----------------------------------------------------------------------------------


@dataclass
class Payroll:
    """Actual hours, overtime and cost of every modelled day per site job code (rows of
    ``site_job_code`` × days), the hours a schedule expects, and the stored rows."""

    hours: np.ndarray
    cost: np.ndarray
    expected_hours: np.ndarray
    salaried: np.ndarray
    rate: np.ndarray
    salary_per_day: np.ndarray
    payroll_day: pd.DataFrame


def build_payroll(
    rng: np.random.Generator, site: pd.DataFrame, site_job_code: pd.DataFrame, world: World
) -> Payroll:
    """Hours per job code follow the site's cars (its size, and day by day with each code's
    elasticity, §12.3), with
    a little daily noise and a slow drift in productivity; salaried codes work 8 hours a day.
    Stored: actuals of this year to date and schedules (the expected hours, in quarter hours)
    for today and the next 13 days."""
    days = world.days
    sjc = site_job_code
    site_idx = sjc["site_id"].to_numpy() - 1
    code_idx = sjc["job_code_id"].to_numpy() - 1
    salaried = np.array([JOB_CODES[c][3] for c in code_idx])
    base_hours = np.array([JOB_CODES[c][5] for c in code_idx])
    elasticity = np.array([JOB_CODES[c][6] for c in code_idx])
    # Staffed for the cars a site handles (150 a day is the base), the fixed posts less so.
    size = np.clip(world.cars_per_day[site_idx] / 150.0, 0.05, 6.0)
    scale = np.where(elasticity > 0, size**0.8, np.clip(size**0.4, 0.3, 1.6))
    rate = sjc["average_hourly_rate"].to_numpy()
    salary_per_day = sjc["allocated_salary_cost"].to_numpy() / 365.0
    employees = sjc["active_employee_count"].to_numpy()

    def hours_for(driver_rows):
        h = base_hours[:, None] * scale[:, None] * (1 + elasticity[:, None] * (driver_rows - 1))
        h = np.maximum(h, 2.0)  # a post is staffed for a couple of hours at least
        h = np.where(salaried[:, None], 8.0 * employees[:, None], h)
        return np.maximum(h, 0)

    expected = hours_for(world.expected_driver[site_idx])
    drift = _ar1(rng, (len(sjc), len(days)), 0.99, 0.03)
    noisy = hours_for(world.driver[site_idx]) * np.exp(drift + rng.normal(0, 0.06, drift.shape))
    hours = np.where(salaried[:, None], expected, np.round(noisy * 4) / 4)
    ot_share = np.where(salaried, 0.0, rng.uniform(0.0, 0.08, len(sjc)))
    overtime = np.round(hours * ot_share[:, None], 2)
    cost = np.where(
        salaried[:, None],
        salary_per_day[:, None] * np.ones((1, len(days))),
        (hours - overtime) * rate[:, None] + overtime * rate[:, None] * 1.5,
    )
    cost = np.round(cost, 2)

    calendar = world.calendar
    year_start = world.day_index(dt.date(calendar.year, 1, 1))
    upto = world.day_index(calendar.last_actual) + 1
    span = upto - year_start
    actual_rows = pd.DataFrame(
        {
            "site_id": np.repeat(sjc["site_id"].to_numpy(), span),
            "day": np.tile(days[year_start:upto].to_numpy(), len(sjc)),
            "job_code_id": np.repeat(sjc["job_code_id"].to_numpy(), span),
            "kind": "actual",
            "hours": hours[:, year_start:upto].reshape(-1),
            "overtime_hours": overtime[:, year_start:upto].reshape(-1),
            "cost": cost[:, year_start:upto].reshape(-1),
            "revenue": 0.0,
            "version": 1,
        }
    )
    start = world.day_index(calendar.today)
    end = min(start + 14, len(days))
    hourly = ~salaried
    scheduled = np.round(expected[hourly, start:end] * 4) / 4
    schedule_rows = pd.DataFrame(
        {
            "site_id": np.repeat(sjc["site_id"].to_numpy()[hourly], end - start),
            "day": np.tile(days[start:end].to_numpy(), int(hourly.sum())),
            "job_code_id": np.repeat(sjc["job_code_id"].to_numpy()[hourly], end - start),
            "kind": "scheduled",
            "hours": scheduled.reshape(-1),
            "overtime_hours": 0.0,
            "cost": np.round(scheduled * rate[hourly, None], 2).reshape(-1),
            "revenue": 0.0,
            "version": 1,
        }
    )
    return Payroll(
        hours=hours,
        cost=cost,
        expected_hours=expected,
        salaried=salaried,
        rate=rate,
        salary_per_day=salary_per_day,
        payroll_day=pd.concat([actual_rows, schedule_rows], ignore_index=True),
    )
