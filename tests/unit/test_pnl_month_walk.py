"""The site-year month walk of ``dashboard.domain.pnl`` (DOMAIN.md §7.1, §7.2, §7.4): closed
months from the ledger, forecast and trending months through ``forecast_pnl``, the year to
date carried by accumulating sites. Expected numbers computed by hand in the comments."""

import datetime as dt

import pytest

from dashboard.domain import adjustments, pnl, revenue

D = dt.date
SITE = 7
CATEGORIES = adjustments.OTHER_EXPENSE_FIELDS

# 10,000 a month since March 2024, +3% every January: two escalations by any month of 2026
# (2025-01-01 and 2026-01-01) → 10,000 × 1.03² = 10,609.
FIXED_FEE_SITE = revenue.SiteTerms(
    {"FixedFee"},
    increment_month=1,
    increment_pct=0.03,
    contract_start=D(2024, 3, 1),
    fee_lines=(revenue.FeeLine(10_000.0, D(2024, 3, 1), None, "Base"),),
)
FEE_2026 = 10_609.0

# 10% of external revenue up to 100,000 a calendar year, 20% above.
ANNUAL_SHARE_SITE = revenue.SiteTerms(
    {"RevenueShare"},
    revenue_share_tiers=(revenue.Tier(100_000.0, 0.20), revenue.Tier(0.0, 0.10)),
    revenue_share_accumulation=revenue.ANNUAL_CALENDAR,
)


def _ledger_row(**lines: float) -> dict[str, float]:
    """A ``PnlMonth`` row as the service reads it (every field, missing = 0)."""
    fields = (*pnl.PNL_LINES, "vehicle_insurance", "occupied_rooms")
    return {f: float(lines.get(f, 0.0)) for f in fields}


def _drivers(external_revenue: float, payroll: float = 0.0, **more: float) -> dict[str, float]:
    return {
        "external_revenue": external_revenue,
        "occupied_rooms": 0.0,
        "payroll": payroll,
        "hourly_payroll": payroll,
        "salaried_payroll": 0.0,
        "labor_hours": 0.0,
        "other_revenue": 0.0,
        "other_revenue_budget": 0.0,
        **more,
    }


def _categories(**amounts: float) -> dict[str, float]:
    return {c: float(amounts.get(c, 0.0)) for c in CATEGORIES}


def _walk(terms, months, today, ledger, drivers, expenses=None, closes=None, chained=(), keep=None):
    kinds = {ym: pnl.month_kind(*ym, today) for ym in months}
    inputs = pnl.MonthWalkInputs(drivers, {}, expenses or {})
    return pnl.walk_months(
        [SITE], months, {SITE: terms}, kinds, ledger, closes or {}, set(chained), inputs, keep
    )


def _lines(row: dict) -> dict[str, float]:
    return {line: row[line] for line in pnl.PNL_LINES}


# --- A fixed-fee site: a closed month and a forecast month ----------------------------------

OCTOBER_ACTUAL = _ledger_row(
    external_revenue=48_000,
    internal_revenue=10_609,
    payroll=6_100,
    parking_rents=1_000,
    other_expense=1_900,
    pteb=915,
    insurance=372,
)
DECEMBER_BUDGET = _ledger_row(
    internal_revenue=10_000,
    payroll=6_000,
    parking_rents=1_000,
    other_expense=2_000,
    pteb=900,
    insurance=367,
    vehicle_insurance=100,
)


def _fixed_fee_walk(closes=None):
    # Today is in November: October is closed, December is forecast.
    ledger = {
        (SITE, 2026, 10, "actual"): OCTOBER_ACTUAL,
        (SITE, 2026, 12, "budget"): DECEMBER_BUDGET,
    }
    drivers = {
        (SITE, 2026, 12): _drivers(
            52_000.0, payroll=6_600.0, other_revenue=250.0, other_revenue_budget=200.0
        )
    }
    expenses = {
        (SITE, 2026, 12, "budget"): _categories(
            rents_parking=1_000, office_supplies=300, uniforms=200
        ),
        (SITE, 2026, 12, "forecast"): _categories(
            rents_parking=1_000, office_supplies=450, uniforms=200
        ),
    }
    months = [(2026, 10), (2026, 12)]
    return _walk(FIXED_FEE_SITE, months, D(2026, 11, 23), ledger, drivers, expenses, closes)


def test_fixed_fee_site_closed_month_is_the_ledger_and_forecast_month_is_computed():
    october, december = _fixed_fee_walk()
    assert (october["kind"], december["kind"]) == (pnl.ACTUAL_MONTH, pnl.FORECAST_MONTH)
    # The closed month is the ledger's actual row as posted, line by line.
    assert _lines(october) == {line: OCTOBER_ACTUAL[line] for line in pnl.PNL_LINES}
    assert october["ir_fallback"] is None

    assert december["external_revenue"] == 52_000.0
    assert december["payroll"] == 6_600.0  # the forecast payroll
    assert december["pteb"] == pytest.approx(990.0)  # 900 ÷ 6,000 × 6,600
    assert december["insurance"] == pytest.approx(393.70)  # 4.45% × 6,600 + 100 = 293.70 + 100
    assert december["claims"] == 0.0  # never forecast
    assert december["parking_rents"] == 1_000.0  # rents: forecast 1,000 − budget 1,000 = 0
    # Office supplies 450 − 300 = +150 on the Other Expense line: 2,000 + 150
    assert december["other_expense"] == pytest.approx(2_150.0)
    # Fixed fee 10,609 + the Other Revenue tab's forecast 250
    assert december["internal_revenue"] == pytest.approx(FEE_2026 + 250.0)
    assert december["ir_fallback"] is None
    # FLC = 10,859 − (6,600 + 0 + 1,000 + 2,150 + 990 + 393.70) = 10,859 − 11,133.70
    assert pnl.flc(december) == pytest.approx(-274.70)


def test_a_site_closed_before_a_forecast_month_shows_zero_then():
    october, december = _fixed_fee_walk(closes={SITE: D(2026, 11, 15)})
    assert _lines(october) == {line: OCTOBER_ACTUAL[line] for line in pnl.PNL_LINES}
    assert _lines(december) == dict.fromkeys(pnl.PNL_LINES, 0.0)  # December 1 > November 15


def test_a_missing_ledger_month_reads_zero():
    (october,) = _walk(FIXED_FEE_SITE, [(2026, 10)], D(2026, 11, 23), {}, {})
    assert _lines(october) == dict.fromkeys(pnl.PNL_LINES, 0.0)


# --- A revenue share on annual tiers: the year to date --------------------------------------

SHARE_MONTHS = [(2026, 12), (2027, 1), (2027, 2), (2027, 3)]
SHARE_TODAY = D(2027, 2, 10)  # December and January closed, February trending, March forecast
SHARE_LEDGER = {
    (SITE, 2026, 12, "actual"): _ledger_row(external_revenue=90_000, internal_revenue=9_000),
    (SITE, 2027, 1, "actual"): _ledger_row(external_revenue=60_000, internal_revenue=6_000),
}
SHARE_DRIVERS = {
    (SITE, 2027, 2): _drivers(30_000.0),
    (SITE, 2027, 3): _drivers(50_000.0),
}


def test_annual_revenue_share_carries_the_year_to_date_from_the_closed_months():
    assert pnl.accumulates(ANNUAL_SHARE_SITE)
    rows = _walk(
        ANNUAL_SHARE_SITE, SHARE_MONTHS, SHARE_TODAY, SHARE_LEDGER, SHARE_DRIVERS, chained={SITE}
    )
    assert [r["kind"] for r in rows] == ["actual", "actual", "trending", "forecast"]
    december, january, february, march = rows
    # Closed months show the ledger, whatever the terms would give.
    assert (december["internal_revenue"], january["internal_revenue"]) == (9_000.0, 6_000.0)
    # December's 90,000 belongs to 2026: January starts a new year, so February starts from
    # January's 60,000: tiered(90,000) − tiered(60,000) = 9,000 − 6,000 = 3,000 (all at 10%).
    # (Had December carried over, February would start at 150,000: 30,000 × 20% = 6,000.)
    assert february["internal_revenue"] == pytest.approx(3_000.0)
    # March starts from 90,000 and crosses the 100,000 bound:
    # 10,000 × 10% + 40,000 × 20% = 1,000 + 8,000 = 9,000
    assert march["internal_revenue"] == pytest.approx(9_000.0)
    assert february["external_revenue"] == 30_000.0
    assert march["external_revenue"] == 50_000.0


def test_without_the_chain_each_month_starts_the_tiers_at_zero():
    rows = _walk(ANNUAL_SHARE_SITE, SHARE_MONTHS, SHARE_TODAY, SHARE_LEDGER, SHARE_DRIVERS)
    february, march = rows[2], rows[3]
    assert february["internal_revenue"] == pytest.approx(3_000.0)  # 30,000 × 10%
    assert march["internal_revenue"] == pytest.approx(5_000.0)  # 50,000 × 10%, not 9,000


def test_kept_months_skip_only_sites_without_a_year_to_date():
    keep = {(2027, 3)}
    args = (ANNUAL_SHARE_SITE, SHARE_MONTHS, SHARE_TODAY, SHARE_LEDGER, SHARE_DRIVERS)
    chained = _walk(*args, chained={SITE}, keep=keep)
    alone = _walk(*args, keep=keep)
    # The chained site walks every month for its year to date; March is still 9,000.
    assert [(r["year"], r["month"]) for r in chained] == SHARE_MONTHS
    assert chained[-1]["internal_revenue"] == pytest.approx(9_000.0)
    assert [(r["year"], r["month"]) for r in alone] == [(2027, 3)]
    assert alone[0]["internal_revenue"] == pytest.approx(5_000.0)


# --- The current month: max(forecast, posted) per main account ------------------------------

NOVEMBER_BUDGET = _ledger_row(payroll=6_000, parking_rents=1_000, other_expense=3_000, pteb=900)
NOVEMBER_EXPENSES = {
    (SITE, 2026, 11, "budget"): _categories(
        rents_parking=1_000, office_supplies=1_200, outside_services=1_800
    ),
    (SITE, 2026, 11, "forecast"): _categories(
        rents_parking=1_000, office_supplies=1_500, outside_services=1_800
    ),
    # Posted so far this month (the Other Expenses tab's actual row).
    (SITE, 2026, 11, "actual"): _categories(
        rents_parking=1_250, office_supplies=400, outside_services=2_100, loss_damage_claims=700
    ),
}


def test_posted_to_date_takes_the_larger_of_forecast_and_posted_per_account():
    forecast = NOVEMBER_EXPENSES[(SITE, 2026, 11, "forecast")]
    posted = pnl.posted_to_date(forecast, NOVEMBER_EXPENSES[(SITE, 2026, 11, "actual")])
    assert posted.claims == (700.0,)  # claims as posted
    assert posted.parking_rents == 1_250.0  # max(1,000, 1,250)
    # Office supplies max(1,500, 400) + outside services max(1,800, 2,100) = 1,500 + 2,100;
    # the posted claim (GL 7100) books to Claims, not to Other Expense.
    assert posted.other_expense == pytest.approx(3_600.0)
    assert pnl.posted_to_date(forecast, None) == pnl.PostedToDate((), 1_000.0, 3_300.0)


def test_trending_month_lines_use_what_has_posted():
    drivers = {(SITE, 2026, 11): _drivers(50_000.0, payroll=6_600.0)}
    ledger = {(SITE, 2026, 11, "budget"): NOVEMBER_BUDGET}
    (november,) = _walk(
        FIXED_FEE_SITE, [(2026, 11)], D(2026, 11, 23), ledger, drivers, NOVEMBER_EXPENSES
    )
    assert november["kind"] == pnl.TRENDING_MONTH
    assert november["claims"] == 700.0
    assert november["parking_rents"] == 1_250.0  # max(budget 1,000 + 0, posted 1,250)
    # Forecast line 3,000 + (1,500 − 1,200) = 3,300; per account the posted rule gives 3,600
    # (comparing line totals would give max(3,300, 400 + 2,100) = 3,300).
    assert november["other_expense"] == pytest.approx(3_600.0)
    assert november["internal_revenue"] == pytest.approx(FEE_2026)
    assert november["pteb"] == pytest.approx(990.0)  # forecast until the month closes

    # The same inputs as a forecast month ignore the postings.
    (later,) = _walk(
        FIXED_FEE_SITE, [(2026, 11)], D(2026, 10, 5), ledger, drivers, NOVEMBER_EXPENSES
    )
    assert later["kind"] == pnl.FORECAST_MONTH
    assert (later["claims"], later["parking_rents"]) == (0.0, 1_000.0)
    assert later["other_expense"] == pytest.approx(3_300.0)


# --- Billable accounts and the predicates on the terms --------------------------------------


def test_account_amounts_map_categories_to_gl_accounts_and_wages_to_forecast_payroll():
    billed = revenue.SiteTerms(
        {"BillingAccount"},
        billable=revenue.BillableAccountTerms(
            accounts=(revenue.BillableAccount("6010", "payroll"),)
        ),
    )
    categories = _categories(uniforms=120, rents_parking=900)
    drivers = _drivers(0.0, payroll=5_000.0, hourly_payroll=4_000.0, salaried_payroll=1_000.0)
    amounts = pnl.account_amounts(billed, categories, drivers)
    assert amounts["7220"] == 120.0  # Uniforms
    assert amounts["7170"] == 900.0  # Rents – Parking
    assert (amounts["6010"], amounts["6020"]) == (4_000.0, 1_000.0)  # hourly, salaried
    assert "6050" not in amounts  # overtime is inside the hourly cost already
    assert len(amounts) == len(CATEGORIES) + 2
    # A closed month has no forecast payroll: only the categories.
    assert "6010" not in pnl.account_amounts(billed, categories, None)
    # A site without billable accounts needs none.
    assert pnl.account_amounts(FIXED_FEE_SITE, categories, drivers) == {}


def test_which_terms_need_a_year_to_date_a_year_back_or_hours():
    monthly = revenue.SiteTerms({"RevenueShare"}, revenue_share_tiers=(revenue.Tier(0.0, 0.1),))
    assert not pnl.accumulates(monthly)
    unconfigured = revenue.SiteTerms(
        {"RevenueShare"},
        is_configured=False,
        revenue_share_tiers=(revenue.Tier(0.0, 0.1),),
        revenue_share_accumulation=revenue.ANNUAL_CALENDAR,
    )
    assert not pnl.accumulates(unconfigured)  # its IR is the budget's
    anniversary = revenue.SiteTerms(
        {"RevenueShare"},
        contract_start=D(2023, 7, 10),
        revenue_share_tiers=(revenue.Tier(0.0, 0.1),),
        revenue_share_accumulation=revenue.ANNUAL_ANNIVERSARY,
    )
    # A July anniversary year: January's year to date began last July.
    assert pnl.accumulates(anniversary) and pnl.looks_back(anniversary)
    assert not pnl.looks_back(ANNUAL_SHARE_SITE)  # a calendar year starts in January
    capped = revenue.SiteTerms(
        {"ManagementAgreement"},
        management=revenue.ManagementAgreementTerms(
            fee_type=revenue.MA_PER_LABOR_HOUR, claims_cap_type=revenue.ANNUAL_CALENDAR
        ),
    )
    assert pnl.annual_accumulations(capped) == [revenue.ANNUAL_CALENDAR]  # the claims cap
    assert pnl.needs_hours(capped)  # a fee per labor hour
    assert pnl.needs_hours(revenue.SiteTerms({"PerLaborHour"}))
    assert not pnl.needs_hours(FIXED_FEE_SITE)
