"""The workspace's Submission tab: status, checklist, explanations, submit, review actions,
and the month's comment thread (layout and rendering; rules in domain/submission.py)."""

from __future__ import annotations

import datetime as dt

import dash_mantine_components as dmc
from dash import dcc, html

from dashboard.components.formatting import money, percent
from dashboard.domain import submission as sm

STATUS_COLORS = {
    sm.DRAFT: "gray",
    sm.SUBMITTED: "blue",
    sm.APPROVED: "green",
    sm.RETURNED: "orange",
    sm.LOCKED: "dark",
}
KIND_LABELS = {
    "submit": "Submitted",
    "approve": "Approved",
    "return": "Returned",
    "reopen": "Reopened",
    "edit": "Changed after submission",
    "close": "Locked",
    "comment": "Comment",
}
LINE_LABELS = {"flc": "FLC", "internal_revenue": "Internal revenue"}


def layout():
    """Static controls (callbacks need them in the page); their content comes from
    ``render``."""
    explanation_boxes = [
        html.Div(
            dmc.Textarea(
                id=f"ws-sub-explain-{line}",
                label=f"Explain the {label} variance",
                autosize=True,
                minRows=2,
                inputProps={"maxLength": sm.MAX_COMMENT},
            ),
            id=f"ws-sub-explain-{line}-box",
            style={"display": "none"},
        )
        for line, label in LINE_LABELS.items()
    ]
    return html.Div(
        [
            dcc.Store(id="ws-sub-data"),
            dcc.Store(id="ws-sub-refresh", data=0),
            html.Div(id="ws-sub-summary"),
            html.Div(id="ws-sub-checklist"),
            *explanation_boxes,
            dmc.Group(
                [
                    dmc.Button(
                        "Save explanations", id="ws-sub-save-explain", variant="default", size="xs"
                    ),
                    dmc.Button("Submit for review", id="ws-sub-submit", size="xs"),
                ],
                id="ws-sub-am-actions",
                gap="xs",
                my="xs",
            ),
            html.Div(
                [
                    dmc.Textarea(
                        id="ws-sub-review-comment",
                        label="Comment for the account manager (required to return or reopen)",
                        autosize=True,
                        minRows=2,
                        inputProps={"maxLength": sm.MAX_COMMENT},
                    ),
                    dmc.Group(
                        [
                            dmc.Button("Approve", id="ws-sub-approve", color="green", size="xs"),
                            dmc.Button(
                                "Return with comment", id="ws-sub-return", color="orange", size="xs"
                            ),
                            dmc.Button("Reopen", id="ws-sub-reopen", variant="default", size="xs"),
                        ],
                        gap="xs",
                        my="xs",
                    ),
                ],
                id="ws-sub-review-actions",
                style={"display": "none"},
            ),
            html.Div(id="ws-sub-message", role="status", **{"aria-live": "polite"}),
            dmc.Divider(label="Comments", my="sm"),
            html.Div(id="ws-sub-thread"),
            dmc.Textarea(
                id="ws-sub-comment",
                placeholder="Add a comment to this month's thread",
                autosize=True,
                minRows=1,
                inputProps={"maxLength": sm.MAX_COMMENT},
            ),
            dmc.Button(
                "Add comment", id="ws-sub-add-comment", variant="default", size="xs", mt="xs"
            ),
        ]
    )


def status_badge(review: dict, badge_id: str = "ws-sub-status"):
    return dmc.Badge(
        review["status_label"],
        color=STATUS_COLORS.get(review["status"], "gray"),
        id=badge_id,
        variant="filled" if review["status"] != sm.DRAFT else "light",
    )


def month_label(review: dict) -> str:
    return dt.date(review["year"], review["month"], 1).strftime("%B %Y")


def summary(review: dict):
    """Status line, who submitted and decided, what the edit rule is now, the figures."""
    deadline = dt.date.fromisoformat(review["deadline"])
    lines = [
        dmc.Group(
            [
                dmc.Text(f"{month_label(review)} forecast", fw=700),
                status_badge(review),
                dmc.Text(f"Due {deadline:%a %b %-d, %Y}", size="sm", c="dimmed"),
            ],
            gap="xs",
        )
    ]
    if review.get("submitted_by"):
        lines.append(
            dmc.Text(
                f"Submitted by {review['submitted_by']} on {review['submitted_at'].replace('T', ' ')}",
                size="sm",
            )
        )
    if review["status"] == sm.RETURNED and review.get("review_comment"):
        lines.append(
            dmc.Alert(
                review["review_comment"],
                title=f"Returned by {review.get('reviewed_by') or 'your reviewer'}",
                color="orange",
                id="ws-sub-return-comment",
            )
        )
    if review.get("edit_block"):
        lines.append(dmc.Alert(review["edit_block"], color="gray", id="ws-sub-edit-block"))
    header = html.Tr([html.Th("")] + [html.Th(h) for h in ("Forecast", "Budget", "Variance", "%")])
    body = []
    for line, values in review["figures"].items():
        amount, fraction = values["variance"], values["fraction"]
        body.append(
            html.Tr(
                [
                    html.Td(
                        {"external_revenue": "External revenue", "payroll": "Payroll"}.get(
                            line, LINE_LABELS.get(line, line)
                        )
                    ),
                    html.Td(money(values["forecast"]), id=f"ws-sub-{line}"),
                    html.Td(money(values["budget"])),
                    html.Td(money(amount), className="cell-negative" if amount < 0 else None),
                    html.Td(percent(fraction)),
                ]
            )
        )
    lines.append(html.Table([html.Thead(header), html.Tbody(body)], className="impact-table"))
    return html.Div(lines)


def checklist(review: dict):
    """What blocks submission: missing inputs and flags without an explanation."""
    items = []
    for problem in review["missing"]:
        items.append(html.Li(problem, className="cell-negative"))
    limits = review["thresholds"]
    for flag in review["flags"]:
        share = "n/a" if flag["fraction"] is None else f"{flag['fraction'] * 100:+.1f}%"
        state = "explained" if flag["explained"] else "needs an explanation"
        items.append(
            html.Li(
                f"{flag['label']} is {money(flag['amount'])} ({share}) against budget — {state}.",
                className=None if flag["explained"] else "cell-negative",
            )
        )
    rule = (
        f"Variances of {limits['pct'] * 100:.1f}% or {money(limits['amount'])} or more (FLC and "
        "internal revenue against budget) need a written explanation."
    )
    if not items:
        items = [html.Li("Nothing blocks submission.")]
    return html.Div(
        [
            dmc.Text("Before submitting", fw=600, size="sm", mt="sm"),
            html.Ul(items, id="ws-sub-checklist-items"),
            dmc.Text(rule, size="xs", c="dimmed"),
        ]
    )


def thread(review: dict):
    if not review["thread"]:
        return dmc.Text("No comments yet.", size="sm", c="dimmed", id="ws-sub-thread-empty")
    return html.Ul(
        [
            html.Li(
                [
                    html.Strong(f"{KIND_LABELS.get(item['kind'], item['kind'])}"),
                    f" · {item['by']} · {item['at'].replace('T', ' ')}",
                    html.Div(item["body"], className="thread-body"),
                ],
                className=f"thread-item thread-{item['kind']}",
            )
            for item in review["thread"]
        ],
        className="submission-thread",
        id="ws-sub-thread-items",
    )
