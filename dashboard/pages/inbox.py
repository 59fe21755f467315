"""What needs the signed-in person's action (layout only)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import html

dash.register_page(__name__, path="/inbox", name="Inbox", title="Inbox · Site Forecasting")


def layout(**_query):
    return html.Div(
        [
            dmc.Title("Inbox", order=3, mb="xs"),
            dmc.Text(
                "Forecasts to submit, returned forecasts and submissions waiting for your review.",
                size="sm",
                c="dimmed",
                mb="xs",
            ),
            html.Div(id="inbox-items"),
        ]
    )
