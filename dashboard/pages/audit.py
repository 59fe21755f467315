"""Audit trail of a site (or a district for district managers): every change and transition
(layout only)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.export_buttons import export_buttons
from dashboard.components.grid import column, data_grid
from dashboard.services.audit_trail import COLUMNS

dash.register_page(__name__, path="/audit", name="Audit trail", title="Audit · Site Forecasting")


def layout(site: str | None = None, **_query):
    return html.Div(
        [
            dcc.Store(id="audit-requested-site", data=site),
            dcc.Download(id="audit-download"),
            dmc.Title("Audit trail", order=3, mb="xs"),
            dmc.Group(
                [
                    dmc.Select(
                        id="audit-site", label="Site", searchable=True, clearable=True, w=280
                    ),
                    dmc.Select(id="audit-district", label="or district", clearable=True, w=220),
                    dmc.Select(
                        id="audit-person", label="Person", clearable=True, searchable=True, w=200
                    ),
                    dmc.Select(id="audit-kind", label="Kind", clearable=True, w=150),
                    dmc.Select(
                        id="audit-field", label="Field", clearable=True, searchable=True, w=170
                    ),
                    dmc.DatePickerInput(
                        id="audit-dates",
                        label="Dates",
                        type="range",
                        clearable=True,
                        w=240,
                        valueFormat="YYYY-MM-DD",
                    ),
                    dmc.Button("Export CSV", id="audit-export", variant="default", size="sm"),
                ],
                align="flex-end",
                mb="xs",
            ),
            dmc.Text(id="audit-count", size="sm", mb="xs"),
            export_buttons("audit-grid"),
            data_grid(
                "audit-grid",
                [column(key, label, minWidth=120) for key, label in COLUMNS],
                [],
                height="560px",
            ),
        ]
    )
