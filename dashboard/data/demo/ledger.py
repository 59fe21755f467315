"""The ledger of the demo world (DOMAIN.md §6, §7): Other Revenue and Other Expenses months and
the P&L months — budgets for last, this and next year, actuals for every closed month.

Every internal revenue, budget and actual, is computed by the revenue engine
(``dashboard.domain.pnl.forecast_pnl`` for the budget, exactly as the P&L computes a month
nobody has touched; ``dashboard.domain.revenue.internal_revenue`` on the month's actual
drivers, with a little billing noise), management agreements included: a site's budget is
what its contract earns on its budgeted volumes and costs. The contract amounts (fees,
billable rates, shares) are sized first, against the first budget year, so that the site
earns its margin over its costs (the margin differs per site); only a site without
configured terms carries a budget IR of its own (costs × margin + other revenue).

Other expenses move a little with volume and run above or below budget per site; their
budget is the window's months (see ``budget``) + 3%, half smoothed over the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dashboard.data.demo.budget import Budget, base_months
from dashboard.data.demo.calendar import Calendar
from dashboard.data.demo.contracts import (
    Contracts,
    SizedTerms,
    SizingInputs,
    site_terms,
    size_terms,
)
from dashboard.data.demo.master import Organisation
from dashboard.data.demo.operations import Payroll, World
from dashboard.domain import adjustments, pnl
from dashboard.domain import revenue as rv
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
OTHER_REVENUE_COLUMNS = adjustments.OTHER_REVENUE_FIELDS
EXPENSE_CATEGORIES = adjustments.OTHER_EXPENSE_FIELDS
BUDGET_INFLATION = 0.03


def _periods(calendar: Calendar) -> list[tuple[int, int, str]]:
    """The ledger's site-months: the budget years' months, then the closed months stored."""
    closed = last_closed_month(calendar.today)
    first = (calendar.first_actual.year, calendar.first_actual.month)
    out = [(y, m, "budget") for y in calendar.budget_years for m in range(1, 13)]
    months = pd.period_range(f"{first[0]}-{first[1]:02d}", f"{closed[0]}-{closed[1]:02d}", freq="M")
    return out + [(p.year, p.month, "actual") for p in months]


@dataclass
class OtherLines:
    """The Other Revenue and Other Expenses rows, and per ledger period (year, month, kind)
    their amounts as arrays over sites: ``expenses`` (sites × ``EXPENSE_CATEGORIES``) and
    ``other_revenue`` (the signed total)."""

    other_revenue_month: pd.DataFrame
    other_expense_month: pd.DataFrame
    expenses: dict[tuple[int, int, str], np.ndarray]
    other_revenue: dict[tuple[int, int, str], np.ndarray]


def _smoothed(base: np.ndarray) -> np.ndarray:
    """Budget of a monthly amount: the window's months + inflation, half smoothed."""
    return (1 + BUDGET_INFLATION) * (0.5 * base + 0.5 * base.mean(axis=1, keepdims=True))


def build_other_lines(
    rng: np.random.Generator, org: Organisation, contracts: Contracts, world: World
) -> OtherLines:
    """Other Revenue and Other Expenses months: actuals of every modelled month (stored from
    the first stored month to the last closed one) and budgets of the budget years."""
    calendar = world.calendar
    site = org.site
    n = len(site)
    n_months = len(world.months)
    closed = last_closed_month(calendar.today)
    spaces = site["parking_spaces"].to_numpy()
    monthly_other = np.clip(spaces * rng.uniform(4, 12, n), 400, 45_000)
    rent = np.where(rng.random(n) < 0.12, np.round(rng.uniform(1000, 20000, n), -1), 0.0)
    billable = contracts.flags["BillingAccount"]
    validations = np.where(org.is_hotel & (rng.random(n) < 0.5), rng.uniform(300, 4000, n), 0)
    gpo = np.where(rng.random(n) < 0.15, -np.round(rng.uniform(50, 600, n), 0), 0.0)
    overspend = np.exp(rng.normal(0, 0.06, n))

    days = np.bincount(world.month_of_day)
    volume = world.monthly(world.driver) / days[None, :]
    noise = np.exp(rng.normal(0, 0.12, (n, n_months)))
    scale = (1 + 0.3 * (volume - 1)) * overspend[:, None] * noise
    actual_exp = {
        cat: monthly_other[:, None] * share * scale for cat, share in OTHER_EXPENSE_SHARES.items()
    }
    actual_exp["rents_parking"] = np.repeat(rent[:, None], n_months, axis=1)
    actual_exp["loss_damage_claims"] = np.where(
        rng.random((n, n_months)) < 0.04, np.round(rng.uniform(200, 5000, (n, n_months)), 2), 0.0
    )
    actual_rev = {
        "billable_expenses": np.where(billable, monthly_other * 0.25, 0)[:, None] * noise,
        "revenue_validations": validations[:, None] * volume * noise,
        "miscellaneous": np.zeros((n, n_months)),
        "gpo_fees": np.zeros((n, n_months)),
        "signing_bonuses": np.where(rng.random((n, n_months)) < 0.01, -500.0, 0.0),
        "client_paid_expenses": np.zeros((n, n_months)),
    }

    rev_rows, exp_rows = [], []
    expenses, other_revenue = {}, {}
    site_ids = np.arange(1, n + 1)
    for y, m, kind in _periods(calendar):
        if kind == "actual":
            k = world.month_index(y, m)
            exp = {cat: np.round(actual_exp[cat][:, k], 2) for cat in EXPENSE_CATEGORIES}
            rev = {col: np.round(actual_rev[col][:, k], 2) for col in OTHER_REVENUE_COLUMNS}
        else:
            cols = [world.month_index(*ym) for ym in base_months(y, closed)]
            exp = {
                cat: np.round(_smoothed(actual_exp[cat][:, cols])[:, m - 1], 2)
                for cat in OTHER_EXPENSE_SHARES
            }
            exp["rents_parking"] = rent
            exp["loss_damage_claims"] = np.zeros(n)  # claims are never budgeted
            rev = {col: np.zeros(n) for col in OTHER_REVENUE_COLUMNS}
            for col in ("billable_expenses", "revenue_validations"):
                rev[col] = np.round(_smoothed(actual_rev[col][:, cols])[:, m - 1], 2)
            rev["gpo_fees"] = gpo
        expenses[(y, m, kind)] = np.stack([exp[cat] for cat in EXPENSE_CATEGORIES], axis=1)
        other_revenue[(y, m, kind)] = sum(rev[col] for col in OTHER_REVENUE_COLUMNS)
        head = {"site_id": site_ids, "year": y, "month": m, "kind": kind}
        rev_rows.append(pd.DataFrame(head | rev | {"version": 1}))
        exp_rows.append(pd.DataFrame(head | exp | {"version": 1}))
    return OtherLines(
        other_revenue_month=pd.concat(rev_rows, ignore_index=True),
        other_expense_month=pd.concat(exp_rows, ignore_index=True),
        expenses=expenses,
        other_revenue=other_revenue,
    )


# --- P&L ----------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """The P&L months and the contract amounts sized against the budget."""

    pnl_month: pd.DataFrame
    terms: SizedTerms
    contract: pd.DataFrame


@dataclass
class _Month:
    """One period's drivers and cost lines as arrays over sites (code arrays over the rows
    of ``site_job_code``)."""

    external_revenue: np.ndarray
    occupied_rooms: np.ndarray
    code_hours: np.ndarray
    payroll: np.ndarray
    hourly_payroll: np.ndarray
    salaried_payroll: np.ndarray
    pteb: np.ndarray
    insurance: np.ndarray
    other_expense: np.ndarray
    parking_rents: np.ndarray
    claims: np.ndarray
    expenses: np.ndarray
    other_revenue: np.ndarray

    @property
    def cost(self) -> np.ndarray:
        return self.payroll + self.pteb + self.insurance + self.other_expense + self.parking_rents


def build_pnl(
    rng: np.random.Generator,
    org: Organisation,
    contracts: Contracts,
    site_job_code: pd.DataFrame,
    world: World,
    payroll: Payroll,
    budget: Budget,
    other: OtherLines,
) -> Ledger:
    """P&L months (see the module)."""
    calendar = world.calendar
    site = org.site
    n = len(site)
    pteb_ratio = rng.uniform(0.12, 0.25, n)
    vehicle_ins = np.where(org.is_hotel, np.round(rng.uniform(50, 400, n), 0), 0.0)
    managed = contracts.flags["ManagementAgreement"]
    ins_rate = np.where(
        managed, pnl.INSURANCE_RATE_MANAGEMENT_AGREEMENT, pnl.INSURANCE_RATE_OTHER
    ) + np.where(managed, contracts.contract["ma_insurance_additional_pct"].to_numpy(), 0.0)
    margin = rng.uniform(1.08, 1.30, n)
    billing_noise = {}

    sjc_site = site_job_code["site_id"].to_numpy() - 1
    code_ids = site_job_code["job_code_id"].to_numpy()
    salaried = payroll.salaried
    rows_of = [np.flatnonzero(sjc_site == i) for i in range(n)]
    oe_index = [EXPENSE_CATEGORIES.index(c) for c in OTHER_EXPENSE_SHARES]
    rents_index = EXPENSE_CATEGORIES.index("rents_parking")
    claims_index = EXPENSE_CATEGORIES.index("loss_damage_claims")
    cost_month = world.monthly(payroll.cost)
    hours_month = world.monthly(payroll.hours)
    ext_month = world.monthly(world.actual["external_revenue"])
    rooms_month = world.monthly(world.actual["occupied_rooms"])

    def per_site(values):
        return np.bincount(sjc_site, weights=values, minlength=n)

    def month(y: int, m: int, kind: str) -> _Month:
        expenses = other.expenses[(y, m, kind)]
        if kind == "budget":
            ext = budget.external_revenue[y][:, m - 1]
            rooms = budget.occupied_rooms[y][:, m - 1]
            hours = budget.code_hours[y][:, m - 1]
            cost = budget.code_cost[y][:, m - 1]
            pay = np.round(per_site(cost), 2)
            pteb = np.round(pay * pteb_ratio, 2)
        else:
            k = world.month_index(y, m)
            ext = ext_month[:, k]
            rooms = rooms_month[:, k]
            hours = hours_month[:, k]
            cost = cost_month[:, k]
            pay = np.round(per_site(cost), 2)
            pteb = np.round(pay * pteb_ratio * np.exp(rng.normal(0, 0.03, n)), 2)
        return _Month(
            external_revenue=np.round(ext, 2),
            occupied_rooms=np.round(rooms, 2),
            code_hours=hours,
            payroll=pay,
            hourly_payroll=per_site(np.where(salaried, 0.0, cost)),
            salaried_payroll=per_site(np.where(salaried, cost, 0.0)),
            pteb=pteb,
            insurance=np.round(pay * ins_rate + vehicle_ins, 2),
            other_expense=np.round(expenses[:, oe_index].sum(axis=1), 2),
            parking_rents=expenses[:, rents_index],
            claims=expenses[:, claims_index],
            expenses=expenses,
            other_revenue=other.other_revenue[(y, m, kind)],
        )

    periods = _periods(calendar)
    months = {p: month(*p) for p in periods}
    for p in periods:
        if p[2] == "actual":
            billing_noise[p] = np.exp(rng.normal(0, 0.01, n))

    # Size the amounts against the first budget year.
    first = calendar.budget_years[0]
    year = [months[(first, m, "budget")] for m in range(1, 13)]
    target = np.stack([mo.cost * margin + mo.other_revenue for mo in year], axis=1)
    provisional = site_terms(
        site,
        contracts.contract,
        *_empty_amounts(),
        contracts.billable_account,
        contracts.ma_billable_expense,
    )
    earned = np.zeros((n, 12))
    fee = contracts.contract["management_fee_amount"].to_numpy()
    for j, mo in enumerate(year):
        earned[:, j] = mo.other_revenue
        for i in range(n):
            terms = provisional[i + 1]
            if terms.has(rv.PER_OCCUPIED_ROOM):
                earned[i, j] += terms.occupied_room_rate * mo.occupied_rooms[i]
            if terms.has(rv.BILLING_ACCOUNT) and not terms.is_management_agreement:
                inputs = _inputs(terms, mo, i, dt.date(first, j + 1, 1), code_ids, rows_of)
                earned[i, j] += rv.billable_accounts(terms.billable, inputs).total
    profit_basis = np.mean([mo.external_revenue - mo.cost - mo.claims - fee for mo in year], axis=0)
    sized = size_terms(
        rng,
        contracts,
        site,
        site_job_code,
        SizingInputs(
            year=first,
            target=target,
            external_revenue=np.stack([mo.external_revenue for mo in year], axis=1),
            occupied_rooms=np.stack([mo.occupied_rooms for mo in year], axis=1),
            code_rows=[rows[~salaried[rows]] for rows in rows_of],
            code_hours=np.stack([mo.code_hours for mo in year], axis=1),
            earned=earned,
        ),
        profit_basis,
    )
    contract = contracts.contract.copy()
    contract["occupied_room_rate"] = sized.occupied_room_rate
    terms = site_terms(
        site,
        contract,
        sized.fixed_fee_line,
        sized.plh_job_rate,
        sized.share_tier,
        contracts.billable_account,
        contracts.ma_billable_expense,
    )

    # Internal revenue of every period, site by site (accumulated shares carry a year to
    # date from month to month).
    ir = {p: np.zeros(n) for p in periods}
    for i in range(n):
        site_terms_i = terms[i + 1]
        chained = pnl.accumulates(site_terms_i)
        for kind in ("budget", "actual"):
            ytd = rv.YearToDate()
            for p in (p for p in periods if p[2] == kind):
                y, m, _ = p
                mo = months[p]
                month_start = dt.date(y, m, 1)
                own_ir = float(mo.cost[i] * margin[i] + mo.other_revenue[i])
                inputs = _inputs(site_terms_i, mo, i, month_start, code_ids, rows_of)
                if chained:
                    ytd = rv.year_to_date_for(site_terms_i, month_start, ytd)
                if kind == "budget":
                    inputs = replace(inputs, budget_internal_revenue=own_ir)
                    budget_lines = {
                        "payroll": mo.payroll[i],
                        "pteb": mo.pteb[i],
                        "vehicle_insurance": vehicle_ins[i],
                        "parking_rents": mo.parking_rents[i],
                        "other_expense": mo.other_expense[i],
                        "internal_revenue": own_ir,
                    }
                    _lines, breakdown = pnl.forecast_pnl(
                        budget_lines, site_terms_i, inputs, ytd if chained else None
                    )
                else:
                    inputs = replace(
                        inputs,
                        pteb=float(mo.pteb[i]),
                        insurance=float(mo.insurance[i]),
                        claims=(float(mo.claims[i]),) if mo.claims[i] else (),
                        budget_internal_revenue=own_ir,
                    )
                    breakdown = rv.internal_revenue(site_terms_i, inputs, ytd)
                if chained:
                    ytd = rv.year_to_date_after(ytd, inputs, breakdown)
                value = breakdown.total
                if kind == "actual":
                    value *= float(billing_noise[p][i])
                ir[p][i] = value

    frames = []
    for p in periods:
        y, m, kind = p
        mo = months[p]
        frames.append(
            pd.DataFrame(
                {
                    "site_id": np.arange(1, n + 1),
                    "year": y,
                    "month": m,
                    "kind": kind,
                    "external_revenue": mo.external_revenue,
                    "internal_revenue": np.round(ir[p], 2),
                    "payroll": mo.payroll,
                    "claims": np.round(mo.claims, 2),
                    "parking_rents": mo.parking_rents,
                    "other_expense": mo.other_expense,
                    "pteb": mo.pteb,
                    "insurance": mo.insurance,
                    "vehicle_insurance": vehicle_ins,
                    "occupied_rooms": mo.occupied_rooms,
                }
            )
        )
    return Ledger(pd.concat(frames, ignore_index=True), sized, contract)


def _empty_amounts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        pd.DataFrame(columns=["site_id", "name", "monthly_fee", "start_date", "end_date"]),
        pd.DataFrame(
            columns=["site_id", "job_code_id", "rate", "overtime_rate", "start_date", "end_date"]
        ),
        pd.DataFrame(columns=["site_id", "scheme", "lower_bound", "share_pct"]),
    )


def _inputs(
    terms: rv.SiteTerms,
    mo: _Month,
    i: int,
    month_start: dt.date,
    code_ids: np.ndarray,
    rows_of: list[np.ndarray],
) -> rv.MonthInputs:
    """Site ``i``'s drivers of the month as the P&L hands them to the revenue engine."""
    rows = rows_of[i]
    categories = dict(zip(EXPENSE_CATEGORIES, mo.expenses[i].tolist(), strict=True))
    wages = {"hourly_payroll": mo.hourly_payroll[i], "salaried_payroll": mo.salaried_payroll[i]}
    return rv.MonthInputs(
        month_start,
        external_revenue=float(mo.external_revenue[i]),
        occupied_rooms=float(mo.occupied_rooms[i]),
        hours_by_job_code=dict(
            zip(code_ids[rows].tolist(), mo.code_hours[rows].tolist(), strict=True)
        ),
        payroll=float(mo.payroll[i]),
        account_amounts=pnl.account_amounts(terms, categories, wages),
        other_revenue=float(mo.other_revenue[i]),
        other_revenue_budget=float(mo.other_revenue[i]),
    )
