"""Server-side sessions and shared sign-in throttling (issue 14, items 2 and 5), through the
real app on a real database (SQLite, or PostgreSQL when DATABASE_URL points at it).

Two app instances built with ``create_app`` on one database and no Redis stand for two
gunicorn workers (each with a cache of its own), a third for a restarted worker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from sqlalchemy import delete, func, select, update

from dashboard import auth
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.context import current_principal
from dashboard.data.models import AuditLog, SignInAttempt, User, UserSession
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services import accounts, sessions, sign_in_throttle
from dashboard.services.sessions import utc_now
from tests.conftest import SignIn

HOME_CALLBACK = {
    "output": "home-content.children",
    "outputs": {"id": "home-content", "property": "children"},
    "inputs": [
        {"id": "home-month", "property": "value", "value": "2026-11"},
        {"id": "shell-figures-refreshed", "property": "data", "value": 0},
    ],
    "changedPropIds": ["home-month.value"],
    "state": [],
}
WRONG = "not-the-password-1"


@pytest.fixture
def no_redis(settings) -> Settings:
    """The Procfile's default: no REDIS_URL, so each app instance has a cache of its own."""
    return dataclasses.replace(settings, redis_url=None)


@pytest.fixture
def instances(no_redis):
    """A factory of app instances on the suite's database; all disposed at the end."""
    built = []

    def make(**changes):
        app = create_app(dataclasses.replace(no_redis, **changes))
        built.append(app)
        return app

    yield make
    for app in built:
        app.server.extensions["dashboard.db"].dispose()


def people(portfolio, count: int) -> list[str]:
    """E-mails of people other test modules do not sign in as: not the demo accounts, nor the
    last account manager (test_auth's rehash test wants that one's first sign-in)."""
    users = portfolio["app_user"]
    demo = set(portfolio.demo_accounts.values())
    others = users[~users["email"].isin(demo)]
    rehashed = others.loc[others["role"] == "account_manager", "email"].max()
    emails = sorted(e for e in others["email"] if e != rehashed)
    assert len(emails) >= count
    return emails[:count]


def user_id_of(db, email: str) -> int:
    with db.read() as session:
        return session.scalar(select(User.id).where(User.email == email))


def signed_in(client) -> bool:
    status = client.post("/_dash-update-component", json=HOME_CALLBACK).status_code
    assert status in (200, 401)
    return status == 200


def session_row_of(client) -> str:
    with client.session_transaction() as session:
        return sessions.row_id(session["sid"])


def attempt(app, email, password=WRONG, address="127.0.0.1", forwarded=None):
    """One sign-in through the form from a fresh browser at ``address`` (through a proxy that
    says ``forwarded`` when given)."""
    client = app.server.test_client()
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = client.get("/login", environ_base=environ, headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post(
        "/login",
        data={"csrf": token, "email": email, "password": password, "next": "/"},
        environ_base=environ,
        headers=headers,
    )


# --- Sessions ---------------------------------------------------------------------------------


def test_an_old_cookie_is_refused_after_sign_out_by_every_instance(instances, portfolio):
    """The measured defect: with two workers and no Redis, a cookie reused after sign-out was
    accepted 16 times in 60. Here: signed in on one instance, signed out on another, the old
    cookie is replayed on both and on a fresh instance (a restarted worker) — 0 of 30."""
    first, second = instances(), instances()
    email = people(portfolio, 1)[0]
    accepted = replays = 0
    for _ in range(5):
        client = first.server.test_client()
        assert SignIn(client).login(email).status_code == 302
        cookie = client.get_cookie("session").value
        other = second.server.test_client()
        other.set_cookie("session", cookie)
        assert signed_in(client) and signed_in(other)  # one session, good on both
        assert SignIn(other).logout().status_code == 302
        for app in (first, second, instances()):
            replay = app.server.test_client()
            replay.set_cookie("session", cookie)
            accepted += signed_in(replay)
            page = replay.get("/")
            accepted += page.status_code != 302 or "/login" not in page.headers["Location"]
            replays += 2
    assert replays == 30
    assert accepted == 0


def test_sign_out_ends_the_row_and_is_audited_once(app, db, portfolio):
    email = people(portfolio, 2)[1]
    client = app.server.test_client()
    SignIn(client).login(email)
    row = session_row_of(client)
    with client.session_transaction() as session:
        token = session["sid"]
    with db.read() as session:
        assert session.get(UserSession, token) is None  # the table holds no usable token
        live = session.get(UserSession, row)
    assert live.ended_at is None and live.user_id == user_id_of(db, email)
    SignIn(client).logout()
    SignIn(client).logout()  # a second sign-out of the same session changes nothing
    with db.read() as session:
        ended = session.get(UserSession, row)
        sign_outs = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "sign_out", AuditLog.record_key == email)
        )
    assert ended.ended_reason == "sign_out" and ended.ended_at is not None
    assert sign_outs == 1
    with db.write() as session:  # a replay after sign-out: no second audit row
        assert sessions.end(session, token) is False


def test_an_idle_session_ends_and_the_timeout_is_a_setting(instances, db, portfolio):
    strict = instances(session_idle_minutes=5)
    email = people(portfolio, 3)[2]
    client = strict.server.test_client()
    SignIn(client).login(email)
    row = session_row_of(client)

    def idle_for(minutes: float) -> None:
        with db.write() as session:
            session.execute(
                update(UserSession)
                .where(UserSession.id == row)
                .values(last_seen_at=utc_now() - dt.timedelta(minutes=minutes))
            )

    idle_for(4)
    assert signed_in(client)  # used within 5 minutes: live, and its use recorded
    with db.read() as session:
        seen = session.get(UserSession, row).last_seen_at
    assert utc_now() - seen < dt.timedelta(minutes=1)
    idle_for(6)
    assert not signed_in(client)
    assert client.get("/").status_code == 302
    with db.read() as session:
        ended = session.get(UserSession, row)
        audited = session.scalars(
            select(AuditLog.reason).where(
                AuditLog.action == "session_ended", AuditLog.record_key == email
            )
        ).all()
    assert ended.ended_reason == "idle" and audited == ["idle"]
    idle_for(0)  # ended stays ended, however fresh its last use looks
    assert not signed_in(client)


def test_default_idle_timeout_is_an_hour(instances, db, portfolio):
    app = instances()
    email = people(portfolio, 4)[3]
    client = app.server.test_client()
    SignIn(client).login(email)
    row = session_row_of(client)
    with db.write() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == row)
            .values(last_seen_at=utc_now() - dt.timedelta(minutes=55))
        )
    assert signed_in(client)
    with db.write() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == row)
            .values(last_seen_at=utc_now() - dt.timedelta(minutes=61))
        )
    assert not signed_in(client)


def test_a_session_ends_eight_hours_after_sign_in_however_busy(app, db, portfolio):
    email = people(portfolio, 5)[4]
    client = app.server.test_client()
    SignIn(client).login(email)
    row = session_row_of(client)
    with db.write() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == row)
            .values(created_at=utc_now() - dt.timedelta(hours=7, minutes=58))
        )
    assert signed_in(client)
    with db.write() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == row)
            .values(created_at=utc_now() - dt.timedelta(hours=8, minutes=1))
        )
    assert not signed_in(client)  # used a moment ago, but past the absolute lifetime
    with db.read() as session:
        assert session.get(UserSession, row).ended_reason == "expired"


def test_last_use_is_written_at_most_once_a_minute(app, db, portfolio):
    email = people(portfolio, 6)[5]
    client = app.server.test_client()
    SignIn(client).login(email)
    row = session_row_of(client)
    half_a_minute_ago = utc_now() - dt.timedelta(seconds=30)
    with db.write() as session:
        session.get(UserSession, row).last_seen_at = half_a_minute_ago
    for _ in range(3):
        assert signed_in(client)
    with db.read() as session:
        assert session.get(UserSession, row).last_seen_at == half_a_minute_ago
    with db.write() as session:
        session.get(UserSession, row).last_seen_at = utc_now() - dt.timedelta(seconds=90)
    assert signed_in(client)
    with db.read() as session:
        assert utc_now() - session.get(UserSession, row).last_seen_at < dt.timedelta(seconds=30)


def test_ending_every_session_of_a_person(instances, db, portfolio):
    """A password change or a deactivation ends all of the person's sessions at once, on
    every instance; another person's session is untouched."""
    first, second = instances(), instances()
    email, bystander = people(portfolio, 8)[6:8]
    laptop, phone = first.server.test_client(), second.server.test_client()
    other = first.server.test_client()
    SignIn(laptop).login(email)
    SignIn(phone).login(email)
    SignIn(other).login(bystander)
    assert signed_in(laptop) and signed_in(phone) and signed_in(other)
    person, admin = user_id_of(db, email), user_id_of(db, portfolio.demo_accounts["admin"])
    with db.read() as session:
        # Sessions other tests of the shared database left open for this person.
        earlier = session.scalar(
            select(func.count()).where(
                UserSession.user_id == person, UserSession.ended_at.is_(None)
            )
        )
        last_audit = session.scalar(select(func.max(AuditLog.id))) or 0
    with db.write() as session:
        ended = sessions.end_all(session, person, sessions.PASSWORD_CHANGED, by=admin)
    assert ended == earlier  # the two just opened and any left open before
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(other)
    with db.write() as session:
        assert sessions.end_all(session, person, sessions.DEACTIVATED) == 0
    with db.read() as session:
        rows = session.scalars(select(UserSession).where(UserSession.user_id == person)).all()
        audited = session.execute(
            select(AuditLog.user_id, AuditLog.new_value, AuditLog.reason).where(
                AuditLog.action == "sessions_ended",
                AuditLog.record_key == email,
                AuditLog.id > last_audit,
            )
        ).all()
    assert "password_changed" in {r.ended_reason for r in rows}
    assert all(r.ended_at is not None for r in rows)
    assert audited == [(admin, str(earlier), "password_changed")]
    SignIn(laptop).login(email)  # a new sign-in works
    assert signed_in(laptop)


def test_a_deactivated_persons_session_is_refused(app, db, portfolio):
    email = people(portfolio, 9)[8]
    client = app.server.test_client()
    SignIn(client).login(email)
    assert signed_in(client)
    try:
        with db.write() as session:
            session.execute(update(User).where(User.email == email).values(is_active=False))
        assert not signed_in(client)
    finally:
        with db.write() as session:
            session.execute(update(User).where(User.email == email).values(is_active=True))


def test_a_background_jobs_person_is_refused_after_sign_out(app, db, portfolio):
    """A Dash background callback runs without a request (a Celery task or a process of its
    own) and takes the person from the cookie sent with it: the session's row decides."""
    email = people(portfolio, 10)[9]
    client = app.server.test_client()
    SignIn(client).login(email)
    cookie = client.get_cookie("session").value

    def job_principal():
        marker = context_value.set(AttributeDict(cookies={"session": cookie}))
        try:
            with app.server.app_context():
                return current_principal()
        finally:
            context_value.reset(marker)

    assert job_principal().email == email
    SignIn(client).logout()
    assert job_principal() is None
    forged = context_value.set(AttributeDict(cookies={"session": cookie[:-2] + "xx"}))
    try:
        with app.server.app_context():
            assert current_principal() is None
    finally:
        context_value.reset(forged)


def test_a_background_jobs_person_is_refused_when_idle(app, db, portfolio):
    email = people(portfolio, 11)[10]
    client = app.server.test_client()
    SignIn(client).login(email)
    cookie = client.get_cookie("session").value
    with db.write() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id == session_row_of(client))
            .values(last_seen_at=utc_now() - dt.timedelta(hours=2))
        )
    marker = context_value.set(AttributeDict(cookies={"session": cookie}))
    try:
        with app.server.app_context():
            assert current_principal() is None
    finally:
        context_value.reset(marker)


def test_old_session_rows_are_pruned(db, portfolio):
    person = user_id_of(db, people(portfolio, 1)[0])
    now = utc_now()
    old, recent = "0" * 63 + "a", "0" * 63 + "b"
    with db.write() as session:
        for sid, age in ((old, dt.timedelta(days=31)), (recent, dt.timedelta(days=29))):
            at = now - age
            session.add(UserSession(id=sid, user_id=person, created_at=at, last_seen_at=at))
    with db.write() as session:
        assert sessions.prune(session, now) >= 1
    with db.write() as session:
        assert session.get(UserSession, old) is None
        assert session.get(UserSession, recent) is not None
        session.execute(delete(UserSession).where(UserSession.id == recent))


# --- Throttling -------------------------------------------------------------------------------


def test_backoff_per_account_and_address_grows_and_a_success_clears_it(db):
    email, address = "backoff@example.com", "198.51.100.7"
    t = utc_now()
    for _ in range(sign_in_throttle.PAIR_FREE):
        assert sign_in_throttle.admit(db, email, address, t).attempt_id
    waits = []
    for _ in range(5):
        wait = sign_in_throttle.admit(db, email, address, t).wait_s
        waits.append(wait)
        assert sign_in_throttle.admit(db, email, address, t + dt.timedelta(seconds=wait - 1)).wait_s
        t += dt.timedelta(seconds=wait)
        assert sign_in_throttle.admit(db, email, address, t).attempt_id  # one more failure
    assert waits == [2, 4, 8, 16, 32]
    with db.read() as session:
        assert sign_in_throttle.wait_seconds(session, email, address, t) == 64
    t += dt.timedelta(seconds=64)
    success = sign_in_throttle.admit(db, email, address, t)
    with db.write() as session:
        sign_in_throttle.succeeded(session, success.attempt_id)
    for _ in range(sign_in_throttle.PAIR_FREE):  # the count starts again after a success
        assert sign_in_throttle.admit(db, email, address, t).attempt_id
    assert sign_in_throttle.admit(db, email, address, t).wait_s == 2


def test_the_wait_never_exceeds_fifteen_minutes():
    waits = [sign_in_throttle.backoff_seconds(n, 5) for n in range(0, 40)]
    assert waits[:5] == [0] * 5 and waits[5:8] == [2, 4, 8]
    assert max(waits) == 900 and waits == sorted(waits)


def test_a_throttled_attempt_shows_the_wait_and_never_checks_the_password(
    app, db, portfolio, monkeypatch
):
    email = people(portfolio, 4)[3]
    address = "198.51.100.20"
    with db.read() as session:  # attempts other tests of the shared database made
        before = session.scalar(
            select(func.count()).select_from(SignInAttempt).where(SignInAttempt.email == email)
        )
    for _ in range(sign_in_throttle.PAIR_FREE):
        assert attempt(app, email, address=address).status_code == 401
    checked = []
    real = accounts.authenticate
    monkeypatch.setattr(
        accounts, "authenticate", lambda *a, **k: checked.append(a) or real(*a, **k)
    )
    refused = attempt(app, email, DEMO_PASSWORD, address=address)  # even the right password
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] in ("1", "2")
    assert re.search(r"Too many attempts\. Try again in [12] seconds?\.", refused.text)
    assert checked == []  # refused before the password was looked at
    with db.read() as session:
        failures = session.scalar(
            select(func.count()).select_from(SignInAttempt).where(SignInAttempt.email == email)
        )
    assert failures - before == sign_in_throttle.PAIR_FREE  # the throttled one is not counted
    other = attempt(app, email, DEMO_PASSWORD, address="198.51.100.21")
    assert other.status_code == 302 and checked  # from elsewhere the person signs in


def test_one_account_from_many_addresses_is_throttled_but_not_where_the_person_works(
    app, portfolio
):
    email = people(portfolio, 5)[4]
    office = "198.51.100.30"
    assert attempt(app, email, DEMO_PASSWORD, address=office).status_code == 302
    statuses = [
        attempt(app, email, address=f"203.0.113.{n}").status_code
        for n in range(1, sign_in_throttle.ACCOUNT_FREE + 2)
    ]
    assert statuses == [401] * sign_in_throttle.ACCOUNT_FREE + [429]  # before the 20th try
    assert attempt(app, email, address="203.0.113.200").status_code == 429
    # The known address is not held back by a stranger's guesses.
    assert attempt(app, email, DEMO_PASSWORD, address=office).status_code == 302


def test_one_address_trying_many_accounts_is_throttled(app, portfolio):
    address = "198.51.100.40"
    known = people(portfolio, 6)[5]
    assert attempt(app, known, DEMO_PASSWORD, address=address).status_code == 302
    statuses = [
        attempt(app, f"sprayed-{n}@example.com", address=address).status_code
        for n in range(sign_in_throttle.ADDRESS_FREE + 1)
    ]
    assert statuses == [401] * sign_in_throttle.ADDRESS_FREE + [429]  # before the 20th try
    answer = attempt(app, "someone-else@example.com", DEMO_PASSWORD, address=address)
    assert answer.status_code == 429
    # The person who signs in from here is not held back by the address's failures.
    assert attempt(app, known, DEMO_PASSWORD, address=address).status_code == 302


def test_the_client_address_behind_trusted_proxies(instances, db):
    """Without TRUSTED_PROXIES, X-Forwarded-For is ignored (anyone can send it): everyone
    behind the proxy is one address. With TRUSTED_PROXIES=1 the proxy's entry counts, and a
    client's own forged entry in front of it does not."""
    proxy = "10.20.0.1"
    direct, behind = instances(), instances(trusted_proxies=1)
    attempt(direct, "direct@example.com", address=proxy, forwarded="203.0.113.9")
    attempt(behind, "behind@example.com", address=proxy, forwarded="192.0.2.1, 203.0.113.9")
    with db.read() as session:
        stored = dict(
            session.execute(
                select(SignInAttempt.email, SignInAttempt.address).where(
                    SignInAttempt.email.in_(["direct@example.com", "behind@example.com"])
                )
            ).all()
        )
    assert stored == {"direct@example.com": proxy, "behind@example.com": "203.0.113.9"}
    # Twelve people behind the proxy each mistype once: without the setting they are one
    # address (with the failure above, the tenth of them waits), with it they are twelve.
    shared = [
        attempt(direct, f"typo-{n}@example.com", address=proxy, forwarded=f"203.0.113.{n}")
        for n in range(20, 32)
    ]
    separate = [
        attempt(behind, f"typo-{n}@example.com", address=proxy, forwarded=f"203.0.113.{n}")
        for n in range(40, 52)
    ]
    assert [a.status_code for a in shared].count(429) == 13 - sign_in_throttle.ADDRESS_FREE
    assert {a.status_code for a in separate} == {401}


def test_settings_read_the_idle_timeout_and_proxy_count(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "20")
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    settings = Settings.from_env()
    assert (settings.session_idle_minutes, settings.trusted_proxies) == (20, 2)
    monkeypatch.delenv("SESSION_IDLE_MINUTES")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert (Settings.from_env().session_idle_minutes, Settings.from_env().trusted_proxies) == (
        60,
        0,
    )


def test_old_attempts_are_pruned(db):
    now = utc_now()
    rows = [
        ("pruned-failure@example.com", dt.timedelta(days=2), False),
        ("kept-success@example.com", dt.timedelta(days=10), True),
        ("pruned-success@example.com", dt.timedelta(days=31), True),
        ("kept-failure@example.com", dt.timedelta(hours=2), False),
    ]
    with db.write() as session:
        for email, age, ok in rows:
            session.add(SignInAttempt(at=now - age, email=email, address="x", succeeded=ok))
    with db.write() as session:
        sign_in_throttle.prune(session, now)
    with db.read() as session:
        left = set(
            session.scalars(
                select(SignInAttempt.email).where(SignInAttempt.email.in_([r[0] for r in rows]))
            )
        )
    assert left == {"kept-success@example.com", "kept-failure@example.com"}


def test_the_sign_in_module_keeps_next_on_the_site():
    assert auth._safe_next("//evil.example/x") == "/"
    assert auth._safe_next("/review?x=1") == "/review?x=1"
