"""A process killed (SIGKILL) in the middle of saves leaves no partial write, on SQLite and
PostgreSQL: every save is one transaction — the month's statistics, their audit rows and the
site's stored figures are all there or none of them is.

A child process saves the 28 days of a month again and again, each save writing the next
number into every day. It is killed at a random moment ten times; after each kill every day
holds the same number (the last save that committed), the audit log holds 28 rows per
committed save, and the stored figures equal a fresh computation."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dashboard.data.models import AuditLog, SiteStatisticDay
from dashboard.services import figures
from tests.conftest import TEST_TODAY, person_for_site

KILLS = 10
MONTH = (2027, 2)
DAYS = [dt.date(*MONTH, 1) + dt.timedelta(days=i) for i in range(28)]
ROOT = Path(__file__).resolve().parents[2]

SAVER = """
import datetime as dt, sys
from sqlalchemy import select
from dashboard.data.db import Database
from dashboard.data.models import SiteStatisticDay, User
from dashboard.services import statistics as stats, workspace_save
from dashboard.services.accounts import principal_of

url, site_id, user_id, value = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
today = dt.date.fromisoformat(sys.argv[5])
days = [dt.date.fromisoformat(d) for d in sys.argv[6].split(",")]
db = Database(url)
with db.read() as session:
    person = principal_of(session.get(User, user_id))
d = SiteStatisticDay
while True:
    with db.read() as session:
        versions = dict(session.execute(
            select(d.day, d.version).where(d.site_id == site_id, d.kind == "forecast", d.day.in_(days))
        ).all())
    edits = [stats.StatisticEdit(day, "valet_daily", value, versions.get(day, 0)) for day in days]
    result = workspace_save.save_forecast_inputs(db, person, site_id, edits, [], today)
    if not result.ok:
        raise SystemExit(f"save refused: {result.problems} {result.conflicts}")
    print(value, flush=True)
    value += 1
"""


def _state(db, site_id) -> tuple[set, int]:
    """The values the month's days hold, and the audit rows of their valet_daily changes."""
    d = SiteStatisticDay
    with db.read() as session:
        values = set(
            session.scalars(
                select(d.valet_daily).where(
                    d.site_id == site_id, d.kind == "forecast", d.day.in_(DAYS)
                )
            )
        )
        audited = session.scalar(
            select(func.count()).where(
                AuditLog.site_id == site_id,
                AuditLog.entity == "statistic_day",
                AuditLog.field == "valet_daily",
                AuditLog.record_key.in_([day.isoformat() for day in DAYS]),
            )
        )
    return values, int(audited)


@pytest.mark.parametrize("private_portfolio", [2], indirect=True)
def test_a_process_killed_mid_save_leaves_no_partial_write(private_portfolio):
    db, built = private_portfolio
    sites = built["site"]
    site_id = int(sites.loc[sites["total_rooms"] > 0, "id"].iloc[0])
    person = person_for_site(db, built, site_id, "account_manager")
    url = db.engine.url.render_as_string(hide_password=False)
    chance = random.Random(20261202)
    value = 1000
    _, audited = _state(db, site_id)
    committed_total = 0
    mid_transaction = 0  # kills that found the child inside a transaction (PostgreSQL)
    postgres = db.engine.dialect.name == "postgresql"
    for _kill in range(KILLS):
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SAVER,
                url,
                str(site_id),
                str(person.user_id),
                str(value),
                TEST_TODAY.isoformat(),
                ",".join(day.isoformat() for day in DAYS),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            # Wait for a first save (imports and connections are slow), then kill at a random
            # moment of the following ones.
            first = child.stdout.readline()
            assert first.strip(), child.stderr.read()
            time.sleep(chance.uniform(0.0, 0.6))
            if postgres:
                mid_transaction += _other_transactions(db)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        values, now_audited = _state(db, site_id)
        assert len(values) == 1, f"days hold different values after a kill: {sorted(values)}"
        last = int(values.pop())
        committed = last - value + 1  # saves value, value + 1, ..., last committed
        assert committed >= 1
        assert now_audited - audited == 28 * committed  # no audit row without its save
        audited = now_audited
        committed_total += committed
        value = last + 1
        with db.read() as session:
            assert figures.check(session, [site_id], TEST_TODAY) == []
    assert committed_total >= KILLS
    if postgres:  # the kills did land inside saves, not only between them
        assert mid_transaction >= 3, mid_transaction


def _other_transactions(db) -> int:
    """1 when another connection to this database is inside a transaction right now."""
    with db.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
        ).scalar()
    return 1 if found else 0
