"""Shell behaviour: the burger opens the navigation on narrow screens; the figures in view
say when they are being refreshed and the pages showing them reload when they are current."""

from __future__ import annotations

from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.shell import (
    FIGURES_NOTE,
    FIGURES_PENDING,
    FIGURES_POLL,
    FIGURES_REFRESHED,
    POLL_IDLE_MS,
    POLL_PENDING_MS,
    freshness_note,
)
from dashboard.context import current_principal, get_db, get_jobs, today
from dashboard.services import figures


def register(app: Dash) -> None:
    @app.callback(
        Output("shell-appshell", "navbar"),
        Input("shell-burger", "opened"),
        State("shell-appshell", "navbar"),
        prevent_initial_call=True,
    )
    def toggle_navigation(opened, navbar):
        return {**navbar, "collapsed": {"mobile": not opened}}

    @app.callback(
        Output(FIGURES_NOTE, "children"),
        Output(FIGURES_PENDING, "data"),
        Output(FIGURES_REFRESHED, "data"),
        Output(FIGURES_POLL, "interval"),
        Input(FIGURES_POLL, "n_intervals"),
        State(FIGURES_PENDING, "data"),
        State(FIGURES_REFRESHED, "data"),
    )
    def figures_freshness(_tick, pending_before, refreshed):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        day = today()
        with get_db().read() as session:
            waiting = figures.pending_in_scope(session, principal, day)
        if waiting.count:
            get_jobs().request_refresh(day)
        before = pending_before if isinstance(pending_before, int) else 0
        done = before > 0 and waiting.count == 0
        count = refreshed if isinstance(refreshed, int) else 0
        return (
            freshness_note(waiting.message()),
            waiting.count,
            count + 1 if done else no_update,
            POLL_PENDING_MS if waiting.count else POLL_IDLE_MS,
        )
