"""The district roll-up (one row per site: submission status, forecast vs budget, flags,
waiting time), the regional overview of late work, and each person's inbox (§8.2, §8.3)."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict

import numpy as np
from sqlalchemy import and_, bindparam, func, not_, select
from sqlalchemy.orm import Session, aliased

from dashboard.data import figures as figures_repo
from dashboard.data import pnl_inputs
from dashboard.data.models import (
    District,
    ForecastSubmission,
    Region,
    ScopeAssignment,
    Site,
    SiteMonthFigure,
    User,
    VarianceExplanation,
)
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import submission as sm
from dashboard.services import pnl as pnl_service
from dashboard.services import submissions
from dashboard.services.scope import (
    Principal,
    ScopeError,
    bound_visible_sites,
    scope_params,
    visible_site_ids,
    visible_sites,
)

LINES = submissions.SUMMARY_LINES
_BUDGET_KEYS = [f"{line}_budget" for line in LINES]
_VAR_KEYS = [f"{line}_var" for line in LINES]
_PCT_KEYS = [f"{line}_pct" for line in LINES]


def forecast_month(today: dt.date) -> tuple[int, int]:
    """The month being forecast for submission: next month."""
    return (today.year + (today.month == 12), today.month % 12 + 1)


def districts_in_scope(session: Session, principal: Principal, today: dt.date) -> list[dict]:
    """Districts with at least one site the person may see, with their region."""
    visible = visible_site_ids(session, principal, today)
    if not visible:
        return []
    rows = session.execute(
        select(District.id, District.name, Region.id, Region.name)
        .join(Region, Region.id == District.region_id)
        .where(District.id.in_(select(Site.district_id).where(Site.id.in_(visible))))
        .order_by(Region.name, District.name)
    ).all()
    return [
        {"id": d, "name": name, "region_id": r, "region": region} for d, name, r, region in rows
    ]


_SEPARATOR = "\x1f"  # joins names and lines in SQL: no display name or line holds it


def _account_managers_of(site_id):
    """The active account managers assigned to the site, joined in SQL (a correlated
    subquery of the roll-up's statement)."""
    return (
        select(func.aggregate_strings(User.display_name, _SEPARATOR))
        .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
        .where(
            ScopeAssignment.site_id == site_id,
            User.role == "account_manager",
            User.is_active.is_(True),
        )
        .scalar_subquery()
    )


def _explained_lines_of(site_id, year, month):
    """The lines of the site-month with a (non-blank) explanation, joined in SQL."""
    v = VarianceExplanation
    return (
        select(func.aggregate_strings(v.line, _SEPARATOR))
        .where(
            v.site_id == site_id,
            v.year == year,
            v.month == month,
            func.trim(func.coalesce(v.text, "")) != "",
        )
        .scalar_subquery()
    )


_THRESHOLDS = 11  # where the thresholds (pct, amount) are in a roll-up row
_FIGURES = 13  # where the stored forecast (then budget) lines begin


@functools.cache
def _rollup_statement(role: str):
    """The roll-up's statement for a role, built once: the district, month and person are
    bound parameters (building it took longer than running it)."""
    f = ForecastSubmission
    editor = aliased(User)
    year, month = bindparam("year"), bindparam("month")
    stored = {name: aliased(SiteMonthFigure) for name in ("forecast", "budget")}
    query = select(
        Site.id,
        Site.site_number,
        Site.name,
        District.name,
        f.status,
        f.version,
        f.last_edit_at,
        editor.display_name,
        f.submitted_at,
        _account_managers_of(Site.id),
        _explained_lines_of(Site.id, year, month),
        *submissions.threshold_values(),
        *[getattr(stored[name], line) for name in ("forecast", "budget") for line in LINES],
    )
    for name, figure in stored.items():
        query = query.outerjoin(
            figure,
            and_(
                figure.site_id == Site.id,
                figure.series == name,
                figure.year == year,
                figure.month == month,
            ),
        )
    return (
        query.join(District, District.id == Site.district_id)
        .outerjoin(f, and_(f.site_id == Site.id, f.year == year, f.month == month))
        .outerjoin(editor, editor.id == f.last_edit_by_id)
        .where(
            Site.district_id == bindparam("district_id"),
            Site.id.in_(bound_visible_sites(role)),
        )
        .order_by(Site.site_number)
    )


def _split(joined: str | None) -> list[str]:
    return sorted(joined.split(_SEPARATOR)) if joined else []


def _variance(forecast: float, budget: float) -> tuple[float, float | None]:
    return pnl_domain.variance(forecast, budget)


def _month_figures(session, ids: list[int], year: int, month: int, today: dt.date):
    """Per site the month's forecast lines and budget lines: the stored figures in one
    statement (a site without a budget reads 0); a year outside the stored forecast years
    is computed, its budget read from the budget rows."""
    if year in figures_repo.forecast_years(today):
        stored = figures_repo.month_of_series(
            session, ids, ("forecast", "budget"), year, month, LINES
        )
        return stored["forecast"], stored["budget"]
    frame = pnl_service.month_lines(session, ids, year, month, today)
    values = frame[list(LINES)].to_numpy(dtype=float).tolist()
    forecast = {
        int(s): dict(zip(LINES, v, strict=True))
        for s, v in zip(frame["site_id"], values, strict=True)
    }
    budget = {}
    for (site_id, _y, _m, _k), lines in pnl_inputs.pnl_rows(
        session, ids, [year], ("budget",), month
    ).items():
        budget[int(site_id)] = {**lines, "flc": pnl_domain.flc(lines)}
    return forecast, budget


def district_rollup(
    session: Session,
    principal: Principal,
    district_id: int,
    year: int,
    month: int,
    today: dt.date,
) -> dict:
    """One row per site of the district the person may see, and the district totals.

    One statement: the sites in scope with their submission, last editor, account
    managers, explained lines, district, the thresholds and the month's stored forecast and
    budget lines (a month outside the stored years is computed)."""
    params = {"district_id": district_id, "year": year, "month": month}
    params.update(scope_params(principal, today))
    sites = session.execute(_rollup_statement(principal.role), params).all()
    if not sites:
        raise ScopeError("This district is not in your scope.")
    ids = [s[0] for s in sites]
    width = len(LINES)
    shape = (len(ids), width)
    if year in figures_repo.forecast_years(today):
        # The stored lines came with the sites (NULL: no figure, read as 0 as before).
        both = np.array([row[_FIGURES:] for row in sites], dtype=float).reshape(len(ids), -1)
        both = np.nan_to_num(both, nan=0.0)
        values_of, bases_of = both[:, :width], both[:, width:]
    else:
        # The lines of every site in two arrays (a site without figures reads 0).
        forecast, budget = _month_figures(session, ids, year, month, today)
        zero = dict.fromkeys(LINES, 0.0)
        values_of = np.array(
            [[(forecast.get(s) or zero)[line] for line in LINES] for s in ids], dtype=float
        ).reshape(shape)
        bases_of = np.array(
            [[(budget.get(s) or zero)[line] for line in LINES] for s in ids], dtype=float
        ).reshape(shape)
    limits = submissions.thresholds_of(*sites[0][_THRESHOLDS:_FIGURES])
    deadline = sm.submission_deadline(year, month)
    late_of: dict[str, bool] = {}  # whether a site in this state is late (same for all)
    # Rounded at once.
    shown = np.round(values_of, 2).tolist()
    shown_bases = np.round(bases_of, 2).tolist()
    shown_amounts = np.round(values_of - bases_of, 2).tolist()
    # §7.5's fraction of every line at once (None where the basis is 0, as _variance says).
    with np.errstate(divide="ignore", invalid="ignore"):
        fractions = (values_of - bases_of) / bases_of
    fractions = np.where(bases_of != 0, fractions, np.nan).tolist()
    fractions = [[None if f != f else f for f in row] for row in fractions]
    flagged = [LINES.index(line) for line in sm.FLAGGED_LINES]
    values_of, bases_of = values_of.tolist(), bases_of.tolist()
    out = []
    for i, (
        site_id,
        number,
        name,
        _district,
        status,
        version,
        last_edit_at,
        last_edit_by,
        submitted_at,
        managers,
        explained_lines,
        *_read_above,  # thresholds and figures
    ) in enumerate(sites):
        state = status or sm.DRAFT
        explained = set(_split(explained_lines))
        record = {
            "site_id": site_id,
            "site_number": number,
            "site": f"{number} · {name}",
            "account_manager": ", ".join(_split(managers)),
            "status": state,
            "status_label": sm.STATE_LABELS[state],
            "version": version or 0,
        }
        record.update(zip(LINES, shown[i], strict=True))
        record.update(zip(_BUDGET_KEYS, shown_bases[i], strict=True))
        record.update(zip(_VAR_KEYS, shown_amounts[i], strict=True))
        record.update(zip(_PCT_KEYS, fractions[i], strict=True))
        flags = [
            flag
            for j in flagged
            if (flag := sm.variance_flag(LINES[j], values_of[i][j], shown_bases[i][j], limits))
        ]
        open_flags = [fl.line for fl in flags if fl.line not in explained]
        record["flags"] = ", ".join(submissions.LINE_LABELS[fl.line] for fl in flags)
        record["flag_count"] = len(flags)
        record["unexplained"] = ", ".join(submissions.LINE_LABELS[x] for x in open_flags)
        record["explained"] = (
            "—" if not flags else ("All explained" if not open_flags else "Missing")
        )
        record["last_edit"] = (
            last_edit_at.isoformat(sep=" ", timespec="minutes") if last_edit_at else ""
        )
        record["last_edit_by"] = last_edit_by or ""
        waiting_since = submitted_at.date() if state == sm.SUBMITTED and submitted_at else None
        record["days_waiting"] = (
            sm.business_days_between(waiting_since, today) if waiting_since else None
        )
        record["review_overdue"] = bool(waiting_since and sm.review_overdue(waiting_since, today))
        if state not in late_of:
            late_of[state] = sm.missing_submission(state, year, month, today)
        record["late"] = late_of[state]
        record["approvable"] = state == sm.SUBMITTED and not open_flags
        out.append(record)
    total = {"site_id": 0, "site": "District total", "status_label": "", "version": 0}
    for j, line in enumerate(LINES):
        value, base = sum(v[j] for v in values_of), sum(b[j] for b in bases_of)
        amount, fraction = _variance(value, base)
        total[line] = round(value, 2)
        total[f"{line}_budget"] = round(base, 2)
        total[f"{line}_var"] = round(amount, 2)
        total[f"{line}_pct"] = fraction
    counts = defaultdict(int)
    for record in out:
        counts[record["status"]] += 1
    return {
        "district_id": district_id,
        "district": sites[0][3],
        "year": year,
        "month": month,
        "deadline": deadline.isoformat(),
        "thresholds": {"pct": limits.pct, "amount": limits.amount},
        "rows": out,
        "total": total,
        "counts": dict(counts),
    }


def submission_states(
    session: Session,
    principal: Principal,
    site_ids: list[int],
    year: int,
    month: int,
    today: dt.date,
) -> dict[int, str]:
    """The submission state of each of these sites the person may see for the month (DRAFT
    where none was started), in one statement: what a bulk action reports a skipped site as
    ("not submitted" rather than the flags of a draft)."""
    if not site_ids:
        return {}
    f = ForecastSubmission
    rows = session.execute(
        select(Site.id, f.status)
        .outerjoin(f, and_(f.site_id == Site.id, f.year == year, f.month == month))
        .where(Site.id.in_(site_ids), Site.id.in_(visible_sites(principal, today)))
    ).all()
    return {site_id: status or sm.DRAFT for site_id, status in rows}


def region_overview(
    session: Session, principal: Principal, year: int, month: int, today: dt.date
) -> list[dict]:
    """Per district in scope: how many sites are in each state, and the late work — reviews
    waiting more than 3 business days and sites not submitted by the deadline."""
    visible = visible_site_ids(session, principal, today)
    if not visible:
        return []
    sites = session.execute(
        select(Site.id, Site.site_number, Site.name, District.id, District.name)
        .join(District, District.id == Site.district_id)
        .where(Site.id.in_(visible))
        .order_by(District.name, Site.site_number)
    ).all()
    states = {
        r.site_id: r
        for r in session.scalars(
            select(ForecastSubmission).where(
                ForecastSubmission.site_id.in_([s[0] for s in sites]),
                ForecastSubmission.year == year,
                ForecastSubmission.month == month,
            )
        )
    }
    by_district: dict[int, dict] = {}
    for site_id, number, name, district_id, district in sites:
        entry = by_district.setdefault(
            district_id,
            {
                "district_id": district_id,
                "district": district,
                "sites": 0,
                **{state: 0 for state in sm.STATES},
                "late_sites": [],
                "overdue_reviews": [],
            },
        )
        row = states.get(site_id)
        state = row.status if row else sm.DRAFT
        entry["sites"] += 1
        entry[state] += 1
        if sm.missing_submission(state, year, month, today):
            entry["late_sites"].append(f"{number} · {name}")
        if (
            row
            and state == sm.SUBMITTED
            and row.submitted_at
            and sm.review_overdue(row.submitted_at.date(), today)
        ):
            entry["overdue_reviews"].append(f"{number} · {name}")
    return list(by_district.values())


def inbox(session: Session, principal: Principal, today: dt.date) -> list[dict]:
    """What needs this person's action: account managers — sites to submit for the forecast
    month and returned months; reviewers — submissions waiting for their decision."""
    visible = visible_site_ids(session, principal, today)
    if not visible:
        return []
    year, month = forecast_month(today)
    names = dict(
        session.execute(
            select(Site.id, Site.site_number + " · " + Site.name).where(Site.id.in_(visible))
        ).all()
    )
    rows = session.scalars(
        select(ForecastSubmission).where(
            ForecastSubmission.site_id.in_(visible),
            not_(submissions.before_month(today.year, today.month)),
        )
    ).all()
    items = []
    if principal.role in sm.REVIEWER_ROLES:
        for row in rows:
            if row.status != sm.SUBMITTED:
                continue
            waiting = (
                sm.business_days_between(row.submitted_at.date(), today) if row.submitted_at else 0
            )
            items.append(
                {
                    "kind": "to_review",
                    "label": "To review",
                    "site_id": row.site_id,
                    "site": names[row.site_id],
                    "month": f"{row.year}-{row.month:02d}",
                    "detail": f"Waiting {waiting} business day{'s' if waiting != 1 else ''}"
                    + (" — overdue" if waiting > sm.REVIEW_BUSINESS_DAYS else ""),
                    "overdue": waiting > sm.REVIEW_BUSINESS_DAYS,
                }
            )
    if principal.role == "account_manager":
        by_key = {(r.site_id, r.year, r.month): r for r in rows}
        deadline = sm.submission_deadline(year, month)
        for site_id in sorted(visible, key=lambda s: names[s]):
            row = by_key.get((site_id, year, month))
            state = row.status if row else sm.DRAFT
            if state == sm.DRAFT:
                items.append(
                    {
                        "kind": "to_submit",
                        "label": "To submit",
                        "site_id": site_id,
                        "site": names[site_id],
                        "month": f"{year}-{month:02d}",
                        "detail": f"Due {deadline:%a %b %-d}"
                        + (" — late" if today > deadline else ""),
                        "overdue": today > deadline,
                    }
                )
        for row in rows:
            if row.status == sm.RETURNED:
                items.append(
                    {
                        "kind": "returned",
                        "label": "Returned",
                        "site_id": row.site_id,
                        "site": names[row.site_id],
                        "month": f"{row.year}-{row.month:02d}",
                        "detail": row.review_comment or "",
                        "overdue": False,
                    }
                )
    order = {"returned": 0, "to_review": 1, "to_submit": 2}
    return sorted(items, key=lambda i: (order[i["kind"]], i["month"], i["site"]))


def my_submissions(session: Session, principal: Principal, today: dt.date) -> dict:
    """For an account manager's home page: each of their sites' state for the forecast
    month, the return comment, and the latest comment of the thread."""
    year, month = forecast_month(today)
    visible = visible_site_ids(session, principal, today)
    sites = session.execute(
        select(Site.id, Site.site_number, Site.name)
        .where(Site.id.in_(visible))
        .order_by(Site.site_number)
    ).all()
    rows = {
        r.site_id: r
        for r in session.scalars(
            select(ForecastSubmission).where(
                ForecastSubmission.site_id.in_(visible),
                ForecastSubmission.year == year,
                ForecastSubmission.month == month,
            )
        )
    }
    out = []
    for site_id, number, name in sites:
        row = rows.get(site_id)
        state = row.status if row else sm.DRAFT
        out.append(
            {
                "site_id": site_id,
                "site": f"{number} · {name}",
                "status": state,
                "status_label": sm.STATE_LABELS[state],
                "comment": row.review_comment if row and state == sm.RETURNED else None,
            }
        )
    return {
        "year": year,
        "month": month,
        "deadline": sm.submission_deadline(year, month).isoformat(),
        "sites": out,
    }
