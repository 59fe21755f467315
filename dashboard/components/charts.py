"""Plotly figure builders for the dashboard's charts.

Each builder takes a tidy DataFrame (one observation per row) and returns a ``go.Figure``; none
touches the database or Dash, so they are unit-tested without a browser. Ratios arrive as
fractions and are shown as % by the axis and hover formats (see ``tick_format`` /
``hover_format``). Empty input gives a figure saying "No data for this selection" rather than
an exception, so a callback can always return what a builder gives it.

Colours come from the Okabe–Ito palette, which stays distinguishable with the common forms of
colour blindness; line styles and marker symbols repeat the distinction so colour is never the
only signal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

# Okabe–Ito colour-blind-safe palette.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"
# Not Okabe–Ito, but neutral and distinct from every colour above: used for waterfall totals.
SLATE = "#5B7083"

TEMPLATE = "plotly_white"
EMPTY_MESSAGE = "No data for this selection"
MARGIN = {"l": 10, "r": 10, "t": 50, "b": 40}

# Trend series in the order they are drawn (and listed in the legend).
SERIES_ORDER = ("Actual", "Forecast", "Budget", "Prior year")
SERIES_COLORS = {
    "Actual": BLUE,
    "Forecast": ORANGE,
    "Budget": BLUISH_GREEN,
    "Prior year": GREY,
}
SERIES_DASHES = {
    "Actual": "solid",
    "Forecast": "dashdot",
    "Budget": "dash",
    "Prior year": "dot",
}

PEER_COLOR = SKY_BLUE
HIGHLIGHT_COLOR = VERMILLION
HIGHLIGHT_SYMBOL = "star"
HIGHLIGHT_SIZE = 16

BAR_COLOR = BLUE
NEGATIVE_COLOR = VERMILLION
HIGHLIGHT_BAR_COLOR = ORANGE

INCREASING_COLOR = BLUISH_GREEN
DECREASING_COLOR = VERMILLION
TOTAL_COLOR = SLATE

MAPE_COLOR = SKY_BLUE
BIAS_COLOR = VERMILLION

_HOVER_FORMATS = {"percent": ".1%", "money": "$,.2f", "count": ",.0f", "ratio": ",.2f"}
_TICK_FORMATS = {"percent": ".1%", "money": "$,.0f", "count": ",.0f", "ratio": ",.2f"}
_MINUS = "\u2212"


def hover_format(unit: str) -> str:
    """d3 format for exact values in hover labels: 'percent', 'money', 'count' or 'ratio'."""
    try:
        return _HOVER_FORMATS[unit]
    except KeyError:
        raise ValueError(
            f"Unknown unit {unit!r}; expected one of {sorted(_HOVER_FORMATS)}"
        ) from None


def tick_format(unit: str) -> str:
    """d3 format for axis ticks: 'percent', 'money', 'count' or 'ratio'."""
    try:
        return _TICK_FORMATS[unit]
    except KeyError:
        raise ValueError(
            f"Unknown unit {unit!r}; expected one of {sorted(_TICK_FORMATS)}"
        ) from None


def month_axis_label(period: str) -> str:
    """'2026-01' -> 'Jan 2026'."""
    return datetime.strptime(period, "%Y-%m").strftime("%b %Y")


def signed_money(amount: float) -> str:
    """Whole dollars with an explicit sign: '+$1,234', '−$567' (true minus sign)."""
    rounded = round(amount)
    sign = _MINUS if rounded < 0 else "+"
    return f"{sign}${abs(rounded):,.0f}"


def empty_figure(title: str) -> go.Figure:
    """A titled figure with no axes and a centred 'No data for this selection' note."""
    figure = go.Figure()
    figure.add_annotation(
        text=EMPTY_MESSAGE,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": GREY},
    )
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        margin=MARGIN,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def _require_columns(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"Frame is missing column(s): {', '.join(missing)}")


def _top_legend() -> dict:
    return {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}


def _monthly_layout(figure: go.Figure, title: str, labels: list[str], yaxis: dict) -> None:
    """The layout of a chart over months: categorical month axis in order, unified hover,
    legend on top."""
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        hovermode="x unified",
        showlegend=True,
        legend=_top_legend(),
        margin={**MARGIN, "t": 80},
        xaxis={
            "title": "Month",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
        },
        yaxis=yaxis,
    )


def kpi_trend_figure(frame: pd.DataFrame, kpi_label: str, unit: str) -> go.Figure:
    """Monthly lines of one KPI: Actual, Forecast, Budget, Prior year (those present).

    ``frame`` columns: ``period`` ('YYYY-MM'), ``series``, ``value`` (float, NaN allowed).
    Every series is laid on the full set of months so a missing month shows as a gap.
    """
    _require_columns(frame, ("period", "series", "value"))
    fmt_hover, fmt_tick = hover_format(unit), tick_format(unit)
    unknown = sorted(set(frame["series"]) - set(SERIES_ORDER))
    if unknown:
        raise ValueError(f"Unknown series {unknown}; expected some of {list(SERIES_ORDER)}")
    if frame.duplicated(["period", "series"]).any():
        raise ValueError("More than one value for the same period and series")
    if frame["value"].isna().all():
        return empty_figure(kpi_label)

    periods = sorted(frame["period"].unique())
    labels = [month_axis_label(p) for p in periods]
    wide = frame.pivot(index="period", columns="series", values="value").reindex(periods)

    figure = go.Figure()
    for name in SERIES_ORDER:
        if name not in wide.columns:
            continue
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=wide[name].astype(float).tolist(),
                name=name,
                mode="lines+markers",
                connectgaps=False,
                line={"color": SERIES_COLORS[name], "dash": SERIES_DASHES[name], "width": 2},
                marker={"size": 6, "color": SERIES_COLORS[name]},
                hovertemplate=f"{name}<br>%{{x}}<br>%{{y:{fmt_hover}}}<extra></extra>",
            )
        )
    _monthly_layout(
        figure, kpi_label, labels, {"title": kpi_label, "tickformat": fmt_tick, "automargin": True}
    )
    return figure


def benchmark_figure(frame: pd.DataFrame, site_id: int, kpi_label: str, unit: str) -> go.Figure:
    """Vertical box + strip of every site in the peer group, with one site marked by a star.

    ``frame`` columns: ``site_id``, ``site_label``, ``value``; rows with NaN values are dropped.
    The peer box includes the highlighted site itself (it describes the whole group). If that
    site has no value, only the peers are drawn.
    """
    _require_columns(frame, ("site_id", "site_label", "value"))
    fmt_hover, fmt_tick = hover_format(unit), tick_format(unit)
    title = f"{kpi_label}: site against its peers"
    peers = frame.dropna(subset=["value"])
    if peers.empty:
        return empty_figure(title)

    category = "Peers"
    figure = go.Figure(
        go.Box(
            x=[category] * len(peers),
            y=peers["value"].astype(float).tolist(),
            name="Peers",
            orientation="v",
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            hoveron="points",
            customdata=peers["site_label"].tolist(),
            hovertemplate=f"%{{customdata}}<br>{kpi_label}: %{{y:{fmt_hover}}}<extra></extra>",
            marker={"color": PEER_COLOR, "size": 7, "opacity": 0.8},
            line={"color": BLUE},
            fillcolor="rgba(86, 180, 233, 0.15)",
        )
    )
    site = peers[peers["site_id"] == site_id]
    if not site.empty:
        label = str(site["site_label"].iloc[0])
        figure.add_trace(
            go.Scatter(
                x=[category],
                y=[float(site["value"].iloc[0])],
                name=label,
                mode="markers",
                marker={
                    "symbol": HIGHLIGHT_SYMBOL,
                    "size": HIGHLIGHT_SIZE,
                    "color": HIGHLIGHT_COLOR,
                    "line": {"color": BLACK, "width": 1},
                },
                customdata=[label],
                hovertemplate=f"%{{customdata}}<br>{kpi_label}: %{{y:{fmt_hover}}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        hovermode="closest",
        showlegend=True,
        legend=_top_legend(),
        margin={**MARGIN, "t": 80},
        xaxis={"title": f"Peer group ({len(peers)} sites)", "type": "category"},
        yaxis={"title": kpi_label, "tickformat": fmt_tick, "automargin": True},
    )
    return figure


def waterfall_figure(
    steps: pd.DataFrame,
    start_label: str,
    start_value: float,
    end_label: str,
    end_value: float,
    title: str,
) -> go.Figure:
    """Bridge from a starting amount to an ending amount through driver steps.

    ``steps`` columns: ``label``, ``amount`` (in bridge order). Plotly draws the end bar as the
    running total and ignores its y, so the steps must add up: ``start_value + Σ amount`` must
    equal ``end_value`` within half a cent, otherwise ``ValueError``.
    """
    _require_columns(steps, ("label", "amount"))
    if steps.empty:
        return empty_figure(title)
    amounts = steps["amount"].astype(float).tolist()
    if any(math.isnan(a) for a in amounts):
        raise ValueError("Waterfall step amounts must not be missing")
    computed_end = start_value + math.fsum(amounts)
    if abs(computed_end - end_value) > 0.005:
        raise ValueError(
            f"Waterfall steps do not add up: {start_value:,.2f} + {math.fsum(amounts):,.2f} "
            f"= {computed_end:,.2f}, not {end_value:,.2f}"
        )

    labels = steps["label"].astype(str).tolist()
    n_steps = len(labels)
    exact = [start_value, *amounts, end_value]
    hover_total = "%{x}<br>%{customdata:$,.2f}<extra></extra>"
    hover_step = "%{x}<br>%{customdata:+$,.2f}<extra></extra>"
    figure = go.Figure(
        go.Waterfall(
            x=[start_label, *labels, end_label],
            y=[start_value, *amounts, 0.0],
            measure=["absolute", *(["relative"] * n_steps), "total"],
            text=[
                f"${start_value:,.0f}",
                *(signed_money(a) for a in amounts),
                f"${end_value:,.0f}",
            ],
            textposition="outside",
            customdata=exact,
            hovertemplate=[hover_total, *([hover_step] * n_steps), hover_total],
            increasing={"marker": {"color": INCREASING_COLOR}},
            decreasing={"marker": {"color": DECREASING_COLOR}},
            totals={"marker": {"color": TOTAL_COLOR}},
            connector={"line": {"color": GREY, "width": 1, "dash": "dot"}},
            showlegend=False,
        )
    )
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        hovermode="closest",
        showlegend=False,
        margin=MARGIN,
        xaxis={"title": "Driver", "type": "category", "automargin": True},
        yaxis={"title": "Amount ($)", "tickformat": tick_format("money"), "automargin": True},
    )
    return figure


def _axis_title(column: str) -> str:
    return column.replace("_", " ").strip().capitalize()


def ranked_bar_figure(
    frame: pd.DataFrame,
    label_column: str,
    value_column: str,
    unit: str,
    title: str,
    highlight: Iterable[str] = (),
    *,
    value_title: str | None = None,
) -> go.Figure:
    """Horizontal bars sorted by value, largest at the top.

    Negative bars are red; bars whose label is in ``highlight`` are orange with a black outline
    and a bold axis label (highlight wins over the negative colour). NaN values are dropped.
    ``value_title`` names the value axis (default: ``value_column`` in words).
    """
    _require_columns(frame, (label_column, value_column))
    fmt_hover, fmt_tick = hover_format(unit), tick_format(unit)
    rows = frame[[label_column, value_column]].dropna(subset=[value_column])
    if rows.empty:
        return empty_figure(title)
    if rows[label_column].duplicated().any():
        raise ValueError(f"Duplicate labels in {label_column!r}; each bar needs its own label")

    # Plotly draws the first category at the bottom of a horizontal bar chart.
    ordered = rows.sort_values(value_column, kind="stable")
    labels = ordered[label_column].astype(str).tolist()
    values = ordered[value_column].astype(float).tolist()
    marked = {str(h) for h in highlight}
    colors = [
        HIGHLIGHT_BAR_COLOR if label in marked else NEGATIVE_COLOR if value < 0 else BAR_COLOR
        for label, value in zip(labels, values, strict=True)
    ]
    outline = [2 if label in marked else 0 for label in labels]
    ticktext = [f"<b>{label}</b>" if label in marked else label for label in labels]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": colors, "line": {"color": BLACK, "width": outline}},
            hovertemplate=f"%{{y}}<br>%{{x:{fmt_hover}}}<extra></extra>",
            showlegend=False,
        )
    )
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        hovermode="closest",
        showlegend=False,
        margin=MARGIN,
        height=max(260, 22 * len(labels) + 90),
        xaxis={
            "title": value_title or _axis_title(value_column),
            "tickformat": fmt_tick,
            "zeroline": True,
        },
        yaxis={
            "title": _axis_title(label_column),
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "tickvals": labels,
            "ticktext": ticktext,
            "automargin": True,
        },
    )
    return figure


def accuracy_figure(frame: pd.DataFrame) -> go.Figure:
    """MAPE bars and a bias line per month, both as %.

    ``frame`` columns: ``period`` ('YYYY-MM'), ``mape``, ``bias`` (fractions, NaN allowed).
    """
    title = "Forecast accuracy of submitted forecasts"
    _require_columns(frame, ("period", "mape", "bias"))
    if frame[["mape", "bias"]].isna().all().all():
        return empty_figure(title)
    if frame["period"].duplicated().any():
        raise ValueError("More than one accuracy row for the same period")

    ordered = frame.sort_values("period")
    labels = [month_axis_label(p) for p in ordered["period"]]
    fmt = hover_format("percent")
    figure = go.Figure(
        [
            go.Bar(
                x=labels,
                y=ordered["mape"].astype(float).tolist(),
                name="MAPE",
                marker={"color": MAPE_COLOR},
                hovertemplate=f"MAPE<br>%{{x}}<br>%{{y:{fmt}}}<extra></extra>",
            ),
            go.Scatter(
                x=labels,
                y=ordered["bias"].astype(float).tolist(),
                name="Bias",
                mode="lines+markers",
                connectgaps=False,
                line={"color": BIAS_COLOR, "width": 2},
                marker={"symbol": "diamond", "size": 8, "color": BIAS_COLOR},
                hovertemplate=f"Bias<br>%{{x}}<br>%{{y:{fmt}}}<extra></extra>",
            ),
        ]
    )
    _monthly_layout(
        figure,
        title,
        labels,
        {
            "title": "Error (% of forecast)",
            "tickformat": tick_format("percent"),
            "zeroline": True,
            "automargin": True,
        },
    )
    return figure
