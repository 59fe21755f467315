"""Invariants of the demo-portfolio generator: sizes, ranges, realism, determinism."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.data.seed import build_portfolio
from dashboard.domain import statistics
from dashboard.domain.periods import last_closed_month

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
    # Aggregator budgets start at $0 (no history).
    assert (budget[["self_aggregator", "valet_aggregator"]] == 0).all().all()


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
    pnl = full["pnl_month"]
    budget = pnl[(pnl["kind"] == "budget") & (pnl["year"] == 2026)]
    expenses = budget[
        ["payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance"]
    ].sum(axis=1)
    flc = budget["internal_revenue"] - expenses
    assert (flc > 0).mean() > 0.85


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
