"""Payroll grid: job groups (Group mode) or job codes (Code mode) as rows, the days of one
Sunday–Saturday week as columns plus the week total (DOMAIN.md §5.4).

A flavour switch shows forecast (editable), budget, scheduled or actual; a unit switch shows
hours or dollars. Values come from ``dashboard.services.payroll`` (which applies the domain
rules); this module only arranges them for AG Grid.
"""

from __future__ import annotations

import datetime as dt

from dashboard.domain import payroll as pr
from dashboard.services import payroll as service

FLAVOUR_LABELS = {
    "forecast": "Forecast",
    "budget": "Budget",
    "scheduled": "Scheduled",
    "actual": "Actual",
}
UNIT_LABELS = {"hours": "Hours", "dollars": "Dollars"}
_CELL_KEYS = {  # flavour → (hours key, cost key) in the payload's cells
    "budget": ("b", "bc"),
    "scheduled": ("s", "sc"),
    "actual": ("a", "ac"),
}


def weeks(payload: dict) -> list[list[str]]:
    """The month's Sunday–Saturday weeks (clipped to the month) as ISO days."""
    return [
        [d.isoformat() for d in week] for week in pr.month_weeks(payload["year"], payload["month"])
    ]


def week_label(week: list[str]) -> str:
    return pr.week_label([dt.date.fromisoformat(d) for d in week])


def row_specs(payload: dict, mode: str) -> list[dict]:
    """The grid's rows: id ("g<id>"/"c<id>"), label, member code ids, whether it is edited."""
    codes = {c["id"]: c for c in payload["codes"]}
    specs = []
    if mode == pr.GROUP_MODE:
        salaried = []
        for group in payload["groups"]:
            hourly = [i for i in group["code_ids"] if not codes[i]["salaried"]]
            salaried += [i for i in group["code_ids"] if codes[i]["salaried"]]
            if hourly:
                names = ", ".join(codes[i]["code"] for i in hourly)
                specs.append(
                    {
                        "id": f"g{group['id']}",
                        "label": f"{group['title']} ({names})",
                        "codes": hourly,
                        "editable": True,
                    }
                )
        for code_id in payload["unassigned"]:
            code = codes[code_id]
            specs.append(
                {
                    "id": f"c{code_id}",
                    "label": f"{code['code']} · not in a group",
                    "codes": [code_id],
                    "editable": False,
                }
            )
        if salaried:
            specs.append(
                {
                    "id": "salaried",
                    "label": "Salaried (derived)",
                    "codes": salaried,
                    "editable": False,
                }
            )
    else:
        for code in payload["codes"]:
            billing = (
                f" · bills ${code['bill_rate']:,.2f}/h, OT ${code['overtime_rate']:,.2f}/h"
                if payload["plh"] and code["bill_rate"] and not code["salaried"]
                else ""
            )
            specs.append(
                {
                    "id": f"c{code['id']}",
                    "label": f"{code['code']} · {code['title']}"
                    + (" (salaried)" if code["salaried"] else "")
                    + billing,
                    "codes": [code["id"]],
                    "editable": not code["salaried"],
                }
            )
    return specs


def computed(payload: dict, edits: dict) -> dict:
    """Forecast hours, cost, revenue and overtime per "day|code id" with the edits applied."""
    hours = service.code_hours_with_edits(payload, edits)
    cost = service.code_cost(payload, payload["mode"], hours)
    revenue, overtime = service.plh_revenue_and_overtime(payload, hours)
    return {"hours": hours, "cost": cost, "revenue": revenue, "overtime": overtime}


def _value(payload, values, flavour, unit, key):
    cell = payload["cells"][key]
    if flavour == "forecast":
        return values["cost"][key] if unit == "dollars" else values["hours"][key]
    hours_key, cost_key = _CELL_KEYS[flavour]
    return cell.get(cost_key if unit == "dollars" else hours_key)


def rows(
    payload: dict, edits: dict, week: list[str], flavour: str, unit: str, values: dict
) -> list[dict]:
    """Grid rows for one week. Each day column ``d<i>`` carries its value, whether it can be
    edited and whether the forecast is more than 10% away from budget (⚠)."""
    result = []
    for spec in row_specs(payload, payload["mode"]):
        row = {"row_id": spec["id"], "label": spec["label"]}
        week_value, week_budget, week_forecast, any_value = 0.0, 0.0, 0.0, False
        for i, day in enumerate(week):
            keys = [f"{day}|{c}" for c in spec["codes"]]
            parts = [_value(payload, values, flavour, unit, k) for k in keys]
            known = [p for p in parts if p is not None]
            value = round(sum(known), 2) if known else None
            budget = sum(_value(payload, values, "budget", unit, k) or 0.0 for k in keys)
            forecast = sum(_value(payload, values, "forecast", unit, k) or 0.0 for k in keys)
            row[f"d{i}"] = value
            row[f"d{i}_editable"] = bool(
                flavour == "forecast" and spec["editable"] and payload["editable"][day]
            )
            row[f"d{i}_flag"] = flavour == "forecast" and pr.payroll_variance_flag(forecast, budget)
            row[f"d{i}_edited"] = f"{day}|{spec['id']}" in edits
            if value is not None:
                week_value += value
                any_value = True
            week_budget += budget
            week_forecast += forecast
        row["week"] = round(week_value, 2) if any_value else None
        row["week_flag"] = flavour == "forecast" and pr.payroll_variance_flag(
            week_forecast, week_budget
        )
        result.append(row)
    return result


def total_rows(payload: dict, week: list[str], values: dict, flavour: str) -> list[dict]:
    """Pinned rows under the grid: the week's hours, cost and (PLH) billable revenue."""
    lines = [("Total hours", "hours"), ("Total cost", "cost")]
    if payload["plh"]:
        lines.append(("Billable revenue", "revenue"))
    result = []
    for label, measure in lines:
        row = {"row_id": f"total-{measure}", "label": label, "measure": measure}
        week_total = 0.0
        for i, day in enumerate(week):
            keys = [k for k in payload["cells"] if k.startswith(day + "|")]
            if flavour == "forecast" or measure == "revenue":
                total = sum(values[measure][k] for k in keys)
            else:
                hours_key, cost_key = _CELL_KEYS[flavour]
                wanted = hours_key if measure == "hours" else cost_key
                total = sum(payload["cells"][k].get(wanted) or 0.0 for k in keys)
            row[f"d{i}"] = round(total, 2)
            row[f"d{i}_editable"] = False
            week_total += total
        row["week"] = round(week_total, 2)
        result.append(row)
    return result


def column_defs(week: list[str], unit: str) -> list[dict]:
    value_format = (
        "formatMoney(params.value)"
        if unit == "dollars"
        else "formatCount(params.value === null || params.value === undefined ? params.value "
        ": Math.round(params.value * 100) / 100)"
    )
    money_rows = "params.data.measure === 'cost' || params.data.measure === 'revenue'"
    formatter = {
        "function": f"({money_rows}) ? formatMoney(params.value) : "
        f"(params.data.measure === 'hours' ? formatCount(params.value) : {value_format})"
    }
    columns = [
        {"field": "label", "headerName": "Job group / code", "pinned": "left", "minWidth": 220}
    ]
    for i, day in enumerate(week):
        date = dt.date.fromisoformat(day)
        columns.append(
            {
                "field": f"d{i}",
                "headerName": f"{date.strftime('%a')} {date.month}/{date.day}",
                "type": "rightAligned",
                "minWidth": 84,
                "editable": {"function": f"params.data.d{i}_editable === true"},
                "valueParser": {"function": "params.newValue"},
                "cellDataType": False,
                "valueFormatter": formatter,
                "cellClassRules": {
                    "cell-readonly": f"params.data.d{i}_editable !== true",
                    "cell-flag": f"params.data.d{i}_flag === true",
                    "cell-modified": f"params.data.d{i}_edited === true",
                },
                "tooltipValueGetter": {
                    "function": f"params.data.d{i}_flag ? 'More than 10% away from budget' : null"
                },
            }
        )
    columns.append(
        {
            "field": "week",
            "headerName": "Week",
            "type": "rightAligned",
            "minWidth": 90,
            "valueFormatter": formatter,
            "cellClassRules": {"cell-total": "true", "cell-flag": "params.data.week_flag === true"},
        }
    )
    return columns


def kpis(payload: dict, values: dict, days: list[str]) -> dict:
    """Hours, cost, revenue, overtime %, vehicles per labor hour for the given days."""
    keys = [k for k in payload["cells"] if k.split("|")[0] in set(days)]
    hours = sum(values["hours"][k] for k in keys)
    cost = sum(values["cost"][k] for k in keys)
    overtime = sum(values["overtime"][k] for k in keys)
    vehicles = sum(payload["vehicles"].get(d, 0.0) for d in days)
    return {
        "hours": hours,
        "cost": cost,
        "revenue": sum(values["revenue"][k] for k in keys),
        "budget_hours": sum(payload["cells"][k]["b"] for k in keys),
        "budget_cost": sum(payload["cells"][k]["bc"] for k in keys),
        "overtime_pct": pr.overtime_pct(overtime, hours),
        "vehicles_per_labor_hour": pr.vehicles_per_labor_hour(vehicles, hours),
    }
