"""Master data of the demo portfolio (DOMAIN.md §12.1, §12.3): regions, districts and sites,
job groups and codes with each site's codes and wages, and the people with their scopes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo import profiles

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


def lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, size))


def _district_sizes(rng: np.random.Generator, n_sites: int, n_districts: int) -> np.ndarray:
    weights = lognormal(rng, 1.0, 0.75, n_districts)
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


@dataclass
class Organisation:
    """Regions, districts and sites; per site its market, its kind and climate
    (``profiles``: what drives its demand) and whether it has rooms."""

    region: pd.DataFrame
    district: pd.DataFrame
    site: pd.DataFrame
    market: np.ndarray
    kind: np.ndarray
    climate: np.ndarray
    is_hotel: np.ndarray


def build_organisation(rng: np.random.Generator, n: int, first_actual: dt.date) -> Organisation:
    """~45 districts (median ≈ 15 sites) in 3 regions, healthcare ("- HC") and parking-brand
    ("UPP") districts; rooms for the hotels (median ≈ 300), parking spaces (median ≈ 180)."""
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
    region = pd.DataFrame({"id": np.arange(1, len(REGIONS) + 1), "name": list(REGIONS)})
    district = pd.DataFrame(
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
    rooms = np.where(is_hotel, np.clip(np.round(lognormal(rng, 300, 0.85, n)), 40, 2900), 0).astype(
        int
    )
    spaces = np.clip(np.round(lognormal(rng, 180, 1.1, n)), 12, 3300).astype(int)
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
    start = np.array([first_actual - dt.timedelta(days=int(d)) for d in rng.integers(30, 3650, n)])
    rng.random(n)  # a draw of the former hotel style, kept so that a seed's sites stay the same
    kind = np.array(
        [
            profiles.kind_of(name, market, seg)
            for name, market, seg in zip(site_names, market_of_site, segment, strict=True)
        ]
    )
    climate = np.array([profiles.climate_of(m) for m in market_of_site])
    site = pd.DataFrame(
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
    return Organisation(region, district, site, np.array(market_of_site), kind, climate, is_hotel)


@dataclass
class Jobs:
    """Job groups and codes (site-agnostic) and each site's codes with headcount and wage."""

    job_group: pd.DataFrame
    job_code: pd.DataFrame
    site_job_code: pd.DataFrame


def build_jobs(rng: np.random.Generator, site: pd.DataFrame) -> Jobs:
    """3–8 hourly codes (the segment's core codes + a few optional ones) and 1–3 salaried
    codes per site; wages in the ranges of §12.3, many GSA wages near $10 (tipped); a site
    of fewer than 200 spaces carries part of its managers' salaries (at least a fifth)."""
    n = len(site)
    job_group = pd.DataFrame(
        {"id": np.arange(1, len(JOB_GROUPS) + 1), "title": list(JOB_GROUPS), "is_active": True}
    )
    group_id = {g: i + 1 for i, g in enumerate(JOB_GROUPS)}
    job_code = pd.DataFrame(
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
    segment = site["business_segment"].to_numpy()
    share_of_salary = np.clip(site["parking_spaces"].to_numpy() / 200.0, 0.2, 1.0)
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
                # A small site shares its managers with others: it carries part of a salary.
                allocated = float(np.round(salary * share_of_salary[i], -2))
                rows.append((i + 1, CODE_INDEX[code] + 1, 1, round(salary / 2080, 2), allocated))
            else:
                low, high = spec[4]
                # Many GSA wages sit near $10 (tipped).
                if code.startswith("GSA") and rng.random() < 0.4:
                    wage = rng.uniform(9.5, 10.5)
                else:
                    wage = rng.uniform(low, high)
                count = int(rng.integers(1, 4)) if spec[5] <= 8 else int(rng.integers(2, 12))
                rows.append((i + 1, CODE_INDEX[code] + 1, count, round(float(wage), 2), 0.0))
    site_job_code = pd.DataFrame(
        rows,
        columns=[
            "site_id",
            "job_code_id",
            "active_employee_count",
            "average_hourly_rate",
            "allocated_salary_cost",
        ],
    )
    return Jobs(job_group, job_code, site_job_code)


@dataclass
class People:
    """The demo people (``app_user``), their scopes, the printed demo sign-ins, and who is
    each site's account manager (user id per site id) and each district's manager."""

    app_user: pd.DataFrame
    scope_assignment: pd.DataFrame
    demo_accounts: dict[str, str]
    account_manager_of: dict[int, int]
    district_manager_of: dict[int, int]


def build_people(
    rng: np.random.Generator,
    region: pd.DataFrame,
    district: pd.DataFrame,
    site: pd.DataFrame,
    is_hotel: np.ndarray,
) -> People:
    """An administrator, two executives, a regional vice president per region, a district
    manager per district and account managers (70% with one site, 20% two, the rest 3–6;
    ~25% of sites have none). Names are role titles with numbers, never people's names."""
    users, grants = [], []

    def add_user(email, name, role):
        users.append((len(users) + 1, email, name, role))
        return len(users)

    admin = add_user("admin@example.com", "Forecast Administrator", "admin")
    executives = [add_user(f"exec{i}@example.com", f"Executive {i}", "executive") for i in (1, 2)]
    rvps = {}
    for region_id, region_name in zip(region["id"], region["name"], strict=True):
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
        sites = site.loc[site["district_id"] == did, "id"].to_numpy().copy()
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
        hotels = int(is_hotel[np.array(sites) - 1].sum())
        return (len(sites), hotels, -am_id)

    demo_am, demo_sites = max(am_sites.items(), key=demo_rank)
    demo_district = int(site.loc[demo_sites[0] - 1, "district_id"])
    demo_region = int(district.loc[district["id"] == demo_district, "region_id"].iloc[0])
    email_of = {u[0]: u[1] for u in users}
    demo_accounts = {
        "account_manager": email_of[am_user[demo_am]],
        "district_manager": email_of[dms[demo_district]],
        "regional_vp": email_of[rvps[demo_region]],
        "executive": email_of[executives[0]],
        "admin": email_of[admin],
    }
    app_user = pd.DataFrame(users, columns=["id", "email", "display_name", "role"]).assign(
        is_active=True
    )
    scope_assignment = pd.DataFrame(
        grants, columns=["user_id", "site_id", "district_id", "region_id"]
    ).astype({"site_id": "Int64", "district_id": "Int64", "region_id": "Int64"})
    account_manager_of = {s: am_user[am_id] for am_id, sites in am_sites.items() for s in sites}
    return People(app_user, scope_assignment, demo_accounts, account_manager_of, dms)
