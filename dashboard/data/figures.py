"""Reads and writes of the stored derived figures (``SiteMonthFigure``) and their freshness
(``SiteFigureState``). What the figures are and when they are refreshed:
``dashboard.services.figures``."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from dashboard.data.frames import frame_of
from dashboard.data.models import (
    FIGURE_COMPONENTS,
    FIGURE_LINES,
    FIGURE_WATERFALL,
    FORECAST,
    DistrictMonthFigure,
    Site,
    SiteFigureState,
    SiteMonthFigure,
)

KEYS = ["site_id", "year", "month"]


def forecast_years(today: dt.date) -> tuple[int, int, int]:
    """Years whose P&L (series ``forecast``) is stored: the P&L page's year choices."""
    return (today.year - 1, today.year, today.year + 1)


def history_span(today: dt.date) -> tuple[tuple[int, int], tuple[int, int]]:
    """Months whose actual, budget and submitted series are stored: the performance pages'
    range (January two years back to December next year) and the prior year of its start."""
    return (today.year - 3, 1), (today.year + 1, 12)


VALUE_COLUMNS = (*FIGURE_LINES, *FIGURE_COMPONENTS, *FIGURE_WATERFALL)
COLUMNS = [*KEYS, "series", "kind", *VALUE_COLUMNS, "ir_fallback"]

# Long id lists are read in chunks: SQLite caps the bound parameters of one statement.
_CHUNK = 900


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def every_site(sites: Select) -> bool:
    """Whether a scope's query of site ids is plain ``SELECT site.id FROM site`` (everyone
    who sees every site): then no condition on the site is needed at all."""
    columns = list(sites.selected_columns)
    return (
        sites.whereclause is None
        and len(columns) == 1
        and getattr(columns[0], "table", None) is Site.__table__
        and columns[0].name == "id"
        and list(sites.get_final_froms()) == [Site.__table__]
        and sites._limit_clause is None  # noqa: SLF001 - no LIMIT / OFFSET either
        and sites._offset_clause is None  # noqa: SLF001
    )


def site_filter(column, sites: Select):
    """``column IN (sites)``, or nothing (TRUE) when the query is of every site."""
    return true() if every_site(sites) else column.in_(sites)


def _site_clauses(column, site_ids: Sequence[int] | Select) -> list:
    """``column IN (...)`` for the sites: one clause with a scope's query of site ids (no long
    IN-list to compile; none at all for every site), else one per chunk of the ids."""
    if isinstance(site_ids, Select):
        return [site_filter(column, site_ids)]
    return [column.in_(chunk) for chunk in _chunks(sorted({int(s) for s in site_ids}))]


def months_between(year_column, month_column, first: tuple[int, int], last: tuple[int, int]):
    """The months ``first``..``last`` (inclusive) as a condition on a year and a month column
    that an index on (…, year, month) can use: the year range, then the month bounds of the
    first and last year."""
    (fy, fm), (ly, lm) = first, last
    if fy == ly:
        return and_(year_column == fy, month_column >= fm, month_column <= lm)
    return and_(
        year_column >= fy,
        year_column <= ly,
        or_(
            and_(year_column > fy, year_column < ly),
            and_(year_column == fy, month_column >= fm),
            and_(year_column == ly, month_column <= lm),
        ),
    )


def _months_clause(first: tuple[int, int], last: tuple[int, int]):
    f = SiteMonthFigure
    return months_between(f.year, f.month, first, last)


def read(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: Sequence[str],
    first: tuple[int, int],
    last: tuple[int, int],
    columns: Sequence[str] = VALUE_COLUMNS,
) -> pd.DataFrame:
    """Stored figures of ``site_ids`` for the months ``first``..``last`` of ``series``: one
    row per site × month × series, with ``KEYS``, series, kind, ``columns`` and ir_fallback.
    NULL figures read as NaN."""
    f = SiteMonthFigure
    wanted = [*KEYS, "series", "kind", *columns, "ir_fallback"]
    selected = [getattr(f, c) for c in wanted]
    rows: list = []
    for sites in _site_clauses(f.site_id, site_ids):
        rows += (
            session.connection()
            .execute(
                select(*selected).where(
                    sites, f.series.in_(list(series)), _months_clause(first, last)
                )
            )
            .fetchall()
        )
    frame = frame_of(rows, wanted)
    for c in columns:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame.astype({"site_id": np.int64, "year": np.int64, "month": np.int64})


def month_of_sites(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: str,
    year: int,
    month: int,
    columns: Sequence[str],
) -> dict[int, dict[str, float]]:
    """One month of ``series`` per site as plain dicts of ``columns`` (NULL reads NaN)."""
    return month_of_series(session, site_ids, (series,), year, month, columns)[series]


def month_of_series(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: Sequence[str],
    year: int,
    month: int,
    columns: Sequence[str],
) -> dict[str, dict[int, dict[str, float]]]:
    """``month_of_sites`` of several series in one statement: series -> site -> values."""
    f = SiteMonthFigure
    out: dict[str, dict[int, dict[str, float]]] = {name: {} for name in series}
    if isinstance(site_ids, Select):
        statements = [
            (
                select(f.series, f.site_id, *[getattr(f, c) for c in columns]).where(
                    site_filter(f.site_id, site_ids),
                    f.series.in_(list(series)),
                    f.year == year,
                    f.month == month,
                ),
                {},
            )
        ]
    else:
        prebuilt = _month_of_series_statement(tuple(series), tuple(columns))
        statements = [
            (prebuilt, {"ids": chunk, "year": year, "month": month})
            for chunk in _chunks(sorted({int(s) for s in site_ids}))
        ]
    for statement, params in statements:
        rows = session.execute(statement, params).all()
        for name, site_id, *values in rows:
            out[name][int(site_id)] = {
                c: math.nan if v is None else float(v) for c, v in zip(columns, values, strict=True)
            }
    return out


@functools.cache
def _month_of_series_statement(series: tuple[str, ...], columns: tuple[str, ...]) -> Select:
    """``month_of_series`` of a list of sites, built once (sites, year and month bound)."""
    f = SiteMonthFigure
    return select(f.series, f.site_id, *[getattr(f, c) for c in columns]).where(
        f.site_id.in_(bindparam("ids", expanding=True)),
        f.series.in_(list(series)),
        f.year == bindparam("year"),
        f.month == bindparam("month"),
    )


def site_totals(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: str,
    first: tuple[int, int],
    last: tuple[int, int],
    columns: Sequence[str],
    kind: str | None = None,
) -> pd.DataFrame:
    """Per site the sums (in SQL) of ``columns`` of ``series`` over the months
    ``first``..``last`` — only the rows of month kind ``kind`` when given — and per column
    ``<column>_months``, how many months have a value. Indexed by site_id; a site with no
    row is absent, a sum over NULLs is NaN."""
    f = SiteMonthFigure
    selected = [
        f.site_id,
        *[func.sum(getattr(f, c)) for c in columns],
        *[func.count(getattr(f, c)) for c in columns],
    ]
    where = [f.series == series, _months_clause(first, last)]
    if kind is not None:
        where.append(f.kind == kind)
    rows: list = []
    for sites in _site_clauses(f.site_id, site_ids):
        query = select(*selected).where(sites, *where).group_by(f.site_id)
        rows += session.connection().execute(query).fetchall()
    counts = [f"{c}_months" for c in columns]
    frame = frame_of(rows, ["site_id", *columns, *counts])
    for c in columns:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame.astype({"site_id": np.int64, **dict.fromkeys(counts, np.int64)}).set_index(
        "site_id"
    )


@dataclass(frozen=True)
class Sum:
    """One sum of ``site_sums``: ``column`` of ``series`` over the months ``first``..``last``,
    only the rows of month kind ``kind`` when given."""

    name: str
    series: str
    first: tuple[int, int]
    last: tuple[int, int]
    column: str
    kind: str | None = None


def site_sums(
    session: Session, site_ids: Sequence[int] | Select, sums: Sequence[Sum]
) -> pd.DataFrame:
    """``site_totals`` of several series and month ranges: per site each sum's total (NaN
    when no month has a value) and ``<name>_months``, how many months have one — one
    statement per series (its months' rows read once, each sum a filtered aggregate).
    Indexed by site_id; a site with no row in any range is absent."""
    f = SiteMonthFigure
    frames = []
    for series in dict.fromkeys(part.series for part in sums):
        parts = [part for part in sums if part.series == series]
        selected = [f.site_id]
        for part in parts:
            condition = _months_clause(part.first, part.last)
            if part.kind is not None:
                condition = and_(condition, f.kind == part.kind)
            value = getattr(f, part.column)
            selected += [func.sum(value).filter(condition), func.count(value).filter(condition)]
        first = min(part.first for part in parts)
        last = max(part.last for part in parts)
        query = (
            select(*selected)
            .where(f.series == series, _months_clause(first, last))
            .group_by(f.site_id)
        )
        rows: list = []
        for sites in _site_clauses(f.site_id, site_ids):
            rows += session.connection().execute(query.where(sites)).fetchall()
        names = [n for part in parts for n in (part.name, f"{part.name}_months")]
        values = np.array([row[1:] for row in rows], dtype=float).reshape(len(rows), len(names))
        frames.append(pd.DataFrame(values, columns=names, index=[int(r[0]) for r in rows]))
    frame = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    frame.index = frame.index.astype(np.int64).rename("site_id")
    counts = [f"{part.name}_months" for part in sums]
    frame[counts] = frame[counts].fillna(0)
    return frame.astype(dict.fromkeys(counts, np.int64))


def period_totals(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: Sequence[str],
    first: tuple[int, int],
    last: tuple[int, int],
    columns: Sequence[str],
) -> pd.DataFrame:
    """Per series × month of ``first``..``last`` the sums in SQL of ``columns`` over the sites
    (NaN where every row is NULL) and ``rows``, the number of site rows summed."""
    f = SiteMonthFigure
    selected = [
        f.series,
        f.year,
        f.month,
        *[func.sum(getattr(f, c)) for c in columns],
        func.count(),
    ]
    rows: list = []
    for sites in _site_clauses(f.site_id, site_ids):
        query = (
            select(*selected)
            .where(sites, f.series.in_(list(series)), _months_clause(first, last))
            .group_by(f.series, f.year, f.month)
        )
        rows += session.connection().execute(query).fetchall()
    names = ["series", "year", "month", *columns, "rows"]
    frame = frame_of(rows, names)
    for c in columns:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame = frame.astype({"year": np.int64, "month": np.int64, "rows": np.int64})
    # Chunks of a long id list each give their own sums.
    grouped = frame.groupby(["series", "year", "month"], sort=True)
    summed = grouped[list(columns)].sum(min_count=1)
    summed["rows"] = grouped["rows"].sum()
    return summed.reset_index()


def month_sums(
    session: Session,
    site_ids: Sequence[int] | Select,
    series: str,
    year: int,
    columns: Sequence[str],
) -> pd.DataFrame:
    """Per month of ``year`` (index 1..12, every month present) the sums in SQL of
    ``columns`` of ``series`` over the sites; a month with no row sums to 0."""
    return series_month_sums(session, site_ids, [(series, year)], columns)[(series, year)]


def series_month_sums(
    session: Session,
    site_ids: Sequence[int] | Select,
    wanted: Sequence[tuple[str, int]],
    columns: Sequence[str],
) -> dict[tuple[str, int], pd.DataFrame]:
    """``month_sums`` of several (series, year) in one statement (one pass over the rows);
    for every site (a scope of all sites), from the district sums."""
    if (
        isinstance(site_ids, Select)
        and every_site(site_ids)
        and set(columns) <= set(DISTRICT_LINES)
    ):
        return district_series_month_sums(session, wanted, columns)
    f = SiteMonthFigure
    selected = [f.series, f.year, f.month, *[func.sum(getattr(f, c)) for c in columns]]
    chosen = or_(*[and_(f.series == name, f.year == year) for name, year in wanted])
    rows: list = []
    for sites in _site_clauses(f.site_id, site_ids):
        query = select(*selected).where(sites, chosen).group_by(f.series, f.year, f.month)
        rows += session.connection().execute(query).fetchall()
    out = {}
    for name, year in wanted:
        mine = [row[2:] for row in rows if row[0] == name and row[1] == year]
        out[(name, year)] = _monthly_frame(mine, columns)
    return out


def _monthly_frame(rows, columns: Sequence[str]) -> pd.DataFrame:
    """(month, *sums) rows as a frame indexed by month 1..12 (a month without a row, or a
    NULL sum, is 0); several rows of one month add up."""
    sums = np.zeros((12, len(columns)))
    for month, *values in rows:
        sums[int(month) - 1] += [0.0 if v is None else float(v) for v in values]
    return pd.DataFrame(sums, index=pd.RangeIndex(1, 13, name="month"), columns=list(columns))


def fallbacks(
    session: Session, site_ids: Sequence[int] | Select, year: int, listed: int | None = None
) -> tuple[list[tuple[int, int, str]], int]:
    """(site_id, month, reason) of the stored forecast months of ``year`` whose internal
    revenue is the budget's, in site and month order — of the first ``listed`` such sites
    (None: all) —, and how many sites have such a month."""
    f = SiteMonthFigure
    rows: list = []
    count = 0
    for sites in _site_clauses(f.site_id, site_ids):
        chosen = [sites, f.series == FORECAST, f.year == year, f.ir_fallback.is_not(None)]
        count += session.scalar(select(func.count(func.distinct(f.site_id))).where(*chosen)) or 0
        first = select(f.site_id).where(*chosen).group_by(f.site_id).order_by(f.site_id)
        if listed is not None:
            first = first.limit(listed)
        rows += session.execute(
            select(f.site_id, f.month, f.ir_fallback).where(*chosen, f.site_id.in_(first))
        ).all()
    ordered = sorted((int(s), int(m), str(r)) for s, m, r in rows)
    if listed is not None:
        keep = sorted({s for s, _m, _r in ordered})[:listed]
        ordered = [row for row in ordered if row[0] in keep]
    return ordered, count


ACCURACY_SUMS = ("pairs", "usable", "abs_error", "error", "actual", "forecast")


def accuracy_sums(
    session: Session,
    site_ids: Sequence[int] | Select,
    first: tuple[int, int],
    last: tuple[int, int],
    column: str = "flc",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sums behind forecast accuracy (``kpi.forecast_accuracy``) per site (indexed by
    site_id) and per month (indexed by year × 100 + month), over the closed site-months of
    ``first``..``last`` that have a forecast of record: the books (the forecast series' actual
    months, as the P&L shows them) beside the submitted series, joined and summed in SQL (a
    row per site and per month, not one per site-month; on PostgreSQL both groupings come
    from one join, as grouping sets).

    Columns: ``pairs`` (site-months), ``usable`` (those with books and a forecast ≠ 0),
    ``abs_error`` and ``error`` (Σ |e| and Σ e over the usable ones, where e is
    ``kpi.forecast_errors``' (A − F) ÷ |F|), ``actual`` and ``forecast`` (Σ A and Σ F over all
    of them, a missing A counting 0)."""
    books = aliased(SiteMonthFigure)
    record = aliased(SiteMonthFigure)
    actual, forecast = getattr(books, column), getattr(record, column)
    # (A − F) ÷ |F| where both exist and F ≠ 0, else NULL (not counted): forecast_errors'
    # rule; tests/integration/test_figures.py checks the two agree.
    error = case(
        (
            and_(actual.is_not(None), forecast != 0),
            (actual - forecast) / func.abs(forecast, type_=Float),
        )
    )
    sums = (
        func.count(),
        func.count(error),
        func.coalesce(func.sum(func.abs(error)), 0.0),
        func.coalesce(func.sum(error), 0.0),
        func.coalesce(func.sum(actual), 0.0),
        func.coalesce(func.sum(forecast), 0.0),
    )
    joined = (
        select(books.site_id, books.year, books.month, *sums)
        .join(
            record,
            and_(
                record.site_id == books.site_id,
                record.series == "submitted",
                record.year == books.year,
                record.month == books.month,
            ),
        )
        .where(
            books.series == "forecast",
            books.kind == "actual",
            months_between(books.year, books.month, first, last),
            forecast.is_not(None),
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        groupings = [
            joined.group_by(
                func.grouping_sets(tuple_(books.site_id), tuple_(books.year, books.month))
            )
        ]
    else:  # SQLite has no grouping sets: one statement per grouping
        groupings = [
            joined.with_only_columns(books.site_id, null(), null(), *sums).group_by(books.site_id),
            joined.with_only_columns(null(), books.year, books.month, *sums).group_by(
                books.year, books.month
            ),
        ]
    rows: list = []
    for query in groupings:
        for sites in _site_clauses(books.site_id, site_ids):
            rows += session.connection().execute(query.where(sites)).fetchall()
    site_rows = [r for r in rows if r[0] is not None]
    month_rows = [r for r in rows if r[0] is None]

    def frame(found: list, index: list[int], name: str) -> pd.DataFrame:
        values = np.array([r[3:] for r in found], dtype=float).reshape(len(found), 6)
        out = pd.DataFrame(values, columns=list(ACCURACY_SUMS), index=index)
        # A month comes once from each chunk of sites: add them up (a site comes once).
        out = out.groupby(level=0).sum().astype({"pairs": np.int64, "usable": np.int64})
        out.index = out.index.astype(np.int64).rename(name)
        return out

    return (
        frame(site_rows, [int(r[0]) for r in site_rows], "site_id"),
        frame(month_rows, [int(r[1]) * 100 + int(r[2]) for r in month_rows], "period"),
    )


def replace(
    session: Session,
    site_ids: Sequence[int],
    series: Sequence[str],
    first: tuple[int, int],
    last: tuple[int, int],
    frame: pd.DataFrame,
) -> int:
    """Replace the stored figures of ``site_ids`` × ``series`` × months ``first``..``last``
    by ``frame`` (rows outside that range are refused), inside the caller's transaction."""
    f = SiteMonthFigure
    ids = sorted({int(s) for s in site_ids})
    before = _district_sums_of_sites(session, ids, series, first, last)
    for chunk in _chunks(ids):
        session.execute(
            delete(f).where(
                f.site_id.in_(chunk), f.series.in_(list(series)), _months_clause(first, last)
            )
        )
    if frame.empty:
        _add_to_district_sums(session, _district_sums_of_frame(session, frame), before)
        return 0
    keys = frame["year"].astype(int) * 100 + frame["month"].astype(int)
    inside = (keys >= first[0] * 100 + first[1]) & (keys <= last[0] * 100 + last[1])
    if not bool(inside.all()) or not bool(frame["site_id"].isin(ids).all()):
        raise ValueError("figures outside the replaced sites or months")
    if not bool(frame["series"].isin(list(series)).all()):
        raise ValueError("figures of a series that is not replaced")
    records = []
    for row in frame[COLUMNS].itertuples(index=False, name=None):
        record = dict(zip(COLUMNS, row, strict=True))
        for c in VALUE_COLUMNS:
            value = record[c]
            record[c] = None if value is None or value != value else float(value)
        fallback = record["ir_fallback"]
        record["ir_fallback"] = None if fallback is None or fallback != fallback else fallback
        record["site_id"], record["year"], record["month"] = (
            int(record["site_id"]),
            int(record["year"]),
            int(record["month"]),
        )
        records.append(record)
    session.execute(insert(f), records)
    _add_to_district_sums(session, _district_sums_of_frame(session, frame), before)
    return len(records)


# --- District sums -------------------------------------------------------------------------
# ``DistrictMonthFigure`` holds the P&L lines of the site rows summed per district, series and
# month. ``replace`` adds each change to them in its transaction: the sums of the replaced
# rows before and after, the difference added in one upsert (``col = col + change``), so two
# saves of sites of one district add both changes whatever their order (the district rows
# are locked in key order: no deadlock).

DISTRICT_LINES = FIGURE_LINES
DISTRICT_KEYS = ["district_id", "series", "year", "month"]
# A change smaller than this (dollars) is the float noise of summing in another order.
_NOISE = 1e-6


def _site_sums_by_district() -> Select:
    """The stored site rows summed per district key: district, series, year, month, the
    rows summed, then ``DISTRICT_LINES`` (a NULL figure adds nothing)."""
    f = SiteMonthFigure
    return (
        select(
            Site.district_id,
            f.series,
            f.year,
            f.month,
            func.count(),
            *[func.coalesce(func.sum(getattr(f, c)), 0.0) for c in DISTRICT_LINES],
        )
        .join(Site, Site.id == f.site_id)
        .group_by(Site.district_id, f.series, f.year, f.month)
    )


def _district_of(session: Session, site_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(site_ids):
        out.update(
            session.execute(select(Site.id, Site.district_id).where(Site.id.in_(chunk))).all()
        )
    return out


def _district_sums_of_sites(
    session: Session,
    site_ids: Sequence[int],
    series: Sequence[str],
    first: tuple[int, int],
    last: tuple[int, int],
) -> pd.DataFrame:
    """The stored rows of the sites × series × months summed per district key (in SQL)."""
    f = SiteMonthFigure
    rows: list = []
    for chunk in _chunks(site_ids):
        rows += session.execute(
            _site_sums_by_district().where(
                f.site_id.in_(chunk), f.series.in_(list(series)), _months_clause(first, last)
            )
        ).all()
    frame = frame_of(rows, [*DISTRICT_KEYS, "sites", *DISTRICT_LINES])
    return frame.groupby(DISTRICT_KEYS)[["sites", *DISTRICT_LINES]].sum()


def _district_sums_of_frame(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows about to be stored summed per district key (NULL figures add nothing)."""
    if frame.empty:
        return pd.DataFrame(
            columns=["sites", *DISTRICT_LINES],
            index=pd.MultiIndex.from_tuples([], names=DISTRICT_KEYS),
        )
    districts = _district_of(session, sorted({int(s) for s in frame["site_id"]}))
    keyed = frame[["site_id", "series", "year", "month", *DISTRICT_LINES]].copy()
    keyed["district_id"] = keyed["site_id"].astype(int).map(districts)
    keyed["year"], keyed["month"] = keyed["year"].astype(int), keyed["month"].astype(int)
    keyed["sites"] = 1
    for c in DISTRICT_LINES:
        keyed[c] = pd.to_numeric(keyed[c], errors="coerce").astype(float)
    return keyed.groupby(DISTRICT_KEYS)[["sites", *DISTRICT_LINES]].sum()


def _add_to_district_sums(session: Session, after: pd.DataFrame, before: pd.DataFrame) -> None:
    columns = ["sites", *DISTRICT_LINES]
    change = (
        after.reindex(columns=columns)
        .astype(float)
        .sub(before.reindex(columns=columns).astype(float), fill_value=0.0)
    )
    if change.empty:
        return
    moved = (change["sites"] != 0) | (change[list(DISTRICT_LINES)].abs() > _NOISE).any(axis=1)
    change = change[moved].sort_index()
    if change.empty:
        return
    records = []
    for key, values in zip(change.index, change.to_numpy().tolist(), strict=True):
        district_id, name, year, month = key
        record = {
            "district_id": int(district_id),
            "series": str(name),
            "year": int(year),
            "month": int(month),
            "sites": int(round(values[0])),
        }
        record.update(zip(DISTRICT_LINES, values[1:], strict=True))
        records.append(record)
    d = DistrictMonthFigure
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(d)
    statement = statement.on_conflict_do_update(
        index_elements=DISTRICT_KEYS,
        set_={c: getattr(d, c) + getattr(statement.excluded, c) for c in columns},
    )
    session.execute(statement, records)


def rebuild_district_sums(session: Session, site_ids: Sequence[int] | None = None) -> int:
    """Sum the stored site rows again per district: every district, or those of
    ``site_ids`` (after a recompute, which repairs site rows changed outside ``replace``:
    their change would otherwise be added to sums that never held it). Returns the district
    rows written."""
    d = DistrictMonthFigure
    query = _site_sums_by_district()
    if site_ids is None:
        session.execute(delete(d))
    else:
        districts = sorted(set(_district_of(session, sorted({int(s) for s in site_ids})).values()))
        if not districts:
            return 0
        session.execute(delete(d).where(d.district_id.in_(districts)))
        query = query.where(Site.district_id.in_(districts))
    rows = session.execute(query).all()
    names = [*DISTRICT_KEYS, "sites", *DISTRICT_LINES]
    records = [dict(zip(names, row, strict=True)) for row in rows]
    if records:
        session.execute(insert(DistrictMonthFigure), records)
    return len(records)


def check_district_sums(session: Session, tolerance: float = 0.005) -> list[dict]:
    """District sums that differ from the sums of the stored site rows (by more than
    ``tolerance`` dollars, or in the count of rows); missing rows included."""
    fresh = frame_of(
        session.execute(_site_sums_by_district()).all(),
        [*DISTRICT_KEYS, "sites", *DISTRICT_LINES],
    ).set_index(DISTRICT_KEYS)
    d = DistrictMonthFigure
    stored = frame_of(
        session.execute(
            select(*[getattr(d, c) for c in [*DISTRICT_KEYS, "sites", *DISTRICT_LINES]])
        ).all(),
        [*DISTRICT_KEYS, "sites", *DISTRICT_LINES],
    ).set_index(DISTRICT_KEYS)
    # A district row whose sites all left holds zeros: the same as no row.
    stored = stored[stored["sites"] != 0]
    merged = fresh.add_suffix("_fresh").join(stored.add_suffix("_stored"), how="outer").fillna(0.0)
    out = []
    for column in ["sites", *DISTRICT_LINES]:
        a, b = merged[f"{column}_fresh"].astype(float), merged[f"{column}_stored"].astype(float)
        limit = 0.5 if column == "sites" else tolerance
        for key in merged.index[(a - b).abs() > limit]:
            out.append(
                {
                    "district_id": int(key[0]),
                    "series": key[1],
                    "year": int(key[2]),
                    "month": int(key[3]),
                    "column": column,
                    "stored": float(b[key]),
                    "computed": float(a[key]),
                }
            )
    return out


def district_series_month_sums(
    session: Session, wanted: Sequence[tuple[str, int]], columns: Sequence[str]
) -> dict[tuple[str, int], pd.DataFrame]:
    """``series_month_sums`` of every site, from the district sums (a few hundred rows)."""
    d = DistrictMonthFigure
    chosen = or_(*[and_(d.series == name, d.year == year) for name, year in wanted])
    rows = session.execute(
        select(d.series, d.year, d.month, *[func.sum(getattr(d, c)) for c in columns])
        .where(chosen)
        .group_by(d.series, d.year, d.month)
    ).all()
    return {
        (name, year): _monthly_frame(
            [row[2:] for row in rows if row[0] == name and row[1] == year], columns
        )
        for name, year in wanted
    }


# --- Freshness ---------------------------------------------------------------------------------


def ensure_states(session: Session, site_ids: Sequence[int]) -> None:
    """A state row for every site that has none (new sites: nothing computed yet)."""
    ids = sorted({int(s) for s in site_ids})
    known: set[int] = set()
    for chunk in _chunks(ids):
        known |= set(
            session.scalars(
                select(SiteFigureState.site_id).where(SiteFigureState.site_id.in_(chunk))
            )
        )
    missing = [s for s in ids if s not in known]
    if missing:
        session.execute(
            insert(SiteFigureState),
            [{"site_id": s, "inputs_version": 1, "figures_version": 0} for s in missing],
        )


def bump_inputs(session: Session, site_ids: Sequence[int]) -> dict[int, int]:
    """An input of these sites changed: move their inputs version (this also takes the row
    lock, so two saves of one site refresh its figures one after the other). Returns the new
    version per site."""
    ids = sorted({int(s) for s in site_ids})
    ensure_states(session, ids)
    s = SiteFigureState
    for chunk in _chunks(ids):
        session.execute(
            update(s)
            .where(s.site_id.in_(chunk))
            .values(inputs_version=s.inputs_version + 1)
            .execution_options(synchronize_session=False)
        )
    return input_versions(session, ids)


def input_versions(session: Session, site_ids: Sequence[int], lock: bool = False) -> dict[int, int]:
    """The inputs version of each site; ``lock``: hold the sites' state rows until the
    transaction ends (FOR UPDATE; SQLite's write transaction holds the whole database)."""
    s = SiteFigureState
    out: dict[int, int] = {}
    for chunk in _chunks(sorted({int(x) for x in site_ids})):
        query = select(s.site_id, s.inputs_version).where(s.site_id.in_(chunk))
        if lock:
            query = query.order_by(s.site_id).with_for_update()
        out.update(session.execute(query).all())
    return out


def mark_computed(
    session: Session,
    versions: dict[int, int],
    as_of: dt.date,
    now: dt.datetime,
) -> list[int]:
    """Record that the figures of each site were computed from its inputs ``versions`` for
    ``as_of``; a site whose inputs moved on meanwhile is left stale. Returns the sites
    marked."""
    s = SiteFigureState
    marked = []
    for site_id, version in sorted(versions.items()):
        result = session.execute(
            update(s)
            .where(s.site_id == site_id, s.inputs_version == version)
            .values(figures_version=version, as_of=as_of, computed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            marked.append(site_id)
    return marked


def stale_sites(
    session: Session, site_ids: Sequence[int] | Select | None, today: dt.date
) -> list[int]:
    """Sites among ``site_ids`` (None: all sites) whose stored figures are not current for
    ``today``: never computed, computed from older inputs, or for another day."""
    s = SiteFigureState
    query = (
        select(Site.id)
        .outerjoin(s, s.site_id == Site.id)
        .where(
            or_(
                s.site_id.is_(None),
                s.figures_version != s.inputs_version,
                s.as_of.is_(None),
                s.as_of != today,
            )
        )
        .order_by(Site.id)
    )
    if site_ids is None:
        return list(session.scalars(query))
    if isinstance(site_ids, Select):  # a scope's query of site ids: no long IN-list
        return list(session.scalars(query.where(Site.id.in_(site_ids))))
    out: list[int] = []
    for chunk in _chunks(sorted({int(x) for x in site_ids})):
        out += list(session.scalars(query.where(Site.id.in_(chunk))))
    return sorted(out)


def state_summary(session: Session) -> dict:
    s = SiteFigureState
    total, current, oldest = session.execute(
        select(
            func.count(),
            func.sum((s.figures_version == s.inputs_version).cast(Integer)),
            func.min(s.as_of),
        )
    ).one()
    return {"sites": total or 0, "current": current or 0, "oldest_as_of": oldest}
