"""Security headers on every response: the Content-Security-Policy's directives, the hashes of
every inline script the Dash page holds, HSTS only when the cookie is marked secure."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re

import pytest

from dashboard.app import create_app

EXPECTED = {
    "default-src": {"'self'"},
    "style-src": {"'self'", "'unsafe-inline'"},
    "img-src": {"'self'", "data:", "blob:"},
    "font-src": {"'self'", "data:"},
    "connect-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "object-src": {"'none'"},
}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in parts}


def inline_scripts(page: str) -> list[str]:
    """The bodies of the scripts a browser would run inline (not src=, not JSON data)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)  # IE-only conditional comments
    found = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    return [body for attrs, body in found if "src=" not in attrs and "json" not in attrs]


def sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/login", "/healthz", "/assets/app.css", "/_dash-layout"])
def test_every_response_carries_the_policy(client, path):
    response = client.get(path)  # /_dash-layout: 401 before sign-in, with the headers still
    found = directives(response)
    for name, values in EXPECTED.items():
        assert set(found[name]) == values, name
    scripts = found["script-src"]
    assert scripts[0] == "'self'"
    assert scripts[1:] and all(s.startswith("'sha256-") for s in scripts[1:])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # SESSION_COOKIE_SECURE=0


def test_every_inline_script_of_the_page_is_allowed_by_its_hash(client, auth, portfolio):
    auth.login(portfolio.demo_accounts["account_manager"])
    page = client.get("/workspace")
    assert page.status_code == 200
    bodies = inline_scripts(page.get_data(as_text=True))
    # The renderer's start, the pages' title callback and the workspace's two clientside
    # callbacks: the hashes were taken after Dash's setup added the last of them.
    assert len(bodies) >= 4
    allowed = set(directives(page)["script-src"])
    assert {sha256(body) for body in bodies} <= allowed
    assert allowed == {"'self'"} | {sha256(body) for body in bodies}


def test_sign_in_page_has_no_inline_script_or_style(client):
    page = client.get("/login").get_data(as_text=True)
    assert inline_scripts(page) == []
    assert "<style" not in page and "style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_pages_and_callbacks_are_not_cached(client, auth, portfolio):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    auth.login(portfolio.demo_accounts["executive"])
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"


def test_hsts_only_when_the_session_cookie_is_secure(settings, portfolio):
    app = create_app(dataclasses.replace(settings, session_cookie_secure=True))
    try:
        client = app.server.test_client()
        for path in ("/login", "/healthz", "/assets/app.css"):
            response = client.get(path)
            assert response.headers["Strict-Transport-Security"] == (
                "max-age=31536000; includeSubDomains"
            )
            assert "Content-Security-Policy" in response.headers
    finally:
        app.server.extensions["dashboard.db"].dispose()
