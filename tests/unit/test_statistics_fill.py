"""Fill month from the proposal or the budget (``callbacks/statistics_edits.fill_month``): the
edits it makes, the days it leaves alone, and the change against the budget it reports, on
small windows computed by hand."""

import pytest

from dashboard.callbacks.statistics_edits import fill_month
from dashboard.domain import statistics as st
from dashboard.domain.submission import Thresholds

LIMITS = Thresholds(pct=0.075, amount=5_000.0)


def _day(iso, *, editable=True, forecast=10.0, budget=10.0, proposal=12.0, actual=None):
    # A saved day (an entry) that has a proposal carries it as proposal_* (a day showing its
    # proposal has it in its forecast columns).
    source = "budget" if proposal is None else "entry"
    row = {"day": iso, "editable": editable, "version": 1, "source": source}
    for prefix, valet in (("forecast", forecast), ("budget", budget)):
        row.update({f"{prefix}_{f}": 0.0 for f in st.STAT_FIELDS})
        row[f"{prefix}_valet_daily"] = valet
        row[f"{prefix}_external_revenue"] = valet * 20.0
    if proposal is not None:
        row.update(
            {f"proposal_{f}": 0.0 for f in st.ROOM_INPUTS + st.COUNT_INPUTS + st.RATIO_INPUTS}
        )
        row["proposal_valet_daily"] = proposal
    if actual is not None:
        row.update({f"actual_{f}": 0.0 for f in st.STAT_FIELDS})
        row["actual_valet_daily"] = actual
    return row


def _window(days):
    # A site without rooms: the inputs are the 8 counts; valet daily earns $20.
    return {"total_rooms": 0, "rates": {"2027-03": {"valet_daily": 20.0}}, "days": days}


def test_the_proposal_fills_every_open_day_that_differs_and_reports_the_change():
    days = [
        _day("2027-03-01", forecast=10.0, proposal=12.0),
        _day("2027-03-02", forecast=12.0, proposal=12.0),  # already shows it
        _day("2027-03-03", editable=False, forecast=10.0, proposal=14.0),  # read-only
    ]
    fill = fill_month(_window(days), {}, 2027, 3, "proposal", "occupancy", LIMITS)
    assert fill.edits == {"2027-03-01|valet_daily": 12.0}
    assert fill.days == 1
    # Forecast days: $200 + $240 + $200 before, $240 + $240 + $200 after; budget 3 × $200.
    assert "$640 → $680" in fill.message
    assert "$80 (13.3%) vs budget" in fill.message
    # 13.3% ≥ 7.5%: the guard rail warns before anything is saved.
    assert fill.warning and fill.message.startswith("⚠")


def test_the_budget_takes_back_an_unsaved_edit_and_stays_within_the_thresholds():
    days = [_day("2027-03-01", forecast=10.0), _day("2027-03-02", forecast=10.0)]
    edits = {"2027-03-01|valet_daily": 11.0}
    fill = fill_month(_window(days), edits, 2027, 3, "budget", "occupancy", LIMITS)
    # Typed back to the saved value (= the budget here): no longer an edit.
    assert fill.edits == {}
    assert fill.days == 1
    assert "$420 → $400" in fill.message and "$0 (0.0%) vs budget" in fill.message
    assert not fill.warning


def test_days_showing_actuals_are_left_out_of_the_month_and_of_the_fill():
    days = [
        _day("2027-03-01", editable=False, actual=50.0, proposal=None),
        _day("2027-03-02", forecast=10.0, proposal=10.5),
    ]
    fill = fill_month(_window(days), {}, 2027, 3, "proposal", "occupancy", LIMITS)
    assert fill.edits == {"2027-03-02|valet_daily": 10.5}
    assert "$200 → $210" in fill.message and "$10 (5.0%) vs budget" in fill.message
    assert not fill.warning  # 5% < 7.5% and $10 < $5,000


def test_no_proposal_yet_says_so_and_changes_nothing():
    days = [_day("2027-03-01", proposal=None)]
    edits = {"2027-04-01|valet_daily": 3.0}
    fill = fill_month(_window(days), edits, 2027, 3, "proposal", "occupancy", LIMITS)
    assert fill.days == 0 and fill.edits is edits
    assert "No open day of March 2027 has a proposal yet" in fill.message
    again = fill_month(
        _window([_day("2027-03-01", forecast=12.0)]), {}, 2027, 3, "proposal", "occupancy", LIMITS
    )
    assert again.days == 0 and "already shows the proposal" in again.message


@pytest.mark.parametrize("room_input", ["occupancy", "occupied_rooms"])
def test_a_hotel_fills_its_room_input_and_ratios(room_input):
    day = _day("2027-03-01", proposal=12.0)
    day.update({"forecast_occupancy": 0.5, "forecast_occupied_rooms": 50.0})
    day.update({"proposal_occupancy": 0.8, "proposal_occupied_rooms": 80.0})
    day.update({"proposal_drive_in_ratio": 0.3, "proposal_capture_ratio": 0.5})
    window = {**_window([day]), "total_rooms": 100}
    fill = fill_month(window, {}, 2027, 3, "proposal", room_input, LIMITS)
    room_value = 0.8 if room_input == "occupancy" else 80.0
    assert fill.edits == {
        f"2027-03-01|{room_input}": room_value,
        "2027-03-01|valet_daily": 12.0,
        "2027-03-01|drive_in_ratio": 0.3,
        "2027-03-01|capture_ratio": 0.5,
    }


# --- Weekly and monthly entry: a total spread over the open days -----------------------------


def test_spread_total_follows_the_weights_and_adds_up():
    assert st.spread_total(100.0, [1, 3]) == [25.0, 75.0]
    assert st.spread_total(90.0, [0, 0, 0]) == [30.0, 30.0, 30.0]  # no profile: evenly
    assert st.spread_total(10.0, [2.0, None, 3.0]) == [4.0, 0.0, 6.0]
    parts = st.spread_total(100.0, [1, 1, 1])
    assert parts[:2] == [100 / 3, 100 / 3] and sum(parts) == 100.0
    assert st.spread_total(5.0, []) == []


def test_spread_whole_gives_the_leftover_units_to_the_largest_fractions():
    # Shares 100 × (1, 2, 4) / 7 = 14.29, 28.57, 57.14: floors 14 + 28 + 57 = 99, one left,
    # to the largest fraction (.57 of the second day).
    assert st.spread_whole(100, [1, 2, 4]) == [14, 29, 57]
    # Even thirds of 10: 3.33 each, one left, the earliest first.
    assert st.spread_whole(10, [1, 1, 1]) == [4, 3, 3]
    assert st.spread_whole(0, [1, 2]) == [0, 0]


def _week(proposals, editable, forecast=10.0):
    days = []
    for i, (proposal, open_) in enumerate(zip(proposals, editable, strict=True)):
        day = _day(f"2027-03-{i + 1:02d}", editable=open_, forecast=forecast, proposal=proposal)
        days.append(day)
    return _window(days)


def test_a_typed_week_total_is_spread_by_the_proposal_profile_and_reads_back():
    from dashboard.callbacks.statistics_edits import spread_bucket

    # Proposal valet daily 10, 20, 30, 40 on four open days: a total of 200 → 20, 40, 60, 80.
    window = _week([10.0, 20.0, 30.0, 40.0], [True] * 4)
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-04", "valet_daily", "200", "occupancy"
    )
    assert problem is None
    assert edits == {
        "2027-03-01|valet_daily": 20,
        "2027-03-02|valet_daily": 40,
        "2027-03-03|valet_daily": 60,
        "2027-03-04|valet_daily": 80,
    }


def test_past_days_of_the_week_keep_their_values_and_bound_the_total():
    from dashboard.callbacks.statistics_edits import spread_bucket

    # Day 1 is past (forecast 10 shown); 100 − 10 = 90 over days 2–3 by proposal 1 : 2.
    window = _week([5.0, 1.0, 2.0], [False, True, True])
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-03", "valet_daily", "100", "occupancy"
    )
    assert problem is None
    assert edits == {"2027-03-02|valet_daily": 30, "2027-03-03|valet_daily": 60}
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-03", "valet_daily", "8", "occupancy"
    )
    assert edits is None and "already hold 10.0" in problem


def test_a_typed_occupancy_becomes_whole_rooms_spread_by_the_proposal():
    from dashboard.callbacks.statistics_edits import spread_bucket

    days = []
    for i, rooms_proposed in enumerate((40.0, 60.0)):
        day = _day(f"2027-03-{i + 1:02d}", proposal=12.0)
        day.update({"forecast_occupancy": 0.5, "forecast_occupied_rooms": 50.0})
        day["proposal_occupied_rooms"] = rooms_proposed
        days.append(day)
    window = {**_window(days), "total_rooms": 100}
    # 75% of 2 × 100 rooms = 150 rooms, split 40 : 60 → 60 and 90 rooms → 60% and 90%.
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-02", "occupancy", "75", "occupancy"
    )
    assert problem is None
    assert edits == {"2027-03-01|occupancy": 0.6, "2027-03-02|occupancy": 0.9}
    # 95%: 190 rooms → 76 and 114 > 100 rooms: refused, nothing changed.
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-02", "occupancy", "95", "occupancy"
    )
    assert edits is None and "over 100%" in problem


def test_a_typed_ratio_sets_the_open_days_so_the_average_is_the_one_typed():
    from dashboard.callbacks.statistics_edits import spread_bucket

    days = [_day("2027-03-01", editable=False), _day("2027-03-02"), _day("2027-03-03")]
    days[0]["forecast_capture_ratio"] = 0.4
    window = {**_window(days), "total_rooms": 100}
    # Average 60% over 3 days with 40% fixed: (1.8 − 0.4) ÷ 2 = 70% on the open days.
    edits, problem = spread_bucket(
        {}, window, "2027-03-01", "2027-03-03", "capture_ratio", "60", "occupancy"
    )
    assert problem is None
    assert edits == pytest.approx(
        {"2027-03-02|capture_ratio": 0.7, "2027-03-03|capture_ratio": 0.7}
    )
