"""Scoped reads of statistics, budgets and rates for one site and a window of days/months."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from dashboard.data.models import (
    RATE_CATEGORIES,
    ParkingRateMonth,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    User,
)
from dashboard.domain import statistics as st

STAT_COLUMNS = st.STAT_FIELDS


def site(session: Session, site_id: int) -> Site | None:
    return session.get(Site, site_id)


_DAY_COLUMNS = ["id", "day", "version", "updated_by", *STAT_COLUMNS]


def statistic_days(
    session: Session, site_id: int, kind: str, first: dt.date, last: dt.date
) -> pd.DataFrame:
    """Rows of one kind for ``first``..``last`` (inclusive), with version and editor name, in
    day order."""
    rows = statistic_days_by_day(session, site_id, [(kind, first, last)])
    return pd.DataFrame([rows[key] for key in sorted(rows)], columns=_DAY_COLUMNS)


def statistic_days_by_day(
    session: Session, site_id: int, spans: list[tuple[str, dt.date, dt.date]]
) -> dict[tuple[str, dt.date], dict]:
    """The rows of several (kind, first, last) spans in one statement, as plain dicts (id,
    day, version, updated_by, the fields) keyed by (kind, day)."""
    d = SiteStatisticDay
    chosen = or_(*[and_(d.kind == k, d.day >= a, d.day <= b) for k, a, b in spans])
    query = (
        select(
            d.kind,
            d.id,
            d.day,
            d.version,
            User.display_name.label("updated_by"),
            *[getattr(d, c) for c in STAT_COLUMNS],
        )
        .outerjoin(User, User.id == d.updated_by_id)
        .where(d.site_id == site_id, chosen)
    )
    return {(row["kind"], row["day"]): dict(row) for row in session.execute(query).mappings()}


def forecast_rows_for_update(session: Session, site_id: int, days: list[dt.date]) -> dict:
    """Saved forecast rows of ``days`` as ORM objects keyed by day (inside a write)."""
    rows = session.scalars(
        select(SiteStatisticDay).where(
            SiteStatisticDay.site_id == site_id,
            SiteStatisticDay.kind == "forecast",
            SiteStatisticDay.day.in_(days),
        )
    )
    return {row.day: row for row in rows}


def budget_months(session: Session, site_id: int, months: list[tuple[int, int]]) -> dict:
    """Monthly statistics budget keyed by (year, month); missing months are absent."""
    if not months:
        return {}
    rows = session.scalars(
        select(StatisticBudgetMonth).where(
            StatisticBudgetMonth.site_id == site_id,
            tuple_(StatisticBudgetMonth.year, StatisticBudgetMonth.month).in_(months),
        )
    )
    return {(r.year, r.month): r for r in rows}


def rates(session: Session, site_id: int, years: list[int], kinds: tuple[str, ...]) -> pd.DataFrame:
    """Monthly rates of the given kinds and years: one row per (kind, year, month, category)."""
    query = (
        select(
            ParkingRateMonth.id,
            ParkingRateMonth.kind,
            ParkingRateMonth.year,
            ParkingRateMonth.month,
            ParkingRateMonth.category,
            ParkingRateMonth.rate,
            ParkingRateMonth.version,
            User.display_name.label("updated_by"),
        )
        .outerjoin(User, User.id == ParkingRateMonth.updated_by_id)
        .where(
            ParkingRateMonth.site_id == site_id,
            ParkingRateMonth.year.in_(years),
            ParkingRateMonth.kind.in_(kinds),
        )
    )
    return pd.DataFrame.from_records(
        session.execute(query).all(),
        columns=["id", "kind", "year", "month", "category", "rate", "version", "updated_by"],
    )


def month_rates(frame: pd.DataFrame, year: int, month: int) -> dict[str, float]:
    """The month's forecast rates per category: saved forecast, else budget, else 0."""
    rows = zip(frame["kind"], frame["year"], frame["month"], frame["category"], frame["rate"])  # noqa: B905
    return rates_by_month(rows, [(year, month)])[(year, month)]


def window_rates(
    session: Session, site_id: int, months: list[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, float]]:
    """``month_rates`` of each of ``months``, read in one plain statement."""
    r = ParkingRateMonth
    rows = session.execute(
        select(r.kind, r.year, r.month, r.category, r.rate).where(
            r.site_id == site_id,
            r.kind.in_(("budget", "forecast")),
            tuple_(r.year, r.month).in_(months),
        )
    ).all()
    return rates_by_month(rows, months)


def rates_by_month(rows, months: list[tuple[int, int]]) -> dict[tuple[int, int], dict[str, float]]:
    """Per month of ``months`` the rates per category from (kind, year, month, category,
    rate) rows: the saved forecast, else the budget, else 0."""
    result = {ym: dict.fromkeys(RATE_CATEGORIES, 0.0) for ym in months}
    forecast = []
    for kind, year, month, category, rate in rows:
        key = (int(year), int(month))
        if key not in result:
            continue
        if kind == "budget":
            result[key][category] = float(rate)
        elif kind == "forecast":
            forecast.append((key, category, float(rate)))
    for key, category, rate in forecast:  # forecast overrides budget
        result[key][category] = rate
    return result
