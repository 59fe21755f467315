"""Other Revenue / Other Expenses grids built from a hand-made ``load_adjustments`` payload."""

import pytest

from dashboard.components import adjustments_grid as grid
from dashboard.domain import adjustments as adj
from dashboard.domain.periods import add_months

REV, EXP = "other_revenue", "other_expense"
MONTHS = [f"{y}-{m:02d}" for y, m in (add_months(2026, 10, i) for i in range(12))]
PAST, CURRENT, NEXT = "2026-10", "2026-11", "2026-12"


def _zeros(kind):
    fields = adj.OTHER_REVENUE_FIELDS if kind == REV else adj.OTHER_EXPENSE_FIELDS
    return dict.fromkeys(fields, 0.0)


def _cell(kind, budget=None, forecast=None, actual=None, version=0, lock=None, by=None):
    b = {**_zeros(kind), **(budget or {})}
    f = None if forecast is None else {**_zeros(kind), **forecast}
    return {
        "budget": b,
        "forecast": f,
        "actual": None if actual is None else {**_zeros(kind), **actual},
        "values": f if f is not None else b,
        "version": version,
        "updated_by": by,
        "editable": lock is None,
        "lock_reason": lock,
    }


def _data():
    """Start Oct 2026, today in Nov 2026: October is past (and has actuals)."""
    rev = {m: _cell(REV, {"billable_expenses": 100.0, "gpo_fees": -100.0}) for m in MONTHS}
    rev[PAST] = _cell(
        REV,
        {"billable_expenses": 100.0, "gpo_fees": -100.0},
        actual={"billable_expenses": 90.0},
        lock="Past months are read-only.",
    )
    # November: a saved forecast, version 3, GPO fees −110 against −100 budgeted.
    rev[CURRENT] = _cell(
        REV,
        {"billable_expenses": 100.0, "gpo_fees": -100.0},
        forecast={"billable_expenses": 105.0, "gpo_fees": -110.0},
        version=3,
        by="Dana DM",
    )
    exp = {m: _cell(EXP, {"uniforms": 50.0}) for m in MONTHS}
    exp[PAST] = _cell(EXP, {"uniforms": 50.0}, lock="Past months are read-only.")
    exp[NEXT] = _cell(
        EXP, {"uniforms": 50.0}, lock="Actual expenses are posted for this month; it is read-only."
    )
    return {
        "site_id": 7,
        "start": "2026-10",
        "months": MONTHS,
        "may_edit": True,
        REV: rev,
        EXP: exp,
    }


def _row(rows, row_id):
    return next(r for r in rows if r["row_id"] == row_id)


# --- columns -----------------------------------------------------------------------------------


def test_columns_are_label_kind_twelve_months_and_total():
    columns = grid.column_defs(REV, MONTHS)
    assert [c["field"] for c in columns][:3] == ["label", "kind", "m2026_10"]
    assert [c["headerName"] for c in columns[2:]] == [
        "Oct 2026",
        "Nov 2026",
        "Dec 2026",
        "Jan 2027",
        "Feb 2027",
        "Mar 2027",
        "Apr 2027",
        "May 2027",
        "Jun 2027",
        "Jul 2027",
        "Aug 2027",
        "Sep 2027",
        "Total",
    ]
    month = columns[3]
    assert month["valueParser"] == {"function": "params.newValue"}
    assert month["cellDataType"] is False
    assert "params.data.m2026_11_editable" in month["editable"]["function"]
    assert "params.data.kind === 'Forecast'" in month["editable"]["function"]
    assert month["tooltipField"] == "m2026_11_tip"
    assert columns[-1]["editable"] is False


def test_only_other_revenue_has_variance_bands():
    rev = grid.column_defs(REV, MONTHS)[2]["cellClassRules"]
    exp = grid.column_defs(EXP, MONTHS)[2]["cellClassRules"]
    assert {"adj-band-green", "adj-band-light-green", "adj-band-amber", "adj-band-red"} <= set(rev)
    assert not any(name.startswith("adj-band") for name in exp)
    assert {"cell-modified", "cell-readonly", "cell-negative"} <= set(exp)


def test_month_column_ids_round_trip():
    assert grid.column_key("2026-12") == "m2026_12"
    assert grid.month_of_column("m2026_12") == "2026-12"
    for bad in ("total", "label", "m2026_13", "mabc"):
        with pytest.raises(ValueError):
            grid.month_of_column(bad)


# --- rows --------------------------------------------------------------------------------------


def test_rows_forecast_then_budget_then_actual_per_field_and_totals():
    rows = grid.rows(_data(), REV, {})
    # 6 fields × (Forecast, Budget, Actual: October has actuals) + 3 total rows.
    assert len(rows) == 6 * 3 + 3
    assert [r["kind"] for r in rows[:3]] == ["Forecast", "Budget", "Actual"]
    assert rows[0]["label"] == "Billable Expenses"
    assert [r["row_id"] for r in rows[-3:]] == ["total", "total|budget", "total|actual"]
    assert len({r["row_id"] for r in rows}) == len(rows)


def test_no_actual_rows_when_the_window_has_none():
    rows = grid.rows(_data(), EXP, {})
    assert len(rows) == 12 * 2 + 2
    assert rows[0]["label"] == "Employee Relations · 7045"


def test_budget_is_the_default_and_a_saved_forecast_wins():
    rows = grid.rows(_data(), REV, {})
    billable, gpo = _row(rows, "billable_expenses"), _row(rows, "gpo_fees")
    assert billable["m2026_12"] == 100.0  # no forecast saved: budget
    assert billable["m2026_12_modified"] is False
    assert "budget default" in billable["m2026_12_tip"]
    assert billable["m2026_11"] == 105.0  # saved forecast
    assert billable["m2026_11_modified"] is True
    assert "saved by Dana DM" in billable["m2026_11_tip"]
    assert _row(rows, "billable_expenses|budget")["m2026_11"] == 100.0
    assert _row(rows, "billable_expenses|actual")["m2026_10"] == 90.0
    assert _row(rows, "billable_expenses|actual")["m2026_11"] is None
    # Bands (§6.1): 105 vs 100 = +5% exactly → light green; GPO −110 vs −100 = −10% → red.
    assert billable["m2026_11_band"] == adj.LIGHT_GREEN
    assert gpo["m2026_11_band"] == adj.RED
    assert "-$10.00 (-10.0%) vs budget" in gpo["m2026_11_tip"]
    assert billable["m2026_12_band"] is None  # equal to budget


def test_past_and_actualised_months_are_read_only_with_the_reason_in_the_tooltip():
    rows = grid.rows(_data(), EXP, {})
    uniforms = _row(rows, "uniforms")
    assert uniforms["m2026_10_editable"] is False
    assert uniforms["m2026_12_editable"] is False
    assert uniforms["m2026_11_editable"] is True
    assert "Actual expenses are posted" in uniforms["m2026_12_tip"]
    assert "Past months are read-only." in uniforms["m2026_10_tip"]


def test_unsaved_edits_show_and_totals_follow_them():
    edits = {
        "other_expense|2027-01|uniforms": {"value": 80.0, "version": 0},
        "other_revenue|2027-01|gpo_fees": {"value": -1.0, "version": 0},  # other tab: ignored
    }
    rows = grid.rows(_data(), EXP, edits)
    uniforms = _row(rows, "uniforms")
    assert uniforms["m2027_01"] == 80.0
    assert uniforms["m2027_01_unsaved"] is True
    assert uniforms["m2027_01_modified"] is True
    # Total column: 11 months × 50 + 80 = 630; budget row 12 × 50 = 600.
    assert uniforms["total"] == 630.0
    assert _row(rows, "uniforms|budget")["total"] == 600.0
    total = _row(rows, "total")
    assert total["m2027_01"] == 80.0  # only uniforms is budgeted
    assert total["total"] == 630.0
    assert total["m2027_01_editable"] is False
    assert grid.dirty_text(EXP, edits) == "1 unsaved change"
    assert grid.dirty_text(REV, {}) == ""


def test_no_data_no_rows():
    assert grid.rows(None, REV, {}) == []


# --- cell edits --------------------------------------------------------------------------------


def test_accepted_edit_remembers_the_version_of_the_month_row():
    edits, problem = grid.apply_change(_data(), REV, {}, "gpo_fees", CURRENT, "-$1,250.50")
    assert problem is None
    assert edits == {"other_revenue|2026-11|gpo_fees": {"value": -1250.5, "version": 3}}


def test_positive_gpo_fee_is_refused_with_the_domain_message():
    edits, problem = grid.apply_change(_data(), REV, {}, "gpo_fees", NEXT, "250")
    assert edits is None
    assert problem.startswith("GPO Fees, Dec 2026: ")
    assert adj.validate_other_revenue("gpo_fees", 250) in problem


def test_negative_expense_and_text_are_refused():
    _, problem = grid.apply_change(_data(), EXP, {}, "uniforms", CURRENT, -5)
    assert "Uniforms cannot be negative." in problem
    _, problem = grid.apply_change(_data(), EXP, {}, "uniforms", CURRENT, "abc")
    assert "enter an amount in dollars" in problem


def test_locked_months_are_refused():
    _, problem = grid.apply_change(_data(), REV, {}, "billable_expenses", PAST, 10)
    assert problem == "Billable Expenses, Oct 2026: Past months are read-only."
    _, problem = grid.apply_change(_data(), EXP, {}, "uniforms", NEXT, 10)
    assert "Actual expenses are posted" in problem
    _, problem = grid.apply_change(_data(), EXP, {}, "uniforms", "2030-01", 10)
    assert "not shown" in problem


def test_typing_back_the_shown_value_drops_the_edit():
    start = {"other_revenue|2026-11|gpo_fees": {"value": -200.0, "version": 3}}
    edits, problem = grid.apply_change(_data(), REV, start, "gpo_fees", CURRENT, -110)
    assert problem is None
    assert edits == {}


def test_empty_cell_counts_as_zero():
    edits, problem = grid.apply_change(_data(), EXP, {}, "uniforms", CURRENT, "")
    assert problem is None
    assert edits == {"other_expense|2026-11|uniforms": {"value": 0.0, "version": 0}}


# --- layout ------------------------------------------------------------------------------------


def _ids(component, found=None):
    found = {} if found is None else found
    component_id = getattr(component, "id", None)
    if component_id:
        found[component_id] = component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            _ids(child, found)
    return found


@pytest.mark.parametrize(("kind", "prefix"), [(REV, "other-revenue"), (EXP, "other-expense")])
def test_panel_has_the_sticky_bar_and_grid(kind, prefix):
    layout = grid.panel(kind)
    ids = _ids(layout)
    for suffix in ("save", "dirty", "message", "grid", "rule"):
        assert f"{prefix}-{suffix}" in ids
    message = ids[f"{prefix}-message"]
    assert message.role == "status"
    assert getattr(message, "aria-live") == "polite"
    assert ids[f"{prefix}-grid"].getRowId == "params.data.row_id"
    assert layout.children[0].className == "ws-sticky-bar"
