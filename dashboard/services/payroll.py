"""Payroll of one site and month: what the Payroll tab shows, and saving forecast hours.

Loading gathers the site's job codes (with group, rate, active employees, salary and PLH
billing rates), the month's budget, schedule, actuals and saved forecast per code and day
(plus the days of the first overtime week that fall in the previous month). Saving runs inside
the workspace's save transaction (``workspace_save.save_forecast_inputs``): every value is
validated again here, group hours are split to codes and priced by the domain rules
(``dashboard/domain/payroll.py``), each code row's version is checked, and overtime and
billable revenue of the touched overtime weeks are recomputed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from dashboard.data import pnl_inputs
from dashboard.data import statistics_repo as repo
from dashboard.data.models import (
    JobCode,
    JobGroup,
    PayrollBudgetMonth,
    PayrollDay,
    PayrollHeader,
    PlhJobRate,
    PnlMonth,
    Site,
    SiteJobCode,
    User,
)
from dashboard.domain import payroll as pr
from dashboard.domain import statistics as st
from dashboard.domain.periods import days_in_month
from dashboard.domain.statistics import parse_number
from dashboard.services import audit, month_locks, versioned
from dashboard.services.save_results import Conflict, Problem
from dashboard.services.scope import Principal, require_view

FLAVOURS = ("forecast", "budget", "scheduled", "actual")
MODES = (pr.GROUP_MODE, pr.CODE_MODE)


@dataclass(frozen=True)
class PayrollEdit:
    """Forecast hours typed for one day of a job group (Group mode) or job code (Code mode).

    ``versions`` maps each affected job code id to the version of its saved forecast row the
    person saw (0 = none saved)."""

    day: dt.date
    level: str  # "group" | "code"
    target_id: int
    hours: object
    versions: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeInfo:
    id: int
    code: str
    title: str
    group_id: int | None
    group: str | None
    salaried: bool
    active_employee_count: int
    average_hourly_rate: float
    allocated_salary_cost: float
    bill_rate: float | None
    overtime_rate: float | None


def site_codes(session: Session, site_id: int, on: dt.date) -> list[CodeInfo]:
    """The site's active job codes, with group, rates and the PLH billing rates valid ``on``."""
    rows = session.execute(
        select(
            JobCode.id,
            JobCode.code,
            JobCode.title,
            JobCode.job_group_id,
            JobGroup.title,
            JobGroup.is_active,
            JobCode.is_salaried,
            SiteJobCode.active_employee_count,
            SiteJobCode.average_hourly_rate,
            SiteJobCode.allocated_salary_cost,
        )
        .join(SiteJobCode, SiteJobCode.job_code_id == JobCode.id)
        .outerjoin(JobGroup, JobGroup.id == JobCode.job_group_id)
        .where(SiteJobCode.site_id == site_id, JobCode.is_active.is_(True))
        .order_by(JobCode.code)
    ).all()
    billing = {
        r.job_code_id: (float(r.rate), float(r.overtime_rate))
        for r in session.scalars(
            select(PlhJobRate).where(
                PlhJobRate.site_id == site_id,
                PlhJobRate.start_date <= on,
                or_(PlhJobRate.end_date.is_(None), PlhJobRate.end_date >= on),
            )
        )
    }
    return [
        CodeInfo(
            id=r[0],
            code=r[1],
            title=r[2],
            group_id=r[3] if r[5] else None,  # a code in an inactive group is unassigned
            group=r[4] if r[5] else None,
            salaried=bool(r[6]),
            active_employee_count=int(r[7] or 0),
            average_hourly_rate=float(r[8] or 0.0),
            allocated_salary_cost=float(r[9] or 0.0),
            bill_rate=billing.get(r[0], (None, None))[0],
            overtime_rate=billing.get(r[0], (None, None))[1],
        )
        for r in rows
    ]


def stored_mode(session: Session, site: Site, edits) -> str:
    """The Group/Code mode stored for the month of the first edit (or the site's default)."""
    if not edits:
        return pr.default_forecast_mode(site.contract_types)
    day = min(e.day for e in edits)
    header = session.scalar(
        select(PayrollHeader.forecast_mode).where(
            PayrollHeader.site_id == site.id,
            PayrollHeader.year == day.year,
            PayrollHeader.month == day.month,
        )
    )
    return header or pr.default_forecast_mode(site.contract_types)


def month_days(year: int, month: int) -> list[dt.date]:
    return [dt.date(year, month, d) for d in range(1, days_in_month(year, month) + 1)]


def load_month(
    session: Session, principal: Principal, site_id: int, year: int, month: int, today: dt.date
) -> dict:
    """Everything the Payroll tab shows for a site-month, JSON-ready.

    ``cells`` maps "YYYY-MM-DD|<code id>" to the day's values per flavour: ``b``/``bc``
    budget hours/cost, ``s``/``sc`` scheduled, ``a``/``ac`` actual, ``f``/``fc``/``fr``
    forecast hours/cost/revenue, ``v`` the saved forecast version (0 = nobody saved the cell:
    its forecast is the schedule where there is one, else the budget scaled to the month's
    proposed labor hours, ``pnl_inputs.labor_factors``). ``lead`` holds hours of the previous month's days of the first overtime
    week (actual where loaded, else forecast) so overtime at the month edge is right.
    """
    require_view(session, principal, site_id, today)
    # The save's own rules (role, scope, the month's submission state): None when the
    # person may change this month.
    lock = month_locks.month_edit_blocks(session, principal, site_id, [(year, month)], today)[
        (year, month)
    ]
    may_edit = lock is None
    site = session.get(Site, site_id)
    days = month_days(year, month)
    first, last = days[0], days[-1]
    lead_start = pr.overtime_week_start(first)
    codes = site_codes(session, site_id, first)
    default_mode = pr.default_forecast_mode(site.contract_types)
    header = session.scalar(
        select(PayrollHeader).where(
            PayrollHeader.site_id == site_id,
            PayrollHeader.year == year,
            PayrollHeader.month == month,
        )
    )
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
    stored = session.execute(
        select(
            PayrollDay.day,
            PayrollDay.job_code_id,
            PayrollDay.kind,
            PayrollDay.hours,
            PayrollDay.cost,
            PayrollDay.revenue,
            PayrollDay.version,
        ).where(
            PayrollDay.site_id == site_id,
            PayrollDay.day >= lead_start,
            PayrollDay.day <= last,
        )
    ).all()
    factors = pnl_inputs.labor_factors(session, [site_id], [(year, month)])["labor_factor"]
    factor = float(factors.iloc[0]) if len(factors) and pd.notna(factors.iloc[0]) else 1.0
    cells: dict[str, dict] = {}
    lead: dict[str, float] = {}
    lead_actual: set[str] = set()
    n_days = len(days)
    by_code = {c.id: c for c in codes}
    for day in days:
        for code in codes:
            cell = cells.setdefault(f"{day.isoformat()}|{code.id}", {"v": 0})
            if code.salaried:
                hours, cost = pr.salaried_forecast_day(
                    code.active_employee_count, code.allocated_salary_cost
                )
                cell.update(b=hours, bc=cost, f=hours, fc=cost, fr=0.0)
                continue
            month_hours, month_cost = budget.get(code.id, (0.0, 0.0))
            hours, cost = pr.budget_day(month_hours, month_cost, n_days)
            # Nobody saved it: the budget scaled to the month's proposed labor hours.
            cell.update(b=hours, bc=cost, f=hours * factor, fc=cost * factor, fr=0.0)
    for day, code_id, kind, hours, cost, revenue, version in stored:
        if code_id not in by_code:
            continue
        key = f"{day.isoformat()}|{code_id}"
        if day < first:
            if kind == "actual" or (kind == "forecast" and key not in lead_actual):
                lead[key] = float(hours)
                if kind == "actual":
                    lead_actual.add(key)
            continue
        cell = cells[key]
        if kind == "scheduled":
            cell.update(s=float(hours), sc=float(cost))
        elif kind == "actual":
            cell.update(a=float(hours), ac=float(cost))
        elif kind == "forecast" and not by_code[code_id].salaried:
            cell.update(f=float(hours), fc=float(cost), fr=float(revenue), v=int(version))
    for key, cell in cells.items():  # a schedule wins over the budget where nobody saved
        if "s" in cell and not cell["v"] and not by_code[int(key.split("|")[1])].salaried:
            cell.update(f=cell["s"], fc=cell["sc"])
    groups: dict[int, dict] = {}
    for code in codes:
        if code.group_id is not None:
            group = groups.setdefault(
                code.group_id, {"id": code.group_id, "title": code.group, "code_ids": []}
            )
            group["code_ids"].append(code.id)
    return {
        "site_id": site_id,
        "site_number": site.site_number,
        "vehicles": _vehicles_per_day(session, site, days),
        "budget_internal_revenue": float(
            session.scalar(
                select(PnlMonth.internal_revenue).where(
                    PnlMonth.site_id == site_id,
                    PnlMonth.kind == "budget",
                    PnlMonth.year == year,
                    PnlMonth.month == month,
                )
            )
            or 0.0
        ),
        "year": year,
        "month": month,
        "plh": "PerLaborHour" in site.contract_flags,
        "default_mode": default_mode,
        "mode": header.forecast_mode if header else default_mode,
        "mode_version": int(header.version) if header else 0,
        "codes": [c.__dict__ for c in codes],
        "groups": sorted(groups.values(), key=lambda g: g["title"]),
        "unassigned": [c.id for c in codes if c.group_id is None],
        "days": [d.isoformat() for d in days],
        "may_edit": may_edit,
        "lock_reason": lock,
        "editable": {d.isoformat(): may_edit and d > today for d in days},
        "cells": cells,
        "lead": lead,
    }


def _vehicles_per_day(session: Session, site: Site, days: list[dt.date]) -> dict[str, float]:
    """Vehicles per day for vehicles-per-labor-hour: actual for loaded days, else the saved
    statistics forecast, else the budget spread (the statistics tab's own rules)."""
    first, last = days[0], days[-1]
    budget_month = repo.budget_months(session, site.id, [(first.year, first.month)])
    month = budget_month.get((first.year, first.month))
    spread = st.spread_budget_month(
        {c: getattr(month, c, 0.0) for c in repo.STAT_COLUMNS} if month else {},
        len(days),
        site.total_rooms,
    )
    vehicles = {d.isoformat(): sum(spread.get(f, 0.0) for f in st.COUNT_INPUTS) for d in days}
    for kind in ("forecast", "actual"):  # actual wins where both exist
        frame = repo.statistic_days(session, site.id, kind, first, last)
        for row in frame.itertuples():
            vehicles[row.day.isoformat()] = float(sum(getattr(row, f) for f in st.COUNT_INPUTS))
    return vehicles


# --- computing what the grid shows (shared by the callbacks and the save) -----------------


def code_rates(codes: list[dict]) -> list[pr.SiteCodeRate]:
    return [pr.SiteCodeRate(c["active_employee_count"], c["average_hourly_rate"]) for c in codes]


def editable_codes(payload: dict, group_id: int) -> list[dict]:
    """Hourly codes of a group: the ones group hours are split over (salaried are derived)."""
    ids = next(g["code_ids"] for g in payload["groups"] if g["id"] == group_id)
    return [c for c in payload["codes"] if c["id"] in ids and not c["salaried"]]


def code_hours_with_edits(payload: dict, edits: dict) -> dict[str, float]:
    """Forecast hours per "day|code id" for the month with unsaved edits applied (group edits
    split to their hourly codes by active employees)."""
    hours = {key: cell["f"] for key, cell in payload["cells"].items()}
    for key, value in edits.items():
        day, target = key.split("|")
        if target.startswith("g"):
            members = editable_codes(payload, int(target[1:]))
            split = pr.split_group_hours(value, code_rates(members))
            for code, part in zip(members, split, strict=True):
                hours[f"{day}|{code['id']}"] = part
        else:
            hours[f"{day}|{target[1:]}"] = value
    return hours


def plh_revenue_and_overtime(
    payload: dict, hours: dict[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Billable revenue and overtime hours per "day|code id" for the month: 40 h per code per
    Saturday–Friday week at the regular rate, the rest at the overtime rate (§5.3)."""
    revenue: dict[str, float] = {}
    overtime: dict[str, float] = {}
    for code in payload["codes"]:
        daily: dict[dt.date, float] = {}
        for key, value in payload["lead"].items():
            day, code_id = key.split("|")
            if int(code_id) == code["id"]:
                daily[dt.date.fromisoformat(day)] = value
        for day in payload["days"]:
            daily[dt.date.fromisoformat(day)] = hours.get(f"{day}|{code['id']}", 0.0)
        split = pr.split_regular_overtime(daily)
        for day in payload["days"]:
            regular, ot = split[dt.date.fromisoformat(day)]
            key = f"{day}|{code['id']}"
            overtime[key] = ot
            revenue[key] = (
                pr.plh_revenue(regular, ot, code["bill_rate"], code["overtime_rate"])
                if payload["plh"] and not code["salaried"]
                else 0.0
            )
    return revenue, overtime


def code_cost(payload: dict, mode: str, hours: dict[str, float]) -> dict[str, float]:
    """Forecast cost per "day|code id": Group mode prices a group's day at the group rate
    (shared over its codes), Code mode each code at its own rate; salaried are derived."""
    cost: dict[str, float] = {}
    codes = {c["id"]: c for c in payload["codes"]}
    grouped: set[int] = set()
    if mode == pr.GROUP_MODE:
        for group in payload["groups"]:
            members = editable_codes(payload, group["id"])
            if not members:
                continue
            grouped.update(c["id"] for c in members)
            for day in payload["days"]:
                total = sum(hours.get(f"{day}|{c['id']}", 0.0) for c in members)
                # Hours as split by active employees, costed at the group rate.
                for code, (_, part_cost) in zip(
                    members, pr.group_day(total, code_rates(members)), strict=True
                ):
                    cost[f"{day}|{code['id']}"] = part_cost
    for key, value in hours.items():
        code = codes[int(key.split("|")[1])]
        if code["salaried"]:
            cost[key] = payload["cells"][key]["fc"]
        elif code["id"] not in grouped:
            cost[key] = round(pr.cost_for_hours(value, code["average_hourly_rate"]), 2)
    return cost


def row_rate(payload: dict, level: str, target_id: int) -> float:
    """The hourly rate that converts dollars typed into a cell to hours."""
    if level == "group":
        return pr.group_hourly_rate(code_rates(editable_codes(payload, target_id)))
    code = next(c for c in payload["codes"] if c["id"] == target_id)
    return pr.effective_hourly_rate(code["average_hourly_rate"])


# --- saving ---------------------------------------------------------------------------


def validate_edits(
    session: Session,
    site_id: int,
    edits: list[PayrollEdit],
    mode: str,
    today: dt.date,
) -> tuple[list[Problem], list[tuple[PayrollEdit, float]]]:
    """Every refused payroll edit, and the accepted ones as (edit, hours)."""
    problems: list[Problem] = []
    clean: list[tuple[PayrollEdit, float]] = []
    if not edits:
        return problems, clean
    codes = {c.id: c for c in site_codes(session, site_id, min(e.day for e in edits))}
    groups = {c.group_id for c in codes.values() if c.group_id is not None}
    for edit in edits:
        key = edit.day.isoformat()
        label = f"{edit.level} {edit.target_id}"
        value = parse_number(edit.hours)
        message = pr.validate_hours(value)
        known = edit.target_id in (groups if edit.level == "group" else codes)
        if message is None and not known:
            message = "This job group or code is not used at this site."
        if message is None:
            salaried = edit.level == "code" and codes[edit.target_id].salaried
            message = pr.payroll_edit_block_reason(edit.day, today, mode, edit.level, salaried)
        hourly = [c for c in codes.values() if c.group_id == edit.target_id and not c.salaried]
        if message is None and edit.level == "group" and not hourly:
            message = "This group has no hourly job codes to forecast."
        if message:
            problems.append(Problem(key, label, message))
        else:
            clean.append((edit, round(value, 2)))
    return problems, clean


def save_edits(
    session: Session,
    principal: Principal,
    site_id: int,
    clean: list[tuple[PayrollEdit, float]],
    mode: str | None,
    mode_version: int,
    now: dt.datetime,
    today: dt.date,
    conflicts: list[Conflict],
) -> int:
    """Write accepted payroll edits (and the forecast mode) of one site; returns cells saved.

    Version mismatches are appended to ``conflicts``; the caller rolls the transaction back
    when there are any."""
    months = sorted({(e.day.year, e.day.month) for e, _ in clean})
    count = 0
    if mode is not None:
        year_month = months[0] if months else None
        if year_month is not None:
            count += _save_mode(
                session,
                principal,
                site_id,
                *year_month,
                mode,
                mode_version,
                now,
                conflicts,
            )
    for year, month in months:
        payload = load_month(session, principal, site_id, year, month, today)
        month_edits = {}
        versions: dict[str, int] = {}
        for edit, hours in clean:
            if (edit.day.year, edit.day.month) != (year, month):
                continue
            prefix = "g" if edit.level == "group" else "c"
            month_edits[f"{edit.day.isoformat()}|{prefix}{edit.target_id}"] = hours
            for code_id, version in edit.versions.items():
                versions[f"{edit.day.isoformat()}|{int(code_id)}"] = int(version)
        effective_mode = mode or payload["mode"]
        hours = code_hours_with_edits(payload, month_edits)
        cost = code_cost(payload, effective_mode, hours)
        revenue, overtime = plh_revenue_and_overtime(payload, hours)
        touched = touched_keys(payload, month_edits)
        saved_rows = _forecast_rows(session, site_id, payload["days"])
        for key in sorted(touched):
            day_text, code_id = key.split("|")
            row = saved_rows.get(key)
            seen = versions.get(key, payload["cells"][key]["v"])
            current = int(row.version) if row else 0
            if seen != current:
                conflicts.append(
                    Conflict(
                        day_text,
                        f"job code {code_id} hours",
                        hours[key],
                        float(row.hours) if row else None,
                        _name(session, row.updated_by_id) if row else None,
                    )
                )
                continue
            values = {
                "hours": hours[key],
                "overtime_hours": round(overtime[key], 2),
                "cost": cost[key],
                "revenue": round(revenue[key], 2),
            }
            old = payload["cells"][key]
            written = versioned.write(
                session,
                PayrollDay,
                None if row is None else row.id,
                current,
                values,
                user_id=principal.user_id,
                now=now,
                keys={
                    "site_id": site_id,
                    "day": dt.date.fromisoformat(day_text),
                    "job_code_id": int(code_id),
                },
            )
            if not written:
                conflicts.append(
                    Conflict(day_text, f"job code {code_id} hours", hours[key], None, None)
                )
                continue
            for name, short in (("hours", "f"), ("cost", "fc")):
                if row is None or abs(old[short] - values[name]) > 1e-9:
                    audit.record(
                        session,
                        user_id=principal.user_id,
                        site_id=site_id,
                        action="update" if row else "insert",
                        entity="payroll_day",
                        record_key=key,
                        field=name,
                        old_value=old[short],
                        new_value=values[name],
                    )
        count += len(month_edits)
        session.flush()
        _refresh_derived(session, site_id, payload, hours, revenue, overtime, touched)
    return count


def touched_keys(payload: dict, month_edits: dict) -> set[str]:
    keys = set()
    for key in month_edits:
        day, target = key.split("|")
        if target.startswith("g"):
            keys.update(f"{day}|{c['id']}" for c in editable_codes(payload, int(target[1:])))
        else:
            keys.add(f"{day}|{target[1:]}")
    return keys


def _refresh_derived(session, site_id, payload, hours, revenue, overtime, touched) -> None:
    """Overtime and billable revenue of the month's other saved days follow the new hours
    (derived values: the rows' versions stay, nobody's edit is overtaken)."""
    for key, row in _forecast_rows(session, site_id, payload["days"]).items():
        if key in touched:
            continue
        new_ot, new_revenue = round(overtime[key], 2), round(revenue[key], 2)
        if (
            abs(float(row.overtime_hours) - new_ot) > 0.004
            or abs(float(row.revenue) - new_revenue) > 0.004
        ):
            session.execute(
                update(PayrollDay)
                .where(PayrollDay.id == row.id)
                .values(overtime_hours=new_ot, revenue=new_revenue)
                .execution_options(synchronize_session=False)
            )


def _forecast_rows(session, site_id, days: list[str]) -> dict:
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    rows = session.execute(
        select(
            PayrollDay.id,
            PayrollDay.day,
            PayrollDay.job_code_id,
            PayrollDay.hours,
            PayrollDay.overtime_hours,
            PayrollDay.revenue,
            PayrollDay.version,
            PayrollDay.updated_by_id,
        ).where(
            and_(
                PayrollDay.site_id == site_id,
                PayrollDay.kind == "forecast",
                PayrollDay.day >= first,
                PayrollDay.day <= last,
            )
        )
    ).all()
    return {f"{r.day.isoformat()}|{r.job_code_id}": r for r in rows}


def _save_mode(session, principal, site_id, year, month, mode, seen_version, now, conflicts) -> int:
    if mode not in (pr.GROUP_MODE, pr.CODE_MODE):
        return 0
    header = session.scalar(
        select(PayrollHeader).where(
            PayrollHeader.site_id == site_id,
            PayrollHeader.year == year,
            PayrollHeader.month == month,
        )
    )
    if header is not None and header.forecast_mode == mode:
        return 0
    if (int(header.version) if header else 0) != int(seen_version):
        conflicts.append(
            Conflict(f"{year}-{month:02d}", "forecast mode", mode, header.forecast_mode, None)
        )
        return 0
    old = header.forecast_mode if header else None
    if header is None:
        session.add(
            PayrollHeader(
                site_id=site_id,
                year=year,
                month=month,
                forecast_mode=mode,
                version=1,
                updated_at=now,
                updated_by_id=principal.user_id,
            )
        )
    else:
        header.forecast_mode = mode
        header.version = int(header.version) + 1
        header.updated_at = now
        header.updated_by_id = principal.user_id
    audit.record(
        session,
        user_id=principal.user_id,
        site_id=site_id,
        action="update" if header else "insert",
        entity="payroll_header",
        record_key=f"{year}-{month:02d}",
        field="forecast_mode",
        old_value=old,
        new_value=mode,
    )
    session.flush()
    return 1


def _name(session, user_id) -> str | None:
    return session.scalar(select(User.display_name).where(User.id == user_id)) if user_id else None


def month_summary(payload: dict, edits: dict, week: list[str] | None = None) -> dict:
    """Totals of the forecast (with edits) and budget for the month or for the given days:
    hours, cost, revenue, overtime hours and the overtime share."""
    hours = code_hours_with_edits(payload, edits)
    cost = code_cost(payload, payload["mode"], hours)
    revenue, overtime = plh_revenue_and_overtime(payload, hours)
    days = set(week or payload["days"])
    totals = defaultdict(float)
    for key, value in hours.items():
        if key.split("|")[0] not in days:
            continue
        cell = payload["cells"][key]
        totals["hours"] += value
        totals["cost"] += cost[key]
        totals["revenue"] += revenue[key]
        totals["overtime_hours"] += overtime[key]
        totals["budget_hours"] += cell["b"]
        totals["budget_cost"] += cell["bc"]
    totals["overtime_pct"] = pr.overtime_pct(totals["overtime_hours"], totals["hours"])
    return dict(totals)
