"""Export buttons for any grid: CSV and formatted XLSX of the rows as filtered and sorted on
screen, with the page's filters (``<grid>-export-context``) and the grid's column filters
stated in the file's header. Registered per grid by ``dashboard.callbacks.exports``."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import dcc, html


def export_buttons(grid_id: str) -> html.Div:
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Button(
                        "CSV",
                        id=f"{grid_id}-export-csv",
                        size="compact-xs",
                        variant="default",
                        **{"aria-label": "Export this table to CSV"},
                    ),
                    dmc.Button(
                        "XLSX",
                        id=f"{grid_id}-export-xlsx",
                        size="compact-xs",
                        variant="default",
                        **{"aria-label": "Export this table to Excel"},
                    ),
                ],
                gap=4,
                justify="flex-end",
            ),
            dcc.Store(id=f"{grid_id}-export-context", data=[]),
            dcc.Download(id=f"{grid_id}-export-download"),
        ],
        className="export-buttons",
    )
