"""Home page callbacks: parse inputs, call the scoped home services, format."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.components import home as views
from dashboard.components.shell import FIGURES_REFRESHED
from dashboard.context import current_principal, get_db, today
from dashboard.services import home


def parse_month(value: str | None) -> tuple[int, int]:
    """'2026-11' -> (2026, 11); the current month when missing or malformed."""
    try:
        year_text, month_text = (value or "").split("-")
        year, month = int(year_text), int(month_text)
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return year, month
    except ValueError:
        pass
    now = today()
    return now.year, now.month


def register(app: Dash) -> None:
    @app.callback(
        Output("home-content", "children"),
        Input("home-month", "value"),
        Input(FIGURES_REFRESHED, "data"),
    )
    def render_home(month_value, _figures_refreshed=None):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        year, month = parse_month(month_value)
        with get_db().read() as session:
            if principal.role in ("account_manager", "district_manager"):
                sites = home.site_budget_summary(session, principal, year, month, today())
                title = (
                    "Your sites"
                    if principal.role == "account_manager"
                    else ("Sites of your district")
                )
                return views.sites_view(
                    sites,
                    title,
                    year,
                    month,
                    "No sites are assigned to you. Ask an administrator to assign your sites.",
                )
            districts = home.district_budget_overview(session, principal, year, month, today())
        title = "Your region" if principal.role == "regional_vp" else "Portfolio"
        return views.portfolio_view(home.region_totals(districts), districts, title, year, month)

    @app.callback(
        Output("home-site-detail", "children"),
        Input("home-site-select", "value"),
        State("home-month", "value"),
    )
    def render_site_detail(site_value, month_value):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        try:
            site_id = int(site_value)
        except (TypeError, ValueError):
            return dmc.Text("Pick a site.", c="dimmed")
        year, month = parse_month(month_value)
        with get_db().read() as session:
            detail = home.site_month_detail(session, principal, site_id, year, month, today())
        return views.site_detail_view(detail, year, month)
