"""Regional executive report: region → district → site roll-up of the year's FLC with
accuracy, at-risk sites and exports (layout only; read-only for everyone)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.export_buttons import export_buttons
from dashboard.components.grid import empty_grid
from dashboard.components.progress import job_progress
from dashboard.context import today

dash.register_page(
    __name__, path="/report", name="Regional report", title="Regional report · Site Forecasting"
)


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def layout(
    year: str | None = None,
    month: str | None = None,
    region: str | None = None,
    district: str | None = None,
    site: str | None = None,
    **_query,
):
    """``?site=ID`` (or ``district=``, ``region=``) opens the report drilled there; ``year``
    or ``month=YYYY-MM`` chooses the year."""
    now = today()
    years = [str(y) for y in (now.year - 1, now.year, now.year + 1)]
    year = year or (month or "")[:4]
    drill = {
        level: number
        for level, number in (
            ("region", _number(region)),
            ("district", _number(district)),
            ("site", _number(site)),
        )
        if number is not None
    }
    return html.Div(
        [
            dcc.Store(id="report-data"),
            # Where the report is drilled to; a new report (another year, new figures) keeps it.
            dcc.Store(id="report-drill", data=drill),
            dcc.Store(id="report-pending"),
            dcc.Download(id="report-download"),
            dmc.Group(
                [
                    dmc.Title("Regional report", order=3),
                    dmc.Badge("Read-only", variant="light", color="gray"),
                ],
                mb="xs",
            ),
            dmc.Group(
                [
                    dmc.Select(
                        id="report-year",
                        label="Year",
                        data=years,
                        value=year if year in years else str(now.year),
                        allowDeselect=False,
                        w=110,
                    ),
                    dmc.Button("Download report (XLSX)", id="report-export-xlsx", size="sm"),
                    dmc.Button(
                        "Print-ready report (HTML)",
                        id="report-export-html",
                        size="sm",
                        variant="outline",
                    ),
                ],
                align="flex-end",
                mb="xs",
            ),
            job_progress("report"),
            html.Div(id="report-export-status", role="status", className="report-export-status"),
            html.Div(id="report-message", role="status", **{"aria-live": "polite"}),
            # "Updating…" while the report of new figures is computed in the background.
            html.Div(id="report-freshness", role="status", **{"aria-live": "polite"}),
            job_progress("report-compute"),
            dmc.Text(id="report-cards-scope", size="sm", fw=600, mb=4),
            dcc.Loading(html.Div(id="report-cards")),
            html.Div(id="report-site-links", className="report-site-links"),
            dmc.Group(
                [
                    dmc.Breadcrumbs(id="report-crumbs", children=[]),
                ],
                mt="sm",
                mb="xs",
            ),
            dmc.Text(
                "Click a region to see its districts, a district to see its sites, a site to see "
                "its figures and open its P&L or Performance.",
                size="xs",
                c="dimmed",
            ),
            export_buttons("report-grid"),
            empty_grid("report-grid", getRowId="params.data.row_id", columnSize="autoSize"),
            dmc.Grid(
                [
                    # The charts arrive with their figures (the draw callback): the charting
                    # library loads after the roll-up grid has its rows, not before.
                    dmc.GridCol(
                        html.Div(id="report-district-chart-box", className="chart-box"),
                        span={"base": 12, "md": 6},
                    ),
                    dmc.GridCol(
                        html.Div(id="report-accuracy-chart-box", className="chart-box"),
                        span={"base": 12, "md": 6},
                    ),
                ],
                mt="sm",
            ),
            html.Div(id="report-top-bottom"),
            dmc.Title("At-risk sites", order=4, mt="md"),
            dmc.Text(id="report-risk-rule", size="sm", c="dimmed"),
            export_buttons("report-risk-grid"),
            # A fixed height: the grid renders the rows in view, not all of them (hundreds of
            # wrapped rows at a large portfolio).
            empty_grid("report-risk-grid", height="420px"),
        ]
    )
