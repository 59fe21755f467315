"""Reads and writes of the stored derived figures (``SiteMonthFigure``) and their freshness
(``SiteFigureState``). What the figures are and when they are refreshed:
``dashboard.services.figures``."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (
    Integer,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from dashboard.data.frames import frame_of
from dashboard.data.models import (
    FIGURE_COMPONENTS,
    FIGURE_LINES,
    FIGURE_WATERFALL,
    FORECAST,
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
    for sites in _site_clauses(f.site_id, site_ids):
        rows = session.execute(
            select(f.series, f.site_id, *[getattr(f, c) for c in columns]).where(
                sites, f.series.in_(list(series)), f.year == year, f.month == month
            )
        ).all()
        for name, site_id, *values in rows:
            out[name][int(site_id)] = {
                c: math.nan if v is None else float(v) for c, v in zip(columns, values, strict=True)
            }
    return out


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
    """``month_sums`` of several (series, year) in one statement (one pass over the rows)."""
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
    frame = frame_of(rows, ["month", *columns])
    for c in columns:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["month"] = frame["month"].astype(int)
    summed = frame.groupby("month")[list(columns)].sum()
    return summed.reindex(range(1, 13), fill_value=0.0).fillna(0.0)


def fallbacks(
    session: Session, site_ids: Sequence[int] | Select, year: int
) -> list[tuple[int, int, str]]:
    """(site_id, month, reason) of the stored forecast months of ``year`` whose internal
    revenue is the budget's, in site and month order."""
    f = SiteMonthFigure
    rows: list = []
    for sites in _site_clauses(f.site_id, site_ids):
        rows += session.execute(
            select(f.site_id, f.month, f.ir_fallback).where(
                sites, f.series == FORECAST, f.year == year, f.ir_fallback.is_not(None)
            )
        ).all()
    return sorted((int(s), int(m), str(r)) for s, m, r in rows)


def paired(
    session: Session,
    site_ids: Sequence[int] | Select,
    first: tuple[int, int],
    last: tuple[int, int],
    column: str = "flc",
) -> pd.DataFrame:
    """site_id, year, month, actual, forecast: per closed site-month of ``first``..``last``
    the books (the forecast series' actual months, as the P&L shows them) beside the forecast
    of record (the submitted series), where both exist — joined in SQL."""
    books = aliased(SiteMonthFigure)
    record = aliased(SiteMonthFigure)
    query = (
        select(
            books.site_id,
            books.year,
            books.month,
            getattr(books, column),
            getattr(record, column),
        )
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
            getattr(record, column).is_not(None),
        )
        .order_by(books.site_id, books.year, books.month)
    )
    rows: list = []
    for sites in _site_clauses(books.site_id, site_ids):
        rows += session.connection().execute(query.where(sites)).fetchall()
    frame = frame_of(rows, [*KEYS, "actual", "forecast"])
    for c in ("actual", "forecast"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame.astype({"site_id": np.int64, "year": np.int64, "month": np.int64})


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
    for chunk in _chunks(ids):
        session.execute(
            delete(f).where(
                f.site_id.in_(chunk), f.series.in_(list(series)), _months_clause(first, last)
            )
        )
    if frame.empty:
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
    return len(records)


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
