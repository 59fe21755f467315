"""Rates grid: the 8 rate categories as rows, the 12 months of a year as columns
(DOMAIN.md §4). Each category has its forecast row (editable months) and an actual row."""

from __future__ import annotations

import calendar

from dashboard.data.models import RATE_CATEGORIES

CATEGORY_LABELS = {
    "valet_overnight": "Valet overnight",
    "self_overnight": "Self overnight",
    "valet_daily": "Valet daily",
    "self_daily": "Self daily",
    "valet_monthly": "Valet monthly",
    "self_monthly": "Self monthly",
    "valet_aggregator": "Valet aggregator",
    "self_aggregator": "Self aggregator",
}
GUARDRAIL = 0.10  # a rate further than ±10% from budget asks for confirmation


def month_key(month: int) -> str:
    return f"m{month:02d}"


def column_defs() -> list[dict]:
    columns = [
        {"field": "label", "headerName": "Rate", "pinned": "left", "minWidth": 150},
        {"field": "kind", "headerName": "", "pinned": "left", "width": 80, "maxWidth": 90},
    ]
    for month in range(1, 13):
        key = month_key(month)
        columns.append(
            {
                "field": key,
                "headerName": calendar.month_abbr[month],
                "type": "rightAligned",
                "minWidth": 76,
                "editable": {
                    "function": f"params.data.kind === 'Forecast' && params.data.{key}_editable"
                },
                "valueParser": {"function": "params.newValue"},
                "cellDataType": False,
                "valueFormatter": {"function": "formatRate(params.value)"},
                "cellClassRules": {
                    "cell-modified": f"params.data.kind === 'Forecast' && params.value !== null && "
                    f"Math.abs(params.value - params.data.{key}_budget) > 0.004",
                    "cell-readonly": f"params.data.kind !== 'Forecast' || !params.data.{key}_editable",
                },
            }
        )
    return columns


def edit_key(year: int, month: int, category: str) -> str:
    """Key of an unsaved rate edit: "YYYY-MM|category"."""
    return f"{year}-{month:02d}|{category}"


def new_edit(rates: dict, month: int, category: str, value: float) -> dict:
    """An unsaved rate edit remembering the version of the forecast it replaces.

    The version is taken from the year shown when the user typed, so a save made later from
    another year still detects that someone saved the same rate in between.
    """
    cell = rates["cells"].get(f"{month:02d}|{category}", {})
    return {"value": round(value, 2), "version": int(cell.get("version", 0))}


def current_rate(rates: dict, edits: dict, month: int, category: str) -> float:
    """Unsaved edit, else saved forecast, else budget (0 when none)."""
    key = edit_key(rates["year"], month, category)
    if key in edits:
        return edits[key]["value"]
    cell = rates["cells"].get(f"{month:02d}|{category}", {})
    return cell.get("forecast", cell.get("budget", 0.0))


def rows(rates: dict, edits: dict) -> list[dict]:
    result = []
    for category in RATE_CATEGORIES:
        forecast = {
            "row_id": category,
            "category": category,
            "label": CATEGORY_LABELS[category],
            "kind": "Forecast",
        }
        actual = {
            "row_id": f"{category}|actual",
            "category": category,
            "label": "",
            "kind": "Actual",
        }
        for month in range(1, 13):
            key = month_key(month)
            cell = rates["cells"].get(f"{month:02d}|{category}", {})
            forecast[key] = current_rate(rates, edits, month, category)
            forecast[f"{key}_budget"] = cell.get("budget", 0.0)
            forecast[f"{key}_editable"] = rates["editable"][f"{month:02d}"]
            actual[key] = cell.get("actual")
            actual[f"{key}_editable"] = False
        result += [forecast, actual]
    return result


def needs_confirmation(value: float, budget: float) -> bool:
    """True when ``value`` is more than ±10% away from a non-zero budget."""
    return bool(budget) and abs(value - budget) / budget > GUARDRAIL
