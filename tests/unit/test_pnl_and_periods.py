"""FLC, variance and calendar rules, expected numbers computed by hand."""

import datetime as dt

import pandas as pd
import pytest

from dashboard.domain import periods, pnl, revenue
from dashboard.domain.pnl import flc, variance

D = dt.date


def test_flc_subtracts_expense_lines_from_internal_revenue():
    lines = {
        "external_revenue": 1_250_000,  # not part of FLC
        "internal_revenue": 100_000,
        "payroll": 40_000,
        "claims": 0,
        "parking_rents": 5_000,
        "other_expense": 8_000,
        "pteb": 9_000,
        "insurance": 2_000,
    }
    assert flc(lines) == 36_000  # 100,000 − 64,000


def test_flc_works_on_columns():
    frame = pd.DataFrame(
        {
            "internal_revenue": [100.0, 50.0],
            "payroll": [60.0, 70.0],
            "claims": [0.0, 0.0],
            "parking_rents": [0.0, 0.0],
            "other_expense": [10.0, 0.0],
            "pteb": [5.0, 0.0],
            "insurance": [5.0, 0.0],
        }
    )
    assert flc(frame).tolist() == [20.0, -20.0]


def test_variance_and_zero_basis():
    assert variance(110.0, 100.0) == (10.0, pytest.approx(0.10))
    assert variance(90.0, 100.0) == (-10.0, pytest.approx(-0.10))
    assert variance(5.0, 0.0) == (5.0, None)


def test_month_arithmetic_and_closed_months():
    assert periods.add_months(2026, 11, 3) == (2027, 2)
    assert periods.add_months(2026, 1, -1) == (2025, 12)
    assert periods.days_in_month(2028, 2) == 29
    today = dt.date(2026, 11, 23)
    assert periods.last_closed_month(today) == (2026, 10)
    assert periods.is_closed(2026, 10, today)
    assert not periods.is_closed(2026, 11, today)
    assert periods.last_closed_month(dt.date(2027, 1, 5)) == (2026, 12)


# --- Forecast lines (§7.1 target) ---------------------------------------------------------


def test_pteb_scales_with_forecast_payroll():
    # 11,000 ÷ 80,000 × 88,000 = 0.1375 × 88,000 = 12,100
    assert pnl.pteb_forecast(11_000.0, 80_000.0, 88_000.0) == pytest.approx(12_100.0)
    assert pnl.pteb_forecast(500.0, 0.0, 88_000.0) == 500.0  # no budget payroll → budget PTEB


def test_insurance_rates_and_vehicle_insurance():
    # MA: 5.77% × 80,000 + 300 = 4,616 + 300
    assert pnl.insurance_forecast(80_000.0, 300.0, management_agreement=True) == pytest.approx(
        4_916.0
    )
    # MA with 1% additional: 6.77% × 80,000 + 300 = 5,416 + 300
    assert pnl.insurance_forecast(
        80_000.0, 300.0, management_agreement=True, additional_pct=0.01
    ) == pytest.approx(5_716.0)
    # Others: 4.45% × 80,000 + 300 = 3,560 + 300; the additional % is MA-only
    assert pnl.insurance_forecast(
        80_000.0, 300.0, management_agreement=False, additional_pct=0.01
    ) == pytest.approx(3_860.0)


def test_expense_adjustments_and_current_month_max():
    assert pnl.split_expense_adjustments(
        {"rents_parking": 500.0, "uniforms": 200.0, "signage": -50.0}
    ) == (500.0, 150.0)  # rents to Parking Rents; 200 − 50 to Other Expense
    assert pnl.expense_forecast(30_000.0, 150.0) == 30_150.0
    assert pnl.trending_expense(5_000.0, 6_200.0) == 6_200.0  # posted already above forecast
    assert pnl.trending_expense(5_000.0, 1_000.0) == 5_000.0  # early in the month
    # Per main account: max(1,000, 1,300) + max(500, 0) + max(0, 80) = 1,300 + 500 + 80
    forecast = {"7115": 1_000.0, "7185": 500.0}
    posted = {"7115": 1_300.0, "7220": 80.0}
    assert pnl.trending_expense(forecast, posted) == pytest.approx(1_880.0)
    with pytest.raises(TypeError):
        pnl.trending_expense(forecast, 1_000.0)


def test_month_kind_and_blend():
    today = D(2026, 11, 23)
    assert pnl.month_kind(2026, 10, today) == pnl.ACTUAL_MONTH
    assert pnl.month_kind(2026, 11, today) == pnl.TRENDING_MONTH
    assert pnl.month_kind(2027, 1, today) == pnl.FORECAST_MONTH  # future year is not actual
    actual = {D(2026, 11, 1): 100.0, D(2026, 11, 2): 120.0, D(2026, 11, 3): 0.0}
    forecast = {D(2026, 11, d): 90.0 for d in range(1, 5)}
    assert pnl.last_loaded_day(actual) == D(2026, 11, 2)  # the zero day is not loaded
    assert pnl.last_loaded_day({D(2026, 11, 1): 0.0}) is None
    # 100 + 120 actual + 90 + 90 forecast for days 3 and 4
    assert pnl.month_to_date_blend(actual, forecast, D(2026, 11, 2)) == pytest.approx(400.0)
    assert pnl.month_to_date_blend(actual, forecast, None) == pytest.approx(360.0)  # 4 × 90


BUDGET = {
    "external_revenue": 380_000.0,
    "internal_revenue": 100_000.0,
    "payroll": 40_000.0,
    "claims": 0.0,
    "parking_rents": 2_000.0,
    "other_expense": 30_000.0,
    "pteb": 8_000.0,
    "insurance": 2_080.0,
    "vehicle_insurance": 300.0,
}


def test_forecast_month_of_a_revenue_share_site():
    terms = revenue.SiteTerms({"RevenueShare"}, revenue_share_tiers=(revenue.Tier(0.0, 0.25),))
    inputs = revenue.MonthInputs(
        D(2027, 1, 1), external_revenue=400_000.0, payroll=44_000.0, other_revenue=1_000.0
    )
    lines, breakdown = pnl.forecast_pnl(BUDGET, terms, inputs, other_expense_adjustment=1_500.0)
    assert lines.external_revenue == 400_000.0
    assert breakdown.revenue_share == pytest.approx(100_000.0)  # 400,000 × 25%
    assert lines.internal_revenue == pytest.approx(101_000.0)  # + other revenue 1,000
    assert lines.payroll == 44_000.0
    assert lines.pteb == pytest.approx(8_800.0)  # 8,000 ÷ 40,000 × 44,000
    assert lines.insurance == pytest.approx(2_258.0)  # 4.45% × 44,000 + 300 = 1,958 + 300
    assert lines.claims == 0.0
    assert lines.parking_rents == 2_000.0
    assert lines.other_expense == 31_500.0  # 30,000 + 1,500
    # 101,000 − (44,000 + 0 + 2,000 + 31,500 + 8,800 + 2,258) = 101,000 − 88,558
    assert lines.flc == pytest.approx(12_442.0)


def test_current_month_of_a_management_agreement_site():
    terms = revenue.SiteTerms(
        "ManagementAgreement",
        management=revenue.ManagementAgreementTerms(
            fee_type="FixedFee", fee_amount=1_500.0, claims_cap=5_000.0, claims_cap_type="PerClaim"
        ),
    )
    budget = {
        **BUDGET,
        "parking_rents": 1_000.0,
        "other_expense": 3_000.0,
        "vehicle_insurance": 200.0,
    }
    inputs = revenue.MonthInputs(D(2026, 11, 1), external_revenue=100_000.0, payroll=42_000.0)
    posted = pnl.PostedToDate(claims=(6_000.0,), parking_rents=1_400.0, other_expense=2_500.0)
    lines, breakdown = pnl.forecast_pnl(
        budget, terms, inputs, other_expense_adjustment=500.0, posted=posted
    )
    assert lines.pteb == pytest.approx(8_400.0)  # 8,000 ÷ 40,000 × 42,000
    assert lines.insurance == pytest.approx(2_623.40)  # 5.77% × 42,000 + 200 = 2,423.40 + 200
    assert lines.claims == 6_000.0  # actual only
    assert lines.parking_rents == 1_400.0  # max(1,000, 1,400)
    assert lines.other_expense == 3_500.0  # max(3,000 + 500, 2,500)
    ma = breakdown.management_agreement
    assert (ma.pteb, ma.insurance) == (lines.pteb, lines.insurance)  # passes the P&L lines
    assert ma.claims == 5_000.0  # one claim of 6,000 capped at 5,000
    # 1,500 + 42,000 + 8,400 + 2,623.40 + 5,000 = 59,523.40
    assert lines.internal_revenue == pytest.approx(59_523.40)
    # 59,523.40 − (42,000 + 6,000 + 1,400 + 3,500 + 8,400 + 2,623.40) = 59,523.40 − 63,923.40
    assert lines.flc == pytest.approx(-4_400.0)


def test_forecast_month_falls_back_to_budget_ir():
    terms = revenue.SiteTerms({"FixedFee"}, is_configured=False)
    inputs = revenue.MonthInputs(D(2027, 1, 1), payroll=40_000.0)
    lines, breakdown = pnl.forecast_pnl(BUDGET, terms, inputs)
    assert breakdown.uses_budget_fallback
    assert lines.internal_revenue == 100_000.0  # the budget IR
    assert lines.as_dict()["internal_revenue"] == 100_000.0


def test_cumulative_flc_to_budget():
    # running Σ of (10 − 8), (−5 − 0), (20 − 25) = 2, −3, −8
    assert pnl.cumulative_flc_to_budget([10.0, -5.0, 20.0], [8.0, 0.0, 25.0]) == [2.0, -3.0, -8.0]
    with pytest.raises(ValueError):
        pnl.cumulative_flc_to_budget([1.0], [])


# --- Variance display (§7.5, D4) ----------------------------------------------------------


def test_variance_display_flags():
    high = pnl.variance_display(107.5, 100.0)  # +7.5 ÷ 100 = +7.5%
    assert (high.amount, high.percent, high.bold, high.negative, high.level) == (
        7.5,
        "+7.5%",
        True,
        False,
        "high",
    )
    assert high.basis == "budget"
    low = pnl.variance_display(92.6, 100.0, basis="prior year")  # −7.4 ÷ 100 = −7.4%
    assert (low.percent, low.bold, low.negative, low.level, low.basis) == (
        "-7.4%",
        False,
        True,
        "medium",
        "prior year",
    )
    no_basis = pnl.variance_display(5.0, 0.0)
    assert (no_basis.fraction, no_basis.percent, no_basis.bold, no_basis.level) == (
        None,
        "n/a",
        False,
        None,
    )
    assert pnl.variance_display(100.0, 100.0).percent == "0.0%"
    assert pnl.variance_level(0.049) == "low"


def test_bold_follows_the_displayed_percentage():
    assert pnl.percent_text(0.07449) == "+7.4%" and not pnl.variance_is_bold(0.07449)
    assert pnl.percent_text(0.0745) == "+7.5%" and pnl.variance_is_bold(0.0745)  # half up
    assert pnl.percent_text(-0.1234) == "-12.3%" and pnl.variance_is_bold(-0.1234)
