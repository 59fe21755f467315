"""Deterministic demo-portfolio generator (DOMAIN.md §12).

``build_portfolio`` makes every table as a DataFrame from (number of sites, seed, today) alone;
``write_portfolio`` bulk-loads them. The same code builds the ~650-site demo and the few-site
portfolios of the tests.

What the data looks like:
* ~45 districts (median ≈ 15 sites) in 3 regions; healthcare ("- HC") and parking-brand ("UPP")
  districts; hotel rooms for the hospitality sites (median ≈ 300), parking spaces (median ≈ 180);
  the contract mix, escalators, billing thresholds and wages of §12.1–§12.3.
* Daily actual statistics from 1 January two years back through yesterday, built from a site's
  own weekday pattern (business vs leisure hotels, weekday-heavy hospitals), seasonality, growth
  trend, events (conventions, proms: +15–40%), renovation dips and noise: not an even spread.
* Monthly budgets (statistics, rates, payroll by job code, other revenue and expenses, P&L lines)
  for last, this and next year; the budget is the site's expected pattern without weekdays,
  events or noise, with a budgeting error of a few per cent.
* Daily payroll actuals by job code for this year to date, schedules for the next two weeks;
  monthly P&L actuals for every closed month; no saved forecasts (a forecast exists only once a
  person saves one, DOMAIN.md §2.5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.domain import revenue, statistics
from dashboard.domain.periods import last_closed_month

REGIONS = ("East", "Central", "West")
MARKETS = (
    "Boston",
    "Atlanta",
    "Miami",
    "Orlando",
    "Tampa",
    "Charlotte",
    "Nashville",
    "Philadelphia",
    "Baltimore",
    "Washington",
    "New York",
    "Pittsburgh",
    "Richmond",
    "Savannah",
    "Charleston",
    "Chicago",
    "Dallas",
    "Houston",
    "Austin",
    "San Antonio",
    "Denver",
    "Minneapolis",
    "St. Louis",
    "Kansas City",
    "New Orleans",
    "Detroit",
    "Columbus",
    "Indianapolis",
    "Milwaukee",
    "Omaha",
    "Los Angeles",
    "San Diego",
    "San Francisco",
    "Seattle",
    "Portland",
    "Phoenix",
    "Las Vegas",
    "Salt Lake City",
    "Sacramento",
    "Honolulu",
    "Palm Springs",
    "Scottsdale",
    "Tucson",
    "Albuquerque",
    "Boise",
    "Anchorage",
    "Santa Barbara",
    "Monterey",
    "Napa",
    "Reno",
)
HOTEL_NAMES = (
    "Grand Hotel",
    "Harbor View Hotel",
    "Resort & Spa",
    "Convention Center Hotel",
    "Airport Hotel",
    "Downtown Suites",
    "Plaza Hotel",
    "Beach Resort",
    "Riverfront Inn",
    "Park Hotel",
    "Marina Hotel",
    "Conference Resort",
    "Towers",
    "Golf Resort",
)
HEALTH_NAMES = (
    "Medical Center",
    "Children's Hospital",
    "Regional Hospital",
    "University Hospital",
    "Heart Institute",
    "Cancer Center",
    "Medical Plaza",
    "Health Campus",
)
OTHER_NAMES = ("Arena Lot", "Stadium Garage", "Airport Lot", "Office Tower Garage", "Mall Garage")
PARKING_NAMES = ("Surface Lot", "Garage", "Street Lot", "Transit Lot")

SEGMENT_HOSPITALITY = "Hospitality"
SEGMENT_HEALTHCARE = "Healthcare"
SEGMENT_PARKING = "Parking Brand"
SEGMENT_OTHER = "Airport/Other"

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

JOB_GROUPS = (
    "GSA",
    "GSC",
    "Valet",
    "Bell",
    "Cashier",
    "Shuttle",
    "Door",
    "Team Lead",
    "Management",
)
# code, title, group, salaried, (wage low, wage high), base hours per day at a mid-size site,
# elasticity of hours to vehicle volume
JOB_CODES = (
    ("GSA", "Guest Service Associate", "GSA", False, (9.0, 18.0), 24.0, 0.8),
    ("GSA2", "Guest Service Associate II", "GSA", False, (10.0, 18.0), 12.0, 0.8),
    ("GSC", "Guest Service Captain", "GSC", False, (11.0, 15.0), 16.0, 0.0),
    ("LDGSC", "Lead Guest Service Captain", "GSC", False, (12.0, 15.0), 8.0, 0.0),
    ("VALET", "Valet Attendant", "Valet", False, (10.0, 16.0), 16.0, 0.7),
    ("BELL", "Bell Attendant", "Bell", False, (9.0, 14.0), 12.0, 0.5),
    ("CASH", "Cashier", "Cashier", False, (10.0, 17.5), 16.0, 0.3),
    ("VALCASH", "Valet Cashier", "Cashier", False, (10.0, 17.5), 8.0, 0.3),
    ("DOOR", "Door Attendant", "Door", False, (10.0, 16.5), 12.0, 0.4),
    ("SHUTL1", "Shuttle Driver", "Shuttle", False, (13.0, 16.5), 16.0, 0.2),
    ("SHUTL2", "Shuttle Driver II", "Shuttle", False, (13.0, 16.5), 8.0, 0.2),
    ("TEAMLDR", "Team Leader", "Team Lead", False, (14.5, 15.5), 8.0, 0.0),
    ("MGR", "Site Manager (salaried)", "Management", True, (0, 0), 8.0, 0.0),
    ("AMGR", "Assistant Manager (salaried)", "Management", True, (0, 0), 8.0, 0.0),
    ("OPSSUP", "Operations Supervisor (salaried)", "Management", True, (0, 0), 8.0, 0.0),
    ("GREETER", "Greeter", None, False, (9.0, 13.0), 8.0, 0.3),  # not yet in a group: "new"
)
CODE_INDEX = {c[0]: i for i, c in enumerate(JOB_CODES)}
OPTIONAL_CODES = {
    SEGMENT_HOSPITALITY: (
        "GSA2",
        "LDGSC",
        "VALET",
        "BELL",
        "DOOR",
        "VALCASH",
        "SHUTL1",
        "TEAMLDR",
        "GREETER",
    ),
    SEGMENT_HEALTHCARE: ("SHUTL1", "SHUTL2", "VALET", "TEAMLDR", "GSC", "GREETER"),
    SEGMENT_PARKING: ("VALCASH", "SHUTL1", "TEAMLDR"),
    SEGMENT_OTHER: ("VALCASH", "SHUTL1", "SHUTL2", "TEAMLDR", "GSC"),
}
CORE_CODES = {
    SEGMENT_HOSPITALITY: ("GSA", "GSC"),
    SEGMENT_HEALTHCARE: ("GSA", "CASH"),
    SEGMENT_PARKING: ("CASH", "GSA"),
    SEGMENT_OTHER: ("CASH", "GSA"),
}

# Weekday factors, Monday first.
WEEKDAY = {
    "business": np.array([1.08, 1.12, 1.12, 1.06, 0.90, 0.84, 0.88]),
    "leisure": np.array([0.86, 0.85, 0.90, 0.96, 1.14, 1.24, 1.05]),
    "healthcare": np.array([1.16, 1.15, 1.12, 1.10, 1.05, 0.72, 0.70]),
    "parking": np.array([1.00, 1.00, 1.02, 1.05, 1.12, 0.98, 0.83]),
}
# Seasonality, January first.
SEASON = {
    "business": np.array([0.85, 0.95, 1.05, 1.05, 1.05, 1.00, 0.90, 0.92, 1.05, 1.08, 0.95, 0.80]),
    "leisure": np.array([0.82, 0.88, 1.00, 1.00, 1.05, 1.15, 1.22, 1.16, 0.98, 0.94, 0.86, 0.84]),
    "healthcare": np.array(
        [0.98, 1.00, 1.01, 1.00, 1.00, 0.99, 0.98, 0.99, 1.01, 1.02, 1.01, 0.99]
    ),
    "parking": np.array([0.92, 0.94, 1.00, 1.02, 1.04, 1.05, 1.04, 1.03, 1.00, 1.00, 0.98, 0.96]),
}

DEMO_PASSWORD = "forecast-demo"
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
class Portfolio:
    """Every table of a demo portfolio as a DataFrame, keyed by table name, in load order."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    demo_accounts: dict[str, str] = field(default_factory=dict)  # role -> e-mail

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.frames[table]


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, size))


def _district_sizes(rng: np.random.Generator, n_sites: int, n_districts: int) -> np.ndarray:
    weights = _lognormal(rng, 1.0, 0.75, n_districts)
    sizes = np.ones(n_districts, dtype=int)
    extra = n_sites - n_districts
    if extra > 0:
        sizes += rng.multinomial(extra, weights / weights.sum())
    return sizes


def _unique_name(market: str, pool, rng: np.random.Generator, used: set[str]) -> str:
    """A property name not used yet: another name of the pool, else a numbered one."""
    start = int(rng.integers(len(pool)))
    for k in range(len(pool)):
        name = f"{market} {pool[(start + k) % len(pool)]}"
        if name not in used:
            used.add(name)
            return name
    number = 2
    while f"{market} {pool[start]} {number}" in used:
        number += 1
    name = f"{market} {pool[start]} {number}"
    used.add(name)
    return name


def build_portfolio(n_sites: int = 650, seed: int = 7, today: dt.date | None = None) -> Portfolio:
    """Build a deterministic portfolio of ``n_sites`` sites as of ``today``."""
    if n_sites < 1:
        raise ValueError("a portfolio needs at least one site")
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    builder = _Builder(rng, n_sites, today)
    return builder.build()


class _Builder:
    def __init__(self, rng: np.random.Generator, n_sites: int, today: dt.date) -> None:
        self.rng = rng
        self.n = n_sites
        self.today = today
        self.year = today.year
        self.budget_years = (self.year - 1, self.year, self.year + 1)
        self.first_actual = dt.date(self.year - 2, 1, 1)
        self.last_actual = today - dt.timedelta(days=1)
        self.model_end = dt.date(self.year + 1, 12, 31)
        self.portfolio = Portfolio()

    # -- organisation ---------------------------------------------------------------------
    def build(self) -> Portfolio:
        self._organisation()
        self._jobs()
        self._contracts()
        self._statistics()
        self._payroll()
        self._other_lines()
        self._pnl()
        self._people()
        self._forecast_history()
        self.portfolio.frames["app_setting"] = pd.DataFrame(
            {
                "key": ["variance_threshold_pct", "variance_threshold_amount"],
                "value": ["0.075", "5000"],
            }
        )
        order = [
            "region",
            "district",
            "site",
            "contract",
            "fixed_fee_line",
            "job_group",
            "job_code",
            "site_job_code",
            "plh_job_rate",
            "share_tier",
            "billable_account",
            "ma_billable_expense",
            "app_user",
            "scope_assignment",
            "statistic_budget_month",
            "site_statistic_day",
            "parking_rate_month",
            "payroll_budget_month",
            "payroll_day",
            "other_revenue_month",
            "other_expense_month",
            "pnl_month",
            "forecast_submission",
            "forecast_snapshot_line",
            "app_setting",
        ]
        self.portfolio.frames = {name: self.portfolio.frames[name] for name in order}
        return self.portfolio

    def _organisation(self) -> None:
        rng, n = self.rng, self.n
        n_districts = max(min(3, n), round(n / 14.5))
        markets = list(MARKETS)
        rng.shuffle(markets)
        names, kinds = [], []
        for i in range(n_districts):
            market = markets[i % len(markets)] + (
                "" if i < len(markets) else f" {i // len(markets) + 1}"
            )
            if n_districts >= 6 and i % 7 == 3:
                names.append(f"D - {market} - HC")
                kinds.append("healthcare")
            elif n_districts >= 8 and i % 15 == 9:
                names.append(f"D - {market} UPP")
                kinds.append("parking")
            else:
                names.append(f"D - {market}")
                kinds.append("mixed")
        region_of_district = np.arange(n_districts) % len(REGIONS) + 1
        self.portfolio.frames["region"] = pd.DataFrame(
            {"id": np.arange(1, len(REGIONS) + 1), "name": list(REGIONS)}
        )
        self.portfolio.frames["district"] = pd.DataFrame(
            {"id": np.arange(1, n_districts + 1), "name": names, "region_id": region_of_district}
        )
        sizes = _district_sizes(rng, n, n_districts)
        district_of_site = np.repeat(np.arange(1, n_districts + 1), sizes)
        district_kind = np.array(kinds)[district_of_site - 1]

        seg_roll = rng.random(n)
        segment = np.where(
            district_kind == "healthcare",
            np.where(seg_roll < 0.85, SEGMENT_HEALTHCARE, SEGMENT_HOSPITALITY),
            np.where(
                district_kind == "parking",
                np.where(seg_roll < 0.9, SEGMENT_PARKING, SEGMENT_OTHER),
                np.select(
                    [seg_roll < 0.70, seg_roll < 0.82, seg_roll < 0.92],
                    [SEGMENT_HOSPITALITY, SEGMENT_HEALTHCARE, SEGMENT_OTHER],
                    SEGMENT_PARKING,
                ),
            ),
        )
        is_hotel = (segment == SEGMENT_HOSPITALITY) & (rng.random(n) < 0.9)
        rooms = np.where(
            is_hotel, np.clip(np.round(_lognormal(rng, 300, 0.85, n)), 40, 2900), 0
        ).astype(int)
        spaces = np.clip(np.round(_lognormal(rng, 180, 1.1, n)), 12, 3300).astype(int)
        numbers = np.sort(rng.choice(np.arange(1, 9000), size=n, replace=False))
        site_numbers = [f"{x:04d}" for x in numbers]
        market_of_site = [
            names[d - 1].removeprefix("D - ").split(" - ")[0].removesuffix(" UPP")
            for d in district_of_site
        ]
        site_names = []
        used_names: set[str] = set()
        for i in range(n):
            pool = {
                SEGMENT_HOSPITALITY: HOTEL_NAMES if is_hotel[i] else OTHER_NAMES,
                SEGMENT_HEALTHCARE: HEALTH_NAMES,
                SEGMENT_PARKING: PARKING_NAMES,
                SEGMENT_OTHER: OTHER_NAMES,
            }[segment[i]]
            site_names.append(_unique_name(market_of_site[i], pool, rng, used_names))
        start = np.array(
            [self.first_actual - dt.timedelta(days=int(d)) for d in rng.integers(30, 3650, n)]
        )
        style = np.where(
            segment == SEGMENT_HEALTHCARE,
            "healthcare",
            np.where(is_hotel, np.where(rng.random(n) < 0.5, "business", "leisure"), "parking"),
        )
        self.site = pd.DataFrame(
            {
                "id": np.arange(1, n + 1),
                "site_number": site_numbers,
                "name": site_names,
                "address": [
                    f"{100 + int(x)} Main Street, {m}"
                    for x, m in zip(rng.integers(1, 9800, n), market_of_site, strict=True)
                ],
                "district_id": district_of_site,
                "legal_entity": np.where(
                    segment == SEGMENT_PARKING, "Parking Brand LLC", "Operating Company LLC"
                ),
                "business_segment": segment,
                "cog_segment": np.where(
                    is_hotel,
                    "Hotels",
                    np.where(segment == SEGMENT_HEALTHCARE, "Hospitals", "Commercial"),
                ),
                "pl_category": "Operations",
                "contract_types": "",
                "total_rooms": rooms,
                "parking_spaces": spaces,
                "start_date": start,
                "close_date": None,
                "count_site": True,
                "deviation_pct": np.where(rng.random(n) < 0.98, 0.10, 0.05),
                "deviation_amount": np.where(rng.random(n) < 0.98, 2500.0, 5000.0),
            }
        )
        self.style = style
        self.is_hotel = is_hotel

    # -- jobs -------------------------------------------------------------------------------
    def _jobs(self) -> None:
        rng, n = self.rng, self.n
        self.portfolio.frames["job_group"] = pd.DataFrame(
            {"id": np.arange(1, len(JOB_GROUPS) + 1), "title": list(JOB_GROUPS), "is_active": True}
        )
        group_id = {g: i + 1 for i, g in enumerate(JOB_GROUPS)}
        self.portfolio.frames["job_code"] = pd.DataFrame(
            {
                "id": np.arange(1, len(JOB_CODES) + 1),
                "code": [c[0] for c in JOB_CODES],
                "title": [c[1] for c in JOB_CODES],
                "is_active": True,
                "is_salaried": [c[3] for c in JOB_CODES],
                "job_group_id": pd.array([group_id.get(c[2]) for c in JOB_CODES], dtype="Int64"),
            }
        )
        rows = []
        segment = self.site["business_segment"].to_numpy()
        for i in range(n):
            core = CORE_CODES[segment[i]]
            optional = OPTIONAL_CODES[segment[i]]
            k = int(rng.integers(1, min(len(optional), 6) + 1))
            picked = list(core) + list(rng.choice(optional, size=k, replace=False))
            salaried = ["MGR"] + list(
                rng.choice(["AMGR", "OPSSUP"], size=int(rng.integers(0, 3)), replace=False)
            )
            for code in picked + salaried:
                spec = JOB_CODES[CODE_INDEX[code]]
                if spec[3]:
                    salary = float(np.round(rng.uniform(45_000, 85_000), -2))
                    rows.append((i + 1, CODE_INDEX[code] + 1, 1, round(salary / 2080, 2), salary))
                else:
                    low, high = spec[4]
                    # Many GSA wages sit near $10 (tipped).
                    if code.startswith("GSA") and rng.random() < 0.4:
                        wage = rng.uniform(9.5, 10.5)
                    else:
                        wage = rng.uniform(low, high)
                    count = int(rng.integers(1, 4)) if spec[5] <= 8 else int(rng.integers(2, 12))
                    rows.append((i + 1, CODE_INDEX[code] + 1, count, round(float(wage), 2), 0.0))
        self.site_job_code = pd.DataFrame(
            rows,
            columns=[
                "site_id",
                "job_code_id",
                "active_employee_count",
                "average_hourly_rate",
                "allocated_salary_cost",
            ],
        )
        self.portfolio.frames["site_job_code"] = self.site_job_code

    # -- contracts ----------------------------------------------------------------------------
    def _contracts(self) -> None:
        rng, n = self.rng, self.n
        flags = rng.choice(
            [m[0] for m in CONTRACT_MIX],
            size=n,
            p=np.array([m[1] for m in CONTRACT_MIX]) / sum(m[1] for m in CONTRACT_MIX),
        )
        no_rooms = self.site["total_rooms"].to_numpy() == 0
        flags = np.where(
            no_rooms & np.char.startswith(flags.astype(str), "PerOccupiedRoom"), "FixedFee", flags
        )
        configured = rng.random(n) >= UNCONFIGURED_SHARE
        flags = np.where(configured, flags, "")
        self.site["contract_types"] = flags
        esc_roll = rng.random(n)
        inc_month = np.where(esc_roll < 0.78, 0, np.where(rng.random(n) < 0.62, 1, 7))
        inc_pct = np.where(esc_roll < 0.78, 0.0, np.where(esc_roll < 0.98, 0.03, 0.02))
        inc_month = np.where(inc_pct == 0.02, 1, inc_month)
        has = {
            f: np.array([f in s.split(";") for s in flags])
            for f in (
                "ManagementAgreement",
                "BillingAccount",
                "RevenueShare",
                "PerLaborHour",
                "FixedFee",
                "PerOccupiedRoom",
            )
        }
        self.flags = has
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
                    np.round(np.clip(_lognormal(rng, 1500, 0.7, n), 250, 12000), -1),
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
        self.contract = contract
        self.portfolio.frames["contract"] = contract
        self.portfolio.frames["ma_billable_expense"] = pd.DataFrame(
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
        self.portfolio.frames["billable_account"] = pd.DataFrame(
            accounts, columns=["site_id", "kind", "code", "title", "enabled"]
        )

    # -- statistics -----------------------------------------------------------------------
    def _statistics(self) -> None:
        rng, n = self.rng, self.n
        days = pd.date_range(self.first_actual, self.model_end, freq="D")
        self.days = days
        n_days = len(days)
        weekday = days.day_of_week.to_numpy()
        month_idx = days.month.to_numpy() - 1
        years_from_start = (days - pd.Timestamp(self.first_actual)).days.to_numpy() / 365.25

        style = self.style
        wd = np.stack([WEEKDAY[s][weekday] for s in style])  # (n, days)
        season = np.stack([SEASON[s][month_idx] for s in style])
        growth = rng.normal(0.03, 0.05, n)
        trend = (1.0 + growth[:, None]) ** years_from_start[None, :]
        expected_index = wd * season * trend  # the site's expected pattern

        events = np.ones((n, n_days))
        for i in range(n):
            k = int(rng.integers(6, 14)) * 4
            at = rng.integers(0, n_days - 3, k)
            lift = rng.uniform(1.15, 1.40, k)
            for a, f in zip(at, lift, strict=True):
                events[i, a : a + int(rng.integers(1, 4))] *= f
            if rng.random() < 0.05:  # renovation or construction dip
                a = int(rng.integers(0, n_days - 60))
                events[i, a : a + int(rng.integers(30, 60))] *= 0.7
        noise = np.exp(rng.normal(0.0, 0.08, (n, n_days)))
        actual_index = expected_index * events * noise

        rooms = self.site["total_rooms"].to_numpy().astype(float)
        spaces = self.site["parking_spaces"].to_numpy().astype(float)
        hotel = rooms > 0
        occ_base = np.where(hotel, rng.uniform(0.62, 0.84, n), 0.0)
        drive_base = np.where(hotel, rng.uniform(0.20, 0.60, n), 0.0)
        capture_base = np.where(
            hotel, np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0.40, 0.95, n)), 0.0
        )
        segment = self.site["business_segment"].to_numpy()
        turnover = np.where(hotel, rng.uniform(0.04, 0.14, n), rng.uniform(0.25, 0.8, n))
        transient = spaces * turnover
        valet_share = np.select(
            [hotel, segment == SEGMENT_HEALTHCARE, segment == SEGMENT_OTHER],
            [np.clip(capture_base, 0.3, 1.0), rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.25, n)],
            0.0,
        )
        monthly_valet_passes = np.where(valet_share > 0, rng.integers(0, 12, n), 0)
        monthly_self_passes = np.where(
            segment == SEGMENT_HEALTHCARE, rng.integers(10, 60, n), rng.integers(0, 25, n)
        )
        self_agg_base = np.where(rng.random(n) < 0.4, rng.uniform(1, 20, n), 0.0)
        valet_agg_base = np.where(
            (valet_share > 0) & (rng.random(n) < 0.25), rng.uniform(1, 8, n), 0.0
        )
        comp_rate = rng.uniform(0.01, 0.05, n)

        def occupancy_of(index):
            # Occupancy moves with a damped version of the demand index.
            return np.clip(occ_base[:, None] * (1 + 0.6 * (index - 1)), 0.15, 0.99)

        def counts(index, occ, drive, capture, integer):
            r = np.round if integer else (lambda x: x)
            occupied = statistics.occupied_rooms_from_occupancy(occ, rooms[:, None])
            valet_on, self_on = statistics.overnight_vehicles(occupied, drive, capture)
            out = {
                "occupied_rooms": occupied,
                "valet_daily": r(transient[:, None] * valet_share[:, None] * index),
                "self_daily": r(transient[:, None] * (1 - valet_share[:, None]) * index),
                "valet_overnight": r(valet_on),
                "self_overnight": r(self_on),
                "self_aggregator": r(self_agg_base[:, None] * index),
                "valet_aggregator": r(valet_agg_base[:, None] * index),
            }
            out["valet_comps"] = r(
                comp_rate[:, None] * (out["valet_daily"] + out["valet_overnight"])
            )
            out["self_comps"] = r(comp_rate[:, None] * (out["self_daily"] + out["self_overnight"]))
            return out

        # Monthly passes are counted per month and carried on each day as a daily share.
        dim = days.days_in_month.to_numpy()
        pass_noise = np.clip(np.round(rng.normal(0, 1.5, (n, n_days))), -3, 3)

        actual_occ = occupancy_of(actual_index) * hotel[:, None]
        drive_noise = rng.normal(0, 0.02, (n, n_days))
        capture_noise = rng.normal(0, 0.03, (n, n_days))
        actual_drive = np.clip(drive_base[:, None] + drive_noise, 0, 1) * hotel[:, None]
        actual_capture = np.where(
            capture_base[:, None] >= 1.0,
            1.0,
            np.clip(capture_base[:, None] + capture_noise, 0, 0.99),
        )
        actual_capture = actual_capture * hotel[:, None]
        actual = counts(actual_index, actual_occ, actual_drive, actual_capture, integer=True)
        # Pass counts change month to month, constant within a month.
        month_key = (days.year.to_numpy() - self.first_actual.year) * 12 + month_idx
        month_noise = pass_noise[:, np.unique(month_key, return_index=True)[1]][:, month_key]
        actual["valet_monthly"] = np.maximum(monthly_valet_passes[:, None] + month_noise, 0) / dim
        actual["self_monthly"] = np.maximum(monthly_self_passes[:, None] + month_noise, 0) / dim
        # Ratios as stored are what the rounded counts imply (inverse formulas, §3.1).
        actual_drive, actual_capture = statistics.drive_in_and_capture(
            actual["occupied_rooms"], actual["valet_overnight"], actual["self_overnight"]
        )
        actual["occupancy"] = statistics.occupancy_from_occupied_rooms(
            actual["occupied_rooms"], rooms[:, None]
        )
        actual["drive_in_ratio"] = actual_drive
        actual["capture_ratio"] = actual_capture

        expected_occ = occupancy_of(expected_index) * hotel[:, None]
        expected = counts(
            expected_index,
            expected_occ,
            drive_base[:, None] * np.ones((1, n_days)),
            capture_base[:, None] * np.ones((1, n_days)),
            integer=False,
        )
        expected["valet_monthly"] = monthly_valet_passes[:, None] / dim
        expected["self_monthly"] = monthly_self_passes[:, None] / dim
        expected["self_aggregator"] *= 0  # aggregator budgets start at $0/0 (§3.1)
        expected["valet_aggregator"] *= 0

        # Rates: a base per site, raised in January (most) or July; actual collected rates vary.
        base_rates = {
            "valet_daily": rng.uniform(25, 50, n),
            "self_daily": rng.uniform(15, 30, n),
            "valet_monthly": rng.uniform(200, 300, n),
            "self_monthly": rng.uniform(200, 300, n) * 0.8,
        }
        base_rates["valet_overnight"] = base_rates["valet_daily"] * rng.uniform(1.0, 1.3, n)
        base_rates["self_overnight"] = base_rates["self_daily"] * rng.uniform(1.0, 1.3, n)
        base_rates["valet_aggregator"] = base_rates["valet_daily"] * 0.85
        base_rates["self_aggregator"] = base_rates["self_daily"] * 0.85
        raise_month = np.where(rng.random(n) < 0.7, 1, 7)
        raise_pct = rng.choice([0.0, 0.03, 0.05], size=n, p=[0.3, 0.5, 0.2])
        months = [
            (y, m)
            for y in range(self.first_actual.year, self.model_end.year + 1)
            for m in range(1, 13)
        ]
        n_months = len(months)
        raises = np.zeros((n, n_months))
        for j, (y, m) in enumerate(months):
            raises[:, j] = (y - self.first_actual.year) + (m >= raise_month)
        rate_factor = (1 + raise_pct[:, None]) ** raises  # (n, months)
        actual_rate_noise = np.exp(rng.normal(0, 0.02, (n, n_months)))
        self.months = months
        rate_rows = []
        budget_rate = {}
        actual_rate = {}
        closed = last_closed_month(self.today)
        for cat in statistics.REVENUE_CATEGORIES:
            c = cat[1]
            budget_rate[c] = np.round(base_rates[c][:, None] * rate_factor, 2)
            actual_rate[c] = np.round(budget_rate[c] * actual_rate_noise, 2)
            if c.endswith("aggregator"):
                budget_rate[c] = np.zeros_like(budget_rate[c])
        for j, (y, m) in enumerate(months):
            for c in budget_rate:
                if y in self.budget_years:
                    rate_rows.append(
                        pd.DataFrame(
                            {
                                "site_id": np.arange(1, n + 1),
                                "year": y,
                                "month": m,
                                "category": c,
                                "kind": "budget",
                                "rate": budget_rate[c][:, j],
                            }
                        )
                    )
                if (y, m) <= closed:
                    rate_rows.append(
                        pd.DataFrame(
                            {
                                "site_id": np.arange(1, n + 1),
                                "year": y,
                                "month": m,
                                "category": c,
                                "kind": "actual",
                                "rate": actual_rate[c][:, j],
                            }
                        )
                    )
        rates = pd.concat(rate_rows, ignore_index=True)
        rates["version"] = 1
        self.portfolio.frames["parking_rate_month"] = rates

        month_of_day = (days.year.to_numpy() - self.first_actual.year) * 12 + month_idx
        actual_rates_by_day = {c: actual_rate[c][:, month_of_day] for c in actual_rate}
        actual["external_revenue"] = np.round(
            statistics.external_revenue(actual, actual_rates_by_day), 2
        )
        self.actual_stats = actual
        self.actual_index = actual_index
        self.expected_index = expected_index

        # Daily actual rows: first day .. yesterday.
        upto = int((pd.Timestamp(self.last_actual) - days[0]).days) + 1
        fields = statistics.STAT_FIELDS
        stat = {
            "site_id": np.repeat(np.arange(1, n + 1), upto),
            "day": np.tile(days[:upto].to_numpy(), n),
            "kind": "actual",
        }
        for f in fields:
            stat[f] = np.asarray(actual[f])[:, :upto].reshape(-1)
        stat_frame = pd.DataFrame(stat)
        stat_frame["version"] = 1
        self.portfolio.frames["site_statistic_day"] = stat_frame

        # Monthly budget for the budget years: expected pattern × a budgeting error.
        budget_error = np.exp(rng.normal(0, 0.04, (n, 1)))
        count_fields = [
            f
            for f in statistics.STAT_FIELDS
            if f not in ("occupancy", "drive_in_ratio", "capture_ratio", "external_revenue")
        ]
        rows = []
        for y in self.budget_years:
            for m in range(1, 13):
                sel = (days.year == y) & (days.month == m)
                j = months.index((y, m))
                row = {"site_id": np.arange(1, n + 1), "year": y, "month": m}
                for f in count_fields:
                    scale = budget_error[:, 0] if f not in ("valet_monthly", "self_monthly") else 1
                    row[f] = np.round(np.asarray(expected[f])[:, sel].sum(axis=1) * scale, 2)
                rates_month = {c: budget_rate[c][:, j] for c in budget_rate}
                row["external_revenue"] = np.round(statistics.external_revenue(row, rates_month), 2)
                rows.append(pd.DataFrame(row))
        self.stat_budget = pd.concat(rows, ignore_index=True)
        self.portfolio.frames["statistic_budget_month"] = self.stat_budget

    # -- payroll --------------------------------------------------------------------------
    def _payroll(self) -> None:
        rng, _n = self.rng, self.n
        days = self.days
        sjc = self.site_job_code
        site_idx = sjc["site_id"].to_numpy() - 1
        code_idx = sjc["job_code_id"].to_numpy() - 1
        salaried = np.array([JOB_CODES[c][3] for c in code_idx])
        base_hours = np.array([JOB_CODES[c][5] for c in code_idx])
        elasticity = np.array([JOB_CODES[c][6] for c in code_idx])
        size = np.clip(self.site["parking_spaces"].to_numpy()[site_idx] / 180.0, 0.35, 4.0)
        scale = np.where(elasticity > 0, size**0.6, 1.0)
        rate = sjc["average_hourly_rate"].to_numpy()
        salary_per_day = sjc["allocated_salary_cost"].to_numpy() / 365.0
        employees = sjc["active_employee_count"].to_numpy()

        def hours_for(index_rows):
            h = base_hours[:, None] * scale[:, None] * (1 + elasticity[:, None] * (index_rows - 1))
            h = np.where(salaried[:, None], 8.0 * employees[:, None], h)
            return np.maximum(h, 0)

        exp_hours = hours_for(self.expected_index[site_idx])
        act_hours = (
            np.round(
                hours_for(self.actual_index[site_idx])
                * np.exp(rng.normal(0, 0.06, exp_hours.shape))
                * 4
            )
            / 4
        )
        act_hours = np.where(salaried[:, None], exp_hours, act_hours)
        ot_share = np.where(salaried, 0.0, rng.uniform(0.0, 0.08, len(sjc)))
        act_ot = np.round(act_hours * ot_share[:, None], 2)
        act_cost = np.where(
            salaried[:, None],
            salary_per_day[:, None] * np.ones((1, len(days))),
            (act_hours - act_ot) * rate[:, None] + act_ot * rate[:, None] * 1.5,
        )
        act_cost = np.round(act_cost, 2)
        self.payroll_actual_cost = act_cost  # (site-codes, days)
        self.payroll_actual_hours = act_hours
        self.payroll_site_idx = site_idx

        # Daily actual rows for this year to date.
        year_start = int((pd.Timestamp(dt.date(self.year, 1, 1)) - days[0]).days)
        upto = int((pd.Timestamp(self.last_actual) - days[0]).days) + 1
        span = upto - year_start
        self.portfolio.frames["payroll_day"] = pd.concat(
            [
                pd.DataFrame(
                    {
                        "site_id": np.repeat(sjc["site_id"].to_numpy(), span),
                        "day": np.tile(days[year_start:upto].to_numpy(), len(sjc)),
                        "job_code_id": np.repeat(sjc["job_code_id"].to_numpy(), span),
                        "kind": "actual",
                        "hours": act_hours[:, year_start:upto].reshape(-1),
                        "overtime_hours": act_ot[:, year_start:upto].reshape(-1),
                        "cost": act_cost[:, year_start:upto].reshape(-1),
                        "revenue": 0.0,
                        "version": 1,
                    }
                ),
                self._schedule(exp_hours, rate, salaried, salary_per_day),
            ],
            ignore_index=True,
        )

        # Monthly budget per code for the budget years.
        budget_error = np.exp(rng.normal(0.0, 0.05, len(sjc)))
        rows = []
        for y in self.budget_years:
            for m in range(1, 13):
                sel = (days.year == y) & (days.month == m)
                hours = np.round(exp_hours[:, sel].sum(axis=1) * budget_error, 2)
                cost = np.where(salaried, salary_per_day * sel.sum(), hours * rate)
                rows.append(
                    pd.DataFrame(
                        {
                            "site_id": sjc["site_id"].to_numpy(),
                            "year": y,
                            "month": m,
                            "job_code_id": sjc["job_code_id"].to_numpy(),
                            "hours": hours,
                            "cost": np.round(cost, 2),
                        }
                    )
                )
        self.payroll_budget = pd.concat(rows, ignore_index=True)
        self.portfolio.frames["payroll_budget_month"] = self.payroll_budget

    def _schedule(self, exp_hours, rate, salaried, salary_per_day) -> pd.DataFrame:
        sjc = self.site_job_code
        start = int((pd.Timestamp(self.today) - self.days[0]).days)
        end = min(start + 14, len(self.days))
        hourly = ~salaried
        hours = np.round(exp_hours[hourly, start:end] * 4) / 4
        span = end - start
        return pd.DataFrame(
            {
                "site_id": np.repeat(sjc["site_id"].to_numpy()[hourly], span),
                "day": np.tile(self.days[start:end].to_numpy(), int(hourly.sum())),
                "job_code_id": np.repeat(sjc["job_code_id"].to_numpy()[hourly], span),
                "kind": "scheduled",
                "hours": hours.reshape(-1),
                "overtime_hours": 0.0,
                "cost": np.round(hours * rate[hourly, None], 2).reshape(-1),
                "revenue": 0.0,
                "version": 1,
            }
        )

    # -- other revenue and expenses -------------------------------------------------------
    def _other_lines(self) -> None:
        rng, n = self.rng, self.n
        closed = last_closed_month(self.today)
        spaces = self.site["parking_spaces"].to_numpy()
        monthly_other = np.clip(spaces * rng.uniform(4, 12, n), 400, 45_000)
        has_rent = rng.random(n) < 0.12
        rent = np.where(has_rent, np.round(rng.uniform(1000, 20000, n), -1), 0.0)
        billable = self.flags["BillingAccount"]
        validations = np.where(self.is_hotel & (rng.random(n) < 0.5), rng.uniform(300, 4000, n), 0)
        gpo = np.where(rng.random(n) < 0.15, -np.round(rng.uniform(50, 600, n), 0), 0.0)
        rev_rows, exp_rows = [], []
        periods = [(y, m, "budget") for y in self.budget_years for m in range(1, 13)]
        periods += [(y, m, "actual") for (y, m) in self.months if (y, m) <= closed]
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
        self.other_revenue = pd.concat(rev_rows, ignore_index=True)
        self.other_expense = pd.concat(exp_rows, ignore_index=True)
        self.portfolio.frames["other_revenue_month"] = self.other_revenue
        self.portfolio.frames["other_expense_month"] = self.other_expense

    # -- P&L ------------------------------------------------------------------------------
    def _pnl(self) -> None:
        rng, n = self.rng, self.n
        days = self.days
        closed = last_closed_month(self.today)
        pteb_ratio = rng.uniform(0.12, 0.25, n)
        vehicle_ins = np.where(
            self.site["total_rooms"].to_numpy() > 0, np.round(rng.uniform(50, 400, n), 0), 0.0
        )
        ins_pct = np.where(self.flags["ManagementAgreement"], 0.0577, 0.0445)
        margin = rng.uniform(1.06, 1.35, n)

        sjc = self.site_job_code
        site_ids = sjc["site_id"].to_numpy()

        def per_site(values):
            return np.bincount(site_ids - 1, weights=values, minlength=n)

        oe_cols = list(OTHER_EXPENSE_SHARES)
        periods = [(y, m, "budget") for y in self.budget_years for m in range(1, 13)]
        periods += [(y, m, "actual") for (y, m) in self.months if (y, m) <= closed]
        lines = []
        for y, m, kind in periods:
            if kind == "budget":
                st = self.stat_budget[(self.stat_budget.year == y) & (self.stat_budget.month == m)]
                ext = st["external_revenue"].to_numpy()
                rooms = st["occupied_rooms"].to_numpy()
                pb = self.payroll_budget[
                    (self.payroll_budget.year == y) & (self.payroll_budget.month == m)
                ]
                payroll = per_site(pb["cost"].to_numpy())
                code_hours = pb["hours"].to_numpy()
            else:
                sel = (days.year == y) & (days.month == m)
                ext = self.actual_stats["external_revenue"][:, sel].sum(axis=1)
                rooms = self.actual_stats["occupied_rooms"][:, sel].sum(axis=1)
                payroll = per_site(self.payroll_actual_cost[:, sel].sum(axis=1))
                code_hours = self.payroll_actual_hours[:, sel].sum(axis=1)
            oe = self.other_expense[
                (self.other_expense.year == y)
                & (self.other_expense.month == m)
                & (self.other_expense.kind == kind)
            ]
            other_exp = oe[oe_cols].sum(axis=1).to_numpy()
            rents = oe["rents_parking"].to_numpy()
            claims = oe["loss_damage_claims"].to_numpy()
            pteb = np.round(payroll * pteb_ratio, 2)
            insurance = np.round(payroll * ins_pct + vehicle_ins, 2)
            cost = payroll + pteb + insurance + other_exp + rents
            ir = self._internal_revenue(
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
        self.portfolio.frames["pnl_month"] = pd.concat(lines, ignore_index=True)

    def _internal_revenue(
        self, y, m, ext, rooms, code_hours, payroll, pteb, insurance, other_exp, rents, target
    ) -> np.ndarray:
        """IR from the contract terms via dashboard.domain.revenue; the terms themselves are
        sized at first use so that the budget earns a realistic margin."""
        n = self.n
        month_start = dt.date(y, m, 1)
        f = self.flags
        ir = np.zeros(n)
        if not hasattr(self, "_terms"):
            self._size_terms(ext, rooms, code_hours, target)
        c = self.contract
        for i in range(n):
            inc_m = c.at[i, "increment_month"]
            inc_m = None if pd.isna(inc_m) else int(inc_m)
            inc_p = float(c.at[i, "increment_pct"])
            total = 0.0
            if f["FixedFee"][i]:
                total += revenue.fixed_fee(self._terms["fees"][i], month_start, inc_m, inc_p)
            if f["PerLaborHour"][i]:
                rated = [
                    (code_hours[row], rate, start, None)
                    for row, rate, start in self._terms["plh"][i]
                ]
                total += revenue.per_labor_hour(rated, month_start, inc_m, inc_p)
            if f["PerOccupiedRoom"][i]:
                total += revenue.per_occupied_room(float(c.at[i, "occupied_room_rate"]), rooms[i])
            if f["RevenueShare"][i]:
                total += revenue.revenue_share_monthly(ext[i], self._terms["tiers"][i])
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

    def _size_terms(self, ext, rooms, code_hours, target) -> None:
        """Choose fee amounts, billable rates and share percentages for a realistic margin."""
        rng, n = self.rng, self.n
        f = self.flags
        sjc = self.site_job_code
        c = self.contract
        start = pd.to_datetime(self.site["start_date"]).dt.date.to_numpy()
        fees, plh, tiers, fee_rows, plh_rows, tier_rows = {}, {}, {}, [], [], []
        for i in range(n):
            parts = sum(
                bool(f[k][i])
                for k in ("FixedFee", "PerLaborHour", "RevenueShare", "PerOccupiedRoom")
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
        self._terms = {"fees": fees, "plh": plh, "tiers": tiers}
        self.portfolio.frames["fixed_fee_line"] = pd.DataFrame(
            fee_rows, columns=["site_id", "name", "monthly_fee", "start_date", "end_date"]
        )
        self.portfolio.frames["plh_job_rate"] = pd.DataFrame(
            plh_rows,
            columns=["site_id", "job_code_id", "rate", "overtime_rate", "start_date", "end_date"],
        )
        self.portfolio.frames["share_tier"] = pd.DataFrame(
            tier_rows, columns=["site_id", "scheme", "lower_bound", "share_pct"]
        )

    # -- people ---------------------------------------------------------------------------
    def _people(self) -> None:
        rng, _n = self.rng, self.n
        users, grants = [], []
        district = self.portfolio["district"]

        def add_user(email, name, role):
            users.append((len(users) + 1, email, name, role))
            return len(users)

        admin = add_user("admin@example.com", "Forecast Administrator", "admin")
        executives = [
            add_user(f"exec{i}@example.com", f"Executive {i}", "executive") for i in (1, 2)
        ]
        rvps = {}
        for region_id, region_name in zip(
            self.portfolio["region"]["id"], self.portfolio["region"]["name"], strict=True
        ):
            rvps[region_id] = add_user(
                f"rvp.{region_name.lower()}@example.com",
                f"Regional Vice President {region_name}",
                "regional_vp",
            )
            grants.append((rvps[region_id], None, None, int(region_id)))
        dms = {}
        for did in district["id"]:
            dms[did] = add_user(
                f"dm{did:02d}@example.com", f"District Manager {did:02d}", "district_manager"
            )
            grants.append((dms[did], None, int(did), None))

        am_sites: dict[int, list[int]] = {}
        for did in district["id"]:
            sites = self.site.loc[self.site["district_id"] == did, "id"].to_numpy().copy()
            rng.shuffle(sites)
            # ~25% of sites have no account manager recorded (always keep at least one).
            covered = sites[: max(1, int(round(len(sites) * 0.75)))]
            pos = 0
            while pos < len(covered):
                roll = rng.random()
                size = 1 if roll < 0.7 else 2 if roll < 0.9 else int(rng.integers(3, 7))
                am_id = len(am_sites) + 1
                am_sites[am_id] = [int(s) for s in covered[pos : pos + size]]
                pos += size
        am_user = {}
        for am_id, sites in am_sites.items():
            am_user[am_id] = add_user(
                f"am{am_id:04d}@example.com", f"Account Manager {am_id:04d}", "account_manager"
            )
            for s in sites:
                grants.append((am_user[am_id], s, None, None))

        # Demo accounts: the account manager with the most sites (most hotels on a tie), and
        # that person's district manager and regional vice president.
        def demo_rank(item):
            am_id, sites = item
            hotels = int(self.is_hotel[np.array(sites) - 1].sum())
            return (len(sites), hotels, -am_id)

        demo_am, demo_sites = max(am_sites.items(), key=demo_rank)
        demo_district = int(self.site.loc[demo_sites[0] - 1, "district_id"])
        demo_region = int(district.loc[district["id"] == demo_district, "region_id"].iloc[0])
        email_of = {u[0]: u[1] for u in users}
        self.portfolio.demo_accounts = {
            "account_manager": email_of[am_user[demo_am]],
            "district_manager": email_of[dms[demo_district]],
            "regional_vp": email_of[rvps[demo_region]],
            "executive": email_of[executives[0]],
            "admin": email_of[admin],
        }
        self.portfolio.frames["app_user"] = pd.DataFrame(
            users, columns=["id", "email", "display_name", "role"]
        ).assign(is_active=True)
        self.portfolio.frames["scope_assignment"] = pd.DataFrame(
            grants, columns=["user_id", "site_id", "district_id", "region_id"]
        ).astype({"site_id": "Int64", "district_id": "Int64", "region_id": "Int64"})
        self.portfolio.frames["site"] = self.site
        self.account_manager_of = {
            s: am_user[am_id] for am_id, sites in am_sites.items() for s in sites
        }
        self.district_manager_of = dms

    # -- forecast history -------------------------------------------------------------------
    HISTORY_MONTHS = 12

    def _forecast_history(self) -> None:
        """Submitted forecasts of the last closed months, locked at each month's close, with
        the snapshot the accuracy report compares with the books: each line = the month's
        actual × (1 + the site's forecasting error), where a site has its own bias
        (± 1.5%) and spread (1–6%), and ~8% of site-months were never submitted."""
        rng, n = self.rng, self.n
        pnl_rows = self.portfolio["pnl_month"]
        actual = pnl_rows[pnl_rows["kind"] == "actual"]
        closed = sorted({(int(y), int(m)) for y, m in zip(actual.year, actual.month, strict=True)})
        closed = closed[-self.HISTORY_MONTHS :]
        bias = rng.normal(0, 0.015, n)
        spread = rng.uniform(0.01, 0.06, n)
        district_of = self.site["district_id"].to_numpy()
        hours = self.payroll_actual_hours
        code_site = self.site_job_code["site_id"].to_numpy()
        submissions, lines = [], []
        cost_lines = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
        for y, m in closed:
            month = actual[(actual.year == y) & (actual.month == m)].sort_values("site_id")
            sel = (self.days.year == y) & (self.days.month == m)
            labor = np.bincount(code_site - 1, weights=hours[:, sel].sum(axis=1), minlength=n)
            submitted = rng.random(n) >= 0.08
            deadline = pd.Timestamp(y, m, 1) - pd.Timedelta(days=1)
            while deadline.weekday() != 4:  # the last Friday of the month before
                deadline -= pd.Timedelta(days=1)
            # One error per site-month shared by every line (a forecast is high or low as a
            # whole) and a small one per line, so FLC's error is of the same order.
            common = np.exp(rng.normal(bias, spread))
            noise = {
                line: common * np.exp(rng.normal(0, 0.004, n))
                for line in ("external_revenue", "internal_revenue", *cost_lines)
            }
            for i, row in enumerate(month.itertuples(index=False)):
                if not submitted[i]:
                    continue
                site_id = int(row.site_id)
                submission_id = len(submissions) + 1
                dm = self.district_manager_of[int(district_of[site_id - 1])]
                at = deadline + pd.Timedelta(hours=int(rng.integers(9, 17)))
                submissions.append(
                    (
                        submission_id,
                        site_id,
                        y,
                        m,
                        "LOCKED",
                        self.account_manager_of.get(site_id, dm),
                        at,
                        dm,
                        at + pd.Timedelta(days=int(rng.integers(1, 4))),
                    )
                )
                values = {
                    line: round(float(getattr(row, line)) * float(noise[line][i]), 2)
                    for line in noise
                }
                values["flc"] = round(
                    values["internal_revenue"] - sum(values[c] for c in cost_lines), 2
                )
                values["occupied_rooms"] = round(
                    float(row.occupied_rooms) * float(noise["external_revenue"][i]), 2
                )
                values["labor_hours"] = round(
                    float(labor[site_id - 1]) * float(noise["payroll"][i]), 2
                )
                lines.extend((submission_id, at, line, v) for line, v in values.items())
        self.portfolio.frames["forecast_submission"] = pd.DataFrame(
            submissions,
            columns=[
                "id",
                "site_id",
                "year",
                "month",
                "status",
                "submitted_by_id",
                "submitted_at",
                "reviewed_by_id",
                "reviewed_at",
            ],
        ).assign(version=3)
        self.portfolio.frames["forecast_snapshot_line"] = pd.DataFrame(
            lines, columns=["submission_id", "taken_at", "line", "value"]
        )


def write_portfolio(engine, portfolio: Portfolio, password_hashes: Sequence[str]) -> dict[str, int]:
    """Load ``portfolio`` into an empty, migrated database; returns rows per table.

    The demo people get ``password_hashes`` in order (hashes of the printed demo password,
    each with its own salt: ``accounts.seed_password_hashes``).
    """
    from dashboard.data.bulk import insert_frame, reset_sequences
    from dashboard.data.models import Base

    counts = {}
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
    with engine.begin() as conn:
        for table, frame in portfolio.frames.items():
            if table == "app_user":
                if len(password_hashes) != len(frame):
                    raise ValueError(f"{len(frame)} people, {len(password_hashes)} hashes")
                frame = frame.assign(password_hash=list(password_hashes), created_at=now)
            if table == "scope_assignment":
                frame = frame.assign(created_at=now)
            counts[table] = insert_frame(conn, table, frame)
        reset_sequences(conn, Base.metadata)
    return counts
