"""Sign-in, sign-out and the guard on every Dash route (through Flask's test client)."""

from sqlalchemy import select

from dashboard.data.models import AuditLog
from dashboard.data.seed import DEMO_PASSWORD


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
    for _ in range(10):
        assert auth.login(email, "wrong-password-x").status_code == 401
    blocked = auth.login(email)  # even the right password waits now
    assert blocked.status_code == 401
    assert "Too many attempts" in blocked.get_data(as_text=True)


def test_sign_ins_are_audited(auth, portfolio, db):
    email = portfolio.demo_accounts["executive"]
    auth.login(email, "wrong-password-y")
    auth.login(email)
    with db.read() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.record_key == email).order_by(AuditLog.id)
        ).all()
    assert actions[-2:] == ["sign_in_failed", "sign_in"]


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
    auth.client.post("/logout")
    assert auth.login(email).status_code == 302  # the new hash signs in
