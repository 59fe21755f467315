"""Regional report callbacks: the report of a year, the drill (region → district → site), and
the report exports in stages with progress (compute → write → download)."""

from __future__ import annotations

import datetime as dt
import secrets

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard.components import charts, report_view
from dashboard.components.formatting import money, percent
from dashboard.components.grid import column
from dashboard.components.shell import FIGURES_REFRESHED
from dashboard.context import current_principal, get_db, today
from dashboard.services import regional_report as rr
from dashboard.services.scope import visible_site_ids


def _year(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return today().year


def _card(label: str, value: str, detail: str = "", card_id: str | None = None):
    return dmc.Card(
        [
            dmc.Text(label, size="xs", c="dimmed"),
            dmc.Text(value, fw=700, size="lg", id=card_id or ""),
            dmc.Text(detail, size="xs"),
        ],
        withBorder=True,
        padding="sm",
        miw=170,
    )


def _cards(total: dict, at_risk: int):
    if not total:
        return dmc.Alert("No sites in your scope.", color="blue", variant="light")
    vs = total["flc_vs_budget"]
    return dmc.Group(
        [
            _card("Budget FLC", money(total["budget_flc"])),
            _card(
                "Forecast FLC",
                money(total["forecast_flc"]),
                f"{money(vs)} ({percent(total['flc_vs_budget_pct'])}) vs budget",
                "report-total-forecast",
            ),
            _card("Actual FLC to date", money(total["actual_flc"])),
            _card("Prior year FLC", money(total["prior_year_flc"])),
            _card("FLC margin", percent(total["flc_margin"])),
            _card(
                "Forecast accuracy (FLC)",
                f"MAPE {percent(total['mape'])}",
                f"bias {percent(total['bias'])} · {percent(total['within_5'], 0)} of sites "
                "within 5%",
            ),
            _card("At-risk sites", f"{at_risk} of {total['site_count']}"),
        ],
        gap="xs",
        align="stretch",
    )


def _columns(first: list[dict]) -> list[dict]:
    columns = []
    for field, header, kind in rr.ROLLUP_COLUMNS:
        extra = {"minWidth": 220, "pinned": "left"} if field == "name" else {}
        if field in ("status", "at_risk_text"):
            extra = {"minWidth": 200, "wrapText": True, "autoHeight": True}
        columns.append(column(field, header, kind, **extra))
    return first + columns


def _level_rows(data: dict, drill: dict):
    """The rows the drill shows, their parent (the pinned total) and the crumbs."""
    region, district = drill.get("region"), drill.get("district")
    if district is not None:
        rows = [r for r in data["sites"] if r["district_id"] == district]
        parent = next((d for d in data["districts"] if d["district_id"] == district), None)
        key = "site_id"
    elif region is not None:
        rows = [r for r in data["districts"] if r["region_id"] == region]
        parent = next((r for r in data["regions"] if r["region_id"] == region), None)
        key = "district_id"
    else:
        rows, parent, key = data["regions"], data["total"], "region_id"
    shown = [{**r, "row_id": f"{r['level']}-{r[key]}"} for r in rr.display_rows(rows)]
    total = rr.display_rows([parent])[0] if parent else None
    if total:
        total = {
            **total,
            "row_id": "total",  # the grid keys rows by row_id, the pinned total too
            "name": f"Total — {parent['name']}" if parent is not data["total"] else "Total",
        }
    return shown, total


def _crumbs(data: dict, drill: dict):
    def crumb(text, crumb_id):
        return dmc.Button(text, id=crumb_id, variant="subtle", size="compact-sm", px=4)

    items = [crumb("All regions", "report-crumb-all")]
    region, district = drill.get("region"), drill.get("district")
    if region is not None:
        name = next((r["name"] for r in data["regions"] if r["region_id"] == region), "")
        items.append(crumb(name, "report-crumb-region"))
    else:
        items.append(html.Span(id="report-crumb-region"))
    if district is not None:
        name = next((d["name"] for d in data["districts"] if d["district_id"] == district), "")
        items.append(dmc.Text(name, size="sm", id="report-crumb-district"))
    return items


# The roll-up of every site (~400 KB at 650 sites) stays on the server; the browser holds a
# handle (token and year) and the grid gets the rows of the level shown.
ROLLUP_SECONDS = 1800


# Reports computed for a fingerprint (``rr.fingerprint``: scope, figure and decision
# versions, thresholds, day) are shared by everyone who would get the same one, on every
# instance (Redis) — an executive opening the report after another computes nothing.
REPORT_SECONDS = 600


REPORT_SHAPE = 1  # bump when ``rr.Report`` changes: reports kept by older code are not read


def _report(principal, year: int) -> rr.Report:
    cache = current_app.extensions["dashboard.cache"]
    with get_db().read() as session:
        key = f"report:{REPORT_SHAPE}:{rr.fingerprint(session, principal, today(), year)}"
        try:
            report = cache.get(key)
        except Exception:  # noqa: BLE001 - an unreadable kept report is computed again
            report = None
        if not isinstance(report, rr.Report):
            report = rr.regional_report(session, principal, today(), year)
            cache.set(key, report, timeout=REPORT_SECONDS)
    return report


def _handled_report(handle) -> rr.Report | None:
    """The report a handle names (its year), for the person asking: the kept one for their
    fingerprint, else computed."""
    principal = current_principal()
    if principal is None or not isinstance(handle, dict):
        return None
    try:
        return _report(principal, _year(handle.get("year")))
    except ValueError:  # a year the report does not offer
        return None


def _rollup_data(report, principal) -> dict:
    return {
        "regions": report.regions,
        "districts": report.districts,
        "sites": report.sites,
        "total": report.total,
        "context": [list(c) for c in rr.context_lines(report, principal)],
    }


def _rollup_key(principal, token: str) -> str:
    return f"report-rollup:{principal.user_id}:{token}"


def _keep(principal, data: dict, year: int) -> dict:
    token = secrets.token_urlsafe(12)
    current_app.extensions["dashboard.cache"].set(
        _rollup_key(principal, token), data, timeout=ROLLUP_SECONDS
    )
    return {"token": token, "year": year}


def _kept(handle) -> dict | None:
    """The roll-up of a handle: from the shared cache, else computed again (the cache lost
    it, or another instance without Redis answered)."""
    principal = current_principal()
    if principal is None or not isinstance(handle, dict):
        return None
    token = handle.get("token")
    cache = current_app.extensions["dashboard.cache"]
    data = cache.get(_rollup_key(principal, token)) if isinstance(token, str) else None
    if data is not None:
        # Scope is checked on every read: a roll-up kept from before an assignment changed
        # is computed again for the sites the person may see now.
        with get_db().read() as session:
            visible = visible_site_ids(session, principal, today())
        if {r["site_id"] for r in data["sites"]} != visible:
            data = None
    if data is None:
        try:
            report = _report(principal, _year(handle.get("year")))
        except ValueError:  # a year the report does not offer
            return None
        data = _rollup_data(report, principal)
        if isinstance(token, str):
            cache.set(_rollup_key(principal, token), data, timeout=ROLLUP_SECONDS)
    return data


def register(app: Dash) -> None:
    @app.callback(
        Output("report-data", "data"),
        Output("report-cards", "children"),
        Output("report-top-bottom", "children"),
        Output("report-risk-rule", "children"),
        Output("report-risk-grid-export-context", "data"),
        Output("report-drill", "data"),
        Input("report-year", "value"),
        Input(FIGURES_REFRESHED, "data"),
    )
    def compute(year, _figures_refreshed=None):
        """The report's handle, cards and texts; the grid, the charts and the at-risk rows
        follow from the handle in their own callbacks (the grid shows without waiting for
        the charts to draw)."""
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        report = _report(principal, _year(year))
        data = _rollup_data(report, principal)
        handle = _keep(principal, data, report.year)
        top_bottom = dmc.Group(
            [
                dmc.Text(
                    "Top districts (FLC vs budget): "
                    + (
                        ", ".join(
                            f"{d['name']} ({percent(d['flc_vs_budget_pct'])})"
                            for d in report.top_districts
                        )
                        or "—"
                    ),
                    size="sm",
                    id="report-top",
                ),
                dmc.Text(
                    "Bottom districts: "
                    + (
                        ", ".join(
                            f"{d['name']} ({percent(d['flc_vs_budget_pct'])})"
                            for d in report.bottom_districts
                        )
                        or "—"
                    ),
                    size="sm",
                    id="report-bottom",
                ),
            ],
            gap="xl",
        )
        rule = dict(rr.context_lines(report, principal))["At risk"]
        return (
            handle,
            _cards(report.total, len(report.at_risk)),
            top_bottom,
            f"At risk: {rule}.",
            data["context"],
            {},
        )

    @app.callback(
        Output("report-district-chart-box", "children"),
        Output("report-accuracy-chart-box", "children"),
        Input("report-data", "data"),
    )
    def draw(handle):
        report = _handled_report(handle)
        if report is None:
            raise PreventUpdate
        if not report.sites:
            ranked = accuracy = charts.empty_figure("Regional report")
        else:
            ranked, accuracy = report_view.charts_of(report)
        return (
            dcc.Graph(id="report-district-chart", figure=ranked, config={"displaylogo": False}),
            dcc.Graph(id="report-accuracy-chart", figure=accuracy, config={"displaylogo": False}),
        )

    @app.callback(
        Output("report-risk-grid", "rowData"),
        Output("report-risk-grid", "columnDefs"),
        Input("report-data", "data"),
    )
    def at_risk(handle):
        report = _handled_report(handle)
        if report is None:
            raise PreventUpdate
        risk_columns = [
            column(
                f,
                h,
                k,
                **(
                    {"minWidth": 320, "wrapText": True, "autoHeight": True}
                    if f == "at_risk"
                    else {}
                ),
            )
            for f, h, k in rr.RISK_COLUMNS
        ]
        return report.at_risk, risk_columns

    @app.callback(
        Output("report-grid", "rowData"),
        Output("report-grid", "columnDefs"),
        Output("report-grid", "pinnedBottomRowData"),
        Output("report-crumbs", "children"),
        Output("report-grid-export-context", "data"),
        Input("report-data", "data"),
        Input("report-drill", "data"),
    )
    def show(handle, drill):
        data = _kept(handle)
        if not data:
            raise PreventUpdate
        drill = drill or {}
        rows, total = _level_rows(data, drill)
        columns = _columns([])
        where = [["Showing", "regions"]]
        if drill.get("region") is not None:
            where = [
                [
                    "Region",
                    next(
                        (r["name"] for r in data["regions"] if r["region_id"] == drill["region"]),
                        "",
                    ),
                ]
            ]
        if drill.get("district") is not None:
            where.append(
                [
                    "District",
                    next(
                        (
                            d["name"]
                            for d in data["districts"]
                            if d["district_id"] == drill["district"]
                        ),
                        "",
                    ),
                ]
            )
        return (
            rows,
            columns,
            [total] if total else [],
            _crumbs(data, drill),
            data["context"] + where,
        )

    @app.callback(
        Output("report-drill", "data", allow_duplicate=True),
        Input("report-grid", "cellClicked"),
        Input("report-crumb-all", "n_clicks"),
        Input("report-crumb-region", "n_clicks"),
        State("report-drill", "data"),
        State("report-grid", "rowData"),
        prevent_initial_call=True,
    )
    def drill_to(cell, _all, _region, drill, rows):
        if current_principal() is None:
            raise PreventUpdate
        drill = dict(drill or {})
        trigger = ctx.triggered_id
        if trigger == "report-crumb-all":
            return {}
        if trigger == "report-crumb-region":
            return {"region": drill.get("region")} if drill.get("region") is not None else no_update
        if not cell or cell.get("rowPinned"):
            raise PreventUpdate
        row = next((r for r in rows or [] if r["row_id"] == cell.get("rowId")), None)
        if row is None:
            raise PreventUpdate
        if row["level"] == "region":
            return {"region": row["region_id"]}
        if row["level"] == "district":
            return {"region": row["region_id"], "district": row["district_id"]}
        raise PreventUpdate

    # --- exports: a background job (Celery with Redis, a process of its own without) -----

    @app.callback(
        Output("report-download", "data"),
        Output("report-export-status", "children"),
        Input("report-export-xlsx", "n_clicks"),
        Input("report-export-html", "n_clicks"),
        State("report-year", "value"),
        background=True,
        running=[
            (Output("report-export-xlsx", "disabled"), True, False),
            (Output("report-export-html", "disabled"), True, False),
            # The bar stays after the job with its last step, so a fast job is seen done.
            (Output("report-progress-box", "style"), {"display": "block"}, {"display": "block"}),
        ],
        progress=[Output("report-progress", "value"), Output("report-progress-text", "children")],
        prevent_initial_call=True,
    )
    def export(set_progress, _xlsx, _html, year):
        with app.server.app_context():
            return _export(set_progress, ctx.triggered_id, _year(year))


def _export(set_progress, trigger, year: int):
    """Compute the report and write the file, saying which step is running."""
    principal = current_principal()
    if principal is None or trigger not in ("report-export-xlsx", "report-export-html"):
        raise PreventUpdate
    kind = "xlsx" if trigger == "report-export-xlsx" else "html"
    set_progress((10, "Step 1 of 3: computing the report…"))
    report = _report(principal, year)
    what = "workbook" if kind == "xlsx" else "print-ready document"
    set_progress((60, f"Step 2 of 3: writing the {what} ({len(report.sites)} sites)…"))
    stamp = f"{dt.date.today():%Y-%m-%d}"
    if kind == "xlsx":
        sent = dcc.send_bytes(
            rr.workbook(report, principal), f"regional-report-{report.year}-{stamp}.xlsx"
        )
    else:
        sent = dcc.send_string(
            report_view.document(report, principal),
            f"regional-report-{report.year}-{stamp}.html",
        )
    set_progress((100, "Step 3 of 3: done — the file is downloading."))
    return sent, f"Done: the {what} of {report.year} is downloading."
