"""Read-only is decided on the server, with the save's own rules, and said: an executive's
statistics, rates, payroll, other revenue and other expenses cells are all read-only; an
account manager's approved month is read-only for them on every tab (not for their district
manager); the page says why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dashboard.data.models import ForecastSubmission, User
from dashboard.services import adjustments
from dashboard.services import payroll as payroll_service
from dashboard.services import rates as rates_service
from dashboard.services import statistics as stats
from dashboard.services.accounts import principal_of
from tests.conftest import TEST_TODAY, person_for_site

APPROVED_MONTH = (2027, 1)


def _hotel(built) -> int:
    sites = built["site"]
    return int(sites.loc[sites["total_rooms"] > 0, "id"].iloc[0])


def _executive(db):
    with db.read() as session:
        return principal_of(session.scalars(select(User).where(User.role == "executive")).first())


def _days(window, year, month):
    return [r for r in window.records if (r["day"].year, r["day"].month) == (year, month)]


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_an_executive_sees_every_cell_read_only_and_why(private_portfolio):
    db, built = private_portfolio
    site_id = _hotel(built)
    executive = _executive(db)
    with db.read() as session:
        window = stats.load_window(session, executive, site_id, (2026, 12), TEST_TODAY)
        rates = rates_service.load_rates(session, executive, site_id, 2027, TEST_TODAY)
    assert not any(r["editable"] for r in window.records)
    assert set(window.locks.values()) == {"Your role cannot change forecasts."}
    assert stats.window_payload(window)["locks"]["2027-01"] == "Your role cannot change forecasts."
    assert not any(rates["editable"].values())
    assert set(rates["locks"].values()) == {"Your role cannot change forecasts."}


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_an_approved_month_is_read_only_for_the_account_manager_not_the_district_manager(
    private_portfolio,
):
    db, built = private_portfolio
    site_id = _hotel(built)
    manager = person_for_site(db, built, site_id, "account_manager")
    reviewer = person_for_site(db, built, site_id, "district_manager")
    with db.write() as session:
        session.add(
            ForecastSubmission(
                site_id=site_id,
                year=APPROVED_MONTH[0],
                month=APPROVED_MONTH[1],
                status="APPROVED",
                version=3,
            )
        )
    with db.read() as session:
        mine = stats.load_window(session, manager, site_id, (2026, 12), TEST_TODAY)
        theirs = stats.load_window(session, reviewer, site_id, (2026, 12), TEST_TODAY)
        my_rates = rates_service.load_rates(session, manager, site_id, 2027, TEST_TODAY)
    assert "approved" in mine.locks[APPROVED_MONTH]
    assert mine.locks[(2026, 12)] is None and mine.locks[(2027, 2)] is None
    assert not any(r["editable"] for r in _days(mine, *APPROVED_MONTH))
    assert all(r["editable"] for r in _days(mine, 2027, 2))
    # This month: today and later are editable, earlier days are not (for everyone).
    with db.read() as session:
        earlier = stats.load_window(session, manager, site_id, (2026, 11), TEST_TODAY)
    november = _days(earlier, 2026, 11)
    assert any(r["day"] < TEST_TODAY for r in november)
    assert all(r["editable"] == (r["day"] >= TEST_TODAY) for r in november)
    assert theirs.locks[APPROVED_MONTH] is None
    assert all(r["editable"] for r in _days(theirs, *APPROVED_MONTH))
    assert my_rates["editable"]["01"] is False and "approved" in my_rates["locks"]["01"]
    assert my_rates["editable"]["02"] is True and my_rates["locks"]["02"] is None
    assert dt.date(*APPROVED_MONTH, 1) > TEST_TODAY  # locked by its state, not by its date


def _adjustment_cells(payload, year, month):
    key = f"{year}-{month:02d}"
    return [payload[kind][key] for kind in ("other_revenue", "other_expense")]


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_payroll_and_monthly_tabs_of_an_approved_month_are_read_only_for_the_account_manager(
    private_portfolio,
):
    db, built = private_portfolio
    site_id = _hotel(built)
    manager = person_for_site(db, built, site_id, "account_manager")
    reviewer = person_for_site(db, built, site_id, "district_manager")
    executive = _executive(db)
    with db.write() as session:
        session.add(
            ForecastSubmission(
                site_id=site_id,
                year=APPROVED_MONTH[0],
                month=APPROVED_MONTH[1],
                status="APPROVED",
                version=3,
            )
        )
    with db.read() as session:
        mine = payroll_service.load_month(session, manager, site_id, *APPROVED_MONTH, TEST_TODAY)
        next_month = payroll_service.load_month(session, manager, site_id, 2027, 2, TEST_TODAY)
        theirs = payroll_service.load_month(session, reviewer, site_id, *APPROVED_MONTH, TEST_TODAY)
        viewer = payroll_service.load_month(session, executive, site_id, 2027, 2, TEST_TODAY)
        monthly = adjustments.load_adjustments(session, manager, site_id, (2026, 12), TEST_TODAY)
        monthly_dm = adjustments.load_adjustments(
            session, reviewer, site_id, (2026, 12), TEST_TODAY
        )
    # Payroll: every day of the approved month read-only for the account manager, with why.
    assert not mine["may_edit"] and "approved" in mine["lock_reason"]
    assert not any(mine["editable"].values())
    assert next_month["may_edit"] and next_month["lock_reason"] is None
    assert all(next_month["editable"].values())  # February is after today
    assert theirs["may_edit"] and all(theirs["editable"].values())
    assert not viewer["may_edit"] and viewer["lock_reason"] == "Your role cannot change forecasts."
    assert not any(viewer["editable"].values())
    # Other revenue / other expenses: the approved month read-only, the next one not.
    for cell in _adjustment_cells(monthly, *APPROVED_MONTH):
        assert cell["editable"] is False and "approved" in cell["lock_reason"]
    for cell in _adjustment_cells(monthly, 2027, 2):
        assert cell["editable"] is True and cell["lock_reason"] is None
    for cell in _adjustment_cells(monthly_dm, *APPROVED_MONTH):
        assert cell["editable"] is True
