"""Workspace Submission tab: load the month's review, and the actions (submit, explanations,
approve, return, reopen, comment). Every action goes through ``services/submissions.py``,
which checks scope, role and version on the server whatever the browser sends."""

from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks.home import parse_month
from dashboard.components import submission_panel as panel
from dashboard.context import current_principal, get_db, today
from dashboard.domain import submission as sm
from dashboard.services import review, submissions
from dashboard.services.scope import ScopeError

SHOWN, HIDDEN = {}, {"display": "none"}
ACTIONS = {
    "ws-sub-submit": "submit",
    "ws-sub-save-explain": "explain",
    "ws-sub-approve": sm.APPROVE,
    "ws-sub-return": sm.RETURN,
    "ws-sub-reopen": sm.REOPEN,
    "ws-sub-add-comment": "comment",
}


def _message(outcome: submissions.Outcome):
    if outcome.ok:
        return dmc.Alert(outcome.message, color="green", id="ws-sub-ok", withCloseButton=True)
    body = [dmc.Text(outcome.message, size="sm")]
    if outcome.problems:
        body.append(html.Ul([html.Li(p) for p in outcome.problems], id="ws-sub-problems"))
    return dmc.Alert(
        body,
        color="orange" if outcome.stale else "red",
        title="Reload needed" if outcome.stale else None,
        id="ws-sub-error",
        withCloseButton=True,
    )


def register(app: Dash) -> None:
    @app.callback(
        Output("ws-sub-data", "data"),
        Output("ws-sub-summary", "children"),
        Output("ws-sub-checklist", "children"),
        Output("ws-sub-thread", "children"),
        Output("ws-sub-explain-flc", "value"),
        Output("ws-sub-explain-flc-box", "style"),
        Output("ws-sub-explain-internal_revenue", "value"),
        Output("ws-sub-explain-internal_revenue-box", "style"),
        Output("ws-sub-am-actions", "style"),
        Output("ws-sub-submit", "disabled"),
        Output("ws-sub-review-actions", "style"),
        Output("ws-sub-approve", "disabled"),
        Output("ws-sub-return", "disabled"),
        Output("ws-sub-reopen", "disabled"),
        Output("ws-sub-badge", "children"),
        Input("ws-selection", "data"),
        Input("ws-sub-refresh", "data"),
        Input("ws-window", "data"),
    )
    def load(selection, _refresh, _window):
        principal = current_principal()
        if principal is None or not selection:
            raise PreventUpdate
        try:
            site_id = int(selection["site"])
            year, month = parse_month(selection["start"])
            with get_db().read() as session:
                review = submissions.month_review(session, principal, site_id, year, month, today())
        except (ScopeError, KeyError, TypeError, ValueError):
            raise PreventUpdate from None
        flagged = {f["line"] for f in review["flags"]}
        texts = review["explanations"]

        def box(line):
            return SHOWN if line in flagged or texts.get(line, {}).get("text") else HIDDEN

        status = review["status"]
        deciding = review["may_decide"]
        data = {
            "site_id": site_id,
            "year": year,
            "month": month,
            "version": review["version"],
            "status": status,
        }
        badge = dmc.Group(
            [
                dmc.Text(f"{panel.month_label(review)}:", size="sm"),
                panel.status_badge(review, "ws-sub-badge-status"),
            ],
            gap=4,
        )
        return (
            data,
            panel.summary(review),
            panel.checklist(review),
            panel.thread(review),
            texts.get("flc", {}).get("text", ""),
            box("flc"),
            texts.get("internal_revenue", {}).get("text", ""),
            box("internal_revenue"),
            SHOWN if review["may_edit"] and not review["closed"] else HIDDEN,
            not review["may_submit"],
            SHOWN if deciding else HIDDEN,
            status != sm.SUBMITTED,
            status != sm.SUBMITTED,
            status != sm.APPROVED,
            badge,
        )

    @app.callback(
        Output("ws-sub-message", "children"),
        Output("ws-sub-refresh", "data"),
        Output("ws-sub-review-comment", "value"),
        Output("ws-sub-comment", "value"),
        *[Input(i, "n_clicks") for i in ACTIONS],
        State("ws-sub-data", "data"),
        State("ws-sub-explain-flc", "value"),
        State("ws-sub-explain-internal_revenue", "value"),
        State("ws-sub-review-comment", "value"),
        State("ws-sub-comment", "value"),
        State("ws-sub-refresh", "data"),
        prevent_initial_call=True,
    )
    def act(*args):
        data, flc_text, ir_text, review_comment, comment, refresh = args[len(ACTIONS) :]
        principal = current_principal()
        if principal is None or not data or ctx.triggered_id not in ACTIONS:
            raise PreventUpdate
        if not ctx.triggered[0].get("value"):
            raise PreventUpdate  # a button re-rendered, not clicked
        action = ACTIONS[ctx.triggered_id]
        try:
            site_id, year, month = int(data["site_id"]), int(data["year"]), int(data["month"])
            version = int(data["version"])
        except (KeyError, TypeError, ValueError):
            raise PreventUpdate from None
        db, now = get_db(), today()
        texts = {"flc": flc_text or "", "internal_revenue": ir_text or ""}
        keep_review, keep_comment = no_update, no_update
        if action == "explain":
            outcome = submissions.save_explanations(db, principal, site_id, year, month, texts, now)
        elif action == "submit":
            outcome = submissions.submit(db, principal, site_id, year, month, now, version, texts)
        elif action == "comment":
            outcome = submissions.add_comment(db, principal, site_id, year, month, comment, now)
            keep_comment = "" if outcome.ok else no_update
        else:
            outcome = submissions.decide(
                db, principal, site_id, year, month, action, review_comment, version, now
            )
            keep_review = "" if outcome.ok else no_update
        return _message(outcome), (refresh or 0) + 1, keep_review, keep_comment


def register_home(app: Dash) -> None:
    @app.callback(Output("home-submissions", "children"), Input("home-submissions", "id"))
    def home_submissions(_):
        principal = current_principal()
        if principal is None or principal.role != "account_manager":
            return None
        with get_db().read() as session:
            mine = review.my_submissions(session, principal, today())
        start = f"{mine['year']}-{mine['month']:02d}"
        items = []
        for site in mine["sites"]:
            line = [
                dmc.Badge(
                    site["status_label"],
                    color=panel.STATUS_COLORS.get(site["status"], "gray"),
                    id=f"home-sub-status-{site['site_id']}",
                ),
                dcc.Link(site["site"], href=f"/workspace?site={site['site_id']}&start={start}"),
            ]
            if site["comment"]:
                line.append(dmc.Text(f"Returned: {site['comment']}", size="sm", c="orange"))
            items.append(html.Li(dmc.Group(line, gap="xs")))
        month = dt.date(mine["year"], mine["month"], 1)
        deadline = dt.date.fromisoformat(mine["deadline"])
        return dmc.Paper(
            [
                dmc.Text(
                    f"Your {month:%B %Y} forecasts · due {deadline:%a %b %-d}", fw=600, size="sm"
                ),
                html.Ul(items, style={"listStyle": "none", "paddingLeft": 0, "margin": 0}),
            ],
            withBorder=True,
            p="xs",
            mb="md",
            id="home-submission-card",
        )
