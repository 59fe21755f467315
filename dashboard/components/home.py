"""Views of the home page per role, built from the home services' DataFrames."""

from __future__ import annotations

import dash_mantine_components as dmc
import pandas as pd
from dash import html

from dashboard.components.cards import money_card, page_header
from dashboard.components.formatting import contract_label, money, month_label
from dashboard.components.grid import column, data_grid


def sites_view(sites: pd.DataFrame, title: str, year: int, month: int, empty_text: str):
    period = month_label(year, month)
    if sites.empty:
        return html.Div(
            [
                page_header(title),
                dmc.Alert(empty_text, title="No sites", color="yellow", id="home-empty"),
            ]
        )
    rows = sites.assign(contract=sites["contract_types"].map(contract_label))[
        [
            "site_id",
            "site_number",
            "name",
            "district",
            "contract",
            "account_managers",
            "external_revenue",
            "flc",
        ]
    ].to_dict("records")
    grid = data_grid(
        "home-sites-grid",
        [
            column("site_number", "Site", width=90, pinned="left"),
            column("name", "Name", minWidth=180),
            column("district", "District"),
            column("contract", "Contract type", minWidth=160),
            column("account_managers", "Account manager"),
            column("external_revenue", f"Budget external revenue, {period}", "money"),
            column("flc", f"Budget FLC, {period}", "money"),
        ],
        rows,
        row_id_field="site_id",
    )
    cards = dmc.SimpleGrid(
        [
            dmc.Paper(
                [
                    dmc.Text("Sites", size="sm", c="dimmed"),
                    dmc.Text(str(len(sites)), size="xl", fw=700, id="home-site-count"),
                ],
                withBorder=True,
                p="md",
                radius="md",
            ),
            money_card(
                f"Budget external revenue, {period}",
                sites["external_revenue"].sum(),
                "home-total-external",
            ),
            money_card(f"Budget FLC, {period}", sites["flc"].sum(), "home-total-flc"),
        ],
        cols={"base": 1, "sm": 3},
        mb="md",
    )
    options = [
        {"value": str(r.site_id), "label": f"{r.site_number} · {r.name}"}
        for r in sites.itertuples()
    ]
    detail = dmc.Paper(
        [
            dmc.Select(
                id="home-site-select",
                label="Site details",
                data=options,
                value=options[0]["value"],
                searchable=True,
                allowDeselect=False,
                maw=420,
            ),
            html.Div(id="home-site-detail", className="home-site-detail"),
        ],
        withBorder=True,
        p="md",
        radius="md",
        mt="md",
    )
    return html.Div([page_header(title, f"Budget for {period}"), cards, grid, detail])


def portfolio_view(
    regions: pd.DataFrame, districts: pd.DataFrame, title: str, year: int, month: int
):
    period = month_label(year, month)
    region_cards = dmc.SimpleGrid(
        [
            dmc.Paper(
                [
                    dmc.Text(r.region, fw=700, size="lg"),
                    dmc.Text(f"{r.districts} districts · {r.sites} sites", size="sm", c="dimmed"),
                    dmc.Text(f"Budget external revenue {money(r.external_revenue)}", size="sm"),
                    dmc.Text(f"Budget internal revenue {money(r.internal_revenue)}", size="sm"),
                    dmc.Text(f"Budget FLC {money(r.flc)}", size="sm", fw=600),
                ],
                withBorder=True,
                p="md",
                radius="md",
                className="home-region-card",
            )
            for r in regions.itertuples()
        ],
        cols={"base": 1, "sm": 3},
        mb="md",
        id="home-regions",
    )
    grid = data_grid(
        "home-districts-grid",
        [
            column("region", "Region", width=110),
            column("district", "District", minWidth=180),
            column("sites", "Sites", "count", width=90),
            column("external_revenue", "Budget external revenue", "money"),
            column("internal_revenue", "Budget internal revenue", "money"),
            column("flc", "Budget FLC", "money"),
        ],
        districts.drop(columns=["district_id"]).to_dict("records"),
    )
    return html.Div([page_header(title, f"Budget for {period}"), region_cards, grid])


def site_detail_view(detail: dict | None, year: int, month: int):
    if detail is None:
        return dmc.Alert("This site is not in your scope.", color="red", id="home-site-refused")
    lines = [
        ("External revenue", detail["external_revenue"]),
        ("Internal revenue", detail["internal_revenue"]),
        ("Payroll", detail["payroll"]),
        ("PTEB", detail["pteb"]),
        ("Insurance", detail["insurance"]),
        ("Parking rents", detail["parking_rents"]),
        ("Other expense", detail["other_expense"]),
        ("Claims", detail["claims"]),
        ("FLC", detail["flc"]),
    ]
    body = [
        html.Tr([html.Td(label), html.Td(money(value), className="num")]) for label, value in lines
    ]
    return html.Div(
        [
            dmc.Text(
                f"{detail['site_number']} · {detail['name']} — "
                f"{contract_label(detail['contract_types'])}",
                fw=600,
                mt="sm",
            ),
            dmc.Text(f"Budget, {month_label(year, month)}", size="sm", c="dimmed"),
            dmc.Table(
                html.Tbody(body),
                striped=True,
                highlightOnHover=True,
                maw=420,
                id="home-site-detail-table",
            ),
        ]
    )
