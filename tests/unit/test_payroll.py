"""Payroll forecasting rules (DOMAIN.md §2.4, §5, §10, §11, decision D2). Every expected number
is worked out by hand in a comment."""

import datetime as dt
from decimal import Decimal

import pytest

from dashboard.domain import payroll as pr

D = dt.date


def code(employees, rate):
    return pr.SiteCodeRate(active_employee_count=employees, average_hourly_rate=rate)


# --- Week paging (§5.4) -----------------------------------------------------------------------


def test_month_starting_on_sunday_has_five_weeks_clipped_at_the_end():
    # 1 June 2025 is a Sunday (1 Jan Wed; +31 → 1 Feb Sat; +28 → 1 Mar Sat; +31 → 1 Apr Tue;
    # +30 → 1 May Thu; +31 → 1 Jun Sun): weeks 1–7, 8–14, 15–21, 22–28, 29–30.
    weeks = pr.month_weeks(2025, 6)
    assert [(w[0].day, w[-1].day) for w in weeks] == [(1, 7), (8, 14), (15, 21), (22, 28), (29, 30)]
    assert [len(w) for w in weeks] == [7, 7, 7, 7, 2]  # 7 × 4 + 2 = 30 days of June
    assert weeks[0] == [D(2025, 6, d) for d in range(1, 8)]


def test_month_starting_on_saturday_opens_with_a_one_day_week():
    # 1 March 2025 is a Saturday: [1], 2–8, 9–15, 16–22, 23–29, 30–31 → 6 pages.
    weeks = pr.month_weeks(2025, 3)
    assert [(w[0].day, w[-1].day) for w in weeks] == [
        (1, 1),
        (2, 8),
        (9, 15),
        (16, 22),
        (23, 29),
        (30, 31),
    ]
    assert sum(len(w) for w in weeks) == 31  # 1 + 7 × 4 + 2


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 3, 1), 0),  # the 1-day week
        (D(2025, 3, 2), 1),  # Sunday starts the second page
        (D(2025, 3, 8), 1),  # Saturday ends it
        (D(2025, 3, 31), 5),  # last page
        (D(2025, 6, 14), 1),  # Saturday 14 June closes the 8–14 page
        (D(2025, 6, 15), 2),  # Sunday 15 June opens the 15–21 page
    ],
)
def test_week_index(day, expected):
    assert pr.week_index(day) == expected


def test_initial_week_is_todays_week_in_the_current_month_else_the_first():
    assert pr.initial_week_index(2025, 6, D(2025, 6, 18)) == 2  # 18 June in 15–21
    assert pr.initial_week_index(2025, 6, D(2025, 7, 2)) == 0  # another month → first page
    assert pr.initial_week_index(2025, 6, D(2024, 6, 18)) == 0  # same month, other year


def test_week_label():
    weeks = pr.month_weeks(2025, 6)
    assert pr.week_label(weeks[0]) == "Jun 1 – Jun 7"
    assert pr.week_label(weeks[-1]) == "Jun 29 – Jun 30"
    assert pr.week_label(pr.month_weeks(2025, 3)[0]) == "Mar 1"


# --- Rates (§2.4, §5.3) ------------------------------------------------------------------------


def test_group_rate_weighted_by_active_employees():
    # (3 × 10 + 1 × 14) ÷ (3 + 1) = 44 ÷ 4 = 11
    assert pr.group_hourly_rate([code(3, 10.0), code(1, 14.0)]) == pytest.approx(11.0)


def test_group_rate_is_a_simple_mean_when_no_one_is_active():
    # (10 + 14) ÷ 2 = 12
    assert pr.group_hourly_rate([code(0, 10.0), code(0, 14.0)]) == pytest.approx(12.0)


def test_group_rate_ignores_codes_without_a_rate():
    # The 0-rate code (no hours in 14 days) is unknown, not free: only 1 × 16 ÷ 1 = 16 remains.
    assert pr.group_hourly_rate([code(5, 0.0), code(1, 16.0)]) == pytest.approx(16.0)


def test_group_rate_defaults_to_15_without_rates():
    assert pr.group_hourly_rate([]) == 15.0
    assert pr.group_hourly_rate([code(2, 0.0), code(0, 0.0)]) == 15.0


def test_code_cost_is_hours_times_rate_with_15_default():
    assert pr.cost_for_hours(8, 12.5) == pytest.approx(100.0)  # 8 × 12.50
    assert pr.cost_for_hours(8, 0) == pytest.approx(120.0)  # 8 × 15 default
    assert pr.cost_for_hours(8, None) == pytest.approx(120.0)  # 8 × 15 default


def test_hours_from_dollars():
    assert pr.hours_from_dollars(100, 12.5) == 8.0  # 100 ÷ 12.50
    assert pr.hours_from_dollars(1000, 15) == 66.67  # 1000 ÷ 15 = 66.666… → 66.67
    assert pr.hours_from_dollars(100, 0) is None  # no rate, no conversion
    assert pr.hours_from_dollars(100, None) is None


# --- Splitting group hours (§5.3) --------------------------------------------------------------


def _exact_sum(parts):
    return sum(Decimal(str(p)) for p in parts)


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        # 1000 c × 3/4 = 750, × 1/4 = 250
        (10, [3, 1], [7.5, 2.5]),
        # 1000 c ÷ 3 = 333.3 → 333 each = 999; the 1 c left goes to the largest (first on a tie)
        (10, [1, 1, 1], [3.34, 3.33, 3.33]),
        # 1250 c × 5/7 = 892.86 → 893; × 2/7 = 357.14 → 357; × 0 = 0; 893 + 357 = 1250
        (12.5, [5, 2, 0], [8.93, 3.57, 0.0]),
        # 700 c × 2/7 = 200, 200, × 3/7 = 300
        (7, [2, 2, 3], [2.0, 2.0, 3.0]),
        # all weights 0 → equal: 900 c ÷ 3 = 300 each
        (9, [0, 0, 0], [3.0, 3.0, 3.0]),
        # 100 c ÷ 6 = 16.67 → 17 each = 102; −2 c on the first (largest, tie) → 15
        (1, [1] * 6, [0.15, 0.17, 0.17, 0.17, 0.17, 0.17]),
        # 500 c × 1/2 = 250 each; the largest weight is the second, no remainder
        (5, [1, 1], [2.5, 2.5]),
    ],
)
def test_split_by_weights(total, weights, expected):
    parts = pr.split_by_weights(total, weights)
    assert parts == expected
    assert _exact_sum(parts) == Decimal(str(total))


def test_split_remainder_goes_to_the_largest_code():
    # 100 c: weights 1, 5, 1 → 14.29 → 14, 71.43 → 71, 14 → 99; +1 c on the 5 → 72
    assert pr.split_by_weights(1, [1, 5, 1]) == [0.14, 0.72, 0.14]


@pytest.mark.parametrize("hours", [0.01, 0.05, 7.77, 123.45, 499.99, 333.33])
@pytest.mark.parametrize("weights", [[1, 2, 3], [7, 0, 0, 1], [3, 3, 3], [1] * 7])
def test_split_always_adds_up_to_the_cent(hours, weights):
    assert _exact_sum(pr.split_by_weights(hours, weights)) == Decimal(str(hours))


def test_split_of_nothing():
    assert pr.split_by_weights(0, []) == []
    with pytest.raises(ValueError):
        pr.split_by_weights(5, [])


def test_group_hours_split_by_active_employees():
    # 3 and 1 employees: 10 × 3/4 = 7.5, 10 × 1/4 = 2.5
    assert pr.split_group_hours(10, [code(3, 10.0), code(1, 14.0)]) == [7.5, 2.5]
    # nobody active → equal split 12 ÷ 2 = 6
    assert pr.split_group_hours(12, [code(0, 10.0), code(0, 14.0)]) == [6.0, 6.0]


def test_group_day_hours_and_cost_per_code():
    # rate (3 × 10 + 1 × 14) ÷ 4 = 11; cost 10 × 11 = 110; hours 7.5 / 2.5;
    # cost shared by hours: 110 × 0.75 = 82.50, 110 × 0.25 = 27.50
    assert pr.group_day(10, [code(3, 10.0), code(1, 14.0)]) == [(7.5, 82.5), (2.5, 27.5)]


def test_group_day_cost_adds_up_to_the_cent():
    # rate (10 + 11 + 12.5) ÷ 3 = 11.1666…; cost 10 × 11.1666… = 111.666… → 11167 c.
    # Hours 3.34 / 3.33 / 3.33. Cost shares: 11167 × 0.334 = 3729.78 → 3730;
    # 11167 × 0.333 = 3718.61 → 3719 (twice); 3730 + 3719 + 3719 = 11168 → −1 c on the
    # largest (3.34 h) → 3729. Total 37.29 + 37.19 + 37.19 = 111.67.
    rows = pr.group_day(10, [code(1, 10.0), code(1, 11.0), code(1, 12.5)])
    assert rows == [(3.34, 37.29), (3.33, 37.19), (3.33, 37.19)]
    assert _exact_sum(c for _h, c in rows) == Decimal("111.67")


def test_group_day_without_hours():
    assert pr.group_day(0, [code(1, 10.0), code(2, 12.0)]) == [(0.0, 0.0), (0.0, 0.0)]
    assert pr.group_day(0, []) == []


# --- Budget and salaried (§5.1, §5.2) ----------------------------------------------------------


def test_budget_day_is_an_even_spread():
    hours, cost = pr.budget_day(310, 4650, 31)
    assert hours == pytest.approx(10.0)  # 310 ÷ 31
    assert cost == pytest.approx(150.0)  # 4650 ÷ 31


def test_salaried_day_is_derived():
    hours, cost = pr.salaried_forecast_day(2, 73_000)
    assert hours == pytest.approx(16.0)  # 8 h × 2 employees
    assert cost == pytest.approx(200.0)  # 73,000 ÷ 365
    assert pr.salaried_hours_per_day(0) == 0.0  # 8 × 0
    assert pr.salaried_cost_per_day(54_750) == pytest.approx(150.0)  # 54,750 ÷ 365


# --- Overtime and PLH revenue (§5.3) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "saturday"),
    [
        (D(2025, 6, 7), D(2025, 6, 7)),  # a Saturday starts its own work week
        (D(2025, 6, 13), D(2025, 6, 7)),  # Friday ends it
        (D(2025, 6, 14), D(2025, 6, 14)),  # next Saturday, next week
        (D(2025, 6, 1), D(2025, 5, 31)),  # Sunday 1 June belongs to the week of Sat 31 May
    ],
)
def test_overtime_week_is_saturday_to_friday(day, saturday):
    assert pr.overtime_week_start(day) == saturday


def test_week_overtime_hours():
    assert pr.week_overtime_hours(45) == 5.0  # 45 − 40
    assert pr.week_overtime_hours(40) == 0.0
    assert pr.week_overtime_hours(38) == 0.0


SHIFTS = {
    D(2025, 6, 7): 9.0,  # Sat: running 9
    D(2025, 6, 8): 9.0,  # 18
    D(2025, 6, 9): 9.0,  # 27
    D(2025, 6, 10): 9.0,  # 36
    D(2025, 6, 11): 9.0,  # 45 → 4 regular (to 40) + 5 OT
    D(2025, 6, 12): 8.0,  # 53 → all 8 OT
    D(2025, 6, 13): 0.0,  # Fri, nothing
    D(2025, 6, 14): 10.0,  # Sat: new week, 10 regular
}


def test_split_regular_overtime_places_overtime_where_the_week_passes_40():
    split = pr.split_regular_overtime(SHIFTS)
    assert split[D(2025, 6, 10)] == (9.0, 0.0)
    assert split[D(2025, 6, 11)] == (4.0, 5.0)
    assert split[D(2025, 6, 12)] == (0.0, 8.0)
    assert split[D(2025, 6, 13)] == (0.0, 0.0)
    assert split[D(2025, 6, 14)] == (10.0, 0.0)
    week = [v for d, v in split.items() if d <= D(2025, 6, 13)]
    assert sum(ot for _r, ot in week) == pytest.approx(13.0)  # 53 − 40


def test_split_counts_the_previous_months_days_of_the_work_week():
    # Sat 31 May 30 h, Sun 1 June 15 h: 30 + 15 = 45 → 1 June has 10 regular + 5 OT
    split = pr.split_regular_overtime({D(2025, 6, 1): 15.0, D(2025, 5, 31): 30.0})
    assert split[D(2025, 6, 1)] == (10.0, 5.0)


def test_plh_revenue():
    # 40 × 27.60 + 13 × 31.00 = 1104.00 + 403.00 = 1507.00
    assert pr.plh_revenue(40, 13, 27.60, 31.00) == pytest.approx(1507.0)
    assert pr.plh_revenue(40, 13, None, 31.00) == 0.0  # no billable rate → 0
    assert pr.plh_revenue(40, 13, 0, 31.00) == 0.0


def test_plh_week_revenue():
    assert pr.plh_week_revenue(53, 27.60, 31.00) == pytest.approx(1507.0)  # as above
    assert pr.plh_week_revenue(38, 27.60, 31.00) == pytest.approx(1048.80)  # 38 × 27.60
    # no OT rate → OT at the regular rate: 53 × 27.60 = 1462.80
    assert pr.plh_week_revenue(53, 27.60) == pytest.approx(1462.80)


def test_plh_daily_revenue_adds_up_to_the_week():
    revenue = pr.plh_daily_revenue(SHIFTS, 27.60, 31.00)
    assert revenue[D(2025, 6, 7)] == pytest.approx(248.40)  # 9 × 27.60
    assert revenue[D(2025, 6, 11)] == pytest.approx(265.40)  # 4 × 27.60 + 5 × 31 = 110.40 + 155
    assert revenue[D(2025, 6, 12)] == pytest.approx(248.0)  # 8 × 31
    assert revenue[D(2025, 6, 14)] == pytest.approx(276.0)  # 10 × 27.60
    # 4 × 248.40 + 265.40 + 248 + 0 = 993.60 + 513.40 = 1507.00 = plh_week_revenue(53, …)
    week = sum(v for d, v in revenue.items() if d <= D(2025, 6, 13))
    assert week == pytest.approx(1507.0)


# --- Variance flag (§5.4) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forecast", "budget", "flag"),
    [
        (111, 100, True),  # (111 − 100) ÷ 100 = 11% > 10%
        (110, 100, False),  # exactly 10% is not "more than"
        (1.1, 1.0, False),  # 10% again, despite 1.1 − 1.0 = 0.10000000000000009
        (89, 100, True),  # −11%
        (90, 100, False),  # −10%
        (5, 0, True),  # no budget, some forecast → flagged
        (0, 0, False),  # nothing against nothing
        (0.001, 0, False),  # under a cent/hundredth counts as nothing
    ],
)
def test_payroll_variance_flag(forecast, budget, flag):
    assert pr.payroll_variance_flag(forecast, budget) is flag


# --- KPIs (§11) --------------------------------------------------------------------------------


def test_kpis():
    # 80,000 ÷ 300,000 = 0.26667
    assert pr.payroll_pct_of_internal_revenue(80_000, 300_000) == pytest.approx(0.266667, abs=1e-6)
    # 80,000 ÷ (1,250,000 + 300,000) = 80,000 ÷ 1,550,000 = 0.051613
    assert pr.labor_to_revenue(80_000, 1_250_000, 300_000) == pytest.approx(0.051613, abs=1e-6)
    assert pr.overtime_pct(13, 53) == pytest.approx(0.245283, abs=1e-6)  # 13 ÷ 53
    assert pr.vehicles_per_labor_hour(1200, 300) == pytest.approx(4.0)  # 1200 ÷ 300
    assert pr.fill_rate(45, 50) == pytest.approx(0.9)  # 45 ÷ 50


def test_kpis_are_none_when_the_denominator_is_zero():
    assert pr.payroll_pct_of_internal_revenue(1000, 0) is None
    assert pr.labor_to_revenue(1000, 0, 0) is None
    assert pr.overtime_pct(0, 0) is None
    assert pr.vehicles_per_labor_hour(100, 0) is None
    assert pr.fill_rate(8, 0) is None


# --- Modes, edit rules, validation (§5.1, §10, D2) ---------------------------------------------


@pytest.mark.parametrize(
    ("flags", "mode"),
    [
        ("PerLaborHour", "Code"),
        ("FixedFee;PerLaborHour", "Code"),  # hybrid with PLH
        (["RevenueShare", "DepositedRevenue"], "Group"),
        ("", "Group"),  # not configured
    ],
)
def test_default_forecast_mode(flags, mode):
    assert pr.default_forecast_mode(flags) == mode


def test_edit_rules():
    today = D(2025, 6, 10)
    tomorrow = D(2025, 6, 11)
    assert "today and earlier" in pr.payroll_edit_block_reason(today, today, "Group", "group")
    assert pr.payroll_edit_block_reason(D(2025, 6, 1), today, "Group", "group") is not None
    assert pr.payroll_edit_block_reason(tomorrow, today, "Group", "group") is None
    assert "by job group" in pr.payroll_edit_block_reason(tomorrow, today, "Group", "code")
    assert pr.payroll_edit_block_reason(tomorrow, today, "Code", "code") is None
    assert "by job code" in pr.payroll_edit_block_reason(tomorrow, today, "Code", "group")
    salaried = pr.payroll_edit_block_reason(tomorrow, today, "Code", "code", is_salaried=True)
    assert "Salaried" in salaried


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (None, False),
        (-1, False),
        (-0.01, False),
        (0, True),
        (8.5, True),
        (500, True),
        (500.01, False),
    ],
)
def test_validate_hours(value, ok):
    assert (pr.validate_hours(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "rate", "ok"),
    [
        (7500, 15, True),  # 7500 ÷ 15 = 500 h, the maximum
        (7500.15, 15, False),  # 7500.15 ÷ 15 = 500.01 h
        (120, 15, True),  # 8 h
        (0, 15, True),
        (-1, 15, False),
        (None, 15, False),
        (100, 0, False),  # nothing to convert with
    ],
)
def test_validate_dollars(value, rate, ok):
    assert (pr.validate_dollars(value, rate) is None) is ok


def test_validation_messages_are_readable():
    assert pr.validate_hours(None) == "Hours: enter a number."
    assert pr.validate_hours(-2) == "Hours cannot be negative."
    assert pr.validate_hours(501) == "Hours must be between 0 and 500 for one day."
    assert pr.validate_dollars(8000, 15) == (
        "$8,000.00 buys 533.33 hours at $15.00/h; one day allows at most 500 hours."
    )  # 8000 ÷ 15 = 533.33
    assert "no hourly rate" in pr.validate_dollars(100, 0)
