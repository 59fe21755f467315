"""Stored derived figures: refreshed in the save's transaction, recomputed in bulk, checked
against a fresh computation (``python -m dashboard recompute --check``), and still right after
any sequence of saves, rate changes, submissions and decisions (a property test)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from dashboard.__main__ import main
from dashboard.data import figures as figures_repo
from dashboard.data.models import (
    ParkingRateMonth,
    Site,
    SiteFigureState,
    SiteMonthFigure,
    SiteStatisticDay,
)
from dashboard.domain import kpi
from dashboard.domain import submission as sm
from dashboard.services import adjustments, figures, pnl, submissions, workspace_save
from dashboard.services import rates as rates_service
from dashboard.services import statistics as stats
from tests.conftest import TEST_TODAY, person_for_site

YEAR = TEST_TODAY.year


def _statistic_version(db, site_id, day) -> int:
    with db.read() as session:
        version = session.scalar(
            select(SiteStatisticDay.version).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.day == day,
                SiteStatisticDay.kind == "forecast",
            )
        )
    return int(version or 0)


def _rate_version(db, site_id, year, month, category) -> int:
    with db.read() as session:
        version = session.scalar(
            select(ParkingRateMonth.version).where(
                ParkingRateMonth.site_id == site_id,
                ParkingRateMonth.year == year,
                ParkingRateMonth.month == month,
                ParkingRateMonth.category == category,
                ParkingRateMonth.kind == "forecast",
            )
        )
    return int(version or 0)


def _stored_month(db, site_id, year, month) -> dict:
    with db.read() as session:
        frame = pnl.month_lines(session, [site_id], year, month, TEST_TODAY)
    return frame.iloc[0].to_dict()


def _computed_month(db, site_id, year, month) -> dict:
    with db.read() as session:
        frame = pnl.computed_month_lines(session, [site_id], year, month, TEST_TODAY)
    return frame.iloc[0].to_dict()


def test_a_save_shows_its_new_figures_at_once(db, portfolio):
    """The save refreshes the site's stored figures in its own transaction: right after it
    returns, the stored P&L month equals a fresh computation and differs from before."""
    site_id = int(portfolio["site"]["id"].iloc[3])
    person = person_for_site(db, portfolio, site_id)
    day = dt.date(2027, 2, 10)
    before = _stored_month(db, site_id, 2027, 2)
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [stats.StatisticEdit(day, "valet_daily", 400, _statistic_version(db, site_id, day))],
        [],
        TEST_TODAY,
    )
    assert result.ok, result
    after = _stored_month(db, site_id, 2027, 2)
    assert after["external_revenue"] != pytest.approx(before["external_revenue"])
    assert after["external_revenue"] == pytest.approx(
        _computed_month(db, site_id, 2027, 2)["external_revenue"], abs=1e-6
    )
    with db.read() as session:
        assert figures.pending(session, [site_id], TEST_TODAY).count == 0
        assert figures.check(session, [site_id], TEST_TODAY) == []


def test_a_refused_save_leaves_the_figures_and_their_version(db, portfolio):
    site_id = int(portfolio["site"]["id"].iloc[4])
    person = person_for_site(db, portfolio, site_id)
    with db.read() as session:
        version = session.get(SiteFigureState, site_id).inputs_version
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [stats.StatisticEdit(dt.date(2027, 2, 11), "valet_daily", -5, 0)],
        [],
        TEST_TODAY,
    )
    assert result.problems
    with db.read() as session:
        assert session.get(SiteFigureState, site_id).inputs_version == version


def test_check_finds_a_wrong_figure_and_recompute_repairs_it(
    private_portfolio, monkeypatch, capsys
):
    db, _ = private_portfolio
    with db.read() as session:
        site_id = session.scalars(select(Site.id).order_by(Site.id)).first()
        number = session.get(Site, site_id).site_number
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("DASHBOARD_TODAY", TEST_TODAY.isoformat())
    assert main(["recompute", "--check"]) == 0
    with db.write() as session:
        session.execute(
            update(SiteMonthFigure)
            .where(
                SiteMonthFigure.site_id == site_id,
                SiteMonthFigure.series == "forecast",
                SiteMonthFigure.year == YEAR + 1,
                SiteMonthFigure.month == 3,
            )
            .values(flc=SiteMonthFigure.flc + 1)
        )
    capsys.readouterr()
    assert main(["recompute", "--check"]) == 1
    out = capsys.readouterr().out
    assert f"site {site_id} forecast {YEAR + 1}-03 flc" in out
    assert "1 difference(s)" in out
    assert main(["recompute", "--site", number]) == 0
    assert main(["recompute", "--check"]) == 0
    assert main(["recompute", "--site", "9999"]) == 2


def test_bulk_changes_and_a_new_day_leave_sites_pending_until_recomputed(private_portfolio):
    db, _ = private_portfolio
    with db.read() as session:
        ids = list(session.scalars(select(Site.id).order_by(Site.id)))
    with db.write() as session:
        figures.mark_stale(session, ids[:2])
    with db.read() as session:
        waiting = figures.pending(session, ids, TEST_TODAY)
        assert waiting.site_ids == tuple(ids[:2])
        assert waiting.message().startswith("2 sites updating")
    result = figures.recompute(db, TEST_TODAY, only_stale=True)
    assert result.sites == 2
    tomorrow = dt.date(2026, 12, 1)  # a new month: November closes
    with db.read() as session:
        assert figures.pending(session, ids, TEST_TODAY).count == 0
        assert figures.pending(session, ids, tomorrow).site_ids == tuple(ids)
    figures.recompute(db, tomorrow, only_stale=True)
    with db.read() as session:
        assert figures.pending(session, ids, tomorrow).count == 0
        assert figures.check(session, None, tomorrow) == []
        kinds = dict(
            session.execute(
                select(SiteMonthFigure.month, SiteMonthFigure.kind).where(
                    SiteMonthFigure.site_id == ids[0],
                    SiteMonthFigure.series == "forecast",
                    SiteMonthFigure.year == 2026,
                    SiteMonthFigure.month.in_([11, 12]),
                )
            ).all()
        )
    assert kinds == {11: "actual", 12: "trending"}


def test_a_recompute_keeps_what_a_save_wrote_meanwhile(private_portfolio):
    """A batch computed from inputs that moved on before it committed does not mark the site
    current (the save's own refresh wrote the newer figures)."""
    db, _ = private_portfolio
    with db.read() as session:
        site_id = session.scalars(select(Site.id).order_by(Site.id)).first()
        versions = figures.repo.input_versions(session, [site_id])
    with db.write() as session:
        figures.mark_stale(session, [site_id])  # the save that happened meanwhile
        marked = figures.repo.mark_computed(session, versions, TEST_TODAY, dt.datetime(2026, 1, 1))
    assert marked == []
    with db.read() as session:
        assert figures.pending(session, [site_id], TEST_TODAY).site_ids == (site_id,)


def test_a_save_during_a_recompute_batch_keeps_its_figures(private_portfolio, monkeypatch):
    """A save that commits while a recompute batch is computing: the batch leaves that site
    out (its save wrote newer figures), writes the others, and the stored figures equal a
    fresh computation afterwards."""
    db, built = private_portfolio
    with db.read() as session:
        ids = list(session.scalars(select(Site.id).order_by(Site.id)))
    site_id = ids[0]
    person = _editor(db, built, site_id)
    with db.write() as session:
        figures.mark_stale(session, ids)
    real_compute = figures.compute
    day = dt.date(2027, 3, 9)

    saves = []

    def compute_while_someone_saves(session, site_ids, today, *args, **kwargs):
        frame = real_compute(session, site_ids, today, *args, **kwargs)
        if site_id in site_ids and not saves:
            saves.append(day)  # once: the save's own refresh computes too
            saved = workspace_save.save_forecast_inputs(
                db, person, site_id, [stats.StatisticEdit(day, "valet_daily", 321, 0)], [], today
            )
            assert saved.ok, saved
        return frame

    monkeypatch.setattr(figures, "compute", compute_while_someone_saves)
    result = figures.recompute(db, TEST_TODAY)
    monkeypatch.undo()
    assert result.skipped == 1
    with db.read() as session:
        assert figures.pending(session, ids, TEST_TODAY).count == 0
        assert figures.check(session, None, TEST_TODAY) == []
        # The district sums portfolio views read add up to the sites' rows.
        assert figures.check_district_sums(session) == []
        stored = pnl.month_lines(session, [site_id], 2027, 3, TEST_TODAY).iloc[0]
        fresh = pnl.computed_month_lines(session, [site_id], 2027, 3, TEST_TODAY).iloc[0]
    assert stored["external_revenue"] == pytest.approx(fresh["external_revenue"])


# --- Property: after any sequence of changes the stored figures equal a fresh computation ----

FIELDS = ("valet_daily", "self_daily", "valet_monthly", "occupancy", "drive_in_ratio")
CATEGORIES = ("valet_daily", "self_overnight", "valet_overnight")
EXPENSES = ("repairs_maintenance", "uniforms")
OPEN_MONTHS = [(2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 6)]

operation = st.one_of(
    st.tuples(
        st.just("statistic"),
        st.integers(0, 2),
        st.integers(0, 120),
        st.sampled_from(FIELDS),
        st.floats(0, 1),
    ),
    st.tuples(
        st.just("rate"),
        st.integers(0, 2),
        st.sampled_from(OPEN_MONTHS),
        st.sampled_from(CATEGORIES),
        st.floats(5, 80),
    ),
    st.tuples(
        st.just("expense"),
        st.integers(0, 2),
        st.sampled_from(OPEN_MONTHS[1:]),
        st.sampled_from(EXPENSES),
        st.floats(0, 3000),
    ),
    st.tuples(st.just("submit"), st.integers(0, 2), st.sampled_from(OPEN_MONTHS[:3])),
    st.tuples(
        st.just("decide"),
        st.integers(0, 2),
        st.sampled_from(OPEN_MONTHS[:3]),
        st.sampled_from((sm.APPROVE, sm.RETURN)),
    ),
)


def _editor(db, portfolio, site_id):
    """The site's account manager, else its district manager (who may edit too)."""
    try:
        return person_for_site(db, portfolio, site_id, "account_manager")
    except AssertionError:
        return person_for_site(db, portfolio, site_id)


def _apply(db, portfolio, ids, op) -> None:
    kind, site_id = op[0], ids[op[1] % len(ids)]
    person = _editor(db, portfolio, site_id)
    if kind == "statistic":
        _, _, offset, field, share = op
        day = TEST_TODAY + dt.timedelta(days=offset)
        value = share if field in ("occupancy", "drive_in_ratio") else round(share * 300)
        version = _statistic_version(db, site_id, day)
        workspace_save.save_forecast_inputs(
            db, person, site_id, [stats.StatisticEdit(day, field, value, version)], [], TEST_TODAY
        )
    elif kind == "rate":
        _, _, (year, month), category, rate = op
        version = _rate_version(db, site_id, year, month, category)
        workspace_save.save_forecast_inputs(
            db,
            person,
            site_id,
            [],
            [rates_service.RateEdit(year, month, category, round(rate, 2), version)],
            TEST_TODAY,
        )
    elif kind == "expense":
        _, _, (year, month), field, amount = op
        with db.read() as session:
            rows = adjustments._rows(
                session, "other_expense", site_id, [(year, month)], ("forecast",)
            )
        version = int(rows[0].version) if rows else 0
        edit = adjustments.AdjustmentEdit(
            "other_expense", year, month, field, round(amount, 2), version
        )
        workspace_save.save_forecast_inputs(
            db, person, site_id, [], [], TEST_TODAY, adjustment_edits=[edit]
        )
    elif kind == "submit":
        _, _, (year, month) = op
        with db.read() as session:
            row = submissions._row(session, site_id, year, month)
        explained = dict.fromkeys(sm.FLAGGED_LINES, "Planned change.")
        submissions.submit(
            db, person, site_id, year, month, TEST_TODAY, row.version if row else 0, explained
        )
    else:
        _, _, (year, month), action = op
        manager = person_for_site(db, portfolio, site_id, "district_manager")
        with db.read() as session:
            row = submissions._row(session, site_id, year, month)
        if row is not None:
            comment = "Please revisit." if action == sm.RETURN else None
            submissions.decide(
                db, manager, site_id, year, month, action, comment, row.version, TEST_TODAY
            )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=6))
def test_stored_figures_equal_a_fresh_computation_after_any_changes(private_portfolio, operations):
    db, portfolio = private_portfolio
    with db.read() as session:
        ids = list(session.scalars(select(Site.id).order_by(Site.id)))
    for op in operations:
        _apply(db, portfolio, ids, op)
    with db.read() as session:
        assert figures.pending(session, ids, TEST_TODAY).count == 0
        assert figures.check(session, None, TEST_TODAY) == []
        assert figures.check_district_sums(session) == []


def test_a_save_refreshes_the_next_year_when_the_contract_year_crosses_january(
    private_portfolio,
):
    """A save refreshes the forecast of the years its months can move: its own, and the next
    one at a site whose anniversary contract year runs across January (there a December
    change moves January's tier)."""
    from dashboard.services.figures import _years_moved
    from tests.integration.test_pnl_service import _two_tiers

    db, portfolio = private_portfolio
    sites = portfolio["site"]
    site_id = int(sites.loc[sites["contract_types"] == "RevenueShare", "id"].iloc[0])
    other = int(sites.loc[sites["id"] != site_id, "id"].iloc[0])
    with db.read() as session:
        this_year = pnl.computed_lines(session, [site_id], 2026, TEST_TODAY)
        next_year = pnl.computed_lines(session, [site_id], 2027, TEST_TODAY)
    july_to_december = float(this_year.loc[this_year["month"] >= 7, "external_revenue"].sum())
    january = float(next_year.loc[next_year["month"] == 1, "external_revenue"].iloc[0])
    with db.write() as session:  # the contract year begins in July: January 2027 is inside it
        _two_tiers(
            session, site_id, july_to_december + january / 2, "AnnualAnniversary",
            start=dt.date(2019, 7, 1),
        )  # fmt: skip
        figures.mark_stale(session, [site_id])
    figures.recompute(db, TEST_TODAY, [site_id])
    with db.read() as session:
        assert _years_moved(session, [site_id], TEST_TODAY, [(2026, 12)]) == [2026, 2027]
        assert _years_moved(session, [site_id], TEST_TODAY, [(2027, 3)]) == [2027]
        if not pnl_domain_looks_back(session, other):
            assert _years_moved(session, [other], TEST_TODAY, [(2026, 12)]) == [2026]
        before = pnl.month_lines(session, [site_id], 2027, 1, TEST_TODAY).iloc[0]

    day = dt.date(2026, 12, 5)
    person = _editor(db, portfolio, site_id)
    edit = stats.StatisticEdit(day, "valet_daily", 2000, _statistic_version(db, site_id, day))
    result = workspace_save.save_forecast_inputs(db, person, site_id, [edit], [], TEST_TODAY)
    assert result.ok, result
    with db.read() as session:
        after = pnl.month_lines(session, [site_id], 2027, 1, TEST_TODAY).iloc[0]
        assert figures.check(session, [site_id], TEST_TODAY) == []
    # More December revenue reaches the 50% tier earlier: January earns more.
    assert after["internal_revenue"] > before["internal_revenue"] + 1


def pnl_domain_looks_back(session, site_id) -> bool:
    from dashboard.data.contract_terms import site_terms
    from dashboard.domain import pnl as pnl_domain

    return pnl_domain.looks_back(site_terms(session, [site_id])[site_id])


@pytest.mark.parametrize("private_portfolio", [8], indirect=True)
def test_saves_of_two_sites_of_a_district_at_once_both_reach_the_district_sums(
    private_portfolio,
):
    """Portfolio views sum the district rows; two saves of sites of one district at the
    same moment each add their change to the same rows (no change lost, no deadlock), and
    the executive P&L then equals the sum of the sites' own P&Ls."""
    import threading

    from dashboard.services import pnl_portfolio
    from dashboard.services.accounts import principal_of

    db, built = private_portfolio
    sites = built["site"]
    district = sites.groupby("district_id")["id"].apply(list)
    pair = next(ids for ids in district if len(ids) >= 2)[:2]
    day = TEST_TODAY + dt.timedelta(days=12)
    people = {s: _editor(db, built, int(s)) for s in pair}
    start = threading.Barrier(len(pair))
    results = {}

    def save(site_id):
        start.wait()
        results[site_id] = workspace_save.save_forecast_inputs(
            db,
            people[site_id],
            int(site_id),
            [stats.StatisticEdit(day, "valet_daily", 777, 0)],
            [],
            TEST_TODAY,
        )

    threads = [threading.Thread(target=save, args=(s,)) for s in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(results[s].ok for s in pair), results
    with db.read() as session:
        assert figures.check_district_sums(session) == []
        from dashboard.data.models import User

        executive = principal_of(
            session.scalars(select(User).where(User.role == "executive")).first()
        )
        result = pnl_portfolio.portfolio_pnl(session, executive, day.year, TEST_TODAY)
        each = pnl.month_lines(
            session, [int(s) for s in sites["id"]], day.year, day.month, TEST_TODAY
        )
    flc = next(line for line in result["lines"] if line["line"] == "flc")
    assert flc["values"][day.month - 1] == pytest.approx(float(each["flc"].sum()), abs=0.05)


def test_accuracy_sums_in_sql_follow_the_domain_error_rule(private_portfolio):
    """The regional report's accuracy is summed in SQL; its error must be
    kpi.forecast_errors' (A − F) ÷ |F|, skipping F = 0 and missing books."""
    db, _ = private_portfolio
    f = SiteMonthFigure
    with db.read() as session:
        site = session.scalars(select(Site.id).order_by(Site.id)).first()
    # Books and forecast of record for Jan–Apr 2026 of one site: an ordinary month, a
    # negative forecast, a forecast of 0 (not usable), books missing (not usable).
    cases = {1: (105.0, 100.0), 2: (-80.0, -100.0), 3: (50.0, 0.0), 4: (None, 40.0)}
    with db.write() as session:
        for month, (books, record) in cases.items():
            for series, value in (("forecast", books), ("submitted", record)):
                session.execute(
                    update(f)
                    .where(f.site_id == site, f.series == series, f.year == 2026)
                    .where(f.month == month)
                    .values(flc=value, kind="actual" if series == "forecast" else f.kind)
                )
    with db.read() as session:
        by_site, by_month = figures_repo.accuracy_sums(session, [site], (2026, 1), (2026, 4))
    errors = kpi.forecast_errors(
        [b if b is not None else float("nan") for b, _ in cases.values()],
        [r for _, r in cases.values()],
    )
    usable = errors[~np.isnan(errors)]
    row = by_site.loc[site]
    assert row["pairs"] == 4 and row["usable"] == 2 == len(usable)
    assert row["abs_error"] == pytest.approx(np.abs(usable).sum())  # 0.05 + 0.20
    assert row["error"] == pytest.approx(usable.sum())
    assert row["actual"] == pytest.approx(105.0 - 80.0 + 50.0)  # missing books count 0
    assert row["forecast"] == pytest.approx(100.0 - 100.0 + 0.0 + 40.0)
    assert list(by_month.index) == [202601, 202602, 202603, 202604]
    assert by_month["usable"].tolist() == [1, 1, 0, 0]
    assert by_month.loc[202602, "error"] == pytest.approx(0.20)
    mape, bias = kpi.accuracy_of_sums([row["usable"]], [row["abs_error"]], [row["error"]])
    expected = kpi.forecast_accuracy(
        [b if b is not None else float("nan") for b, _ in cases.values()],
        [r for _, r in cases.values()],
    )
    assert (mape[0], bias[0]) == pytest.approx((expected.mape, expected.bias))
