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
