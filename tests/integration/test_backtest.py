"""The backtest service (dashboard.services.backtest) on the test portfolio (12 sites, today
2026-11-23), against a direct computation from the generator's own tables."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, text, update

from dashboard.__main__ import main
from dashboard.data.models import SiteStatisticDay
from dashboard.domain import forecast as fc
from dashboard.domain import statistics as st
from dashboard.services import backtest as bt

CUTOFF = dt.date(2026, 9, 1)
SITE = 1


def _site_frames(portfolio, site_id: int):
    """The site's actual days (statistics + Σ payroll hours), its budget months (statistics
    + Σ payroll hours) and its rates, straight from the generator's tables."""
    stats = portfolio["site_statistic_day"]
    stats = stats[(stats["site_id"] == site_id) & (stats["kind"] == "actual")].copy()
    stats["day"] = pd.to_datetime(stats["day"]).dt.date
    pay = portfolio["payroll_day"]
    pay = pay[(pay["site_id"] == site_id) & (pay["kind"] == "actual")].copy()
    pay["day"] = pd.to_datetime(pay["day"]).dt.date
    hours = (
        pay.groupby("day", as_index=False)["hours"].sum().rename(columns={"hours": "labor_hours"})
    )
    daily = stats.merge(hours, on="day", how="outer")
    budget = portfolio["statistic_budget_month"]
    budget = budget[budget["site_id"] == site_id]
    pay_budget = portfolio["payroll_budget_month"]
    pay_budget = (
        pay_budget[pay_budget["site_id"] == site_id]
        .groupby(["year", "month"], as_index=False)["hours"]
        .sum()
        .rename(columns={"hours": "labor_hours"})
    )
    budget = budget.merge(pay_budget, on=["year", "month"], how="outer")
    rates = portfolio["parking_rate_month"]
    return daily, budget, rates[rates["site_id"] == site_id]


def _september_rates(rates) -> dict[str, float]:
    # September 2026 is closed on 2026-11-23: its actual rates value every method's counts.
    chosen = rates[(rates["kind"] == "actual") & (rates["year"] == 2026) & (rates["month"] == 9)]
    return dict(zip(chosen["category"], chosen["rate"].astype(float), strict=True))


def _totals(daily: pd.DataFrame, days, rates: dict[str, float]) -> dict[str, float]:
    chosen = daily[daily["day"].isin(set(days))]
    revenue = sum(
        float(chosen[count].sum()) * rates.get(category, 0.0)
        for count, category in st.REVENUE_CATEGORIES
    )
    return {
        "occupied_rooms": float(chosen["occupied_rooms"].sum()),
        "vehicles": float(chosen[list(fc.VEHICLE_MEASURES)].to_numpy().sum()),
        "external_revenue": revenue,
        "labor_hours": float(chosen["labor_hours"].sum()),
    }


def _row(result: bt.Backtest, method: str, measure: str) -> pd.Series:
    frame = result.site_months
    chosen = frame[
        (frame["site_id"] == SITE)
        & (frame["year"] == 2026)
        & (frame["month"] == 9)
        & (frame["method"] == method)
        & (frame["measure"] == measure)
    ]
    assert len(chosen) == 1
    return chosen.iloc[0]


def test_one_site_month_equals_a_direct_computation(db, portfolio):
    with db.read() as session:
        result = bt.run(session, CUTOFF, 2)
    assert result.months == [(2026, 9), (2026, 10)]
    assert result.sites == 12
    daily, budget, rates = _site_frames(portfolio, SITE)
    sites = portfolio["site"].set_index("id")
    rooms = int(sites.loc[SITE, "total_rooms"])
    september = pd.date_range("2026-09-01", "2026-09-30").date
    valued = _september_rates(rates)

    # Actual: Σ the 30 actual days; revenue as stored (counts × the collected rates).
    actual = daily[daily["day"].isin(set(september))]
    assert len(actual) == 30
    assert _row(result, bt.PROPOSAL, "vehicles")["actual"] == pytest.approx(
        actual[list(fc.VEHICLE_MEASURES)].to_numpy().sum(), rel=1e-9
    )
    assert _row(result, bt.PROPOSAL, "external_revenue")["actual"] == pytest.approx(
        actual["external_revenue"].sum(), rel=1e-9
    )
    assert _row(result, bt.PROPOSAL, "labor_hours")["actual"] == pytest.approx(
        actual["labor_hours"].sum(), rel=1e-9
    )
    if rooms:
        assert _row(result, bt.PROPOSAL, "occupied_rooms")["days"] == 30

    # Budget even spread: a whole month is the budget month.
    month = budget[(budget["year"] == 2026) & (budget["month"] == 9)].iloc[0]
    spread = _row(result, bt.BUDGET_SPREAD, "vehicles")
    assert spread["forecast"] == pytest.approx(month[list(fc.VEHICLE_MEASURES)].sum(), rel=1e-9)
    assert _row(result, bt.BUDGET_SPREAD, "labor_hours")["forecast"] == pytest.approx(
        month["labor_hours"], rel=1e-9
    )
    budget_revenue = sum(
        float(month[count]) * valued[category] for count, category in st.REVENUE_CATEGORIES
    )
    assert _row(result, bt.BUDGET_SPREAD, "external_revenue")["forecast"] == pytest.approx(
        budget_revenue, rel=1e-9
    )

    # Seasonal naive: each September day's value 364 days earlier (all loaded here); the
    # test portfolio has no payroll a year back, so its labor hours are the budget's.
    earlier = daily.set_index("day")
    naive_vehicles = sum(
        earlier.loc[d - dt.timedelta(days=364), list(fc.VEHICLE_MEASURES)].sum() for d in september
    )
    assert _row(result, bt.SEASONAL_NAIVE, "vehicles")["forecast"] == pytest.approx(
        naive_vehicles, rel=1e-9
    )
    assert _row(result, bt.SEASONAL_NAIVE, "labor_hours")["forecast"] == pytest.approx(
        month["labor_hours"], rel=1e-9
    )

    # The proposal: the domain method on the site's history before the cut-off.
    history = daily[daily["day"] < CUTOFF][["day", *bt.FORECAST_MEASURES]]
    proposal = fc.propose(
        history,
        pd.date_range("2026-09-01", "2026-10-31").date,
        budget=budget,
        capacity={"occupied_rooms": rooms},
        measures=list(bt.FORECAST_MEASURES),
        key=None,
    ).values
    expected = _totals(proposal, september, valued)
    for measure in bt.DAILY_MEASURES:
        if measure == "occupied_rooms" and not rooms:
            continue  # rooms are compared at hotels only
        assert _row(result, bt.PROPOSAL, measure)["forecast"] == pytest.approx(
            expected[measure], rel=1e-9
        ), measure
    # ... and it is a real forecast: within 10% of the actual vehicles of the month.
    assert expected["vehicles"] == pytest.approx(
        _row(result, bt.PROPOSAL, "vehicles")["actual"], rel=0.10
    )


def test_what_happened_after_the_cutoff_changes_the_actuals_not_the_forecasts(db):
    with db.read() as session:
        before = bt.run(session, CUTOFF, 1, [SITE])
    with db.write() as session:
        session.execute(
            update(SiteStatisticDay)
            .where(
                SiteStatisticDay.site_id == SITE,
                SiteStatisticDay.kind == "actual",
                SiteStatisticDay.day == dt.date(2026, 9, 15),
            )
            .values(valet_daily=SiteStatisticDay.valet_daily + 1000)
        )
    with db.read() as session:
        after = bt.run(session, CUTOFF, 1, [SITE])
    for method in bt.FORECAST_METHODS:
        was, now = _row(before, method, "vehicles"), _row(after, method, "vehicles")
        assert now["forecast"] == pytest.approx(was["forecast"], rel=1e-12)
        assert now["actual"] == pytest.approx(was["actual"] + 1000, rel=1e-12)


def _selects(db, **kwargs) -> tuple[int, bt.Backtest]:
    with db.read() as session:  # the dialect's own first-connection queries happen here
        session.execute(text("SELECT 1"))
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.read() as session:
            result = bt.run(session, CUTOFF, 3, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements), result


def test_reads_are_a_few_statements_per_batch_of_sites_not_per_site_or_day(db):
    # 12 sites in one batch, then in batches of 5, 5 and 2: the site list once, and the same
    # statements again per batch — whatever the number of sites and days in it.
    one_batch, result = _selects(db, batch_sites=12)
    three_batches, _ = _selects(db, batch_sites=5)
    per_batch = one_batch - 1
    assert three_batches == 1 + 3 * per_batch
    assert per_batch <= 20
    assert result.sites == 12


def test_flc_compares_the_engine_with_the_ledgers_closed_months(db, portfolio):
    with db.read() as session:
        result = bt.run(session, CUTOFF, 3)
    flc = result.site_months[result.site_months["measure"] == bt.FLC]
    # September and October are closed on 2026-11-23; November is not: no FLC for it.
    assert set(zip(flc["year"], flc["month"], strict=True)) == {(2026, 9), (2026, 10)}
    assert set(flc["method"]) == {*bt.METHODS}
    ledger = portfolio["pnl_month"]
    row = ledger[
        (ledger["site_id"] == SITE)
        & (ledger["kind"] == "actual")
        & (ledger["year"] == 2026)
        & (ledger["month"] == 9)
    ].iloc[0]
    # FLC = IR − (payroll + claims + parking rents + other expense + PTEB + insurance).
    expected = row["internal_revenue"] - sum(
        row[line]
        for line in ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
    )
    chosen = flc[(flc["site_id"] == SITE) & (flc["month"] == 9)]
    assert len(chosen) == len(bt.METHODS)
    assert chosen["actual"].to_numpy() == pytest.approx(np.full(len(bt.METHODS), expected))
    # The methods differ only in their volumes and hours, so their FLCs differ.
    assert chosen["forecast"].nunique() == len(bt.METHODS)
    assert result.score(bt.ACTUAL_DRIVERS, bt.FLC).site_months == 24


def test_scores_mape_and_share_within_five_percent():
    frame = pd.DataFrame(
        {
            "site_id": [1, 2, 3, 4],
            "year": 2026,
            "month": 9,
            "measure": "vehicles",
            "method": bt.PROPOSAL,
            "forecast": [105.0, 94.0, 50.0, 10.0],
            "actual": [100.0, 100.0, 40.0, 0.0],
            "days": 30,
        }
    )
    score = next(s for s in bt.scores(frame) if s.method == bt.PROPOSAL and s.measure == "vehicles")
    # |105 − 100| ÷ 100 = 5% (within), 6%, 25%; the actual of 0 is left out.
    assert score.site_months == 3
    assert score.mape == pytest.approx((0.05 + 0.06 + 0.25) / 3)
    assert score.within_5pct == pytest.approx(1 / 3)
    assert score.median_ape == pytest.approx(0.06)
    # FLC can be negative: the error is relative to |actual| (−90 vs −100: 10%).
    frame = frame.assign(measure=bt.FLC, forecast=[-90.0, 0, 0, 0], actual=[-100.0, 0, 0, 0])
    score = next(s for s in bt.scores(frame) if s.method == bt.PROPOSAL and s.measure == bt.FLC)
    assert (score.site_months, score.mape) == (1, pytest.approx(0.10))


def test_valuation_rates_the_months_actual_else_the_last_actual_else_budget():
    rates = pd.DataFrame(
        {
            "site_id": [1, 1, 1, 1],
            "year": [2026, 2026, 2026, 2026],
            "month": [10, 11, 11, 11],
            "category": ["valet_daily", "valet_daily", "self_daily", "valet_aggregator"],
            "kind": ["actual", "budget", "budget", "actual"],
            "rate": [30.0, 28.0, 15.0, 20.0],
        }
    )
    chosen = bt.valuation_rates(rates, [(2026, 11)]).iloc[0]
    assert chosen["rate_valet_daily"] == 30.0  # October's actual over November's budget
    assert chosen["rate_self_daily"] == 15.0  # no actual: the budget
    assert chosen["rate_valet_aggregator"] == 20.0  # November's own actual
    assert chosen["rate_self_overnight"] == 0.0  # nothing at all


def test_command_line_prints_the_table_and_writes_json(database_url, portfolio, tmp_path, capsys):
    out = tmp_path / "backtest.json"
    first, second = portfolio["site"]["site_number"].iloc[:2]
    code = main(
        [
            "backtest",
            "--cutoff",
            "2026-09-01",
            "--months",
            "3",
            "--database-url",
            database_url,
            "--sites",
            first,
            second.lstrip("0") or "0",  # numbers are zero-padded to 4 characters
            "--json",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "proposal" in printed and "seasonal naive" in printed
    assert "2026-11: 22 of 30 days have actuals" in printed
    data = json.loads(out.read_text())
    assert data["sites"] == 2 and data["months"] == ["2026-09", "2026-10", "2026-11"]
    proposal = {s["measure"]: s for s in data["scores"] if s["method"] == "proposal"}
    assert proposal["vehicles"]["site_months"] == 6
    assert np.isfinite(proposal["vehicles"]["mape"])
    assert (
        main(
            [
                "backtest",
                "--cutoff",
                "2026-09-01",
                "--database-url",
                database_url,
                "--sites",
                "9999",
            ]
        )
        == 2
    )
