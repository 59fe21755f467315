"""Other Revenue and Other Expenses tab rules (DOMAIN.md §6, §7.5, §10, decisions D2, D4, D9).
Every expected number is worked out by hand in a comment."""

import datetime as dt

import pytest

from dashboard.data import models
from dashboard.domain import adjustments as adj

D = dt.date


def test_field_names_match_the_tables():
    assert set(adj.OTHER_REVENUE_FIELDS) == set(models.OTHER_REVENUE_FIELDS)
    assert {f: acct for f, (_label, acct) in adj.OTHER_EXPENSE_CATEGORIES.items()} == (
        models.OTHER_EXPENSE_ACCOUNTS
    )


# --- Validation (D9, §6.2, §10) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("gpo_fees", -250, True),  # fees reduce revenue: negative
        ("gpo_fees", 0, True),  # ≤ 0 allows clearing the cell
        ("gpo_fees", 250, False),
        ("signing_bonuses", -500, True),
        ("signing_bonuses", 500, False),
        ("client_paid_expenses", -100, True),
        ("client_paid_expenses", 0.01, False),
        ("billable_expenses", 1200, True),
        ("billable_expenses", 0, True),
        ("billable_expenses", -1, False),
        ("revenue_validations", 300, True),
        ("revenue_validations", -1, False),  # not a signed item: §10 no negatives
        ("miscellaneous", -300, True),  # either sign
        ("miscellaneous", 300, True),
        ("miscellaneous", 9_999_999.99, True),  # the cap itself
        ("miscellaneous", -10_000_000, False),  # past ±9,999,999.99
        ("billable_expenses", None, False),  # not a number
        ("credits", 10, False),  # renamed to miscellaneous; not a column
    ],
)
def test_validate_other_revenue(field, value, ok):
    assert (adj.validate_other_revenue(field, value) is None) is ok


def test_other_revenue_messages():
    assert adj.validate_other_revenue("gpo_fees", 250) == (
        "GPO Fees reduce revenue: enter them as a negative amount (e.g. -250)."
    )
    assert adj.validate_other_revenue("billable_expenses", -1) == (
        "Billable Expenses cannot be negative."
    )
    assert adj.validate_other_revenue("miscellaneous", None) == (
        "Miscellaneous: enter an amount in dollars."
    )


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("uniforms", 1234.56, True),
        ("uniforms", 0, True),
        ("uniforms", -0.01, False),  # positive only (§6.2)
        ("rents_parking", 10_000_000, False),  # over 9,999,999.99
        ("signage", None, False),
        ("parking_rents", 10, False),  # a P&L line, not a category
    ],
)
def test_validate_other_expense(field, value, ok):
    assert (adj.validate_other_expense(field, value) is None) is ok


def test_other_expense_message_names_the_category():
    assert adj.validate_other_expense("rm_vehicle", -5) == "R&M – Vehicle cannot be negative."


# --- Month values and totals -------------------------------------------------------------------


def test_month_values_use_forecast_else_budget_else_zero():
    budget = {"billable_expenses": 100.0, "gpo_fees": -20.0}
    fields = adj.OTHER_REVENUE_FIELDS
    shown = adj.month_values(None, budget, fields)
    assert shown["billable_expenses"] == 100.0 and shown["gpo_fees"] == -20.0
    assert shown["signing_bonuses"] == 0.0  # missing in the budget → 0
    # a saved forecast wins as a whole row: its missing gpo_fees reads 0, not the budget's −20
    saved = adj.month_values({"billable_expenses": 50.0}, budget, fields)
    assert saved["billable_expenses"] == 50.0 and saved["gpo_fees"] == 0.0
    assert set(adj.month_values(None, None, fields).values()) == {0.0}


@pytest.mark.parametrize(
    ("value", "budget", "differs"),
    [
        (100.004, 100, False),  # 0.004 rounds to 0.00
        (100.01, 100, True),
        (5, None, True),  # missing budget = 0
        (0, None, False),
        (-250, -200, True),
    ],
)
def test_differs_from_budget(value, budget, differs):
    assert adj.differs_from_budget(value, budget) is differs


def test_other_revenue_total_is_a_signed_sum():
    month = {
        "billable_expenses": 1200.0,
        "revenue_validations": 300.0,
        "miscellaneous": -50.0,
        "gpo_fees": -200.0,
        "signing_bonuses": -500.0,
        "client_paid_expenses": -100.0,
    }
    # 1200 + 300 − 50 − 200 − 500 − 100 = 650
    assert adj.other_revenue_total(month) == pytest.approx(650.0)


def test_other_expense_total_and_adjustments():
    assert adj.other_expense_total({"uniforms": 100.0, "signage": 50.5}) == pytest.approx(150.5)
    changes = adj.expense_adjustments({"uniforms": 150.0}, {"uniforms": 100.0, "signage": 40.0})
    assert changes["uniforms"] == pytest.approx(50.0)  # 150 − 100
    assert changes["signage"] == pytest.approx(-40.0)  # 0 − 40
    assert changes["fuel_vehicles"] == 0.0  # 0 − 0
    assert len(changes) == 12


# --- Variance colour band (§6.1) ---------------------------------------------------------------


def test_revenue_variance():
    assert adj.revenue_variance(110, 100) == pytest.approx((10.0, 0.10))  # 10 ÷ 100
    # fees more negative than budget: −10 ÷ |−100| = −10% (less revenue)
    assert adj.revenue_variance(-110, -100) == pytest.approx((-10.0, -0.10))
    assert adj.revenue_variance(5, 0) == (5, None)  # D4: basis 0 → n/a


@pytest.mark.parametrize(
    ("fraction", "band"),
    [
        (0.06, "green"),  # > +5%
        (0.05, "light_green"),  # +5% itself is the inner band
        (0.01, "light_green"),
        (0.0, None),  # equal to budget, no band
        (-0.01, "amber"),
        (-0.05, "amber"),  # −5% itself is the inner band
        (-0.0501, "red"),
        (None, None),  # n/a
    ],
)
def test_variance_band(fraction, band):
    assert adj.variance_band(fraction) == band


@pytest.mark.parametrize(
    ("forecast", "budget", "band"),
    [
        (106, 100, "green"),  # +6%
        (105, 100, "light_green"),  # +5%
        (1.05, 1.0, "light_green"),  # +5% despite 1.05 − 1 = 0.050000000000000044
        (96, 100, "amber"),  # −4%
        (94, 100, "red"),  # −6%
        (-110, -100, "red"),  # fees 10% over budget = −10% revenue
        (-95, -100, "light_green"),  # fees 5% under budget = +5% revenue
        (100, 0, None),  # n/a
    ],
)
def test_other_revenue_band(forecast, budget, band):
    assert adj.other_revenue_band(forecast, budget) == band


# --- Editable months (§2.7, §6, D2) ------------------------------------------------------------

TODAY = D(2025, 6, 15)


def test_tab_months_are_twelve_from_the_start():
    months = adj.tab_months(2025, 6)
    assert months[0] == (2025, 6)
    assert months[6] == (2025, 12)
    assert months[7] == (2026, 1)  # rolls into the next year
    assert months[-1] == (2026, 5)  # June + 11 months
    assert len(months) == 12


@pytest.mark.parametrize(
    ("year", "month", "locked"),
    [
        (2025, 5, True),  # last month
        (2024, 12, True),
        (2025, 6, False),  # the current month stays editable
        (2025, 7, False),
        (2026, 1, False),
    ],
)
def test_other_revenue_lock(year, month, locked):
    assert (adj.other_revenue_lock_reason(year, month, TODAY) is not None) is locked


def test_other_expense_lock_also_covers_actualised_months():
    assert adj.other_expense_lock_reason(2025, 6, TODAY) is None
    assert "Actual expenses" in adj.other_expense_lock_reason(2025, 6, TODAY, actualised=True)
    assert adj.other_expense_lock_reason(2025, 5, TODAY) == "Past months are read-only."


def test_editable_months():
    revenue = adj.other_revenue_editable_months(2025, 4, TODAY)
    # April and May 2025 are past; June 2025 … March 2026 are open (12 − 2 = 10)
    assert [ym for ym, ok in revenue.items() if not ok] == [(2025, 4), (2025, 5)]
    assert sum(revenue.values()) == 10
    expenses = adj.other_expense_editable_months(2025, 4, TODAY, actualised={(2025, 6)})
    assert [ym for ym, ok in expenses.items() if not ok] == [(2025, 4), (2025, 5), (2025, 6)]
    assert sum(expenses.values()) == 9  # 12 − 3
