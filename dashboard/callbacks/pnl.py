"""P&L page callbacks: filter choices in scope, the P&L of the filtered sites, drill-down."""

from __future__ import annotations

import calendar

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, html
from dash.exceptions import PreventUpdate

from dashboard.callbacks.inputs import text_choice
from dashboard.components import pnl_view
from dashboard.components.grid import column, data_grid
from dashboard.components.shell import FIGURES_REFRESHED
from dashboard.context import current_principal, get_db, today
from dashboard.services import pnl, pnl_portfolio

FILTER_KEYS = (
    "region",
    "district",
    "site",
    "account_manager",
    "contract_type",
    "business_segment",
)


def _filters(values) -> pnl_portfolio.Filters:
    chosen = dict(zip(FILTER_KEYS, values, strict=True))

    def number(key):
        return int(chosen[key]) if chosen[key] else None

    return pnl_portfolio.Filters(
        region_id=number("region"),
        district_id=number("district"),
        site_id=number("site"),
        account_manager_id=number("account_manager"),
        contract_type=text_choice(chosen["contract_type"], "contract_type"),
        business_segment=text_choice(chosen["business_segment"], "business_segment"),
    )


def register(app: Dash) -> None:
    @app.callback(
        *[Output(f"pnl-filter-{k}", "data") for k in FILTER_KEYS],
        Output("pnl-filter-site", "value"),
        Input("pnl-requested-site", "data"),
    )
    def options(requested):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        with get_db().read() as session:
            choices = pnl_portfolio.filter_options(session, principal, today())
        sites = {o["value"] for o in choices["site"]}
        return (
            *[choices[k] for k in FILTER_KEYS],
            requested if requested in sites else None,
        )

    @app.callback(
        Output("pnl-result", "data"),
        Output("pnl-heading", "children"),
        *[Input(f"pnl-filter-{k}", "value") for k in FILTER_KEYS],
        Input("pnl-year", "value"),
        Input("pnl-basis", "value"),
        Input(FIGURES_REFRESHED, "data"),
    )
    def compute(*args):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        *filter_values, year, basis, _refreshed = args
        with get_db().read() as session:
            result = pnl_portfolio.portfolio_pnl(
                session,
                principal,
                int(year),
                today(),
                _filters(filter_values),
                basis if basis in pnl.BASES else pnl.BUDGET_BASIS,
            )
        if not result["site_count"]:
            return result, dmc.Alert(
                "No site in your scope matches these filters.", color="yellow", id="pnl-empty"
            )
        notes = [
            dmc.Text(
                f"{result['site_count']:,} site(s) · {year} · variance against "
                f"{result['basis_label']}",
                fw=600,
                id="pnl-basis-named",
            )
        ]
        if result["ir_fallback_count"]:
            listed = result["ir_fallbacks"][:5]
            names = ", ".join(f"{r['site_number']} {r['name']}" for r in listed)
            more = result["ir_fallback_count"] - len(listed)
            notes.append(
                dmc.Text(
                    f"{result['ir_fallback_count']:,} site(s) use budget internal revenue (their "
                    f"contract terms are not configured): {names}"
                    + (f" and {more:,} more." if more > 0 else "."),
                    size="xs",
                    c="orange",
                    id="pnl-ir-fallbacks",
                )
            )
        return result, html.Div(notes)

    @app.callback(
        Output("pnl-grid", "rowData"),
        Output("pnl-grid", "columnDefs"),
        Output("pnl-grid-export-context", "data"),
        Input("pnl-result", "data"),
        Input("pnl-view", "value"),
        *[State(f"pnl-filter-{k}", "value") for k in FILTER_KEYS],
        *[State(f"pnl-filter-{k}", "data") for k in FILTER_KEYS],
        State("pnl-year", "value"),
    )
    def render(result, view, *states):
        if not result or not result["site_count"]:
            return [], [], []
        view = view if view in pnl_view.VIEWS else "values"
        columns = pnl_view.column_defs(result)
        if view == "variance_pct":  # the files carry fractions formatted as %
            for c in columns:
                if c["field"].startswith("m") or c["field"] == "total":
                    c["exportKind"] = "percent"
        values, choices, year = (
            states[: len(FILTER_KEYS)],
            states[len(FILTER_KEYS) : -1],
            states[-1],
        )
        context = [["Year", str(year)], ["Compared with", result["basis_label"]]]
        context.append(["View", pnl_view.VIEWS[view]])
        for key, value, options in zip(FILTER_KEYS, values, choices, strict=True):
            if value:
                label = next((o["label"] for o in options or [] if o["value"] == value), value)
                context.append([key.replace("_", " ").capitalize(), label])
        context.append(["Sites", f"{result['site_count']:,}"])
        return pnl_view.rows(result, view), columns, context

    @app.callback(
        Output("pnl-drill-heading", "children"),
        Output("pnl-drill", "children"),
        Input("pnl-grid", "cellClicked"),
        *[State(f"pnl-filter-{k}", "value") for k in FILTER_KEYS],
        State("pnl-year", "value"),
        State("pnl-basis", "value"),
        prevent_initial_call=True,
    )
    def drill(clicked, *args):
        principal = current_principal()
        if principal is None or not clicked:
            raise PreventUpdate
        *filter_values, year, basis = args
        line, column_id = clicked.get("rowId"), clicked.get("colId")
        if line not in pnl.LINE_LABELS or column_id in (None, "label", "pct_of_ir"):
            raise PreventUpdate
        month = None if column_id == "total" else int(column_id[1:])
        basis = basis if basis in pnl.BASES else pnl.BUDGET_BASIS
        with get_db().read() as session:
            sites = pnl_portfolio.portfolio_sites(
                session, principal, int(year), today(), line, _filters(filter_values), basis
            )
        basis_label = pnl_portfolio.BASIS_LABELS[basis]
        when = "the year" if month is None else calendar.month_name[month]
        heading = dmc.Text(
            f"{pnl.LINE_LABELS[line]} · {when} · {len(sites)} site(s) vs {basis_label}",
            fw=700,
            id="pnl-drill-title",
        )
        grid = data_grid(
            "pnl-drill-grid",
            [
                column("site", "Site"),
                column("value", "Figure", "money"),
                column("basis", basis_label, "money"),
                column("variance", "Variance $", "money"),
                column("variance_pct", "Variance %", "percent"),
            ],
            pnl_view.site_rows(sites, month),
            height="360px",
        )
        return heading, grid
