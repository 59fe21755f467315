"""Audit trail and inbox callbacks."""

from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.callbacks.inputs import text_choice
from dashboard.context import current_principal, get_db, today
from dashboard.services import audit_trail, review
from dashboard.services.home import visible_site_list
from dashboard.services.scope import ScopeError

FILTER_INPUTS = (
    Input("audit-site", "value"),
    Input("audit-district", "value"),
    Input("audit-person", "value"),
    Input("audit-kind", "value"),
    Input("audit-field", "value"),
    Input("audit-dates", "value"),
)


def _filters(site, district, person, kind, field, dates) -> audit_trail.AuditFilters:
    start = end = None
    if dates and len(dates) == 2 and dates[0] and dates[1]:
        start = dt.date.fromisoformat(str(dates[0])[:10])
        end = dt.date.fromisoformat(str(dates[1])[:10])
    return audit_trail.AuditFilters(
        site_id=int(site) if site else None,
        district_id=int(district) if district and not site else None,
        user_id=int(person) if person else None,
        action=text_choice(kind, "kind"),
        field=text_choice(field, "field"),
        start=start,
        end=end,
    )


def register(app: Dash) -> None:
    @app.callback(
        Output("audit-site", "data"),
        Output("audit-site", "value"),
        Output("audit-district", "data"),
        Input("audit-requested-site", "data"),
    )
    def places(requested):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        with get_db().read() as session:
            sites = visible_site_list(session, principal, today())
            districts = (
                review.districts_in_scope(session, principal, today())
                if principal.role != "account_manager"
                else []
            )
        options = [
            {"value": str(s["site_id"]), "label": f"{s['site_number']} · {s['name']}"}
            for s in sites
        ]
        values = {o["value"] for o in options}
        chosen = requested if requested in values else (options[0]["value"] if options else None)
        return options, chosen, [{"value": str(d["id"]), "label": d["name"]} for d in districts]

    @app.callback(
        Output("audit-grid", "rowData"),
        Output("audit-count", "children"),
        Output("audit-person", "data"),
        Output("audit-kind", "data"),
        Output("audit-field", "data"),
        *FILTER_INPUTS,
    )
    def load(*values):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        filters = _filters(*values)
        if filters.site_id is None and filters.district_id is None:
            return [], "Choose a site or a district.", [], [], []
        try:
            with get_db().read() as session:
                rows, more = audit_trail.audit_rows(session, principal, filters, today())
                choices = audit_trail.filter_choices(
                    session,
                    principal,
                    audit_trail.AuditFilters(
                        site_id=filters.site_id, district_id=filters.district_id
                    ),
                    today(),
                )
        except ScopeError as refused:
            return [], str(refused), [], [], []
        count = f"{len(rows):,} change{'s' if len(rows) != 1 else ''}" + (
            f" (the newest {audit_trail.ROW_LIMIT:,}; narrow the filters to see older ones)"
            if more
            else ""
        )
        return rows, count, choices["people"], choices["kinds"], choices["fields"]

    @app.callback(
        Output("audit-download", "data"),
        Input("audit-export", "n_clicks"),
        *[State(i.component_id, i.component_property) for i in FILTER_INPUTS],
        State("audit-site", "data"),
        State("audit-district", "data"),
        prevent_initial_call=True,
    )
    def export(clicks, site, district, person, kind, field, dates, site_options, district_options):
        principal = current_principal()
        if principal is None or not clicks:
            raise PreventUpdate
        filters = _filters(site, district, person, kind, field, dates)
        try:
            with get_db().read() as session:
                rows, more = audit_trail.audit_rows(session, principal, filters, today())
        except ScopeError:
            raise PreventUpdate from None
        label = {o["value"]: o["label"] for o in (site_options or []) + (district_options or [])}
        header = [
            f"Audit trail exported {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by "
            f"{principal.display_name}",
            f"Site: {label.get(site, '-')}; district: {label.get(district, '-') if not site else '-'}",
            f"Person: {person or 'any'}; kind: {kind or 'any'}; field: {field or 'any'}; "
            f"dates: {filters.start or 'any'} to {filters.end or 'any'}",
            f"{len(rows)} rows" + (" (limit reached)" if more else ""),
        ]
        return dcc.send_string(audit_trail.to_csv(rows, header), "audit-trail.csv")

    @app.callback(Output("inbox-items", "children"), Input("inbox-items", "id"))
    def inbox(_):
        principal = current_principal()
        if principal is None:
            raise PreventUpdate
        db = get_db()
        with db.read() as session:
            items = review.inbox(session, principal, today())
        if not items:
            return dmc.Text("Nothing needs your action.", id="inbox-empty")
        colors = {"returned": "orange", "to_review": "blue", "to_submit": "gray"}
        return html.Ul(
            [
                html.Li(
                    dmc.Group(
                        [
                            dmc.Badge(item["label"], color=colors[item["kind"]]),
                            dcc.Link(
                                f"{item['site']} · {item['month']}",
                                href=f"/workspace?site={item['site_id']}&start={item['month']}",
                            ),
                            dmc.Text(
                                item["detail"],
                                size="sm",
                                c="red" if item["overdue"] else "dimmed",
                            ),
                        ],
                        gap="xs",
                    ),
                    className=f"inbox-item inbox-{item['kind']}",
                )
                for item in items
            ],
            id="inbox-list",
            style={"listStyle": "none", "paddingLeft": 0},
        )
