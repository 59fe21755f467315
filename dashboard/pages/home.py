"""Home page: what each role starts from (layout only; data arrives through callbacks)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.controls import month_options
from dashboard.context import today

dash.register_page(__name__, path="/", name="Home", title="Home · Site Forecasting")


def layout(**_query):
    now = today()
    return html.Div(
        [
            dmc.Group(
                [
                    html.Div(id="home-heading"),
                    dmc.Select(
                        id="home-month",
                        label="Month",
                        data=month_options(now),
                        value=f"{now.year}-{now.month:02d}",
                        allowDeselect=False,
                        searchable=True,
                        w=200,
                    ),
                ],
                justify="space-between",
                align="flex-end",
                mb="md",
            ),
            html.Div(id="home-submissions"),
            dcc.Loading(html.Div(id="home-content"), type="dot", delay_show=300),
        ]
    )
