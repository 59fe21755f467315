"""What each forecast day counts, rebuilt in the tests from the stored rows (not the service
code): a person's entry, else the stored proposal (counts at the month's forecast rates),
else the budget month's counts spread evenly at those rates — entry > proposal > budget."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from dashboard.data import statistics_repo
from dashboard.data.models import (
    JobCode,
    PayrollBudgetMonth,
    PayrollDay,
    SiteProposalState,
    SiteStatisticDay,
    StatisticProposalDay,
)
from dashboard.domain import statistics as st
from dashboard.domain.periods import days_in_month


def forecast_days(session, site_id: int, first: dt.date, last: dt.date) -> dict:
    """day -> (external revenue, occupied rooms, where it came from) for first..last."""
    months = sorted(
        {(first + dt.timedelta(days=i)).timetuple()[:2] for i in range((last - first).days + 1)}
    )
    budget = statistics_repo.budget_month_values(session, site_id, months)
    rates = statistics_repo.window_rates(session, site_id, months)
    entries = {
        r.day: (float(r.external_revenue), float(r.occupied_rooms), "entry")
        for r in session.scalars(
            select(SiteStatisticDay).where(
                SiteStatisticDay.site_id == site_id,
                SiteStatisticDay.kind == "forecast",
                SiteStatisticDay.day.between(first, last),
            )
        )
    }
    proposals = {
        r.day: r
        for r in session.scalars(
            select(StatisticProposalDay).where(
                StatisticProposalDay.site_id == site_id,
                StatisticProposalDay.day.between(first, last),
            )
        )
    }
    out = {}
    day = first
    while day <= last:
        ym = (day.year, day.month)
        n = days_in_month(*ym)
        month_rates = rates[ym]
        if day in entries:
            out[day] = entries[day]
        elif day in proposals:
            p = proposals[day]
            revenue = sum(
                getattr(p, count) * month_rates.get(category, 0.0)
                for count, category in st.REVENUE_CATEGORIES
            )
            out[day] = (revenue, p.occupied_rooms, "proposal")
        else:
            counts = budget.get(ym, {})
            revenue = sum(
                counts.get(count, 0.0) / n * month_rates.get(category, 0.0)
                for count, category in st.REVENUE_CATEGORIES
            )
            out[day] = (revenue, counts.get("occupied_rooms", 0.0) / n, "budget")
        day += dt.timedelta(days=1)
    return out


def drop_proposals(db, site_id: int) -> None:
    """The site has no stored proposal (as before its first proposal job)."""
    with db.write() as session:
        session.execute(delete(StatisticProposalDay).where(StatisticProposalDay.site_id == site_id))
        session.execute(delete(SiteProposalState).where(SiteProposalState.site_id == site_id))


def payroll_forecast_days(session, site_id: int, year: int, month: int) -> dict:
    """(day, job code id) -> (hours, cost) of the month's forecast as the P&L counts it: the
    saved forecast, else the schedule, else the code's budget month spread evenly — an hourly
    code's × F, F = (mean proposed labor hours per day × days − salaried budget hours) ÷
    hourly budget hours (≥ 0; 1 without a proposal)."""
    n = days_in_month(year, month)
    first, last = dt.date(year, month, 1), dt.date(year, month, n)
    budget = {
        r.job_code_id: (float(r.hours), float(r.cost))
        for r in session.scalars(
            select(PayrollBudgetMonth).where(
                PayrollBudgetMonth.site_id == site_id,
                PayrollBudgetMonth.year == year,
                PayrollBudgetMonth.month == month,
            )
        )
    }
    salaried = {
        c.id
        for c in session.scalars(select(JobCode).where(JobCode.id.in_(list(budget))))
        if c.is_salaried
    }
    proposed = [
        p.labor_hours
        for p in session.scalars(
            select(StatisticProposalDay).where(
                StatisticProposalDay.site_id == site_id,
                StatisticProposalDay.day.between(first, last),
            )
        )
    ]
    hourly_budget = sum(h for c, (h, _) in budget.items() if c not in salaried)
    salaried_budget = sum(h for c, (h, _) in budget.items() if c in salaried)
    factor = 1.0
    if proposed and hourly_budget > 0:
        factor = max(0.0, (sum(proposed) / len(proposed) * n - salaried_budget) / hourly_budget)
    stored = {
        (r.day, r.job_code_id, r.kind): (float(r.hours), float(r.cost))
        for r in session.scalars(
            select(PayrollDay).where(
                PayrollDay.site_id == site_id,
                PayrollDay.day.between(first, last),
                PayrollDay.kind.in_(("forecast", "scheduled")),
            )
        )
    }
    out = {}
    codes = set(budget) | {code for _d, code, _k in stored}
    for i in range(n):
        day = first + dt.timedelta(days=i)
        for code in codes:
            if (day, code, "forecast") in stored:
                out[(day, code)] = stored[(day, code, "forecast")]
            elif (day, code, "scheduled") in stored:
                out[(day, code)] = stored[(day, code, "scheduled")]
            else:
                hours, cost = budget.get(code, (0.0, 0.0))
                f = 1.0 if code in salaried else factor
                out[(day, code)] = (hours / n * f, cost / n * f)
    return out
