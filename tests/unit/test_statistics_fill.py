"""Fill month from the proposal or the budget (``callbacks/statistics_edits.fill_month``): the
edits it makes, the days it leaves alone, and the change against the budget it reports, on
small windows computed by hand."""

import pytest

from dashboard.callbacks.statistics_edits import fill_month
from dashboard.domain import statistics as st
from dashboard.domain.submission import Thresholds

LIMITS = Thresholds(pct=0.075, amount=5_000.0)


def _day(iso, *, editable=True, forecast=10.0, budget=10.0, proposal=12.0, actual=None):
    row = {"day": iso, "editable": editable, "version": 0, "source": "proposal"}
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
