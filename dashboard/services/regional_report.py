"""The regional executive report (DOMAIN.md §11): region → district → site roll-up of the
year's FLC — budget, forecast (actual to date + forecast, as the P&L's trend), actual to date,
prior year — with FLC vs budget, FLC margin, next month's submission status, at-risk sites,
forecast accuracy of the submitted forecasts for the closed months, and the top and bottom
districts. A query: read-only for everyone; rows are the person's visible sites only.

Forecast accuracy compares each closed month's *submitted* FLC (the snapshot frozen at
submission) with the books: MAPE and bias over the site-months (error = (A − F) ÷ |F|,
§7.5); a site is "within 5%" when its closed months together are: |ΣA − ΣF| ≤ 5% of |ΣF|.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dashboard.data import figures as figures_repo
from dashboard.data.models import ForecastSubmission, SiteFigureState
from dashboard.domain import kpi
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import submission as sm
from dashboard.domain.periods import add_months
from dashboard.services import exports
from dashboard.services.performance import _site_rows
from dashboard.services.review import forecast_month
from dashboard.services.scope import Principal, visible_site_ids, visible_sites
from dashboard.services.submissions import thresholds

NOT_STARTED = "NOT STARTED"
STATUS_ORDER = (sm.APPROVED, sm.LOCKED, sm.SUBMITTED, sm.RETURNED, sm.DRAFT, NOT_STARTED)
STATUS_LABELS = {
    sm.APPROVED: "approved",
    sm.LOCKED: "locked",
    sm.SUBMITTED: "submitted",
    sm.RETURNED: "returned",
    sm.DRAFT: "draft",
    NOT_STARTED: "not started",
}
MONEY_FIELDS = ("budget_flc", "forecast_flc", "actual_flc", "prior_year_flc", "forecast_ir")
TOP_COUNT = 3


@dataclass(frozen=True)
class Report:
    year: int
    forecast_month: tuple[int, int]
    closed_months: list[tuple[int, int]]
    regions: list[dict]
    districts: list[dict]
    sites: list[dict]
    total: dict
    at_risk: list[dict]
    top_districts: list[dict]
    bottom_districts: list[dict]
    accuracy_by_month: pd.DataFrame  # period, mape, bias, count
    thresholds: sm.Thresholds


def _year_frame(session: Session, ids: Select, year: int, today: dt.date) -> pd.DataFrame:
    """Per site the year's FLC figures, summed in SQL from the stored figures in one pass:
    forecast FLC and internal revenue (actual to date + forecast, as the P&L's trend), actual
    FLC to date, budget FLC, prior-year FLC (the books a year earlier, D7) — and the FLC of
    the last RECENT_MONTHS closed months and of the same months a year earlier (the books;
    ``recent_flc_months`` / ``before_flc_months`` say how many months each window has)."""
    first, last = (year, 1), (year, 12)
    recent_last = add_months(today.year, today.month, -1)
    recent_first = add_months(*recent_last, -(kpi.RECENT_MONTHS - 1))
    year_before = (recent_first[0] - 1, recent_first[1]), (recent_last[0] - 1, recent_last[1])
    Sum = figures_repo.Sum
    sums = figures_repo.site_sums(
        session,
        ids,
        [
            Sum("forecast_flc", "forecast", first, last, "flc"),
            Sum("forecast_ir", "forecast", first, last, "internal_revenue"),
            Sum("actual_flc", "forecast", first, last, "flc", kind="actual"),
            Sum("budget_flc", "budget", first, last, "flc"),
            Sum("prior_year_flc", "actual", (year - 1, 1), (year - 1, 12), "flc"),
            Sum("recent_flc", "actual", recent_first, recent_last, "flc"),
            Sum("before_flc", "actual", *year_before, "flc"),
        ],
    )
    money = sums[list(MONEY_FIELDS)].fillna(0.0)
    # A site missing a month of a window has no trend.
    for window in ("recent_flc", "before_flc"):
        money[window] = sums[window].where(sums[f"{window}_months"] == kpi.RECENT_MONTHS)
    return money


def _accuracy_sums(session, ids, months) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sums behind the accuracy of the submitted forecasts of the closed months, per
    site and per month (``figures_repo.accuracy_sums``)."""
    if not months:
        empty = pd.DataFrame(columns=figures_repo.ACCURACY_SUMS, dtype=float)
        return empty, empty
    return figures_repo.accuracy_sums(session, ids, months[0], months[-1])


def _accuracies(sums: pd.DataFrame, keys=None) -> dict:
    """key → {mape, bias, count} of the accuracy sums, grouped by ``keys`` (a value per row)
    when given (the districts of the sites), else by the rows' own keys."""
    if keys is not None:
        sums = sums.groupby(np.asarray(keys)).sum()
    mape, bias = kpi.accuracy_of_sums(sums["usable"], sums["abs_error"], sums["error"])
    return {
        key: {"mape": m, "bias": b, "count": int(c)}
        for key, m, b, c in zip(
            sums.index.tolist(), mape.tolist(), bias.tolist(), sums["usable"].tolist(), strict=True
        )
    }


def _statuses(session, scope, ids, year, month) -> dict[int, str]:
    rows = session.execute(
        select(ForecastSubmission.site_id, ForecastSubmission.status).where(
            figures_repo.site_filter(ForecastSubmission.site_id, scope),
            ForecastSubmission.year == year,
            ForecastSubmission.month == month,
        )
    ).all()
    found = dict(rows)
    return {s: found.get(s, NOT_STARTED) for s in ids}


def _status_text(counter: Counter) -> str:
    return " · ".join(f"{counter[s]} {STATUS_LABELS[s]}" for s in STATUS_ORDER if counter.get(s))


def _number(value) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _with_ratios(row: dict, mape, bias, site_within: list[bool]) -> dict:
    amount, fraction = pnl_domain.variance(row["forecast_flc"], row["budget_flc"])
    row["flc_vs_budget"] = round(amount, 2)
    row["flc_vs_budget_pct"] = fraction
    row["flc_margin"] = kpi.ratio(row["forecast_flc"], row["forecast_ir"])
    row["mape"], row["bias"] = _number(mape), _number(bias)
    row["within_5"] = (sum(site_within) / len(site_within)) if site_within else None
    for field in MONEY_FIELDS:
        row[field] = round(float(row[field]), 2)
    return row


def fingerprint(
    session: Session, principal: Principal, today: dt.date, year: int | None = None
) -> str:
    """What the report of ``year`` for this person depends on, in a few aggregate reads:
    the sites they may see, the versions of those sites' stored figures (every refresh moves
    one), the versions of next month's submissions (every decision moves one), the
    thresholds, the day. Two equal fingerprints give the same report (site and district
    names aside, which no version covers)."""
    return fingerprints(session, principal, today, year)[0]


def fingerprints(
    session: Session, principal: Principal, today: dt.date, year: int | None = None
) -> tuple[str, str]:
    """``fingerprint``, and what the report covers whatever the figures (the year and the
    sites the person may see): the key of the last report of that scope, shown while a
    newer one is computed."""
    year = year or today.year
    scope = visible_sites(principal, today)
    ids = sorted(visible_site_ids(session, principal, today))
    s = SiteFigureState
    figures = session.execute(
        select(
            func.count(), func.sum(s.inputs_version), func.sum(s.figures_version), func.max(s.as_of)
        ).where(figures_repo.site_filter(s.site_id, scope))
    ).one()
    fy, fm = forecast_month(today)
    f = ForecastSubmission
    decisions = session.execute(
        select(func.count(), func.sum(f.version)).where(
            figures_repo.site_filter(f.site_id, scope), f.year == fy, f.month == fm
        )
    ).one()
    limits = thresholds(session)
    text = repr((year, today, ids, tuple(figures), tuple(decisions), limits.pct, limits.amount))
    covered = repr((year, ids))
    return (
        hashlib.sha256(text.encode()).hexdigest(),
        hashlib.sha256(covered.encode()).hexdigest(),
    )


def regional_report(
    session: Session, principal: Principal, today: dt.date, year: int | None = None
) -> Report:
    year = year or today.year
    if not (today.year - 1 <= year <= today.year + 1):
        raise ValueError("Choose last year, this year or next year.")
    scope = visible_sites(principal, today)  # a subquery: no IN-list of every site
    info = _site_rows(session, scope)
    ids = sorted(info)
    fy, fm = forecast_month(today)
    closed_through = add_months(today.year, today.month, -1)
    closed = [(year, m) for m in range(1, 13) if (year, m) <= closed_through]
    limits = thresholds(session)
    if not ids:
        empty = pd.DataFrame(columns=["period", "mape", "bias", "count"])
        return Report(year, (fy, fm), closed, [], [], [], {}, [], [], [], empty, limits)

    money = _year_frame(session, scope, year, today).reindex(ids)
    statuses = _statuses(session, scope, ids, fy, fm)
    recent = money.pop("recent_flc").tolist()
    recent_before = money.pop("before_flc").tolist()
    money = money.fillna(0.0)
    # The accuracy of the closed months per site, district, region, the total and month,
    # from the sums of the errors per site and per month (summed in SQL).
    by_site, by_month = _accuracy_sums(session, scope, closed)
    by_site = by_site[by_site.index.isin(info)]
    site_accuracy = _accuracies(by_site)
    sites_of_sums = by_site.index.tolist()
    accuracy_at = {
        "district": _accuracies(by_site, [info[s].district_id for s in sites_of_sums]),
        "region": _accuracies(by_site, [info[s].region_id for s in sites_of_sums]),
        "total": _accuracies(by_site, [0] * len(sites_of_sums)),
    }
    # Per site whether its closed months' totals were within 5% (None: no usable pair).
    within_of = dict.fromkeys(ids)
    within_of.update(
        zip(
            sites_of_sums,
            kpi.within_tolerances(by_site["actual"], by_site["forecast"]),
            strict=True,
        )
    )
    site_rows = []
    site_values = zip(ids, money[list(MONEY_FIELDS)].to_numpy().tolist(), strict=True)
    for i, (sid, values) in enumerate(site_values):
        site = info[sid]
        row = {
            "level": "site",
            "site_id": sid,
            "name": site.label,
            "district_id": site.district_id,
            "district": site.district,
            "region_id": site.region_id,
            "region": site.region,
            "site_count": 1,
            **dict(zip(MONEY_FIELDS, values, strict=True)),
        }
        accuracy = site_accuracy.get(sid, {})
        within = within_of[sid]
        row = _with_ratios(
            row,
            accuracy.get("mape"),
            accuracy.get("bias"),
            [within] if within is not None else [],
        )
        row["status"] = STATUS_LABELS[statuses[sid]].capitalize()
        reasons = kpi.at_risk_reasons(
            row["forecast_flc"],
            row["budget_flc"],
            _number(recent[i]),
            _number(recent_before[i]),
            limits.pct,
            limits.amount,
        )
        row["at_risk"] = "; ".join(reasons)
        site_rows.append(row)

    def roll_up(members: list[dict], level: str, key: int, **keys) -> dict:
        member_ids = [r["site_id"] for r in members]
        row = {
            "level": level,
            **keys,
            "site_count": len(members),
            **{f: sum(r[f] for r in members) for f in MONEY_FIELDS},
        }
        accuracy = accuracy_at[level].get(key, {})
        within = [within_of[s] for s in member_ids if within_of[s] is not None]
        row = _with_ratios(row, accuracy.get("mape"), accuracy.get("bias"), within)
        row["status"] = _status_text(Counter(statuses[s] for s in member_ids))
        row["at_risk_count"] = sum(1 for r in members if r["at_risk"])
        return row

    by_district: dict[int, list[dict]] = {}
    by_region: dict[int, list[dict]] = {}
    for row in site_rows:
        by_district.setdefault(row["district_id"], []).append(row)
        by_region.setdefault(row["region_id"], []).append(row)
    districts = [
        roll_up(
            members,
            "district",
            did,
            district_id=did,
            name=members[0]["district"],
            region_id=members[0]["region_id"],
            region=members[0]["region"],
        )
        for did, members in sorted(by_district.items())
    ]
    regions = [
        roll_up(members, "region", rid, region_id=rid, name=members[0]["region"])
        for rid, members in sorted(by_region.items())
    ]
    total = roll_up(site_rows, "total", 0, name="Total")

    ranked = sorted(
        (d for d in districts if d["flc_vs_budget_pct"] is not None),
        key=lambda d: d["flc_vs_budget_pct"],
        reverse=True,
    )
    count = min(TOP_COUNT, len(ranked) // 2) if len(ranked) > 1 else len(ranked)
    top = ranked[:count]
    bottom = ranked[::-1][:count] if len(ranked) > 1 else []

    month_accuracy = _accuracies(by_month)
    by_month = []
    for y, m in closed:
        acc = month_accuracy.get(y * 100 + m, {})
        by_month.append(
            {
                "period": f"{y:04d}-{m:02d}",
                "mape": acc.get("mape", np.nan),
                "bias": acc.get("bias", np.nan),
                "count": int(acc.get("count", 0)),
            }
        )
    at_risk = sorted((r for r in site_rows if r["at_risk"]), key=lambda r: r["flc_vs_budget"])
    return Report(
        year,
        (fy, fm),
        closed,
        regions,
        districts,
        site_rows,
        total,
        at_risk,
        top,
        bottom,
        pd.DataFrame(by_month, columns=["period", "mape", "bias", "count"]),
        limits,
    )


# --- Columns and files ------------------------------------------------------------------------

# (field, header, kind): the roll-up's columns, on screen and in the files alike.
ROLLUP_COLUMNS = (
    ("name", "Name", "text"),
    ("site_count", "Sites", "count"),
    ("budget_flc", "Budget FLC", "money"),
    ("forecast_flc", "Forecast FLC (actual + forecast)", "money"),
    ("flc_vs_budget", "FLC vs budget", "money"),
    ("flc_vs_budget_pct", "FLC vs budget %", "percent"),
    ("actual_flc", "Actual FLC to date", "money"),
    ("prior_year_flc", "Prior year FLC", "money"),
    ("flc_margin", "FLC margin %", "percent"),
    ("status", "Next month's submissions", "text"),
    ("at_risk_text", "At risk", "text"),
    ("mape", "Forecast MAPE", "percent"),
    ("bias", "Forecast bias", "percent"),
    ("within_5", "Sites within 5%", "percent"),
)
RISK_COLUMNS = (
    ("name", "Site", "text"),
    ("district", "District", "text"),
    ("region", "Region", "text"),
    ("forecast_flc", "Forecast FLC", "money"),
    ("budget_flc", "Budget FLC", "money"),
    ("flc_vs_budget", "FLC vs budget", "money"),
    ("at_risk", "Why", "text"),
)


def display_rows(rows: list[dict]) -> list[dict]:
    """Rows with the "At risk" text: the reasons of a site, the count of a roll-up."""
    out = []
    for row in rows:
        if row.get("level") == "site":
            text = row.get("at_risk") or ""
        else:
            text = f"{row.get('at_risk_count', 0)} of {row['site_count']}"
        out.append({**row, "at_risk_text": text})
    return out


def export_columns(spec) -> list:
    return [exports.ExportColumn(f, h, k) for f, h, k in spec]


def context_lines(report: Report, principal: Principal) -> list[tuple[str, str]]:
    fy, fm = report.forecast_month
    closed = (
        f"{report.closed_months[0][0]}-{report.closed_months[0][1]:02d} to "
        f"{report.closed_months[-1][0]}-{report.closed_months[-1][1]:02d}"
        if report.closed_months
        else "none yet"
    )
    return [
        ("Year", str(report.year)),
        ("Sites", f"{report.total.get('site_count', 0)} visible to {principal.email}"),
        ("Forecast FLC", "actual for closed months + trend/forecast for the rest (as the P&L)"),
        ("Submission status", f"for {dt.date(fy, fm, 1):%B %Y}"),
        ("Forecast accuracy", f"submitted FLC vs books, closed months {closed}"),
        (
            "At risk",
            f"FLC below budget by ≥ {report.thresholds.pct:.1%} and ≥ "
            f"${report.thresholds.amount:,.0f}, or last {kpi.RECENT_MONTHS} closed months "
            f"≥ {report.thresholds.pct:.1%} below a year earlier",
        ),
    ]


def workbook(report: Report, principal: Principal) -> bytes:
    """The report as a formatted workbook: regions, districts, sites, at-risk sites and
    accuracy by month, each sheet headed by what it shows."""
    context = context_lines(report, principal)
    rollup = export_columns(ROLLUP_COLUMNS)
    total = display_rows([report.total])[0] if report.total else None
    district_columns = [exports.ExportColumn("region", "Region"), *rollup]
    site_columns = [
        exports.ExportColumn("region", "Region"),
        exports.ExportColumn("district", "District"),
        *rollup,
    ]
    sheets = [
        exports.Sheet(
            "Regions",
            "Regional report — regions",
            context,
            rollup,
            display_rows(report.regions),
            total,
        ),
        exports.Sheet(
            "Districts",
            "Regional report — districts",
            context,
            district_columns,
            display_rows(report.districts),
            total,
        ),
        exports.Sheet(
            "Sites",
            "Regional report — sites",
            context,
            site_columns,
            display_rows(report.sites),
            total,
        ),
        exports.Sheet(
            "At-risk sites", "At-risk sites", context, export_columns(RISK_COLUMNS), report.at_risk
        ),
        exports.Sheet(
            "Accuracy",
            "Forecast accuracy by month (submitted FLC vs books)",
            context,
            [
                exports.ExportColumn("period", "Month"),
                exports.ExportColumn("mape", "MAPE", "percent"),
                exports.ExportColumn("bias", "Bias", "percent"),
                exports.ExportColumn("count", "Site-months compared", "count"),
            ],
            report.accuracy_by_month.to_dict("records"),
        ),
    ]
    return exports.to_xlsx(sheets)
