"""Grid exports (issue: every grid exports to CSV and XLSX). The rows are the grid's own
rows as the person filtered and sorted them (``virtualRowData``): what is on screen, which
the server sent to this signed-in person in the first place. Refused without a session."""

from __future__ import annotations

import datetime as dt
import re

from dash import Dash, Input, Output, State, ctx, dcc
from dash.exceptions import PreventUpdate

from dashboard.context import current_principal
from dashboard.services import exports

# (grid id, title of the file): every read-only grid of the app.
EXPORTED_GRIDS = (
    ("pnl-grid", "P&L"),
    ("review-grid", "District review"),
    ("audit-grid", "Audit trail"),
    ("perf-trend-grid", "KPI trends"),
    ("perf-rank-grid", "Site benchmarking"),
    ("perf-waterfall-grid", "FLC variance breakdown"),
    ("report-grid", "Regional report"),
    ("report-risk-grid", "At-risk sites"),
)


def file_name(title: str, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"{slug}-{dt.date.today():%Y-%m-%d}.{extension}"


def build_export(
    kind: str, title: str, principal, rows, column_defs, filter_model, context, totals
) -> dict:
    columns = exports.columns_from_defs(column_defs or [])
    lines = [(str(k), str(v)) for k, v in (context or [])]
    column_filters = exports.filter_model_lines(filter_model, columns)
    if column_filters:
        lines.append(("Column filters", "; ".join(column_filters)))
    lines.append(("Exported", f"{dt.datetime.now():%Y-%m-%d %H:%M} by {principal.email}"))
    total = (totals or [None])[0]
    if kind == "csv":
        text = exports.to_csv(title, lines, columns, rows or [], total)
        return dcc.send_string(text, file_name(title, "csv"))
    data = exports.to_xlsx([exports.Sheet(title, title, lines, columns, rows or [], total)])
    return dcc.send_bytes(data, file_name(title, "xlsx"))


def register_grid_export(app: Dash, grid_id: str, title: str) -> None:
    @app.callback(
        Output(f"{grid_id}-export-download", "data"),
        Input(f"{grid_id}-export-csv", "n_clicks"),
        Input(f"{grid_id}-export-xlsx", "n_clicks"),
        State(grid_id, "virtualRowData"),
        State(grid_id, "columnDefs"),
        State(grid_id, "filterModel"),
        State(f"{grid_id}-export-context", "data"),
        State(grid_id, "pinnedBottomRowData"),
        # The file is written by a job (the Celery worker with Redis, a local process
        # without), not on a request thread; the buttons wait for it.
        background=True,
        running=[
            (Output(f"{grid_id}-export-csv", "loading"), True, False),
            (Output(f"{grid_id}-export-xlsx", "loading"), True, False),
        ],
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, shown, column_defs, filter_model, context, totals):
        with app.server.app_context():
            principal = current_principal()
            # The grid reports its rows as shown once it has any (virtualRowData); only
            # those are posted, not the rows a second time.
            if principal is None or not ctx.triggered_id or shown is None:
                raise PreventUpdate
            kind = "csv" if ctx.triggered_id.endswith("csv") else "xlsx"
            return build_export(
                kind, title, principal, shown, column_defs, filter_model, context, totals
            )


def register(app: Dash) -> None:
    for grid_id, title in EXPORTED_GRIDS:
        register_grid_export(app, grid_id, title)
