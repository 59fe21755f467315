"""District roll-up callbacks: districts in scope, the roll-up of a district and month,
search, bulk approve and return, the regional overview of late work."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.callbacks.home import parse_month
from dashboard.components import review_view
from dashboard.components.grid import column, data_grid
from dashboard.components.shell import FIGURES_REFRESHED
from dashboard.context import current_principal, get_db, today
from dashboard.domain import submission as sm
from dashboard.services import review, submissions
from dashboard.services.scope import ScopeError


def _region_table(overview: list[dict]):
    rows = [
        {
            **entry,
            "late": "; ".join(entry["late_sites"]) or "—",
            "overdue": "; ".join(entry["overdue_reviews"]) or "—",
            "late_count": len(entry["late_sites"]),
            "overdue_count": len(entry["overdue_reviews"]),
        }
        for entry in overview
    ]
    columns = [
        column("district", "District", minWidth=160),
        column("sites", "Sites", "count"),
        column(sm.DRAFT, "Draft", "count"),
        column(sm.SUBMITTED, "Submitted", "count"),
        column(sm.RETURNED, "Returned", "count"),
        column(sm.APPROVED, "Approved", "count"),
        column("late_count", "Not submitted by deadline", "count"),
        column("late", "Late sites", minWidth=220),
        column("overdue_count", "Reviews waiting > 3 business days", "count"),
        column("overdue", "Overdue reviews", minWidth=220),
    ]
    return html.Div(
        [
            dmc.Title("Region overview", order=4, mt="md", mb="xs"),
            data_grid("review-region-grid", columns, rows, row_id_field="district_id"),
        ]
    )


def register(app: Dash) -> None:
    @app.callback(
        Output("review-district", "data"),
        Output("review-district", "value"),
        Input("review-requested", "data"),
    )
    def districts(requested):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        with get_db().read() as session:
            found = review.districts_in_scope(session, principal, today())
        options = [{"value": str(d["id"]), "label": f"{d['name']} ({d['region']})"} for d in found]
        values = {o["value"] for o in options}
        chosen = requested if requested in values else (options[0]["value"] if options else None)
        return options, chosen

    @app.callback(
        Output("review-grid", "rowData"),
        Output("review-grid", "pinnedBottomRowData"),
        Output("review-counts", "children"),
        Output("review-chart-box", "children"),
        Output("review-region", "children"),
        Output("review-actions", "style"),
        Output("review-grid-export-context", "data"),
        Output("review-performance-link", "href"),
        Input("review-district", "value"),
        Input("review-month", "value"),
        Input("review-status", "value"),
        Input("review-refresh", "data"),
        Input(FIGURES_REFRESHED, "data"),
    )
    def load(district, month, status, _refresh, _figures_refreshed):
        principal = current_principal()
        if principal is None or not district or not month:
            raise PreventUpdate
        year, number = parse_month(month)
        db, now = get_db(), today()
        submissions.close_months(db, now)
        try:
            with db.read() as session:
                rollup = review.district_rollup(
                    session, principal, int(district), year, number, now
                )
                overview = (
                    review.region_overview(session, principal, year, number, now)
                    if principal.role in ("regional_vp", "executive", "admin")
                    else None
                )
        except (ScopeError, ValueError):
            return (
                [],
                [],
                "This district is not in your scope.",
                None,
                None,
                {"display": "none"},
                [],
                "/performance",
            )
        counts = rollup["counts"]
        summary = (
            f"{len(rollup['rows'])} sites · "
            + " · ".join(
                f"{counts.get(s, 0)} {sm.STATE_LABELS[s].lower()}"
                for s in (sm.DRAFT, sm.SUBMITTED, sm.RETURNED, sm.APPROVED, sm.LOCKED)
            )
            + f" · submissions due {rollup['deadline']}"
        )
        rows = review_view.grid_rows(rollup, status or "all")
        reviewer = principal.role in sm.REVIEWER_ROLES
        shown = next((f["label"] for f in review_view.STATUS_FILTERS if f["value"] == status), None)
        title = "FLC vs budget by site" + (
            f" — {shown.lower()}" if shown and status != "all" else ""
        )
        return (
            rows,
            [review_view.total_row(rollup)],
            summary,
            dcc.Graph(
                id="review-chart",
                # The sites the grid shows: the chart follows the status filter.
                figure=review_view.flc_variance_chart(rows, title),
                config={"displaylogo": False},
            ),
            _region_table(overview) if overview is not None else None,
            {} if reviewer else {"display": "none"},
            [
                ["District", str(rollup.get("district") or district)],
                ["Forecast month", month],
                ["Status", status or "all"],
                ["Summary", summary],
            ],
            review_view.performance_href(int(district), year, number),
        )

    @app.callback(
        Output("review-grid", "columnDefs"),
        Input("review-details", "checked"),
        prevent_initial_call=True,
    )
    def more_columns(details):
        return review_view.column_defs(bool(details))

    @app.callback(
        Output("review-grid", "dashGridOptions"),
        Input("review-search", "value"),
        State("review-grid", "dashGridOptions"),
    )
    def search(text, options):
        return {**(options or {}), "quickFilterText": text or ""}

    @app.callback(
        Output("review-message", "children"),
        Output("review-refresh", "data"),
        Output("review-comment", "value"),
        # Cleared after every action: the next action never acts on the last one's sites.
        Output("review-grid", "selectedRows"),
        Input("review-approve", "n_clicks"),
        Input("review-return", "n_clicks"),
        State("review-grid", "selectedRows"),
        State("review-month", "value"),
        State("review-comment", "value"),
        State("review-refresh", "data"),
        # A job (the Celery worker with Redis, a local process without): the request thread
        # is free while dozens of sites are approved one transaction each.
        background=True,
        running=[
            (Output("review-approve", "disabled"), True, False),
            (Output("review-return", "disabled"), True, False),
            (Output("review-progress-box", "style"), {"display": "block"}, {"display": "none"}),
        ],
        progress=[Output("review-progress", "value"), Output("review-progress-text", "children")],
        prevent_initial_call=True,
    )
    def act(set_progress, _approve, _return, selected, month, comment, refresh):
        with app.server.app_context():
            return _act(set_progress, selected, month, comment, refresh)


def _act(set_progress, selected, month, comment, refresh):
    """Approve or return the selected sites, one transaction each, saying how far it is;
    the result is one line of counts by group, the sites of each group on demand."""
    principal = current_principal()
    if principal is None or not month or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    chosen = [r for r in (selected or []) if int(r.get("site_id") or 0) > 0]
    if not chosen:
        return (
            dmc.Alert("Select one or more sites first.", color="yellow", id="review-outcome"),
            refresh,
            comment,
            [],
        )
    year, number = parse_month(month)
    db, now = get_db(), today()
    versions = {int(r["site_id"]): int(r.get("version") or 0) for r in chosen}
    names = {int(r["site_id"]): r.get("site", str(r["site_id"])) for r in chosen}
    approving = ctx.triggered_id == "review-approve"
    verb = "Approved" if approving else "Returned"
    # The states as they are now (not as the page loaded them): a site that is not
    # submitted is reported as such, not by its flags.
    with db.read() as session:
        states = review.submission_states(session, principal, list(versions), year, number, now)
    action = sm.APPROVE if approving else sm.RETURN

    def refusal(site_id: int) -> str | None:
        """Why the state machine refuses the action on this site now (None: it may go)."""
        if site_id not in states:
            return "not in your scope"
        try:
            sm.transition(states[site_id], action, principal.role, comment=comment)
        except sm.TransitionError as problem:
            return str(problem)
        return None

    reasons = {s: refusal(s) for s in versions}
    items = [(s, v) for s, v in versions.items() if reasons[s] is None]
    skipped = [(s, why) for s, why in reasons.items() if why is not None]

    def progress(done: int, total: int) -> None:
        set_progress((round(100 * done / total), f"{done} of {total} sites done…"))

    progress(0, max(len(items), 1))
    if not items:
        done, refused = [], []
    elif approving:
        done, refused = submissions.bulk_approve(db, principal, items, year, number, now, progress)
    else:
        done, refused = submissions.bulk_return(
            db, principal, items, year, number, comment, now, progress
        )
    summary = review_view.outcome_summary(verb, done, skipped + refused, states, names)
    details = html.Details(
        [
            html.Summary("Details", id="review-outcome-more"),
            *[
                html.Div(
                    [
                        dmc.Text(heading, fw=600, size="sm"),
                        html.Ul(
                            [html.Li(f"{site} — {why}" if why else site) for site, why in sites]
                        ),
                    ]
                )
                for heading, sites in summary["details"]
            ],
        ],
        id="review-outcome-details",
    )
    color = "green" if done and not skipped + refused else ("yellow" if done else "red")
    return (
        dmc.Alert(
            [dmc.Text(summary["line"], fw=600, size="sm", id="review-outcome-line"), details],
            color=color,
            id="review-outcome",
            withCloseButton=True,
            py="xs",
        ),
        (refresh or 0) + 1,
        "" if done and not approving else comment,
        [],
    )


def register_thresholds(app: Dash) -> None:
    @app.callback(
        Output("review-thresholds", "style"),
        Output("review-threshold-pct", "value"),
        Output("review-threshold-amount", "value"),
        Input("review-requested", "data"),
    )
    def show(_):
        principal = current_principal()
        if principal is None or principal.role != "admin":
            return {"display": "none"}, None, None
        with get_db().read() as session:
            limits = submissions.thresholds(session)
        return {}, round(limits.pct * 100, 1), limits.amount

    @app.callback(
        Output("review-threshold-message", "children"),
        Input("review-threshold-save", "n_clicks"),
        State("review-threshold-pct", "value"),
        State("review-threshold-amount", "value"),
        prevent_initial_call=True,
    )
    def save(clicks, pct, amount):
        principal = current_principal()
        if principal is None or not clicks:
            raise PreventUpdate
        try:
            fraction = float(pct) / 100
        except (TypeError, ValueError):
            fraction = None
        outcome = submissions.set_thresholds(get_db(), principal, fraction, amount)
        return dmc.Alert(
            outcome.message,
            color="green" if outcome.ok else "red",
            id="review-threshold-outcome",
        )
