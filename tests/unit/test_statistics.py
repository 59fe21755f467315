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


def _window_day(**forecast):
    row = {"day": "2027-02-10", "editable": True}
    row.update({f"forecast_{k}": v for k, v in forecast.items()})
    return row


def test_a_day_without_edits_shows_its_saved_forecast():
    row = _window_day(valet_daily=40.0, occupancy=0.5, occupied_rooms=100.0)
    values, actual = st.shown_day_values(row, {}, 200, {"valet_daily": 20.0}, "occupancy")
    assert actual is False
    assert values["valet_daily"] == 40.0
    assert values["occupied_rooms"] == 100.0


def test_an_edited_day_is_derived_again_by_hand():
    # 200 rooms at 60% = 120 occupied; drive-in 50% → 60 overnight cars, capture 25% → 15
    # valet and 45 self; revenue = 30 valet daily × $20 + 15 × $40 + 45 × $25
    # = 600 + 600 + 1,125 = $2,325.
    row = _window_day(occupancy=0.5, valet_daily=10.0, drive_in_ratio=0.5, capture_ratio=0.25)
    edits = {"2027-02-10|occupancy": 0.6, "2027-02-10|valet_daily": 30, "2027-02-11|self_daily": 9}
    rates = {"valet_daily": 20.0, "valet_overnight": 40.0, "self_overnight": 25.0}
    values, actual = st.shown_day_values(row, edits, 200, rates, "occupancy")
    assert actual is False
    assert values["occupied_rooms"] == 120.0
    assert values["valet_overnight"] == pytest.approx(15.0)
    assert values["self_overnight"] == pytest.approx(45.0)
    assert values["self_daily"] == 0.0  # the 11th's edit is another day's
    assert values["external_revenue"] == 2325.0


def test_a_past_day_with_actuals_shows_the_actuals():
    row = {"day": "2026-11-02", "editable": False, "actual_valet_daily": 12.0}
    values, actual = st.shown_day_values(row, {"2026-11-02|valet_daily": 99}, 200, {}, "occupancy")
    assert actual is True
    assert values["valet_daily"] == 12.0


def test_an_unsaved_day_is_the_budget_counts_at_the_months_forecast_rates():
    # A 30-day month budgeted at 300 valet daily, 150 self overnight, 60 valet comps: a day is
    # 10 valet daily × $20 + 5 self overnight × $30 = $350 (comps earn nothing). Raising the
    # valet daily rate to $22 makes it 10 × 22 + 5 × 30 = $370.
    budget = {"valet_daily": 300.0, "self_overnight": 150.0, "valet_comps": 60.0}
    rates = {"valet_daily": 20.0, "self_overnight": 30.0}
    assert st.unsaved_day_revenue(budget, 30, rates) == pytest.approx(350.0)
    assert st.unsaved_day_revenue(budget, 30, {**rates, "valet_daily": 22.0}) == pytest.approx(
        370.0
    )
    # Vectorised over site-months (arrays of counts, days and rates).
    both = st.unsaved_day_revenue(
        {"valet_daily": np.array([300.0, 310.0])}, np.array([30, 31]), {"valet_daily": 20.0}
    )
    assert both.tolist() == pytest.approx([200.0, 200.0])
