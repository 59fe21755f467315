"""P&L page: the 12 months of a year for the filtered sites, against a named basis (layout)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.export_buttons import export_buttons
from dashboard.components.grid import FIT_WIDTH
from dashboard.components.pnl_view import VIEWS
from dashboard.context import today

dash.register_page(__name__, path="/pnl", name="P&L", title="P&L · Site Forecasting")

FILTERS = (
    ("region", "Region"),
    ("district", "District"),
    ("site", "Site"),
    ("account_manager", "Account manager"),
    ("contract_type", "Contract type"),
    ("business_segment", "Business segment"),
)


def layout(site: str | None = None, month: str | None = None, year: str | None = None, **_query):
    """``?site=ID&month=YYYY-MM`` (or ``year=YYYY``) opens a site's P&L of that year: the
    workspace, the review and the report carry their site and month here."""
    now = today()
    years = [str(y) for y in (now.year - 1, now.year, now.year + 1)]
    wanted = (month or "")[:4] or year
    return html.Div(
        [
            dcc.Store(id="pnl-requested-site", data=site),
            dcc.Store(id="pnl-result"),
            dmc.Group(
                [
                    dmc.Select(
                        id=f"pnl-filter-{key}",
                        label=label,
                        clearable=True,
                        searchable=True,
                        placeholder="All",
                        w=200,
                        size="xs",
                    )
                    for key, label in FILTERS
                ],
                gap="xs",
                mb="xs",
            ),
            dmc.Group(
                [
                    dmc.Select(
                        id="pnl-year",
                        label="Year",
                        data=years,
                        value=wanted if wanted in years else str(now.year),
                        allowDeselect=False,
                        w=100,
                        size="xs",
                    ),
                    dmc.Select(
                        id="pnl-basis",
                        label="Compare with",
                        data=[
                            {"value": "budget", "label": "Budget"},
                            {"value": "prior_year", "label": "Prior year"},
                            {
                                "value": "approved",
                                "label": "Last approved forecast (with approvals)",
                                "disabled": True,
                            },
                        ],
                        value="budget",
                        allowDeselect=False,
                        w=280,
                        size="xs",
                    ),
                    dmc.SegmentedControl(
                        id="pnl-view",
                        data=[{"value": k, "label": v} for k, v in VIEWS.items()],
                        value="values",
                        size="xs",
                    ),
                ],
                align="flex-end",
                mb="xs",
            ),
            html.Div(id="pnl-heading", role="status", **{"aria-live": "polite"}),
            export_buttons("pnl-grid"),
            dcc.Loading(
                dag.AgGrid(
                    id="pnl-grid",
                    rowData=[],
                    columnDefs=[],
                    getRowId="params.data.row_id",
                    defaultColDef={"resizable": True, "sortable": False, **FIT_WIDTH},
                    dashGridOptions={
                        "domLayout": "autoHeight",
                        "ensureDomOrder": True,
                        # 15 columns: render them all (keyboard order, screen readers).
                        "suppressColumnVirtualisation": True,
                    },
                    className="ag-theme-quartz stats-grid",
                    style={"width": "100%"},
                ),
                type="dot",
                delay_show=300,
            ),
            dmc.Text(
                "(A) = actual month; later months are forecast. Click a cell to see the sites "
                "behind it. Variance = figure − basis; |%| ≥ 7.5% bold, negative red, basis 0 "
                "→ n/a.",
                size="xs",
                c="dimmed",
                my="xs",
            ),
            html.Div(id="pnl-drill-heading"),
            dcc.Loading(html.Div(id="pnl-drill"), type="dot", delay_show=300),
        ]
    )
