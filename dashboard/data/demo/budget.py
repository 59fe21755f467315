"""Budgets of the demo world, made the way an operator makes them (DOMAIN.md §2.6, §12.4).

A budget year is made in November of the year before, from the last twelve closed months
(November two years back to October; fewer when today is earlier than that, then the
missing months come from a year further back):

* **volumes** = each month's actual of that window × (1 + planned growth) for every year
  between it and the budget year. The planned growth is the company's target for the year
  + the site's own bias (most sites plan optimistically, some cautiously; the same bias
  every year) + a little noise; rooms grow at half the plan;
* **misplaced seasonality**: the year's total is spread partly by the site's own months
  and partly by a corporate template (a generic hotel year, or an even spread by days for
  other sites) — most budgets lean on the template a little, some a lot — and every budget
  carries last year's one-off events and last year's Easter;
* **aggregator volume is under-budgeted**: a site that joined a platform in or after the
  window has none budgeted ($0/0, DOMAIN.md §3.1); the others budget the window's volume,
  not the platform's growth, at the window's collected rate;
* **monthly passes** at the window's mean count; **rates** at the posted rates of the
  budget year (collections run a little below them);
* **labor hours** per job code = the window's hours × (1 + planned growth × the code's
  elasticity) × a productivity target; the cost at today's wage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.master import JOB_CODES, Organisation
from dashboard.data.demo.operations import RATE_CATEGORIES, Payroll, World
from dashboard.data.demo.profiles import LEISURE, SUMMER, season_levels
from dashboard.domain import statistics
from dashboard.domain.periods import add_months, days_in_month, last_closed_month

GROWN_FIELDS = (
    "occupied_rooms",
    "valet_daily",
    "self_daily",
    "valet_overnight",
    "self_overnight",
    "valet_comps",
    "self_comps",
)
PASS_FIELDS = ("valet_monthly", "self_monthly")
AGGREGATOR_FIELDS = ("valet_aggregator", "self_aggregator")
BUDGET_OCCUPANCY_CAP = 0.98  # no budget sells every room every night


# --- Formulas -----------------------------------------------------------------------------------


def base_months(budget_year: int, last_closed: tuple[int, int]) -> list[tuple[int, int]]:
    """The month of the budget's window that each calendar month (January first) is taken
    from: the twelve months ending October of the year before, or the last closed month when
    that is earlier."""
    end = min((budget_year - 1, 10), last_closed)
    window = [add_months(end[0], end[1], -k) for k in range(12)]
    return sorted(window, key=lambda ym: ym[1])


def grown(base: np.ndarray, base_years, budget_year: int, growth: np.ndarray) -> np.ndarray:
    """``base`` (sites × 12) × (1 + growth) for every year between its month and the
    budget year."""
    years = budget_year - np.asarray(base_years, dtype=float)
    return base * (1.0 + np.asarray(growth, dtype=float)[:, None]) ** years[None, :]


def respread(totals: np.ndarray, template: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The year's total of each site (row) spread by its own month shares blended with the
    ``template`` shares: (1 − weight) × own + weight × template. The total is kept."""
    annual = totals.sum(axis=1, keepdims=True)
    own = np.divide(totals, annual, out=np.zeros_like(totals), where=annual > 0)
    template = np.broadcast_to(template, totals.shape)
    w = np.asarray(weight, dtype=float)[:, None]
    return annual * ((1.0 - w) * own + w * template)


def template_shares(year: int, hotel: bool) -> np.ndarray:
    """The corporate template's month shares: a generic hotel year (summer busier) for hotels,
    an even spread by days for other sites."""
    days = np.array([days_in_month(year, m) for m in range(1, 13)], dtype=float)
    levels = season_levels(LEISURE, SUMMER) if hotel else np.ones(12)
    weights = days * levels
    return weights / weights.sum()


# --- The budget tables --------------------------------------------------------------------------


@dataclass
class Budget:
    """The statistics, rates and payroll budgets of the budget years; per budget year the
    planned growth (per site) and the monthly arrays the ledger reads, sites × 12
    (``external_revenue``, ``occupied_rooms``) and site job codes × 12 (``code_hours``,
    ``code_cost``)."""

    growth: dict[int, np.ndarray]
    external_revenue: dict[int, np.ndarray]
    occupied_rooms: dict[int, np.ndarray]
    code_hours: dict[int, np.ndarray]
    code_cost: dict[int, np.ndarray]
    statistic_budget_month: pd.DataFrame
    budget_rate_rows: pd.DataFrame
    payroll_budget_month: pd.DataFrame


def build_budget(
    rng: np.random.Generator,
    org: Organisation,
    site_job_code: pd.DataFrame,
    world: World,
    payroll: Payroll,
) -> Budget:
    """The budgets of last, this and next year (see the module)."""
    calendar = world.calendar
    n = len(org.site)
    years = calendar.budget_years
    closed = last_closed_month(calendar.today)
    # Planned growth: the company's target for the year + the site's lasting bias + noise.
    target = {y: rng.uniform(0.02, 0.05) for y in years}
    bias = rng.normal(0.015, 0.04, n)
    growth = {y: target[y] + bias + rng.normal(0, 0.02, n) for y in years}
    leaning = rng.random(n) < 0.4
    weight = np.where(leaning, rng.uniform(0.2, 0.5, n), rng.uniform(0.0, 0.15, n))
    productivity = rng.uniform(0.97, 1.0, n)
    agg_growth = rng.uniform(0.0, 0.05, n)

    monthly = {f: world.monthly(np.asarray(world.actual[f], float)) for f in world.actual}
    code_hours = world.monthly(payroll.hours)
    site_idx = site_job_code["site_id"].to_numpy() - 1
    elasticity = np.array([JOB_CODES[c - 1][6] for c in site_job_code["job_code_id"]])
    rooms = org.site["total_rooms"].to_numpy().astype(float)
    site_ids = np.arange(1, n + 1)

    stat_rows, rate_rows, pay_rows = [], [], []
    out_ext, out_rooms, out_hours, out_cost = {}, {}, {}, {}
    for y in years:
        window = base_months(y, closed)
        cols = [world.month_index(*ym) for ym in window]
        base_years = [ym[0] for ym in window]
        g = growth[y]
        template = np.where(
            org.is_hotel[:, None], template_shares(y, True), template_shares(y, False)
        )
        dim = np.array([days_in_month(y, m) for m in range(1, 13)], dtype=float)
        counts = {}
        for f in GROWN_FIELDS:
            made = grown(monthly[f][:, cols], base_years, y, g / 2 if f == "occupied_rooms" else g)
            counts[f] = respread(made, template, weight)
        counts["occupied_rooms"] = np.minimum(
            counts["occupied_rooms"], BUDGET_OCCUPANCY_CAP * rooms[:, None] * dim[None, :]
        )
        for f in PASS_FIELDS:
            counts[f] = np.repeat(np.round(monthly[f][:, cols].mean(axis=1))[:, None], 12, axis=1)
        # Aggregators: none where the platform is newer than the window, else the window's
        # volume (not the platform's growth) at the window's collected rate.
        known = world.agg_start <= world.day_index(dt.date(*min(window), 1))
        agg_rate = {}
        for f in AGGREGATOR_FIELDS:
            volume = monthly[f][:, cols]
            total = volume.sum(axis=1)
            revenue = (volume * world.actual_rate[f][:, cols]).sum(axis=1)
            budgeted = known & (total > 0)
            counts[f] = np.where(budgeted[:, None], volume * (1 + agg_growth[:, None]), 0.0)
            agg_rate[f] = np.where(
                budgeted, np.round(revenue / np.where(total > 0, total, 1), 2), 0.0
            )
        counts = {f: np.round(v, 2) for f, v in counts.items()}
        ext = np.zeros((n, 12))
        for j in range(12):
            m = j + 1
            k = world.month_index(y, m)
            rates = {c: world.list_rate[c][:, k] for c in RATE_CATEGORIES} | agg_rate
            row = {"site_id": site_ids, "year": y, "month": m}
            row |= {f: v[:, j] for f, v in counts.items()}
            ext[:, j] = np.round(statistics.external_revenue(row, rates), 2)
            row["external_revenue"] = ext[:, j]
            stat_rows.append(pd.DataFrame(row))
            rate_rows += [
                pd.DataFrame(
                    {
                        "site_id": site_ids,
                        "year": y,
                        "month": m,
                        "category": c,
                        "kind": "budget",
                        "rate": rates[c],
                    }
                )
                for c in RATE_CATEGORIES
            ]
        out_ext[y], out_rooms[y] = ext, counts["occupied_rooms"]

        # Labor: the window's hours × (1 + planned growth × elasticity) × productivity.
        hours = code_hours[:, cols] * (
            (1 + g[site_idx, None] * elasticity[:, None]) * productivity[site_idx, None]
        )
        daily_salaried = payroll.expected_hours[:, world.day_index(dt.date(y, 1, 1))]
        hours = np.where(payroll.salaried[:, None], daily_salaried[:, None] * dim, hours)
        hours = np.round(hours, 2)
        cost = np.where(
            payroll.salaried[:, None],
            payroll.salary_per_day[:, None] * dim,
            hours * payroll.rate[:, None],
        )
        cost = np.round(cost, 2)
        out_hours[y], out_cost[y] = hours, cost
        pay_rows += [
            pd.DataFrame(
                {
                    "site_id": site_job_code["site_id"].to_numpy(),
                    "year": y,
                    "month": j + 1,
                    "job_code_id": site_job_code["job_code_id"].to_numpy(),
                    "hours": hours[:, j],
                    "cost": cost[:, j],
                }
            )
            for j in range(12)
        ]
    return Budget(
        growth=growth,
        external_revenue=out_ext,
        occupied_rooms=out_rooms,
        code_hours=out_hours,
        code_cost=out_cost,
        statistic_budget_month=pd.concat(stat_rows, ignore_index=True),
        budget_rate_rows=pd.concat(rate_rows, ignore_index=True),
        payroll_budget_month=pd.concat(pay_rows, ignore_index=True),
    )
