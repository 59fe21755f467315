"""Contracts of the demo portfolio (DOMAIN.md §1.1, §2.3, §12.1, §12.2): each site's contract
flags and terms — escalators, billing thresholds, billable accounts, management-agreement
settings — and the amounts sized against the site's budget (fee lines, billable rates,
share tiers) so that the budget earns a realistic margin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.master import JOB_CODES, lognormal

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
            "ma_insurance_type": np.where(
                has["ManagementAgreement"],
                np.where(rng.random(n) < 0.8, "BasedOnBillableAccounts", "FixedFee"),
                None,
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
    accounts = []
    for site_id in np.flatnonzero(has["BillingAccount"]) + 1:
        accounts += [
            (site_id, "payroll", "6010", "Wages - Hourly", True),
            (site_id, "payroll", "6020", "Wages - Salaried", True),
            (site_id, "payroll", "6050", "Overtime", bool(rng.random() < 0.8)),
            (site_id, "expense", "7115", "Outside Services", True),
            (site_id, "expense", "7185", "Supplies & Equipment", True),
            (site_id, "expense", "7220", "Uniforms", bool(rng.random() < 0.5)),
        ]
    billable_account = pd.DataFrame(
        accounts, columns=["site_id", "kind", "code", "title", "enabled"]
    )
    return Contracts(contract, has, ma_billable_expense, billable_account)


@dataclass
class SizedTerms:
    """Amounts sized against the budget: per site (0-based index) the fee lines
    (fee, start, end), billable rates (site_job_code row, rate, start) and revenue-share
    tiers (lower bound, share), and the tables that hold them."""

    fees: dict[int, list]
    plh: dict[int, list]
    tiers: dict[int, list]
    fixed_fee_line: pd.DataFrame
    plh_job_rate: pd.DataFrame
    share_tier: pd.DataFrame


def size_terms(
    rng: np.random.Generator,
    contracts: Contracts,
    site: pd.DataFrame,
    site_job_code: pd.DataFrame,
    ext,
    rooms,
    code_hours,
    target,
) -> SizedTerms:
    """Choose fee amounts, billable rates and share percentages for a realistic margin."""
    n = len(site)
    f = contracts.flags
    sjc = site_job_code
    c = contracts.contract
    start = pd.to_datetime(site["start_date"]).dt.date.to_numpy()
    fees, plh, tiers, fee_rows, plh_rows, tier_rows = {}, {}, {}, [], [], []
    for i in range(n):
        parts = sum(
            bool(f[k][i]) for k in ("FixedFee", "PerLaborHour", "RevenueShare", "PerOccupiedRoom")
        )
        goal = target[i] / max(parts, 1)
        if f["PerOccupiedRoom"][i]:
            goal = max(goal - float(c.at[i, "occupied_room_rate"]) * rooms[i], 0)
        fees[i], plh[i], tiers[i] = [], [], []
        if f["FixedFee"][i]:
            amount = float(np.clip(round(goal, -1), 50, 62_000))
            k = 1 if rng.random() < 0.6 else 2
            for j in range(k):
                fee = round(amount / k, 2)
                fees[i].append((fee, start[i], None))
                fee_rows.append((i + 1, f"Service fee {j + 1}", fee, start[i], None))
        if f["PerLaborHour"][i]:
            rows = np.flatnonzero(sjc["site_id"].to_numpy() == i + 1)
            hourly = [r for r in rows if not JOB_CODES[sjc.at[r, "job_code_id"] - 1][3]][:5]
            wage = sjc.loc[hourly, "average_hourly_rate"].to_numpy()
            hrs = code_hours[hourly]
            base = float((hrs * wage).sum()) or 1.0
            factor = goal / base
            for r, w in zip(hourly, wage, strict=True):
                bill = float(np.clip(round(w * factor, 2), 15.0, 63.0))
                plh[i].append((r, bill, start[i]))
                plh_rows.append(
                    (
                        i + 1,
                        int(sjc.at[r, "job_code_id"]),
                        bill,
                        round(bill * 1.12, 2),
                        start[i],
                        None,
                    )
                )
        if f["RevenueShare"][i]:
            revenue_m = max(ext[i], 1.0)
            if rng.random() < 0.75:
                pct = float(np.clip(round(goal / revenue_m, 3), 0.05, 1.0))
                tiers[i] = [(0.0, pct)]
            else:
                bound = round(revenue_m * 0.6, -2)
                low = float(np.clip(round(goal / revenue_m * 0.8, 3), 0.05, 0.9))
                high_pct = (goal - bound * low) / max(revenue_m - bound, 1.0)
                high = float(np.clip(round(high_pct, 3), low, 1.0))
                tiers[i] = [(0.0, low), (bound, high)]
            tier_rows += [(i + 1, "revenue_share", b, p) for b, p in tiers[i]]
        if f["ManagementAgreement"][i] and rng.random() < 0.4:
            tier_rows.append(
                (i + 1, "profit_share", 0.0, float(rng.choice([0.5, 0.05, 0.1, 0.15])))
            )
    return SizedTerms(
        fees,
        plh,
        tiers,
        pd.DataFrame(
            fee_rows, columns=["site_id", "name", "monthly_fee", "start_date", "end_date"]
        ),
        pd.DataFrame(
            plh_rows,
            columns=["site_id", "job_code_id", "rate", "overtime_rate", "start_date", "end_date"],
        ),
        pd.DataFrame(tier_rows, columns=["site_id", "scheme", "lower_bound", "share_pct"]),
    )
