"""Home page: what each role starts from (layout only; data arrives through callbacks)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.formatting import month_label
from dashboard.context import today
from dashboard.domain.periods import add_months

dash.register_page(__name__, path="/", name="Home", title="Home · Site Forecasting")


def month_options() -> list[dict[str, str]]:
    """Months of the previous, current and next year (DOMAIN.md §3.2 starting-year options)."""
    now = today()
    first = (now.year - 1, 1)
    return [
        {"value": f"{y}-{m:02d}", "label": month_label(y, m)}
        for y, m in (add_months(*first, i) for i in range(36))
    ]


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
                        data=month_options(),
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
            dcc.Loading(html.Div(id="home-content"), type="dot", delay_show=300),
        ]
    )
