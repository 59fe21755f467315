"""District roll-up: grid columns, rows for the grid, the grouped result of a bulk action
and the FLC variance chart (built from the roll-up's rows; unit-tested without a browser)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go

from dashboard.components.grid import column
from dashboard.domain import submission as sm

STATUS_FILTERS = [
    {"value": "all", "label": "All statuses"},
    {"value": "DRAFT", "label": "Draft"},
    {"value": "SUBMITTED", "label": "Submitted"},
    {"value": "RETURNED", "label": "Returned"},
    {"value": "APPROVED", "label": "Approved"},
    {"value": "LOCKED", "label": "Locked"},
]

# Rows are selected with their checkbox only (a click on a row leaves the selection alone);
# the district total and sites without a row id are never selectable.
ROW_SELECTION: dict[str, Any] = {
    "mode": "multiRow",
    "checkboxes": True,
    "headerCheckbox": True,
    "enableClickSelection": False,
    "hideDisabledCheckboxes": True,
    "isRowSelectable": {"function": "!!(params.data && params.data.site_id > 0)"},
}
# The checkbox column stays at the left with the site while the other columns scroll.
SELECTION_COLUMN: dict[str, Any] = {"pinned": "left", "width": 44, "suppressSizeToFit": True}

# Shown by "More columns": FLC itself, the other lines, the account manager and who edited
# last (they would push the decision columns out of view at 1440 px).
DETAIL_FIELDS = (
    "flc",
    "account_manager",
    "external_revenue",
    "external_revenue_pct",
    "internal_revenue",
    "internal_revenue_pct",
    "payroll",
    "payroll_pct",
    "last_edit",
)


def column_defs(details: bool = False) -> list[dict]:
    """The decision columns first (status, FLC against budget, flags, explained), then the
    waiting time; FLC itself, the other lines and the people only with ``details``."""
    columns = [
        column("site_link", "Site", cellRenderer="markdown", pinned="left", minWidth=230),
        column(
            "status_label",
            "Status",
            minWidth=105,
            cellClassRules={
                "status-submitted": "params.value === 'Submitted'",
                "status-returned": "params.value === 'Returned'",
                "status-approved": "params.value === 'Approved'",
            },
        ),
        column("flc_var", "FLC vs budget $", "money", minWidth=110),
        column("flc_pct", "FLC vs budget %", "percent", minWidth=100),
        column("flags", "Flags", minWidth=190, tooltipField="flags"),
        column(
            "explained",
            "Explained",
            minWidth=105,
            cellClassRules={"cell-negative": "params.value === 'Missing'"},
        ),
        column(
            "days_waiting",
            "Days waiting",
            "count",
            minWidth=90,
            headerTooltip="Business days since it was submitted",
            cellClassRules={"cell-negative": "params.data.review_overdue === true"},
        ),
        column(
            "late_label",
            "Deadline",
            minWidth=110,
            cellClassRules={"cell-negative": "params.value === 'Not submitted'"},
        ),
        column("flc", "FLC", "money", minWidth=105),
        column("account_manager", "Account manager", minWidth=130),
        column("external_revenue", "External revenue", "money", minWidth=115),
        column("external_revenue_pct", "Ext. rev vs budget", "percent", minWidth=110),
        column("internal_revenue", "Internal revenue", "money", minWidth=115),
        column("internal_revenue_pct", "IR vs budget", "percent", minWidth=100),
        column("payroll", "Payroll", "money", minWidth=105),
        column("payroll_pct", "Payroll vs budget", "percent", minWidth=110),
        column("last_edit", "Last edit", minWidth=150),
    ]
    for c in columns:
        if c["field"] in DETAIL_FIELDS:
            c["hide"] = not details
    return columns


def site_href(site_id: int, year: int, month: int) -> str:
    """The site's workspace on its Submission tab for the month under review."""
    query = {"site": site_id, "start": f"{year}-{month:02d}", "tab": "submission"}
    return f"/workspace?{urlencode(query)}"


def performance_href(district_id: int, year: int, month: int) -> str:
    """Performance of the district, its range ending with the month under review."""
    return f"/performance?{urlencode({'district': district_id, 'month': f'{year}-{month:02d}'})}"


def grid_rows(rollup: dict, status: str = "all") -> list[dict]:
    """The roll-up's site rows for the grid (a link to each site's Submission tab for the
    month), filtered by status."""
    year, month = rollup["year"], rollup["month"]
    rows = []
    for row in rollup["rows"]:
        if status not in ("all", None, "") and row["status"] != status:
            continue
        href = site_href(row["site_id"], year, month)
        rows.append(
            {
                **row,
                "row_id": str(row["site_id"]),
                "site_link": f"[{row['site']}]({href})",
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


# --- The result of a bulk action ---------------------------------------------------------

NOT_SUBMITTED = "not submitted"
NEEDS_EXPLANATION = "need explanations"
ALREADY_APPROVED = "already approved"
OUT_OF_SCOPE = "not in your scope"
REFUSED = "refused"
GROUP_ORDER = (NOT_SUBMITTED, NEEDS_EXPLANATION, ALREADY_APPROVED, OUT_OF_SCOPE, REFUSED)


def skip_group(state: str | None, reason: str) -> str:
    """Which group a skipped site belongs to: by its state as read before the action (a
    draft is "not submitted", whatever its flags), else by the service's reason."""
    if state in (sm.DRAFT, sm.RETURNED):
        return NOT_SUBMITTED
    if state in (sm.APPROVED, sm.LOCKED):
        return ALREADY_APPROVED
    if reason.startswith("unexplained variance"):
        return NEEDS_EXPLANATION
    if reason == "not in your scope":
        return OUT_OF_SCOPE
    return REFUSED


def outcome_summary(
    verb: str,
    done: list[int],
    skipped: list[tuple[int, str]],
    states: dict[int, str],
    names: dict[int, str],
) -> dict:
    """One line ("Approved 1 · 45 not submitted · 2 need explanations") and the details per
    group: [(heading, [(site, why)])]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for site_id, why in skipped:
        state = states.get(site_id)
        group = skip_group(state, why)
        if group in (NOT_SUBMITTED, ALREADY_APPROVED):
            why = sm.STATE_LABELS[state]  # the state says it all
        groups.setdefault(group, []).append((names.get(site_id, str(site_id)), why))
    counts = Counter({g: len(v) for g, v in groups.items()})
    parts = [f"{verb} {len(done)}"] + [f"{counts[g]} {g}" for g in GROUP_ORDER if counts[g]]
    details = []
    if done:
        details.append((f"{verb} ({len(done)})", [(names.get(s, str(s)), "") for s in done]))
    for group in GROUP_ORDER:
        if group in groups:
            details.append((f"{group.capitalize()} ({counts[group]})", groups[group]))
    return {"line": " · ".join(parts), "details": details}


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
