"""KPI cards and page headers."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import html

from dashboard.components.formatting import money


def kpi_card(label: str, value: str, card_id: str | None = None, note: str | None = None):
    children = [
        dmc.Text(label, size="sm", c="dimmed"),
        dmc.Text(value, size="xl", fw=700, className="kpi-value"),
    ]
    if note:
        children.append(dmc.Text(note, size="xs", c="dimmed"))
    props = {"id": card_id} if card_id else {}
    return dmc.Paper(children, withBorder=True, p="md", radius="md", **props)


def money_card(label: str, amount: float, card_id: str | None = None, note: str | None = None):
    return kpi_card(label, money(amount), card_id, note)


def page_header(title: str, subtitle: str | None = None):
    return html.Div(
        [dmc.Title(title, order=2)] + ([dmc.Text(subtitle, c="dimmed")] if subtitle else []),
        className="page-header",
    )
