"""KPIs, benchmarking, forecast accuracy and the FLC waterfall — expectations computed by hand."""

import math
import random

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import kpi
from dashboard.domain.kpi import (
    KPIS,
    OUTLIER_THRESHOLD,
    WATERFALL_STEPS,
    Accuracy,
    FlcDrivers,
    Kpi,
    aggregate,
    flc_waterfall,
    forecast_accuracy,
    forecast_errors,
    kpi_values,
    outliers,
    percentile_rank,
    rank_of,
    robust_z,
    sum_waterfalls,
)

STEP_KEYS = [key for key, _ in WATERFALL_STEPS]


def cents(amount: float) -> int:
    return round(amount * 100)


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------


def test_kpis_are_declared_in_order_with_direction():
    assert list(KPIS) == [
        "occupancy",
        "drive_in_ratio",
        "capture_ratio",
        "vehicles",
        "external_revenue_per_vehicle",
        "internal_revenue",
        "payroll_pct_ir",
        "vehicles_per_labor_hour",
        "overtime_pct",
        "flc",
        "flc_margin",
    ]
    assert [k for k, v in KPIS.items() if not v.higher_is_better] == [
        "payroll_pct_ir",
        "overtime_pct",
    ]
    assert KPIS["occupancy"] == Kpi(
        "occupancy", "Occupancy %", "percent", "occupied_rooms", "available_rooms"
    )
    assert {v.unit for v in KPIS.values()} == {"percent", "money", "count", "ratio"}


def test_kpi_rejects_unknown_unit():
    with pytest.raises(ValueError):
        Kpi("x", "X", "dollars", "vehicles")


def _site_month(**overrides):
    row = {
        "available_rooms": 3_000,
        "occupied_rooms": 2_400,
        "overnight_vehicles": 600,
        "valet_overnight": 450,
        "vehicles": 5_000,
        "external_revenue": 150_000,
        "internal_revenue": 60_000,
        "payroll": 24_000,
        "labor_hours": 2_000,
        "overtime_hours": 100,
        "flc": 15_000,
    }
    row.update(overrides)
    return row


def test_kpi_values_computes_every_kpi_row_by_row():
    frame = pd.DataFrame([{"site": "A", **_site_month()}])
    row = kpi_values(frame).iloc[0]
    assert row["occupancy"] == pytest.approx(0.8)  # 2,400 / 3,000
    assert row["drive_in_ratio"] == pytest.approx(0.25)  # 600 / 2,400
    assert row["capture_ratio"] == pytest.approx(0.75)  # 450 / 600
    assert row["vehicles"] == 5_000
    assert row["external_revenue_per_vehicle"] == pytest.approx(30.0)  # 150,000 / 5,000
    assert row["internal_revenue"] == 60_000
    assert row["payroll_pct_ir"] == pytest.approx(0.4)  # 24,000 / 60,000
    assert row["vehicles_per_labor_hour"] == pytest.approx(2.5)  # 5,000 / 2,000
    assert row["overtime_pct"] == pytest.approx(0.05)  # 100 / 2,000
    assert row["flc"] == 15_000
    assert row["flc_margin"] == pytest.approx(0.25)  # 15,000 / 60,000
    assert row["site"] == "A"  # other columns kept


def test_kpi_values_returns_a_copy_and_can_select_keys():
    frame = pd.DataFrame([_site_month()])
    result = kpi_values(frame, keys=["occupancy"])
    assert "occupancy" in result.columns and "flc_margin" not in result.columns
    assert "occupancy" not in frame.columns
    with pytest.raises(KeyError):
        kpi_values(frame, keys=["no_such_kpi"])


def test_zero_or_missing_denominators_and_numerators_give_nan_never_inf():
    frame = pd.DataFrame(
        [
            _site_month(
                available_rooms=0,
                occupied_rooms=0,  # 0/0 and also the drive-in denominator
                overnight_vehicles=5,  # 5/0 → NaN, not inf
                vehicles=0,  # external revenue per vehicle: 150,000/0
                internal_revenue=0,  # payroll %, FLC margin: x/0
                labor_hours=0,  # productivity, overtime: x/0
            ),
            _site_month(occupied_rooms=np.nan, internal_revenue=np.nan),
        ]
    )
    result = kpi_values(frame)
    zero = result.iloc[0]
    for key in [
        "occupancy",
        "drive_in_ratio",
        "external_revenue_per_vehicle",
        "payroll_pct_ir",
        "vehicles_per_labor_hour",
        "overtime_pct",
        "flc_margin",
    ]:
        assert math.isnan(zero[key]), key
    assert zero["capture_ratio"] == pytest.approx(450 / 5)  # 450 valet of 5 overnight = 90.0
    missing = result.iloc[1]
    assert math.isnan(missing["occupancy"])  # numerator NaN
    assert math.isnan(missing["drive_in_ratio"])  # denominator NaN
    assert math.isnan(missing["payroll_pct_ir"])
    assert math.isnan(missing["internal_revenue"])
    assert not np.isinf(result.select_dtypes("number").to_numpy()).any()


def test_missing_component_columns_count_as_nan():
    frame = pd.DataFrame({"vehicles": [1_000], "labor_hours": [400]})
    result = kpi_values(frame)
    assert result.loc[0, "vehicles_per_labor_hour"] == pytest.approx(2.5)  # 1,000 / 400
    assert math.isnan(result.loc[0, "overtime_pct"])  # no overtime_hours column
    assert math.isnan(result.loc[0, "occupancy"])
    assert math.isnan(result.loc[0, "flc"])


def test_aggregate_takes_ratio_of_sums_not_average_of_ratios():
    frame = pd.DataFrame(
        [
            # site A: 100 rooms × 30 days = 3,000 available, 2,400 occupied → 80%
            {"district": "D1", "site": "A", "available_rooms": 3_000, "occupied_rooms": 2_400},
            # site B: 300 rooms × 30 days = 9,000 available, 4,500 occupied → 50%
            {"district": "D1", "site": "B", "available_rooms": 9_000, "occupied_rooms": 4_500},
            {"district": "D2", "site": "C", "available_rooms": 1_000, "occupied_rooms": 900},
        ]
    )
    result = aggregate(frame, ["district"]).set_index("district")
    # (2,400 + 4,500) / (3,000 + 9,000) = 6,900 / 12,000 = 0.575 — not (80% + 50%) / 2 = 65%
    assert result.loc["D1", "available_rooms"] == 12_000
    assert result.loc["D1", "occupied_rooms"] == 6_900
    assert result.loc["D1", "occupancy"] == pytest.approx(0.575)
    assert result.loc["D2", "occupancy"] == pytest.approx(0.9)  # 900 / 1,000
    assert "site" not in result.columns


def test_aggregate_keeps_all_nan_components_nan_and_sums_partial_ones():
    frame = pd.DataFrame(
        {
            "site": ["A", "A", "B", "B"],
            "vehicles": [100, np.nan, 50, 70],
            "labor_hours": [np.nan, np.nan, 20, 40],
        }
    )
    result = aggregate(frame, ["site"]).set_index("site")
    assert result.loc["A", "vehicles"] == 100  # 100 + NaN → 100
    assert math.isnan(result.loc["A", "labor_hours"])  # all NaN stays NaN, not 0
    assert math.isnan(result.loc["A", "vehicles_per_labor_hour"])
    assert result.loc["B", "vehicles_per_labor_hour"] == pytest.approx(2.0)  # 120 / 60


def test_aggregate_with_no_groups_gives_one_total_row():
    frame = pd.DataFrame(
        {"payroll": [30_000, 10_000], "internal_revenue": [50_000, 50_000], "flc": [5_000, 25_000]}
    )
    result = aggregate(frame, [])
    assert len(result) == 1
    assert result.loc[0, "payroll_pct_ir"] == pytest.approx(0.4)  # 40,000 / 100,000
    assert result.loc[0, "flc_margin"] == pytest.approx(0.3)  # 30,000 / 100,000


# --------------------------------------------------------------------------------------------
# Benchmarking
# --------------------------------------------------------------------------------------------


def test_percentile_rank_excludes_the_site_and_counts_ties_half():
    values = [10, 20, 20, 30, 40]
    # site 20; other peers 10, 20, 30, 40: beats 10 (1), ties 20 (½) → 1.5 / 4 = 37.5
    assert percentile_rank(values, 20) == pytest.approx(37.5)
    # site 40 beats all four others (10, 20, 20, 30) → 100
    assert percentile_rank(values, 40) == pytest.approx(100.0)
    # site 10 beats none of 20, 20, 30, 40 → 0
    assert percentile_rank(values, 10) == pytest.approx(0.0)


def test_percentile_rank_lower_is_better():
    values = [10, 20, 20, 30, 40]
    # site 20, lower is better; others 10, 20, 30, 40: worse = 30, 40 (2), tie ½ → 2.5/4 = 62.5
    assert percentile_rank(values, 20, higher_is_better=False) == pytest.approx(62.5)
    # site 10 is the lowest → beats all four → 100
    assert percentile_rank(values, 10, higher_is_better=False) == pytest.approx(100.0)


def test_percentile_rank_ignores_nan_and_needs_other_peers():
    # NaN dropped; others = [10] → beats 1 of 1 → 100
    assert percentile_rank([np.nan, 10, 30], 30) == pytest.approx(100.0)
    assert math.isnan(percentile_rank([30], 30))  # no other peers
    assert math.isnan(percentile_rank([30, np.nan], 30))
    assert math.isnan(percentile_rank([10, 30], np.nan))
    # value not among the values: both are peers; beats 10 of 10, 30 → 1 / 2 = 50
    assert percentile_rank([10, 30], 20) == pytest.approx(50.0)


def test_rank_of_ties_share_the_better_rank():
    values = [10, 20, 20, 30, 40]
    assert rank_of(values, 40) == (1, 5)  # best
    assert rank_of(values, 30) == (2, 5)  # 40 is better
    assert rank_of(values, 20) == (3, 5)  # 40, 30 better; both 20s are 3rd
    assert rank_of(values, 10) == (5, 5)  # after 40, 30, 20, 20
    # lower is better: 10 first, both 20s second, 30 fourth
    assert rank_of(values, 10, higher_is_better=False) == (1, 5)
    assert rank_of(values, 20, higher_is_better=False) == (2, 5)
    assert rank_of(values, 30, higher_is_better=False) == (4, 5)


def test_rank_of_ignores_nan():
    assert rank_of([np.nan, 5, 7], 5) == (2, 2)  # 7 better; two non-NaN values
    assert rank_of([np.nan, 5, 7], np.nan) == (0, 2)  # unranked


def test_robust_z_on_a_set_with_one_outlier():
    z = robust_z([10, 11, 12, 13, 14, 50])
    # median (12 + 13)/2 = 12.5; |dev| 2.5, 1.5, 0.5, 0.5, 1.5, 37.5 → sorted
    # 0.5, 0.5, 1.5, 1.5, 2.5, 37.5 → MAD (1.5 + 1.5)/2 = 1.5
    assert z[5] == pytest.approx(16.8625)  # 0.6745 × 37.5 / 1.5 = 0.6745 × 25
    assert z[0] == pytest.approx(-1.124167, abs=1e-6)  # 0.6745 × −2.5 / 1.5
    assert z[1] == pytest.approx(-0.6745)  # 0.6745 × −1.5 / 1.5
    assert z[2] == pytest.approx(-0.224833, abs=1e-6)  # 0.6745 × −0.5 / 1.5
    assert z[4] == pytest.approx(0.6745)  # 0.6745 × 1.5 / 1.5
    assert [abs(v) >= OUTLIER_THRESHOLD for v in z] == [False] * 5 + [True]


def test_robust_z_falls_back_to_mean_absolute_deviation_when_mad_is_zero():
    z = robust_z([5, 5, 5, 5, 9])
    # median 5; |dev| 0, 0, 0, 0, 4 → MAD 0; mean |dev| = 4/5 = 0.8
    # z(9) = 4 / (1.253314 × 0.8) = 4 / 1.0026512 = 3.989423
    assert z[4] == pytest.approx(3.989423, abs=1e-6)
    assert list(z[:4]) == [0.0, 0.0, 0.0, 0.0]
    assert list(robust_z([7, 7, 7])) == [0.0, 0.0, 0.0]  # no spread at all → all zero


def test_robust_z_passes_nan_through_and_ignores_it():
    z = robust_z([np.nan, 10, 11, 12, 13, 14, 50])
    assert math.isnan(z[0])
    assert z[6] == pytest.approx(16.8625)  # same as without the NaN
    assert all(math.isnan(v) for v in robust_z([np.nan, np.nan]))


def test_outliers_returns_flagged_rows_sorted_by_absolute_z():
    frame = pd.DataFrame(
        {"site": list("ABCDEFG"), "flc_margin": [10, 11, 12, 13, 14, 50, -30], "n": range(7)}
    )
    # median 12; |dev| 2, 1, 0, 1, 2, 38, 42 → sorted 0, 1, 1, 2, 2, 38, 42 → MAD 2
    # z(G = −30) = 0.6745 × −42 / 2 = −14.1645; z(F = 50) = 0.6745 × 38 / 2 = 12.8155
    # z(A = 10) = 0.6745 × −2 / 2 = −0.6745 → not flagged
    result = outliers(frame, "flc_margin")
    assert list(result["site"]) == ["G", "F"]
    assert list(result["robust_z"]) == pytest.approx([-14.1645, 12.8155])
    assert list(result["n"]) == [6, 5]  # other columns kept
    # threshold 0.6745 is inclusive: also A (−0.6745) and E (0.6745 × 2 / 2), not B/D (±0.33725)
    lower = outliers(frame, "flc_margin", threshold=0.6745)
    assert list(lower["site"]) == ["G", "F", "A", "E"]  # |z| ties keep their row order


# --------------------------------------------------------------------------------------------
# Forecast accuracy
# --------------------------------------------------------------------------------------------


def test_forecast_errors_are_relative_to_the_forecast():
    errors = forecast_errors([105, 90, 50, -80, 10, np.nan], [100, 100, 0, -100, np.nan, 100])
    assert errors[0] == pytest.approx(0.05)  # (105 − 100) / 100
    assert errors[1] == pytest.approx(-0.10)  # (90 − 100) / 100
    assert math.isnan(errors[2])  # forecast 0
    assert errors[3] == pytest.approx(0.20)  # (−80 − −100) / |−100| = 20 / 100
    assert math.isnan(errors[4])  # forecast missing
    assert math.isnan(errors[5])  # actual missing


def test_forecast_accuracy_on_hand_made_series():
    actual = [105, 90, 50, -80, 200, np.nan]
    forecast = [100, 100, 0, -100, 200, 100]
    # usable errors: +0.05, −0.10, (zero forecast dropped), +0.20, 0.00, (missing actual dropped)
    result = forecast_accuracy(actual, forecast)
    assert result.count == 4
    assert result.excluded == 2
    assert result.mape == pytest.approx(0.0875)  # (0.05 + 0.10 + 0.20 + 0) / 4 = 0.35 / 4
    assert result.bias == pytest.approx(0.0375)  # (0.05 − 0.10 + 0.20 + 0) / 4 = 0.15 / 4
    assert result.within == pytest.approx(0.5)  # |e| ≤ 5%: 0.05 (boundary) and 0 → 2 / 4
    assert isinstance(result, Accuracy)


def test_accuracy_by_site_is_each_sites_forecast_accuracy():
    # Site 1: errors +0.05, −0.10 → mape 0.075, bias −0.025. Site 2: forecast 0 dropped,
    # (−80 − −100) / 100 = +0.20 → mape 0.20, bias 0.20. Site 3: nothing usable → absent.
    keys = [1, 1, 2, 2, 3]
    actual = [105, 90, 50, -80, 7]
    forecast = [100, 100, 0, -100, 0]
    result = kpi.accuracy_by(keys, actual, forecast)
    assert list(result.index) == [1, 2]
    assert result.loc[1, "mape"] == pytest.approx(0.075)
    assert result.loc[1, "bias"] == pytest.approx(-0.025)
    assert result.loc[1, "count"] == 2
    assert result.loc[2, "mape"] == pytest.approx(0.20)
    assert result.loc[2, "bias"] == pytest.approx(0.20)
    assert result.loc[2, "count"] == 1
    for key in (1, 2):
        one = forecast_accuracy(
            [a for k, a in zip(keys, actual) if k == key],  # noqa: B905
            [f for k, f in zip(keys, forecast) if k == key],  # noqa: B905
        )
        assert (result.loc[key, "mape"], result.loc[key, "bias"]) == pytest.approx(
            (one.mape, one.bias)
        )
    assert kpi.accuracy_by([], [], []).empty


def test_forecast_accuracy_tolerance_is_inclusive_even_after_float_rounding():
    # (1.05 − 1.0) / 1.0 = 0.050000000000000044 in floating point: still exactly 5% → within
    assert forecast_accuracy([1.05], [1.0]).within == 1.0
    assert forecast_accuracy([10.5], [10]).within == 1.0  # 0.5 / 10 = 0.05
    assert forecast_accuracy([10.51], [10]).within == 0.0  # 0.51 / 10 = 0.051
    assert forecast_accuracy([11], [10], tolerance=0.1).within == 1.0  # 1 / 10 = 0.10


def test_forecast_accuracy_with_no_usable_pair():
    result = forecast_accuracy([1, 2], [0, np.nan])
    assert result.count == 0 and result.excluded == 2
    assert math.isnan(result.mape) and math.isnan(result.bias) and math.isnan(result.within)
    empty = forecast_accuracy([], [])
    assert empty.count == 0 and empty.excluded == 0 and math.isnan(empty.mape)


# --------------------------------------------------------------------------------------------
# FLC waterfall
# --------------------------------------------------------------------------------------------


def _assert_exact(result: dict, budget: FlcDrivers, target: FlcDrivers) -> None:
    step_cents = [cents(result[key]) for key in STEP_KEYS]
    assert sum(step_cents) == cents(result["total"])
    assert cents(result["total"]) == cents(target.flc) - cents(budget.flc)


BUDGET_1 = FlcDrivers(
    vehicles=10_000,
    external_revenue=200_000,  # $20 per vehicle
    internal_revenue=80_000,
    payroll=40_000,
    labor_hours=2_000,  # $20 per hour
    other_costs=10_000,
)  # FLC 80,000 − 40,000 − 10,000 = 30,000
TARGET_1 = FlcDrivers(
    vehicles=11_000,
    external_revenue=231_000,
    internal_revenue=90_000,
    payroll=46_200,
    labor_hours=2_100,
    other_costs=10_500,
)  # FLC 90,000 − 46,200 − 10,500 = 33,300


def test_waterfall_with_all_six_drivers():
    # E = 12,400 (e.g. a 40% revenue share of ΔExt 31,000)
    result = flc_waterfall(BUDGET_1, TARGET_1, revenue_linked_ir=12_400)
    assert list(result) == [*STEP_KEYS, "total"]
    # volume share = ΔV × Ext_b/V_b ÷ ΔExt = 1,000 × 20 / 31,000 = 20/31; 12,400 × 20/31 = 8,000
    assert result["volume"] == 8_000.0
    assert result["rate"] == 4_400.0  # 12,400 − 8,000
    assert result["ir_terms"] == -2_400.0  # 90,000 − 80,000 − 12,400
    assert result["payroll_hours"] == -2_000.0  # −(100 h × 40,000/2,000 = $20/h)
    assert result["wage_rate"] == -4_200.0  # −(46,200 − 40,000) − (−2,000)
    assert result["other_lines"] == -500.0  # −(10,500 − 10,000)
    assert result["total"] == 3_300.0  # 33,300 − 30,000
    _assert_exact(result, BUDGET_1, TARGET_1)


BUDGET_2 = FlcDrivers(
    vehicles=3,
    external_revenue=100,
    internal_revenue=50,
    payroll=30,
    labor_hours=7,
    other_costs=5,
)  # FLC 50 − 30 − 5 = 15.00
TARGET_2 = FlcDrivers(
    vehicles=4,
    external_revenue=110,
    internal_revenue=53.33,
    payroll=31,
    labor_hours=8,
    other_costs=5.01,
)  # FLC 53.33 − 31 − 5.01 = 17.32


def test_waterfall_rounds_to_cents_and_still_adds_up_exactly():
    result = flc_waterfall(BUDGET_2, TARGET_2, revenue_linked_ir=1.00)
    # share = 1 × (100/3) / 10 = 3.3333…; volume = cents(1.00 × 3.3333…) = 3.33
    assert result["volume"] == 3.33
    assert result["rate"] == -2.33  # 1.00 − 3.33
    assert result["ir_terms"] == 2.33  # 53.33 − 50.00 − 1.00
    assert result["payroll_hours"] == -4.29  # −cents(1 h × 30/7 = 4.2857…)
    assert result["wage_rate"] == 3.29  # −(31.00 − 30.00) − (−4.29)
    assert result["other_lines"] == -0.01  # −(5.01 − 5.00)
    # 3.33 − 2.33 + 2.33 − 4.29 + 3.29 − 0.01 = 2.32 = 17.32 − 15.00
    assert result["total"] == 2.32
    _assert_exact(result, BUDGET_2, TARGET_2)


def test_waterfall_without_budgeted_volume_puts_all_linked_revenue_in_volume():
    budget = FlcDrivers(0, 0, 1_000, 800, 40, 100)  # FLC 1,000 − 800 − 100 = 100
    target = FlcDrivers(500, 5_000, 1_750, 900, 45, 100)  # FLC 1,750 − 900 − 100 = 750
    result = flc_waterfall(budget, target, revenue_linked_ir=500)  # 10% of 5,000
    assert result["volume"] == 500.0  # V_b = 0 → all of E
    assert result["rate"] == 0.0
    assert result["ir_terms"] == 250.0  # 1,750 − 1,000 − 500
    assert result["payroll_hours"] == -100.0  # −(5 h × 800/40 = $20/h)
    assert result["wage_rate"] == 0.0  # −(900 − 800) − (−100)
    assert result["other_lines"] == 0.0
    assert result["total"] == 650.0  # 750 − 100
    _assert_exact(result, budget, target)


def test_waterfall_without_budgeted_hours_puts_all_payroll_in_hours():
    budget = FlcDrivers(1_000, 10_000, 4_000, 0, 0, 500)  # FLC 4,000 − 0 − 500 = 3,500
    target = FlcDrivers(1_000, 12_000, 4_600, 1_500, 60, 450)  # FLC 4,600 − 1,500 − 450 = 2,650
    result = flc_waterfall(budget, target, revenue_linked_ir=600)  # 30% of ΔExt 2,000
    assert result["volume"] == 0.0  # ΔV = 0 → share 0 × 10 / 2,000 = 0
    assert result["rate"] == 600.0  # all of E is rate
    assert result["ir_terms"] == 0.0  # 4,600 − 4,000 − 600
    assert result["payroll_hours"] == -1_500.0  # H_b = 0 → −(1,500 − 0)
    assert result["wage_rate"] == 0.0
    assert result["other_lines"] == 50.0  # −(450 − 500)
    assert result["total"] == -850.0  # 2,650 − 3,500
    _assert_exact(result, budget, target)


def test_waterfall_without_external_revenue_change_puts_linked_revenue_in_volume():
    budget = FlcDrivers(100, 1_000, 500, 200, 10, 50)  # FLC 250
    target = FlcDrivers(120, 1_000, 520, 200, 10, 50)  # FLC 270
    result = flc_waterfall(budget, target, revenue_linked_ir=20)
    assert result["volume"] == 20.0  # ΔExt = 0 → all of E
    assert result["rate"] == 0.0
    assert result["ir_terms"] == 0.0  # 520 − 500 − 20
    assert result["payroll_hours"] == 0.0 and result["wage_rate"] == 0.0  # no hour change
    assert result["total"] == 20.0
    _assert_exact(result, budget, target)


def test_waterfall_rounds_half_cents_away_from_zero():
    budget = FlcDrivers(1, 1, 0, 5, 1_000, 0)  # $0.005 per hour
    more = FlcDrivers(1, 1, 0, 5, 1_001, 0)
    fewer = FlcDrivers(1, 1, 0, 5, 999, 0)
    # +1 h × 0.005 = 0.005 → 1 cent → −0.01; −1 h → −0.005 → −1 cent → +0.01
    assert flc_waterfall(budget, more, 0)["payroll_hours"] == -0.01
    assert flc_waterfall(budget, more, 0)["wage_rate"] == 0.01  # −(5 − 5) − (−0.01)
    assert flc_waterfall(budget, fewer, 0)["payroll_hours"] == 0.01


def test_waterfall_always_adds_up_to_the_cent_on_awkward_amounts():
    rng = random.Random(20240601)

    def drivers() -> FlcDrivers:
        return FlcDrivers(
            vehicles=rng.choice([0, rng.uniform(1, 20_000)]),
            external_revenue=rng.uniform(0, 500_000),
            internal_revenue=rng.uniform(-1_000, 150_000),
            payroll=rng.uniform(0, 90_000),
            labor_hours=rng.choice([0, rng.uniform(1, 5_000)]),
            other_costs=rng.uniform(0, 30_000),
        )

    for _ in range(300):
        budget, target = drivers(), drivers()
        result = flc_waterfall(budget, target, rng.uniform(-20_000, 20_000))
        # cents of the FLC from the cents of its lines (budget lines may carry fractions)
        expected = sum(
            sign
            * (kpi._cents(a.internal_revenue) - kpi._cents(a.payroll) - kpi._cents(a.other_costs))
            for sign, a in ((1, target), (-1, budget))
        )
        assert sum(cents(result[key]) for key in STEP_KEYS) == cents(result["total"]) == expected


def test_waterfall_rejects_missing_amounts():
    with pytest.raises(ValueError):
        flc_waterfall(BUDGET_1, TARGET_1, revenue_linked_ir=float("nan"))


def test_sum_waterfalls_adds_sites_exactly():
    district = sum_waterfalls(
        [
            flc_waterfall(BUDGET_1, TARGET_1, 12_400),
            flc_waterfall(BUDGET_2, TARGET_2, 1.00),
        ]
    )
    assert district == {
        "volume": 8_003.33,  # 8,000 + 3.33
        "rate": 4_397.67,  # 4,400 − 2.33
        "ir_terms": -2_397.67,  # −2,400 + 2.33
        "payroll_hours": -2_004.29,  # −2,000 − 4.29
        "wage_rate": -4_196.71,  # −4,200 + 3.29
        "other_lines": -500.01,  # −500 − 0.01
        "total": 3_302.32,  # 3,300 + 2.32
    }
    assert sum(cents(district[key]) for key in STEP_KEYS) == cents(district["total"])


def test_sum_waterfalls_of_nothing_is_zero():
    assert sum_waterfalls([]) == {**dict.fromkeys(STEP_KEYS, 0.0), "total": 0.0}


# --- at-risk reasons -------------------------------------------------------------------------


def test_at_risk_below_budget_needs_both_the_share_and_the_amount():
    # Budget 100,000, forecast 90,000: shortfall 10,000 = 10% ≥ 7.5% and ≥ $5,000 → at risk.
    reasons = kpi.at_risk_reasons(90_000, 100_000, None, None, 0.075, 5_000)
    assert reasons == ["FLC $10,000 (10.0%) below budget for the year"]
    # Budget 40,000, forecast 36,000: 4,000 = 10% but < $5,000 → not at risk.
    assert kpi.at_risk_reasons(36_000, 40_000, None, None, 0.075, 5_000) == []
    # Budget 1,000,000, forecast 940,000: 60,000 ≥ $5,000 but 6% < 7.5% → not at risk.
    assert kpi.at_risk_reasons(940_000, 1_000_000, None, None, 0.075, 5_000) == []
    # Above budget is never at risk.
    assert kpi.at_risk_reasons(120_000, 100_000, None, None, 0.075, 5_000) == []


def test_at_risk_negative_trend_against_a_year_earlier():
    # Last 3 months 27,000 vs 30,000 a year earlier: drop 3,000 = 10% ≥ 7.5% → at risk.
    reasons = kpi.at_risk_reasons(100_000, 100_000, 27_000, 30_000, 0.075, 5_000)
    assert reasons == ["FLC of the last 3 closed months $3,000 (10.0%) below a year earlier"]
    # 28,500 vs 30,000: 5% < 7.5% → not.
    assert kpi.at_risk_reasons(100_000, 100_000, 28_500, 30_000, 0.075, 5_000) == []
    # No year-earlier window (a new site) → no trend reason.
    assert kpi.at_risk_reasons(100_000, 100_000, 27_000, None, 0.075, 5_000) == []
    # Both reasons at once, in order.
    both = kpi.at_risk_reasons(80_000, 100_000, 20_000, 30_000, 0.075, 5_000)
    assert len(both) == 2 and both[0].startswith("FLC $20,000 (20.0%)")


def test_within_tolerance_on_period_totals_and_ratio():
    # ΣF 200,000, ΣA 210,000: error 10,000 / 200,000 = 5% → within (edge inclusive).
    assert kpi.within_tolerance(210_000, 200_000) is True
    # ΣA 210,001: 5.0005% → not within.
    assert kpi.within_tolerance(210_001, 200_000) is False
    # Negative forecast −10,000, actual −10,400: error −400 / 10,000 = −4% → within.
    assert kpi.within_tolerance(-10_400, -10_000) is True
    assert kpi.within_tolerance(5, 0) is None
    # Many at once: the same rule pair by pair.
    assert kpi.within_tolerances(
        [210_000, 210_001, -10_400, 5], [200_000, 200_000, -10_000, 0]
    ) == [
        True,
        False,
        True,
        None,
    ]
    # FLC margin 30,000 / 120,000 = 25%; IR 0 → n/a.
    assert kpi.ratio(30_000, 120_000) == 0.25
    assert kpi.ratio(30_000, 0) is None


def test_accuracy_of_sums_is_the_mean_of_the_errors_of_each_group():
    # Group 1: errors +0.05 and −0.10 (two usable pairs): Σ|e| = 0.15, Σe = −0.05 →
    # mape 0.075, bias −0.025, as forecast_accuracy of those pairs. Group 2: nothing usable.
    mape, bias = kpi.accuracy_of_sums([2, 0], [0.15, 0.0], [-0.05, 0.0])
    assert mape[0] == pytest.approx(0.075)
    assert bias[0] == pytest.approx(-0.025)
    one = forecast_accuracy([105, 90], [100, 100])
    assert (mape[0], bias[0]) == pytest.approx((one.mape, one.bias))
    assert np.isnan(mape[1]) and np.isnan(bias[1])
