"""Other Revenue and Other Expenses tabs: load, render, and keep unsaved cell edits.

Unsaved edits live in the browser (``ws-adjustment-edits``: "kind|YYYY-MM|field" ->
{"value", "version"}) until Save; each value is checked by the domain rules when entered and
again by the save service (wired into the workspace's save callback), which also checks
scope, locks and versions.
"""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks.home import parse_month
from dashboard.components import adjustments_grid as grid
from dashboard.context import current_principal, get_db, today
from dashboard.services import adjustments
from dashboard.services.scope import ScopeError


def _refused(kind: str, messages: list[str]):
    prefix = grid.prefix(kind)
    body = messages[0] if len(messages) == 1 else dmc.List([dmc.ListItem(m) for m in messages])
    return dmc.Alert(
        body,
        color="red",
        title="Value not accepted",
        id=f"{prefix}-refused",
        withCloseButton=True,
    )


def register(app: Dash) -> None:
    @app.callback(
        Output("ws-adjustments", "data"),
        Output("ws-adjustment-edits", "data", allow_duplicate=True),
        Input("ws-selection", "data"),
        State("ws-adjustments", "data"),
        prevent_initial_call=True,
    )
    def load(selection, previous):
        principal = current_principal()
        if principal is None or not selection:
            raise PreventUpdate
        try:
            site_id = int(selection["site"])
            start = parse_month(selection["start"])
            with get_db().read() as session:
                data = adjustments.load_adjustments(session, principal, site_id, start, today())
        except (ScopeError, ValueError, KeyError, TypeError):
            return None, {}
        # Edits belong to a site: a new site starts clean (a new starting month keeps them).
        same_site = bool(previous) and previous.get("site_id") == site_id
        return data, no_update if same_site else {}

    for kind in adjustments.KINDS:
        _register_tab(app, kind)


def _register_tab(app: Dash, kind: str) -> None:
    prefix = grid.prefix(kind)

    @app.callback(
        Output(f"{prefix}-grid", "rowData"),
        Output(f"{prefix}-grid", "columnDefs"),
        Output(f"{prefix}-dirty", "children"),
        Input("ws-adjustments", "data"),
        Input("ws-adjustment-edits", "data"),
    )
    def render(data, edits):
        if not data:
            return [], [], ""
        return (
            grid.rows(data, kind, edits or {}),
            grid.column_defs(kind, data["months"]),
            grid.dirty_text(kind, edits),
        )

    @app.callback(
        Output("ws-adjustment-edits", "data", allow_duplicate=True),
        Output(f"{prefix}-message", "children", allow_duplicate=True),
        Input(f"{prefix}-grid", "cellValueChanged"),
        State("ws-adjustments", "data"),
        State("ws-adjustment-edits", "data"),
        prevent_initial_call=True,
    )
    def cell_changed(changes, data, edits):
        if not changes or not data or current_principal() is None:
            raise PreventUpdate
        updated, refused = dict(edits or {}), []
        for change in changes:
            try:
                field = change["data"]["field"]
                month_text = grid.month_of_column(change["colId"])
            except (KeyError, TypeError, ValueError):
                refused.append("That cell cannot be edited.")
                continue
            result, problem = grid.apply_change(
                data, kind, updated, field, month_text, change.get("value")
            )
            if problem:
                refused.append(problem)
            else:
                updated = result
        # Re-sending the edits re-renders the grid: a refused value disappears.
        return updated, _refused(kind, refused) if refused else None
