"""Sign-in throttling shared by every worker and instance: each attempt is a row of
``sign_in_attempt``, and the wait before the next password check is computed from those rows.

Why a table and not Flask-Limiter: Flask-Limiter keeps its counters in Redis, Memcached or
MongoDB, or in each process's memory; it has no SQL storage. Without Redis (the Procfile's
default) its counters would be per worker — the defect measured in issue 14 (a limit per
process, forgotten by a restarted worker). The database is the one thing every worker and
instance shares with and without Redis, so the attempts live there.

Three limits, each an exponential backoff (never a lock): after ``free`` failures the next
password check waits 2 s, then 4, 8, ... up to 15 minutes after the latest failure.

* the account from this address: 5 free failures, counted since that pair's last success
  (a success clears it);
* the account from any address: 10 free failures a day (a guesser spread over many
  addresses);
* the address for any account: 10 free failures a day (one password tried on many accounts).

The two looser limits do not apply where the account has signed in successfully from this
address within 30 days (a known address): an attacker elsewhere can slow the account down
for strangers, but cannot keep the person out from where they usually work. Behind proxies,
``TRUSTED_PROXIES`` makes the client's address (``X-Forwarded-For``) count instead of the
proxy's. A throttled attempt is refused before the password is looked at and is not recorded
(hammering does not lengthen the wait; only password checks do).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from dashboard.data.db import Database
from dashboard.data.models import SignInAttempt
from dashboard.services.sessions import utc_now

PAIR_FREE = 5  # failures of one account from one address before waiting
ACCOUNT_FREE = 10  # failures of one account from all addresses in WINDOW
ADDRESS_FREE = 10  # failures of one address for all accounts in WINDOW
FIRST_WAIT_S = 2
LONGEST_WAIT_S = 15 * 60
WINDOW = dt.timedelta(days=1)  # failures are kept and counted this long
KNOWN_FOR = dt.timedelta(days=30)  # a success marks the address known (and is kept) this long
PRUNE_ONE_IN = 100  # attempts recorded per pruning of old ones (on average, on any worker)


def backoff_seconds(failures: int, free: int) -> int:
    """The wait after ``failures`` failures: none before ``free``, then 2, 4, 8 ... seconds,
    at most 15 minutes."""
    if failures < free:
        return 0
    return min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** min(failures - free, 20))


@dataclass(frozen=True)
class Admission:
    """The answer to a sign-in attempt: ``wait_s`` seconds still to wait (nothing recorded),
    or 0 and the ``attempt_id`` recorded as failed until :func:`succeeded` says otherwise."""

    wait_s: int
    attempt_id: int | None = None


def normal_email(email: str) -> str:
    return email.strip().lower()[:255]


def wait_seconds(session: Session, email: str, address: str, now: dt.datetime | None = None) -> int:
    """Seconds before a password may be checked for ``email`` from ``address`` (0: now)."""
    now = now or utc_now()
    email, address = normal_email(email), address[:64]
    since = now - WINDOW
    failed = SignInAttempt.succeeded.is_(False)
    rows = session.execute(
        select(
            SignInAttempt.id,
            SignInAttempt.at,
            SignInAttempt.email,
            SignInAttempt.address,
            SignInAttempt.succeeded,
        ).where(
            or_(
                and_(
                    SignInAttempt.email == email,
                    SignInAttempt.address == address,
                    SignInAttempt.at >= now - KNOWN_FOR,
                ),
                and_(SignInAttempt.email == email, failed, SignInAttempt.at >= since),
                and_(SignInAttempt.address == address, failed, SignInAttempt.at >= since),
            )
        )
    ).all()
    pair = [r for r in rows if r.email == email and r.address == address]
    last_success = max((r.id for r in pair if r.succeeded), default=None)
    pair_failures = [
        r.at
        for r in pair
        if not r.succeeded and r.at >= since and (last_success is None or r.id > last_success)
    ]
    waits = [_remaining(pair_failures, PAIR_FREE, now)]
    if last_success is None:  # a stranger to this account here: the looser limits too
        account = [r.at for r in rows if r.email == email and not r.succeeded and r.at >= since]
        per_address = [
            r.at for r in rows if r.address == address and not r.succeeded and r.at >= since
        ]
        waits += [
            _remaining(account, ACCOUNT_FREE, now),
            _remaining(per_address, ADDRESS_FREE, now),
        ]
    return max(waits)


def _remaining(failures: list[dt.datetime], free: int, now: dt.datetime) -> int:
    wait = backoff_seconds(len(failures), free)
    if not wait:
        return 0
    left = (max(failures) + dt.timedelta(seconds=wait) - now).total_seconds()
    return max(0, math.ceil(left))


def admit(db: Database, email: str, address: str, now: dt.datetime | None = None) -> Admission:
    """Whether a password may be checked now; if so the attempt is recorded (as failed until
    it succeeds) before the check, so that parallel attempts count against each other. The
    wait is read first without a write lock (a flood of throttled attempts writes nothing),
    then again in the transaction that records the attempt."""
    now = now or utc_now()
    with db.read() as session:
        wait = wait_seconds(session, email, address, now)
    if wait:
        return Admission(wait)
    with db.write() as session:
        wait = wait_seconds(session, email, address, now)
        if wait:
            return Admission(wait)
        attempt_id = session.execute(
            insert(SignInAttempt)
            .values(at=now, email=normal_email(email), address=address[:64], succeeded=False)
            .returning(SignInAttempt.id)
        ).scalar_one()
        if secrets.randbelow(PRUNE_ONE_IN) == 0:
            prune(session, now)
    return Admission(0, attempt_id)


def succeeded(session: Session, attempt_id: int) -> None:
    """Mark a recorded attempt as a success (clears the account's backoff at that address
    and makes the address known), inside the sign-in's transaction."""
    session.execute(
        update(SignInAttempt).where(SignInAttempt.id == attempt_id).values(succeeded=True)
    )


def prune(session: Session, now: dt.datetime | None = None) -> int:
    """Delete failures older than a day and successes older than 30 days (they count for
    nothing any more; the audit log keeps the history). Returns how many were deleted."""
    now = now or utc_now()
    return session.execute(
        delete(SignInAttempt)
        .where(
            or_(
                SignInAttempt.at < now - KNOWN_FOR,
                and_(SignInAttempt.at < now - WINDOW, SignInAttempt.succeeded.is_(False)),
            )
        )
        .execution_options(synchronize_session=False)
    ).rowcount
