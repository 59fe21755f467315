"""FLC, variance and calendar rules, expected numbers computed by hand."""

import datetime as dt

import pandas as pd
import pytest

from dashboard.domain import periods
from dashboard.domain.pnl import flc, variance


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
