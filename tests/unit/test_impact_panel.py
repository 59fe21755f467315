"""The live impact panel's table: figures, signs, flags and the note on refused edits."""

from dashboard.components import impact_panel


def _month(**overrides):
    month = {
        "year": 2026,
        "month": 12,
        "label": "Dec 2026",
        "kind": "forecast",
        "ir_fallback": None,
        "external_revenue": 120_400.4,
        "internal_revenue": 60_200.0,
        "payroll": 31_000.0,
        "flc": 9_500.0,
        "budget_flc": 10_000.0,
        "flc_vs_budget": -500.0,
        "flc_vs_budget_pct": "-5.0%",
        "flc_vs_budget_bold": False,
        "flc_vs_budget_negative": True,
        "flc_change": 250.0,
    }
    month.update(overrides)
    return month


def _cells(component, found=None):
    """id -> component of every element with an id."""
    found = {} if found is None else found
    if getattr(component, "id", None):
        found[component.id] = component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            _cells(child, found)
    return found


def test_signed_money():
    assert impact_panel.signed_money(1234.4) == "+$1,234"
    assert impact_panel.signed_money(-1234.6) == "-$1,235"
    assert impact_panel.signed_money(0.2) == "$0"


def test_table_shows_figures_variance_and_change():
    cells = _cells(impact_panel.table({"months": [_month()], "edits_skipped": 0}))
    assert cells["ws-impact-external_revenue-0"].children == "$120,400"
    assert cells["ws-impact-flc-0"].children == "$9,500"
    variance = cells["ws-impact-variance-0"]
    assert variance.children == "-$500 (-5.0%)"
    assert "cell-negative" in variance.className and "cell-bold" not in variance.className
    assert cells["ws-impact-change-0"].children == "+$250"
    assert "ws-impact-skipped" not in cells


def test_no_change_is_a_dash_and_refused_edits_are_named():
    month = _month(flc_change=0.001, flc_vs_budget_bold=True, flc_vs_budget_pct="-9.1%")
    cells = _cells(impact_panel.table({"months": [month], "edits_skipped": 2}))
    assert cells["ws-impact-change-0"].children == "—"
    assert "cell-bold" in cells["ws-impact-variance-0"].className
    assert cells["ws-impact-skipped"].children.startswith("2 unsaved edits could not be counted")
