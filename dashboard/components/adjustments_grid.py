"""Other Revenue and Other Expenses grids (DOMAIN.md §6): the tab's fields as rows, its 12
months as columns, plus a Total column.

Each field has two rows: **Forecast** (the amount the month counts: unsaved edit, else saved
forecast, else budget; editable where the month is) and **Budget** right under it (read-only,
grey). When any month of the window has actuals loaded, an **Actual** row follows too. The last
rows total the fields per month. Forecast cells that differ from budget are blue; Other
Revenue cells also carry the variance colour band of §6.1, and every forecast cell's tooltip
states the budget, the variance % and, for read-only months, why.
"""

from __future__ import annotations

import calendar

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import html

from dashboard.components.grid import FIT_WIDTH
from dashboard.domain import adjustments as adj
from dashboard.services.adjustments import (
    FIELD_LABELS,
    FIELDS,
    OTHER_EXPENSE,
    OTHER_REVENUE,
    edit_key,
    parse_amount,
    parse_month_key,
    validation_message,
)

PREFIXES = {OTHER_REVENUE: "other-revenue", OTHER_EXPENSE: "other-expense"}
TAB_TITLES = {OTHER_REVENUE: "Other revenue", OTHER_EXPENSE: "Other expenses"}
FORECAST, BUDGET, ACTUAL = "Forecast", "Budget", "Actual"
TOTAL_FIELD = "total"
BAND_LABELS = {
    adj.GREEN: "more than 5% above budget",
    adj.LIGHT_GREEN: "0–5% above budget",
    adj.AMBER: "0–5% below budget",
    adj.RED: "more than 5% below budget",
}
RULES = {
    OTHER_REVENUE: (
        "Monthly amounts; each month shows the budget until a forecast is saved. Months before "
        "the current month are read-only. GPO fees, signing bonuses and client-paid expenses "
        "reduce revenue: enter them as negative amounts; billable expenses and revenue "
        "validations are positive; miscellaneous may be either. Colours compare the forecast "
        "with the Budget row beneath it: green more than 5% above, light green 0–5% above, "
        "amber 0–5% below, red more than 5% below (hover a cell for the %)."
    ),
    OTHER_EXPENSE: (
        "Exception adjustments only: each month defaults to the budget. Amounts are positive. "
        "Months before the current month and months whose actual expenses are posted are "
        "read-only. Blue cells differ from the Budget row beneath them (hover for the %)."
    ),
}

# Dollars and cents, the minus sign before the $ ("-$250.00"); blank when no value.
MONEY_FORMATTER = {
    "function": "(params.value === null || params.value === undefined || params.value === '')"
    " ? '' : (Number(params.value) < 0 ? '-' : '') + formatRate(Math.abs(Number(params.value)))"
}


def prefix(kind: str) -> str:
    return PREFIXES[kind]


def column_key(month_text: str) -> str:
    """Column id of a month: '2026-12' -> 'm2026_12' (a plain JS identifier)."""
    return "m" + month_text.replace("-", "_")


def month_of_column(col_id: str) -> str:
    """'m2026_12' -> '2026-12'; ValueError for any other column."""
    if not col_id.startswith("m"):
        raise ValueError(f"not a month column: {col_id!r}")
    text = col_id[1:].replace("_", "-")
    parse_month_key(text)
    return text


def month_header(month_text: str) -> str:
    year, month = parse_month_key(month_text)
    return f"{calendar.month_abbr[month]} {year}"


def field_label(kind: str, field: str) -> str:
    if kind == OTHER_EXPENSE:
        label, gl = adj.OTHER_EXPENSE_CATEGORIES[field]
        return f"{label} · {gl}"
    return adj.OTHER_REVENUE_LABELS[field]


def _money(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _variance_text(value: float, budget: float) -> str:
    # D4's (F − B) ÷ B for positive budgets (all expenses); ÷ |B| keeps the sign meaningful
    # for the negative revenue columns.
    delta, fraction = adj.revenue_variance(value, budget)
    pct = "n/a" if fraction is None else f"{fraction:+.1%}"
    return f"{'+' if delta >= 0 else '-'}${abs(delta):,.2f} ({pct}) vs budget"


def current_value(data: dict, kind: str, edits: dict, month_text: str, field: str) -> float:
    """Unsaved edit, else saved forecast, else budget (0 when none)."""
    year, month = parse_month_key(month_text)
    edit = (edits or {}).get(edit_key(kind, year, month, field))
    if edit is not None:
        return float(edit["value"])
    return float(data[kind][month_text]["values"][field])


def _forecast_cell(
    row: dict, key: str, kind: str, cell: dict, field: str, value: float, unsaved: bool
) -> None:
    """Set a Forecast row's month cell and the flags its column's class rules read."""
    budget = float(cell["budget"][field])
    band = adj.other_revenue_band(value, budget) if kind == OTHER_REVENUE else None
    tip = [f"Budget {_money(budget)}", _variance_text(value, budget)]
    if band:
        tip.append(BAND_LABELS[band])
    if unsaved:
        tip.append("not saved yet")
    elif cell["forecast"] is None:
        tip.append("budget default (no forecast saved)")
    elif cell.get("updated_by"):
        tip.append(f"saved by {cell['updated_by']}")
    if cell["lock_reason"]:
        tip.append(cell["lock_reason"])
    row.update(
        {
            key: value,
            f"{key}_budget": budget,
            f"{key}_editable": bool(cell["editable"]),
            f"{key}_modified": adj.differs_from_budget(value, budget),
            f"{key}_unsaved": unsaved,
            f"{key}_band": band,
            f"{key}_tip": " · ".join(tip),
        }
    )


def rows(data: dict | None, kind: str, edits: dict | None) -> list[dict]:
    """Row data of the tab's grid from the ``load_adjustments`` payload and unsaved edits."""
    if not data:
        return []
    edits = edits or {}
    months = data["months"]
    cells = data[kind]
    has_actuals = any(cells[m]["actual"] is not None for m in months)
    result: list[dict] = []
    month_totals = {m: 0.0 for m in months}
    budget_totals = {m: 0.0 for m in months}
    actual_totals: dict[str, float | None] = {m: None for m in months}
    for field in FIELDS[kind]:
        forecast = {"row_id": field, "field": field, "label": field_label(kind, field)}
        forecast["kind"] = FORECAST
        budget = {"row_id": f"{field}|budget", "field": field, "label": "", "kind": BUDGET}
        actual = {"row_id": f"{field}|actual", "field": field, "label": "", "kind": ACTUAL}
        for month_text in months:
            cell = cells[month_text]
            key = column_key(month_text)
            year, month = parse_month_key(month_text)
            unsaved = edit_key(kind, year, month, field) in edits
            value = current_value(data, kind, edits, month_text, field)
            _forecast_cell(forecast, key, kind, cell, field, value, unsaved)
            budget[key] = float(cell["budget"][field])
            actual[key] = None if cell["actual"] is None else float(cell["actual"][field])
            month_totals[month_text] += value
            budget_totals[month_text] += budget[key]
            if actual[key] is not None:
                actual_totals[month_text] = (actual_totals[month_text] or 0.0) + actual[key]
        forecast[TOTAL_FIELD] = sum(forecast[column_key(m)] for m in months)
        budget[TOTAL_FIELD] = sum(budget[column_key(m)] for m in months)
        actual[TOTAL_FIELD] = _sum_known(actual.get(column_key(m)) for m in months)
        result += [forecast, budget] + ([actual] if has_actuals else [])
    total = {"row_id": "total", "field": "", "label": "Total", "kind": FORECAST, "is_total": True}
    total_budget = {"row_id": "total|budget", "field": "", "label": "", "kind": BUDGET}
    total_actual = {"row_id": "total|actual", "field": "", "label": "", "kind": ACTUAL}
    for month_text in months:
        key = column_key(month_text)
        total[key] = month_totals[month_text]
        total[f"{key}_editable"] = False
        total[f"{key}_tip"] = _variance_text(month_totals[month_text], budget_totals[month_text])
        total_budget[key] = budget_totals[month_text]
        total_actual[key] = actual_totals[month_text]
    total[TOTAL_FIELD] = sum(month_totals.values())
    total_budget[TOTAL_FIELD] = sum(budget_totals.values())
    total_actual[TOTAL_FIELD] = _sum_known(actual_totals.values())
    for row in (total_budget, total_actual):
        row["is_total"] = True
    result += [total, total_budget] + ([total_actual] if has_actuals else [])
    return result


def _sum_known(values) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def column_defs(kind: str, months: list[str]) -> list[dict]:
    """Columns: the row label, the row kind, one column per month ('Dec 2026'), Total."""
    columns = [
        {
            "field": "label",
            "headerName": "Other revenue" if kind == OTHER_REVENUE else "Expense · GL",
            "pinned": "left",
            "minWidth": 190 if kind == OTHER_EXPENSE else 160,
        },
        {"field": "kind", "headerName": "", "pinned": "left", "width": 84, "maxWidth": 90},
    ]
    for month_text in months:
        key = column_key(month_text)
        forecast_row = "params.data.kind === 'Forecast'"
        rules = {
            "cell-modified": f"{forecast_row} && !!params.data.{key}_modified",
            "cell-readonly": f"{forecast_row} ? !params.data.{key}_editable : true",
            "cell-unsaved": f"!!params.data.{key}_unsaved",
            "cell-negative": "params.value !== null && params.value !== undefined "
            "&& Number(params.value) < 0",
        }
        if kind == OTHER_REVENUE:
            for band in (adj.GREEN, adj.LIGHT_GREEN, adj.AMBER, adj.RED):
                css = band.replace("_", "-")
                rules[f"adj-band-{css}"] = f"params.data.{key}_band === '{band}'"
        columns.append(
            {
                "field": key,
                "headerName": month_header(month_text),
                "type": "rightAligned",
                "minWidth": 104,
                "editable": {
                    "function": f"{forecast_row} && !params.data.is_total "
                    f"&& !!params.data.{key}_editable"
                },
                "valueParser": {"function": "params.newValue"},
                "cellDataType": False,
                "valueFormatter": MONEY_FORMATTER,
                "tooltipField": f"{key}_tip",
                "cellClassRules": rules,
            }
        )
    columns.append(
        {
            "field": TOTAL_FIELD,
            "headerName": "Total",
            "type": "rightAligned",
            "minWidth": 116,
            "editable": False,
            "cellDataType": False,
            "valueFormatter": MONEY_FORMATTER,
            "cellClass": "cell-total",
            "cellClassRules": {
                "cell-negative": "params.value !== null && params.value !== undefined "
                "&& Number(params.value) < 0"
            },
        }
    )
    return columns


def dirty_text(kind: str, edits: dict | None) -> str:
    count = sum(1 for key in (edits or {}) if key.startswith(f"{kind}|"))
    return f"{count} unsaved change{'s' if count != 1 else ''}" if count else ""


def apply_change(
    data: dict, kind: str, edits: dict | None, field: str, month_text: str, raw
) -> tuple[dict | None, str | None]:
    """New edits with one cell set, or (None, message) when the value is refused.

    Checks what the browser can know (domain sign/range rules, the month's lock); the save
    service checks everything again. A value typed back to what the month shows when saved
    (forecast, else budget) is no longer an edit."""
    if field not in FIELDS[kind]:
        return None, f"{field} is not a {TAB_TITLES[kind]} row."
    cell = (data.get(kind) or {}).get(month_text)
    if cell is None:
        return None, f"{month_text} is not shown in this tab."
    label = f"{FIELD_LABELS[field]}, {month_header(month_text)}"
    value = parse_amount(raw)
    message = validation_message(kind, field, value)
    if message is None and not cell["editable"]:
        message = cell["lock_reason"] or "This month is read-only."
    if message:
        return None, f"{label}: {message}"
    year, month = parse_month_key(month_text)
    key = edit_key(kind, year, month, field)
    amount = round(value, 2) + 0.0
    updated = dict(edits or {})
    if not adj.differs_from_budget(amount, cell["values"][field]):
        updated.pop(key, None)
    else:
        updated[key] = {"value": amount, "version": int(cell["version"])}
    return updated, None


def panel(kind: str):
    """The tab's layout: sticky bar (Save, dirty count, messages), the rule, the grid."""
    p = prefix(kind)
    return html.Div(
        [
            html.Div(
                [
                    dmc.Group(
                        [
                            dmc.Button("Save", id=f"{p}-save", size="xs"),
                            dmc.Text(id=f"{p}-dirty", size="sm", c="orange"),
                        ],
                        gap="xs",
                        py="xs",
                    ),
                    html.Div(id=f"{p}-message", role="status", **{"aria-live": "polite"}),
                ],
                className="ws-sticky-bar",
            ),
            dmc.Text(RULES[kind], size="xs", c="dimmed", mb="xs", id=f"{p}-rule"),
            dag.AgGrid(
                id=f"{p}-grid",
                rowData=[],
                columnDefs=[],
                getRowId="params.data.row_id",
                defaultColDef={
                    "resizable": True,
                    "sortable": False,
                    "suppressMovable": True,
                    **FIT_WIDTH,
                },
                dashGridOptions={
                    "domLayout": "autoHeight",
                    "stopEditingWhenCellsLoseFocus": True,
                    "tooltipShowDelay": 300,
                    "rowClassRules": {
                        "row-actual": "params.data.kind !== 'Forecast'",
                        "row-total": "!!params.data.is_total",
                    },
                },
                className="ag-theme-quartz stats-grid adj-grid",
                style={"width": "100%"},
            ),
        ]
    )
