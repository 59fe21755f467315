"""The demo world as the app reads it back: the generator's contract terms are the ones the
app reads from the database, and every budget internal revenue — management agreements
included — is what the revenue engine computes from the budget's own drivers."""

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.data import contract_terms, pnl_inputs
from dashboard.data.demo.contracts import site_terms as generated_terms
from dashboard.data.models import JobCode, PnlMonth, Site
from dashboard.domain import pnl
from dashboard.domain.adjustments import OTHER_EXPENSE_FIELDS

BUDGET_MONTHS = [(y, m) for y in (2025, 2026, 2027) for m in range(1, 13)]


def test_the_generators_terms_are_the_ones_the_app_reads(db, portfolio):
    frames = portfolio.frames
    made = generated_terms(
        frames["site"],
        frames["contract"],
        frames["fixed_fee_line"],
        frames["plh_job_rate"],
        frames["share_tier"],
        frames["billable_account"],
        frames["ma_billable_expense"],
    )
    with db.read() as session:
        read = contract_terms.site_terms(session, list(made))
    assert set(read) == set(made)
    for site_id, terms in made.items():
        assert read[site_id] == terms, site_id


def test_every_budget_internal_revenue_is_the_engines(db, portfolio):
    """The budget's months walked through the P&L engine as forecast months driven by the
    budget alone (its statistics, payroll per job code, Other Revenue and Other Expenses
    rows, the ledger's budget lines) give the stored budget IR of every site and month."""
    with db.read() as session:
        ids = sorted(session.scalars(select(Site.id)))
        terms = contract_terms.site_terms(session, ids)
        stats = pnl_inputs.statistics_budget(session, ids, BUDGET_MONTHS).set_index(
            ["site_id", "year", "month"]
        )
        codes = pnl_inputs.payroll_budget(session, ids, BUDGET_MONTHS)
        salaried = set(session.scalars(select(JobCode.id).where(JobCode.is_salaried)))
        other_revenue = pnl_inputs.other_revenue(session, ids, BUDGET_MONTHS).set_index(
            ["site_id", "year", "month"]
        )
        expenses = pnl_inputs.other_expense(session, ids, BUDGET_MONTHS, kinds=("budget",))
        ledger = {
            (r.site_id, r.year, r.month, "budget"): {
                line: float(getattr(r, line))
                for line in (*pnl.PNL_LINES, "vehicle_insurance", "occupied_rooms")
            }
            for r in session.scalars(select(PnlMonth).where(PnlMonth.kind == "budget"))
        }
    codes["salaried"] = codes["job_code_id"].isin(salaried)
    drivers, hours = {}, {}
    for key, rows in codes.groupby(["site_id", "year", "month"]):
        key = tuple(int(k) for k in key)
        hours[key] = dict(zip(rows["job_code_id"].astype(int), rows["hours_budget"], strict=True))
        drivers[key] = {
            "external_revenue": stats.at[key, "ext_budget"],
            "occupied_rooms": stats.at[key, "rooms_budget"],
            "payroll": rows["cost_budget"].sum(),
            "hourly_payroll": rows.loc[~rows["salaried"], "cost_budget"].sum(),
            "salaried_payroll": rows.loc[rows["salaried"], "cost_budget"].sum(),
            "other_revenue": other_revenue.at[key, "other_revenue_budget"],
            "other_revenue_budget": other_revenue.at[key, "other_revenue_budget"],
        }
    categories = {
        (int(r.site_id), int(r.year), int(r.month), "budget"): {
            c: float(getattr(r, c)) for c in OTHER_EXPENSE_FIELDS
        }
        for r in expenses.itertuples()
    }
    walked = pd.DataFrame(
        pnl.walk_months(
            ids,
            BUDGET_MONTHS,
            terms,
            dict.fromkeys(BUDGET_MONTHS, pnl.FORECAST_MONTH),
            ledger,
            {},
            [s for s in ids if pnl.accumulates(terms[s])],
            pnl.MonthWalkInputs(drivers, hours, categories),
        )
    )
    assert len(walked) == len(ids) * 36
    kinds = {s: terms[s].contract_types for s in ids}
    assert any("ManagementAgreement" in k for k in kinds.values())
    for row in walked.itertuples():
        stored = ledger[(row.site_id, row.year, row.month, "budget")]
        assert row.internal_revenue == pytest.approx(stored["internal_revenue"], abs=0.02), (
            row.site_id,
            row.year,
            row.month,
            kinds[row.site_id],
        )
        # The engine's other lines are the budget's own.
        for line in ("payroll", "pteb", "parking_rents", "other_expense"):
            assert getattr(row, line) == pytest.approx(stored[line], abs=0.02)
        assert row.insurance == pytest.approx(stored["insurance"], abs=0.01)
