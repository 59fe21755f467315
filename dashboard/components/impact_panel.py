"""The workspace's live impact panel: the window's months on the P&L with unsaved edits."""

from __future__ import annotations

from dash import html

from dashboard.components.formatting import money
from dashboard.domain import pnl

KIND_NOTES = {
    pnl.ACTUAL_MONTH: "actual",
    pnl.TRENDING_MONTH: "month to date + forecast",
    pnl.FORECAST_MONTH: "forecast",
}
COLUMNS = (
    ("external_revenue", "External revenue"),
    ("internal_revenue", "Internal revenue"),
    ("payroll", "Payroll"),
    ("flc", "FLC"),
)


def signed_money(amount: float) -> str:
    """ "+$1,234" / "-$1,234" / "$0" for a change."""
    shown = money(amount)
    return shown if shown in ("$0", "-$0") or amount < 0 else f"+{shown}"


def _variance(month: dict, index: int):
    classes = ["impact-variance"]
    if month["flc_vs_budget_bold"]:
        classes.append("cell-bold")
    if month["flc_vs_budget_negative"]:
        classes.append("cell-negative")
    return html.Td(
        f"{signed_money(month['flc_vs_budget'])} ({month['flc_vs_budget_pct']})",
        id=f"ws-impact-variance-{index}",
        className=" ".join(classes),
        title=f"FLC − budget FLC ({money(month['budget_flc'])})",
    )


def _change(month: dict, index: int):
    amount = month["flc_change"]
    return html.Td(
        signed_money(amount) if abs(amount) >= 0.005 else "—",
        id=f"ws-impact-change-{index}",
        className="cell-negative" if amount <= -0.005 else None,
    )


def table(result: dict):
    """Rows per month: the P&L figures with the edits, FLC vs budget, and what the edits
    change in FLC; a note when some edits could not be counted."""
    header = html.Tr(
        [html.Th("Month")]
        + [html.Th(label) for _, label in COLUMNS]
        + [html.Th("FLC vs budget"), html.Th("FLC change from unsaved edits")]
    )
    rows = []
    for index, month in enumerate(result["months"]):
        label = [html.Span(month["label"], className="impact-month")]
        label.append(html.Small(f" {KIND_NOTES.get(month['kind'], '')}", className="impact-kind"))
        if month.get("ir_fallback"):
            label.append(html.Small(" · IR = budget", title=month["ir_fallback"]))
        rows.append(
            html.Tr(
                [html.Td(label)]
                + [html.Td(money(month[key]), id=f"ws-impact-{key}-{index}") for key, _ in COLUMNS]
                + [_variance(month, index), _change(month, index)],
                id=f"ws-impact-row-{index}",
            )
        )
    notes = []
    if result["edits_skipped"]:
        count = result["edits_skipped"]
        notes.append(
            html.Small(
                f"{count} unsaved edit{'s' if count != 1 else ''} could not be counted "
                "(refused values or locked days); the save will refuse them too.",
                id="ws-impact-skipped",
                className="cell-negative",
            )
        )
    return html.Div(
        [html.Table([html.Thead(header), html.Tbody(rows)], className="impact-table")] + notes
    )
