"""Workspace callbacks: load a site's window, keep unsaved edits, page, paste, save.

Unsaved edits live in the browser (``ws-edits``: "YYYY-MM-DD|field" -> value in storage
units) until Save; every value is validated by the domain rules when entered and again by
the save service, which also checks scope, locks and versions.
"""

from __future__ import annotations

import calendar
import copy as _copy
import datetime as dt
import secrets

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard.callbacks import payroll as payroll_callbacks
from dashboard.callbacks import statistics_edits
from dashboard.callbacks.home import parse_month
from dashboard.callbacks.statistics_edits import apply_cell
from dashboard.components import rates_grid
from dashboard.components import statistics_grid as grid
from dashboard.components.formatting import money, percent
from dashboard.context import current_principal, get_db, today
from dashboard.domain import statistics as st
from dashboard.services import (
    adjustments,
    home,
    payroll,
    statistics,
    submissions,
    workspace_save,
)
from dashboard.services import rates as rates_service
from dashboard.services.scope import ScopeError, can_edit_site, can_view_site

EDITING_ROLES = ("account_manager", "district_manager", "regional_vp")
HISTORY_LIMIT = 50


def _alert(message, color="red", title=None, alert_id="ws-alert"):
    return dmc.Alert(message, color=color, title=title, id=alert_id, withCloseButton=True)


def _site_payload(site_id: int, start: str):
    principal = current_principal()
    if principal is None:
        raise PreventUpdate
    with get_db().read() as session:
        window = statistics.load_window(session, principal, site_id, parse_month(start), today())
    return statistics.window_payload(window)


# The statistics window (~150 KB at a large hotel) stays on the server: the browser's
# "ws-window" store holds a handle — site, start, the cache token and each day's version as
# loaded (what a save is checked against) — and callbacks that need the rows read them from
# the shared cache, or from the database when the cache has lost them.
WINDOW_SECONDS = 2 * 3600


def _window_key(principal, token) -> str:
    return f"ws-window:{principal.user_id}:{token}"


def _handle(payload: dict, start: str) -> dict:
    principal = current_principal()
    token = secrets.token_urlsafe(12)
    _cache().set(_window_key(principal, token), payload, timeout=WINDOW_SECONDS)
    return {
        "site_id": payload["site_id"],
        "start": start,
        "token": token,
        "months": payload["months"],
        "days": [{"day": d["day"], "version": d["version"]} for d in payload["days"]],
    }


def _window(handle) -> dict | None:
    """The full window of a handle (None when there is none or it cannot be read)."""
    principal = current_principal()
    if principal is None or not isinstance(handle, dict):
        return None
    token = handle.get("token")
    payload = _cache().get(_window_key(principal, token)) if isinstance(token, str) else None
    if payload is not None and payload.get("site_id") == handle.get("site_id"):
        # Scope is checked on every read, not only when the window was loaded: an
        # assignment can end while the window sits in the cache.
        with get_db().read() as session:
            if not can_view_site(session, principal, int(payload["site_id"]), today()):
                return None
        return payload
    try:
        payload = _site_payload(int(handle["site_id"]), str(handle["start"]))
    except (ScopeError, KeyError, TypeError, ValueError):
        return None
    if isinstance(token, str):
        _cache().set(_window_key(principal, token), payload, timeout=WINDOW_SECONDS)
    return payload


def _cache():
    return current_app.extensions["dashboard.cache"]


def _bucket_ends(payload: dict, view: str | None) -> dict[str, str]:
    """First day -> last day of each week (of every month of the window) or month, for the
    Weekly and Monthly views; empty for the Daily view."""
    if view not in ("weekly", "monthly"):
        return {}
    ends = {}
    for year, month in payload["months"]:
        if view == "monthly":
            last = calendar.monthrange(year, month)[1]
            ends[f"{year}-{month:02d}-01"] = f"{year}-{month:02d}-{last:02d}"
        else:
            for first, last, _label in st.week_buckets(year, month):
                ends[first.isoformat()] = last.isoformat()
    return ends


def _push_history(history: dict, edits: dict) -> dict:
    return {"undo": (history.get("undo", []) + [edits])[-HISTORY_LIMIT:], "redo": []}


def register(app: Dash) -> None:
    @app.callback(
        Output("ws-site", "data"),
        Output("ws-site", "value"),
        Output("ws-message", "children", allow_duplicate=True),
        Input("ws-requested-site", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def site_options(requested):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        with get_db().read() as session:
            sites = home.visible_site_list(session, principal, today())
        options = [
            {"value": str(r["site_id"]), "label": f"{r['site_number']} · {r['name']}"}
            for r in sites
        ]
        values = {o["value"] for o in options}
        chosen = requested if requested in values else (options[0]["value"] if options else None)
        message = None if options else _alert("No site is assigned to you.", "yellow")
        return options, chosen, message

    @app.callback(
        Output("ws-selection", "data"),
        Output("ws-switch-confirm", "opened"),
        Output("ws-switch-text", "children"),
        Input("ws-site", "value"),
        Input("ws-start", "value"),
        State("ws-selection", "data"),
        State("ws-edits", "data"),
        State("ws-rate-edits", "data"),
        State("ws-payroll-edits", "data"),
        State("ws-adjustment-edits", "data"),
    )
    def choose(site_value, start, selection, edits, rate_edits, payroll_edits, adjustment_edits):
        """Load the picked site/month at once, or ask first when unsaved edits would be lost."""
        if not site_value or not start:
            raise PreventUpdate
        wanted = {"site": site_value, "start": start}
        if wanted == selection:
            raise PreventUpdate
        site_changes = bool(selection) and selection["site"] != site_value
        lost = (
            len(edits or {})
            + len(payroll_edits or {})
            # Rate and other revenue/expense edits are per month: a new starting month keeps them.
            + (len(rate_edits or {}) + len(adjustment_edits or {}) if site_changes else 0)
        )
        if selection and lost:
            what = "site" if site_changes else "starting month"
            return (
                no_update,
                True,
                f"You have {lost} unsaved change{'s' if lost != 1 else ''}. Switching the "
                f"{what} discards them. Save first, or discard them and switch.",
            )
        return wanted, False, no_update

    @app.callback(Output("ws-pnl-link", "href"), Input("ws-selection", "data"))
    def pnl_link(selection):
        """The site's P&L of the workspace's year (its month travels along)."""
        if not selection or not selection.get("site"):
            raise PreventUpdate
        return f"/pnl?month={selection['start']}&site={selection['site']}"

    @app.callback(
        Output("rates-year", "value"),
        Input("ws-selection", "data"),
        State("rates-year", "value"),
        State("rates-year", "data"),
    )
    def rates_year(selection, shown, years):
        """The Rates tab follows the workspace's year when its month moves to another year."""
        year = str((selection or {}).get("start") or "")[:4]
        if year == shown or year not in (years or []):
            raise PreventUpdate
        return year

    @app.callback(
        Output("ws-selection", "data", allow_duplicate=True),
        Output("ws-site", "value", allow_duplicate=True),
        Output("ws-start", "value"),
        Output("ws-switch-confirm", "opened", allow_duplicate=True),
        Input("ws-switch-discard", "n_clicks"),
        Input("ws-switch-stay", "n_clicks"),
        State("ws-site", "value"),
        State("ws-start", "value"),
        State("ws-selection", "data"),
        prevent_initial_call=True,
    )
    def confirm_switch(_discard, _stay, site_value, start, selection):
        if ctx.triggered_id == "ws-switch-discard":
            return {"site": site_value, "start": start}, no_update, no_update, False
        if not selection:
            raise PreventUpdate
        # Stay: put the pickers back on what is loaded; the edits are untouched.
        return no_update, selection["site"], selection["start"], False

    @app.callback(
        Output("ws-window", "data"),
        Output("ws-edits", "data"),
        Output("ws-history", "data"),
        Output("ws-page", "data"),
        Output("ws-message", "children"),
        Output("ws-rate-edits", "data"),
        Input("ws-selection", "data"),
        State("ws-window", "data"),
    )
    def load(selection, previous):
        empty = {"undo": [], "redo": []}
        if not selection:
            raise PreventUpdate
        try:
            payload = _site_payload(int(selection["site"]), selection["start"])
        except (ScopeError, ValueError, KeyError, TypeError):
            return None, {}, empty, 0, _alert("This site is not in your scope."), {}
        # Rate edits belong to a site: a new site starts clean (a new month keeps them).
        keep_rates = isinstance(previous, dict) and previous.get("site_id") == payload["site_id"]
        handle = _handle(payload, selection["start"])
        return handle, {}, empty, 0, None, no_update if keep_rates else {}

    # Turning a page is arithmetic on the page number: done in the browser, so a flip costs
    # one request (the grid's rows), not two.
    app.clientside_callback(
        f"""function (_prev, _next, page) {{
            const back = window.dash_clientside.callback_context.triggered_id === "stats-prev";
            const next = (page || 0) + (back ? -1 : 1);
            return Math.min(Math.max(next, 0), {statistics.WINDOW_MONTHS - 1});
        }}""",
        Output("ws-page", "data", allow_duplicate=True),
        Input("stats-prev", "n_clicks"),
        Input("stats-next", "n_clicks"),
        State("ws-page", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("stats-grid", "rowData"),
        Output("stats-grid", "columnDefs"),
        Output("stats-page-label", "children"),
        Output("stats-showing", "children"),
        Output("stats-prev", "disabled"),
        Output("stats-next", "disabled"),
        Output("stats-summary", "children"),
        Output("stats-view-banner", "children"),
        Output("ws-dirty", "children"),
        Input("ws-window", "data"),
        Input("ws-edits", "data"),
        Input("ws-page", "data"),
        Input("ws-view", "value"),
        Input("ws-room-input", "value"),
        Input("ws-compare", "value"),
        Input("ws-rate-edits", "data"),
    )
    def render(handle, edits, page, view, room_input, compare, rate_edits):
        payload = _window(handle)
        if not payload:
            return [], [], "", "", True, True, None, None, ""
        edits = edits or {}
        payload = _with_rate_edits(payload, rate_edits or {})
        page = page or 0
        months = payload["months"]
        daily = view == "daily"
        compare = compare if compare in grid.COMPARISONS else "forecast"
        if compare != "forecast":
            view, daily = "daily", True
            rows = grid.comparison_rows(payload, page, compare)
        elif view == "monthly":
            rows = grid.bucket_rows(payload, edits, None, room_input, "monthly")
        elif view == "weekly":
            rows = grid.bucket_rows(payload, edits, page, room_input, "weekly")
        else:
            rows = grid.page_rows(payload, edits, page, room_input)
        total_days = len(payload["days"])
        offset = sum(
            1
            for d in payload["days"]
            if (int(d["day"][:4]), int(d["day"][5:7])) < tuple(months[page])
        )
        month_days = sum(
            1
            for d in payload["days"]
            if (int(d["day"][:4]), int(d["day"][5:7])) == tuple(months[page])
        )
        showing = (
            f"Showing {offset + 1}–{offset + month_days} of {total_days} days"
            if view != "monthly"
            else f"Showing all {total_days} days by month"
        )
        banner = (
            None
            if daily
            else dmc.Alert(
                f"{'Weekly' if view == 'weekly' else 'Monthly'} entry: a total typed here is "
                "spread over the open days by the proposal's day profile (weekday pattern, "
                "holidays); occupancy and the ratios apply to every open day. Past days keep "
                "their actuals.",
                color="blue",
                id="stats-bucket-banner",
            )
        )
        if compare != "forecast":
            banner = dmc.Alert(
                f"Showing {grid.COMPARISONS[compare]} — read-only. Choose Forecast to edit.",
                color="gray",
                id="stats-readonly-banner",
            )
        else:
            # Decided on the server with the save's own rules (role, scope, the month's
            # submission state): the grid's cells are read-only and the page says why (the
            # Monthly view: when no month of the window is open).
            locks = payload.get("locks") or {}
            shown = months if view == "monthly" else [months[page]]
            reasons = [locks.get(f"{y}-{m:02d}") for y, m in shown]
            if all(reasons):
                banner = dmc.Alert(
                    f"Read-only: {reasons[0]}", color="gray", id="stats-readonly-banner"
                )
        single_page = view == "monthly"
        dirty = f"{len(edits)} unsaved change{'s' if len(edits) != 1 else ''}" if edits else ""
        # A page flip changes the rows and the pager only: the columns (resending them makes
        # the grid rebuild itself), the window's summary, the banner and the counter stay.
        flip = set(ctx.triggered_prop_ids) == {"ws-page.data"}
        return (
            rows,
            no_update
            if flip
            else grid.column_defs(payload["total_rooms"], room_input, daily, compare),
            "Page 1 of 1" if single_page else f"Page {page + 1} of {len(months)}",
            showing,
            single_page or page == 0,
            single_page or page >= len(months) - 1,
            no_update
            if flip
            else _summary_strip(
                grid.month_summary(payload, edits, room_input), payload["total_rooms"] > 0
            ),
            banner,  # the month of the new page can be locked where the last was not
            no_update if flip else dirty,
        )

    @app.callback(
        Output("ws-save", "disabled"),
        Output("stats-fill-down", "disabled"),
        Output("stats-fill-proposal", "disabled"),
        Output("stats-fill-budget", "disabled"),
        Input("ws-window", "data"),
    )
    def read_only_tools(handle):
        """Save is off for someone who may not change the site at all (an executive); the
        fill tools are off when no day of the window can be changed (decided on the server:
        the window's days carry it)."""
        principal = current_principal()
        payload = _window(handle)
        if principal is None or not payload:
            raise PreventUpdate
        with get_db().read() as session:
            may_edit = can_edit_site(session, principal, int(payload["site_id"]), today())
        nothing_editable = not any(day["editable"] for day in payload["days"])
        return not may_edit, nothing_editable, nothing_editable, nothing_editable

    @app.callback(
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Output("ws-message", "children", allow_duplicate=True),
        Input("stats-grid", "cellValueChanged"),
        State("ws-edits", "data"),
        State("ws-history", "data"),
        State("ws-window", "data"),
        State("ws-view", "value"),
        State("ws-room-input", "value"),
        prevent_initial_call=True,
    )
    def cell_changed(changes, edits, history, handle, view, room_input):
        payload = _window(handle)
        if not changes or not payload or current_principal() is None:
            raise PreventUpdate
        updated, problems, spread = dict(edits or {}), [], []
        buckets = _bucket_ends(payload, view)
        for change in changes:
            row_id = str(change.get("rowId"))
            if buckets:  # a week or month total: spread over its open days
                if row_id not in buckets:
                    problems.append(f"{row_id}: not a week or month of this window.")
                    continue
                result, problem = statistics_edits.spread_bucket(
                    updated,
                    payload,
                    row_id,
                    buckets[row_id],
                    change["colId"],
                    change.get("value"),
                    room_input or "occupancy",
                )
            else:
                result, problem = apply_cell(
                    updated,
                    payload,
                    row_id,
                    change["colId"],
                    change.get("value"),
                    from_display=True,
                )
            if problem:
                problems.append(problem)
            else:
                updated = result
                if buckets:
                    spread.append((row_id, buckets[row_id]))
        message = (
            _alert(
                html.Ul([html.Li(p) for p in problems]),
                title="Not accepted",
                alert_id="stats-refused",
            )
            if problems
            else None
        )
        if spread and not problems:  # the guard rail: what the spread does to its month
            first, last = spread[-1]
            year, month = int(first[:4]), int(first[5:7])
            with get_db().read() as session:
                limits = submissions.thresholds(session)
            text, warning = statistics_edits.month_change(
                payload,
                edits or {},
                updated,
                year,
                month,
                room_input or "occupancy",
                limits,
                f"Spread over the open days of {first} – {last}",
            )
            message = _alert(
                text,
                "orange" if warning else "blue",
                title="Above the variance threshold" if warning else None,
                alert_id="stats-spread",
            )
        # Returning the edits even when unchanged re-renders the grid: a refused cell reverts.
        return updated, _push_history(history or {}, edits or {}), message

    @app.callback(
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Output("ws-message", "children", allow_duplicate=True),
        Input("stats-paste", "data"),
        State("ws-edits", "data"),
        State("ws-history", "data"),
        State("ws-window", "data"),
        State("ws-view", "value"),
        prevent_initial_call=True,
    )
    def paste_block(paste, edits, history, handle, view):
        payload = _window(handle)
        if not paste or not payload or view != "daily" or current_principal() is None:
            raise PreventUpdate
        columns, days = paste["columns"], paste["days"]
        if paste["column"] not in columns or paste["day"] not in days:
            raise PreventUpdate
        col0, row0 = columns.index(paste["column"]), days.index(paste["day"])
        updated, problems, accepted = dict(edits or {}), [], 0
        lines = [line for line in paste["text"].replace("\r", "").split("\n") if line != ""]
        for r, line in enumerate(lines):
            for c, raw in enumerate(line.split("\t")):
                if row0 + r >= len(days) or col0 + c >= len(columns):
                    problems.append("Part of the pasted block falls outside the grid.")
                    continue
                field = columns[col0 + c]
                if field not in statistics.INPUT_FIELDS:
                    problems.append(
                        f"{grid.SHORT_LABELS.get(field, field)} is calculated and "
                        "cannot be pasted into."
                    )
                    continue
                result, problem = apply_cell(
                    updated, payload, days[row0 + r], field, raw, from_display=True
                )
                if problem:
                    problems.append(problem)
                else:
                    updated, accepted = result, accepted + 1
        unique = list(dict.fromkeys(problems))
        message = (
            _alert(
                html.Ul([html.Li(p) for p in unique]),
                title=f"Pasted {accepted} cell(s); some were not accepted",
                alert_id="stats-refused",
            )
            if unique
            else _alert(f"Pasted {accepted} cell(s).", "green", alert_id="stats-pasted")
        )
        return updated, _push_history(history or {}, edits or {}), message

    # Undo and Redo are off while there is nothing to take back or to do again (a read-only
    # window never has any): decided in the browser from the history it holds.
    app.clientside_callback(
        """function (history) {
            const h = history || {};
            return [!(h.undo && h.undo.length), !(h.redo && h.redo.length)];
        }""",
        Output("stats-undo", "disabled"),
        Output("stats-redo", "disabled"),
        Input("ws-history", "data"),
    )

    @app.callback(
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Input("stats-undo", "n_clicks"),
        Input("stats-redo", "n_clicks"),
        State("ws-edits", "data"),
        State("ws-history", "data"),
        prevent_initial_call=True,
    )
    def undo_redo(_undo, _redo, edits, history):
        history = history or {"undo": [], "redo": []}
        source, target = ("undo", "redo") if ctx.triggered_id == "stats-undo" else ("redo", "undo")
        if not history.get(source):
            raise PreventUpdate
        restored = history[source][-1]
        return restored, {
            source: history[source][:-1],
            target: (history.get(target, []) + [edits or {}])[-HISTORY_LIMIT:],
        }

    @app.callback(
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Output("ws-message", "children", allow_duplicate=True),
        Input("stats-fill-down", "n_clicks"),
        State("stats-grid", "cellClicked"),
        State("ws-edits", "data"),
        State("ws-history", "data"),
        State("ws-window", "data"),
        State("ws-room-input", "value"),
        prevent_initial_call=True,
    )
    def fill_down(_clicks, clicked, edits, history, handle, room_input):
        payload = _window(handle)
        if not payload or not clicked or clicked.get("colId") not in statistics.INPUT_FIELDS:
            return (
                no_update,
                no_update,
                _alert("Click a cell of an input column first, then Fill down.", "yellow"),
            )
        field, start = clicked["colId"], clicked["rowId"]
        day_row = next(d for d in payload["days"] if d["day"] == start)
        month = start[:7]
        rates = payload["rates"][month]
        values, _ = st.shown_day_values(
            day_row, edits or {}, payload["total_rooms"], rates, room_input
        )
        value = values[field]
        updated = dict(edits or {})
        filled = 0
        for day in payload["days"]:
            if day["day"] > start and day["day"].startswith(month) and day["editable"]:
                updated, problem = apply_cell(
                    updated, payload, day["day"], field, value, from_display=False
                )
                filled += problem is None
        label = grid.SHORT_LABELS[field]
        return (
            updated,
            _push_history(history or {}, edits or {}),
            _alert(
                f"Filled {label} into {filled} later day(s) of the month; not saved yet.",
                "blue",
                alert_id="stats-filled",
            ),
        )

    @app.callback(
        Output("ws-window", "data", allow_duplicate=True),
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Output("ws-message", "children", allow_duplicate=True),
        Output("ws-rates", "data", allow_duplicate=True),
        Output("ws-rate-edits", "data", allow_duplicate=True),
        Output("rates-message", "children", allow_duplicate=True),
        Output("ws-payroll", "data", allow_duplicate=True),
        Output("ws-payroll-edits", "data", allow_duplicate=True),
        Output("payroll-message", "children", allow_duplicate=True),
        Output("ws-adjustments", "data", allow_duplicate=True),
        Output("ws-adjustment-edits", "data", allow_duplicate=True),
        Output("other-revenue-message", "children", allow_duplicate=True),
        Output("other-expense-message", "children", allow_duplicate=True),
        Input("ws-save", "n_clicks"),
        Input("rates-save", "n_clicks"),
        Input("payroll-save", "n_clicks"),
        Input("other-revenue-save", "n_clicks"),
        Input("other-expense-save", "n_clicks"),
        State("ws-edits", "data"),
        State("ws-window", "data"),
        State("ws-room-input", "value"),
        State("ws-start", "value"),
        State("ws-rate-edits", "data"),
        State("ws-rates", "data"),
        State("ws-payroll-edits", "data"),
        State("ws-payroll", "data"),
        State("ws-adjustment-edits", "data"),
        State("ws-adjustments", "data"),
        prevent_initial_call=True,
        running=[
            (Output("ws-save", "loading"), True, False),
            (Output("rates-save", "loading"), True, False),
            (Output("payroll-save", "loading"), True, False),
            (Output("other-revenue-save", "loading"), True, False),
            (Output("other-expense-save", "loading"), True, False),
        ],
    )
    def save(
        _clicks,
        _rate_clicks,
        _payroll_clicks,
        _other_revenue_clicks,
        _other_expense_clicks,
        edits,
        payload,
        room_input,
        start,
        rate_edits,
        rates,
        payroll_edits,
        payroll_data,
        adjustment_edits,
        adjustments_data,
    ):
        """One save for every tab: all unsaved edits of the site in one transaction."""
        principal = current_principal()
        if principal is None:
            raise PreventUpdate

        def answer(message):
            # The message shows on every tab; the data and the edits stay as they are.
            tab = _per_tab(message)
            return (
                *(no_update, no_update, no_update, tab["ws"]),
                *(no_update, no_update, tab["rates"]),
                *(no_update, no_update, tab["payroll"]),
                *(no_update, no_update, tab["other-revenue"], tab["other-expense"]),
            )

        # The save is checked against the versions of the days as the browser loaded them.
        if not isinstance(payload, dict) or "site_id" not in payload:
            return answer(_alert("Pick a site first.", "yellow"))
        payroll_mode_changed = bool(payroll_data and payroll_data.get("mode_changed"))
        if not (edits or rate_edits or payroll_edits or payroll_mode_changed or adjustment_edits):
            return answer(_alert("Nothing to save.", "gray"))
        try:
            versions = {d["day"]: d["version"] for d in payload.get("days") or []}
            stat_edits = []
            for key, value in (edits or {}).items():
                day, field = key.split("|")
                stat_edits.append(
                    statistics.StatisticEdit(
                        dt.date.fromisoformat(day), field, value, int(versions.get(day, 0))
                    )
                )
            rate_changes = _rate_changes(rate_edits or {})
            payroll_changes = _payroll_changes(payroll_edits or {}, payroll_data)
            adjustment_changes = adjustments.edits_from_store(adjustment_edits)
        except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
            return answer(_alert("The edits sent could not be read; nothing was saved."))
        try:
            result = workspace_save.save_forecast_inputs(
                get_db(),
                principal,
                payload["site_id"],
                stat_edits,
                rate_changes,
                today(),
                room_input,
                payroll_edits=payroll_changes,
                payroll_mode=payroll_data["mode"] if payroll_mode_changed else None,
                payroll_mode_version=int(payroll_data.get("mode_version", 0))
                if payroll_data
                else 0,
                adjustment_edits=adjustment_changes,
            )
        except ScopeError as refused:
            return answer(_alert(str(refused)))
        if result.problems:
            return answer(
                _alert(
                    html.Ul([html.Li(f"{p.key} · {p.message}") for p in result.problems]),
                    title="Nothing was saved",
                    alert_id="ws-save-refused",
                )
            )
        if result.conflicts:
            items = [
                html.Li(
                    f"{c.key} · {_field_label(c.field)}: saved meanwhile by "
                    f"{c.by or 'another person'} (their value {c.theirs}, yours {c.yours})"
                )
                for c in result.conflicts
            ]
            return answer(
                _alert(
                    [
                        dmc.Text(
                            "Someone saved these cells after you opened them. Nothing was "
                            "saved; your edits are kept. Reload to see their values, then "
                            "re-apply yours.",
                            size="sm",
                        ),
                        html.Ul(items),
                    ],
                    title="Save conflict",
                    alert_id="ws-save-conflict",
                )
            )
        payload = _site_payload(payload["site_id"], start)
        handle = _handle(payload, start)
        fresh_rates = fresh_payroll = no_update
        if rates:
            with get_db().read() as session:
                fresh_rates = rates_service.load_rates(
                    session, principal, payload["site_id"], rates["year"], today()
                )
        if payroll_data:
            fresh_payroll = payroll_callbacks.load_payroll(
                payroll_data["site_id"],
                f"{payroll_data['year']}-{payroll_data['month']:02d}",
            )
        fresh_adjustments = no_update
        if adjustments_data:
            with get_db().read() as session:
                fresh_adjustments = adjustments.load_adjustments(
                    session,
                    principal,
                    adjustments_data["site_id"],
                    parse_month(adjustments_data["start"]),
                    today(),
                )
        saved = _per_tab(
            _alert(f"Saved {result.saved_cells} change(s).", "green", alert_id="ws-saved")
        )
        return (
            handle,
            {},
            {"undo": [], "redo": []},
            saved["ws"],
            fresh_rates,
            {},
            saved["rates"],
            fresh_payroll,
            {},
            saved["payroll"],
            fresh_adjustments,
            {},
            saved["other-revenue"],
            saved["other-expense"],
        )

    @app.callback(
        Output("ws-edits", "data", allow_duplicate=True),
        Output("ws-history", "data", allow_duplicate=True),
        Output("ws-message", "children", allow_duplicate=True),
        Input("stats-fill-proposal", "n_clicks"),
        Input("stats-fill-budget", "n_clicks"),
        State("ws-edits", "data"),
        State("ws-history", "data"),
        State("ws-window", "data"),
        State("ws-page", "data"),
        State("ws-room-input", "value"),
        prevent_initial_call=True,
    )
    def fill_month(_proposal, _budget, edits, history, handle, page, room_input):
        """Every open day of the month shown takes the proposal (or the budget's spread) as
        unsaved edits, with the month's change against the budget — a warning above the
        variance thresholds (§7.5) — before anything is saved."""
        payload = _window(handle)
        principal = current_principal()
        if principal is None or not payload:
            raise PreventUpdate
        source = "budget" if ctx.triggered_id == "stats-fill-budget" else "proposal"
        year, month = payload["months"][page or 0]
        with get_db().read() as session:
            limits = submissions.thresholds(session)
        fill = statistics_edits.fill_month(
            payload, edits or {}, year, month, source, room_input or "occupancy", limits
        )
        if not fill.days:
            return no_update, no_update, _alert(fill.message, "yellow", alert_id="stats-filled")
        return (
            fill.edits,
            _push_history(history or {}, edits or {}),
            _alert(
                fill.message,
                "orange" if fill.warning else "blue",
                title="Above the variance threshold" if fill.warning else None,
                alert_id="stats-filled",
            ),
        )

    @app.callback(
        Output("ws-rates", "data"),
        Input("ws-selection", "data"),
        Input("rates-year", "value"),
    )
    def load_rates(selection, year):
        principal = current_principal()
        if principal is None or not selection:
            raise PreventUpdate
        site_value = selection["site"]
        try:
            with get_db().read() as session:
                return rates_service.load_rates(
                    session, principal, int(site_value), int(year), today()
                )
        except (ScopeError, ValueError, TypeError):
            return None

    @app.callback(
        Output("rates-grid", "rowData"),
        Output("rates-grid", "columnDefs"),
        Output("rates-dirty", "children"),
        Input("ws-rates", "data"),
        Input("ws-rate-edits", "data"),
    )
    def render_rates(rates, rate_edits):
        if not rates:
            return [], [], ""
        count = len(rate_edits or {})
        dirty = f"{count} unsaved rate change{'s' if count != 1 else ''}" if count else ""
        reasons = sorted({r for r in (rates.get("locks") or {}).values() if r})
        if reasons and not dirty:
            dirty = "Read-only months: " + " ".join(reasons)
        return rates_grid.rows(rates, rate_edits or {}), rates_grid.column_defs(), dirty

    @app.callback(
        Output("ws-rate-edits", "data", allow_duplicate=True),
        Output("rates-pending", "data"),
        Output("rates-confirm", "opened"),
        Output("rates-confirm-text", "children"),
        Output("rates-message", "children", allow_duplicate=True),
        Output("rates-last-edit", "data"),
        Input("rates-grid", "cellValueChanged"),
        State("ws-rates", "data"),
        State("ws-rate-edits", "data"),
        prevent_initial_call=True,
    )
    def rate_changed(changes, rates, rate_edits):
        if not changes or not rates or current_principal() is None:
            raise PreventUpdate
        change = changes[-1]
        category, month = change["data"]["category"], int(change["colId"][1:])
        value = st.parse_number(change.get("value"))
        problem = st.validate_rate(value)
        if problem is None and not rates["editable"][f"{month:02d}"]:
            problem = "Months before the current month are read-only."
        label = f"{rates_grid.CATEGORY_LABELS[category]}, {calendar.month_abbr[month]}"
        if problem:
            # Re-sending the edits re-renders the grid: the refused value disappears.
            return (
                dict(rate_edits or {}),
                no_update,
                False,
                no_update,
                _alert(f"{label}: {problem}", alert_id="rates-refused"),
                no_update,
            )
        pending = {
            "year": rates["year"],
            "month": month,
            "category": category,
            **rates_grid.new_edit(rates, month, category, value),
        }
        budget = rates["cells"].get(f"{month:02d}|{category}", {}).get("budget", 0.0)
        if rates_grid.needs_confirmation(value, budget):
            change_pct = (value - budget) / budget
            text = (
                f"{label}: ${value:,.2f} is {change_pct:+.1%} from the budget rate "
                f"${budget:,.2f}. Keep it?"
            )
            return no_update, pending, True, text, no_update, no_update
        updated = _apply_rate(rate_edits or {}, pending)
        return updated, None, False, no_update, _carry_prompt(pending, label), pending

    @app.callback(
        Output("ws-rate-edits", "data", allow_duplicate=True),
        Output("rates-pending", "data", allow_duplicate=True),
        Output("rates-confirm", "opened", allow_duplicate=True),
        Output("rates-message", "children", allow_duplicate=True),
        Output("rates-last-edit", "data", allow_duplicate=True),
        Input("rates-confirm-keep", "n_clicks"),
        Input("rates-confirm-cancel", "n_clicks"),
        State("rates-pending", "data"),
        State("ws-rate-edits", "data"),
        prevent_initial_call=True,
    )
    def confirm_rate(_keep, _cancel, pending, rate_edits):
        if not pending:
            raise PreventUpdate
        if ctx.triggered_id == "rates-confirm-cancel":
            return (
                dict(rate_edits or {}),
                None,
                False,
                _alert("Rate change cancelled.", "gray", alert_id="rates-cancelled"),
                no_update,
            )
        label = (
            f"{rates_grid.CATEGORY_LABELS[pending['category']]}, "
            f"{calendar.month_abbr[pending['month']]}"
        )
        return (
            _apply_rate(rate_edits or {}, pending),
            None,
            False,
            _carry_prompt(pending, label),
            pending,
        )

    @app.callback(
        Output("ws-rate-edits", "data", allow_duplicate=True),
        Output("rates-message", "children", allow_duplicate=True),
        Input("rates-carry", "n_clicks"),
        State("rates-last-edit", "data"),
        State("ws-rates", "data"),
        State("ws-rate-edits", "data"),
        prevent_initial_call=True,
    )
    def carry_forward(clicks, last, rates, rate_edits):
        if not clicks or not last or not rates:
            raise PreventUpdate
        if rates["year"] != last["year"]:
            return no_update, _alert(
                f"Carry forward applies to {last['year']}: show that year first.", "yellow"
            )
        updated, carried = dict(rate_edits or {}), 0
        for month in range(last["month"] + 1, 13):
            if rates["editable"][f"{month:02d}"]:
                edit = rates_grid.new_edit(rates, month, last["category"], last["value"])
                updated = _apply_rate(updated, {**last, "month": month, **edit})
                carried += 1
        return updated, _alert(
            f"Carried ${last['value']:,.2f} forward to {carried} later month(s); not saved yet.",
            "blue",
            alert_id="rates-carried",
        )

    app.clientside_callback(
        """function (edits, rateEdits, payrollEdits, adjustmentEdits) {
            window.dashboardUnsavedEdits = [edits, rateEdits, payrollEdits, adjustmentEdits].reduce(
                function (total, store) { return total + Object.keys(store || {}).length; }, 0);
            return window.dash_clientside.no_update;
        }""",
        Output("ws-edits", "id"),
        Input("ws-edits", "data"),
        Input("ws-rate-edits", "data"),
        Input("ws-payroll-edits", "data"),
        Input("ws-adjustment-edits", "data"),
    )


def _with_rate_edits(payload: dict, rate_edits: dict) -> dict:
    """The window with unsaved rate edits applied to its months' rates."""
    if not rate_edits:
        return payload
    rates = {month: dict(values) for month, values in payload["rates"].items()}
    for key, value in rate_edits.items():
        month, category = key.split("|")
        if month in rates:
            rates[month][category] = value["value"]
    return {**payload, "rates": rates}


def _apply_rate(rate_edits: dict, pending: dict) -> dict:
    key = rates_grid.edit_key(pending["year"], pending["month"], pending["category"])
    return {**rate_edits, key: {"value": pending["value"], "version": pending["version"]}}


def _rate_changes(rate_edits: dict) -> list:
    """Rate edits for the save, each with the version of the saved forecast it replaces."""
    changes = []
    for key, edit in rate_edits.items():
        month_text, category = key.split("|")
        year, month = int(month_text[:4]), int(month_text[5:7])
        changes.append(
            rates_service.RateEdit(year, month, category, edit["value"], int(edit["version"]))
        )
    return changes


SAVE_MESSAGE_TABS = ("ws", "rates", "payroll", "other-revenue", "other-expense")


def _per_tab(message) -> dict:
    """The save's message for each tab's message area, with ids unique on the page
    ("ws-saved" on Statistics, "rates-saved" on Rates, ...)."""
    result = {}
    for tab in SAVE_MESSAGE_TABS:
        copy = _copy.copy(message)
        if getattr(message, "id", None):
            copy.id = message.id.replace("ws-", f"{tab}-", 1)
        result[tab] = copy
    return result


def _field_label(field: str) -> str:
    return st.FIELD_LABELS.get(field) or adjustments.FIELD_LABELS.get(field) or field


def _payroll_changes(payroll_edits: dict, data: dict | None) -> list:
    """Payroll edits for the save, each with the versions of the code rows it replaces."""
    if not payroll_edits:
        return []
    changes = []
    for key, hours in payroll_edits.items():
        day, target = key.split("|")
        level = "group" if target.startswith("g") else "code"
        target_id = int(target[1:])
        code_ids = (
            [c["id"] for c in payroll.editable_codes(data, target_id)]
            if level == "group"
            else [target_id]
        )
        versions = {c: int(data["cells"][f"{day}|{c}"]["v"]) for c in code_ids}
        changes.append(
            payroll.PayrollEdit(dt.date.fromisoformat(day), level, target_id, hours, versions)
        )
    return changes


def _carry_prompt(pending: dict, label: str):
    if pending["month"] >= 12:
        return _alert(
            f"{label}: ${pending['value']:,.2f} — not saved yet.", "blue", alert_id="rates-accepted"
        )
    return _alert(
        dmc.Group(
            [
                dmc.Text(
                    f"{label}: ${pending['value']:,.2f} — not saved yet. Carry it forward to "
                    "the later months of the year?",
                    size="sm",
                ),
                dmc.Button("Carry forward", id="rates-carry", size="xs", variant="light"),
            ]
        ),
        "blue",
        alert_id="rates-accepted",
    )


def _summary_strip(summary: list[dict], has_rooms: bool):
    cards = []
    for month in summary:
        lines = [
            dmc.Text(month["label"], fw=700, size="sm"),
            dmc.Text(
                f"Vehicles {month['vehicles']:,.0f} vs budget {month['budget_vehicles']:,.0f}",
                size="sm",
            ),
            dmc.Text(
                f"External revenue {money(month['external_revenue'])} vs budget "
                f"{money(month['budget_external_revenue'])}",
                size="sm",
            ),
        ]
        if has_rooms:
            lines.append(
                dmc.Text(
                    f"Occupancy {percent(month['occupancy'])} vs budget "
                    f"{percent(month['budget_occupancy'])}",
                    size="sm",
                )
            )
        cards.append(dmc.Paper(lines, withBorder=True, p="xs", radius="sm"))
    return dmc.SimpleGrid(cards, cols={"base": 1, "sm": 3}, spacing="xs")
