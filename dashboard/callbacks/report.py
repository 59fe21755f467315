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
    """The KPI cards of one row of the report: everything, a region, a district or a site."""
    if not total:
        return dmc.Alert("No sites in your scope.", color="blue", variant="light")
    vs = total["flc_vs_budget"]
    return dmc.Group(
        [
            _card("Budget FLC", money(total["budget_flc"]), card_id="report-total-budget"),
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
            _card("At-risk sites", f"{at_risk} of {total['site_count']}", card_id="report-at-risk"),
        ],
        gap="xs",
        align="stretch",
    )


def resolve_drill(data: dict, drill: dict | None) -> dict:
    """The drill with its parents filled in (a link may name only a site or a district) and
    whatever is no longer in the report dropped."""
    drill = dict(drill or {})
    site = next((r for r in data["sites"] if r["site_id"] == drill.get("site")), None)
    if site is not None:
        return {
            "region": site["region_id"],
            "district": site["district_id"],
            "site": site["site_id"],
        }
    drill.pop("site", None)
    district = next(
        (d for d in data["districts"] if d["district_id"] == drill.get("district")), None
    )
    if district is not None:
        return {"region": district["region_id"], "district": district["district_id"]}
    if any(r["region_id"] == drill.get("region") for r in data["regions"]):
        return {"region": drill["region"]}
    return {}


def drilled_row(data: dict, drill: dict) -> tuple[dict | None, int]:
    """The row the drill is on (the total, a region, a district or a site) and how many of
    its sites are at risk: what the cards show."""
    if drill.get("site") is not None:
        row = next(r for r in data["sites"] if r["site_id"] == drill["site"])
        return row, int(bool(row.get("at_risk")))
    if drill.get("district") is not None:
        row = next(d for d in data["districts"] if d["district_id"] == drill["district"])
    elif drill.get("region") is not None:
        row = next(r for r in data["regions"] if r["region_id"] == drill["region"])
    else:
        row = data["total"]
    return row, (row or {}).get("at_risk_count", 0)


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
    region, district, site = drill.get("region"), drill.get("district"), drill.get("site")
    if site is not None:
        rows = [r for r in data["sites"] if r["site_id"] == site]
        parent, key = None, "site_id"
    elif district is not None:
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
    region, district, site = drill.get("region"), drill.get("district"), drill.get("site")
    if region is not None:
        name = next((r["name"] for r in data["regions"] if r["region_id"] == region), "")
        items.append(crumb(name, "report-crumb-region"))
    else:
        items.append(html.Span(id="report-crumb-region"))
    if district is not None:
        name = next((d["name"] for d in data["districts"] if d["district_id"] == district), "")
        items.append(crumb(name, "report-crumb-district"))
    else:
        items.append(html.Span(id="report-crumb-district"))
    if site is not None:
        name = next((s["name"] for s in data["sites"] if s["site_id"] == site), "")
        items.append(dmc.Text(name, size="sm", id="report-crumb-site"))
    return items


def _site_links(data: dict, drill: dict, year: int):
    """A drilled site's P&L of the report's year and its Performance up to the forecast
    month (the site and month travel in the address)."""
    site = drill.get("site")
    if site is None:
        return None
    fy, fm = data.get("forecast_month") or (year, 12)
    month = f"{year}-{fm:02d}" if year == fy else f"{year}-12"
    return dmc.Group(
        [
            dcc.Link(
                "Open this site's P&L →",
                href=f"/pnl?month={month}&site={site}",
                id="report-site-pnl",
            ),
            dcc.Link(
                "Performance of this site →",
                href=f"/performance?site={site}&month={month}",
                id="report-site-performance",
            ),
        ],
        gap="lg",
    )


# The roll-up of every site (~400 KB at 650 sites) stays on the server; the browser holds a
# handle (token and year) and the grid gets the rows of the level shown.
ROLLUP_SECONDS = 1800


# Reports computed for a fingerprint (``rr.fingerprint``: scope, figure and decision
# versions, thresholds, day) are shared by everyone who would get the same one, on every
# instance (Redis) — an executive opening the report after another computes nothing.
REPORT_SECONDS = 600


REPORT_SHAPE = 1  # bump when ``rr.Report`` changes: reports kept by older code are not read


# Every person's last report of a year and scope is kept longer: shown, marked as updating,
# while the report of the new figures is computed in the background.
LATEST_SECONDS = 24 * 3600


def _keys(session, principal, year: int) -> tuple[str, str]:
    """The cache keys of the report for these exact figures and of the scope's last one."""
    exact, scope = rr.fingerprints(session, principal, today(), year)
    return f"report:{REPORT_SHAPE}:{exact}", f"report-latest:{REPORT_SHAPE}:{scope}"


def _cached(cache, key: str) -> rr.Report | None:
    try:
        report = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreadable kept report is computed again
        return None
    return report if isinstance(report, rr.Report) else None


def _kept_report(principal, year: int) -> tuple[rr.Report | None, bool]:
    """The report a request may show without computing it: (the report of the current
    figures, True), else (the person's last report of the year and scope, False) — shown as
    updating —, else (None, False). Request threads never compute the portfolio."""
    cache = current_app.extensions["dashboard.cache"]
    with get_db().read() as session:
        exact, latest = _keys(session, principal, year)
    report = _cached(cache, exact)
    if report is not None:
        return report, True
    return _cached(cache, latest), False


def _report(principal, year: int) -> rr.Report:
    """The report of the current figures: the kept one, else computed and kept (background
    jobs only: the compute job and the exports)."""
    cache = current_app.extensions["dashboard.cache"]
    with get_db().read() as session:
        exact, latest = _keys(session, principal, year)
        report = _cached(cache, exact)
        if report is None:
            report = rr.regional_report(session, principal, today(), year)
            cache.set(exact, report, timeout=REPORT_SECONDS)
            cache.set(latest, report, timeout=LATEST_SECONDS)
    return report


def _handled_report(handle) -> rr.Report | None:
    """The report a handle names (its year), for the person asking: the kept one (or the
    last one, while the new one is computed); None when there is none yet."""
    principal = current_principal()
    if principal is None or not isinstance(handle, dict):
        return None
    try:
        return _kept_report(principal, _year(handle.get("year")))[0]
    except ValueError:  # a year the report does not offer
        return None


def _rollup_data(report, principal) -> dict:
    return {
        "regions": report.regions,
        "districts": report.districts,
        "sites": report.sites,
        "total": report.total,
        "forecast_month": list(report.forecast_month),
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
            report = _kept_report(principal, _year(handle.get("year")))[0]
        except ValueError:  # a year the report does not offer
            return None
        if report is None:
            return None
        data = _rollup_data(report, principal)
        if isinstance(token, str):
            cache.set(_rollup_key(principal, token), data, timeout=ROLLUP_SECONDS)
    return data


def _top_bottom(report: rr.Report):
    def names(districts) -> str:
        return ", ".join(f"{d['name']} ({percent(d['flc_vs_budget_pct'])})" for d in districts)

    return dmc.Group(
        [
            dmc.Text(
                "Top districts (FLC vs budget): " + (names(report.top_districts) or "—"),
                size="sm",
                id="report-top",
            ),
            dmc.Text(
                "Bottom districts: " + (names(report.bottom_districts) or "—"),
                size="sm",
                id="report-bottom",
            ),
        ],
        gap="xl",
    )


def _shown(report: rr.Report, principal) -> tuple:
    """The handle, texts and export context of a report (the cards, the grid and the charts
    follow from the handle and the drill, which a new report keeps)."""
    data = _rollup_data(report, principal)
    handle = _keep(principal, data, report.year)
    rule = dict(rr.context_lines(report, principal))["At risk"]
    return (handle, _top_bottom(report), f"At risk: {rule}.", data["context"])


UPDATING = (
    "The figures changed since this report was computed: it is being updated and will "
    "refresh by itself."
)


def _updating_notice(text: str = UPDATING):
    return dmc.Alert(text, color="yellow", variant="light", id="report-updating")


SHOWN_OUTPUTS = (
    ("report-data", "data"),
    ("report-top-bottom", "children"),
    ("report-risk-rule", "children"),
    ("report-risk-grid-export-context", "data"),
)


def register(app: Dash) -> None:
    @app.callback(
        *[Output(i, p) for i, p in SHOWN_OUTPUTS],
        Output("report-freshness", "children"),
        Output("report-pending", "data"),
        Input("report-year", "value"),
        Input(FIGURES_REFRESHED, "data"),
    )
    def compute(year, _figures_refreshed=None):
        """The report's handle, cards and texts when the report of the current figures is
        kept; else the person's last report, marked as updating, and a job to compute the
        new one (``compute_later``); with none at all, only the job. The grid, the charts
        and the at-risk rows follow from the handle in their own callbacks."""
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        year = _year(year)
        try:
            report, fresh = _kept_report(principal, year)
        except ValueError:  # a year the report does not offer
            raise PreventUpdate from None
        pending = None if fresh else {"year": year, "asked": secrets.token_urlsafe(6)}
        if report is None:
            waiting = [no_update] * len(SHOWN_OUTPUTS)
            return (*waiting, _updating_notice("Computing the report…"), pending)
        return (*_shown(report, principal), None if fresh else _updating_notice(), pending)

    @app.callback(
        *[Output(i, p, allow_duplicate=True) for i, p in SHOWN_OUTPUTS],
        Output("report-freshness", "children", allow_duplicate=True),
        Input("report-pending", "data"),
        background=True,
        running=[
            (
                Output("report-compute-progress-box", "style"),
                {"display": "block"},
                {"display": "none"},
            ),
        ],
        progress=[
            Output("report-compute-progress", "value"),
            Output("report-compute-progress-text", "children"),
        ],
        interval=250,
        prevent_initial_call=True,
    )
    def compute_later(set_progress, pending):
        """The report of the current figures, computed in a background job (the Celery
        worker with Redis, a process of its own without) and kept for everyone with the same
        scope and figures; the page then shows it."""
        if not isinstance(pending, dict):
            raise PreventUpdate
        with app.server.app_context():
            principal = current_principal()
            if principal is None:
                raise PreventUpdate
            set_progress((30, "Computing the report of the sites you see…"))
            try:
                report = _report(principal, _year(pending.get("year")))
            except ValueError:
                raise PreventUpdate from None
            set_progress((100, "Report computed."))
            return (*_shown(report, principal), None)

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
        Output("report-cards", "children"),
        Output("report-cards-scope", "children"),
        Output("report-site-links", "children"),
        Input("report-data", "data"),
        Input("report-drill", "data"),
    )
    def show(handle, drill):
        """The level the drill is on: its rows, crumbs and the cards of its row (the cards
        follow the drill: a region's, a district's, a site's figures)."""
        data = _kept(handle)
        if not data:
            raise PreventUpdate
        drill = resolve_drill(data, drill)
        rows, total = _level_rows(data, drill)
        columns = _columns([])
        names = {
            "region": {r["region_id"]: r["name"] for r in data["regions"]},
            "district": {d["district_id"]: d["name"] for d in data["districts"]},
            "site": {s["site_id"]: s["name"] for s in data["sites"]},
        }
        where = [
            [level.capitalize(), names[level].get(drill[level], "")]
            for level in ("region", "district", "site")
            if drill.get(level) is not None
        ] or [["Showing", "regions"]]
        row, at_risk = drilled_row(data, drill)
        scope = where[-1][1] if drill else "All sites in your scope"
        return (
            rows,
            columns,
            [total] if total else [],
            _crumbs(data, drill),
            data["context"] + where,
            _cards(row, at_risk),
            f"Figures of: {scope}",
            _site_links(data, drill, _year((handle or {}).get("year"))),
        )

    @app.callback(
        Output("report-drill", "data", allow_duplicate=True),
        Input("report-grid", "cellClicked"),
        Input("report-crumb-all", "n_clicks"),
        Input("report-crumb-region", "n_clicks"),
        Input("report-crumb-district", "n_clicks"),
        State("report-drill", "data"),
        State("report-grid", "rowData"),
        prevent_initial_call=True,
    )
    def drill_to(cell, _all, _region, _district, drill, rows):
        if current_principal() is None:
            raise PreventUpdate
        drill = dict(drill or {})
        trigger = ctx.triggered_id
        if trigger == "report-crumb-all":
            return {}
        if not ctx.triggered[0].get("value"):
            raise PreventUpdate  # a crumb drawn anew, not clicked
        if trigger == "report-crumb-region":
            return {"region": drill.get("region")} if drill.get("region") is not None else no_update
        if trigger == "report-crumb-district":
            if drill.get("district") is None:
                return no_update
            return {"region": drill.get("region"), "district": drill["district"]}
        if not cell or cell.get("rowPinned"):
            raise PreventUpdate
        row = next((r for r in rows or [] if r["row_id"] == cell.get("rowId")), None)
        if row is None:
            raise PreventUpdate
        if row["level"] == "region":
            return {"region": row["region_id"]}
        if row["level"] == "district":
            return {"region": row["region_id"], "district": row["district_id"]}
        if row["level"] == "site":
            return {
                "region": row["region_id"],
                "district": row["district_id"],
                "site": row["site_id"],
            }
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
