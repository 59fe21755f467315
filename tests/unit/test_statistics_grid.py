"""Rows of the statistics grid built from a hand-made window payload (no browser)."""

import pytest

from dashboard.components import statistics_grid as grid

RATES = {"valet_daily": 30.0, "self_daily": 10.0, "valet_overnight": 40.0, "self_overnight": 20.0}


def _day(iso, editable, **values):
    row = {"day": iso, "editable": editable, "version": 0}
    for field in grid.SHORT_LABELS:
        row[f"forecast_{field}"] = values.get(field, 0.0)
        row[f"budget_{field}"] = values.get(field, 0.0)
    return row


@pytest.fixture
def payload():
    past = _day("2026-11-22", False, valet_daily=10.0, occupancy=0.5, occupied_rooms=50.0)
    past.update({f"actual_{f}": 0.0 for f in grid.SHORT_LABELS})
    past["actual_valet_daily"] = 12.0  # 20% above the forecast of 10
    future = _day(
        "2026-11-23",
        True,
        valet_daily=10.0,
        self_daily=5.0,
        occupancy=0.5,
        occupied_rooms=50.0,
        drive_in_ratio=0.4,
        capture_ratio=0.5,
        valet_overnight=10.0,
        self_overnight=10.0,
        external_revenue=750.0,
    )
    future["prior_valet_daily"] = 8.0
    return {
        "site_id": 1,
        "total_rooms": 100,
        "months": [[2026, 11], [2026, 12], [2027, 1]],
        "days": [past, future],
        "rates": {"2026-11": RATES},
    }


def test_edits_are_applied_and_derived_values_recomputed(payload):
    edits = {"2026-11-23|occupancy": 0.8}  # 80 of 100 rooms
    row = grid.page_rows(payload, edits, 0, "occupancy")[1]
    assert row["occupancy"] == 80.0  # shown as a percentage
    assert row["occupied_rooms"] == 80.0
    # 80 rooms × 40% drive-in = 32 cars; capture 50% → 16 valet, 16 self overnight.
    assert row["valet_overnight"] == pytest.approx(16.0)
    assert row["self_overnight"] == pytest.approx(16.0)
    # 10 × $30 + 5 × $10 + 16 × $40 + 16 × $20 = 300 + 50 + 640 + 320 = 1,310
    assert row["external_revenue"] == pytest.approx(1310.0)
    assert row["budget_occupancy"] == 50.0


def test_past_days_show_actuals_read_only(payload):
    row = grid.page_rows(payload, {}, 0, "occupancy")[0]
    assert row["shows_actual"] is True
    assert row["valet_daily"] == 12.0
    assert row["editable"] is False


def test_accuracy_compares_actual_with_the_forecast_on_past_days_only(payload):
    rows = grid.comparison_rows(payload, 0, "accuracy")
    assert rows[0]["valet_daily"] == pytest.approx(0.2)  # (12 − 10) ÷ 10
    assert rows[0]["self_daily"] is None  # forecast 0: no ratio
    assert rows[1]["valet_daily"] is None  # a future day has no actual yet


def test_prior_year_and_budget_comparisons(payload):
    assert grid.comparison_rows(payload, 0, "prior")[1]["valet_daily"] == 8.0
    assert grid.comparison_rows(payload, 0, "budget")[1]["occupancy"] == 50.0


def test_room_columns_are_hidden_for_sites_without_rooms():
    with_rooms = {c["field"] for c in grid.column_defs(100, "occupancy", True)}
    without = {c["field"] for c in grid.column_defs(0, "occupancy", True)}
    assert {
        "occupancy",
        "occupied_rooms",
        "drive_in_ratio",
        "capture_ratio",
        "valet_overnight",
    } <= with_rooms
    assert not without & {
        "occupancy",
        "occupied_rooms",
        "drive_in_ratio",
        "capture_ratio",
        "valet_overnight",
        "self_overnight",
    }
    assert "external_revenue" in without


def test_only_the_forecast_inputs_are_editable_daily_weekly_or_monthly():
    def editable(columns):
        return {c["field"] for c in columns if "editable" in c and c["editable"] is not False}

    daily = editable(grid.column_defs(100, "occupancy", True))
    assert "valet_daily" in daily and "occupancy" in daily
    assert "external_revenue" not in daily and "valet_overnight" not in daily
    # Week and month totals are typed too (spread over the days): the same inputs.
    assert editable(grid.column_defs(100, "occupancy", False)) == daily
    assert editable(grid.column_defs(100, "occupancy", True, "budget")) == set()
    assert editable(grid.column_defs(100, "occupancy", False, "prior")) == set()


def test_weekly_roll_up_of_the_window(payload):
    rows = grid.bucket_rows(payload, {}, 0, "occupancy", "weekly")
    # November 2026 starts on a Sunday: weeks 1-7, 8-14, 15-21, 22-28, 29-30.
    assert [r["label"] for r in rows] == [
        "November 1 - 7",
        "November 8 - 14",
        "November 15 - 21",
        "November 22 - 28",
        "November 29 - 30",
    ]
    # Week 22–28 holds both days: 12 actual + 10 forecast valet daily vehicles.
    assert rows[3]["valet_daily"] == pytest.approx(22.0)
