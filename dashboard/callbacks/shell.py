"""Shell behaviour: the burger opens the navigation on narrow screens."""

from __future__ import annotations

from dash import Dash, Input, Output, State


def register(app: Dash) -> None:
    @app.callback(
        Output("shell-appshell", "navbar"),
        Input("shell-burger", "opened"),
        State("shell-appshell", "navbar"),
        prevent_initial_call=True,
    )
    def toggle_navigation(opened, navbar):
        return {**navbar, "collapsed": {"mobile": not opened}}
