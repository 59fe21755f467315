"""The ledger of the demo portfolio (DOMAIN.md §6, §7): Other Revenue and Other Expenses
months and the P&L months — the budget for last, this and next year, actuals for every
closed month — with internal revenue from the contract terms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.calendar import Calendar
from dashboard.data.demo.contracts import Contracts, SizedTerms, size_terms
from dashboard.data.demo.operations import Payroll, Statistics
from dashboard.domain import revenue
from dashboard.domain.periods import last_closed_month

OTHER_EXPENSE_SHARES = {  # share of a site's monthly other expense per category (excl. rents, claims)
    "employee_relations": 0.06,
    "fuel_vehicles": 0.08,
    "office_supplies": 0.05,
    "outside_services": 0.16,
    "repairs_maintenance": 0.14,
    "rm_vehicle": 0.08,
    "signage": 0.03,
    "supplies_equipment": 0.15,
    "tickets_printed_material": 0.10,
    "uniforms": 0.15,
}


@dataclass
class OtherLines:
    other_revenue_month: pd.DataFrame
    other_expense_month: pd.DataFrame


@dataclass
class Ledger:
    """The P&L months and the contract amounts sized against the budget."""

    pnl_month: pd.DataFrame
    terms: SizedTerms


def build_other_lines(
    rng: np.random.Generator,
    site: pd.DataFrame,
    is_hotel: np.ndarray,
    contracts: Contracts,
    months: list[tuple[int, int]],
    calendar: Calendar,
) -> OtherLines:
    """Other Revenue and Other Expenses months: the budget for the budget years, actuals
    (with noise, claims and signing bonuses) for every closed month."""
    n = len(site)
    closed = last_closed_month(calendar.today)
    spaces = site["parking_spaces"].to_numpy()
    monthly_other = np.clip(spaces * rng.uniform(4, 12, n), 400, 45_000)
    has_rent = rng.random(n) < 0.12
    rent = np.where(has_rent, np.round(rng.uniform(1000, 20000, n), -1), 0.0)
    billable = contracts.flags["BillingAccount"]
    validations = np.where(is_hotel & (rng.random(n) < 0.5), rng.uniform(300, 4000, n), 0)
    gpo = np.where(rng.random(n) < 0.15, -np.round(rng.uniform(50, 600, n), 0), 0.0)
    rev_rows, exp_rows = [], []
    periods = [(y, m, "budget") for y in calendar.budget_years for m in range(1, 13)]
    periods += [(y, m, "actual") for (y, m) in months if (y, m) <= closed]
    for y, m, kind in periods:
        noise = 1.0 if kind == "budget" else np.exp(rng.normal(0, 0.12, n))
        rev_rows.append(
            pd.DataFrame(
                {
                    "site_id": np.arange(1, n + 1),
                    "year": y,
                    "month": m,
                    "kind": kind,
                    "billable_expenses": np.round(
                        np.where(billable, monthly_other * 0.25, 0) * noise, 2
                    ),
                    "revenue_validations": np.round(validations * noise, 2),
                    "miscellaneous": 0.0,
                    "gpo_fees": gpo if kind == "budget" else 0.0,
                    "signing_bonuses": np.where(
                        (kind == "actual") & (rng.random(n) < 0.01), -500.0, 0.0
                    ),
                    "client_paid_expenses": 0.0,
                    "version": 1,
                }
            )
        )
        exp = {"site_id": np.arange(1, n + 1), "year": y, "month": m, "kind": kind}
        for cat, share in OTHER_EXPENSE_SHARES.items():
            exp[cat] = np.round(monthly_other * share * noise, 2)
        exp["rents_parking"] = rent
        exp["loss_damage_claims"] = (
            0.0
            if kind == "budget"
            else np.where(rng.random(n) < 0.04, np.round(rng.uniform(200, 5000, n), 2), 0.0)
        )
        exp["version"] = 1
        exp_rows.append(pd.DataFrame(exp))
    return OtherLines(
        other_revenue_month=pd.concat(rev_rows, ignore_index=True),
        other_expense_month=pd.concat(exp_rows, ignore_index=True),
    )


def build_pnl(
    rng: np.random.Generator,
    site: pd.DataFrame,
    contracts: Contracts,
    site_job_code: pd.DataFrame,
    stats: Statistics,
    payroll_built: Payroll,
    other: OtherLines,
    calendar: Calendar,
) -> Ledger:
    """P&L months: the budget for the budget years and actuals for every closed month;
    internal revenue from the contract terms, which are sized at the first budget month."""
    n = len(site)
    days = stats.days
    closed = last_closed_month(calendar.today)
    pteb_ratio = rng.uniform(0.12, 0.25, n)
    vehicle_ins = np.where(
        site["total_rooms"].to_numpy() > 0, np.round(rng.uniform(50, 400, n), 0), 0.0
    )
    ins_pct = np.where(contracts.flags["ManagementAgreement"], 0.0577, 0.0445)
    margin = rng.uniform(1.06, 1.35, n)

    sjc = site_job_code
    site_ids = sjc["site_id"].to_numpy()

    def per_site(values):
        return np.bincount(site_ids - 1, weights=values, minlength=n)

    oe_cols = list(OTHER_EXPENSE_SHARES)
    periods = [(y, m, "budget") for y in calendar.budget_years for m in range(1, 13)]
    periods += [(y, m, "actual") for (y, m) in stats.months if (y, m) <= closed]
    stat_budget = stats.statistic_budget_month
    payroll_budget = payroll_built.payroll_budget_month
    other_expense = other.other_expense_month
    terms: SizedTerms | None = None
    lines = []
    for y, m, kind in periods:
        if kind == "budget":
            st = stat_budget[(stat_budget.year == y) & (stat_budget.month == m)]
            ext = st["external_revenue"].to_numpy()
            rooms = st["occupied_rooms"].to_numpy()
            pb = payroll_budget[(payroll_budget.year == y) & (payroll_budget.month == m)]
            payroll = per_site(pb["cost"].to_numpy())
            code_hours = pb["hours"].to_numpy()
        else:
            sel = (days.year == y) & (days.month == m)
            ext = stats.actual["external_revenue"][:, sel].sum(axis=1)
            rooms = stats.actual["occupied_rooms"][:, sel].sum(axis=1)
            payroll = per_site(payroll_built.actual_cost[:, sel].sum(axis=1))
            code_hours = payroll_built.actual_hours[:, sel].sum(axis=1)
        oe = other_expense[
            (other_expense.year == y) & (other_expense.month == m) & (other_expense.kind == kind)
        ]
        other_exp = oe[oe_cols].sum(axis=1).to_numpy()
        rents = oe["rents_parking"].to_numpy()
        claims = oe["loss_damage_claims"].to_numpy()
        pteb = np.round(payroll * pteb_ratio, 2)
        insurance = np.round(payroll * ins_pct + vehicle_ins, 2)
        cost = payroll + pteb + insurance + other_exp + rents
        if terms is None:
            terms = size_terms(
                rng, contracts, site, site_job_code, ext, rooms, code_hours, cost * margin
            )
        ir = _internal_revenue(
            contracts,
            terms,
            y,
            m,
            ext,
            rooms,
            code_hours,
            payroll,
            pteb,
            insurance,
            other_exp,
            rents,
            cost * margin,
        )
        if kind == "actual":
            ir = ir * np.exp(rng.normal(0, 0.02, n))
        lines.append(
            pd.DataFrame(
                {
                    "site_id": np.arange(1, n + 1),
                    "year": y,
                    "month": m,
                    "kind": kind,
                    "external_revenue": np.round(ext, 2),
                    "internal_revenue": np.round(ir, 2),
                    "payroll": np.round(payroll, 2),
                    "claims": np.round(claims, 2),
                    "parking_rents": rents,
                    "other_expense": np.round(other_exp, 2),
                    "pteb": pteb,
                    "insurance": insurance,
                    "vehicle_insurance": vehicle_ins,
                    "occupied_rooms": np.round(rooms, 2),
                }
            )
        )
    assert terms is not None
    return Ledger(pd.concat(lines, ignore_index=True), terms)


def _internal_revenue(
    contracts: Contracts,
    terms: SizedTerms,
    y,
    m,
    ext,
    rooms,
    code_hours,
    payroll,
    pteb,
    insurance,
    other_exp,
    rents,
    target,
) -> np.ndarray:
    """IR from the contract terms via dashboard.domain.revenue."""
    n = len(contracts.contract)
    month_start = dt.date(y, m, 1)
    f = contracts.flags
    ir = np.zeros(n)
    c = contracts.contract
    for i in range(n):
        inc_m = c.at[i, "increment_month"]
        inc_m = None if pd.isna(inc_m) else int(inc_m)
        inc_p = float(c.at[i, "increment_pct"])
        total = 0.0
        if f["FixedFee"][i]:
            total += revenue.fixed_fee(terms.fees[i], month_start, inc_m, inc_p)
        if f["PerLaborHour"][i]:
            rated = [(code_hours[row], rate, start, None) for row, rate, start in terms.plh[i]]
            total += revenue.per_labor_hour(rated, month_start, inc_m, inc_p)
        if f["PerOccupiedRoom"][i]:
            total += revenue.per_occupied_room(float(c.at[i, "occupied_room_rate"]), rooms[i])
        if f["RevenueShare"][i]:
            total += revenue.revenue_share_monthly(ext[i], terms.tiers[i])
        if f["ManagementAgreement"][i]:
            total += (
                float(c.at[i, "management_fee_amount"])
                + payroll[i]
                + pteb[i]
                + insurance[i]
                + other_exp[i]
                + rents[i]
            )
        elif f["BillingAccount"][i]:
            total += payroll[i] * (1 + float(c.at[i, "pteb_pct"])) + other_exp[i] * 0.5
        if not total:  # unconfigured terms: the budget carries the IR
            total = target[i]
        ir[i] = total
    return ir
