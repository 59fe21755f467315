"""Site workspace: statistics and rates of one site (layout only)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components import adjustments_grid, payroll_grid, submission_panel
from dashboard.components.controls import month_options
from dashboard.components.grid import FIT_WIDTH
from dashboard.components.statistics_grid import COMPARISONS, SOURCE_LEGEND
from dashboard.context import today

dash.register_page(
    __name__, path="/workspace", name="Workspace", title="Workspace · Site Forecasting"
)


def _pager():
    return dmc.Group(
        [
            dmc.Button("◀ Previous", id="stats-prev", variant="default", size="xs"),
            dmc.Text(id="stats-page-label", size="sm", fw=600),
            dmc.Button("Next ▶", id="stats-next", variant="default", size="xs"),
            dmc.Text(id="stats-showing", size="sm", c="dimmed"),
        ],
        gap="xs",
    )


def _toolbar():
    return dmc.Group(
        [
            dmc.Button("Undo", id="stats-undo", variant="default", size="xs"),
            dmc.Button("Redo", id="stats-redo", variant="default", size="xs"),
            dmc.Button(
                "Fill down to month end", id="stats-fill-down", variant="default", size="xs"
            ),
            dmc.Tooltip(
                dmc.Button(
                    "Fill month from proposal",
                    id="stats-fill-proposal",
                    variant="default",
                    size="xs",
                ),
                label="Every open day of the month shown takes the measured proposal (not saved "
                "until Save; Undo takes it back)",
                multiline=True,
                w=260,
            ),
            dmc.Tooltip(
                dmc.Button(
                    "Fill month from budget", id="stats-fill-budget", variant="default", size="xs"
                ),
                label="Every open day of the month shown takes the budget's even spread (not "
                "saved until Save; Undo takes it back)",
                multiline=True,
                w=260,
            ),
            dmc.Button("Save", id="ws-save", size="xs"),
            dmc.Text(id="ws-dirty", size="sm", c="orange"),
        ],
        gap="xs",
    )


def _source_legend():
    """What each forecast cell shows: entered, proposed, budget, unsaved, actual."""
    return html.Div(
        [html.Span("Forecast cells:", className="legend-title")]
        + [
            html.Span(label, className=f"swatch {css}", title=f"{label}: {meaning}")
            for css, label, meaning in SOURCE_LEGEND
        ],
        id="stats-legend",
        className="source-legend",
    )


def _rates_panel(now, start: str | None = None):
    years = [now.year - 1, now.year, now.year + 1]
    # The workspace's year (its starting month's), else this year.
    year = next((y for y in years if (start or "").startswith(f"{y}-")), now.year)
    return html.Div(
        [
            dcc.Store(id="ws-rates"),
            dcc.Store(id="ws-rate-edits", data={}),
            dcc.Store(id="rates-pending"),
            dcc.Store(id="rates-last-edit"),
            html.Div(
                [
                    dmc.Group(
                        [
                            dmc.Select(
                                id="rates-year",
                                label="Year",
                                data=[str(y) for y in years],
                                value=str(year),
                                allowDeselect=False,
                                w=120,
                            ),
                            dmc.Button("Save", id="rates-save", size="xs"),
                            dmc.Text(id="rates-dirty", size="sm", c="orange"),
                        ],
                        align="flex-end",
                        py="xs",
                    ),
                    html.Div(id="rates-message", role="status", **{"aria-live": "polite"}),
                ],
                className="ws-sticky-bar",
            ),
            dmc.Text(
                "Monthly average collected rates. Budget until a forecast is saved; past "
                "months and past years are read-only; the Actual row shows the rate collected "
                "in closed months. A rate more than ±10% from budget asks for confirmation.",
                size="xs",
                c="dimmed",
                mb="xs",
            ),
            dag.AgGrid(
                id="rates-grid",
                rowData=[],
                columnDefs=[],
                getRowId="params.data.row_id",
                defaultColDef={
                    "resizable": True,
                    "sortable": False,
                    "suppressMovable": True,
                    **FIT_WIDTH,
                },
                dashGridOptions={
                    "domLayout": "autoHeight",
                    "stopEditingWhenCellsLoseFocus": True,
                    "rowClassRules": {"row-actual": "params.data.kind === 'Actual'"},
                },
                className="ag-theme-quartz stats-grid",
                style={"width": "100%"},
            ),
            dmc.Modal(
                id="rates-confirm",
                title="Confirm this rate",
                children=[
                    dmc.Text(id="rates-confirm-text"),
                    dmc.Group(
                        [
                            dmc.Button("Keep it", id="rates-confirm-keep"),
                            dmc.Button("Cancel", id="rates-confirm-cancel", variant="default"),
                        ],
                        mt="md",
                    ),
                ],
                opened=False,
            ),
        ]
    )


def _payroll_panel():
    return html.Div(
        [
            dcc.Store(id="ws-payroll"),
            dcc.Store(id="ws-payroll-edits", data={}),
            dcc.Store(id="ws-payroll-week", data=0),
            html.Div(
                [
                    dmc.Group(
                        [
                            dmc.Button(
                                "◀ Previous week", id="payroll-prev", variant="default", size="xs"
                            ),
                            dmc.Text(id="payroll-week-label", size="sm", fw=600),
                            dmc.Button(
                                "Next week ▶", id="payroll-next", variant="default", size="xs"
                            ),
                            dmc.SegmentedControl(
                                id="payroll-mode",
                                data=[
                                    {"value": "Group", "label": "By job group"},
                                    {"value": "Code", "label": "By job code"},
                                ],
                                size="xs",
                            ),
                            dmc.Select(
                                id="payroll-flavour",
                                data=[
                                    {"value": k, "label": v}
                                    for k, v in payroll_grid.FLAVOUR_LABELS.items()
                                ],
                                value="forecast",
                                allowDeselect=False,
                                size="xs",
                                w=130,
                                **{"aria-label": "Show"},
                            ),
                            dmc.SegmentedControl(
                                id="payroll-unit",
                                data=[
                                    {"value": k, "label": v}
                                    for k, v in payroll_grid.UNIT_LABELS.items()
                                ],
                                value="hours",
                                size="xs",
                            ),
                            dmc.Button(
                                "Copy schedule to forecast",
                                id="payroll-copy-schedule",
                                variant="default",
                                size="xs",
                            ),
                            dmc.Button("Save", id="payroll-save", size="xs"),
                            dmc.Text(id="payroll-dirty", size="sm", c="orange"),
                        ],
                        gap="xs",
                        py="xs",
                    ),
                    html.Div(id="payroll-message", role="status", **{"aria-live": "polite"}),
                ],
                className="ws-sticky-bar",
            ),
            dmc.Text(
                "Forecast hours per day; type hours, or dollars with the Dollars switch "
                "(converted at the group's or code's hourly rate). Today and earlier are "
                "read-only; salaried pay is derived from HR allocations. ⚠ marks a forecast more "
                "than 10% away from budget. Overtime is counted above 40 hours per job code in "
                "each Saturday–Friday week.",
                size="xs",
                c="dimmed",
                mb="xs",
            ),
            html.Div(id="payroll-explain"),
            html.Div(
                dmc.Group(
                    [
                        dmc.Select(
                            id="payroll-assign-code",
                            label="Job code",
                            w=220,
                            size="xs",
                            allowDeselect=False,
                        ),
                        dmc.Select(
                            id="payroll-assign-group",
                            label="Job group",
                            w=220,
                            size="xs",
                            allowDeselect=False,
                            searchable=True,
                        ),
                        dmc.Button("Assign to group", id="payroll-assign-submit", size="xs"),
                    ],
                    align="flex-end",
                    mb="xs",
                ),
                id="payroll-assign",
                style={"display": "none"},
            ),
            html.Div(id="payroll-kpis", className="stats-summary"),
            dag.AgGrid(
                id="payroll-grid",
                rowData=[],
                columnDefs=[],
                getRowId="params.data.row_id",
                defaultColDef={
                    "resizable": True,
                    "sortable": False,
                    "suppressMovable": True,
                    **FIT_WIDTH,
                },
                dashGridOptions={
                    "domLayout": "autoHeight",
                    "stopEditingWhenCellsLoseFocus": True,
                    "enterNavigatesVertically": True,
                    "enterNavigatesVerticallyAfterEdit": True,
                    "tooltipShowDelay": 300,
                },
                className="ag-theme-quartz stats-grid",
                style={"width": "100%"},
            ),
        ]
    )


# ``?tab=submission`` opens that tab (the review page links a site's Submission tab).
TABS = ("statistics", "rates", "payroll", "other_revenue", "other_expense", "submission")


def layout(site: str | None = None, start: str | None = None, tab: str | None = None, **_query):
    now = today()
    return html.Div(
        [
            dcc.Store(id="ws-window"),
            dcc.Store(id="ws-edits", data={}),
            dcc.Store(id="ws-history", data={"undo": [], "redo": []}),
            dcc.Store(id="ws-page", data=0),
            dcc.Store(id="stats-paste"),
            dcc.Store(id="ws-requested-site", data=site),
            # The site and month actually loaded; the pickers change it only after a confirm
            # when there are unsaved edits.
            dcc.Store(id="ws-selection"),
            dcc.Store(id="ws-adjustments"),
            dcc.Store(id="ws-adjustment-edits", data={}),
            dmc.Modal(
                id="ws-switch-confirm",
                title="Discard unsaved changes?",
                children=[
                    dmc.Text(id="ws-switch-text", size="sm"),
                    dmc.Group(
                        [
                            dmc.Button("Stay and keep them", id="ws-switch-stay"),
                            dmc.Button(
                                "Discard and switch",
                                id="ws-switch-discard",
                                color="red",
                                variant="light",
                            ),
                        ],
                        mt="md",
                    ),
                ],
                opened=False,
                closeOnClickOutside=False,
                # Focus back on the picker would reopen its list: leave focus on the page.
                returnFocus=False,
            ),
            dmc.Group(
                [
                    dmc.Select(
                        id="ws-site",
                        label="Site",
                        searchable=True,
                        allowDeselect=False,
                        w=320,
                        nothingFoundMessage="No permitted site matches",
                    ),
                    dmc.Select(
                        id="ws-start",
                        label="Starting month",
                        data=month_options(now),
                        value=start or f"{now.year}-{now.month:02d}",
                        allowDeselect=False,
                        searchable=True,
                        w=190,
                    ),
                    dmc.SegmentedControl(
                        id="ws-room-input",
                        data=[
                            {"value": "occupancy", "label": "Percentage"},
                            {"value": "occupied_rooms", "label": "Rooms"},
                        ],
                        value="occupancy",
                    ),
                    dmc.Select(
                        id="ws-compare",
                        label="Show",
                        data=[{"value": k, "label": v} for k, v in COMPARISONS.items()],
                        value="forecast",
                        allowDeselect=False,
                        w=260,
                    ),
                    dcc.Link("Open this site's P&L →", href="/pnl", id="ws-pnl-link"),
                    html.Div(id="ws-sub-badge"),
                    dmc.SegmentedControl(
                        id="ws-view",
                        data=[
                            {"value": "daily", "label": "Daily"},
                            {"value": "weekly", "label": "Weekly"},
                            {"value": "monthly", "label": "Monthly"},
                        ],
                        value="daily",
                    ),
                ],
                align="flex-end",
                mb="sm",
            ),
            dmc.Paper(
                [
                    dmc.Text(
                        "Live impact on the P&L — as it will be once the unsaved edits are saved",
                        size="sm",
                        fw=600,
                    ),
                    html.Div(id="ws-impact", role="status", **{"aria-live": "polite"}),
                ],
                withBorder=True,
                p="xs",
                radius="sm",
                className="impact-panel",
                id="ws-impact-panel",
            ),
            dmc.Tabs(
                [
                    dmc.TabsList(
                        [
                            dmc.TabsTab("Statistics", value="statistics", id="ws-tab-statistics"),
                            dmc.TabsTab("Rates", value="rates", id="ws-tab-rates"),
                            dmc.TabsTab("Payroll", value="payroll", id="ws-tab-payroll"),
                            dmc.TabsTab(
                                "Other revenue", value="other_revenue", id="ws-tab-other-revenue"
                            ),
                            dmc.TabsTab(
                                "Other expenses", value="other_expense", id="ws-tab-other-expense"
                            ),
                            dmc.TabsTab("Submission", value="submission", id="ws-tab-submission"),
                        ]
                    ),
                    dmc.TabsPanel(
                        html.Div(
                            [
                                dmc.Text(
                                    "Days before today are read-only and show actuals where loaded; today and later "
                                    "are editable; the legend above the grid says where each value comes from. Paste a "
                                    "block copied from a "
                                    "spreadsheet at the focused cell with Ctrl+V.",
                                    size="xs",
                                    c="dimmed",
                                    mb="xs",
                                    id="stats-rule",
                                ),
                                html.Div(id="stats-summary", className="stats-summary"),
                                html.Div(
                                    [
                                        dmc.Group(
                                            [_pager(), _toolbar()], justify="space-between", py="xs"
                                        ),
                                        html.Div(
                                            id="ws-message",
                                            role="status",
                                            **{"aria-live": "polite"},
                                        ),
                                        html.Div(id="stats-view-banner"),
                                        _source_legend(),
                                    ],
                                    className="ws-sticky-bar",  # stays in view while the month's rows scroll
                                ),
                                dag.AgGrid(
                                    id="stats-grid",
                                    rowData=[],
                                    columnDefs=[],
                                    getRowId="params.data.row_id",
                                    defaultColDef={
                                        "resizable": True,
                                        "sortable": False,
                                        "suppressMovable": True,
                                        "singleClickEdit": False,
                                        # Whole headers on two lines, never "Valet m…".
                                        "wrapHeaderText": True,
                                        "autoHeaderHeight": True,
                                        **FIT_WIDTH,
                                    },
                                    dashGridOptions={
                                        "enterNavigatesVertically": True,
                                        "enterNavigatesVerticallyAfterEdit": True,
                                        "stopEditingWhenCellsLoseFocus": True,
                                        "ensureDomOrder": True,
                                        "rowClassRules": {
                                            "row-weekend": "params.data.weekend === true"
                                        },
                                        # One month per page: at most 31 rows, all rendered, no inner scrolling.
                                        "domLayout": "autoHeight",
                                    },
                                    className="ag-theme-quartz stats-grid",
                                    style={"width": "100%"},
                                ),
                            ]
                        ),
                        value="statistics",
                        pt="xs",
                    ),
                    dmc.TabsPanel(_rates_panel(now, start), value="rates", pt="xs"),
                    dmc.TabsPanel(_payroll_panel(), value="payroll", pt="xs"),
                    dmc.TabsPanel(
                        adjustments_grid.panel("other_revenue"), value="other_revenue", pt="xs"
                    ),
                    dmc.TabsPanel(
                        adjustments_grid.panel("other_expense"), value="other_expense", pt="xs"
                    ),
                    dmc.TabsPanel(submission_panel.layout(), value="submission", pt="xs"),
                ],
                value=tab if tab in TABS else "statistics",
                id="ws-tabs",
                keepMounted=True,
            ),
        ]
    )
