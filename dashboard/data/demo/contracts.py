"""Contracts of the demo portfolio (DOMAIN.md §1.1, §2.3, §12.1, §12.2): each site's contract
flags and terms — escalators, billing thresholds, billable accounts, management-agreement
settings — and the amounts sized against the site's budget (fee lines, billable rates,
share tiers) so that the budget earns a realistic margin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.master import lognormal
from dashboard.domain import adjustments
from dashboard.domain import revenue as rv

# (contract flags, probability) — DOMAIN.md §12.1 contract mix.
CONTRACT_MIX = (
    ("ManagementAgreement;BillingAccount", 0.27),
    ("ManagementAgreement", 0.07),
    ("RevenueShare", 0.22),
    ("RevenueShare;DepositedRevenue", 0.10),
    ("PerLaborHour", 0.15),
    ("FixedFee;PerLaborHour", 0.05),
    ("RevenueShare;FixedFee", 0.03),
    ("BillingAccount;PerLaborHour", 0.02),
    ("PerOccupiedRoom;FixedFee", 0.02),
    ("FixedFee", 0.06),
    ("PerOccupiedRoom", 0.01),
)
UNCONFIGURED_SHARE = 0.08
# The Other Expenses categories and their GL accounts a management agreement bills through
# (claims go through the claims cap instead).
MA_PASS_THROUGH = {
    category: item
    for category, item in adjustments.OTHER_EXPENSE_CATEGORIES.items()
    if category != "loss_damage_claims"
}
# Contract flags the generator reads (the IR-earning ones, §1.1).
FLAGS = (
    "ManagementAgreement",
    "BillingAccount",
    "RevenueShare",
    "PerLaborHour",
    "FixedFee",
    "PerOccupiedRoom",
)


@dataclass
class Contracts:
    """The ``contract`` rows and child tables known before any amount is sized; ``flags``
    holds a boolean array per flag of ``FLAGS``."""

    contract: pd.DataFrame
    flags: dict[str, np.ndarray]
    ma_billable_expense: pd.DataFrame
    billable_account: pd.DataFrame


def build_contracts(rng: np.random.Generator, site: pd.DataFrame) -> Contracts:
    """Contract flags per the §12.1 mix (~8% not configured; per-occupied-room only where
    there are rooms), escalators (~78% none, else 3% or 2% in January or July), PTEB, support
    services and management-agreement settings. Sets ``site["contract_types"]``."""
    n = len(site)
    flags = rng.choice(
        [m[0] for m in CONTRACT_MIX],
        size=n,
        p=np.array([m[1] for m in CONTRACT_MIX]) / sum(m[1] for m in CONTRACT_MIX),
    )
    no_rooms = site["total_rooms"].to_numpy() == 0
    flags = np.where(
        no_rooms & np.char.startswith(flags.astype(str), "PerOccupiedRoom"), "FixedFee", flags
    )
    configured = rng.random(n) >= UNCONFIGURED_SHARE
    flags = np.where(configured, flags, "")
    site["contract_types"] = flags
    esc_roll = rng.random(n)
    inc_month = np.where(esc_roll < 0.78, 0, np.where(rng.random(n) < 0.62, 1, 7))
    inc_pct = np.where(esc_roll < 0.78, 0.0, np.where(esc_roll < 0.98, 0.03, 0.02))
    inc_month = np.where(inc_pct == 0.02, 1, inc_month)
    has = {f: np.array([f in s.split(";") for s in flags]) for f in FLAGS}
    contract = pd.DataFrame(
        {
            "site_id": np.arange(1, n + 1),
            "is_configured": configured,
            "increment_month": pd.array(np.where(inc_month > 0, inc_month, 0), dtype="Int64"),
            "increment_pct": inc_pct,
            "cpi_linked": False,
            "occupied_room_rate": np.where(
                has["PerOccupiedRoom"], np.round(rng.uniform(0.6, 1.4, n), 2), 0.0
            ),
            "revenue_share_accumulation": rng.choice(
                ["Monthly", "AnnualCalendar", "AnnualAnniversary"], size=n, p=[0.8, 0.17, 0.03]
            ),
            "pteb_enabled": has["BillingAccount"],
            "pteb_type": np.where(rng.random(n) < 0.8, "Percentage", "Actual"),
            "pteb_pct": np.round(np.clip(rng.normal(0.32, 0.07, n), 0.15, 0.48), 3),
            "pteb_escalator_month": pd.array([None] * n, dtype="Int64"),
            "pteb_escalator_value": 0.0,
            "pteb_escalator_type": "Percentage",
            "support_enabled": has["BillingAccount"] & (rng.random(n) < 0.7),
            "support_type": "Percentage",
            "support_amount": np.round(rng.uniform(0.015, 0.04, n), 3),
            "support_payroll_type": np.where(rng.random(n) < 0.7, "Billable", "Total"),
            "additional_payroll_amount": 0.0,
            "management_fee_type": np.where(has["ManagementAgreement"], "FixedFee", None),
            "management_fee_amount": np.where(
                has["ManagementAgreement"],
                np.round(np.clip(lognormal(rng, 1500, 0.7, n), 250, 12000), -1),
                0.0,
            ),
            # Insurance passed through as incurred (the schema holds no amount for a fixed
            # insurance fee).
            "ma_insurance_type": np.where(
                has["ManagementAgreement"], "BasedOnBillableAccounts", None
            ),
            "ma_insurance_additional_pct": 0.0,
            "claims_cap": np.where(has["ManagementAgreement"], 5000.0, 0.0),
            "claims_cap_type": np.where(has["ManagementAgreement"], "PerClaim", None),
            "profit_share_accumulation": "Monthly",
        }
    )
    contract.loc[contract["increment_month"] == 0, "increment_month"] = pd.NA
    ma_billable_expense = pd.DataFrame(
        {
            "site_id": np.flatnonzero(has["ManagementAgreement"])[::5] + 1,
            "name": "Shuttle fuel pass-through",
            "basis": "FixedAmount",
            "value": 350.0,
        }
    )
    billable_account = pd.DataFrame(
        _billable_accounts(rng, has), columns=["site_id", "kind", "code", "title", "enabled"]
    )
    return Contracts(contract, has, ma_billable_expense, billable_account)


def _billable_accounts(rng: np.random.Generator, has: dict[str, np.ndarray]) -> list[tuple]:
    """Billable GL accounts. A management agreement passes every expense account through
    but employee relations; billing accounts bill outside services, supplies and (half of
    them) uniforms, and their wages only when the labor is not billed by the hour."""
    rows = []
    for i in np.flatnonzero(has["ManagementAgreement"] | has["BillingAccount"]):
        site_id = int(i) + 1
        if has["ManagementAgreement"][i]:
            rows += [
                (site_id, "expense", account, label, account != "7045")
                for _category, (label, account) in MA_PASS_THROUGH.items()
            ]
            continue
        wages = not has["PerLaborHour"][i]
        rows += [
            (site_id, "payroll", "6010", "Wages - Hourly", wages),
            (site_id, "payroll", "6020", "Wages - Salaried", wages),
            (site_id, "payroll", "6050", "Overtime", wages and bool(rng.random() < 0.8)),
            (site_id, "expense", "7115", "Outside Services", True),
            (site_id, "expense", "7185", "Supplies & Equipment", True),
            (site_id, "expense", "7220", "Uniforms", bool(rng.random() < 0.5)),
        ]
    return rows


# --- Terms as the revenue engine reads them ------------------------------------------------------


def site_terms(
    site: pd.DataFrame,
    contract: pd.DataFrame,
    fixed_fee_line: pd.DataFrame,
    plh_job_rate: pd.DataFrame,
    share_tier: pd.DataFrame,
    billable_account: pd.DataFrame,
    ma_billable_expense: pd.DataFrame,
) -> dict[int, rv.SiteTerms]:
    """Each site's ``SiteTerms`` from the tables, as ``dashboard.data.contract_terms`` reads
    them from the database (a test holds the two together)."""
    fees = {k: g for k, g in fixed_fee_line.groupby("site_id")}
    rates = {k: g for k, g in plh_job_rate.groupby("site_id")}
    tiers = {
        k: g.sort_values("lower_bound", kind="stable")
        for k, g in share_tier.groupby(["site_id", "scheme"])
    }
    accounts = {k: g for k, g in billable_account.groupby("site_id")}
    expenses = {k: g for k, g in ma_billable_expense.groupby("site_id")}
    empty = pd.DataFrame()
    out = {}
    for s, c in zip(site.itertuples(index=False), contract.itertuples(index=False), strict=True):
        start = s.start_date
        billable = rv.BillableAccountTerms(
            accounts=tuple(
                rv.BillableAccount(a.code, a.kind, bool(a.enabled))
                for a in accounts.get(s.id, empty).itertuples()
            ),
            additional_payroll_amount=float(c.additional_payroll_amount),
            pteb_enabled=bool(c.pteb_enabled),
            pteb_type=c.pteb_type,
            pteb_pct=float(c.pteb_pct),
            pteb_escalator_month=None
            if pd.isna(c.pteb_escalator_month)
            else int(c.pteb_escalator_month),
            pteb_escalator_value=float(c.pteb_escalator_value),
            pteb_escalator_type=c.pteb_escalator_type,
            support_enabled=bool(c.support_enabled),
            support_type=c.support_type,
            support_amount=float(c.support_amount),
            support_payroll_type=c.support_payroll_type,
        )
        management = rv.ManagementAgreementTerms(
            fee_type=_text(c.management_fee_type),
            fee_amount=float(c.management_fee_amount),
            insurance_type=_text(c.ma_insurance_type) or rv.INSURANCE_BASED_ON_BILLABLE_ACCOUNTS,
            insurance_additional_pct=float(c.ma_insurance_additional_pct),
            claims_cap=float(c.claims_cap),
            claims_cap_type=_text(c.claims_cap_type),
            profit_share_tiers=tuple(
                rv.Tier(float(t.lower_bound), float(t.share_pct))
                for t in tiers.get((s.id, "profit_share"), empty).itertuples()
            ),
            profit_share_accumulation=c.profit_share_accumulation,
            billable_expenses=tuple(
                rv.NonGlExpense(e.basis, float(e.value), e.name)
                for e in expenses.get(s.id, empty).itertuples()
            ),
        )
        out[int(s.id)] = rv.SiteTerms(
            s.contract_types or "",
            is_configured=bool(c.is_configured),
            increment_month=None if pd.isna(c.increment_month) else int(c.increment_month),
            increment_pct=float(c.increment_pct),
            contract_start=start,
            fee_lines=tuple(
                rv.FeeLine(float(f.monthly_fee), f.start_date, f.end_date, f.name)
                for f in fees.get(s.id, empty).itertuples()
            ),
            job_rates=tuple(
                rv.JobRate(
                    int(r.job_code_id),
                    float(r.rate),
                    r.start_date,
                    r.end_date,
                    float(r.overtime_rate),
                )
                for r in rates.get(s.id, empty).itertuples()
            ),
            occupied_room_rate=float(c.occupied_room_rate),
            revenue_share_tiers=tuple(
                rv.Tier(float(t.lower_bound), float(t.share_pct))
                for t in tiers.get((s.id, "revenue_share"), empty).itertuples()
            ),
            revenue_share_accumulation=c.revenue_share_accumulation,
            billable=billable,
            management=management,
        )
    return out


def _text(value) -> str | None:
    """A text column's value, None where the table holds no value (NULL)."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


# --- Sizing the amounts ----------------------------------------------------------------------------


@dataclass
class SizingInputs:
    """A site's first budget year, month by month (12 values each), that the amounts are
    sized against: the IR the contract is meant to earn (costs × the site's margin + other
    revenue), external revenue, occupied rooms, the rows of ``site_job_code`` of each site's
    hourly codes and the hours of every row, and the IR already earned by what is not sized
    (per occupied room next to a fee, billable accounts, other revenue)."""

    year: int
    target: np.ndarray
    external_revenue: np.ndarray
    occupied_rooms: np.ndarray
    code_rows: list[np.ndarray]
    code_hours: np.ndarray
    earned: np.ndarray


@dataclass
class SizedTerms:
    """The amounts and the tables that hold them."""

    fixed_fee_line: pd.DataFrame
    plh_job_rate: pd.DataFrame
    share_tier: pd.DataFrame
    occupied_room_rate: np.ndarray


def escalation_factor(start: dt.date, on: dt.date, increment_month: int | None, pct: float):
    """What an amount set at ``start`` is worth on ``on`` after the contract's escalators."""
    return rv.escalated(1.0, pct, rv.escalation_count(start, on, increment_month))


def size_terms(
    rng: np.random.Generator,
    contracts: Contracts,
    site: pd.DataFrame,
    site_job_code: pd.DataFrame,
    inputs: SizingInputs,
    profit_basis: np.ndarray,
) -> SizedTerms:
    """Fee lines, billable rates, revenue-share tiers and the rate per occupied room of a
    site without other fees, sized so that the first budget year earns the target on
    average: the parts share what the unsized parts leave; a revenue share takes at most all
    of the revenue and a fee or billable rates beside it make up the rest; every amount is
    set at the contract's start so that its escalators bring it to the target. Fee lines of
    at most $62,000 (1–2 a site, more for the largest). Profit-share tiers for 40% of the
    management agreements: 50% above about the site's usual monthly profit, or 5–15% of all
    of it (``profit_basis``: the site's mean monthly profit basis)."""
    n = len(site)
    f = contracts.flags
    c = contracts.contract
    start = pd.to_datetime(site["start_date"]).dt.date.to_numpy()
    mid_year = dt.date(inputs.year, 7, 1)
    wages = site_job_code["average_hourly_rate"].to_numpy()
    por_rate = c["occupied_room_rate"].to_numpy().copy()
    fee_rows, plh_rows, tier_rows = [], [], []
    for i in range(n):
        inc_m = c.at[i, "increment_month"]
        inc_m = None if pd.isna(inc_m) else int(inc_m)
        growth = escalation_factor(start[i], mid_year, inc_m, float(c.at[i, "increment_pct"]))
        remaining = max(float(np.mean(inputs.target[i] - inputs.earned[i])), 0.0)
        parts = [k for k in ("FixedFee", "PerLaborHour", "RevenueShare") if f[k][i]]
        if f["PerOccupiedRoom"][i] and not parts:
            rooms = max(float(np.mean(inputs.occupied_rooms[i])), 1.0)
            por_rate[i] = float(np.clip(round(np.mean(inputs.target[i]) / rooms, 2), 0.6, 8.0))
        if f["RevenueShare"][i]:
            # A share takes its part of the goal up to all of the revenue; the other parts
            # make up what it cannot earn.
            revenue_m = max(float(np.mean(inputs.external_revenue[i])), 1.0)
            goal = min(remaining / len(parts), revenue_m)
            if rng.random() < 0.75:
                tiers = [(0.0, float(np.clip(round(goal / revenue_m, 3), 0.05, 1.0)))]
            else:
                bound = round(revenue_m * 0.6, -2)
                low = float(np.clip(round(goal / revenue_m * 0.8, 3), 0.05, 0.9))
                high_pct = (goal - bound * low) / max(revenue_m - bound, 1.0)
                tiers = [(0.0, low), (bound, float(np.clip(round(high_pct, 3), low, 1.0)))]
            tier_rows += [(i + 1, "revenue_share", b, p) for b, p in tiers]
            earned = np.mean([rv.tiered_share(x, tiers) for x in inputs.external_revenue[i]])
            remaining = max(remaining - earned, 0.0)
            parts.remove("RevenueShare")
        goal = remaining / max(len(parts), 1)
        if f["FixedFee"][i]:
            amount = max(round(goal / growth, -1), 50.0)
            k = max(1 if rng.random() < 0.6 else 2, int(np.ceil(amount / 62_000)))
            for j in range(k):
                fee = round(amount / k, 2)
                fee_rows.append((i + 1, f"Service fee {j + 1}", fee, start[i], None))
        if f["PerLaborHour"][i]:
            rows = inputs.code_rows[i][:5]
            base = float(np.mean((inputs.code_hours[rows] * wages[rows, None]).sum(axis=0))) or 1.0
            factor = goal / base / growth
            for r in rows:
                bill = float(np.clip(round(wages[r] * factor, 2), 15.0, 63.0))
                plh_rows.append(
                    (
                        i + 1,
                        int(site_job_code.at[r, "job_code_id"]),
                        bill,
                        round(bill * 1.12, 2),
                        start[i],
                        None,
                    )
                )
        if f["ManagementAgreement"][i] and rng.random() < 0.4:
            share = float(rng.choice([0.5, 0.05, 0.1, 0.15]))
            bound = 0.0
            if share == 0.5:
                bound = float(max(round(profit_basis[i] * rng.uniform(0.9, 1.3), -2), 0.0))
            tier_rows.append((i + 1, "profit_share", bound, share))
    return SizedTerms(
        pd.DataFrame(
            fee_rows, columns=["site_id", "name", "monthly_fee", "start_date", "end_date"]
        ),
        pd.DataFrame(
            plh_rows,
            columns=["site_id", "job_code_id", "rate", "overtime_rate", "start_date", "end_date"],
        ),
        pd.DataFrame(tier_rows, columns=["site_id", "scheme", "lower_bound", "share_pct"]),
        por_rate,
    )
