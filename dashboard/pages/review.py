"""District roll-up: submissions of a district's sites for a forecast month (layout only)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components import review_view
from dashboard.components.controls import month_options
from dashboard.components.export_buttons import export_buttons
from dashboard.components.grid import FIT_WIDTH, ROW_ID
from dashboard.components.progress import job_progress
from dashboard.context import today
from dashboard.services.review import forecast_month

dash.register_page(__name__, path="/review", name="Review", title="Review · Site Forecasting")


def layout(district: str | None = None, month: str | None = None, **_query):
    now = today()
    year, number = forecast_month(now)
    months = month_options(now)
    if month not in {o["value"] for o in months}:
        month = f"{year}-{number:02d}"
    return html.Div(
        [
            dcc.Store(id="review-requested", data=district),
            dcc.Store(id="review-refresh", data=0),
            dmc.Title("District review", order=3, mb="xs"),
            dmc.Group(
                [
                    dmc.Select(id="review-district", label="District", w=260, allowDeselect=False),
                    dmc.Select(
                        id="review-month",
                        label="Forecast month",
                        data=months,
                        value=month,
                        allowDeselect=False,
                        searchable=True,
                        w=190,
                    ),
                    dmc.Select(
                        id="review-status",
                        label="Status",
                        data=review_view.STATUS_FILTERS,
                        value="all",
                        allowDeselect=False,
                        w=170,
                    ),
                    dmc.TextInput(
                        id="review-search", label="Search", placeholder="Site, manager…", w=220
                    ),
                ],
                align="flex-end",
                mb="xs",
            ),
            dmc.Group(
                [
                    dmc.Text(id="review-counts", size="sm"),
                    dcc.Link(
                        "Performance of this district →",
                        href="/performance",
                        id="review-performance-link",
                    ),
                ],
                justify="space-between",
                mb="xs",
            ),
            job_progress("review"),
            html.Div(id="review-message", role="status", **{"aria-live": "polite"}),
            html.Div(
                [
                    dmc.Textarea(
                        id="review-comment",
                        label="Comment (required to return)",
                        autosize=True,
                        minRows=1,
                    ),
                    dmc.Group(
                        [
                            dmc.Button(
                                "Approve selected", id="review-approve", color="green", size="xs"
                            ),
                            dmc.Button(
                                "Return selected with comment",
                                id="review-return",
                                color="orange",
                                size="xs",
                            ),
                            dmc.Text(
                                "Approve selected skips sites with unexplained flags and "
                                "anything that is not submitted, and says which.",
                                size="xs",
                                c="dimmed",
                            ),
                        ],
                        gap="xs",
                        mt="xs",
                    ),
                ],
                id="review-actions",
                style={"display": "none"},
            ),
            dmc.Group(
                [
                    export_buttons("review-grid"),
                    dmc.Switch(
                        id="review-details",
                        label="More columns (FLC, revenue, payroll, people)",
                        size="xs",
                        checked=False,
                    ),
                ],
                justify="space-between",
                mt="xs",
            ),
            # The whole width: the decision columns (status, FLC against budget, flags,
            # explained) fit at 1440 px without scrolling sideways.
            dag.AgGrid(
                id="review-grid",
                rowData=[],
                columnDefs=review_view.column_defs(),
                getRowId=ROW_ID,
                defaultColDef={
                    "sortable": True,
                    "resizable": True,
                    "filter": True,
                    "minWidth": 90,
                    # Headers wrap rather than cut ("FLC vs budget %").
                    "wrapHeaderText": True,
                    "autoHeaderHeight": True,
                    **FIT_WIDTH,
                },
                selectedRows=[],
                dashGridOptions={
                    "rowSelection": review_view.ROW_SELECTION,
                    "selectionColumnDef": review_view.SELECTION_COLUMN,
                    "domLayout": "autoHeight",
                    "ensureDomOrder": True,
                    "enableCellTextSelection": True,
                    "tooltipShowDelay": 300,
                },
                className="ag-theme-quartz",
                style={"width": "100%"},
            ),
            # The chart comes with its figure: the charting library loads after the grid has
            # its rows, not before.
            html.Div(id="review-chart-box", className="chart-box", style={"marginTop": 12}),
            html.Div(id="review-region"),
            dmc.Paper(
                [
                    dmc.Text("Variance thresholds (administrators)", fw=600, size="sm"),
                    dmc.Text(
                        "FLC or internal revenue against budget at or above either threshold "
                        "needs a written explanation before a forecast can be submitted.",
                        size="xs",
                        c="dimmed",
                    ),
                    dmc.Group(
                        [
                            dmc.NumberInput(
                                id="review-threshold-pct",
                                label="Percent",
                                suffix="%",
                                min=0.1,
                                max=1000,
                                decimalScale=1,
                                w=140,
                            ),
                            dmc.NumberInput(
                                id="review-threshold-amount",
                                label="Amount",
                                prefix="$",
                                min=0,
                                thousandSeparator=",",
                                w=160,
                            ),
                            dmc.Button("Save thresholds", id="review-threshold-save", size="xs"),
                        ],
                        align="flex-end",
                    ),
                    html.Div(id="review-threshold-message"),
                ],
                id="review-thresholds",
                withBorder=True,
                p="xs",
                mt="md",
                style={"display": "none"},
            ),
        ]
    )
