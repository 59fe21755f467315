"""P&L service against a real database: ledger months, budget-driven forecast months, a saved
statistics forecast flowing into external revenue, the trending month, FLC, filters within
scope and the comparison bases. Expected numbers are read from the database rows the rule
names, so other tests' saves elsewhere do not disturb them."""

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update

from dashboard.data import statistics_repo
from dashboard.data.models import (
    Contract,
    OtherRevenueMonth,
    PayrollBudgetMonth,
    PayrollDay,
    PnlMonth,
    ShareTier,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    StatisticProposalDay,
    User,
)
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import statistics as st_domain
from dashboard.domain.adjustments import OTHER_REVENUE_FIELDS, other_revenue_total
from dashboard.domain.periods import days_in_month
from dashboard.services import pnl, pnl_portfolio, workspace_save
from dashboard.services import rates as rates_service
from dashboard.services import statistics as stats
from dashboard.services.accounts import principal_of
from dashboard.services.scope import visible_site_ids
from tests.conftest import TEST_TODAY, person_for_site
from tests.forecast_days import drop_proposals, forecast_days, payroll_forecast_days

LINES = pnl_domain.PNL_LINES
EXPENSES = pnl_domain.FLC_EXPENSE_LINES


def _person(db, email):
    with db.read() as session:
        return principal_of(session.scalar(select(User).where(User.email == email)))


def _all_sites(db):
    with db.read() as session:
        return sorted(session.scalars(select(Site.id)))


def _lines(db, site_ids, year, today=TEST_TODAY):
    with db.read() as session:
        return pnl.computed_lines(session, site_ids, year, today)


def _row(frame, site_id, month):
    chosen = frame[(frame["site_id"] == site_id) & (frame["month"] == month)]
    assert len(chosen) == 1
    return chosen.iloc[0]


def _ledger(db, site_id, year, month, kind):
    with db.read() as session:
        return session.scalar(
            select(PnlMonth).where(
                PnlMonth.site_id == site_id,
                PnlMonth.year == year,
                PnlMonth.month == month,
                PnlMonth.kind == kind,
            )
        )


def _count(db, model, site_id, first, last, kind="forecast"):
    with db.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(model)
            .where(
                model.site_id == site_id,
                model.kind == kind,
                model.day >= first,
                model.day <= last,
            )
        )


def _other_revenue(db, site_id, year, month):
    """Σ of the Other Revenue tab's columns per kind of row."""
    with db.read() as session:
        rows = session.scalars(
            select(OtherRevenueMonth).where(
                OtherRevenueMonth.site_id == site_id,
                OtherRevenueMonth.year == year,
                OtherRevenueMonth.month == month,
            )
        )
        return {
            r.kind: other_revenue_total({f: getattr(r, f) for f in OTHER_REVENUE_FIELDS})
            for r in rows
        }


def _site_with_flag(portfolio, flag):
    sites = portfolio["site"]
    return int(
        sites.loc[sites["contract_types"].str.split(";").map(lambda f: flag in f), "id"].iloc[0]
    )


def test_one_row_per_site_and_month_with_the_month_kinds(db):
    sites = _all_sites(db)
    frame = _lines(db, sites, 2026)
    assert list(frame.columns) == pnl.LINE_COLUMNS
    assert len(frame) == 12 * len(sites)
    kinds = frame.groupby("month")["kind"].unique()
    assert all(list(kinds[m]) == ["actual"] for m in range(1, 11))
    assert list(kinds[11]) == ["trending"]  # today is 2026-11-23
    assert list(kinds[12]) == ["forecast"]


def test_closed_months_are_the_ledger_actuals(db):
    sites = _all_sites(db)
    frame = _lines(db, sites, 2026)
    for site_id in sites:
        for month in range(1, 11):
            actual = _ledger(db, site_id, 2026, month, "actual")
            row = _row(frame, site_id, month)
            assert row["ir_fallback"] is None
            for line in LINES:
                assert row[line] == pytest.approx(getattr(actual, line), abs=1e-9), (
                    site_id,
                    month,
                    line,
                )


def test_future_month_without_saved_forecasts_or_proposals_is_driven_by_the_budget(db, portfolio):
    site_id, year, month = 4, 2027, 6  # a management agreement (insurance 5.77%)
    first, last = dt.date(year, month, 1), dt.date(year, month, days_in_month(year, month))
    drop_proposals(db, site_id)
    assert _count(db, SiteStatisticDay, site_id, first, last) == 0
    assert _count(db, PayrollDay, site_id, first, last) == 0
    with db.read() as session:
        stat_budget = session.scalar(
            select(StatisticBudgetMonth).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == year,
                StatisticBudgetMonth.month == month,
            )
        )
        payroll_budget = session.scalar(
            select(func.sum(PayrollBudgetMonth.cost)).where(
                PayrollBudgetMonth.site_id == site_id,
                PayrollBudgetMonth.year == year,
                PayrollBudgetMonth.month == month,
            )
        )
    budget = _ledger(db, site_id, year, month, "budget")
    row = _row(_lines(db, [site_id], year), site_id, month)

    assert row["kind"] == "forecast"
    assert row["external_revenue"] == pytest.approx(stat_budget.external_revenue, abs=0.005)
    assert row["payroll"] == pytest.approx(payroll_budget, abs=0.005)
    assert row["payroll"] == pytest.approx(budget.payroll, abs=0.01)
    # PTEB = budget PTEB ÷ budget payroll × forecast payroll = the budget PTEB here.
    assert row["pteb"] == pytest.approx(budget.pteb, abs=0.01)
    # Insurance = 5.77% × payroll + vehicle insurance (management agreement).
    assert row["insurance"] == pytest.approx(
        0.0577 * row["payroll"] + budget.vehicle_insurance, abs=1e-6
    )
    assert row["claims"] == 0.0
    assert row["parking_rents"] == pytest.approx(budget.parking_rents)
    assert row["other_expense"] == pytest.approx(budget.other_expense)


def test_future_month_nobody_saved_is_driven_by_the_stored_proposal(db, portfolio):
    """Entry > proposal > budget: a month with a proposal for every day and no entry counts
    the proposed counts at the month's rates, not the budget; one saved day replaces its
    proposal and leaves the others."""
    site_id, year, month = 4, 2027, 6
    first, last = dt.date(year, month, 1), dt.date(year, month, days_in_month(year, month))
    with db.read() as session:
        shown = forecast_days(session, site_id, first, last)
        budget_revenue = session.scalar(
            select(StatisticBudgetMonth.external_revenue).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == year,
                StatisticBudgetMonth.month == month,
            )
        )
    assert {source for _r, _o, source in shown.values()} == {"proposal"}
    proposed = sum(revenue for revenue, _rooms, _source in shown.values())
    assert abs(proposed - budget_revenue) > 1.0  # the proposal is not the budget here
    row = _row(_lines(db, [site_id], year), site_id, month)
    assert row["external_revenue"] == pytest.approx(proposed, abs=1e-6)

    day = dt.date(year, month, 10)
    person = person_for_site(db, portfolio, site_id)
    result = workspace_save.save_forecast_inputs(
        db, person, site_id, [stats.StatisticEdit(day, "valet_daily", 40, 0)], [], TEST_TODAY
    )
    assert result.ok, result
    with db.read() as session:
        after = forecast_days(session, site_id, first, last)
    assert after[day][2] == "entry"
    assert [d for d in after if after[d][2] != "proposal"] == [day]
    row = _row(_lines(db, [site_id], year), site_id, month)
    expected = sum(revenue for revenue, _rooms, _source in after.values())
    assert row["external_revenue"] == pytest.approx(expected, abs=1e-6)


def test_hours_of_a_month_nobody_saved_are_the_proposed_labor_hours(db, portfolio):
    """Every job code's budget is scaled so that the month's hours are the proposal's (labor
    from the proposed volume); without a proposal they are the budget's."""
    from dashboard.data import pnl_inputs

    site_id, year, month = 4, 2027, 6
    first, last = dt.date(year, month, 1), dt.date(year, month, days_in_month(year, month))
    assert _count(db, PayrollDay, site_id, first, last) == 0
    with db.read() as session:
        proposed = session.scalars(
            select(StatisticProposalDay.labor_hours).where(
                StatisticProposalDay.site_id == site_id,
                StatisticProposalDay.day.between(first, last),
            )
        ).all()
        budget_hours = session.scalar(
            select(func.sum(PayrollBudgetMonth.hours)).where(
                PayrollBudgetMonth.site_id == site_id,
                PayrollBudgetMonth.year == year,
                PayrollBudgetMonth.month == month,
            )
        )
        drivers = pnl_inputs.forecast_drivers(session, [site_id], year, [month]).months
    assert len(proposed) == days_in_month(year, month)
    assert abs(sum(proposed) - budget_hours) > 1.0  # the proposal is not the budget here
    assert drivers["labor_hours"].iloc[0] == pytest.approx(sum(proposed), rel=1e-9)
    drop_proposals(db, site_id)
    with db.read() as session:
        drivers = pnl_inputs.forecast_drivers(session, [site_id], year, [month]).months
    assert drivers["labor_hours"].iloc[0] == pytest.approx(budget_hours, rel=1e-9)


def _unsaved_day(session, site_id, year, month) -> float:
    """External revenue of a forecast day nobody saved, as the statistics tab shows it."""
    counts = statistics_repo.budget_month_values(session, site_id, [(year, month)])
    rates = statistics_repo.window_rates(session, site_id, [(year, month)])
    return st_domain.unsaved_day_revenue(
        counts.get((year, month), {}), days_in_month(year, month), rates[(year, month)]
    )


def test_saved_statistics_forecast_moves_external_revenue_by_the_difference(db, portfolio):
    site_id = _site_with_flag(portfolio, "RevenueShare")
    tiers = portfolio["share_tier"]
    tier = tiers[(tiers["site_id"] == site_id) & (tiers["scheme"] == "revenue_share")]
    assert list(tier["lower_bound"]) == [0.0]  # one tier, from the first dollar
    share = float(tier["share_pct"].iloc[0])
    day = dt.date(2027, 8, 17)
    with db.read() as session:
        saved = session.scalar(
            select(SiteStatisticDay).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day == day,
            )
        )
        budget_month = session.scalar(
            select(StatisticBudgetMonth.external_revenue).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == 2027,
                StatisticBudgetMonth.month == 8,
            )
        )
        unsaved_day = _unsaved_day(session, site_id, 2027, 8)
        before_day = forecast_days(session, site_id, day, day)[day][0]
    # A day neither saved nor proposed: the budget's counts at the month's rates (the
    # budget's here, whose revenue is the budget month's up to the rates' cents).
    assert unsaved_day == pytest.approx(budget_month / 31, rel=1e-4)
    before = _lines(db, [site_id], 2027)

    person = person_for_site(db, portfolio, site_id)
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(day, "valet_daily", 250, saved.version if saved else 0),
            stats.StatisticEdit(day, "self_daily", 120, saved.version if saved else 0),
        ],
        [],
        TEST_TODAY,
    )
    assert result.ok, result
    with db.read() as session:
        after_day = session.scalar(
            select(SiteStatisticDay.external_revenue).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day == day,
            )
        )
    assert after_day != pytest.approx(before_day)
    after = _lines(db, [site_id], 2027)

    change = after_day - before_day
    august_before, august_after = _row(before, site_id, 8), _row(after, site_id, 8)
    assert august_after["external_revenue"] - august_before["external_revenue"] == pytest.approx(
        change, abs=1e-6
    )
    # Revenue share from the first dollar: internal revenue moves by the share of the change.
    assert august_after["internal_revenue"] - august_before["internal_revenue"] == pytest.approx(
        share * change, abs=1e-6
    )
    # Other months are untouched.
    for month in (7, 9):
        for line in LINES:
            assert _row(after, site_id, month)[line] == pytest.approx(
                _row(before, site_id, month)[line]
            )


def test_revenue_share_internal_revenue_is_share_of_revenue_plus_other_revenue(db, portfolio):
    site_id = _site_with_flag(portfolio, "RevenueShare")
    tiers = portfolio["share_tier"]
    tier = tiers[(tiers["site_id"] == site_id) & (tiers["scheme"] == "revenue_share")]
    assert list(tier["lower_bound"]) == [0.0]
    share = float(tier["share_pct"].iloc[0])
    other = _other_revenue(db, site_id, 2027, 5)
    other = other.get("forecast", other["budget"])
    row = _row(_lines(db, [site_id], 2027), site_id, 5)
    assert row["ir_fallback"] is None
    assert row["internal_revenue"] == pytest.approx(share * row["external_revenue"] + other)


def test_trending_month_blends_actual_days_with_the_forecast_of_the_rest(db, portfolio):
    site_id = 3
    year, month = TEST_TODAY.year, TEST_TODAY.month
    n = days_in_month(year, month)
    first, last = dt.date(year, month, 1), dt.date(year, month, n)
    with db.read() as session:
        days = session.execute(
            select(
                SiteStatisticDay.day, SiteStatisticDay.kind, SiteStatisticDay.external_revenue
            ).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.day >= first,
                SiteStatisticDay.day <= last,
            )
        ).all()
        budget_revenue = session.scalar(
            select(StatisticBudgetMonth.external_revenue).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == year,
                StatisticBudgetMonth.month == month,
            )
        )
        pay = session.execute(
            select(PayrollDay.day, PayrollDay.kind, PayrollDay.job_code_id, PayrollDay.cost).where(
                PayrollDay.site_id == site_id,
                PayrollDay.day >= first,
                PayrollDay.day <= last,
                PayrollDay.kind.in_(("actual", "forecast")),
            )
        ).all()
        pay_budget = dict(
            session.execute(
                select(PayrollBudgetMonth.job_code_id, PayrollBudgetMonth.cost).where(
                    PayrollBudgetMonth.site_id == site_id,
                    PayrollBudgetMonth.year == year,
                    PayrollBudgetMonth.month == month,
                )
            ).all()
        )
    every_day = [dt.date(year, month, d) for d in range(1, n + 1)]
    # External revenue: the domain's blend of actual days and forecast (saved, else the
    # proposal, else the budget's counts at the month's rates).
    with db.read() as session:
        unsaved_day = _unsaved_day(session, site_id, year, month)
        shown = forecast_days(session, site_id, first, last)
    assert unsaved_day == pytest.approx(budget_revenue / n, rel=1e-4)
    assert {shown[d][2] for d in every_day if d >= TEST_TODAY} == {"proposal"}
    actual = {d: v for d, kind, v in days if kind == "actual"}
    forecast = {d: shown[d][0] for d in every_day}
    through = pnl_domain.last_loaded_day(actual)
    assert through == TEST_TODAY - dt.timedelta(days=1)  # the demo loads through yesterday
    expected_revenue = pnl_domain.month_to_date_blend(actual, forecast, through)
    # Payroll: actual dollars to date + per code the saved forecast, else the schedule, else
    # the budget's daily share scaled to the proposed labor hours.
    with db.read() as session:
        pay_shown = payroll_forecast_days(session, site_id, year, month)
    assert pay_budget
    pay_actual: dict[dt.date, float] = {}
    pay_forecast = dict.fromkeys(every_day, 0.0)
    for (d, _code), (_hours, cost) in pay_shown.items():
        pay_forecast[d] += cost
    for d, kind, _code, cost in pay:
        if kind == "actual":
            pay_actual[d] = pay_actual.get(d, 0.0) + cost
    expected_payroll = pnl_domain.month_to_date_blend(
        pay_actual, pay_forecast, pnl_domain.last_loaded_day(pay_actual)
    )

    row = _row(_lines(db, [site_id], year), site_id, month)
    assert row["kind"] == "trending"
    assert row["external_revenue"] == pytest.approx(expected_revenue, abs=1e-6)
    assert row["payroll"] == pytest.approx(expected_payroll, abs=1e-6)
    assert row["claims"] == 0.0  # nothing posted this month


def test_flc_is_internal_revenue_less_the_six_expense_lines(db):
    sites = _all_sites(db)
    with db.read() as session:
        frames = [
            pnl.computed_lines(session, sites, 2026, TEST_TODAY),
            pnl.computed_lines(session, sites, 2027, TEST_TODAY),
            pnl.basis_lines(session, sites, 2026, "budget"),
            pnl.basis_lines(session, sites, 2026, "prior_year"),
        ]
    for frame in frames:
        expected = frame["internal_revenue"] - sum(frame[line] for line in EXPENSES)
        assert (frame["flc"] - expected).abs().max() < 1e-9
        assert "external_revenue" not in EXPENSES


def test_unconfigured_terms_fall_back_to_the_budget_internal_revenue(db):
    site_id, year, month = 7, 2027, 4
    budget = _ledger(db, site_id, year, month, "budget")
    with db.read() as session:  # changed inside this session only: rolled back on close
        session.execute(
            update(Contract).where(Contract.site_id == site_id).values(is_configured=False)
        )
        frame = pnl.computed_lines(session, [site_id], year, TEST_TODAY)
    other = _other_revenue(db, site_id, year, month)
    row = _row(frame, site_id, month)
    assert row["ir_fallback"] == "Contract terms are not configured; budget IR used."
    # Budget IR + (other revenue forecast − other revenue budget).
    change = other.get("forecast", other["budget"]) - other["budget"]
    assert row["internal_revenue"] == pytest.approx(budget.internal_revenue + change)
    with db.read() as session:
        assert session.scalar(select(Contract.is_configured).where(Contract.site_id == site_id))


def test_filters_never_leave_the_persons_scope(db, portfolio):
    manager = person_for_site(db, portfolio, 1)
    sites = portfolio["site"].set_index("id")
    with db.read() as session:
        scope = visible_site_ids(session, manager, TEST_TODAY)
        everything = pnl_portfolio.filtered_site_ids(session, manager, TEST_TODAY)
        assert set(everything) == scope
        assert everything == sorted(everything, key=lambda s: sites.at[s, "site_number"])
        outside = sorted(set(sites.index) - scope)
        assert outside, "the manager should not see every site"
        assert (
            pnl_portfolio.filtered_site_ids(
                session, manager, TEST_TODAY, pnl_portfolio.Filters(site_id=outside[0])
            )
            == []
        )
        other_district = int(sites.at[outside[0], "district_id"])
        assert (
            pnl_portfolio.filtered_site_ids(
                session, manager, TEST_TODAY, pnl_portfolio.Filters(district_id=other_district)
            )
            == []
        )
        for region in portfolio["region"]["id"]:
            chosen = pnl_portfolio.filtered_site_ids(
                session, manager, TEST_TODAY, pnl_portfolio.Filters(region_id=int(region))
            )
            assert set(chosen) <= scope
        managed = pnl_portfolio.filtered_site_ids(
            session, manager, TEST_TODAY, pnl_portfolio.Filters(contract_type="ManagementAgreement")
        )
        assert managed and set(managed) <= scope
        assert all(
            "ManagementAgreement" in sites.at[s, "contract_types"].split(";") for s in managed
        )
        # A partial flag matches nothing: flags are whole words.
        assert (
            pnl_portfolio.filtered_site_ids(
                session, manager, TEST_TODAY, pnl_portfolio.Filters(contract_type="Management")
            )
            == []
        )
        # Account managers: the sites assigned to them, still within the manager's scope.
        grants = portfolio["scope_assignment"].dropna(subset=["site_id"])
        for grant in grants.itertuples():
            chosen = pnl_portfolio.filtered_site_ids(
                session,
                manager,
                TEST_TODAY,
                pnl_portfolio.Filters(account_manager_id=int(grant.user_id)),
            )
            assert set(chosen) <= scope
            assert (int(grant.site_id) in chosen) == (int(grant.site_id) in scope)
        result = pnl_portfolio.portfolio_pnl(
            session, manager, 2026, TEST_TODAY, pnl_portfolio.Filters(site_id=outside[0])
        )
    assert result["site_count"] == 0
    assert all(v == 0 for line in result["lines"] for v in line["values"])


def test_portfolio_budget_basis_is_the_sum_of_the_budget_rows(db, portfolio):
    manager = person_for_site(db, portfolio, 1)
    with db.read() as session:
        ids = pnl_portfolio.filtered_site_ids(session, manager, TEST_TODAY)
        result = pnl_portfolio.portfolio_pnl(session, manager, 2026, TEST_TODAY)
        sums = {
            (r.month, line): float(getattr(r, line))
            for r in session.execute(
                select(
                    PnlMonth.month,
                    *[func.sum(getattr(PnlMonth, line)).label(line) for line in LINES],
                )
                .where(PnlMonth.site_id.in_(ids), PnlMonth.year == 2026, PnlMonth.kind == "budget")
                .group_by(PnlMonth.month)
            )
            for line in LINES
        }
        values = pnl.computed_lines(session, ids, 2026, TEST_TODAY)
    assert result["site_count"] == len(ids)
    assert [m["kind"] for m in result["months"]] == ["actual"] * 10 + ["trending", "forecast"]
    lines = {line["line"]: line for line in result["lines"]}
    for line in LINES:
        for month in range(1, 13):
            assert lines[line]["basis"][month - 1] == pytest.approx(sums[(month, line)], abs=0.01)
            summed = values.loc[values["month"] == month, line].sum()
            assert lines[line]["values"][month - 1] == pytest.approx(summed, abs=0.01)
            cell = lines[line]["variance"][month - 1]
            assert cell["amount"] == pytest.approx(summed - sums[(month, line)], abs=0.01)
        assert lines[line]["total"] == pytest.approx(sum(lines[line]["values"]), abs=0.05)
    flc_budget = [
        sums[(m, "internal_revenue")] - sum(sums[(m, e)] for e in EXPENSES) for m in range(1, 13)
    ]
    assert lines["flc"]["basis"] == pytest.approx(flc_budget, abs=0.05)
    assert lines["internal_revenue"]["pct_of_ir"] == pytest.approx(1.0)
    assert lines["external_revenue"]["pct_of_ir"] is None
    assert lines["payroll"]["pct_of_ir"] == pytest.approx(
        lines["payroll"]["total"] / lines["internal_revenue"]["total"], rel=1e-6
    )
    cumulative = lines[pnl_portfolio.CUMULATIVE_FLC]["values"]
    assert cumulative[-1] == pytest.approx(
        lines["flc"]["total"] - lines["flc"]["basis_total"], abs=0.05
    )
    # Drill-down: the sites' values add up to the line.
    with db.read() as session:
        drill = pnl_portfolio.portfolio_sites(session, manager, 2026, TEST_TODAY, "payroll")
    assert {s["site_id"] for s in drill} == set(ids)
    assert sum(s["values"][11] for s in drill) == pytest.approx(
        lines["payroll"]["values"][11], abs=0.05
    )


def test_prior_year_basis_is_last_years_ledger_on_the_same_months(db, portfolio):
    executive = _person(db, "exec1@example.com")
    with db.read() as session:
        result = pnl_portfolio.portfolio_pnl(
            session, executive, 2026, TEST_TODAY, basis=pnl.PRIOR_YEAR_BASIS
        )
        june_2025 = session.scalar(
            select(func.sum(PnlMonth.internal_revenue)).where(
                PnlMonth.year == 2025, PnlMonth.month == 6, PnlMonth.kind == "actual"
            )
        )
        with pytest.raises(ValueError):
            pnl.basis_lines(session, [1], 2026, "submitted")
    assert result["site_count"] == len(portfolio["site"])
    assert result["basis_label"] == "Prior year"
    ir = next(line for line in result["lines"] if line["line"] == "internal_revenue")
    assert ir["basis"][5] == pytest.approx(june_2025, abs=0.01)


def _two_tiers(session, site_id, bound, accumulation, start=None):
    """Give the site revenue-share tiers 10% from $0 and 50% from ``bound`` (inside the
    caller's session, rolled back when it closes)."""
    session.execute(
        delete(ShareTier).where(ShareTier.site_id == site_id, ShareTier.scheme == "revenue_share")
    )
    session.add_all(
        [
            ShareTier(site_id=site_id, scheme="revenue_share", lower_bound=0.0, share_pct=0.1),
            ShareTier(site_id=site_id, scheme="revenue_share", lower_bound=bound, share_pct=0.5),
        ]
    )
    session.execute(
        update(Contract)
        .where(Contract.site_id == site_id)
        .values(revenue_share_accumulation=accumulation)
    )
    if start is not None:
        session.execute(update(Site).where(Site.id == site_id).values(start_date=start))
    session.flush()


def _other(db, site_id, year, month):
    other = _other_revenue(db, site_id, year, month)
    return other.get("forecast", other["budget"])


def test_annual_calendar_revenue_share_carries_the_year_to_date(db, portfolio):
    site_id = 5  # RevenueShare only, accumulation AnnualCalendar in the demo
    assert portfolio["site"].set_index("id").at[site_id, "contract_types"] == "RevenueShare"
    plain = _lines(db, [site_id], 2026)
    ext = {m: _row(plain, site_id, m)["external_revenue"] for m in range(1, 13)}
    january_to_october = sum(ext[m] for m in range(1, 11))
    with db.read() as session:
        # The 50% tier starts at Jan–Oct revenue: Nov and Dec earn 50% only because the
        # year's earlier revenue counts.
        _two_tiers(session, site_id, january_to_october, "AnnualCalendar")
        annual = pnl.computed_lines(session, [site_id], 2026, TEST_TODAY)
        session.execute(
            update(Contract)
            .where(Contract.site_id == site_id)
            .values(revenue_share_accumulation="Monthly")
        )
        monthly = pnl.computed_lines(session, [site_id], 2026, TEST_TODAY)
    for month in (11, 12):
        other = _other(db, site_id, 2026, month)
        assert _row(annual, site_id, month)["internal_revenue"] == pytest.approx(
            0.5 * ext[month] + other
        )
        assert ext[month] < january_to_october  # monthly: the month alone stays in tier 1
        assert _row(monthly, site_id, month)["internal_revenue"] == pytest.approx(
            0.1 * ext[month] + other
        )
    # Closed months stay the ledger whatever the terms.
    assert (
        _row(annual, site_id, 3)["internal_revenue"] == _row(plain, site_id, 3)["internal_revenue"]
    )


def test_anniversary_revenue_share_reaches_back_into_the_previous_year(db):
    site_id = 5
    this_year = _lines(db, [site_id], 2026)
    july_to_december = sum(_row(this_year, site_id, m)["external_revenue"] for m in range(7, 13))
    january = _row(_lines(db, [site_id], 2027), site_id, 1)["external_revenue"]
    bound = july_to_december + january / 2  # January 2027 crosses into the 50% tier
    with db.read() as session:
        # Contract year from July: January 2027 continues the period that began July 2026.
        _two_tiers(session, site_id, bound, "AnnualAnniversary", start=dt.date(2019, 7, 1))
        frame = pnl.computed_lines(session, [site_id], 2027, TEST_TODAY)
    expected = 0.1 * (january / 2) + 0.5 * (january / 2) + _other(db, site_id, 2027, 1)
    assert _row(frame, site_id, 1)["internal_revenue"] == pytest.approx(expected)
    # July 2027 opens a new contract year: back to 10% of the month (below the bound).
    july = _row(frame, site_id, 7)
    assert july["internal_revenue"] == pytest.approx(
        0.1 * july["external_revenue"] + _other(db, site_id, 2027, 7)
    )


def test_one_sites_saved_forecast_month_matches_figures_computed_from_the_stored_inputs(
    db, portfolio
):
    """Save statistics and payroll forecasts for a revenue share site, then rebuild every P&L
    line of that month in the test from the stored rows (no service code) and compare."""
    from dashboard.services import payroll

    site_id = _site_with_flag(portfolio, "RevenueShare")
    year, month = 2027, 9
    first, last = dt.date(year, month, 1), dt.date(year, month, days_in_month(year, month))
    person = person_for_site(db, portfolio, site_id)
    with db.read() as session:
        window = stats.window_payload(
            stats.load_window(session, person, site_id, (year, month), TEST_TODAY)
        )
        data = payroll.load_month(session, person, site_id, year, month, TEST_TODAY)
    versions = {d["day"]: d["version"] for d in window["days"]}
    stat_edits = [
        stats.StatisticEdit(dt.date(year, month, d), field, value, versions[f"{year}-09-{d:02d}"])
        for d, field, value in (
            (3, "valet_daily", 180),
            (3, "self_daily", 95),
            (17, "valet_monthly", 12),
        )
    ]
    code = next(c for c in data["codes"] if not c["salaried"])
    mode_level = "group" if data["mode"] == "Group" else "code"
    target = code["group_id"] if mode_level == "group" else code["id"]
    members = (
        [c["id"] for c in payroll.editable_codes(data, target)]
        if mode_level == "group"
        else [target]
    )
    pay_edits = [
        payroll.PayrollEdit(
            dt.date(year, month, d),
            mode_level,
            target,
            14,
            {c: data["cells"][f"{year}-09-{d:02d}|{c}"]["v"] for c in members},
        )
        for d in (8, 9)
    ]
    result = workspace_save.save_forecast_inputs(
        db, person, site_id, stat_edits, [], TEST_TODAY, payroll_edits=pay_edits
    )
    assert result.ok, result

    with db.read() as session:
        saved = session.execute(
            select(func.sum(SiteStatisticDay.external_revenue), func.count()).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day.between(first, last),
            )
        ).one()
        stat_budget = session.scalar(
            select(StatisticBudgetMonth.external_revenue).where(
                StatisticBudgetMonth.site_id == site_id,
                StatisticBudgetMonth.year == year,
                StatisticBudgetMonth.month == month,
            )
        )
        shown = forecast_days(session, site_id, first, last)
        external = sum(revenue for revenue, _rooms, _source in shown.values())
        assert stat_budget is not None
        payroll_total = sum(
            cost for _hours, cost in payroll_forecast_days(session, site_id, year, month).values()
        )
        saved_pay = {
            code_id: (float(cost), n)
            for code_id, cost, n in session.execute(
                select(PayrollDay.job_code_id, func.sum(PayrollDay.cost), func.count())
                .where(
                    PayrollDay.site_id == site_id,
                    PayrollDay.kind == "forecast",
                    PayrollDay.day.between(first, last),
                )
                .group_by(PayrollDay.job_code_id)
            )
        }
    assert saved[1] >= 2 and any(n >= 2 for _, n in saved_pay.values())

    tiers = portfolio["share_tier"]
    tier = tiers[(tiers["site_id"] == site_id) & (tiers["scheme"] == "revenue_share")]
    share = float(tier["share_pct"].iloc[0])
    other = _other_revenue(db, site_id, year, month)
    budget = _ledger(db, site_id, year, month, "budget")
    expected = {
        "external_revenue": external,
        "internal_revenue": share * external + other.get("forecast", other["budget"]),
        "payroll": payroll_total,
        "pteb": budget.pteb / budget.payroll * payroll_total,
        "insurance": 0.0445 * payroll_total + budget.vehicle_insurance,
        "claims": 0.0,
        "parking_rents": budget.parking_rents,
        "other_expense": budget.other_expense,
    }
    expected["flc"] = expected["internal_revenue"] - sum(
        expected[line]
        for line in ("payroll", "pteb", "insurance", "claims", "parking_rents", "other_expense")
    )
    row = _row(_lines(db, [site_id], year), site_id, month)
    assert row["kind"] == "forecast"
    for line, value in expected.items():
        assert row[line] == pytest.approx(value, abs=0.01), line


def test_portfolio_sums_of_a_stored_year_name_the_sites_on_budget_internal_revenue(db):
    """The portfolio view sums the stored figures in SQL; a site whose terms are not
    configured is listed with its months and the reason, by site number and name."""
    from dashboard.services import figures

    executive = _person(db, "exec1@example.com")
    with db.read() as session:  # changed inside this session only: rolled back on close
        session.execute(update(Contract).where(Contract.site_id == 7).values(is_configured=False))
        figures.refresh(session, [7], TEST_TODAY, series=("forecast",))
        result = pnl_portfolio.portfolio_pnl(session, executive, 2027, TEST_TODAY)
        ids = pnl_portfolio.filtered_site_ids(session, executive, TEST_TODAY)
        values = pnl.computed_lines(session, ids, 2027, TEST_TODAY)
        number, name = session.execute(
            select(Site.site_number, Site.name).where(Site.id == 7)
        ).one()
    assert result["ir_fallbacks"] == [
        {
            "site_id": 7,
            "site_number": number,
            "name": name,
            "months": list(range(1, 13)),
            "reason": "Contract terms are not configured; budget IR used.",
        }
    ]
    assert result["ir_fallback_count"] == 1
    lines = {line["line"]: line for line in result["lines"]}
    for line in ("internal_revenue", "payroll", "flc"):
        summed = values.groupby("month")[line].sum()
        assert lines[line]["values"] == pytest.approx([summed[m] for m in range(1, 13)], abs=0.01)


def test_the_portfolio_names_the_first_sites_on_budget_internal_revenue_and_counts_all(db):
    from dashboard.services import figures

    executive = _person(db, "exec1@example.com")
    with db.read() as session:  # changed inside this session only: rolled back on close
        session.execute(
            update(Contract).where(Contract.site_id.in_([7, 8])).values(is_configured=False)
        )
        figures.refresh(session, [7, 8], TEST_TODAY, series=("forecast",))
        scope = pnl_portfolio._scope(executive, TEST_TODAY, None)
        rows, count = pnl.figures_repo.fallbacks(session, scope, 2027, listed=1)
        every, same = pnl.figures_repo.fallbacks(session, scope, 2027)
    assert count == same == 2
    assert {s for s, _m, _r in rows} == {7} and len(rows) == 12
    assert {s for s, _m, _r in every} == {7, 8}


def test_portfolio_of_a_year_not_stored_is_computed_from_the_ledger(db):
    executive = _person(db, "exec1@example.com")
    with db.read() as session:
        result = pnl_portfolio.portfolio_pnl(session, executive, 2024, TEST_TODAY)
        ledger = {
            int(m): float(v)
            for m, v in session.execute(
                select(PnlMonth.month, func.sum(PnlMonth.internal_revenue))
                .where(PnlMonth.year == 2024, PnlMonth.kind == "actual")
                .group_by(PnlMonth.month)
            )
        }
    assert 2024 not in pnl.figures_repo.forecast_years(TEST_TODAY)
    assert len(ledger) == 12 and min(ledger.values()) > 0
    assert [m["kind"] for m in result["months"]] == ["actual"] * 12
    ir = next(line for line in result["lines"] if line["line"] == "internal_revenue")
    assert ir["values"] == pytest.approx([ledger.get(m, 0.0) for m in range(1, 13)], abs=0.01)
    assert result["ir_fallbacks"] == [] and result["ir_fallback_count"] == 0


@pytest.mark.parametrize("private_portfolio", [4], indirect=True)
def test_a_rate_change_reprices_every_forecast_day_of_the_month_saved_or_not(private_portfolio):
    """D3: external revenue = Σ categories (the month's counts) × the month's forecast rate.
    A rate saved for a month reprices its saved days and the days nobody saved alike, and
    the statistics tab and the P&L agree to the cent (the defect: unsaved days kept the
    budget's revenue)."""
    db, built = private_portfolio
    sites = built["site"]
    site_id = int(sites.loc[sites["total_rooms"] > 0, "id"].iloc[0])
    person = person_for_site(db, built, site_id)
    year, month = 2027, 2
    feb = [dt.date(year, month, d) for d in range(1, 29)]
    with db.read() as session:
        window = stats.window_payload(
            stats.load_window(session, person, site_id, (2027, 1), TEST_TODAY)
        )
        old_rate = statistics_repo.window_rates(session, site_id, [(year, month)])[(year, month)][
            "valet_overnight"
        ]
    days = [d for d in window["days"] if d["day"].startswith("2027-02")]
    saved_before = [d for d in days if d["version"]]
    overnight = sum(d["forecast_valet_overnight"] for d in days)
    assert overnight > 0 and old_rate > 0
    before = _row(_lines(db, [site_id], year), site_id, month)["external_revenue"]

    new_rate = round(old_rate * 1.05, 2)
    edit = rates_service.RateEdit(year, month, "valet_overnight", new_rate, 0)
    result = workspace_save.save_forecast_inputs(db, person, site_id, [], [edit], TEST_TODAY)
    assert result.ok, result

    after = _row(_lines(db, [site_id], year), site_id, month)["external_revenue"]
    # Every day moves by its valet-overnight count × the rate change (saved days to the cent).
    assert after - before == pytest.approx(overnight * (new_rate - old_rate), abs=0.01 * 28)
    assert after > before
    with db.read() as session:
        window = stats.window_payload(
            stats.load_window(session, person, site_id, (2027, 1), TEST_TODAY)
        )
    shown = sum(
        d["forecast_external_revenue"] for d in window["days"] if d["day"].startswith("2027-02")
    )
    assert shown == pytest.approx(after, abs=0.01)  # the tab and the P&L agree to the cent
    assert len(feb) == len(days) and len(saved_before) < len(days)  # unsaved days were there
