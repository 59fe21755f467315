"""The app shell: header with the signed-in person, role-aware navigation, page container."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html
from flask import session

from dashboard.context import current_principal

# (label, path, roles that see it); pages of later features add their entries here.
NAVIGATION = (
    ("Home", "/", {"account_manager", "district_manager", "regional_vp", "executive", "admin"}),
    ("Workspace", "/workspace", {"account_manager", "district_manager", "regional_vp"}),
    ("P&L", "/pnl", {"account_manager", "district_manager", "regional_vp", "executive", "admin"}),
    (
        "Performance",
        "/performance",
        {"account_manager", "district_manager", "regional_vp", "executive", "admin"},
    ),
    (
        "Regional report",
        "/report",
        {"district_manager", "regional_vp", "executive", "admin"},
    ),
    ("Review", "/review", {"district_manager", "regional_vp", "executive", "admin"}),
    ("Inbox", "/inbox", {"account_manager", "district_manager", "regional_vp"}),
    (
        "Audit trail",
        "/audit",
        {"account_manager", "district_manager", "regional_vp", "executive", "admin"},
    ),
)


# Stored figures being refreshed (a bulk change, a new day): the shell polls, says so, and
# bumps FIGURES_REFRESHED when they are current again; pages that show figures listen to it.
FIGURES_NOTE = "shell-figures-note"
FIGURES_POLL = "shell-figures-poll"
FIGURES_PENDING = "shell-figures-pending"
FIGURES_REFRESHED = "shell-figures-refreshed"
POLL_IDLE_MS = 30_000
POLL_PENDING_MS = 3_000


def freshness_parts() -> list:
    return [
        html.Div(id=FIGURES_NOTE, role="status", **{"aria-live": "polite"}),
        dcc.Interval(id=FIGURES_POLL, interval=POLL_IDLE_MS),
        dcc.Store(id=FIGURES_PENDING, data=0),
        dcc.Store(id=FIGURES_REFRESHED, data=0),
    ]


def freshness_note(message: str | None):
    if not message:
        return None
    return dmc.Alert(
        message, id="shell-figures-alert", color="yellow", variant="light", mb="sm", p="xs"
    )


def navigation_links(role: str) -> list:
    return [
        dmc.NavLink(label=label, href=path, id=f"shell-nav-{path.strip('/') or 'home'}")
        for label, path, roles in NAVIGATION
        if role in roles
    ]


def app_shell():
    """Layout function: evaluated per request, so the header shows who is signed in."""
    principal = current_principal()
    if principal is None:  # the guard already refuses; keep the layout empty regardless
        return html.Div("Sign in first.", id="shell-signed-out")
    header = dmc.Group(
        [
            dmc.Group(
                [
                    dmc.Burger(
                        id="shell-burger",
                        hiddenFrom="sm",
                        size="sm",
                        opened=False,
                        **{"aria-label": "Open navigation"},
                    ),
                    dcc.Link(
                        dmc.Title("Site Forecasting", order=3), href="/", className="shell-brand"
                    ),
                ],
                gap="sm",
                wrap="nowrap",
            ),
            dmc.Group(
                [
                    html.Div(
                        [
                            dmc.Text(
                                principal.display_name,
                                id="shell-user-name",
                                fw=600,
                                size="sm",
                                className="shell-user-name",
                            ),
                            dmc.Badge(
                                principal.role_label,
                                id="shell-user-role",
                                variant="light",
                                size="sm",
                            ),
                        ],
                        className="shell-user",
                    ),
                    html.Form(
                        [
                            # The session's form token: a sign-out another site posts fails.
                            dcc.Input(
                                type="hidden",
                                name="csrf",
                                value=session.get("csrf", ""),
                                id="shell-csrf",
                            ),
                            html.Button(
                                "Sign out",
                                id="shell-sign-out",
                                type="submit",
                                className="shell-sign-out",
                            ),
                        ],
                        method="POST",
                        action="/logout",
                    ),
                ],
                gap="sm",
                wrap="nowrap",
            ),
        ],
        justify="space-between",
        h="100%",
        px="md",
        wrap="nowrap",
    )
    return dmc.MantineProvider(
        dmc.AppShell(
            [
                dmc.AppShellHeader(header),
                dmc.AppShellNavbar(navigation_links(principal.role), p="sm", id="shell-navbar"),
                dmc.AppShellMain([*freshness_parts(), dash.page_container]),
            ],
            id="shell-appshell",
            header={"height": 56},
            navbar={"width": 220, "breakpoint": "sm", "collapsed": {"mobile": True}},
            padding="md",
        ),
        theme={"primaryColor": "blue", "fontFamily": "system-ui, -apple-system, sans-serif"},
    )
