"""Chart builders: traces, values, formats and colours, checked on the figure objects."""

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from dashboard.components import charts


def _is_empty_figure(figure: go.Figure) -> bool:
    texts = [a.text for a in figure.layout.annotations]
    return len(figure.data) == 0 and texts == [charts.EMPTY_MESSAGE]


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "hover", "tick"),
    [
        ("percent", ".1%", ".1%"),
        ("money", "$,.2f", "$,.0f"),
        ("count", ",.0f", ",.0f"),
        ("ratio", ",.2f", ",.2f"),
    ],
)
def test_formats_by_unit(unit, hover, tick):
    assert charts.hover_format(unit) == hover
    assert charts.tick_format(unit) == tick


def test_unknown_unit_is_rejected():
    with pytest.raises(ValueError, match="Unknown unit"):
        charts.hover_format("furlongs")
    with pytest.raises(ValueError, match="Unknown unit"):
        charts.tick_format("furlongs")


def test_month_axis_label_and_signed_money():
    assert charts.month_axis_label("2026-01") == "Jan 2026"
    assert charts.month_axis_label("2025-12") == "Dec 2025"
    assert charts.signed_money(1234.4) == "+$1,234"
    assert charts.signed_money(-567.0) == "\u2212$567"
    assert charts.signed_money(0.0) == "+$0"


# --- KPI trend -------------------------------------------------------------------------------


def _trend_frame() -> pd.DataFrame:
    # Deliberately unsorted, with Prior year before Budget and Forecast missing Jan.
    rows = [
        ("2026-02", "Prior year", 0.50),
        ("2026-01", "Budget", 0.60),
        ("2026-02", "Actual", 0.64),
        ("2026-03", "Forecast", 0.70),
        ("2026-01", "Actual", 0.62),
        ("2026-02", "Budget", 0.61),
        ("2026-03", "Budget", 0.63),
        ("2026-01", "Prior year", 0.55),
        ("2026-02", "Forecast", 0.66),
        ("2026-03", "Actual", float("nan")),
    ]
    return pd.DataFrame(rows, columns=["period", "series", "value"])


def _nan_equal(actual, expected) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == e for a, e in zip(actual, expected, strict=True)
    )


def test_kpi_trend_traces_in_fixed_order_with_styles():
    figure = charts.kpi_trend_figure(_trend_frame(), "Occupancy", "percent")
    assert [type(t) for t in figure.data] == [go.Scatter] * 4
    assert [t.name for t in figure.data] == ["Actual", "Forecast", "Budget", "Prior year"]
    assert [t.line.dash for t in figure.data] == ["solid", "dashdot", "dash", "dot"]
    colors = [t.line.color for t in figure.data]
    assert len(set(colors)) == 4
    assert colors == [charts.SERIES_COLORS[t.name] for t in figure.data]
    for trace in figure.data:
        assert trace.mode == "lines+markers"
        assert trace.connectgaps is False


def test_kpi_trend_values_sorted_by_month_with_gaps():
    figure = charts.kpi_trend_figure(_trend_frame(), "Occupancy", "percent")
    months = ("Jan 2026", "Feb 2026", "Mar 2026")
    by_name = {t.name: t for t in figure.data}
    for trace in figure.data:
        assert trace.x == months
    nan = float("nan")
    assert _nan_equal(by_name["Actual"].y, [0.62, 0.64, nan])
    assert _nan_equal(by_name["Forecast"].y, [nan, 0.66, 0.70])
    assert _nan_equal(by_name["Budget"].y, [0.60, 0.61, 0.63])
    assert _nan_equal(by_name["Prior year"].y, [0.55, 0.50, nan])
    assert figure.layout.xaxis.type == "category"
    assert figure.layout.xaxis.categoryarray == months


def test_kpi_trend_layout_and_hover():
    figure = charts.kpi_trend_figure(_trend_frame(), "Occupancy", "percent")
    assert figure.layout.title.text == "Occupancy"
    assert figure.layout.hovermode == "x unified"
    assert figure.layout.yaxis.tickformat == ".1%"
    assert figure.layout.xaxis.title.text == "Month"
    assert figure.layout.yaxis.title.text == "Occupancy"
    assert figure.layout.template == pio.templates["plotly_white"]
    assert figure.layout.showlegend is True
    actual = figure.data[0]
    assert actual.hovertemplate == "Actual<br>%{x}<br>%{y:.1%}<extra></extra>"


def test_kpi_trend_money_formats_and_subset_of_series():
    frame = pd.DataFrame(
        {
            "period": ["2026-02", "2026-01"],
            "series": ["Budget", "Budget"],
            "value": [2000.5, 1000.25],
        }
    )
    figure = charts.kpi_trend_figure(frame, "External revenue", "money")
    assert [t.name for t in figure.data] == ["Budget"]
    assert figure.data[0].x == ("Jan 2026", "Feb 2026")
    assert figure.data[0].y == (1000.25, 2000.5)
    assert figure.layout.yaxis.tickformat == "$,.0f"
    assert "%{y:$,.2f}" in figure.data[0].hovertemplate
    assert figure.data[0].hovertemplate.endswith("<extra></extra>")


def test_kpi_trend_empty_and_all_nan():
    empty = pd.DataFrame(columns=["period", "series", "value"])
    figure = charts.kpi_trend_figure(empty, "Occupancy", "percent")
    assert _is_empty_figure(figure)
    assert figure.layout.title.text == "Occupancy"
    all_nan = pd.DataFrame({"period": ["2026-01"], "series": ["Actual"], "value": [float("nan")]})
    assert _is_empty_figure(charts.kpi_trend_figure(all_nan, "Occupancy", "percent"))


def test_kpi_trend_rejects_unknown_series_and_duplicates():
    bad = pd.DataFrame({"period": ["2026-01"], "series": ["Stretch"], "value": [1.0]})
    with pytest.raises(ValueError, match="Unknown series"):
        charts.kpi_trend_figure(bad, "Occupancy", "percent")
    dup = pd.DataFrame(
        {"period": ["2026-01", "2026-01"], "series": ["Actual", "Actual"], "value": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="same period and series"):
        charts.kpi_trend_figure(dup, "Occupancy", "percent")


# --- benchmark -------------------------------------------------------------------------------


def _peers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": [1, 2, 3, 4],
            "site_label": ["0001 · North", "0002 · South", "0003 · East", "0004 · West"],
            "value": [0.25, 0.31, float("nan"), 0.40],
        }
    )


def test_benchmark_box_and_highlighted_site():
    figure = charts.benchmark_figure(_peers(), 2, "Payroll % of revenue", "percent")
    assert [type(t) for t in figure.data] == [go.Box, go.Scatter]
    box, site = figure.data
    assert box.name == "Peers"
    assert box.boxpoints == "all"
    assert box.pointpos == 0
    assert box.jitter > 0
    assert box.orientation == "v"
    # NaN row (site 3) dropped.
    assert box.y == (0.25, 0.31, 0.40)
    assert box.x == ("Peers", "Peers", "Peers")
    assert box.customdata == ("0001 · North", "0002 · South", "0004 · West")
    assert "%{customdata}" in box.hovertemplate
    assert "%{y:.1%}" in box.hovertemplate

    assert site.name == "0002 · South"
    assert site.x == ("Peers",)
    assert site.y == (0.31,)
    assert site.mode == "markers"
    assert site.marker.size == 16
    assert site.marker.symbol == "star"
    assert site.marker.color == charts.HIGHLIGHT_COLOR
    assert site.marker.color != box.marker.color
    assert "%{y:.1%}" in site.hovertemplate


def test_benchmark_layout():
    figure = charts.benchmark_figure(_peers(), 2, "Payroll % of revenue", "percent")
    assert figure.layout.title.text == "Payroll % of revenue: site against its peers"
    assert figure.layout.yaxis.tickformat == ".1%"
    assert figure.layout.yaxis.title.text == "Payroll % of revenue"
    assert figure.layout.xaxis.title.text == "Peer group (3 sites)"
    assert figure.layout.hovermode == "closest"
    assert figure.layout.showlegend is True


def test_benchmark_site_without_value_draws_peers_only():
    figure = charts.benchmark_figure(_peers(), 3, "Payroll % of revenue", "percent")
    assert [t.name for t in figure.data] == ["Peers"]


def test_benchmark_empty():
    frame = pd.DataFrame({"site_id": [1], "site_label": ["A"], "value": [float("nan")]})
    figure = charts.benchmark_figure(frame, 1, "FLC", "money")
    assert _is_empty_figure(figure)
    assert figure.layout.title.text == "FLC: site against its peers"


# --- waterfall -------------------------------------------------------------------------------


def _steps() -> pd.DataFrame:
    return pd.DataFrame(
        {"label": ["Volume", "Rate", "Payroll"], "amount": [1234.4, -567.0, 100.25]}
    )


def test_waterfall_measures_values_and_text():
    figure = charts.waterfall_figure(
        _steps(), "Budget FLC", 10000.0, "Forecast FLC", 10767.65, "FLC"
    )
    assert [type(t) for t in figure.data] == [go.Waterfall]
    trace = figure.data[0]
    assert trace.x == ("Budget FLC", "Volume", "Rate", "Payroll", "Forecast FLC")
    assert trace.measure == ("absolute", "relative", "relative", "relative", "total")
    assert trace.y == (10000.0, 1234.4, -567.0, 100.25, 0.0)
    assert trace.text == ("$10,000", "+$1,234", "\u2212$567", "+$100", "$10,768")
    assert trace.customdata == (10000.0, 1234.4, -567.0, 100.25, 10767.65)
    assert trace.hovertemplate[0] == "%{x}<br>%{customdata:$,.2f}<extra></extra>"
    assert trace.hovertemplate[1] == "%{x}<br>%{customdata:+$,.2f}<extra></extra>"
    assert trace.hovertemplate[-1] == "%{x}<br>%{customdata:$,.2f}<extra></extra>"
    assert trace.increasing.marker.color == charts.INCREASING_COLOR
    assert trace.decreasing.marker.color == charts.DECREASING_COLOR
    assert trace.totals.marker.color == charts.TOTAL_COLOR
    assert trace.connector.line.width > 0


def test_waterfall_plotly_total_equals_end_value():
    # Plotly ignores y on a "total" bar and draws the running sum; it must be the end value.
    figure = charts.waterfall_figure(
        _steps(), "Budget FLC", 10000.0, "Forecast FLC", 10767.65, "FLC"
    )
    trace = figure.data[0]
    running = math.fsum(trace.y[:-1])
    assert abs(running - 10767.65) <= 0.005


def test_waterfall_layout():
    figure = charts.waterfall_figure(
        _steps(), "Budget FLC", 10000.0, "Forecast FLC", 10767.65, "FLC"
    )
    assert figure.layout.title.text == "FLC"
    assert figure.layout.yaxis.tickformat == "$,.0f"
    assert figure.layout.yaxis.title.text == "Amount ($)"
    assert figure.layout.xaxis.title.text == "Driver"
    assert figure.layout.showlegend is False


def test_waterfall_accepts_half_cent_rounding():
    charts.waterfall_figure(_steps(), "Budget", 10000.0, "Forecast", 10767.654, "FLC")


def test_waterfall_rejects_steps_that_do_not_sum():
    with pytest.raises(ValueError, match="do not add up"):
        charts.waterfall_figure(_steps(), "Budget", 10000.0, "Forecast", 10767.66, "FLC")


def test_waterfall_rejects_missing_amount():
    steps = pd.DataFrame({"label": ["Volume"], "amount": [float("nan")]})
    with pytest.raises(ValueError, match="missing"):
        charts.waterfall_figure(steps, "Budget", 0.0, "Forecast", 0.0, "FLC")


def test_waterfall_empty():
    steps = pd.DataFrame(columns=["label", "amount"])
    figure = charts.waterfall_figure(steps, "Budget", 1.0, "Forecast", 1.0, "FLC bridge")
    assert _is_empty_figure(figure)
    assert figure.layout.title.text == "FLC bridge"


# --- ranked bars -----------------------------------------------------------------------------


def _districts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": ["North", "South", "East", "West", "Central"],
            "flc_pct": [0.05, -0.12, 0.20, float("nan"), -0.01],
        }
    )


def test_ranked_bar_sorted_largest_at_top():
    figure = charts.ranked_bar_figure(
        _districts(), "district", "flc_pct", "percent", "FLC vs budget % by district"
    )
    assert [type(t) for t in figure.data] == [go.Bar]
    bar = figure.data[0]
    assert bar.orientation == "h"
    # Plotly draws the first category at the bottom: the last one is the top bar.
    assert bar.y == ("South", "Central", "North", "East")
    assert bar.x == (-0.12, -0.01, 0.05, 0.20)
    assert figure.layout.yaxis.categoryarray == ("South", "Central", "North", "East")
    assert "%{x:.1%}" in bar.hovertemplate
    assert figure.layout.xaxis.tickformat == ".1%"
    assert figure.layout.title.text == "FLC vs budget % by district"
    assert figure.layout.xaxis.title.text == "Flc pct"
    assert figure.layout.yaxis.title.text == "District"


def test_ranked_bar_negative_and_highlight_colours():
    figure = charts.ranked_bar_figure(
        _districts(),
        "district",
        "flc_pct",
        "percent",
        "FLC vs budget % by district",
        highlight=["North", "Central"],
        value_title="FLC vs budget %",
    )
    bar = figure.data[0]
    assert bar.marker.color == (
        charts.NEGATIVE_COLOR,  # South
        charts.HIGHLIGHT_BAR_COLOR,  # Central: highlight wins over negative
        charts.HIGHLIGHT_BAR_COLOR,  # North
        charts.BAR_COLOR,  # East
    )
    assert bar.marker.line.width == (0, 2, 2, 0)
    assert figure.layout.yaxis.ticktext == ("South", "<b>Central</b>", "<b>North</b>", "East")
    assert figure.layout.xaxis.title.text == "FLC vs budget %"


def test_ranked_bar_money_formats():
    frame = pd.DataFrame({"site": ["A", "B"], "flc_var": [-50.0, 1200.0]})
    figure = charts.ranked_bar_figure(frame, "site", "flc_var", "money", "Top sites")
    assert figure.layout.xaxis.tickformat == "$,.0f"
    assert "%{x:$,.2f}" in figure.data[0].hovertemplate
    assert figure.data[0].marker.color == (charts.NEGATIVE_COLOR, charts.BAR_COLOR)


def test_ranked_bar_empty_and_duplicates():
    empty = pd.DataFrame({"site": [], "flc_var": []})
    assert _is_empty_figure(charts.ranked_bar_figure(empty, "site", "flc_var", "money", "Top"))
    dup = pd.DataFrame({"site": ["A", "A"], "flc_var": [1.0, 2.0]})
    with pytest.raises(ValueError, match="Duplicate labels"):
        charts.ranked_bar_figure(dup, "site", "flc_var", "money", "Top")


# --- accuracy --------------------------------------------------------------------------------


def test_accuracy_bars_and_bias_line():
    frame = pd.DataFrame(
        {
            "period": ["2026-02", "2026-01", "2026-03"],
            "mape": [0.08, 0.05, 0.11],
            "bias": [-0.02, 0.01, 0.03],
        }
    )
    figure = charts.accuracy_figure(frame)
    assert [type(t) for t in figure.data] == [go.Bar, go.Scatter]
    mape, bias = figure.data
    assert [mape.name, bias.name] == ["MAPE", "Bias"]
    assert mape.x == bias.x == ("Jan 2026", "Feb 2026", "Mar 2026")
    assert mape.y == (0.05, 0.08, 0.11)
    assert bias.y == (0.01, -0.02, 0.03)
    assert "%{y:.1%}" in mape.hovertemplate
    assert "%{y:.1%}" in bias.hovertemplate
    assert figure.layout.title.text == "Forecast accuracy of submitted forecasts"
    assert figure.layout.yaxis.tickformat == ".1%"
    assert figure.layout.hovermode == "x unified"
    assert figure.layout.showlegend is True


def test_accuracy_empty():
    frame = pd.DataFrame(columns=["period", "mape", "bias"])
    figure = charts.accuracy_figure(frame)
    assert _is_empty_figure(figure)
    assert figure.layout.title.text == "Forecast accuracy of submitted forecasts"


# --- every figure ----------------------------------------------------------------------------


def _all_figures() -> list[go.Figure]:
    return [
        charts.kpi_trend_figure(_trend_frame(), "Occupancy", "percent"),
        charts.benchmark_figure(_peers(), 2, "FLC", "money"),
        charts.waterfall_figure(_steps(), "Budget", 10000.0, "Forecast", 10767.65, "FLC"),
        charts.ranked_bar_figure(_districts(), "district", "flc_pct", "percent", "Districts"),
        charts.accuracy_figure(pd.DataFrame({"period": ["2026-01"], "mape": [0.1], "bias": [0.0]})),
        charts.empty_figure("Nothing"),
    ]


@pytest.mark.parametrize("index", range(6))
def test_every_figure_uses_house_template_and_margin(index):
    figure = _all_figures()[index]
    assert figure.layout.template == pio.templates["plotly_white"]
    assert figure.layout.template != pio.templates["plotly"]
    assert figure.layout.margin.l == 10
    assert figure.layout.title.text
    figure.to_json()  # serialisable, as Dash needs
