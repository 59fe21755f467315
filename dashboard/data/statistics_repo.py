"""Scoped reads of statistics, budgets and rates for one site and a window of days/months."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
from sqlalchemy import Select, and_, bindparam, or_, select, tuple_
from sqlalchemy.orm import Session

from dashboard.data.models import (
    RATE_CATEGORIES,
    ParkingRateMonth,
    Site,
    SiteStatisticDay,
    StatisticBudgetMonth,
    StatisticProposalDay,
    User,
)
from dashboard.domain import statistics as st

STAT_COLUMNS = st.STAT_FIELDS


def site(session: Session, site_id: int) -> Site | None:
    return session.get(Site, site_id)


def visible_site(session: Session, site_id: int, scope: Select):
    """(id, site_number, name, total_rooms) of the site when ``scope`` (a ``SELECT site.id``)
    holds it, else None: the scope check and the read in one statement."""
    return session.execute(
        select(Site.id, Site.site_number, Site.name, Site.total_rooms).where(
            Site.id == site_id, Site.id.in_(scope)
        )
    ).first()


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
    names = ["kind", *_DAY_COLUMNS]
    return {
        (row[0], row[2]): dict(zip(names, row, strict=True))
        for row in statistic_day_rows(session, site_id, spans)
    }


def statistic_day_rows(
    session: Session, site_id: int, spans: list[tuple[str, dt.date, dt.date]]
) -> list[tuple]:
    """``statistic_days_by_day`` as plain tuples: (kind, id, day, version, updated_by, then
    the fields in ``STAT_COLUMNS`` order)."""
    params = {"site_id": site_id}
    for i, (_kind, first, last) in enumerate(spans):
        params[f"first_{i}"], params[f"last_{i}"] = first, last
    statement = _day_rows_statement(tuple(kind for kind, _a, _b in spans))
    return session.execute(statement, params).all()


@functools.cache
def _day_rows_statement(kinds: tuple[str, ...]) -> Select:
    """The statement of ``statistic_day_rows`` for spans of these kinds, built once (its
    days and site are bound parameters): building it took longer than running it."""
    d = SiteStatisticDay
    chosen = or_(
        *[
            and_(d.kind == kind, d.day >= bindparam(f"first_{i}"), d.day <= bindparam(f"last_{i}"))
            for i, kind in enumerate(kinds)
        ]
    )
    return (
        select(
            d.kind,
            d.id,
            d.day,
            d.version,
            User.display_name.label("updated_by"),
            *[getattr(d, c) for c in STAT_COLUMNS],
        )
        .outerjoin(User, User.id == d.updated_by_id)
        .where(d.site_id == bindparam("site_id"), chosen)
    )


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


# What a stored proposal day holds of the statistics (revenue is priced when read).
PROPOSED_COLUMNS = [c for c in STAT_COLUMNS if c != "external_revenue"]


def proposal_rows(session: Session, site_id: int, first: dt.date, last: dt.date) -> list[tuple]:
    """The stored proposal of ``first``..``last`` as tuples (day, source, then the fields of
    ``PROPOSED_COLUMNS``), in one prebuilt statement."""
    params = {"site_id": site_id, "first": first, "last": last}
    return session.execute(_proposal_statement(), params).all()


@functools.cache
def _proposal_statement() -> Select:
    p = StatisticProposalDay
    return select(p.day, p.source, *[getattr(p, c) for c in PROPOSED_COLUMNS]).where(
        p.site_id == bindparam("site_id"),
        p.day >= bindparam("first"),
        p.day <= bindparam("last"),
    )


def proposal_days(session: Session, site_id: int, first: dt.date, last: dt.date) -> dict:
    """``proposal_rows`` as day -> (source, {field: value})."""
    return {
        day: (source, dict(zip(PROPOSED_COLUMNS, values, strict=True)))
        for day, source, *values in proposal_rows(session, site_id, first, last)
    }


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


def _bound_months(year_column, month_column, count: int):
    """``count`` (year, month) pairs as bound parameters (``_month_params`` fills them)."""
    return or_(
        *[
            and_(year_column == bindparam(f"year_{i}"), month_column == bindparam(f"month_{i}"))
            for i in range(count)
        ]
    )


def _month_params(site_id: int, months: list[tuple[int, int]]) -> dict:
    params: dict = {"site_id": site_id}
    for i, (year, month) in enumerate(months):
        params[f"year_{i}"], params[f"month_{i}"] = year, month
    return params


def budget_month_values(
    session: Session, site_id: int, months: list[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, float]]:
    """``budget_months`` as plain values: (year, month) -> {field: value}."""
    rows = session.execute(_budget_statement(len(months)), _month_params(site_id, months)).all()
    return {(row[0], row[1]): dict(zip(_BUDGET_COLUMNS, row[2:], strict=True)) for row in rows}


# The fields a monthly budget holds (counts, rooms and revenue; ratios follow from them).
_BUDGET_COLUMNS = [c for c in STAT_COLUMNS if hasattr(StatisticBudgetMonth, c)]


@functools.cache
def _budget_statement(count: int) -> Select:
    b = StatisticBudgetMonth
    return select(b.year, b.month, *[getattr(b, c) for c in _BUDGET_COLUMNS]).where(
        b.site_id == bindparam("site_id"), _bound_months(b.year, b.month, count)
    )


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
    rows = session.execute(_rates_statement(len(months)), _month_params(site_id, months)).all()
    return rates_by_month(rows, months)


@functools.cache
def _rates_statement(count: int) -> Select:
    r = ParkingRateMonth
    return select(r.kind, r.year, r.month, r.category, r.rate).where(
        r.site_id == bindparam("site_id"),
        r.kind.in_(("budget", "forecast")),
        _bound_months(r.year, r.month, count),
    )


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
