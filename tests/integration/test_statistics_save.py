"""Saving statistics and rates: versions, conflicts, scope, locks, validation, audit."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from dashboard.data.models import (
    AuditLog,
    ParkingRateMonth,
    SiteStatisticDay,
    StatisticProposalDay,
    User,
)
from dashboard.services import rates as rates_service
from dashboard.services import statistics as stats
from dashboard.services import workspace_save
from dashboard.services.accounts import principal_of
from dashboard.services.scope import ScopeError
from tests.conftest import TEST_TODAY, person_for_site
from tests.forecast_days import drop_proposals, forecast_days

FUTURE = TEST_TODAY + dt.timedelta(days=10)  # 2026-12-03


def _hotel_site(portfolio, index=0):
    hotels = portfolio["site"][portfolio["site"]["total_rooms"] > 0]
    return int(hotels["id"].iloc[index]), int(hotels["total_rooms"].iloc[index])


def _forecast_row(db, site_id, day):
    with db.read() as session:
        return session.scalar(
            select(SiteStatisticDay).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.day == day,
                SiteStatisticDay.kind == "forecast",
            )
        )


def _count(db, model, **where):
    with db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query)


def test_occupancy_edit_derives_rooms_overnight_and_revenue_on_the_server(db, portfolio):
    site_id, rooms = _hotel_site(portfolio)
    person = person_for_site(db, portfolio, site_id)
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(FUTURE, "occupancy", "0.8", 0),
            stats.StatisticEdit(FUTURE, "drive_in_ratio", 0.5, 0),
            stats.StatisticEdit(FUTURE, "capture_ratio", 0.75, 0),
        ],
        [],
        TEST_TODAY,
    )
    assert result.ok, result
    row = _forecast_row(db, site_id, FUTURE)
    occupied = int(0.8 * rooms + 0.5)
    assert row.occupied_rooms == occupied
    assert row.valet_overnight == pytest.approx(occupied * 0.5 * 0.75)
    assert row.self_overnight == pytest.approx(occupied * 0.5 * 0.25)
    rates = portfolio["parking_rate_month"]
    december = rates[
        (rates["site_id"] == site_id)
        & (rates["kind"] == "budget")
        & (rates["year"] == 2026)
        & (rates["month"] == 12)
    ]
    rate = dict(zip(december["category"], december["rate"], strict=True))
    expected = sum(
        getattr(row, f) * rate[f]
        for f in (
            "valet_daily",
            "valet_monthly",
            "valet_overnight",
            "valet_aggregator",
            "self_daily",
            "self_monthly",
            "self_overnight",
            "self_aggregator",
        )
    )
    assert float(row.external_revenue) == pytest.approx(expected, abs=0.01)
    assert row.version == 1


def test_second_save_from_a_stale_version_is_refused_and_both_are_audited(db, portfolio):
    site_id, _ = _hotel_site(portfolio, 1)
    first_person = person_for_site(db, portfolio, site_id)
    day = FUTURE + dt.timedelta(days=1)
    first = workspace_save.save_forecast_inputs(
        db, first_person, site_id, [stats.StatisticEdit(day, "valet_daily", 42, 0)], [], TEST_TODAY
    )
    assert first.ok
    # A second person edited the same day before the first save landed: stale version 0.
    second = workspace_save.save_forecast_inputs(
        db, first_person, site_id, [stats.StatisticEdit(day, "valet_daily", 17, 0)], [], TEST_TODAY
    )
    assert not second.ok
    assert [(c.field, c.yours, c.theirs) for c in second.conflicts] == [("valet_daily", 17, 42)]
    assert second.conflicts[0].by == first_person.display_name
    assert _forecast_row(db, site_id, day).valet_daily == 42
    with db.read() as session:
        actions = session.execute(
            select(AuditLog.action, AuditLog.new_value)
            .where(
                AuditLog.site_id == site_id,
                AuditLog.record_key == day.isoformat(),
                AuditLog.field == "valet_daily",
            )
            .order_by(AuditLog.id)
        ).all()
    assert [(a, float(v)) for a, v in actions] == [("insert", 42.0), ("save_refused", 17.0)]
    # With the current version the edit goes through.
    third = workspace_save.save_forecast_inputs(
        db, first_person, site_id, [stats.StatisticEdit(day, "valet_daily", 17, 1)], [], TEST_TODAY
    )
    assert third.ok
    assert _forecast_row(db, site_id, day).version == 2


def test_conflict_on_one_day_refuses_the_whole_save(db, portfolio):
    site_id, _ = _hotel_site(portfolio, 2)
    person = person_for_site(db, portfolio, site_id)
    day_a, day_b = FUTURE + dt.timedelta(days=3), FUTURE + dt.timedelta(days=4)
    assert workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day_a, "self_daily", 10, 0)], [], TEST_TODAY
    ).ok
    mixed = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(day_b, "self_daily", 11, 0),
            stats.StatisticEdit(day_a, "self_daily", 12, 0),
        ],  # stale
        [],
        TEST_TODAY,
    )
    assert not mixed.ok
    assert _forecast_row(db, site_id, day_b) is None  # nothing half-written
    assert _forecast_row(db, site_id, day_a).self_daily == 10


def test_out_of_scope_save_is_refused_and_writes_nothing(db, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    grants = portfolio["scope_assignment"]
    users = portfolio["app_user"]
    user_id = int(users.loc[users["email"] == email, "id"].iloc[0])
    own = set(grants.loc[grants["user_id"] == user_id, "site_id"].dropna().astype(int))
    other = int(next(s for s in portfolio["site"]["id"] if s not in own))
    with db.read() as session:
        person = principal_of(session.scalar(select(User).where(User.email == email)))
    before = _count(db, SiteStatisticDay, kind="forecast")
    with pytest.raises(ScopeError):
        workspace_save.save_forecast_inputs(
            db, person, other, [stats.StatisticEdit(FUTURE, "valet_daily", 5, 0)], [], TEST_TODAY
        )
    assert _count(db, SiteStatisticDay, kind="forecast") == before


def test_executive_cannot_save(db, portfolio):
    with db.read() as session:
        person = principal_of(
            session.scalar(select(User).where(User.email == portfolio.demo_accounts["executive"]))
        )
    with pytest.raises(ScopeError):
        workspace_save.save_forecast_inputs(
            db, person, 1, [stats.StatisticEdit(FUTURE, "valet_daily", 5, 0)], [], TEST_TODAY
        )


def test_past_day_is_refused_and_nothing_is_written(db, portfolio):
    site_id, _ = _hotel_site(portfolio)
    person = person_for_site(db, portfolio, site_id)
    yesterday = TEST_TODAY - dt.timedelta(days=1)
    before = _count(db, SiteStatisticDay, kind="forecast")
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(yesterday, "valet_daily", 5, 0),
            stats.StatisticEdit(FUTURE + dt.timedelta(days=7), "valet_daily", 6, 0),
        ],
        [],
        TEST_TODAY,
    )
    assert [(p.key, p.message) for p in result.problems] == [
        (yesterday.isoformat(), "Days before today are read-only.")
    ]
    assert _count(db, SiteStatisticDay, kind="forecast") == before


def test_every_bad_value_is_reported_at_once(db, portfolio):
    site_id, rooms = _hotel_site(portfolio)
    person = person_for_site(db, portfolio, site_id)
    day = FUTURE + dt.timedelta(days=8)
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(day, "occupancy", "abc", 0),
            stats.StatisticEdit(day, "valet_daily", -4, 0),
            stats.StatisticEdit(day, "capture_ratio", 1.4, 0),
            stats.StatisticEdit(day, "occupied_rooms", rooms + 1, 0),
            stats.StatisticEdit(day, "external_revenue", 10, 0),
        ],
        [
            rates_service.RateEdit(2026, 12, "valet_daily", 1000, 0),
            rates_service.RateEdit(2026, 10, "self_daily", 20, 0),
        ],
        TEST_TODAY,
    )
    messages = {(p.field, p.message) for p in result.problems}
    assert messages == {
        ("occupancy", "Occupancy %: enter a number."),
        ("valet_daily", "Valet daily cannot be negative."),
        ("capture_ratio", "Capture ratio cannot be over 100%."),
        ("occupied_rooms", f"Occupied rooms cannot exceed the site's {rooms:,} rooms."),
        ("external_revenue", "External revenue cannot be edited."),
        ("valet_daily", "A rate must be between $0.00 and $999.99."),
        ("self_daily", "Months before the current month are read-only."),
    }
    assert _forecast_row(db, site_id, day) is None


def test_rate_save_versions_and_repricing(db, portfolio):
    site_id, _ = _hotel_site(portfolio, 3)
    person = person_for_site(db, portfolio, site_id)
    day = dt.date(2027, 1, 15)
    assert workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day, "valet_daily", 10, 0)], [], TEST_TODAY
    ).ok
    revenue_before = float(_forecast_row(db, site_id, day).external_revenue)
    saved = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [],
        [rates_service.RateEdit(2027, 1, "valet_daily", "55.50", 0)],
        TEST_TODAY,
    )
    assert saved.ok
    row = _forecast_row(db, site_id, day)
    rates = portfolio["parking_rate_month"]
    budget_rate = float(
        rates[
            (rates["site_id"] == site_id)
            & (rates["kind"] == "budget")
            & (rates["year"] == 2027)
            & (rates["month"] == 1)
            & (rates["category"] == "valet_daily")
        ]["rate"].iloc[0]
    )
    # Only the valet daily rate changed: revenue moves by 10 vehicles × the rate difference.
    assert float(row.external_revenue) == pytest.approx(
        revenue_before + 10 * (55.50 - budget_rate), abs=0.01
    )
    assert row.version == 1  # repricing is not an edit
    stale = workspace_save.save_forecast_inputs(
        db, person, site_id, [], [rates_service.RateEdit(2027, 1, "valet_daily", 60, 0)], TEST_TODAY
    )
    assert [(c.theirs, c.yours) for c in stale.conflicts] == [(55.5, 60.0)]
    with db.read() as session:
        stored = session.scalar(
            select(ParkingRateMonth.rate).where(
                ParkingRateMonth.site_id == site_id,
                ParkingRateMonth.kind == "forecast",
                ParkingRateMonth.year == 2027,
                ParkingRateMonth.month == 1,
                ParkingRateMonth.category == "valet_daily",
            )
        )
    assert stored == 55.5


def test_window_shows_entries_then_proposals_then_the_budget(db, portfolio):
    site_id, rooms = _hotel_site(portfolio)
    person = person_for_site(db, portfolio, site_id)
    result = workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(FUTURE, "occupancy", "0.8", 0)], [], TEST_TODAY
    )
    assert result.ok, result
    with db.read() as session:
        window = stats.load_window(session, person, site_id, (2026, 11), TEST_TODAY)
    days = window.days.set_index("day")
    assert len(days) == 30 + 31 + 31  # November, December, January
    assert not days.at[TEST_TODAY - dt.timedelta(days=1), "editable"]
    assert days.at[TEST_TODAY, "editable"]
    saved = days.loc[FUTURE]  # saved above
    assert saved["version"] == 1
    assert saved["forecast_occupancy"] == pytest.approx(int(0.8 * rooms + 0.5) / rooms)
    assert saved["source"] == "entry"
    # A day nobody saved shows the stored proposal, revenue at the month's rates.
    untouched = days.loc[dt.date(2027, 1, 31)]
    assert untouched["version"] == 0
    assert untouched["source"] == "proposal"
    with db.read() as session:
        proposal = session.get(StatisticProposalDay, (site_id, dt.date(2027, 1, 31)))
        shown = forecast_days(session, site_id, dt.date(2027, 1, 31), dt.date(2027, 1, 31))
    assert untouched["forecast_valet_daily"] == pytest.approx(proposal.valet_daily, abs=1e-6)
    assert untouched["forecast_occupancy"] == pytest.approx(proposal.occupancy, abs=1e-6)
    assert untouched["forecast_external_revenue"] == pytest.approx(
        shown[dt.date(2027, 1, 31)][0], abs=1e-5
    )
    assert untouched["forecast_valet_daily"] != pytest.approx(untouched["budget_valet_daily"])
    # Without a proposal (before the site's first proposal job) it shows the budget.
    drop_proposals(db, site_id)
    with db.read() as session:
        window = stats.load_window(session, person, site_id, (2026, 11), TEST_TODAY)
    untouched = window.days.set_index("day").loc[dt.date(2027, 1, 31)]
    assert untouched["source"] == "budget"
    assert untouched["forecast_valet_daily"] == pytest.approx(untouched["budget_valet_daily"])
    # Past days carry actuals and the prior-year comparison (same weekday 52 weeks earlier).
    assert days.at[dt.date(2026, 11, 2), "actual_valet_daily"] >= 0
    assert "prior_valet_daily" in days.columns


def test_an_edit_of_a_proposed_day_keeps_the_proposal_of_its_other_fields(db, portfolio):
    """One typed cell on a day that shows its proposal: the saved day is the proposal with
    that cell changed, derived values recomputed; the audit's old values are the proposal's."""
    site_id, rooms = _hotel_site(portfolio)
    person = person_for_site(db, portfolio, site_id)
    day = dt.date(2027, 2, 9)
    with db.read() as session:
        proposal = session.get(StatisticProposalDay, (site_id, day))
        shown = forecast_days(session, site_id, day, day)[day]
    assert proposal is not None and shown[2] == "proposal"
    result = workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day, "valet_daily", "57", 0)], [], TEST_TODAY
    )
    assert result.ok, result
    with db.read() as session:
        saved = session.scalar(
            select(SiteStatisticDay).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day == day,
            )
        )
        old_valet = session.scalar(
            select(AuditLog.old_value).where(
                AuditLog.entity == "statistic_day",
                AuditLog.record_key == day.isoformat(),
                AuditLog.field == "valet_daily",
            )
        )
    assert saved.valet_daily == 57
    for field in ("self_daily", "valet_aggregator", "self_comps", "valet_monthly"):
        assert getattr(saved, field) == pytest.approx(getattr(proposal, field), abs=1e-9), field
    assert saved.occupied_rooms == pytest.approx(proposal.occupied_rooms, abs=0.51)
    assert float(old_valet) == pytest.approx(proposal.valet_daily, abs=1e-6)
