"""Performance: KPI trends, site benchmarking and the FLC variance breakdown (layout only).

``/performance?site=ID&tab=benchmark`` opens a site's benchmarking; ``district=ID`` or
``region=ID`` preselect a roll-up; ``month=YYYY-MM`` (the month a review or a workspace is on)
is kept inside the range of months shown."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.export_buttons import export_buttons
from dashboard.components.formatting import month_label
from dashboard.components.grid import empty_grid
from dashboard.context import today
from dashboard.domain import kpi
from dashboard.domain.periods import add_months
from dashboard.services import performance

dash.register_page(
    __name__, path="/performance", name="Performance", title="Performance · Site Forecasting"
)

TABS = (
    ("trends", "KPI trends"),
    ("benchmark", "Benchmarking"),
    ("waterfall", "Variance breakdown"),
)
LEVEL_CHOICES = [
    {"value": performance.SITE, "label": "Site"},
    {"value": performance.DISTRICT, "label": "District"},
    {"value": performance.REGION, "label": "Region"},
    {"value": performance.ALL, "label": "All my sites"},
]
KPI_CHOICES = [{"value": k.key, "label": k.label} for k in kpi.KPIS.values()]


def _month_choices(now):
    return [
        {"value": f"{y}-{m:02d}", "label": month_label(y, m)}
        for y, m in performance.month_choices(now)
    ]


def _range_with(now, month: str | None):
    """The default range of months, moved to end with ``month`` when it lies beyond it (and
    started at it when it lies before)."""
    first, last = performance.default_range(now)
    try:
        wanted = (int(month[:4]), int(month[5:7])) if month else None
    except ValueError:
        wanted = None
    if wanted not in performance.month_choices(now):
        return first, last
    if wanted > last:
        return add_months(*wanted, -12), wanted
    if wanted < first:
        return wanted, add_months(*wanted, 12)
    return first, last


def layout(
    site: str | None = None,
    district: str | None = None,
    region: str | None = None,
    tab: str | None = None,
    month: str | None = None,
    **_query,
):
    now = today()
    first, last = _range_with(now, month)
    requested = (
        {"level": "site", "target": site}
        if site
        else {"level": "district", "target": district}
        if district
        else {"level": "region", "target": region}
        if region
        else None
    )
    months = _month_choices(now)
    return html.Div(
        [
            dcc.Store(id="perf-requested", data=requested),
            dmc.Title("Performance", order=3, mb="xs"),
            dmc.Group(
                [
                    dmc.Select(
                        id="perf-level",
                        label="Show",
                        data=LEVEL_CHOICES,
                        value=(requested or {}).get("level", performance.SITE),
                        allowDeselect=False,
                        w=150,
                    ),
                    dmc.Select(id="perf-target", label="Of", searchable=True, w=320),
                    dmc.Select(
                        id="perf-first",
                        label="From",
                        data=months,
                        value=f"{first[0]}-{first[1]:02d}",
                        allowDeselect=False,
                        searchable=True,
                        w=160,
                    ),
                    dmc.Select(
                        id="perf-last",
                        label="To",
                        data=months,
                        value=f"{last[0]}-{last[1]:02d}",
                        allowDeselect=False,
                        searchable=True,
                        w=160,
                    ),
                ],
                align="flex-end",
                mb="xs",
            ),
            html.Div(id="perf-message", role="status", **{"aria-live": "polite"}),
            dmc.Tabs(
                [
                    dmc.TabsList([dmc.TabsTab(label, value=key) for key, label in TABS]),
                    dmc.TabsPanel(_trends_panel(), value="trends", pt="sm"),
                    dmc.TabsPanel(_benchmark_panel(), value="benchmark", pt="sm"),
                    dmc.TabsPanel(_waterfall_panel(), value="waterfall", pt="sm"),
                ],
                id="perf-tabs",
                value=tab if tab in dict(TABS) else "trends",
                keepMounted=True,
            ),
        ]
    )


def _trends_panel():
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Select(
                        id="perf-kpi",
                        label="KPI",
                        data=KPI_CHOICES,
                        value="flc",
                        allowDeselect=False,
                        w=280,
                    ),
                    dmc.Text(id="perf-trend-note", size="sm", c="dimmed"),
                ],
                align="flex-end",
            ),
            dcc.Loading(dcc.Graph(id="perf-trend-chart", config={"displaylogo": False})),
            export_buttons("perf-trend-grid"),
            empty_grid("perf-trend-grid"),
        ]
    )


def _benchmark_panel():
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Select(
                        id="perf-peers",
                        label="Peers",
                        data=[{"value": k, "label": v} for k, v in performance.PEER_GROUPS.items()],
                        value="region",
                        allowDeselect=False,
                        w=220,
                    ),
                    dmc.Select(
                        id="perf-bench-kpi",
                        label="KPI",
                        data=KPI_CHOICES,
                        value="flc_margin",
                        allowDeselect=False,
                        w=280,
                    ),
                    dmc.Select(
                        id="perf-bench-series",
                        label="Figures",
                        data=[
                            {"value": "actual", "label": "Actual (closed months)"},
                            {"value": "forecast", "label": "Forecast"},
                            {"value": "budget", "label": "Budget"},
                        ],
                        value="actual",
                        allowDeselect=False,
                        w=220,
                    ),
                ],
                align="flex-end",
            ),
            dmc.Text(id="perf-bench-headline", fw=600, mt="xs"),
            dmc.Grid(
                [
                    dmc.GridCol(
                        dcc.Loading(
                            dcc.Graph(id="perf-bench-chart", config={"displaylogo": False})
                        ),
                        span={"base": 12, "md": 6},
                    ),
                    dmc.GridCol(
                        [
                            dmc.Title("Outliers", order=5),
                            dmc.Text(id="perf-outlier-threshold", size="sm", c="dimmed"),
                            html.Div(id="perf-outliers"),
                        ],
                        span={"base": 12, "md": 6},
                    ),
                ]
            ),
            export_buttons("perf-rank-grid"),
            empty_grid("perf-rank-grid"),
        ]
    )


def _waterfall_panel():
    return html.Div(
        [
            dmc.Text(
                "Budget FLC → actual FLC for closed months and forecast FLC for the current "
                "and later months, by driver. For a district, the sum of its sites' "
                "breakdowns.",
                size="sm",
                c="dimmed",
            ),
            dcc.Loading(dcc.Graph(id="perf-waterfall-chart", config={"displaylogo": False})),
            export_buttons("perf-waterfall-grid"),
            empty_grid("perf-waterfall-grid"),
        ]
    )
