"""Saves at the same moment, on SQLite and PostgreSQL (a database of their own): saves of
different days of one site-month never refuse each other; a race on one cell has one winner,
and every loser gets the conflict and an audit row of its refused attempt."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from dashboard.data.models import AuditLog, ForecastSubmission, SiteStatisticDay
from dashboard.services import statistics as stats
from dashboard.services import workspace_save
from tests.conftest import TEST_TODAY, person_for_site

SAVES = 20
MONTH = (2027, 4)  # no submission row yet: the first saves create it at the same moment


def _hotel_and_editor(db, built):
    sites = built["site"]
    site_id = int(sites.loc[sites["total_rooms"] > 0, "id"].iloc[0])
    return site_id, person_for_site(db, built, site_id, "account_manager")


def _at_once(count, work):
    """Run ``work(i)`` for i < count in threads released together; their results in order."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_saves_of_different_days_of_one_month_all_succeed(private_portfolio):
    db, built = private_portfolio
    site_id, person = _hotel_and_editor(db, built)
    days = [dt.date(*MONTH, 1) + dt.timedelta(days=i) for i in range(SAVES)]

    def save(i):
        edit = stats.StatisticEdit(days[i], "valet_daily", 100 + i, 0)
        return workspace_save.save_forecast_inputs(db, person, site_id, [edit], [], TEST_TODAY)

    results = _at_once(SAVES, save)
    refused = [(i, r.problems, r.conflicts) for i, r in enumerate(results) if not r.ok]
    assert refused == []
    with db.read() as session:
        saved = dict(
            session.execute(
                select(SiteStatisticDay.day, SiteStatisticDay.valet_daily).where(
                    SiteStatisticDay.site_id == site_id,
                    SiteStatisticDay.kind == "forecast",
                    SiteStatisticDay.day.in_(days),
                )
            ).all()
        )
        submissions = session.scalar(
            select(func.count()).where(
                ForecastSubmission.site_id == site_id,
                ForecastSubmission.year == MONTH[0],
                ForecastSubmission.month == MONTH[1],
            )
        )
    assert {d: float(v) for d, v in saved.items()} == {d: 100.0 + i for i, d in enumerate(days)}
    assert submissions == 1


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_a_race_on_one_cell_has_one_winner_and_every_loser_is_told_and_audited(
    private_portfolio,
):
    db, built = private_portfolio
    site_id, person = _hotel_and_editor(db, built)
    day = dt.date(MONTH[0], MONTH[1] + 1, 9)
    racers = 10

    def save(i):
        edit = stats.StatisticEdit(day, "valet_daily", 200 + i, 0)  # all saw no saved row
        return workspace_save.save_forecast_inputs(db, person, site_id, [edit], [], TEST_TODAY)

    results = _at_once(racers, save)
    winners = [i for i, r in enumerate(results) if r.ok]
    losers = [r for r in results if not r.ok]
    assert len(winners) == 1
    assert len(losers) == racers - 1
    assert all(r.conflicts and not r.problems for r in losers)
    with db.read() as session:
        refused = session.scalar(
            select(func.count()).where(
                AuditLog.action == "save_refused", AuditLog.site_id == site_id
            )
        )
        stored = session.scalar(
            select(SiteStatisticDay.valet_daily).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day == day,
            )
        )
    assert refused == racers - 1
    assert float(stored) == 200.0 + winners[0]
