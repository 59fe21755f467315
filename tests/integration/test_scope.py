"""Scope rules on the server (DOMAIN.md §9), checked against the generated assignments."""

import datetime as dt

from sqlalchemy import select

from dashboard.data.models import ScopeAssignment, Site, User
from dashboard.services import scope
from dashboard.services.accounts import principal_of
from tests.conftest import TEST_TODAY, sites_of


def _principal(session, email):
    return principal_of(session.scalar(select(User).where(User.email == email)))


def _site_frame(portfolio):
    return portfolio["site"].merge(
        portfolio["district"][["id", "region_id"]].rename(columns={"id": "district_id"}),
        on="district_id",
    )


def test_account_manager_sees_only_assigned_sites(db, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    with db.read() as session:
        principal = _principal(session, email)
        visible = scope.visible_site_ids(session, principal, TEST_TODAY)
    assert visible == sites_of(portfolio, email)
    assert 1 <= len(visible) < len(portfolio["site"])


def test_district_manager_sees_the_district(db, portfolio):
    email = portfolio.demo_accounts["district_manager"]
    users = portfolio["app_user"]
    user_id = int(users.loc[users["email"] == email, "id"].iloc[0])
    grants = portfolio["scope_assignment"]
    district_id = int(grants.loc[grants["user_id"] == user_id, "district_id"].dropna().iloc[0])
    expected = set(portfolio["site"].loc[portfolio["site"]["district_id"] == district_id, "id"])
    with db.read() as session:
        visible = scope.visible_site_ids(session, _principal(session, email), TEST_TODAY)
    assert visible == expected


def test_regional_vp_sees_the_region(db, portfolio):
    email = portfolio.demo_accounts["regional_vp"]
    region = email.split(".")[1].split("@")[0].title()
    region_id = int(portfolio["region"].loc[portfolio["region"]["name"] == region, "id"].iloc[0])
    sites = _site_frame(portfolio)
    expected = set(sites.loc[sites["region_id"] == region_id, "id"])
    with db.read() as session:
        principal = _principal(session, email)
        visible = scope.visible_site_ids(session, principal, TEST_TODAY)
        some_site = next(iter(expected))
        assert scope.can_edit_site(session, principal, some_site, TEST_TODAY)
    assert visible == expected


def test_executive_sees_all_and_edits_nothing(db, portfolio):
    with db.read() as session:
        for role in ("executive", "admin"):
            principal = _principal(session, portfolio.demo_accounts[role])
            visible = scope.visible_site_ids(session, principal, TEST_TODAY)
            assert visible == set(portfolio["site"]["id"])
            assert not scope.can_edit_site(session, principal, 1, TEST_TODAY)


def test_out_of_scope_site_is_refused(db, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    other = next(s for s in portfolio["site"]["id"] if s not in own)
    with db.read() as session:
        principal = _principal(session, email)
        assert scope.can_edit_site(session, principal, next(iter(own)), TEST_TODAY)
        assert not scope.can_view_site(session, principal, int(other), TEST_TODAY)
        try:
            scope.require_view(session, principal, int(other), TEST_TODAY)
        except scope.ScopeError:
            pass
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("require_view let an out-of-scope site through")


def test_dated_coverage_counts_only_within_its_dates(db, portfolio):
    """A district manager covering a colleague's site for two weeks sees it only then."""
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    other = int(next(s for s in portfolio["site"]["id"] if s not in own))
    with db.write() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        session.add(
            ScopeAssignment(
                user_id=user_id,
                site_id=other,
                valid_from=dt.date(2026, 12, 1),
                valid_to=dt.date(2026, 12, 14),
            )
        )
    try:
        with db.read() as session:
            principal = _principal(session, email)
            assert not scope.can_view_site(session, principal, other, TEST_TODAY)
            assert scope.can_view_site(session, principal, other, dt.date(2026, 12, 7))
            assert not scope.can_view_site(session, principal, other, dt.date(2026, 12, 15))
    finally:
        with db.write() as session:
            session.execute(
                ScopeAssignment.__table__.delete().where(
                    ScopeAssignment.user_id == user_id, ScopeAssignment.site_id == other
                )
            )


def test_site_ids_are_a_subquery_not_a_python_filter(db, portfolio):
    """The scope is applied in SQL: the query text carries the assignment lookup."""
    with db.read() as session:
        principal = _principal(session, portfolio.demo_accounts["account_manager"])
        compiled = str(scope.visible_sites(principal, TEST_TODAY).compile())
        assert "scope_assignment" in compiled
        assert (
            session.scalar(
                select(Site.id).where(Site.id.in_(scope.visible_sites(principal, TEST_TODAY)))
            )
            is not None
        )
