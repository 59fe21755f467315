"""Payroll tab callbacks: load the starting month, page weeks, edit hours or dollars, copy the
schedule, switch Group/Code mode. Saving goes through the workspace's one save callback.

Unsaved edits live in ``ws-payroll-edits``: "YYYY-MM-DD|g<group id>" or "YYYY-MM-DD|c<code
id>" → hours; every value is checked here as typed and again by the save service.
"""

from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components import payroll_grid as grid
from dashboard.components.formatting import money, percent
from dashboard.context import current_principal, get_db, today
from dashboard.domain import payroll as pr
from dashboard.domain.statistics import parse_number
from dashboard.services import jobs, payroll
from dashboard.services.scope import ScopeError


def _alert(message, color="red", alert_id="payroll-alert", title=None):
    return dmc.Alert(message, color=color, id=alert_id, title=title, withCloseButton=True)


def load_payroll(site_id: int, start: str) -> dict:
    principal = current_principal()
    if principal is None:
        raise PreventUpdate
    year, month = int(start[:4]), int(start[5:7])
    with get_db().read() as session:
        return payroll.load_month(session, principal, site_id, year, month, today())


def apply_payroll_cell(edits: dict, data: dict, row_id: str, day: str, raw, unit: str):
    """New edits with one cell set, or (None, message) when the value is refused."""
    if day not in data["editable"]:
        return None, "That day is not in this month."
    if not data.get("may_edit"):
        return None, data.get("lock_reason") or "You can view this site but not change it."
    level = "group" if row_id.startswith("g") else "code"
    try:
        target = int(row_id[1:])
    except ValueError:
        return None, "This row is derived and cannot be edited."
    codes = {c["id"]: c for c in data["codes"]}
    salaried = level == "code" and codes.get(target, {}).get("salaried", False)
    reason = pr.payroll_edit_block_reason(
        dt.date.fromisoformat(day), today(), data["mode"], level, salaried
    )
    if reason:
        return None, reason
    value = parse_number(raw)
    if unit == "dollars":
        rate = payroll.row_rate(data, level, target)
        problem = pr.validate_dollars(value, rate)
        if problem:
            return None, problem
        value = pr.hours_from_dollars(value, rate)
    problem = pr.validate_hours(value)
    if problem:
        return None, problem
    return {**edits, f"{day}|{row_id}": round(value, 2)}, None


def register(app: Dash) -> None:
    @app.callback(
        Output("ws-payroll", "data"),
        Output("ws-payroll-edits", "data"),
        Output("ws-payroll-week", "data"),
        Output("payroll-message", "children"),
        Output("payroll-mode", "value"),
        Input("ws-selection", "data"),
    )
    def load(selection):
        if not selection:
            raise PreventUpdate
        try:
            data = load_payroll(int(selection["site"]), selection["start"])
        except (ScopeError, ValueError, KeyError, TypeError):
            return None, {}, 0, _alert("This site is not in your scope."), no_update
        week = pr.initial_week_index(data["year"], data["month"], today())
        # Decided on the server with the save's rules: the month's cells are read-only and
        # the tab says why.
        notice = (
            _alert(f"Read-only: {data['lock_reason']}", "gray", alert_id="payroll-readonly")
            if data.get("lock_reason")
            else None
        )
        return data, {}, week, notice, data["mode"]

    @app.callback(
        Output("payroll-assign", "style"),
        Output("payroll-assign-code", "data"),
        Output("payroll-assign-group", "data"),
        Input("ws-payroll", "data"),
    )
    def assign_form(data):
        return _assign_form(data)

    @app.callback(
        Output("ws-payroll", "data", allow_duplicate=True),
        Output("payroll-message", "children", allow_duplicate=True),
        Input("payroll-assign-submit", "n_clicks"),
        State("payroll-assign-code", "value"),
        State("payroll-assign-group", "value"),
        State("ws-payroll", "data"),
        prevent_initial_call=True,
    )
    def assign_code(_clicks, code_id, group_id, data):
        principal = current_principal()
        if principal is None or not data:
            raise PreventUpdate
        if not code_id or not group_id:
            return no_update, _alert("Choose a job code and a job group.", "yellow")
        try:
            with get_db().write() as session:
                message = jobs.assign_code_to_group(session, principal, int(code_id), int(group_id))
        except (ScopeError, jobs.JobRuleError) as refused:
            return no_update, _alert(str(refused), alert_id="payroll-assign-refused")
        fresh = load_payroll(data["site_id"], f"{data['year']}-{data['month']:02d}")
        return fresh, _alert(message, "green", alert_id="payroll-assigned")

    @app.callback(
        Output("ws-payroll-week", "data", allow_duplicate=True),
        Input("payroll-prev", "n_clicks"),
        Input("payroll-next", "n_clicks"),
        State("ws-payroll-week", "data"),
        State("ws-payroll", "data"),
        prevent_initial_call=True,
    )
    def turn_week(_prev, _next, week, data):
        if not data:
            raise PreventUpdate
        step = -1 if ctx.triggered_id == "payroll-prev" else 1
        return min(max((week or 0) + step, 0), len(grid.weeks(data)) - 1)

    @app.callback(
        Output("payroll-grid", "rowData"),
        Output("payroll-grid", "columnDefs"),
        Output("payroll-grid", "pinnedBottomRowData"),
        Output("payroll-week-label", "children"),
        Output("payroll-prev", "disabled"),
        Output("payroll-next", "disabled"),
        Output("payroll-kpis", "children"),
        Output("payroll-dirty", "children"),
        Output("payroll-explain", "children"),
        Input("ws-payroll", "data"),
        Input("ws-payroll-edits", "data"),
        Input("ws-payroll-week", "data"),
        Input("payroll-flavour", "value"),
        Input("payroll-unit", "value"),
    )
    def render(data, edits, week_index, flavour, unit):
        if not data:
            return [], [], [], "", True, True, None, "", None
        edits = edits or {}
        pages = grid.weeks(data)
        week_index = min(week_index or 0, len(pages) - 1)
        week = pages[week_index]
        values = grid.computed(data, edits)
        changes = len(edits) + (1 if data.get("mode_changed") else 0)
        return (
            grid.rows(data, edits, week, flavour, unit, values),
            grid.column_defs(week, unit),
            grid.total_rows(data, week, values, flavour),
            f"◀ {grid.week_label(week)} ▶  ·  week {week_index + 1} of {len(pages)}",
            week_index == 0,
            week_index >= len(pages) - 1,
            _kpi_strip(data, values, week),
            f"{changes} unsaved payroll change{'s' if changes != 1 else ''}" if changes else "",
            _explanation(data),
        )

    @app.callback(
        Output("ws-payroll-edits", "data", allow_duplicate=True),
        Output("payroll-message", "children", allow_duplicate=True),
        Input("payroll-grid", "cellValueChanged"),
        State("ws-payroll-edits", "data"),
        State("ws-payroll", "data"),
        State("ws-payroll-week", "data"),
        State("payroll-unit", "value"),
        prevent_initial_call=True,
    )
    def cell_changed(changes, edits, data, week_index, unit):
        if not changes or not data or current_principal() is None:
            raise PreventUpdate
        week = grid.weeks(data)[week_index or 0]
        updated, problems = dict(edits or {}), []
        for change in changes:
            column = change["colId"]
            if not column.startswith("d") or not column[1:].isdigit():
                continue
            index = int(column[1:])
            if index >= len(week):
                continue
            result, problem = apply_payroll_cell(
                updated, data, change["rowId"], week[index], change.get("value"), unit
            )
            if problem:
                problems.append(f"{grid.week_label([week[index]])} · {problem}")
            else:
                updated = result
        message = (
            _alert(html.Ul([html.Li(p) for p in problems]), alert_id="payroll-refused")
            if problems
            else None
        )
        # Re-sending the edits re-renders the grid: a refused value reverts.
        return updated, message

    @app.callback(
        Output("ws-payroll-edits", "data", allow_duplicate=True),
        Output("payroll-message", "children", allow_duplicate=True),
        Input("payroll-copy-schedule", "n_clicks"),
        State("ws-payroll-edits", "data"),
        State("ws-payroll", "data"),
        prevent_initial_call=True,
    )
    def copy_schedule(_clicks, edits, data):
        if not data or current_principal() is None:
            raise PreventUpdate
        updated, days = dict(edits or {}), set()
        for spec in grid.row_specs(data, data["mode"]):
            if not spec["editable"]:
                continue
            for day in data["days"]:
                scheduled = [data["cells"][f"{day}|{c}"].get("s") for c in spec["codes"]]
                if not data["editable"][day] or all(s is None for s in scheduled):
                    continue
                hours = round(sum(s or 0.0 for s in scheduled), 2)
                result, problem = apply_payroll_cell(updated, data, spec["id"], day, hours, "hours")
                if problem is None:
                    updated = result
                    days.add(day)
        if not days:
            return no_update, _alert(
                "No schedule for the editable days of this month.", "yellow", "payroll-copied"
            )
        return updated, _alert(
            f"Copied the schedule of {len(days)} day(s) into the forecast; not saved yet.",
            "blue",
            "payroll-copied",
        )

    @app.callback(
        Output("ws-payroll", "data", allow_duplicate=True),
        Output("payroll-message", "children", allow_duplicate=True),
        Output("payroll-mode", "value", allow_duplicate=True),
        Input("payroll-mode", "value"),
        State("ws-payroll", "data"),
        State("ws-payroll-edits", "data"),
        prevent_initial_call=True,
    )
    def switch_mode(mode, data, edits):
        if not data or mode == data["mode"] or mode not in payroll.MODES:
            raise PreventUpdate
        if edits:
            # Edits are made at one level: keep them consistent and put the switch back.
            return (
                no_update,
                _alert(
                    "Save the payroll edits (or discard them by reloading) before switching "
                    "between groups and codes.",
                    "yellow",
                    "payroll-mode-refused",
                ),
                data["mode"],
            )
        changed = mode != data.get("saved_mode", data["mode"])
        return (
            {
                **data,
                "saved_mode": data.get("saved_mode", data["mode"]),
                "mode": mode,
                "mode_changed": changed,
            },
            None,
            no_update,
        )


def _assign_form(data: dict | None):
    """Administrators get a form to put the site's unassigned codes into active groups."""
    principal = current_principal()
    if not data or principal is None or principal.role != "admin" or not data["unassigned"]:
        return {"display": "none"}, [], []
    codes = [
        {"value": str(c["id"]), "label": f"{c['code']} · {c['title']}"}
        for c in data["codes"]
        if c["id"] in data["unassigned"]
    ]
    with get_db().read() as session:
        groups = [{"value": str(g["id"]), "label": g["title"]} for g in jobs.active_groups(session)]
    return {"display": "block"}, codes, groups


def _explanation(data: dict):
    if data["codes"] and (data["groups"] or data["mode"] == pr.CODE_MODE):
        if data["mode"] == pr.GROUP_MODE and data["unassigned"]:
            return dmc.Alert(
                f"{len(data['unassigned'])} job code(s) of this site are not in a job group and "
                "stay at budget in Group mode. Switch to Code mode to forecast them, or ask an "
                "administrator to assign them to a group (administrators can do it below).",
                color="yellow",
                id="payroll-unassigned",
            )
        return None
    return dmc.Alert(
        "No job codes of this site are assigned to job groups, so Group mode has nothing to "
        "edit. Switch to Code mode to forecast each job code, or ask an administrator to "
        "assign the codes to groups (administrators can do it below).",
        color="yellow",
        id="payroll-unassigned",
    )


def _kpi_strip(data: dict, values: dict, week: list[str]):
    def card(title, figures):
        lines = [dmc.Text(title, fw=700, size="sm")]
        lines.append(
            dmc.Text(
                f"Hours {figures['hours']:,.1f} vs budget {figures['budget_hours']:,.1f}",
                size="sm",
            )
        )
        lines.append(
            dmc.Text(
                f"Cost {money(figures['cost'])} vs budget {money(figures['budget_cost'])}",
                size="sm",
            )
        )
        if data["plh"]:
            lines.append(dmc.Text(f"Billable revenue {money(figures['revenue'])}", size="sm"))
        lines.append(
            dmc.Text(
                f"Overtime {percent(figures['overtime_pct'])} · vehicles per labor hour "
                + (
                    f"{figures['vehicles_per_labor_hour']:,.2f}"
                    if figures["vehicles_per_labor_hour"] is not None
                    else "n/a"
                ),
                size="sm",
            )
        )
        if "payroll_pct" in figures:
            lines.append(
                dmc.Text(
                    f"Payroll {percent(figures['payroll_pct'])} of budget internal revenue",
                    size="sm",
                )
            )
        return dmc.Paper(lines, withBorder=True, p="xs", radius="sm")

    week_figures = grid.kpis(data, values, week)
    month_figures = grid.kpis(data, values, data["days"])
    month_figures["payroll_pct"] = pr.payroll_pct_of_internal_revenue(
        month_figures["cost"], data["budget_internal_revenue"]
    )
    month_name = dt.date(data["year"], data["month"], 1).strftime("%B %Y")
    return dmc.SimpleGrid(
        [card(f"Week {grid.week_label(week)}", week_figures), card(month_name, month_figures)],
        cols={"base": 1, "sm": 2},
        spacing="xs",
    )
