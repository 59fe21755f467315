"""Statistics input rules, derivations, roll-ups and history proposals (DOMAIN.md §3.1, §3.2,
§10, decisions D1, D3, D6, D7, D10). Every expected number is worked out by hand in a comment."""

import datetime as dt

import pytest

from dashboard.domain import statistics as st

# --- parse_number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234", 1234.0),  # thousands separator dropped
        ("1,234.56", 1234.56),  # separator dropped, decimals kept
        ("12,345,678", 12345678.0),  # several separators
        (" 12.5 ", 12.5),  # surrounding blanks trimmed
        ("45%", 45.0),  # % suffix dropped; the number stays as typed (45, not 0.45)
        (" 45 % ", 45.0),  # blanks around the % too
        ("0", 0.0),
        ("-3", -3.0),  # parsed; refusing negatives is validate_statistic's job
        ("1e3", 1000.0),  # 1 × 10³
        (7, 7.0),  # ints pass through as floats
        (2.25, 2.25),
    ],
)
def test_parse_number_reads_numbers(raw, expected):
    value = st.parse_number(raw)
    assert value == pytest.approx(expected)
    assert isinstance(value, float)


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_parse_number_blank_is_zero(raw):
    assert st.parse_number(raw) == 0.0  # §10: empty → 0


@pytest.mark.parametrize("raw", ["abc", "twelve", "12abc", "1.2.3", "--5"])
def test_parse_number_text_is_not_a_number(raw):
    assert st.parse_number(raw) is None


@pytest.mark.parametrize(
    "raw",
    [float("nan"), float("inf"), float("-inf"), "nan", "NaN", "inf", "-inf", "Infinity"],
)
def test_parse_number_nan_and_infinity_are_not_numbers(raw):
    assert st.parse_number(raw) is None


@pytest.mark.parametrize("raw", [True, False])
def test_parse_number_bool_is_not_a_number(raw):
    # bool is a subclass of int; True must not silently become 1.0 (nor False 0.0)
    assert st.parse_number(raw) is None


# --- validate_statistic: refusals -------------------------------------------------------------


@pytest.mark.parametrize("field", ["valet_daily", "occupancy", "occupied_rooms", "capture_ratio"])
def test_validate_statistic_refuses_missing_number(field):
    message = st.validate_statistic(field, None, 300)
    assert message is not None
    assert "enter a number" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("valet_daily", -1.0),
        ("self_comps", -0.01),
        ("occupancy", -0.05),
        ("occupied_rooms", -1.0),
        ("drive_in_ratio", -0.1),
        ("capture_ratio", -0.0001),
    ],
)
def test_validate_statistic_refuses_negative(field, value):
    message = st.validate_statistic(field, value, 300)
    assert message is not None
    assert "cannot be negative" in message


@pytest.mark.parametrize("field", ["occupancy", "drive_in_ratio", "capture_ratio"])
@pytest.mark.parametrize("value", [1.0001, 1.5, 45.0])  # 45.0 = "45%" not divided by 100
def test_validate_statistic_refuses_ratio_over_100_percent(field, value):
    message = st.validate_statistic(field, value, 300)
    assert message is not None
    assert "over 100%" in message


@pytest.mark.parametrize("field", ["occupancy", "drive_in_ratio", "capture_ratio"])
def test_validate_statistic_refuses_room_ratio_on_site_without_rooms(field):
    # D6: a site with 0 rooms has no room-based statistics; 50% of 0 rooms is meaningless.
    message = st.validate_statistic(field, 0.5, 0)
    assert message is not None
    assert "no rooms" in message


def test_validate_statistic_refuses_occupied_rooms_on_site_without_rooms():
    message = st.validate_statistic("occupied_rooms", 5.0, 0)  # 5 > 0 rooms
    assert message == "Occupied rooms: this site has no rooms."


def test_validate_statistic_refuses_more_occupied_rooms_than_rooms():
    message = st.validate_statistic("occupied_rooms", 301.0, 300)  # 301 > 300
    assert message is not None
    assert "cannot exceed" in message
    assert "300 rooms" in message
    big = st.validate_statistic("occupied_rooms", 1201.0, 1200)  # 1,201 > 1,200
    assert big is not None
    assert "1,200 rooms" in big  # thousands separator in the message


@pytest.mark.parametrize("value", [10.5, 0.25, 299.9])
def test_validate_statistic_refuses_fractional_occupied_rooms(value):
    message = st.validate_statistic("occupied_rooms", value, 300)  # all ≤ 300, not whole
    assert message is not None
    assert "whole number" in message


@pytest.mark.parametrize("field", st.COUNT_INPUTS)
def test_validate_statistic_refuses_more_than_99999_vehicles(field):
    message = st.validate_statistic(field, 100_000.0, 300)  # 100,000 = 99,999 + 1
    assert message is not None
    assert "between 0 and 99,999" in message
    # 99,999.5 is still over the 99,999 ceiling
    assert st.validate_statistic(field, 99_999.5, 300) is not None


@pytest.mark.parametrize(
    "field", ["external_revenue", "self_overnight", "valet_overnight", "no_such_field"]
)
def test_validate_statistic_refuses_non_editable_fields(field):
    # derived fields (§3.1) and unknown fields are never stored from user input, whatever the value
    for value in (0.0, 10.0, None):
        message = st.validate_statistic(field, value, 300)
        assert message is not None
        assert "cannot be edited" in message
    assert (
        st.validate_statistic("external_revenue", 10.0, 300) == "External revenue cannot be edited."
    )


# --- validate_statistic: acceptance -----------------------------------------------------------


@pytest.mark.parametrize("field", st.COUNT_INPUTS + st.RATIO_INPUTS + st.ROOM_INPUTS)
def test_validate_statistic_accepts_zero_for_every_input(field):
    assert st.validate_statistic(field, 0.0, 300) is None  # 0 is the lower boundary
    assert st.validate_statistic(field, 0.0, 0) is None  # 0 is fine even with no rooms


@pytest.mark.parametrize("field", ["occupancy", "drive_in_ratio", "capture_ratio"])
def test_validate_statistic_accepts_100_percent_ratios(field):
    assert st.validate_statistic(field, 1.0, 300) is None  # 1.0 = 100%, the upper boundary
    assert st.validate_statistic(field, 0.75, 300) is None


@pytest.mark.parametrize("field", st.COUNT_INPUTS)
def test_validate_statistic_accepts_99999_vehicles(field):
    assert st.validate_statistic(field, 99_999.0, 300) is None  # the upper boundary itself
    assert st.validate_statistic(field, 99_999.0, 0) is None  # counts do not need rooms
    assert st.validate_statistic(field, 2.5, 300) is None  # daily shares may be fractional


def test_validate_statistic_accepts_occupied_rooms_up_to_total():
    assert st.validate_statistic("occupied_rooms", 300.0, 300) is None  # 300 = every room
    assert st.validate_statistic("occupied_rooms", 225.0, 300) is None  # whole and ≤ 300


# --- validate_rate ----------------------------------------------------------------------------


def test_validate_rate_refusals():
    assert st.validate_rate(None) == "Enter a rate in dollars."
    negative = st.validate_rate(-0.01)
    assert negative is not None
    assert "cannot be negative" in negative
    for too_high in (1000.0, 999.991, 5000.0):  # all > $999.99
        message = st.validate_rate(too_high)
        assert message is not None
        assert "$0.00" in message
        assert "$999.99" in message


@pytest.mark.parametrize("value", [0.0, 0.01, 42.5, 999.99])
def test_validate_rate_accepts_zero_to_999_99(value):
    assert st.validate_rate(value) is None  # $0.00 and $999.99 are both allowed boundaries


# --- derive_day -------------------------------------------------------------------------------

ALL_RATES = {
    "valet_daily": 30.0,
    "self_daily": 15.0,
    "valet_monthly": 10.0,
    "self_monthly": 5.0,
    "valet_overnight": 45.0,
    "self_overnight": 25.0,
    "valet_aggregator": 28.0,
    "self_aggregator": 12.0,
    "valet_comps": 100.0,  # not a revenue category: must earn nothing
    "self_comps": 100.0,
}


def test_derive_day_from_occupancy():
    inputs = {
        "occupancy": 0.75,
        "valet_daily": 20.0,
        "self_daily": 30.0,
        "valet_monthly": 5.0,
        "self_monthly": 10.0,
        "valet_aggregator": 4.0,
        "self_aggregator": 6.0,
        "valet_comps": 3.0,
        "self_comps": 2.0,
        "drive_in_ratio": 0.4,
        "capture_ratio": 0.8,
    }
    original = dict(inputs)
    row = st.derive_day(inputs, 300, ALL_RATES)
    assert row["occupied_rooms"] == 225.0  # 0.75 × 300 rooms = 225
    assert row["occupancy"] == pytest.approx(0.75)  # the input is kept
    # 225 occupied × 40% drive-in = 90 overnight cars; 80% valet → 72 valet, 18 self
    assert row["valet_overnight"] == pytest.approx(72.0)
    assert row["self_overnight"] == pytest.approx(18.0)
    # 20×30 + 30×15 + 5×10 + 10×5 + 72×45 + 18×25 + 4×28 + 6×12
    # = 600 + 450 + 50 + 50 + 3,240 + 450 + 112 + 72 = 5,024; comps (3 + 2) × $0 = 0
    assert row["external_revenue"] == pytest.approx(5024.0)
    assert inputs == original  # the caller's dict is not modified


def test_derive_day_from_occupied_rooms():
    inputs = {
        "occupancy": 0.1,  # stale: recomputed from occupied rooms in this mode
        "occupied_rooms": 240.0,
        "drive_in_ratio": 0.5,
        "capture_ratio": 0.25,
    }
    rates = {"valet_overnight": 45.0, "self_overnight": 25.0}
    row = st.derive_day(inputs, 300, rates, room_input="occupied_rooms")
    assert row["occupied_rooms"] == 240.0  # the input is kept
    assert row["occupancy"] == pytest.approx(0.8)  # 240 ÷ 300 = 0.8
    # 240 × 50% = 120 overnight cars; 25% valet → 30 valet, 90 self
    assert row["valet_overnight"] == pytest.approx(30.0)
    assert row["self_overnight"] == pytest.approx(90.0)
    # 30 × $45 + 90 × $25 = 1,350 + 2,250 = 3,600 (missing count/rate categories count as 0)
    assert row["external_revenue"] == pytest.approx(3600.0)


@pytest.mark.parametrize("room_input", ["occupancy", "occupied_rooms"])
def test_derive_day_site_without_rooms_zeroes_room_statistics(room_input):
    inputs = {
        "occupancy": 0.6,
        "occupied_rooms": 50.0,
        "drive_in_ratio": 0.4,
        "capture_ratio": 0.5,
        "valet_daily": 100.0,
        "self_comps": 9.0,
    }
    row = st.derive_day(inputs, 0, {"valet_daily": 20.0, "valet_overnight": 45.0}, room_input)
    assert row["occupancy"] == 0.0
    assert row["occupied_rooms"] == 0.0
    assert row["drive_in_ratio"] == 0.0
    assert row["capture_ratio"] == 0.0
    assert row["valet_overnight"] == 0.0  # 0 occupied × anything = 0
    assert row["self_overnight"] == 0.0
    assert row["external_revenue"] == pytest.approx(2000.0)  # 100 valet daily × $20; comps $0


def test_derive_day_full_capture_zeroes_self_overnight():
    inputs = {"occupancy": 0.5, "drive_in_ratio": 0.3, "capture_ratio": 1.0}
    rates = {"valet_overnight": 40.0, "self_overnight": 20.0}
    row = st.derive_day(inputs, 200, rates)
    assert row["occupied_rooms"] == 100.0  # 0.5 × 200
    assert row["valet_overnight"] == pytest.approx(30.0)  # 100 × 30% × 100%
    assert row["self_overnight"] == 0.0  # capture 100% → every car is valet
    assert row["external_revenue"] == pytest.approx(1200.0)  # 30 × $40 + 0 × $20
    # Unvalidated data (e.g. a feed) with capture over 100%: self overnight is forced to 0
    # rather than going negative: 100 × 30% = 30 cars; valet 30 × 125% = 37.5; self 0, not −7.5
    over = st.derive_day({**inputs, "capture_ratio": 1.25}, 200, rates)
    assert over["valet_overnight"] == pytest.approx(37.5)
    assert over["self_overnight"] == 0.0
    assert over["external_revenue"] == pytest.approx(1500.0)  # 37.5 × $40 + 0 × $20


def test_derive_day_rounds_revenue_to_cents():
    inputs = {"occupancy": 0.0, "drive_in_ratio": 0.0, "capture_ratio": 0.0, "valet_daily": 3.0}
    row = st.derive_day(inputs, 100, {"valet_daily": 10.333})
    assert row["external_revenue"] == 31.0  # 3 × $10.333 = $30.999 → $31.00


# --- spread_budget_month ----------------------------------------------------------------------


def test_spread_budget_month_over_30_days():
    month = {
        "valet_daily": 3000.0,
        "self_daily": 1500.0,
        "valet_monthly": 600.0,
        "valet_comps": 90.0,
        "occupied_rooms": 6750.0,
        "valet_overnight": 1080.0,
        "self_overnight": 270.0,
        "external_revenue": 90000.0,
    }
    day = st.spread_budget_month(month, 30, 300)
    assert day["valet_daily"] == pytest.approx(100.0)  # 3,000 ÷ 30
    assert day["self_daily"] == pytest.approx(50.0)  # 1,500 ÷ 30
    assert day["valet_monthly"] == pytest.approx(20.0)  # 600 ÷ 30
    assert day["valet_comps"] == pytest.approx(3.0)  # 90 ÷ 30
    assert day["self_monthly"] == 0.0  # missing → 0
    assert day["self_aggregator"] == 0.0
    assert day["occupied_rooms"] == pytest.approx(225.0)  # 6,750 ÷ 30
    # 300 rooms × 30 days = 9,000 available; 6,750 ÷ 9,000 = 0.75
    assert day["occupancy"] == pytest.approx(0.75)
    # (1,080 + 270) ÷ 6,750 = 1,350 ÷ 6,750 = 0.2
    assert day["drive_in_ratio"] == pytest.approx(0.2)
    # 1,080 ÷ 1,350 = 0.8
    assert day["capture_ratio"] == pytest.approx(0.8)
    assert day["valet_overnight"] == pytest.approx(36.0)  # 1,080 ÷ 30 (= 225 × 0.2 × 0.8)
    assert day["self_overnight"] == pytest.approx(9.0)  # 270 ÷ 30 (= 225 × 0.2 × 0.2)
    assert day["external_revenue"] == pytest.approx(3000.0)  # 90,000 ÷ 30


def test_spread_budget_month_site_without_rooms():
    day = st.spread_budget_month({"self_daily": 930.0}, 31, 0)
    assert day["self_daily"] == pytest.approx(30.0)  # 930 ÷ 31
    assert day["occupancy"] == 0.0  # no rooms → 0, not a division by zero
    assert day["occupied_rooms"] == 0.0
    assert day["drive_in_ratio"] == 0.0
    assert day["capture_ratio"] == 0.0


# --- week_buckets -----------------------------------------------------------------------------


def _labels(year, month):
    return [label for _, _, label in st.week_buckets(year, month)]


def test_week_buckets_june_2025_starts_on_sunday():
    # calendar: 1 June 2025 is a Sunday; Saturdays are 7, 14, 21, 28; June has 30 days
    assert dt.date(2025, 6, 1).weekday() == 6  # Sunday
    assert _labels(2025, 6) == [
        "June 1 - 7",
        "June 8 - 14",
        "June 15 - 21",
        "June 22 - 28",
        "June 29 - 30",
    ]
    buckets = st.week_buckets(2025, 6)
    assert buckets[0][:2] == (dt.date(2025, 6, 1), dt.date(2025, 6, 7))
    assert buckets[-1][:2] == (dt.date(2025, 6, 29), dt.date(2025, 6, 30))


def test_week_buckets_november_2026_starts_on_sunday():
    # calendar: 1 November 2026 is a Sunday; Saturdays 7, 14, 21, 28; 30 days
    assert dt.date(2026, 11, 1).weekday() == 6
    assert _labels(2026, 11) == [
        "November 1 - 7",
        "November 8 - 14",
        "November 15 - 21",
        "November 22 - 28",
        "November 29 - 30",
    ]


def test_week_buckets_october_2025_starts_on_wednesday():
    # calendar: 1 October 2025 is a Wednesday; Saturdays 4, 11, 18, 25; 31 days
    assert dt.date(2025, 10, 1).weekday() == 2  # Wednesday
    buckets = st.week_buckets(2025, 10)
    assert [label for _, _, label in buckets] == [
        "October 1 - 4",
        "October 5 - 11",
        "October 12 - 18",
        "October 19 - 25",
        "October 26 - 31",
    ]
    # every bucket but the first starts on a Sunday, every bucket but the last ends on a Saturday
    assert all(first.weekday() == 6 for first, _, _ in buckets[1:])
    assert all(last.weekday() == 5 for _, last, _ in buckets[:-1])
    # the buckets cover the month's 31 days exactly once: 4 + 7 + 7 + 7 + 6 = 31
    assert sum((last - first).days + 1 for first, last, _ in buckets) == 31


def test_week_buckets_month_starting_on_saturday_has_one_day_first_week():
    # calendar: 1 November 2025 is a Saturday; Saturdays 1, 8, 15, 22, 29; 30 days
    assert dt.date(2025, 11, 1).weekday() == 5
    assert _labels(2025, 11) == [
        "November 1 - 1",
        "November 2 - 8",
        "November 9 - 15",
        "November 16 - 22",
        "November 23 - 29",
        "November 30 - 30",
    ]


# --- roll_up ----------------------------------------------------------------------------------


def test_roll_up_sums_counts_reweights_occupancy_and_averages_ratios():
    days = [
        {
            "occupied_rooms": 80.0,
            "occupancy": 0.8,
            "valet_daily": 10.0,
            "self_comps": 1.0,
            "valet_overnight": 10.0,
            "external_revenue": 500.0,
            "drive_in_ratio": 0.3,
            "capture_ratio": 0.6,
        },
        {
            "occupied_rooms": 61.0,
            "occupancy": 0.61,
            "valet_daily": 20.0,
            "self_comps": 2.0,
            "valet_overnight": 5.0,
            "external_revenue": 700.0,
            "drive_in_ratio": 0.5,
            "capture_ratio": 0.9,
        },
        {
            "occupied_rooms": 100.0,
            "occupancy": 1.0,
            "valet_daily": 30.0,
            "external_revenue": 300.5,
            "drive_in_ratio": 0.1,
            "capture_ratio": 0.0,
        },
    ]
    total = st.roll_up(iter(days), 100)  # any iterable of days
    assert total["days"] == 3
    assert total["valet_daily"] == pytest.approx(60.0)  # 10 + 20 + 30
    assert total["self_comps"] == pytest.approx(3.0)  # 1 + 2 + (missing → 0)
    assert total["self_daily"] == 0.0  # missing everywhere → 0
    assert total["valet_overnight"] == pytest.approx(15.0)  # 10 + 5 + 0
    assert total["external_revenue"] == pytest.approx(1500.5)  # 500 + 700 + 300.50
    assert total["occupied_rooms"] == pytest.approx(241.0)  # 80 + 61 + 100
    # 100 rooms × 3 days = 300 available; 241 ÷ 300 = 0.80333…
    assert total["occupancy"] == pytest.approx(241 / 300)
    assert total["drive_in_ratio"] == pytest.approx(0.3)  # (0.3 + 0.5 + 0.1) ÷ 3 = 0.9 ÷ 3
    assert total["capture_ratio"] == pytest.approx(0.5)  # (0.6 + 0.9 + 0.0) ÷ 3 = 1.5 ÷ 3


def test_roll_up_occupancy_is_weighted_not_a_mean_of_stored_percentages():
    # The stored daily occupancy values are ignored; only occupied rooms count.
    days = [
        {"occupied_rooms": 150.0, "occupancy": 0.0},
        {"occupied_rooms": 50.0, "occupancy": 0.0},
    ]
    total = st.roll_up(days, 200)
    # 200 rooms × 2 days = 400 available; (150 + 50) ÷ 400 = 0.5
    assert total["occupancy"] == pytest.approx(0.5)


def test_roll_up_site_without_rooms_and_empty_input():
    total = st.roll_up([{"self_daily": 12.0}, {"self_daily": 8.0}], 0)
    assert total["self_daily"] == pytest.approx(20.0)  # 12 + 8
    assert total["occupancy"] == 0.0  # 0 rooms × 2 days = 0 available → 0, no division
    assert total["drive_in_ratio"] == 0.0  # (0 + 0) ÷ 2
    assert st.roll_up([], 300) == {}
    assert st.roll_up(iter([]), 300) == {}
