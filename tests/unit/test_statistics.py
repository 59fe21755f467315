"""Statistics derivations, expected numbers computed by hand."""

import numpy as np
import pytest

from dashboard.domain import statistics as st


def test_occupied_rooms_from_occupancy_rounds_half_up():
    assert st.occupied_rooms_from_occupancy(0.8, 300) == 240  # 0.8 × 300
    assert st.occupied_rooms_from_occupancy(0.4983, 300) == 149  # 149.49 → 149
    assert st.occupied_rooms_from_occupancy(0.5, 3) == 2  # 1.5 → 2


def test_occupancy_from_occupied_rooms_and_no_rooms():
    assert st.occupancy_from_occupied_rooms(240, 300) == pytest.approx(0.8)
    assert st.occupancy_from_occupied_rooms(12, 0) == 0.0
    both = st.occupancy_from_occupied_rooms(np.array([150, 5]), np.array([200, 0]))
    assert both.tolist() == [0.75, 0.0]


def test_overnight_vehicles_split_by_capture():
    # 240 occupied × 40% drive-in = 96 overnight cars; 75% valet → 72 valet, 24 self.
    valet, self_park = st.overnight_vehicles(240, 0.40, 0.75)
    assert valet == pytest.approx(72.0)
    assert self_park == pytest.approx(24.0)


def test_full_capture_forces_self_overnight_to_zero():
    valet, self_park = st.overnight_vehicles(100, 0.5, 1.0)
    assert (valet, self_park) == (50.0, 0.0)
    valet, self_park = st.overnight_vehicles(100, 0.5, 1.2)  # capture over 100%
    assert self_park == 0.0


def test_inverse_ratios():
    drive_in, capture = st.drive_in_and_capture(240, 72, 24)
    assert drive_in == pytest.approx(0.40)  # (72 + 24) ÷ 240
    assert capture == pytest.approx(0.75)  # 72 ÷ 96
    assert st.drive_in_and_capture(0, 5, 5) == (0.0, 0.0)
    assert st.drive_in_and_capture(100, 0, 0) == (0.0, 0.0)


def test_external_revenue_sums_eight_categories_and_comps_earn_nothing():
    counts = {
        "valet_daily": 10,  # × $30 = 300
        "self_daily": 20,  # × $15 = 300
        "valet_overnight": 5,  # × $40 = 200
        "self_monthly": 2,  # × $150 = 300
        "valet_aggregator": 4,  # × $25 = 100
        "valet_comps": 3,  # comps: no revenue
    }
    rates = {
        "valet_daily": 30,
        "self_daily": 15,
        "valet_overnight": 40,
        "self_monthly": 150,
        "valet_aggregator": 25,
        "valet_comps": 99,  # not a revenue category; must be ignored
    }
    assert st.external_revenue(counts, rates) == pytest.approx(1200.0)


def test_external_revenue_vectorised_over_days():
    counts = {"valet_daily": np.array([10.0, 12.0]), "self_daily": np.array([1.0, 0.0])}
    rates = {"valet_daily": 30.0, "self_daily": 15.0}
    assert st.external_revenue(counts, rates).tolist() == [315.0, 360.0]


def test_rate_from_revenue():
    assert st.rate_from_revenue(4896.0, 100) == pytest.approx(48.96)
    assert st.rate_from_revenue(500.0, 0) == 0.0
