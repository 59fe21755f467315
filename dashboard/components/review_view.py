"""District roll-up: grid columns, rows for the grid, and the FLC variance chart (built from
the roll-up's rows; unit-tested without a browser)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.components.grid import column

STATUS_FILTERS = [
    {"value": "all", "label": "All statuses"},
    {"value": "DRAFT", "label": "Draft"},
    {"value": "SUBMITTED", "label": "Submitted"},
    {"value": "RETURNED", "label": "Returned"},
    {"value": "APPROVED", "label": "Approved"},
    {"value": "LOCKED", "label": "Locked"},
]


def column_defs() -> list[dict]:
    return [
        column(
            "site_link",
            "Site",
            cellRenderer="markdown",
            pinned="left",
            minWidth=210,
            checkboxSelection={"function": "params.data.site_id > 0"},
            headerCheckboxSelection=True,
        ),
        column("account_manager", "Account manager", minWidth=150),
        column(
            "status_label",
            "Status",
            cellClassRules={
                "status-submitted": "params.value === 'Submitted'",
                "status-returned": "params.value === 'Returned'",
                "status-approved": "params.value === 'Approved'",
            },
        ),
        column("external_revenue", "External revenue", "money"),
        column("external_revenue_pct", "Ext. rev vs budget", "percent"),
        column("internal_revenue", "Internal revenue", "money"),
        column("internal_revenue_pct", "IR vs budget", "percent"),
        column("payroll", "Payroll", "money"),
        column("payroll_pct", "Payroll vs budget", "percent"),
        column("flc", "FLC", "money"),
        column("flc_var", "FLC vs budget $", "money"),
        column("flc_pct", "FLC vs budget %", "percent"),
        column("flags", "Flags", minWidth=140),
        column(
            "explained",
            "Explained",
            cellClassRules={"cell-negative": "params.value === 'Missing'"},
        ),
        column("last_edit", "Last edit", minWidth=150),
        column(
            "days_waiting",
            "Business days waiting",
            "count",
            cellClassRules={"cell-negative": "params.data.review_overdue === true"},
        ),
        column(
            "late_label",
            "Deadline",
            cellClassRules={"cell-negative": "params.value === 'Not submitted'"},
        ),
    ]


def grid_rows(rollup: dict, status: str = "all") -> list[dict]:
    """The roll-up's site rows for the grid (a link to each site's workspace), filtered by
    status."""
    start = f"{rollup['year']}-{rollup['month']:02d}"
    rows = []
    for row in rollup["rows"]:
        if status not in ("all", None, "") and row["status"] != status:
            continue
        rows.append(
            {
                **row,
                "row_id": str(row["site_id"]),
                "site_link": f"[{row['site']}](/workspace?site={row['site_id']}&start={start})",
                "last_edit": (
                    f"{row['last_edit']} · {row['last_edit_by']}" if row["last_edit"] else ""
                ),
                "late_label": "Not submitted" if row["late"] else "",
            }
        )
    return rows


def total_row(rollup: dict) -> dict:
    total = dict(rollup["total"])
    total.update(row_id="total", site_link="**District total**", status_label="")
    return total


def flc_variance_chart(rows: list[dict], title: str = "FLC vs budget by site") -> go.Figure:
    """Horizontal bars of each site's FLC − budget FLC, sorted so the outliers sit at the
    ends; below-budget bars red, others blue; hover shows $ and %."""
    ordered = sorted(rows, key=lambda r: r["flc_var"])
    colors = ["#c92a2a" if r["flc_var"] < 0 else "#1c7ed6" for r in ordered]
    custom = ["n/a" if r["flc_pct"] is None else f"{r['flc_pct'] * 100:+.1f}%" for r in ordered]
    figure = go.Figure(
        go.Bar(
            x=[r["flc_var"] for r in ordered],
            y=[r["site"] for r in ordered],
            orientation="h",
            marker_color=colors,
            customdata=custom,
            hovertemplate="%{y}<br>FLC vs budget: $%{x:,.0f} (%{customdata})<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        height=max(260, 22 * len(ordered) + 80),
        xaxis={"title": "FLC − budget FLC ($)", "tickformat": "$,.0f", "zeroline": True},
        yaxis={"automargin": True},
        template="plotly_white",
    )
    return figure
