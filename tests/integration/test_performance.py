"""Performance pages and the regional report against a real database: the KPI components are
the books (ledger, statistics, budgets, submitted snapshots) and the live forecast is the P&L's;
trends aggregate as ratios of sums; the FLC waterfall adds up to the cent and lands on the P&L;
benchmarking ranks by a hand count and never names a peer outside the person's scope; scope is
enforced by every service and by forged callback posts; the report's totals, accuracy and files
agree with the rows they summarise. Expected numbers are read from the database rows or from
the P&L service (``pnl_lines`` / ``basis_lines``), never from the function under test."""

import io
import json
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.components import report_view
from dashboard.data.models import (
    ForecastSnapshotLine,
    ForecastSubmission,
    PayrollBudgetMonth,
    PayrollDay,
    PnlMonth,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    User,
)
from dashboard.domain import kpi
from dashboard.domain.periods import days_in_month
from dashboard.services import kpi as kpi_service
from dashboard.services import performance, pnl
from dashboard.services import regional_report as rr
from dashboard.services.accounts import principal_of
from dashboard.services.scope import ScopeError
from tests.conftest import TEST_TODAY, person_for_site, post_background, sites_of

COSTS = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
VEHICLES = (
    "valet_daily",
    "valet_monthly",
    "valet_overnight",
    "valet_aggregator",
    "valet_comps",
    "self_daily",
    "self_monthly",
    "self_overnight",
    "self_aggregator",
    "self_comps",
)
YEAR_START, YEAR_END = (2026, 1), (2026, 12)
CLOSED_2026 = [(2026, m) for m in range(1, 11)]  # today is 2026-11-23
CENT = 0.005 + 1e-9


# --- people and sites ---------------------------------------------------------------------


def _person(db, email):
    with db.read() as session:
        return principal_of(session.scalar(select(User).where(User.email == email)))


def _district_sites(portfolio, district_id):
    sites = portfolio["site"]
    return sorted(int(s) for s in sites.loc[sites["district_id"] == district_id, "id"])


def _district_of(portfolio, site_id):
    sites = portfolio["site"].set_index("id")
    return int(sites.at[site_id, "district_id"])


def _region_of_district(portfolio, district_id):
    districts = portfolio["district"].set_index("id")
    return int(districts.at[district_id, "region_id"])


def _site_label(portfolio, site_id):
    site = portfolio["site"].set_index("id").loc[site_id]
    return f"{site['site_number']} · {site['name']}"


def _other_district_account_manager(portfolio):
    """(e-mail, own site, a site of another district) of an account manager with one site."""
    users = portfolio["app_user"]
    for email in users.loc[users["role"] == "account_manager", "email"]:
        own = sites_of(portfolio, email)
        if len(own) == 1:
            site_id = next(iter(own))
            district = _district_of(portfolio, site_id)
            other = next(
                int(s)
                for s, d in zip(
                    portfolio["site"]["id"], portfolio["site"]["district_id"], strict=True
                )
                if d != district
            )
            return email, site_id, other
    raise AssertionError("no account manager with a single site")  # pragma: no cover


# --- the books ----------------------------------------------------------------------------


def _ledger(session, site_id, year, month, kind):
    return session.scalar(
        select(PnlMonth).where(
            PnlMonth.site_id == site_id,
            PnlMonth.year == year,
            PnlMonth.month == month,
            PnlMonth.kind == kind,
        )
    )


def _books_flc(row):
    return float(row.internal_revenue) - sum(float(getattr(row, c)) for c in COSTS)


def _ledger_flc(session, site_ids, months, kind):
    """Σ FLC of the ledger rows of ``kind`` of those sites and months."""
    return sum(
        _books_flc(row)
        for site_id in site_ids
        for y, m in months
        if (row := _ledger(session, site_id, y, m, kind)) is not None
    )


def _statistics_month(session, site_id, year, month, kind="actual"):
    """(occupied rooms, vehicles, overnight vehicles) summed over the month's daily rows."""
    rows = session.scalars(
        select(SiteStatisticDay).where(
            SiteStatisticDay.site_id == site_id,
            SiteStatisticDay.kind == kind,
            func.extract("year", SiteStatisticDay.day) == year,
            func.extract("month", SiteStatisticDay.day) == month,
        )
    ).all()
    assert len(rows) == days_in_month(year, month)
    return (
        sum(float(r.occupied_rooms) for r in rows),
        sum(float(getattr(r, f)) for r in rows for f in VEHICLES),
        sum(float(r.self_overnight) + float(r.valet_overnight) for r in rows),
    )


def _actual_hours(session, site_id, year, month):
    rows = session.scalars(
        select(PayrollDay).where(
            PayrollDay.site_id == site_id,
            PayrollDay.kind == "actual",
            func.extract("year", PayrollDay.day) == year,
            func.extract("month", PayrollDay.day) == month,
        )
    ).all()
    return sum(float(r.hours) for r in rows)


def _snapshot(session, site_id, year, month):
    """The lines of the site-month's submission snapshot (latest value per line)."""
    rows = session.execute(
        select(ForecastSnapshotLine.line, ForecastSnapshotLine.value)
        .join(ForecastSubmission, ForecastSubmission.id == ForecastSnapshotLine.submission_id)
        .where(
            ForecastSubmission.site_id == site_id,
            ForecastSubmission.year == year,
            ForecastSubmission.month == month,
        )
        .order_by(ForecastSnapshotLine.taken_at)
    ).all()
    return {line: float(value) for line, value in rows}


def _total_rooms(session, site_id):
    return session.scalar(select(Site.total_rooms).where(Site.id == site_id))


def _components(db, site_ids, first, last, series=kpi_service.SERIES):
    with db.read() as session:
        return kpi_service.components(session, site_ids, first, last, TEST_TODAY, series)


def _one(frame, site_id, year, month, series):
    chosen = frame[
        (frame["site_id"] == site_id)
        & (frame["year"] == year)
        & (frame["month"] == month)
        & (frame["series"] == series)
    ]
    assert len(chosen) == 1, (site_id, year, month, series)
    return chosen.iloc[0]


# --- 1. components are the books ----------------------------------------------------------


@pytest.mark.parametrize("site_id", [1, 8])
def test_components_of_a_closed_month_are_the_books(db, site_id):
    year, month = 2026, 10
    parts = _components(db, [site_id], (year, month), (year, month))
    assert sorted(parts["series"]) == sorted(kpi_service.SERIES)
    with db.read() as session:
        rooms = _total_rooms(session, site_id)
        actual_books = _ledger(session, site_id, year, month, "actual")
        budget_books = _ledger(session, site_id, year, month, "budget")
        prior_books = _ledger(session, site_id, year - 1, month, "actual")
        occupied, vehicles, overnight = _statistics_month(session, site_id, year, month)
        prior_occupied, prior_vehicles, _ = _statistics_month(session, site_id, year - 1, month)
        hours = _actual_hours(session, site_id, year, month)
        budget_stats = session.scalar(
            select(StatisticBudgetMonth).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == year,
                StatisticBudgetMonth.month == month,
            )
        )
        budget_hours = session.scalar(
            select(func.sum(PayrollBudgetMonth.hours)).where(
                PayrollBudgetMonth.site_id == site_id,
                PayrollBudgetMonth.year == year,
                PayrollBudgetMonth.month == month,
            )
        )
        snapshot = _snapshot(session, site_id, year, month)
    assert rooms and snapshot, "pick a hotel with a submitted October"

    actual = _one(parts, site_id, year, month, "actual")
    assert actual["internal_revenue"] == pytest.approx(float(actual_books.internal_revenue))
    assert actual["payroll"] == pytest.approx(float(actual_books.payroll))
    assert actual["flc"] == pytest.approx(_books_flc(actual_books), abs=1e-6)
    assert actual["external_revenue"] == pytest.approx(float(actual_books.external_revenue))
    assert actual["vehicles"] == pytest.approx(vehicles)
    assert actual["overnight_vehicles"] == pytest.approx(overnight)
    assert actual["occupied_rooms"] == pytest.approx(occupied)
    assert actual["available_rooms"] == rooms * 31
    assert actual["labor_hours"] == pytest.approx(hours)

    budget = _one(parts, site_id, year, month, "budget")
    assert budget["internal_revenue"] == pytest.approx(float(budget_books.internal_revenue))
    assert budget["payroll"] == pytest.approx(float(budget_books.payroll))
    assert budget["flc"] == pytest.approx(_books_flc(budget_books), abs=1e-6)
    assert budget["external_revenue"] == pytest.approx(float(budget_books.external_revenue))
    assert budget["occupied_rooms"] == pytest.approx(float(budget_stats.occupied_rooms))
    assert budget["vehicles"] == pytest.approx(
        sum(float(getattr(budget_stats, f)) for f in VEHICLES)
    )
    assert budget["labor_hours"] == pytest.approx(float(budget_hours))
    assert budget["available_rooms"] == rooms * 31
    assert math.isnan(budget["overtime_hours"])

    prior = _one(parts, site_id, year, month, "prior_year")
    assert prior["flc"] == pytest.approx(_books_flc(prior_books), abs=1e-6)
    assert prior["internal_revenue"] == pytest.approx(float(prior_books.internal_revenue))
    assert prior["occupied_rooms"] == pytest.approx(prior_occupied)
    assert prior["vehicles"] == pytest.approx(prior_vehicles)
    assert prior["flc"] != pytest.approx(actual["flc"])  # really the year before

    forecast = _one(parts, site_id, year, month, "forecast")
    for line in ("external_revenue", "internal_revenue", "payroll", "flc"):
        assert forecast[line] == pytest.approx(snapshot[line]), line
    assert forecast["occupied_rooms"] == pytest.approx(snapshot["occupied_rooms"])
    assert forecast["labor_hours"] == pytest.approx(snapshot["labor_hours"])
    assert forecast["flc"] != pytest.approx(actual["flc"])  # the snapshot, not the books


def test_a_closed_month_without_a_submission_has_no_forecast_row(db):
    with db.read() as session:
        submitted = set(
            session.execute(
                select(ForecastSubmission.site_id, ForecastSubmission.month).where(
                    ForecastSubmission.year == 2026, ForecastSubmission.month <= 10
                )
            ).all()
        )
        sites = sorted(session.scalars(select(Site.id)))
    missing = [(s, m) for s in sites for m in range(1, 11) if (s, m) not in submitted]
    assert missing, "the demo seed leaves ~8% of site-months unsubmitted"
    site_id, month = missing[0]
    parts = _components(db, [site_id], (2026, month), (2026, month))
    assert set(parts["series"]) == {"actual", "budget", "prior_year"}


# --- 2. the live forecast is the P&L's ------------------------------------------------------


def test_live_forecast_of_the_open_months_is_the_pnl(db):
    with db.read() as session:
        ids = sorted(session.scalars(select(Site.id)))
        lines = pnl.pnl_lines(session, ids, 2026, TEST_TODAY)
    parts = _components(db, ids, (2026, 11), (2026, 12), ("forecast",))
    assert len(parts) == 2 * len(ids)
    assert set(lines.loc[lines["month"] == 11, "kind"]) == {"trending"}
    for row in lines[lines["month"] >= 11].itertuples(index=False):
        got = _one(parts, row.site_id, 2026, row.month, "forecast")
        for line in ("internal_revenue", "payroll", "flc", "external_revenue"):
            assert got[line] == pytest.approx(getattr(row, line), abs=CENT), (
                row.site_id,
                row.month,
                line,
            )


def test_live_forecast_from_the_walks_drivers_equals_reading_them_again(db):
    """The figures refresh hands the P&L walk's drivers to the live forecast instead of
    reading them a second time: the components are the same either way."""
    months = [(2026, 11), (2026, 12), *[(2027, m) for m in range(1, 13)]]
    with db.read() as session:
        ids = sorted(session.scalars(select(Site.id)))[:12]
        drivers: dict = {}
        lines = pd.concat(
            [
                pnl.computed_lines(session, ids, year, TEST_TODAY, drivers_out=drivers)
                for year in (2026, 2027)
            ],
            ignore_index=True,
        )
        handed = kpi_service.live_forecast(session, ids, months, TEST_TODAY, lines, drivers)
        read = kpi_service.live_forecast(session, ids, months, TEST_TODAY, lines)
    assert len(handed) == len(ids) * len(months)
    assert handed["occupied_rooms"].notna().any() and handed["labor_hours"].notna().any()
    pd.testing.assert_frame_equal(
        handed.sort_values(["site_id", "year", "month"]).reset_index(drop=True),
        read.sort_values(["site_id", "year", "month"]).reset_index(drop=True),
    )


# --- 3. KPI trends --------------------------------------------------------------------------


def test_district_trends_sum_the_sites_components(db, portfolio):
    district = 2  # holds a site without hotel rooms: occupancy must still be a ratio of sums
    ids = _district_sites(portfolio, district)
    dm = person_for_site(db, portfolio, ids[0])
    with db.read() as session:
        trends = performance.kpi_trends(
            session, dm, TEST_TODAY, "district", district, YEAR_START, YEAR_END
        )
        submitted = session.scalar(
            select(func.count(func.distinct(ForecastSubmission.id)))
            .join(ForecastSnapshotLine, ForecastSnapshotLine.submission_id == ForecastSubmission.id)
            .where(
                ForecastSubmission.site_id.in_(ids),
                ForecastSubmission.year == 2026,
                ForecastSubmission.month <= 10,
                ForecastSnapshotLine.line == "flc",
            )
        )
    assert trends.site_count == len(ids)
    assert trends.label == portfolio["district"].set_index("id").at[district, "name"]
    assert f"{submitted} of {10 * len(ids)} site-months" in trends.forecast_coverage

    parts = _components(db, ids, YEAR_START, YEAR_END)
    labels = kpi_service.SERIES_LABELS
    frame = trends.frame
    assert len(frame) == 10 * 4 + 2 * 3  # open months: budget, live forecast, prior year
    for (year, month, series), group in parts.groupby(["year", "month", "series"]):
        got = frame[
            (frame["period"] == f"{year}-{month:02d}") & (frame["series"] == labels[series])
        ]
        assert len(got) == 1
        got = got.iloc[0]
        assert got["flc"] == pytest.approx(group["flc"].sum(), abs=1e-6)
        occupancy = np.nansum(group["occupied_rooms"]) / np.nansum(group["available_rooms"])
        assert got["occupancy"] == pytest.approx(occupancy)
        per_site = (group["occupied_rooms"] / group["available_rooms"]).dropna()
        if len(per_site) > 1 and series == "actual":
            assert got["occupancy"] != pytest.approx(per_site.mean())  # not a mean of ratios


# --- 4. the FLC waterfall -------------------------------------------------------------------


def _cents(amount):
    return round(amount * 100)


def _pnl_flc(db, ids):
    with db.read() as session:
        return float(pnl.pnl_lines(session, ids, 2026, TEST_TODAY)["flc"].sum())


def _check_waterfall(result, db, ids):
    """Steps add up to the cent; the budget FLC is the budget rows' FLC."""
    steps = {k: result.steps[k] for k, _ in kpi.WATERFALL_STEPS}
    total = result.steps[kpi.WATERFALL_TOTAL]
    assert sum(_cents(v) for v in steps.values()) == _cents(total)
    assert _cents(total) == _cents(result.target_flc) - _cents(result.budget_flc)
    with db.read() as session:
        budget = _ledger_flc(session, ids, [(2026, m) for m in range(1, 13)], "budget")
    assert result.budget_flc == pytest.approx(budget, abs=CENT)
    assert result.target_label == "Actual + forecast"


def test_site_waterfall_adds_up_to_the_pnl(db, portfolio):
    site_id = 1
    dm = person_for_site(db, portfolio, site_id)
    with db.read() as session:
        result = performance.flc_waterfall(
            session, dm, TEST_TODAY, "site", site_id, YEAR_START, YEAR_END
        )
    assert result.site_count == 1
    _check_waterfall(result, db, [site_id])
    assert result.target_flc == pytest.approx(_pnl_flc(db, [site_id]), abs=0.01 + 1e-9)


def test_district_waterfall_is_the_sum_of_its_sites(db, portfolio):
    district = 1
    ids = _district_sites(portfolio, district)
    dm = person_for_site(db, portfolio, ids[0])
    with db.read() as session:
        whole = performance.flc_waterfall(
            session, dm, TEST_TODAY, "district", district, YEAR_START, YEAR_END
        )
        sites = [
            performance.flc_waterfall(session, dm, TEST_TODAY, "site", s, YEAR_START, YEAR_END)
            for s in ids
        ]
    assert whole.site_count == len(ids)
    _check_waterfall(whole, db, ids)
    for key in whole.steps:
        assert _cents(whole.steps[key]) == sum(_cents(s.steps[key]) for s in sites), key
    assert _cents(whole.budget_flc) == sum(_cents(s.budget_flc) for s in sites)


def test_district_waterfall_lands_on_the_pnl_within_a_cent_per_site_month(db, portfolio):
    """The waterfall works in cents per site-month (IR, payroll and other costs each rounded
    to the cent, so its drivers add up exactly); the P&L sums unrounded lines. The two agree
    within a cent per site-month."""
    district = 1
    ids = _district_sites(portfolio, district)
    dm = person_for_site(db, portfolio, ids[0])
    with db.read() as session:
        whole = performance.flc_waterfall(
            session, dm, TEST_TODAY, "district", district, YEAR_START, YEAR_END
        )
    site_months = len(ids) * 12
    assert whole.target_flc == pytest.approx(_pnl_flc(db, ids), abs=0.01 * site_months)


# --- 5. benchmarking ------------------------------------------------------------------------


def _peer_values(db, peers, key, first, last):
    """The KPI of each peer from its summed components, computed here."""
    parts = _components(db, peers, first, last, ("actual",))
    definition = kpi.KPIS[key]
    values = {}
    for site_id, group in parts.groupby("site_id"):
        top = group[definition.numerator].sum(min_count=1)
        if definition.denominator is None:
            value = top
        else:
            bottom = group[definition.denominator].sum(min_count=1)
            value = top / bottom if bottom and not np.isnan(bottom) else np.nan
        if not np.isnan(value):
            values[int(site_id)] = float(value)
    return values


@pytest.mark.parametrize(
    ("group", "key"),
    [("segment", "flc"), ("segment", "occupancy"), ("region", "payroll_pct_ir")],
)
def test_rank_and_percentile_are_a_hand_count(db, portfolio, group, key):
    site_id, first, last = 1, (2026, 1), (2026, 10)
    dm = person_for_site(db, portfolio, site_id)
    column = {"segment": "business_segment", "region": "district_id"}[group]
    sites = portfolio["site"].set_index("id")
    if group == "region":
        region = _region_of_district(portfolio, _district_of(portfolio, site_id))
        districts = portfolio["district"]
        same = set(districts.loc[districts["region_id"] == region, "id"])
        peers = sorted(int(s) for s in sites.index if sites.at[s, "district_id"] in same)
    else:
        peers = sorted(
            int(s) for s in sites.index if sites.at[s, column] == sites.at[site_id, column]
        )
    values = _peer_values(db, peers, key, first, last)
    mine = values[site_id]
    others = [v for s, v in values.items() if s != site_id]
    higher = kpi.KPIS[key].higher_is_better
    better = sum(1 for v in others if (v > mine if higher else v < mine))
    worse = sum(1 for v in others if (v < mine if higher else v > mine))
    ties = sum(1 for v in others if v == mine)

    with db.read() as session:
        result = performance.benchmark(session, dm, TEST_TODAY, site_id, group, key, first, last)
    assert result.peer_count == len(peers)
    chosen = next(r for r in result.ranks if r["kpi"] == key)
    assert chosen["value"] == pytest.approx(mine)
    assert chosen["rank"] == better + 1
    assert chosen["of"] == len(values)
    assert chosen["percentile"] == pytest.approx((worse + 0.5 * ties) / len(others) * 100)
    assert chosen["median"] == pytest.approx(float(np.median(list(values.values()))))
    shown = dict(zip(result.distribution["site_id"], result.distribution["value"], strict=True))
    assert shown == pytest.approx(values)


def _outside_scope_checks(result, portfolio, visible):
    for row in result.distribution.itertuples(index=False):
        if int(row.site_id) in visible:
            assert row.site_label == _site_label(portfolio, int(row.site_id))
        else:
            assert row.site_label == performance.OUTSIDE_SCOPE
    hidden = [int(s) for s in result.distribution["site_id"] if int(s) not in visible]
    text = repr(result)
    for site_id in hidden:
        site = portfolio["site"].set_index("id").loc[site_id]
        assert str(site["name"]) not in text
        assert f"{site['site_number']} ·" not in text
    return hidden


def test_peers_outside_the_scope_are_never_named(db, portfolio):
    site_id, first, last = 1, (2026, 1), (2026, 10)
    district = _district_of(portfolio, site_id)
    dm = person_for_site(db, portfolio, site_id)
    mine = set(_district_sites(portfolio, district))
    with db.read() as session:
        region = performance.benchmark(
            session, dm, TEST_TODAY, site_id, "region", "flc", first, last
        )
        segment = performance.benchmark(
            session, dm, TEST_TODAY, site_id, "segment", "flc", first, last
        )
    region_sites = set(region.distribution["site_id"])
    hidden = _outside_scope_checks(region, portfolio, mine)
    assert bool(hidden) == bool(region_sites - mine)  # other districts of the region, if any
    assert _outside_scope_checks(segment, portfolio, mine), "Hospitality spans districts"

    email, own, _ = _other_district_account_manager(portfolio)
    am = _person(db, email)
    with db.read() as session:
        result = performance.benchmark(session, am, TEST_TODAY, own, "region", "flc", first, last)
    assert len(_outside_scope_checks(result, portfolio, {own})) == len(result.distribution) - 1


@pytest.mark.parametrize(
    ("site_id", "group", "key"),
    # An outlier in scope, one outside it (another district's hotel), one in a district.
    [(1, "segment", "occupancy"), (5, "segment", "occupancy"), (5, "district", "drive_in_ratio")],
)
def test_outliers_are_the_robust_z_scores_beyond_the_threshold(db, portfolio, site_id, group, key):
    first, last = (2026, 1), (2026, 10)
    dm = person_for_site(db, portfolio, site_id)
    with db.read() as session:
        result = performance.benchmark(session, dm, TEST_TODAY, site_id, group, key, first, last)
    values = result.distribution["value"].to_numpy()
    median = np.median(values)
    mad = np.median(np.abs(values - median))
    if mad > 0:
        z = 0.6745 * (values - median) / mad
    else:
        spread = np.abs(values - median).mean()
        z = (values - median) / (1.253314 * spread) if spread else np.zeros_like(values)
    flagged = [
        (label, v)
        for label, v, score in zip(result.distribution["site_label"], values, z, strict=True)
        if abs(score) >= result.threshold
    ]
    assert flagged, "the demo data has outliers for these KPIs"
    named = [(label, v) for label, v in flagged if label != performance.OUTSIDE_SCOPE]
    assert sorted((o["site_label"], o["value"]) for o in result.outliers) == sorted(named)
    assert result.hidden_outliers == len(flagged) - len(named)
    for outlier in result.outliers:
        assert abs(outlier["robust_z"]) >= result.threshold
        assert outlier["site_label"] != performance.OUTSIDE_SCOPE


# --- 6. scope -------------------------------------------------------------------------------


def test_an_account_manager_cannot_reach_outside_their_sites(db, portfolio):
    email, own, other = _other_district_account_manager(portfolio)
    am = _person(db, email)
    other_district = _district_of(portfolio, other)
    other_region = _region_of_district(portfolio, other_district)
    own_district = _district_of(portfolio, own)
    assert _region_of_district(portfolio, own_district) != other_region
    with db.read() as session:
        for level, target in (
            ("site", other),
            ("district", other_district),
            ("region", other_region),
        ):
            with pytest.raises(ScopeError):
                performance.kpi_trends(session, am, TEST_TODAY, level, target, YEAR_START, YEAR_END)
            if level != "region":
                with pytest.raises(ScopeError):
                    performance.flc_waterfall(
                        session, am, TEST_TODAY, level, target, YEAR_START, YEAR_END
                    )
        with pytest.raises(ScopeError):
            performance.benchmark(
                session, am, TEST_TODAY, other, "region", "flc", (2026, 1), (2026, 10)
            )
        # Their own district holds only their own site for them.
        assert performance.sites_for(session, am, TEST_TODAY, "district", own_district)[0] == [own]
        choices = performance.scope_choices(session, am, TEST_TODAY)
    assert [c["value"] for c in choices["site"]] == [str(own)]
    assert [c["value"] for c in choices["district"]] == [str(own_district)]
    assert [c["value"] for c in choices["region"]] == [
        str(_region_of_district(portfolio, own_district))
    ]


def _report(db, principal, year=2026):
    with db.read() as session:
        return rr.regional_report(session, principal, TEST_TODAY, year)


def test_a_district_managers_report_is_their_district(db, portfolio):
    district = 2
    ids = _district_sites(portfolio, district)
    dm = person_for_site(db, portfolio, ids[0])
    report = _report(db, dm)
    assert sorted(r["site_id"] for r in report.sites) == ids
    assert [d["district_id"] for d in report.districts] == [district]
    assert report.total["site_count"] == len(ids)
    for field in rr.MONEY_FIELDS:
        members = sum(r[field] for r in report.sites)
        assert report.total[field] == pytest.approx(members, abs=CENT), field
        assert report.districts[0][field] == pytest.approx(members, abs=CENT), field
    with db.read() as session:
        budget = _ledger_flc(session, ids, [(2026, m) for m in range(1, 13)], "budget")
    assert report.total["budget_flc"] == pytest.approx(budget, abs=CENT)


def test_the_executive_report_total_is_the_pnl_of_every_site(db, portfolio):
    executive = _person(db, portfolio.demo_accounts["executive"])
    report = _report(db, executive)
    with db.read() as session:
        ids = sorted(session.scalars(select(Site.id)))
        lines = pnl.pnl_lines(session, ids, 2026, TEST_TODAY)
        budget = pnl.basis_lines(session, ids, 2026, pnl.BUDGET_BASIS)
        prior = pnl.basis_lines(session, ids, 2026, pnl.PRIOR_YEAR_BASIS)
        budget_books = _ledger_flc(session, ids, [(2026, m) for m in range(1, 13)], "budget")
    assert report.total["site_count"] == len(ids)
    # The total sums the site rows, each rounded to the cent: at most half a cent per site.
    assert report.total["forecast_flc"] == pytest.approx(
        lines["flc"].sum(), abs=0.005 * len(ids) + 1e-9
    )
    assert report.total["budget_flc"] == pytest.approx(budget["flc"].sum(), abs=0.01 + 1e-9)
    assert report.total["budget_flc"] == pytest.approx(budget_books, abs=0.01 + 1e-9)
    assert report.total["prior_year_flc"] == pytest.approx(prior["flc"].sum(), abs=0.01 + 1e-9)
    actual = lines.loc[lines["kind"] == "actual", "flc"].sum()
    assert report.total["actual_flc"] == pytest.approx(actual, abs=0.01 + 1e-9)
    assert report.closed_months == CLOSED_2026


# --- 7. forecast accuracy -------------------------------------------------------------------


@pytest.mark.parametrize("site_id", [6, 10])  # site 6 skipped some months
def test_site_accuracy_is_the_snapshot_against_the_books(db, portfolio, site_id):
    executive = _person(db, portfolio.demo_accounts["executive"])
    errors, actual_sum, forecast_sum = [], 0.0, 0.0
    with db.read() as session:
        for year, month in CLOSED_2026:
            snapshot = _snapshot(session, site_id, year, month)
            if "flc" not in snapshot:
                continue
            books = _books_flc(_ledger(session, site_id, year, month, "actual"))
            forecast = snapshot["flc"]
            errors.append((books - forecast) / abs(forecast))
            actual_sum += books
            forecast_sum += forecast
    assert errors
    row = next(r for r in _report(db, executive).sites if r["site_id"] == site_id)
    assert row["mape"] == pytest.approx(sum(abs(e) for e in errors) / len(errors))
    assert row["bias"] == pytest.approx(sum(errors) / len(errors))
    within = abs(actual_sum - forecast_sum) <= 0.05 * abs(forecast_sum)
    assert row["within_5"] == (1.0 if within else 0.0)


# --- 8. files -------------------------------------------------------------------------------


def test_workbook_and_document_carry_the_report(db, portfolio):
    executive = _person(db, portfolio.demo_accounts["executive"])
    report = _report(db, executive)
    book = openpyxl.load_workbook(io.BytesIO(rr.workbook(report, executive)))
    assert {"Regions", "Districts", "Sites", "At-risk sites", "Accuracy"} <= set(book.sheetnames)
    sheet = book["Regions"]
    header_row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Name")
    headers = {sheet.cell(header_row, c).value: c for c in range(1, sheet.max_column + 1)}
    region_rows = list(range(header_row + 1, header_row + 1 + len(report.regions)))
    assert [sheet.cell(r, 1).value for r in region_rows] == [g["name"] for g in report.regions]
    totals_row = sheet.max_row
    assert totals_row == region_rows[-1] + 2
    assert sheet.cell(totals_row, headers["Sites"]).value == report.total["site_count"]
    forecast = sheet.cell(totals_row, headers["Forecast FLC (actual + forecast)"]).value
    budget = sheet.cell(totals_row, headers["Budget FLC"]).value
    assert forecast == pytest.approx(report.total["forecast_flc"], abs=CENT)
    assert budget == pytest.approx(report.total["budget_flc"], abs=CENT)
    assert forecast == pytest.approx(sum(g["forecast_flc"] for g in report.regions), abs=0.01)

    html_text = report_view.document(report, executive)
    assert "Regional report 2026" in html_text
    for district in report.districts:
        assert district["name"]
        escaped = district["name"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f">{escaped}<" in html_text


# --- 9. forged callback posts ---------------------------------------------------------------


def _callback_key(app, first_output):
    """The callback's output key (allow_duplicate outputs carry a hash Dash makes)."""
    keys = [k for k in app.callback_map if k.lstrip(".").startswith(first_output)]
    assert len(keys) == 1, first_output
    return keys[0]


def _outputs(key):
    if not key.startswith(".."):
        component, prop = key.split(".", 1)
        return {"id": component, "property": prop}
    out = []
    for part in key.strip(".").split("..."):
        component, prop = part.split(".", 1)
        out.append({"id": component, "property": prop})
    return out


def _post(client, key, inputs, state, changed):
    body = {
        "output": key,
        "outputs": _outputs(key),
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [changed],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    return client.post("/_dash-update-component", json=body)


def _trends_post(app, client, level, target):
    return _post(
        client,
        _callback_key(app, "perf-trend-chart.figure"),
        [
            ("perf-target", "value", target),
            ("perf-first", "value", "2026-01"),
            ("perf-last", "value", "2026-12"),
            ("perf-kpi", "value", "flc"),
            ("perf-tabs", "value", "trends"),
            ("shell-figures-refreshed", "data", 0),
        ],
        [("perf-level", "value", level)],
        "perf-target.value",
    )


def _waterfall_post(app, client, level, target):
    return _post(
        client,
        _callback_key(app, "perf-waterfall-chart.figure"),
        [
            ("perf-target", "value", target),
            ("perf-first", "value", "2026-01"),
            ("perf-last", "value", "2026-12"),
            ("perf-tabs", "value", "waterfall"),
            ("shell-figures-refreshed", "data", 0),
        ],
        [("perf-level", "value", level)],
        "perf-target.value",
    )


def _report_keys(app):
    """The keys of the report's request callback and of its background job (whose
    allow_duplicate outputs carry Dash's hash)."""
    keys = [k for k in app.callback_map if k.lstrip(".").startswith("report-data.data")]
    request = [k for k in keys if not k.lstrip(".").startswith("report-data.data@")]
    job = [k for k in keys if k.lstrip(".").startswith("report-data.data@")]
    assert len(request) == 1 and len(job) == 1, keys
    return request[0], job[0]


def _report_request(app, client):
    """The report page's request callback alone: it shows a kept report, never computes."""
    return _post(
        client,
        _report_keys(app)[0],
        [("report-year", "value", 2026), ("shell-figures-refreshed", "data", 0)],
        [],
        "report-year.value",
    )


def _report_job(app, client, pending):
    key = _report_keys(app)[1]
    body = {
        "output": key,
        "outputs": _outputs(key),
        "inputs": [{"id": "report-pending", "property": "data", "value": pending}],
        "changedPropIds": ["report-pending.data"],
        "state": [],
    }
    return post_background(client, body)


def _report_post(app, client):
    """Open the report as the browser does: the request callback, then — when it asks for
    one — the background job that computes the report of the current figures."""
    answer = _report_request(app, client)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    pending = answer.get_json()["response"]["report-pending"]["data"]
    return answer if pending is None else _report_job(app, client, pending)


def _export_body(app, rows):
    grid = "perf-trend-grid"
    key = _callback_key(app, f"{grid}-export-download.data")
    return {
        "output": key,
        "outputs": _outputs(key),
        "inputs": [
            {"id": f"{grid}-export-csv", "property": "n_clicks", "value": 1},
            {"id": f"{grid}-export-xlsx", "property": "n_clicks", "value": None},
        ],
        "changedPropIds": [f"{grid}-export-csv.n_clicks"],
        "state": [
            {"id": grid, "property": "virtualRowData", "value": rows},
            {"id": grid, "property": "columnDefs", "value": [{"field": "period"}]},
            {"id": grid, "property": "filterModel", "value": {}},
            {"id": f"{grid}-export-context", "property": "data", "value": [["Level", "All"]]},
            {"id": grid, "property": "pinnedBottomRowData", "value": []},
        ],
    }


def test_a_grid_export_is_written_by_a_job_and_names_who_exported_it(app, auth):
    auth.login("exec1@example.com")
    rows = [{"period": "2026-01"}, {"period": "2026-02"}]
    answer = post_background(auth.client, _export_body(app, rows))
    assert answer.status_code == 200
    sent = answer.get_json()["response"]["perf-trend-grid-export-download"]["data"]
    assert sent["filename"].startswith("kpi-trends-") and sent["filename"].endswith(".csv")
    text = sent["content"]
    assert "2026-01" in text and "2026-02" in text
    assert "exec1@example.com" in text and "Level" in text


def _export_post(app, client):
    grid = "perf-trend-grid"
    rows = [{"period": "2026-01", "Actual": 1.0}]
    return _post(
        client,
        _callback_key(app, f"{grid}-export-download.data"),
        [(f"{grid}-export-csv", "n_clicks", 1), (f"{grid}-export-xlsx", "n_clicks", None)],
        [
            (grid, "virtualRowData", rows),
            (grid, "columnDefs", [{"field": "period"}]),
            (grid, "filterModel", {}),
            (f"{grid}-export-context", "data", []),
            (grid, "pinnedBottomRowData", []),
        ],
        f"{grid}-export-csv.n_clicks",
    )


def test_callbacks_refuse_without_a_session(app, client, portfolio):
    for response in (
        _report_request(app, client),
        _report_job(app, client, {"year": 2026, "asked": "x"}),
        _trends_post(app, client, "all", "all"),
        _waterfall_post(app, client, "district", "1"),
        _export_post(app, client),
    ):
        assert response.status_code == 401
        text = response.get_data(as_text=True)
        assert "forecast_flc" not in text
        assert "rowData" not in text
    assert portfolio["district"]["name"].iloc[0] not in _report_request(app, client).get_data(
        as_text=True
    )


def test_an_account_manager_posting_another_district_gets_nothing(app, auth, portfolio):
    email, own, other = _other_district_account_manager(portfolio)
    other_district = str(_district_of(portfolio, other))
    auth.login(email)

    mine = _trends_post(app, auth.client, "site", str(own))
    assert mine.status_code == 200
    assert mine.get_json()["response"]["perf-trend-grid"]["rowData"], "own site has rows"

    for post in (_trends_post, _waterfall_post):
        response = post(app, auth.client, "district", other_district)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "None of the chosen sites is in your scope." in text
        payload = response.get_json()["response"]
        grid = "perf-trend-grid" if post is _trends_post else "perf-waterfall-grid"
        assert payload[grid]["rowData"] == []
        assert _site_label(portfolio, other) not in text


def _bench_post(app, client, site_id, group):
    return _post(
        client,
        _callback_key(app, "perf-bench-chart.figure"),
        [
            ("perf-target", "value", str(site_id)),
            ("perf-first", "value", "2026-01"),
            ("perf-last", "value", "2026-10"),
            ("perf-peers", "value", group),
            ("perf-bench-kpi", "value", "flc"),
            ("perf-bench-series", "value", "actual"),
            ("perf-tabs", "value", "benchmark"),
            ("shell-figures-refreshed", "data", 0),
        ],
        [("perf-level", "value", "site")],
        "perf-target.value",
    )


def _alone_in_contract_group(portfolio):
    """A site whose benchmarking contract type no other site has (rank 1 of 1)."""
    sites = portfolio["site"]
    contract = {
        int(s): next((c for c in performance.CONTRACT_ORDER if c in f.split(";")), None)
        for s, f in zip(sites["id"], sites["contract_types"], strict=True)
    }
    alone = [s for s, c in contract.items() if list(contract.values()).count(c) == 1]
    assert alone, "the demo portfolio has a site with a contract type of its own"
    return alone[0]


def test_benchmark_callback_for_an_account_managers_own_site(app, auth, portfolio):
    email, own, other = _other_district_account_manager(portfolio)
    auth.login(email)
    response = _bench_post(app, auth.client, own, "region")
    assert response.status_code == 200
    payload = response.get_json()["response"]
    assert "rank " in payload["perf-bench-headline"]["children"]
    assert _site_label(portfolio, other) not in response.get_data(as_text=True)
    refused = _bench_post(app, auth.client, other, "region")
    assert "This site is not in your scope." in refused.get_data(as_text=True)
    assert refused.get_json()["response"]["perf-rank-grid"]["rowData"] == []


def test_benchmark_callback_for_a_site_without_other_peers(app, auth, portfolio):
    site_id = _alone_in_contract_group(portfolio)
    auth.login(portfolio.demo_accounts["executive"])
    response = _bench_post(app, auth.client, site_id, "contract")
    assert response.status_code == 200
    assert "rank 1 of 1" in response.get_json()["response"]["perf-bench-headline"]["children"]


def test_the_report_roll_up_stays_on_the_server_and_a_forged_handle_gets_nothing(
    app, auth, portfolio
):
    """The browser gets a handle to the roll-up, not the roll-up; the drill callback reads it
    back for the person only (another person's token is theirs alone), and a handle naming a
    year the report does not offer is refused without an error."""
    auth.login(portfolio.demo_accounts["executive"])
    answer = _report_post(app, auth.client)
    assert answer.status_code == 200
    handle = answer.get_json()["response"]["report-data"]["data"]
    assert set(handle) == {"token", "year"}
    assert len(json.dumps(handle)) < 200

    def show(data):
        return _post(
            auth.client,
            _callback_key(app, "report-grid.rowData"),
            [("report-data", "data", data), ("report-drill", "data", {})],
            [],
            "report-data.data",
        )

    regions = show(handle).get_json()["response"]["report-grid"]["rowData"]
    assert sorted(r["name"] for r in regions) == sorted(portfolio["region"]["name"])
    forged = show({"token": "not-a-token", "year": 1999})
    assert forged.status_code == 204  # nothing to show, no error


def test_the_report_charts_and_at_risk_rows_follow_from_the_handle(app, auth, portfolio, db):
    """The page's charts and at-risk grid are filled from the report's handle by their own
    callbacks (the roll-up grid does not wait for them); a handle for a year the report
    does not offer gives nothing."""
    auth.login(portfolio.demo_accounts["executive"])
    handle = _report_post(app, auth.client).get_json()["response"]["report-data"]["data"]

    def post(output, data):
        return _post(
            auth.client,
            _callback_key(app, output),
            [("report-data", "data", data)],
            [],
            ("report-data.data"),
        )

    drawn = post("report-district-chart-box.children", handle).get_json()["response"]
    ranked = drawn["report-district-chart-box"]["children"]["props"]
    assert ranked["id"] == "report-district-chart" and ranked["figure"]["data"]
    accuracy = drawn["report-accuracy-chart-box"]["children"]["props"]
    assert accuracy["id"] == "report-accuracy-chart" and accuracy["figure"]["layout"]
    risky = post("report-risk-grid.rowData", handle).get_json()["response"]["report-risk-grid"]
    with db.read() as session:
        executive = _person(db, portfolio.demo_accounts["executive"])
        expected = rr.regional_report(session, executive, TEST_TODAY, handle["year"]).at_risk
    assert [r["site_id"] for r in risky["rowData"]] == [r["site_id"] for r in expected]
    assert any(c["field"] == "at_risk" for c in risky["columnDefs"])
    for output in ("report-district-chart-box.children", "report-risk-grid.rowData"):
        assert post(output, {"token": "x", "year": 1999}).status_code == 204


def test_a_kept_report_roll_up_follows_the_persons_scope(app, auth, portfolio, db):
    """A roll-up kept on the server is read again only for the sites the person may see now:
    once a district manager's assignment ends, the drill shows none of its rows."""
    import datetime as dt

    from sqlalchemy import select, update

    from dashboard.data.models import ScopeAssignment, User

    email = portfolio.demo_accounts["district_manager"]
    auth.login(email)
    handle = _report_post(app, auth.client).get_json()["response"]["report-data"]["data"]

    def regions():
        answer = _post(
            auth.client,
            _callback_key(app, "report-grid.rowData"),
            [("report-data", "data", handle), ("report-drill", "data", {})],
            [],
            "report-data.data",
        )
        if answer.status_code == 204:
            return []
        return answer.get_json()["response"]["report-grid"]["rowData"]

    assert regions()
    with db.read() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    mine = ScopeAssignment.user_id == user_id
    with db.write() as session:
        before = session.execute(
            select(ScopeAssignment.id, ScopeAssignment.valid_to).where(mine)
        ).all()
        session.execute(
            update(ScopeAssignment).where(mine).values(valid_to=TEST_TODAY - dt.timedelta(days=1))
        )
    try:
        assert regions() == []
    finally:
        with db.write() as session:
            for grant_id, valid_to in before:
                session.execute(
                    update(ScopeAssignment)
                    .where(ScopeAssignment.id == grant_id)
                    .values(valid_to=valid_to)
                )


def test_a_shared_report_is_computed_again_once_a_save_moves_the_figures(app, auth, db, portfolio):
    """Reports are kept per fingerprint (scope, figure and decision versions, thresholds,
    day) and shared; a save moves the fingerprint, so the next open shows the new figures."""
    import datetime as dt

    from dashboard.services import statistics as stats
    from dashboard.services import workspace_save

    executive = _person(db, portfolio.demo_accounts["executive"])
    with db.read() as session:
        before = rr.fingerprint(session, executive, TEST_TODAY, 2026)
        assert rr.fingerprint(session, executive, TEST_TODAY, 2026) == before
        manager = _person(db, portfolio.demo_accounts["district_manager"])
        assert rr.fingerprint(session, manager, TEST_TODAY, 2026) != before

    auth.login(portfolio.demo_accounts["executive"])

    def total():
        handle = _report_post(app, auth.client).get_json()["response"]["report-data"]["data"]
        answer = _post(
            auth.client,
            _callback_key(app, "report-grid.rowData"),
            [("report-data", "data", handle), ("report-drill", "data", {})],
            [],
            "report-data.data",
        )
        return answer.get_json()["response"]["report-grid"]["pinnedBottomRowData"][0]

    first = total()
    assert total() == first  # the kept report, unchanged

    site_id = 3  # a revenue-share hotel: its statistics move external and internal revenue
    person = person_for_site(db, portfolio, site_id)  # its district manager (no AM recorded)
    day = dt.date(2026, 12, 10)
    with db.read() as session:
        window = stats.load_window(session, person, site_id, (2026, 12), TEST_TODAY)
        row = next(r for r in window.records if r["day"] == day)
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [stats.StatisticEdit(day, "valet_daily", row["forecast_valet_daily"] + 40, row["version"])],
        [],
        TEST_TODAY,
    )
    assert result.ok, result
    with db.read() as session:
        assert rr.fingerprint(session, executive, TEST_TODAY, 2026) != before
        fresh = rr.regional_report(session, executive, TEST_TODAY, 2026).total

    # The request computes nothing: it shows the last report, says it is updating, and asks
    # for the background job ...
    request = _report_request(app, auth.client).get_json()["response"]
    assert request["report-pending"]["data"]["year"] == 2026
    notice = json.dumps(request["report-freshness"]["children"])
    assert "being updated" in notice
    handle = request["report-data"]["data"]
    shown = _post(
        auth.client,
        _callback_key(app, "report-grid.rowData"),
        [("report-data", "data", handle), ("report-drill", "data", {})],
        [],
        "report-data.data",
    ).get_json()["response"]["report-grid"]["pinnedBottomRowData"][0]
    assert shown["forecast_flc"] == first["forecast_flc"]
    # ... which computes the report of the new figures, clears the notice and keeps it for
    # the next request.
    job = _report_job(app, auth.client, request["report-pending"]["data"]).get_json()
    assert job["response"]["report-freshness"]["children"] is None
    after = total()
    assert after["forecast_flc"] != first["forecast_flc"]
    assert after["forecast_flc"] == pytest.approx(fresh["forecast_flc"], abs=0.01)
    again = _report_request(app, auth.client).get_json()["response"]
    assert again["report-pending"]["data"] is None
    assert again["report-freshness"]["children"] is None
