"""HTTP security headers of every response: a Content-Security-Policy without inline or
evaluated scripts, HSTS behind HTTPS, no framing, no type sniffing, same-origin referrers.

A few lines here rather than flask-talisman: the policy is one fixed string computed once the
Dash app is set up (its inline scripts' hashes), with no per-view policies or nonces, and
talisman's defaults would fight settings this app already makes (it redirects to HTTPS itself,
rewrites the session cookie flags, adds a Permissions-Policy) and would each have to be turned
off — a dependency to keep up to date for less code than it takes to configure it.

What the policy allows, and why (checked in Chromium by ``tests/browser/test_csp.py``):

* ``script-src 'self'`` plus the SHA-256 of each inline script Dash writes into its page (the
  renderer's start and the clientside callbacks given as strings: ``Dash.csp_hashes()``). No
  ``'unsafe-eval'``: dash-ag-grid evaluates the ``{"function": ...}`` column specs with
  esprima + static-eval (an AST walk, no ``eval``; only a ``function () {}`` literal inside a
  spec would reach ``Function``, and the app has none), and the chart types used (bar, box,
  scatter, waterfall) draw with SVG, not the WebGL code generation of ``*gl`` traces.
* ``style-src 'unsafe-inline'``: Mantine and AG Grid write ``<style>`` elements and style
  attributes at run time. Styles cannot run code, so this is the usual trade.
* ``img-src data: blob:``: AG Grid's icons and Plotly's "download plot" image are data/blob
  URLs; ``font-src data:`` for fonts embedded in component stylesheets.
* ``connect-src 'self'``: callbacks, background-callback polling and asset loads only go to
  this server.
* ``frame-ancestors 'none'``, ``base-uri 'self'``, ``form-action 'self'`` (the sign-in and
  sign-out forms), ``object-src 'none'``.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash
from flask import request

HSTS = "max-age=31536000; includeSubDomains"  # one year; not preloaded (a domain-wide promise)


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """The policy's header value for a page whose inline scripts have ``script_hashes``."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def register_security_headers(app: dash.Dash) -> None:
    """Add the security headers to every response of ``app.server``.

    Call it once the Dash app is fully set up (every callback registered and Dash's
    first-request setup run, which adds the pages' clientside callback): the hashes of the
    inline scripts are taken here, and a script added later would be refused by browsers.
    """
    server = app.server
    policy = content_security_policy(app.csp_hashes())
    secure = server.extensions["dashboard.settings"].session_cookie_secure

    @server.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
        headers.setdefault("Referrer-Policy", "same-origin")
        if secure:  # only behind HTTPS: a browser would then refuse plain HTTP for a year
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.path.startswith("/_dash-") or request.path.startswith("/login"):
            headers.setdefault("Cache-Control", "no-store")
        return response
