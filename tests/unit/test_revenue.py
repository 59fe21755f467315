"""Internal revenue components, expected numbers computed by hand."""

import datetime as dt

import pytest

from dashboard.domain import revenue

D = dt.date


def test_escalation_count_january_escalator():
    start = D(2023, 3, 15)
    # Triggers 2024-01-01, 2025-01-01, 2026-01-01 fall after the start and by Feb 2026.
    assert revenue.escalation_count(start, D(2026, 2, 1), 1) == 3
    assert revenue.escalation_count(start, D(2025, 12, 1), 1) == 2
    assert revenue.escalation_count(start, D(2023, 12, 1), 1) == 0
    assert revenue.escalation_count(start, D(2026, 2, 1), None) == 0


def test_line_starting_on_the_trigger_day_is_priced_new():
    assert revenue.escalation_count(D(2024, 1, 1), D(2024, 6, 1), 1) == 0
    assert revenue.escalation_count(D(2024, 1, 1), D(2025, 1, 1), 1) == 1


def test_fixed_fee_compounds_escalators_in_second_and_third_year():
    lines = [(1000.0, D(2023, 3, 15), None), (500.0, D(2020, 1, 1), D(2025, 6, 30))]
    # Feb 2026: the second line has ended; 1000 × 1.03³ = 1092.727
    assert revenue.fixed_fee(lines, D(2026, 2, 1), 1, 0.03) == pytest.approx(1092.727)
    # Dec 2025: 1000 × 1.03² = 1060.90 (second line ended in June)
    assert revenue.fixed_fee(lines, D(2025, 12, 1), 1, 0.03) == pytest.approx(1060.90)
    # Jun 2025, both active: 1060.90 + 500 × 1.03⁵ (2021..2025) = 1060.90 + 579.637 = 1640.537
    assert revenue.fixed_fee(lines, D(2025, 6, 1), 1, 0.03) == pytest.approx(1640.537, abs=1e-3)


def test_july_escalator():
    lines = [(2000.0, D(2024, 3, 1), None)]
    assert revenue.fixed_fee(lines, D(2025, 6, 1), 7, 0.02) == pytest.approx(2040.0)  # 2000 × 1.02
    assert revenue.fixed_fee(lines, D(2025, 7, 1), 7, 0.02) == pytest.approx(2080.8)  # × 1.02²


def test_fee_not_yet_started_is_excluded():
    lines = [(1000.0, D(2026, 3, 1), None)]
    assert revenue.fixed_fee(lines, D(2026, 2, 1), None, 0.0) == 0.0


def test_per_occupied_room():
    assert revenue.per_occupied_room(1.25, 7200) == pytest.approx(9000.0)


def test_per_labor_hour_regular_rate_with_escalator():
    rated = [(100.0, 27.60, D(2025, 1, 15), None), (50.0, 30.0, D(2025, 1, 15), None)]
    # 100 × 27.60 + 50 × 30 = 2760 + 1500 = 4260
    assert revenue.per_labor_hour(rated, D(2025, 11, 1), 1, 0.03) == pytest.approx(4260.0)
    # One January escalation by 2026: 4260 × 1.03 = 4387.80
    assert revenue.per_labor_hour(rated, D(2026, 1, 1), 1, 0.03) == pytest.approx(4387.80)


def test_tiered_share_sorts_tiers_by_lower_bound():
    tiers = [(50_000.0, 0.40), (0.0, 0.20)]  # deliberately unsorted
    # 50,000 × 20% + 30,000 × 40% = 10,000 + 12,000
    assert revenue.tiered_share(80_000.0, tiers) == pytest.approx(22_000.0)
    assert revenue.tiered_share(30_000.0, tiers) == pytest.approx(6_000.0)
    assert revenue.revenue_share_monthly(0.0, tiers) == 0.0


# --- Accumulated tiers --------------------------------------------------------------------

TIERS_10_20 = [revenue.Tier(100_000.0, 0.20), revenue.Tier(0.0, 0.10)]  # unsorted on purpose


def _tuples(tiers):
    return [(t.lower_bound, t.share_pct) for t in tiers]


def test_month_straddling_a_tier_bound_is_split_at_the_bound():
    # Prior 80,000 + month 50,000: 20,000 × 10% + 30,000 × 20% = 2,000 + 6,000 = 8,000
    assert revenue.accumulated_share(50_000.0, 80_000.0, _tuples(TIERS_10_20)) == pytest.approx(
        8_000.0
    )
    # Already past the bound: 50,000 × 20% = 10,000
    assert revenue.revenue_share(50_000.0, _tuples(TIERS_10_20), 150_000.0) == pytest.approx(
        10_000.0
    )
    # Monthly (no prior): 50,000 × 10% = 5,000
    assert revenue.revenue_share(50_000.0, _tuples(TIERS_10_20)) == pytest.approx(5_000.0)


def test_loss_month_gives_back_share_under_accumulation():
    tiers = [(0.0, 0.10), (50_000.0, 0.50)]
    # tiered(40,000) − tiered(60,000) = 4,000 − (5,000 + 10,000 × 50%) = 4,000 − 10,000 = −6,000
    assert revenue.accumulated_share(-20_000.0, 60_000.0, tiers) == pytest.approx(-6_000.0)
    # Monthly accumulation of a loss earns nothing (no tier below 0)
    assert revenue.tiered_share(-20_000.0, tiers) == 0.0


def test_accumulation_period_start():
    start = D(2024, 7, 15)  # anniversary month July
    month = D(2026, 3, 1)
    assert revenue.accumulation_period_start(month, revenue.MONTHLY) == D(2026, 3, 1)
    assert revenue.accumulation_period_start(month, revenue.ANNUAL_CALENDAR) == D(2026, 1, 1)
    assert revenue.accumulation_period_start(month, revenue.ANNUAL_ANNIVERSARY, start) == D(
        2025, 7, 1
    )
    assert revenue.accumulation_period_start(D(2026, 7, 1), revenue.ANNUAL_ANNIVERSARY, start) == D(
        2026, 7, 1
    )
    assert revenue.accumulation_period_start(D(2026, 6, 1), revenue.ANNUAL_ANNIVERSARY, start) == D(
        2025, 7, 1
    )
    # No contract start: the anniversary year falls back to the calendar year
    assert revenue.accumulation_period_start(month, revenue.ANNUAL_ANNIVERSARY) == D(2026, 1, 1)
    with pytest.raises(ValueError):
        revenue.accumulation_period_start(month, "Quarterly")


def _share_months(*months_and_revenue):
    return [revenue.MonthInputs(month_start=m, external_revenue=r) for m, r in months_and_revenue]


def test_revenue_share_series_annual_calendar_resets_in_january():
    terms = revenue.SiteTerms(
        "RevenueShare;DepositedRevenue",
        revenue_share_tiers=tuple(TIERS_10_20),
        revenue_share_accumulation=revenue.ANNUAL_CALENDAR,
    )
    months = _share_months((D(2025, 11, 1), 60_000.0), (D(2025, 12, 1), 60_000.0))
    months += _share_months((D(2026, 1, 1), 60_000.0))
    shares = [b.revenue_share for b in revenue.internal_revenue_series(terms, months)]
    # Nov: 60,000 × 10% = 6,000
    # Dec: YTD 60,000 → 40,000 × 10% + 20,000 × 20% = 4,000 + 4,000 = 8,000
    # Jan: new year → 60,000 × 10% = 6,000
    assert shares == pytest.approx([6_000.0, 8_000.0, 6_000.0])
    # With Jan–Oct revenue of 90,000 carried in: Nov = 10,000 × 10% + 50,000 × 20% = 11,000;
    # Dec = 60,000 × 20% = 12,000; Jan resets (the opening is ignored) = 6,000
    opened = revenue.internal_revenue_series(terms, months, revenue.YearToDate(90_000.0))
    assert [b.revenue_share for b in opened] == pytest.approx([11_000.0, 12_000.0, 6_000.0])


def test_revenue_share_series_monthly_and_anniversary():
    months = _share_months((D(2026, 6, 1), 60_000.0), (D(2026, 7, 1), 60_000.0))
    monthly = revenue.SiteTerms({"RevenueShare"}, revenue_share_tiers=tuple(TIERS_10_20))
    # Each month alone: 60,000 × 10% = 6,000
    assert [b.total for b in revenue.internal_revenue_series(monthly, months)] == pytest.approx(
        [6_000.0, 6_000.0]
    )
    anniversary = revenue.SiteTerms(
        {"RevenueShare"},
        contract_start=D(2023, 7, 10),
        revenue_share_tiers=tuple(TIERS_10_20),
        revenue_share_accumulation=revenue.ANNUAL_ANNIVERSARY,
    )
    # June is the 12th month of the anniversary year (opening YTD 70,000):
    # 30,000 × 10% + 30,000 × 20% = 3,000 + 6,000 = 9,000; July starts a new year: 6,000
    series = revenue.internal_revenue_series(anniversary, months, revenue.YearToDate(70_000.0))
    assert [b.revenue_share for b in series] == pytest.approx([9_000.0, 6_000.0])


def test_series_needs_consecutive_months():
    terms = revenue.SiteTerms({"RevenueShare"}, revenue_share_tiers=tuple(TIERS_10_20))
    months = _share_months((D(2026, 1, 1), 1.0), (D(2026, 3, 1), 1.0))
    with pytest.raises(ValueError):
        revenue.internal_revenue_series(terms, months)


# --- Fixed fee, PLH, POR through the top-level function -----------------------------------


def test_internal_revenue_fixed_fee_plh_hybrid_with_other_revenue():
    terms = revenue.SiteTerms(
        "FixedFee;PerLaborHour",
        increment_month=1,
        increment_pct=0.03,
        fee_lines=(revenue.FeeLine(1000.0, D(2025, 3, 15), name="Valet"),),
        job_rates=(
            revenue.JobRate("GSA", 27.60, D(2025, 1, 15)),
            revenue.JobRate("GSC", 30.00, D(2025, 1, 15)),
            revenue.JobRate("CASH", 20.00, D(2024, 1, 1), D(2025, 12, 31)),  # ended
        ),
    )
    inputs = revenue.MonthInputs(
        month_start=D(2026, 2, 1),
        hours_by_job_code={"GSA": 100.0, "GSC": 50.0, "CASH": 80.0, "MGR": 160.0},
        other_revenue=-250.0,  # e.g. a GPO fee
    )
    result = revenue.internal_revenue(terms, inputs)
    assert result.fixed_fee == pytest.approx(1030.0)  # 1000 × 1.03 (Jan 2026 escalation)
    # (100 × 27.60 + 50 × 30) × 1.03 = 4260 × 1.03 = 4387.80; CASH ended, MGR has no rate
    assert result.per_labor_hour == pytest.approx(4387.80)
    assert result.other_revenue == -250.0
    assert result.total == pytest.approx(5167.80)  # 1030 + 4387.80 − 250
    assert not result.uses_budget_fallback and result.notes == ()


def test_internal_revenue_per_occupied_room():
    terms = revenue.SiteTerms({"PerOccupiedRoom"}, occupied_room_rate=1.25)
    inputs = revenue.MonthInputs(D(2026, 3, 1), occupied_rooms=7_200.0)
    assert revenue.internal_revenue(terms, inputs).total == pytest.approx(9_000.0)  # 1.25 × 7,200


def test_flags_from_text_and_modifiers_do_not_earn():
    terms = revenue.SiteTerms("RevenueShare; DepositedRevenue")
    assert terms.contract_types == frozenset({"RevenueShare", "DepositedRevenue"})
    assert terms.has(revenue.REVENUE_SHARE) and not terms.is_management_agreement


# --- Billable accounts --------------------------------------------------------------------

ACCOUNTS = (
    revenue.BillableAccount("6010", "payroll"),
    revenue.BillableAccount("6020", "payroll"),
    revenue.BillableAccount("6050", "payroll", enabled=False),
    revenue.BillableAccount("7115", "expense"),
    revenue.BillableAccount("7220", "expense", enabled=False),
)
AMOUNTS = {"6010": 20_000.0, "6020": 5_000.0, "6050": 3_000.0, "7115": 1_200.0, "7220": 400.0}


def _billable(**overrides):
    base = dict(
        accounts=ACCOUNTS,
        additional_payroll_amount=500.0,
        pteb_enabled=True,
        pteb_type=revenue.PERCENTAGE,
        pteb_pct=0.32,
        pteb_escalator_month=7,
        pteb_escalator_value=100.0,
        pteb_escalator_type=revenue.AMOUNT,
        support_enabled=True,
        support_type=revenue.PERCENTAGE,
        support_amount=0.025,
        support_payroll_type=revenue.BILLABLE_PAYROLL,
    )
    base.update(overrides)
    return revenue.BillableAccountTerms(**base)


def test_billable_accounts_components():
    inputs = revenue.MonthInputs(D(2026, 3, 1), account_amounts=AMOUNTS, pteb=7_000.0)
    parts = revenue.billable_accounts(_billable(), inputs)
    assert parts.additional_payroll == pytest.approx(25_500.0)  # 20,000 + 5,000 + 500 (6050 off)
    assert parts.pteb == pytest.approx(8_160.0)  # 25,500 × 32%, before the July escalator
    assert parts.support_services == pytest.approx(637.50)  # 25,500 × 2.5%
    assert parts.expense_accounts == pytest.approx(1_200.0)  # 7115 only (7220 off)
    assert parts.total == pytest.approx(35_497.50)  # 25,500 + 8,160 + 637.50 + 1,200

    terms = revenue.SiteTerms({"BillingAccount"}, billable=_billable())
    assert revenue.internal_revenue(terms, inputs).total == pytest.approx(35_497.50)


def test_billable_pteb_escalator_and_types():
    july = D(2026, 7, 1)
    # Amount escalator from July: 8,160 + 100 = 8,260
    assert revenue.billable_pteb(_billable(), 25_500.0, 7_000.0, july) == pytest.approx(8_260.0)
    pct = _billable(pteb_escalator_type=revenue.PERCENTAGE, pteb_escalator_value=0.05)
    assert revenue.billable_pteb(pct, 25_500.0, 7_000.0, july) == pytest.approx(8_568.0)  # ×1.05
    assert revenue.billable_pteb(pct, 25_500.0, 7_000.0, D(2026, 6, 1)) == pytest.approx(8_160.0)
    # Actual: the month's P&L PTEB, no escalator
    actual = _billable(pteb_type=revenue.ACTUAL)
    assert revenue.billable_pteb(actual, 25_500.0, 7_000.0, july) == 7_000.0
    assert revenue.billable_pteb(_billable(pteb_enabled=False), 25_500.0, 7_000.0, july) == 0.0


def test_support_services_types():
    total = _billable(support_amount=0.02, support_payroll_type=revenue.TOTAL_PAYROLL)
    # 2% × (25,500 + 8,160) = 2% × 33,660 = 673.20
    assert revenue.support_services(total, 25_500.0, 8_160.0) == pytest.approx(673.20)
    fixed = _billable(support_type=revenue.FIXED, support_amount=1_500.0)
    assert revenue.support_services(fixed, 25_500.0, 8_160.0) == 1_500.0
    assert revenue.support_services(_billable(support_enabled=False), 25_500.0, 0.0) == 0.0
    with pytest.raises(ValueError):
        revenue.support_services(_billable(support_type="Hourly"), 1.0, 1.0)


# --- Management agreement -----------------------------------------------------------------


def _ma_terms(**overrides):
    ma = dict(
        fee_type=revenue.MA_FIXED_FEE,
        fee_amount=1_500.0,
        claims_cap=5_000.0,
        claims_cap_type=revenue.PER_CLAIM,
        profit_share_tiers=(revenue.Tier(50_000.0, 0.50), revenue.Tier(0.0, 0.10)),
        billable_expenses=(
            revenue.NonGlExpense(revenue.FIXED_AMOUNT, 350.0, "Shuttle fuel"),
            revenue.NonGlExpense(revenue.PAYROLL_PERCENT, 0.01),
            revenue.NonGlExpense(revenue.REVENUE_PERCENT, 0.005),
        ),
    )
    ma.update(overrides)
    billable = _billable(
        support_amount=0.02, support_payroll_type=revenue.TOTAL_PAYROLL, pteb_enabled=False
    )
    return revenue.SiteTerms(
        "DepositedRevenue;BillingAccount;ManagementAgreement",
        billable=billable,
        management=revenue.ManagementAgreementTerms(**ma),
    )


MA_INPUTS = revenue.MonthInputs(
    D(2026, 3, 1),
    external_revenue=120_000.0,
    hours_by_job_code={"GSA": 100.0, "GSC": 60.0},
    payroll=40_000.0,
    pteb=9_000.0,
    insurance=2_500.0,
    claims=(3_000.0, 7_000.0),
    account_amounts=AMOUNTS,
)


def test_management_agreement_passes_through_and_shares_profit():
    result = revenue.internal_revenue(_ma_terms(), MA_INPUTS)
    ma = result.management_agreement
    assert result.billable_accounts is None  # the MA already passes the accounts through
    assert ma.management_fee == 1_500.0
    assert (ma.payroll, ma.pteb, ma.insurance) == (40_000.0, 9_000.0, 2_500.0)
    assert ma.claims == pytest.approx(8_000.0)  # min(3,000, 5,000) + min(7,000, 5,000)
    assert ma.support_services == pytest.approx(980.0)  # 2% × (40,000 + 9,000)
    assert ma.expense_accounts == pytest.approx(1_200.0)  # enabled 7115
    # 350 + 1% × 40,000 + 0.5% × 120,000 = 350 + 400 + 600
    assert ma.non_gl_expenses == pytest.approx(1_350.0)
    # 1,500 + 40,000 + 9,000 + 2,500 + 8,000 + 980 + 1,200 + 1,350 = 64,530
    assert ma.billed_before_profit_share == pytest.approx(64_530.0)
    assert ma.profit_basis == pytest.approx(55_470.0)  # 120,000 − 64,530
    # 50,000 × 10% + 5,470 × 50% = 5,000 + 2,735
    assert ma.profit_share == pytest.approx(7_735.0)
    assert result.total == pytest.approx(72_265.0)  # 64,530 + 7,735


def test_management_fee_types():
    assert revenue.management_fee(None, 9.0, 160.0, 1.0) == 0.0
    assert revenue.management_fee("PerLaborHour", 2.50, 160.0, 0.0) == pytest.approx(400.0)
    assert revenue.management_fee("RevenuePercentage", 0.03, 0.0, 120_000.0) == pytest.approx(
        3_600.0
    )
    with pytest.raises(ValueError):
        revenue.management_fee("Weekly", 1.0, 1.0, 1.0)


def test_claims_caps():
    claims = (1_000.0, 4_000.0)
    # Annual cap 10,000 with 7,500 already billed: min(5,000, 2,500) = 2,500
    assert revenue.claims_pass_through(claims, 10_000.0, "AnnualCalendar", 7_500.0) == 2_500.0
    assert revenue.claims_pass_through(claims, 10_000.0, "AnnualAnniversary", 12_000.0) == 0.0
    assert revenue.claims_pass_through(claims, 3_000.0, "PerClaim") == 4_000.0  # 1,000 + 3,000
    assert revenue.claims_pass_through(claims, 0.0, None) == 5_000.0  # uncapped


def test_claims_cap_carries_through_the_year():
    terms = _ma_terms(
        claims_cap=6_000.0, claims_cap_type=revenue.ANNUAL_CALENDAR, profit_share_tiers=()
    )
    months = [
        revenue.MonthInputs(D(2025, 11, 1), claims=(4_000.0,)),
        revenue.MonthInputs(D(2025, 12, 1), claims=(4_000.0,)),
        revenue.MonthInputs(D(2026, 1, 1), claims=(4_000.0,)),
    ]
    billed = [b.management_agreement.claims for b in revenue.internal_revenue_series(terms, months)]
    # Nov 4,000; Dec what is left of 6,000 = 2,000; Jan a new cap year = 4,000
    assert billed == pytest.approx([4_000.0, 2_000.0, 4_000.0])


def test_profit_share_annual_accumulation_across_months():
    terms = _ma_terms(
        fee_type=None,
        billable_expenses=(),
        profit_share_accumulation=revenue.ANNUAL_CALENDAR,
        profit_share_tiers=(revenue.Tier(0.0, 0.10), revenue.Tier(50_000.0, 0.50)),
    )
    months = [
        revenue.MonthInputs(D(2026, 1, 1), external_revenue=70_000.0, payroll=30_000.0),
        revenue.MonthInputs(D(2026, 2, 1), external_revenue=70_000.0, payroll=30_000.0),
    ]
    series = revenue.internal_revenue_series(terms, months)
    # Profit basis each month: 70,000 − 30,000 payroll − 2% × 30,000 support (600) = 39,400
    assert [b.management_agreement.profit_basis for b in series] == pytest.approx([39_400.0] * 2)
    # Jan: 39,400 × 10% = 3,940. Feb: YTD 39,400 → 10,600 × 10% + 28,800 × 50% = 1,060 + 14,400
    assert [b.management_agreement.profit_share for b in series] == pytest.approx(
        [3_940.0, 15_460.0]
    )
    assert "no management fee" in series[0].notes[0]


def test_management_agreement_fixed_insurance_fee():
    terms = _ma_terms(insurance_type="FixedFee", insurance_fixed_amount=800.0)
    assert revenue.internal_revenue(terms, MA_INPUTS).management_agreement.insurance == 800.0
    unset = revenue.internal_revenue(_ma_terms(insurance_type="FixedFee"), MA_INPUTS)
    assert unset.management_agreement.insurance == 0.0
    assert any("fixed insurance fee has no amount" in note for note in unset.notes)


# --- Budget fallback ----------------------------------------------------------------------

FALLBACK_INPUTS = revenue.MonthInputs(
    D(2026, 3, 1),
    external_revenue=90_000.0,
    budget_internal_revenue=50_000.0,
    other_revenue=1_200.0,
    other_revenue_budget=1_000.0,
)


def test_unconfigured_terms_fall_back_to_budget_with_a_reason():
    terms = revenue.SiteTerms({"RevenueShare"}, is_configured=False)
    result = revenue.internal_revenue(terms, FALLBACK_INPUTS)
    assert result.uses_budget_fallback and "not configured" in result.fallback_reason
    # Budget IR + the Other Revenue tab's change against budget: 50,000 + (1,200 − 1,000)
    assert result.total == pytest.approx(50_200.0)


def test_no_earning_type_or_no_component_configured_falls_back():
    modifiers_only = revenue.internal_revenue(
        revenue.SiteTerms("DepositedRevenue"), FALLBACK_INPUTS
    )
    assert "no internal-revenue contract type" in modifiers_only.fallback_reason
    assert modifiers_only.total == pytest.approx(50_200.0)
    empty = revenue.internal_revenue(revenue.SiteTerms("FixedFee;PerLaborHour"), FALLBACK_INPUTS)
    assert "FixedFee: no fee lines" in empty.fallback_reason
    assert "PerLaborHour: no billable job rates" in empty.fallback_reason
    assert empty.total == pytest.approx(50_200.0)


def test_partly_configured_hybrid_computes_what_it_can_and_says_what_it_skipped():
    terms = revenue.SiteTerms("FixedFee;RevenueShare", revenue_share_tiers=(revenue.Tier(0, 0.2),))
    result = revenue.internal_revenue(terms, FALLBACK_INPUTS)
    assert not result.uses_budget_fallback
    assert result.notes == ("FixedFee not computed: no fee lines.",)
    # 90,000 × 20% + the full other revenue forecast 1,200 = 18,000 + 1,200
    assert result.total == pytest.approx(19_200.0)


def test_unknown_accumulation_is_an_error_not_a_silent_monthly():
    terms = revenue.SiteTerms(
        {"RevenueShare"}, revenue_share_tiers=tuple(TIERS_10_20), revenue_share_accumulation="Qtr"
    )
    with pytest.raises(ValueError):
        revenue.internal_revenue(terms, revenue.MonthInputs(D(2026, 1, 1), external_revenue=1.0))
