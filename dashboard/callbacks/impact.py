"""Workspace live impact: the P&L of the window's months recomputed with unsaved edits."""

from __future__ import annotations

from dash import Dash, Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.callbacks.home import parse_month
from dashboard.components import impact_panel
from dashboard.context import current_principal, get_db, today
from dashboard.services import impact
from dashboard.services.scope import ScopeError


def register(app: Dash) -> None:
    @app.callback(
        Output("ws-impact", "children"),
        Input("ws-window", "data"),
        Input("ws-edits", "data"),
        Input("ws-rate-edits", "data"),
        Input("ws-payroll-edits", "data"),
        State("ws-selection", "data"),
        State("ws-room-input", "value"),
        State("ws-payroll", "data"),
    )
    def live_impact(window, edits, rate_edits, payroll_edits, selection, room_input, payroll):
        principal = current_principal()
        if principal is None or not window or not selection:
            raise PreventUpdate
        try:
            site_id = int(selection["site"])
            start = parse_month(selection["start"])
        except (KeyError, TypeError, ValueError):
            raise PreventUpdate from None
        if site_id != window.get("site_id"):
            raise PreventUpdate  # the window of the new site is still loading
        mode = (payroll or {}).get("mode") if isinstance(payroll, dict) else None
        try:
            with get_db().read() as session:
                result = impact.live_impact(
                    session,
                    principal,
                    site_id,
                    start,
                    today(),
                    edits if isinstance(edits, dict) else {},
                    rate_edits if isinstance(rate_edits, dict) else {},
                    payroll_edits if isinstance(payroll_edits, dict) else {},
                    mode,
                    room_input or "occupancy",
                )
        except ScopeError:
            return None
        return impact_panel.table(result)
