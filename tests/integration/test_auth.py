"""Sign-in, sign-out and the guard on every Dash route (through Flask's test client)."""

from sqlalchemy import select

from dashboard.data.models import AuditLog
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services import sign_in_throttle


def test_pages_redirect_to_sign_in_without_a_session(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")


def test_dash_endpoints_refuse_without_a_session(client):
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    response = client.post(
        "/_dash-update-component",
        json={
            "output": "home-content.children",
            "outputs": {"id": "home-content", "property": "children"},
            "inputs": [{"id": "home-month", "property": "value", "value": "2026-11"}],
            "changedPropIds": [],
            "state": [],
        },
    )
    assert response.status_code == 401
    assert b"home-sites-grid" not in response.data


def test_sign_in_page_and_assets_are_public(client):
    assert client.get("/login").status_code == 200
    assert client.get("/assets/login.css").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_wrong_password_gets_a_generic_refusal(auth, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    wrong = auth.login(email, "not-the-password")
    unknown = auth.login("nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The e-mail or password is not right."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert auth.client.get("/_dash-layout").status_code == 401


def test_sign_in_sets_a_safe_cookie_and_opens_dash(auth, portfolio):
    response = auth.login(portfolio.demo_accounts["executive"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert auth.client.get("/_dash-layout").status_code == 200


def test_next_is_kept_but_never_leaves_the_site(auth, portfolio):
    email = portfolio.demo_accounts["district_manager"]
    assert auth.login(email, next_url="//evil.example/x").headers["Location"] == "/"
    auth.logout()
    assert auth.login(email, next_url="https://evil.example/").headers["Location"] == "/"
    auth.logout()
    assert auth.login(email, next_url="/?tab=1").headers["Location"] == "/?tab=1"


def test_sign_in_without_the_form_token_is_rejected(client, portfolio):
    client.get("/login")
    response = client.post(
        "/login", data={"email": portfolio.demo_accounts["admin"], "password": DEMO_PASSWORD}
    )
    assert response.status_code == 400


def test_sign_out_ends_the_session(auth, portfolio):
    auth.login(portfolio.demo_accounts["account_manager"])
    assert auth.client.get("/_dash-layout").status_code == 200
    assert auth.logout().status_code == 302
    assert auth.client.get("/_dash-layout").status_code == 401
    assert auth.client.get("/").status_code == 302


def test_repeated_failures_are_throttled(auth, portfolio):
    email = portfolio.demo_accounts["regional_vp"]
    for _ in range(sign_in_throttle.PAIR_FREE):
        assert auth.login(email, "wrong-password-x").status_code == 401
    blocked = auth.login(email)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many attempts. Try again in" in blocked.get_data(as_text=True)
    assert auth.client.get("/_dash-layout").status_code == 401


def test_sign_ins_are_audited(auth, portfolio, db):
    email = portfolio.demo_accounts["executive"]
    auth.login(email, "wrong-password-y")
    auth.login(email)
    with db.read() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.record_key == email).order_by(AuditLog.id)
        ).all()
    # The database is this test's own: these are all of the person's audited actions (the
    # seeded hash is upgraded at the first sign-in).
    assert actions == ["sign_in_failed", "sign_in", "password_rehashed"]


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_public_paths_are_exact_not_prefixes(client):
    # A path that merely starts like a public one must still require sign-in.
    assert client.get("/login-history").status_code == 302
    assert client.get("/healthz/extra").status_code == 302


def test_each_seeded_account_has_its_own_salt_and_is_rehashed_at_its_first_sign_in(
    auth, portfolio, db
):
    """Seeded demo accounts share the printed password, not a hash: every hash has its own
    salt. The first sign-in replaces the light seed hash with the standard argon2id one
    (audited); the password keeps working."""
    from argon2 import PasswordHasher

    from dashboard.data.models import User

    with db.read() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    salts = {h.split("$")[4] for h in hashes}
    assert len(hashes) > 10 and len(set(hashes)) == len(salts) == len(hashes)

    with db.read() as session:  # a person no other test signs in as
        email, before = session.execute(
            select(User.email, User.password_hash)
            .where(
                User.role == "account_manager",
                User.email.not_in(list(portfolio.demo_accounts.values())),
            )
            .order_by(User.email.desc())
        ).first()
    standard = PasswordHasher()
    assert auth.login(email).status_code == 302
    with db.read() as session:
        after = session.scalar(select(User.password_hash).where(User.email == email))
        rehashed = session.scalars(
            select(AuditLog).where(AuditLog.action == "password_rehashed")
        ).all()
    assert standard.check_needs_rehash(before)  # the light seed hash
    assert after != before and any(r.record_key == email for r in rehashed)
    assert not standard.check_needs_rehash(after)
    assert standard.verify(after, DEMO_PASSWORD)
    auth.logout()
    assert auth.login(email).status_code == 302  # the new hash signs in


def test_sign_in_without_the_forms_token_is_refused(client, portfolio):
    """Login CSRF: a POST with the right e-mail and password but no token (or another
    session's) does not sign anyone in."""
    email = portfolio.demo_accounts["account_manager"]
    bare = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert bare.status_code == 400
    assert client.get("/_dash-layout").status_code == 401
    client.get("/login")  # this session now has a token; a guessed one still fails
    forged = client.post(
        "/login", data={"csrf": "guessed", "email": email, "password": DEMO_PASSWORD}
    )
    assert forged.status_code == 400
    assert client.get("/_dash-layout").status_code == 401


def test_sign_out_is_a_post_with_the_sessions_token(auth, portfolio):
    assert auth.login(portfolio.demo_accounts["executive"]).status_code == 302
    auth.client.get("/logout")  # a link or an image: the app's page, no sign-out
    assert auth.client.get("/_dash-layout").status_code == 200
    assert auth.client.post("/logout").status_code == 400  # another site's form has no token
    assert auth.client.get("/_dash-layout").status_code == 200  # still signed in
    layout = auth.client.get("/_dash-layout").get_data(as_text=True)
    with auth.client.session_transaction() as session:
        assert session["csrf"] in layout  # the sign-out form carries it
    assert auth.logout().status_code == 302
    assert auth.client.get("/_dash-layout").status_code == 401


def test_a_callback_post_from_another_site_is_refused(auth, portfolio):
    auth.login(portfolio.demo_accounts["executive"])
    body = {
        "output": "home-content.children",
        "outputs": {"id": "home-content", "property": "children"},
        "inputs": [
            {"id": "home-month", "property": "value", "value": "2026-11"},
            {"id": "shell-figures-refreshed", "property": "data", "value": 0},
        ],
        "changedPropIds": ["home-month.value"],
        "state": [],
    }
    foreign = auth.client.post(
        "/_dash-update-component", json=body, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert b"home-sites-grid" not in foreign.data
    same = auth.client.post(
        "/_dash-update-component", json=body, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 200


def test_an_oversize_body_is_refused_before_it_is_read(auth, portfolio):
    auth.login(portfolio.demo_accounts["executive"])
    big = b'{"output": "' + b"x" * 3_000_000 + b'"}'
    answer = auth.client.post(
        "/_dash-update-component", data=big, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert "limited to 2 MB" in answer.get_json()["error"]
