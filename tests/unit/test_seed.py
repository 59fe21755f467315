"""Invariants of the demo-portfolio generator: sizes, ranges, realism, determinism."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.data.demo import budget as demo_budget
from dashboard.data.demo import calendar as demo_calendar
from dashboard.data.demo import profiles
from dashboard.data.seed import build_portfolio
from dashboard.domain import statistics
from dashboard.domain.periods import last_closed_month

FLC_LINES = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def full():
    """The default-size portfolio (about 650 sites), built once for this module."""
    return build_portfolio(650, 7, TODAY)


@pytest.fixture(scope="module")
def small():
    return build_portfolio(15, 5, TODAY)


def test_default_portfolio_shape(full):
    assert len(full["site"]) == 650
    assert len(full["region"]) == 3
    assert 40 <= len(full["district"]) <= 50
    per_district = full["site"].groupby("district_id").size()
    assert per_district.min() >= 1
    assert 8 <= per_district.median() <= 20
    assert full["site"]["site_number"].str.fullmatch(r"\d{4}").all()
    assert full["site"]["site_number"].is_unique
    assert (full["site"]["site_number"] < "9000").all()  # 9xxx are corporate cost centers


def test_rooms_and_spaces_follow_the_master_data(full):
    rooms = full["site"]["total_rooms"]
    hotels = rooms[rooms > 0]
    assert 0.35 <= len(hotels) / len(rooms) <= 0.60  # ~45% of sites are hotels
    assert 200 <= hotels.median() <= 400  # median ≈ 300
    assert hotels.max() <= 2900
    spaces = full["site"]["parking_spaces"]
    assert 120 <= spaces.median() <= 260  # median ≈ 180
    assert spaces.max() <= 3300


def test_contract_mix(full):
    flags = full["site"]["contract_types"]
    configured = flags[flags != ""]
    share = lambda f: configured.str.contains(f).mean()  # noqa: E731
    assert 0.28 <= share("ManagementAgreement") <= 0.40  # ≈ 34%
    assert 0.25 <= share("RevenueShare") <= 0.42  # ≈ 32% (+ hybrids)
    assert 0.15 <= share("PerLaborHour") <= 0.30
    assert 0.04 <= (flags == "").mean() <= 0.13  # ~50 of ~620 not configured
    # Per-occupied-room terms only where there are rooms.
    por = full["site"][flags.str.contains("PerOccupiedRoom")]
    assert (por["total_rooms"] > 0).all()


def test_escalators(full):
    contract = full["contract"]
    none = contract["increment_pct"].eq(0).mean()
    assert 0.70 <= none <= 0.86  # ~78% have none
    escalated = contract[contract["increment_pct"] > 0]
    assert set(escalated["increment_pct"].round(3)) <= {0.02, 0.03}
    assert set(escalated["increment_month"].astype(int)) <= {1, 7}


def test_account_manager_coverage(full):
    users = full["app_user"]
    grants = full["scope_assignment"]
    am_ids = set(users.loc[users["role"] == "account_manager", "id"])
    am_grants = grants[grants["user_id"].isin(am_ids)]
    covered = am_grants["site_id"].nunique() / len(full["site"])
    assert 0.68 <= covered <= 0.82  # ~25% of sites have no AM recorded
    sites_per_am = am_grants.groupby("user_id").size()
    assert 0.6 <= (sites_per_am == 1).mean() <= 0.8  # 70% have one site
    assert sites_per_am.max() <= 6
    assert users["role"].eq("district_manager").sum() == len(full["district"])
    assert users["role"].eq("regional_vp").sum() == 3
    assert users["email"].is_unique


def test_job_codes_and_wages(full):
    sjc = full["site_job_code"]
    codes = full["job_code"].set_index("id")
    sjc = sjc.join(codes[["code", "is_salaried"]], on="job_code_id")
    per_site = sjc.groupby(["site_id", "is_salaried"]).size().unstack(fill_value=0)
    assert per_site[False].between(3, 8).all()
    assert per_site[True].between(1, 3).all()
    hourly = sjc[~sjc["is_salaried"]]
    assert hourly["average_hourly_rate"].between(9.0, 18.0).all()
    gsa = hourly[hourly["code"] == "GSA"]["average_hourly_rate"]
    assert ((gsa > 9.4) & (gsa < 10.6)).mean() > 0.25  # many GSA wages ≈ $10


def test_statistics_ranges(small):
    stats = small["site_statistic_day"]
    for ratio in ("occupancy", "drive_in_ratio", "capture_ratio"):
        assert stats[ratio].between(0.0, 1.0).all(), ratio
    counts = [
        "valet_daily",
        "self_daily",
        "valet_monthly",
        "self_monthly",
        "valet_comps",
        "self_comps",
        "valet_overnight",
        "self_overnight",
        "occupied_rooms",
    ]
    assert (stats[counts] >= 0).all().all()
    assert (stats[counts] <= 99_999).all().all()
    rooms = small["site"].set_index("id")["total_rooms"]
    assert (stats["occupied_rooms"] <= stats["site_id"].map(rooms)).all()
    no_rooms = stats["site_id"].map(rooms) == 0
    assert (
        (stats.loc[no_rooms, ["occupancy", "valet_overnight", "self_overnight"]] == 0).all().all()
    )
    rates = small["parking_rate_month"]["rate"]
    assert rates.between(0.0, 999.99).all()


def test_actuals_span_two_prior_years_to_yesterday(small):
    days = pd.to_datetime(small["site_statistic_day"]["day"])
    assert days.min().date() == dt.date(2024, 1, 1)
    assert days.max().date() == TODAY - dt.timedelta(days=1)
    payroll = small["payroll_day"]
    actual = pd.to_datetime(payroll.loc[payroll["kind"] == "actual", "day"])
    assert actual.min().date() == dt.date(2026, 1, 1)
    assert actual.max().date() == TODAY - dt.timedelta(days=1)
    scheduled = pd.to_datetime(payroll.loc[payroll["kind"] == "scheduled", "day"])
    assert scheduled.min().date() == TODAY
    assert scheduled.max().date() == TODAY + dt.timedelta(days=13)


def test_actuals_are_not_an_even_spread(small):
    stats = small["site_statistic_day"].copy()
    stats["day"] = pd.to_datetime(stats["day"])
    hotel_ids = small["site"].loc[small["site"]["total_rooms"] > 0, "id"]
    month = stats[
        (stats["site_id"].isin(hotel_ids))
        & (stats["day"].dt.month == 6)
        & (stats["day"].dt.year == 2025)
    ]
    spread = month.groupby("site_id")["occupancy"].agg(lambda s: s.std() / s.mean())
    assert (spread > 0.03).all()  # weekday and event pattern, not a flat line
    by_weekday = month.groupby(month["day"].dt.day_of_week)["valet_daily"].mean()
    assert by_weekday.max() / by_weekday.min() > 1.05


def test_budget_covers_three_years_monthly(small):
    budget = small["statistic_budget_month"]
    assert len(budget) == 15 * 36
    assert set(budget["year"]) == {2025, 2026, 2027}
    pnl = small["pnl_month"]
    assert len(pnl[pnl["kind"] == "budget"]) == 15 * 36
    closed = last_closed_month(TODAY)
    actual = pnl[pnl["kind"] == "actual"]
    assert (actual["year"] * 100 + actual["month"]).max() == closed[0] * 100 + closed[1]


def test_aggregator_volume_is_under_budgeted(full):
    """A platform newer than the budget's window has $0/0 budgeted (DOMAIN.md §3.1); the
    others budget the window's volume while bookings grow 20–60% a year: every site with
    bookings in 2026 has budgeted fewer than it booked."""
    budget = full["statistic_budget_month"]
    stats = full["site_statistic_day"]
    days = pd.to_datetime(stats["day"])
    in_2026 = stats[(days.dt.year == 2026) & (days.dt.month <= 10)]
    rates = full["parking_rate_month"]
    budget_rates = rates[(rates["kind"] == "budget") & (rates["year"] == 2026)]
    for field in ("self_aggregator", "valet_aggregator"):
        booked = in_2026.groupby("site_id")[field].sum()
        planned = (
            budget[(budget["year"] == 2026) & (budget["month"] <= 10)]
            .groupby("site_id")[field]
            .sum()
        )
        booking = booked[booked > 0].index
        assert len(booking) > 20
        assert (planned[booking] < booked[booking]).all(), field
        assert (planned[booking] == 0).any()  # platforms newer than the window: $0
        assert (planned[booking] > 0).any()
        # No volume budgeted, no rate budgeted; a budgeted volume has its rate.
        rate = budget_rates[budget_rates["category"] == field].groupby("site_id")["rate"].max()
        assert (rate[planned[planned == 0].index] == 0).all()
        assert (rate[planned[planned > 0].index] > 0).all()


def test_actual_revenue_is_counts_times_actual_rates(small):
    stats = small["site_statistic_day"]
    row = stats[(stats["site_id"] == 1)].iloc[400]
    day = pd.Timestamp(row["day"])
    rates = small["parking_rate_month"]
    month_rates = rates[
        (rates["site_id"] == 1)
        & (rates["kind"] == "actual")
        & (rates["year"] == day.year)
        & (rates["month"] == day.month)
    ]
    rate_map = dict(zip(month_rates["category"], month_rates["rate"], strict=True))
    assert row["external_revenue"] == pytest.approx(
        statistics.external_revenue(row.to_dict(), rate_map), abs=0.01
    )


def test_pnl_actuals_add_up_the_daily_actuals(small):
    stats = small["site_statistic_day"].copy()
    stats["day"] = pd.to_datetime(stats["day"])
    october = stats[(stats["day"].dt.year == 2026) & (stats["day"].dt.month == 10)]
    daily = october.groupby("site_id")["external_revenue"].sum()
    pnl = small["pnl_month"]
    monthly = pnl[
        (pnl["kind"] == "actual") & (pnl["year"] == 2026) & (pnl["month"] == 10)
    ].set_index("site_id")["external_revenue"]
    assert np.allclose(daily.sort_index().to_numpy(), monthly.sort_index().to_numpy(), atol=0.02)


def test_budget_flc_is_mostly_positive(full):
    """Budgets earn a margin: FLC ≤ 0 only where the contract makes it so (a revenue share
    or a fixed fee in a site's quiet or busiest months); a management agreement is paid its
    fee over the costs it passes through."""
    pnl = full["pnl_month"]
    budget = pnl[pnl["kind"] == "budget"]
    flc = budget["internal_revenue"] - budget[list(FLC_LINES)].sum(axis=1)
    assert (flc > 0).mean() > 0.97
    flags = full["site"].set_index("id")["contract_types"]
    managed = budget["site_id"].map(flags).str.contains("ManagementAgreement")
    assert (flc[managed] > 0).mean() > 0.99
    per_site = (flc <= 0).groupby(budget["site_id"]).mean()
    assert (per_site == 1).sum() <= 3  # hardly a site loses money every month


def test_same_seed_same_portfolio_other_seed_differs():
    first = build_portfolio(6, 42, TODAY)
    second = build_portfolio(6, 42, TODAY)
    assert first.frames.keys() == second.frames.keys()
    for table in first.frames:
        pd.testing.assert_frame_equal(first[table], second[table], obj=table)
    assert first.demo_accounts == second.demo_accounts
    other = build_portfolio(6, 43, TODAY)
    assert not other["site"]["site_number"].equals(first["site"]["site_number"])


def test_tiny_portfolio_still_has_every_role():
    tiny = build_portfolio(3, 1, TODAY)
    assert len(tiny["site"]) == 3
    assert set(tiny["app_user"]["role"]) == {
        "account_manager",
        "district_manager",
        "regional_vp",
        "executive",
        "admin",
    }
    assert set(tiny.demo_accounts) == {
        "account_manager",
        "district_manager",
        "regional_vp",
        "executive",
        "admin",
    }
    with pytest.raises(ValueError):
        build_portfolio(0, 1, TODAY)


# --- The world's rules ----------------------------------------------------------------------------


def test_a_season_curve_passes_through_its_mid_month_levels_and_bends_between_them():
    levels = np.array([1.0, 2.0, 4.0, 2.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0])
    mid_january, mid_february = 15.5, 45.0
    assert profiles.season_curve(levels, [mid_january, mid_february]) == pytest.approx([1, 2])
    # Halfway between two mid-months: the geometric mean (interpolated in logs).
    halfway = (mid_january + mid_february) / 2
    assert profiles.season_curve(levels, [halfway])[0] == pytest.approx(2**0.5)
    # Around the year: mid-December (1.0) to mid-January (1.0) stays at 1.
    assert profiles.season_curve(levels, [365.0])[0] == pytest.approx(1.0)
    # A site's amplitude scales the logs: levels² at amplitude 2.
    assert profiles.season_curve(levels, [mid_february], amplitude=2.0)[0] == pytest.approx(4.0)
    flat = np.ones(12)
    assert profiles.month_ratio(flat) == pytest.approx(1.0)


def test_season_profiles_busiest_over_quietest_month():
    ratio = {
        (kind, climate): profiles.month_ratio(profiles.season_levels(kind, climate))
        for kind in profiles.KINDS
        for climate in (profiles.SUMMER, profiles.WINTER_SUN, profiles.MOUNTAIN)
    }
    # A seaside resort's demand: about twice as busy in its best month as in its worst.
    assert 1.9 <= ratio[(profiles.RESORT, profiles.SUMMER)] <= 2.5
    assert 1.7 <= ratio[(profiles.RESORT, profiles.WINTER_SUN)] <= 2.4
    assert 1.3 <= ratio[(profiles.BUSINESS, profiles.SUMMER)] <= 1.6
    assert ratio[(profiles.LEISURE, profiles.SUMMER)] < ratio[(profiles.RESORT, profiles.SUMMER)]
    assert ratio[(profiles.HOSPITAL, profiles.SUMMER)] < 1.1  # hospitals are flat
    # A winter-sun resort peaks in February–March, a summer one in July.
    assert np.argmax(profiles.season_levels(profiles.RESORT, profiles.WINTER_SUN)) in (1, 2)
    assert np.argmax(profiles.season_levels(profiles.RESORT, profiles.SUMMER)) == 6
    for kind in profiles.KINDS:
        assert np.mean(profiles.WEEKDAY[kind]) == pytest.approx(1.0, abs=1e-9), kind


def test_kinds_and_climates_follow_names_and_markets():
    assert profiles.kind_of("Miami Beach Resort", "Miami", "Hospitality") == profiles.RESORT
    assert profiles.kind_of("Boston Downtown Suites 2", "Boston", "Hospitality") == (
        profiles.BUSINESS
    )
    assert profiles.kind_of("Denver Mall Garage", "Denver", "Airport/Other") == profiles.RETAIL
    assert profiles.kind_of("Austin Garage", "Austin", "Parking Brand") == profiles.CITY_PARKING
    assert profiles.kind_of("Tampa Heart Institute", "Tampa", "Healthcare") == profiles.HOSPITAL
    assert profiles.climate_of("Miami") == profiles.WINTER_SUN
    assert profiles.climate_of("Denver 2") == profiles.MOUNTAIN
    assert profiles.climate_of("Boston") == profiles.SUMMER


def test_occupancy_bends_towards_sell_out():
    x = np.array([0.3, 0.6, 0.8, 1.0, 1.5, 3.0])
    occupancy = profiles.saturate(x)
    assert occupancy[:2] == pytest.approx(x[:2], abs=1e-3)  # well below the cap: demand
    assert (np.diff(occupancy) > 0).all()
    assert (occupancy < 0.995).all()
    assert occupancy[-1] == pytest.approx(0.995, abs=1e-3)


def test_holidays_of_the_world():
    assert demo_calendar.easter_sunday(2024) == dt.date(2024, 3, 31)
    assert demo_calendar.easter_sunday(2025) == dt.date(2025, 4, 20)
    assert demo_calendar.easter_sunday(2026) == dt.date(2026, 4, 5)
    windows = demo_calendar.holiday_windows(2026)
    assert windows["thanksgiving"] == [dt.date(2026, 11, 26)]
    assert windows["black_friday"] == [dt.date(2026, 11, 27)]
    assert windows["memorial"] == [dt.date(2026, 5, d) for d in (23, 24, 25)]
    assert windows["labor"] == [dt.date(2026, 9, d) for d in (5, 6, 7)]
    days = pd.date_range("2026-11-20", "2026-12-31", freq="D")
    factor = profiles.holiday_factors(days)
    at = {d.date(): i for i, d in enumerate(days)}
    assert factor[profiles.BUSINESS][at[dt.date(2026, 12, 25)]] == pytest.approx(0.35)
    assert factor[profiles.RESORT][at[dt.date(2026, 12, 28)]] == pytest.approx(1.3)
    assert factor[profiles.RETAIL][at[dt.date(2026, 11, 27)]] == pytest.approx(1.9)
    assert factor[profiles.HOSPITAL][at[dt.date(2026, 12, 10)]] == 1.0  # an ordinary day


def test_a_budget_is_made_from_the_last_twelve_closed_months():
    # Made in November 2026: January–October 2026 and November–December 2025.
    window = demo_budget.base_months(2027, (2026, 10))
    assert window[:10] == [(2026, m) for m in range(1, 11)]
    assert window[10:] == [(2025, 11), (2025, 12)]
    # Today in March 2026: next year's budget can only use what has closed (to February).
    window = demo_budget.base_months(2027, (2026, 2))
    assert window[:2] == [(2026, 1), (2026, 2)]
    assert window[2:] == [(2025, m) for m in range(3, 13)]


def test_a_budget_is_last_year_grown_by_the_plan():
    base = np.array([[100.0] * 12, [200.0] * 12])
    base_years = [2026] * 10 + [2025] * 2
    made = demo_budget.grown(base, base_years, 2027, np.array([0.05, -0.10]))
    assert made[0, 0] == pytest.approx(105.0)  # one year of growth
    assert made[0, 11] == pytest.approx(110.25)  # December 2025: two years
    assert made[1, 0] == pytest.approx(180.0)
    assert made[1, 11] == pytest.approx(162.0)


def test_a_budget_leaning_on_the_template_misplaces_the_season():
    totals = np.array([[10.0, 30.0] + [0.0] * 10, [10.0, 30.0] + [0.0] * 10])
    template = np.array([0.5, 0.5] + [0.0] * 10)
    spread = demo_budget.respread(totals, template, np.array([0.0, 0.5]))
    assert spread[0, :2] == pytest.approx([10.0, 30.0])  # its own months
    assert spread[1, :2] == pytest.approx([15.0, 25.0])  # 40 × (½ × ¼ + ½ × ½), 40 × ...
    assert spread.sum(axis=1) == pytest.approx([40.0, 40.0])  # the year's total is kept
    shares = demo_budget.template_shares(2026, hotel=False)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[1] == pytest.approx(28 / 365)  # an even spread by days
    hotel = demo_budget.template_shares(2026, hotel=True)
    assert hotel[6] > hotel[0]  # the hotel template's summer is busier


def _monthly_means(stats, field, year=2025):
    days = pd.to_datetime(stats["day"])
    chosen = stats[days.dt.year == year].assign(month=days.dt.month)
    return chosen.groupby(["site_id", "month"])[field].mean().unstack()


def test_the_world_is_as_seasonal_as_real_places(full):
    kind = full.site_profile.set_index("site_id")["kind"]
    stats = full["site_statistic_day"]
    rooms = _monthly_means(stats, "occupied_rooms")
    ratio = rooms.max(axis=1) / rooms.min(axis=1).replace(0, np.nan)
    resorts = ratio[kind[kind == profiles.RESORT].index]
    assert 1.6 <= resorts.median() <= 2.1  # a seaside resort runs ~1.8
    cars = stats.assign(cars=stats["valet_overnight"] + stats["self_overnight"])
    overnight = _monthly_means(cars, "cars")
    night_ratio = overnight.max(axis=1) / overnight.min(axis=1).replace(0, np.nan)
    assert night_ratio[resorts.index].median() > resorts.median()  # guests drive more in season
    hospitals = kind[kind == profiles.HOSPITAL].index
    vehicles = _monthly_means(stats, "self_daily")
    flat = vehicles.loc[hospitals].max(axis=1) / vehicles.loc[hospitals].min(axis=1)
    assert flat.median() < 1.25


def test_business_hotels_peak_midweek_and_resorts_at_weekends(full):
    kind = full.site_profile.set_index("site_id")["kind"]
    stats = full["site_statistic_day"]
    weekday = pd.to_datetime(stats["day"]).dt.day_of_week
    by_day = stats.groupby([stats["site_id"], weekday])["occupied_rooms"].mean().unstack()
    business = by_day.loc[kind[kind == profiles.BUSINESS].index]
    resort = by_day.loc[kind[kind == profiles.RESORT].index]
    assert ((business[1] + business[2]) > (business[4] + business[5])).mean() > 0.95
    assert ((resort[4] + resort[5]) > (resort[1] + resort[2])).mean() > 0.95


def test_day_to_day_spread_of_real_magnitude(full):
    """Std of log(rooms on a day ÷ rooms on the same weekday a week earlier), 2025: noise,
    events and holidays together, ~0.1–0.25 at real hotels (the tame world had 0.08)."""
    stats = full["site_statistic_day"]
    hotels = full["site"].loc[full["site"]["total_rooms"] > 0, "id"]
    days = pd.to_datetime(stats["day"])
    chosen = stats[stats["site_id"].isin(hotels) & (days.dt.year == 2025)]
    spreads = []
    for _site_id, rows in chosen.groupby("site_id"):
        x = rows["occupied_rooms"].to_numpy(float)
        a, b = x[7:], x[:-7]
        ok = (a > 0) & (b > 0)
        spreads.append(np.log(a[ok] / b[ok]).std())
    assert 0.11 <= np.median(spreads) <= 0.2
