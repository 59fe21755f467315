"""The app shell: header with the signed-in person, role-aware navigation, page container."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc, html

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
                        html.Button(
                            "Sign out",
                            id="shell-sign-out",
                            type="submit",
                            className="shell-sign-out",
                        ),
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
                dmc.AppShellMain(dash.page_container),
            ],
            id="shell-appshell",
            header={"height": 56},
            navbar={"width": 220, "breakpoint": "sm", "collapsed": {"mobile": True}},
            padding="md",
        ),
        theme={"primaryColor": "blue", "fontFamily": "system-ui, -apple-system, sans-serif"},
    )
