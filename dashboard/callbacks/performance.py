"""Performance page callbacks: choices in scope, KPI trends, benchmarking, the waterfall.
Each tab computes only when it is open; every service call checks the person's scope."""

from __future__ import annotations

import dash_mantine_components as dmc
import pandas as pd
from dash import Dash, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks.home import parse_month
from dashboard.components import charts
from dashboard.components.formatting import month_label
from dashboard.components.grid import column
from dashboard.components.shell import FIGURES_REFRESHED
from dashboard.context import current_principal, get_db, today
from dashboard.domain import kpi
from dashboard.services import performance
from dashboard.services.kpi import SERIES_LABELS
from dashboard.services.scope import ScopeError

UNIT_COLUMN = {"percent": "percent", "money": "money", "count": "count", "ratio": "count"}
SERIES_ORDER = [SERIES_LABELS[s] for s in ("actual", "forecast", "budget", "prior_year")]


def _error(text: str):
    return dmc.Alert(text, color="red", variant="light", mb="xs")


def _range(first: str | None, last: str | None):
    a, b = parse_month(first), parse_month(last)
    if a is None or b is None:
        raise ValueError("Choose the first and the last month.")
    return a, b


def _target(level: str, target: str | None) -> int | None:
    if level == performance.ALL:
        return None
    if not target:
        raise PreventUpdate
    return int(target)


def _context(label: str, first, last, *more) -> list[list[str]]:
    return [
        ["Sites", label],
        ["Months", f"{month_label(*first)} – {month_label(*last)}"],
        *[list(m) for m in more],
    ]


def trend_table(frame: pd.DataFrame, key: str) -> tuple[list[dict], list[dict]]:
    """Months as rows, the series as columns, for one KPI."""
    definition = kpi.KPIS[key]
    kind = UNIT_COLUMN[definition.unit]
    wide = frame.pivot_table(index="period", columns="series", values=key, aggfunc="first")
    rows = []
    for period in sorted(frame["period"].unique()):
        row = {"period": period, "month": month_label(*map(int, period.split("-")))}
        for series in SERIES_ORDER:
            value = wide.at[period, series] if series in wide.columns else None
            row[series] = None if value is None or pd.isna(value) else float(value)
        rows.append(row)
    columns = [column("month", "Month", minWidth=120)] + [
        column(series, series, kind) for series in SERIES_ORDER
    ]
    if definition.unit == "ratio":
        for c in columns[1:]:
            c["valueFormatter"] = {"function": "d3.format(',.2f')(params.value)"}
    return rows, columns


def register(app: Dash) -> None:
    @app.callback(
        Output("perf-target", "data"),
        Output("perf-target", "value"),
        Input("perf-level", "value"),
        State("perf-requested", "data"),
        State("perf-target", "value"),
    )
    def targets(level, requested, current):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        with get_db().read() as session:
            choices = performance.scope_choices(session, principal, today())
        options = choices.get(level, [])
        values = {o["value"] for o in options}
        wanted = (
            (requested or {}).get("target") if (requested or {}).get("level") == level else None
        )
        if wanted in values:
            return options, wanted
        if current in values:
            return options, current
        return options, options[0]["value"] if options else None

    @app.callback(
        Output("perf-trend-chart", "figure"),
        Output("perf-trend-grid", "rowData"),
        Output("perf-trend-grid", "columnDefs"),
        Output("perf-trend-note", "children"),
        Output("perf-trend-grid-export-context", "data"),
        Output("perf-message", "children", allow_duplicate=True),
        Input("perf-target", "value"),
        Input("perf-first", "value"),
        Input("perf-last", "value"),
        Input("perf-kpi", "value"),
        Input("perf-tabs", "value"),
        Input(FIGURES_REFRESHED, "data"),
        State("perf-level", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def trends(target, first, last, key, tab, _refreshed, level):
        principal = current_principal()
        if principal is None or tab != "trends":
            raise PreventUpdate
        try:
            a, b = _range(first, last)
            with get_db().read() as session:
                result = performance.kpi_trends(
                    session, principal, today(), level, _target(level, target), a, b
                )
        except (ValueError, ScopeError) as problem:
            return no_update, [], [], "", [], _error(str(problem))
        definition = kpi.KPIS[key]
        frame = result.frame
        tidy = pd.DataFrame(
            {"period": frame["period"], "series": frame["series"], "value": frame[key]}
        )
        figure = charts.kpi_trend_figure(
            tidy, f"{definition.label} — {result.label}", definition.unit
        )
        rows, columns = trend_table(frame, key)
        note = f"{result.site_count} site(s). {result.forecast_coverage}"
        context = _context(result.label, a, b, ["KPI", definition.label])
        return figure, rows, columns, note, context, None

    @app.callback(
        Output("perf-bench-chart", "figure"),
        Output("perf-bench-headline", "children"),
        Output("perf-outlier-threshold", "children"),
        Output("perf-outliers", "children"),
        Output("perf-rank-grid", "rowData"),
        Output("perf-rank-grid", "columnDefs"),
        Output("perf-rank-grid-export-context", "data"),
        Output("perf-message", "children", allow_duplicate=True),
        Input("perf-target", "value"),
        Input("perf-first", "value"),
        Input("perf-last", "value"),
        Input("perf-peers", "value"),
        Input("perf-bench-kpi", "value"),
        Input("perf-bench-series", "value"),
        Input("perf-tabs", "value"),
        Input(FIGURES_REFRESHED, "data"),
        State("perf-level", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def bench(target, first, last, group, key, series, tab, _refreshed, level):
        principal = current_principal()
        if principal is None or tab != "benchmark":
            raise PreventUpdate
        empty = charts.empty_figure("Benchmarking")
        if level != performance.SITE or not target:
            text = "Benchmarking compares one site with its peers: choose Show: Site."
            return empty, "", "", None, [], [], [], dmc.Alert(text, color="blue", variant="light")
        try:
            a, b = _range(first, last)
            with get_db().read() as session:
                result = performance.benchmark(
                    session, principal, today(), int(target), group, key, a, b, series
                )
        except (ValueError, ScopeError) as problem:
            return empty, "", "", None, [], [], [], _error(str(problem))
        definition = kpi.KPIS[key]
        figure = charts.benchmark_figure(
            result.distribution, int(target), definition.label, definition.unit
        )
        chosen = next(r for r in result.ranks if r["kpi"] == key)
        if chosen["rank"]:
            percentile = (
                f"{chosen['percentile']:.0f}th percentile"
                if chosen["percentile"] is not None
                else "no other peer to compare with"
            )
            headline = (
                f"{result.site_label}: rank {chosen['rank']} of {chosen['of']} on "
                f"{definition.label} · {percentile} "
                f"({result.peer_label.lower()}, {result.peer_count} sites)"
            )
        else:
            headline = f"{result.site_label} has no {definition.label} for these months."
        threshold = (
            f"Robust z-score |z| ≥ {result.threshold} (median and median absolute deviation "
            f"of the {len(result.distribution)} peers with a value)."
        )
        if result.outliers:
            items = [
                html.Li(f"{o['site_label']}: z = {o['robust_z']:+.1f}") for o in result.outliers
            ]
            outliers = html.Ul(items, id="perf-outlier-list")
        else:
            outliers = dmc.Text("No outliers among the peers you may see.", size="sm")
        if result.hidden_outliers:
            outliers = html.Div(
                [
                    outliers,
                    dmc.Text(
                        f"+ {result.hidden_outliers} outlier(s) outside your scope.", size="sm"
                    ),
                ]
            )
        rows = [
            {
                "label": r["label"],
                "value_text": _shown(r["value"], r["unit"]),
                "median_text": _shown(r["median"], r["unit"]),
                "percentile": None if r["percentile"] is None else r["percentile"] / 100,
                "rank": r["rank"] or None,
                "of": r["of"],
                "better": "Higher" if r["higher_is_better"] else "Lower",
            }
            for r in result.ranks
        ]
        columns = [
            column("label", "KPI", minWidth=220),
            column("value_text", "This site", cellClass="cell-number"),
            column("median_text", "Peer median", cellClass="cell-number"),
            column("percentile", "Percentile", "percent"),
            column("rank", "Rank", "count"),
            column("of", "Of", "count"),
            column("better", "Better is"),
        ]
        context = _context(
            result.site_label,
            a,
            b,
            ["Peers", f"{result.peer_label} ({result.peer_count} sites)"],
            ["Figures", series],
        )
        return figure, headline, threshold, outliers, rows, columns, context, None

    @app.callback(
        Output("perf-waterfall-chart", "figure"),
        Output("perf-waterfall-grid", "rowData"),
        Output("perf-waterfall-grid", "columnDefs"),
        Output("perf-waterfall-grid-export-context", "data"),
        Output("perf-message", "children", allow_duplicate=True),
        Input("perf-target", "value"),
        Input("perf-first", "value"),
        Input("perf-last", "value"),
        Input("perf-tabs", "value"),
        Input(FIGURES_REFRESHED, "data"),
        State("perf-level", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def waterfall(target, first, last, tab, _refreshed, level):
        principal = current_principal()
        if principal is None or tab != "waterfall":
            raise PreventUpdate
        empty = charts.empty_figure("FLC variance breakdown")
        if level not in (performance.SITE, performance.DISTRICT) or not target:
            text = (
                "The variance breakdown is for a site or a district: choose Show: Site or District."
            )
            return empty, [], [], [], dmc.Alert(text, color="blue", variant="light")
        try:
            a, b = _range(first, last)
            with get_db().read() as session:
                result = performance.flc_waterfall(
                    session, principal, today(), level, int(target), a, b
                )
        except (ValueError, ScopeError) as problem:
            return empty, [], [], [], _error(str(problem))
        labels = dict(kpi.WATERFALL_STEPS)
        steps = pd.DataFrame(
            {"label": [labels[k] for k in labels], "amount": [result.steps[k] for k in labels]}
        )
        figure = charts.waterfall_figure(
            steps,
            "Budget FLC",
            result.budget_flc,
            f"{result.target_label} FLC",
            result.target_flc,
            f"FLC: budget → {result.target_label.lower()} — {result.label}",
        )
        rows = (
            [{"driver": "Budget FLC", "amount": result.budget_flc}]
            + [{"driver": labels[k], "amount": result.steps[k]} for k in labels]
            + [
                {"driver": "Total variance", "amount": result.steps[kpi.WATERFALL_TOTAL]},
                {"driver": f"{result.target_label} FLC", "amount": result.target_flc},
            ]
        )
        columns = [column("driver", "Driver", minWidth=220), column("amount", "Amount", "money")]
        context = _context(result.label, a, b, ["Compared", f"Budget → {result.target_label}"])
        return figure, rows, columns, context, None


def _shown(value, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "percent":
        return f"{value:.1%}"
    if unit == "money":
        return f"-${abs(value):,.2f}" if value < 0 else f"${value:,.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"
