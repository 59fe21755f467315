"""Derived figures: computed when their inputs change, read cheaply by every view (D14).

Per site × month the engine's figures are stored in ``SiteMonthFigure`` for four series:

* ``forecast`` — the P&L lines as the P&L page shows them (``pnl.computed_lines``: ledger,
  trending, forecast by month kind) for the P&L page's years, with the KPI components of the
  open months (``kpi.live_forecast``);
* ``actual`` / ``budget`` — the books and the budget: every P&L line and the KPI components
  (statistics and payroll actuals or budgets) for the performance pages' span;
* ``submitted`` — the forecast of record: the snapshot of each site-month's last submission.

They are refreshed:

* inside the transaction of a save, for the site it touches (``refresh``: the series the
  change can move; all series when the site was not current anyway);
* by a job for bulk changes — the daily rollover when "today" moves, a month-end close, an
  import, a seeded portfolio (``recompute``: batches of sites, each batch one transaction,
  so a killed worker leaves no site half-written and a retried job finishes the rest); the
  job first recomputes the proposals of a batch made for an earlier day
  (``dashboard.services.proposals``).

A site is *current* when its figures were computed from its latest inputs for today's date
(``SiteFigureState``); views read the stored figures and say how many sites are still being
updated (``pending``). ``check`` compares the stored figures with a fresh computation
(``python -m dashboard recompute --check``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data import contract_terms
from dashboard.data import figures as repo
from dashboard.data.db import Database
from dashboard.data.frames import frame_of
from dashboard.data.models import FIGURE_SERIES, PnlMonth, Site
from dashboard.domain import pnl as pnl_domain
from dashboard.domain.periods import add_months
from dashboard.services import kpi as kpi_service
from dashboard.services import pnl as pnl_service
from dashboard.services import proposals
from dashboard.services.scope import Principal, visible_sites

FORECAST, ACTUAL, BUDGET, SUBMITTED = FIGURE_SERIES
KEYS = repo.KEYS
_LEDGER_COST_LINES = ("claims", "parking_rents", "other_expense", "pteb", "insurance")
# Sites per transaction of a recompute: small enough that a save waits at most a second or
# two for the lock on SQLite, large enough that the engine's fixed query cost is shared.
BATCH_SITES = 50


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _span(today: dt.date, series: str) -> tuple[tuple[int, int], tuple[int, int]]:
    if series == FORECAST:
        years = repo.forecast_years(today)
        return (years[0], 1), (years[-1], 12)
    return repo.history_span(today)


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    return kpi_service.months_between(first, last)


def _with_series(frame: pd.DataFrame, series: str, kind: str | None = None) -> pd.DataFrame:
    out = frame.copy()
    out["series"] = series
    if kind is not None:
        out["kind"] = kind
    for c in (*repo.VALUE_COLUMNS, "ir_fallback"):
        if c not in out:
            out[c] = None if c == "ir_fallback" else math.nan
    return out[repo.COLUMNS]


def _forecast(
    session: Session, ids: list[int], today: dt.date, years: Sequence[int] | None = None
) -> pd.DataFrame:
    years = repo.forecast_years(today) if years is None else years
    drivers: dict = {}  # the walk's drivers of open months: read once, not again
    lines = pd.concat(
        [pnl_service.computed_lines(session, ids, y, today, drivers_out=drivers) for y in years],
        ignore_index=True,
    )
    last = _span(today, FORECAST)[1]
    open_months = [ym for ym in _months((today.year, today.month), last) if ym[0] in years]
    components = kpi_service.live_forecast(
        session, ids, open_months, today, lines=lines, drivers=drivers
    )
    extra = [c for c in repo.VALUE_COLUMNS if c in components and c not in lines]
    frame = lines.merge(components[[*KEYS, *extra]], on=KEYS, how="left")
    return _with_series(frame, FORECAST)


def _ledger(session: Session, ids: list[int], months, kind: str) -> pd.DataFrame:
    """The P&L lines the KPI components leave out (claims, rents, ...), from the ledger."""
    p = PnlMonth
    first, last = months[0], months[-1]
    rows = session.execute(
        select(p.site_id, p.year, p.month, *[getattr(p, c) for c in _LEDGER_COST_LINES]).where(
            p.site_id.in_(ids),
            p.kind == kind,
            repo.months_between(p.year, p.month, first, last),
        )
    ).all()
    frame = frame_of(rows, [*KEYS, *_LEDGER_COST_LINES])
    for c in _LEDGER_COST_LINES:
        frame[c] = pd.to_numeric(frame[c]).astype(float)
    return frame.astype({"site_id": int, "year": int, "month": int})


def _books(session: Session, ids: list[int], today: dt.date, series: str) -> pd.DataFrame:
    first, last = _span(today, series)
    if series == ACTUAL:
        last = min(last, add_months(today.year, today.month, -1))
    months = _months(first, last)
    if not months:
        return _with_series(pd.DataFrame(columns=KEYS), series, series)
    if series == ACTUAL:
        components = kpi_service.actual_components(session, ids, months)
    else:
        components = kpi_service.budget_components(session, ids, months)
    components = components.drop(columns="series")
    frame = components.merge(_ledger(session, ids, months, series), on=KEYS, how="left")
    return _with_series(frame, series, series)


def _submitted(session: Session, ids: list[int], today: dt.date) -> pd.DataFrame:
    months = _months(*_span(today, SUBMITTED))
    frame = kpi_service.submitted_components(session, ids, months).drop(columns="series")
    return _with_series(frame, SUBMITTED, SUBMITTED)


def compute(
    session: Session,
    site_ids: Sequence[int],
    today: dt.date,
    series=FIGURE_SERIES,
    forecast_years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The figures of ``site_ids`` for ``series``, freshly computed by the engine
    (``repo.COLUMNS``, one row per site × series × month); ``forecast_years``: only these
    years of the forecast series (default: all it keeps)."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return _with_series(pd.DataFrame(columns=KEYS), FORECAST)
    parts = []
    if FORECAST in series:
        parts.append(_forecast(session, ids, today, forecast_years))
    for name in (ACTUAL, BUDGET):
        if name in series:
            parts.append(_books(session, ids, today, name))
    if SUBMITTED in series:
        parts.append(_submitted(session, ids, today))
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    frame = frame.astype({"site_id": int, "year": int, "month": int})
    return _with_linked_ir(session, frame)


def _with_linked_ir(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """The waterfall's revenue-linked internal revenue on the rows it compares with the
    budget: the books (actual series) and the forecast series' open months."""
    target = (frame["series"] == ACTUAL) | (
        (frame["series"] == FORECAST) & (frame["kind"] != pnl_domain.ACTUAL_MONTH)
    )
    if not target.any():
        return frame
    budget = frame[frame["series"] == BUDGET]
    if budget.empty:
        # A refresh of the forecast alone: the budget is the stored one (no input of a
        # refresh can move it).
        chosen = frame[target]
        keys = chosen["year"] * 100 + chosen["month"]
        first, last = int(keys.min()), int(keys.max())
        budget = repo.read(
            session,
            sorted({int(s) for s in chosen["site_id"]}),
            (BUDGET,),
            (first // 100, first % 100),
            (last // 100, last % 100),
            columns=("external_revenue", "internal_revenue"),
        )
    frame.loc[target, "ir_linked"] = kpi_service.linked_ir(session, frame[target], budget)
    return frame


def _years_moved(
    session: Session,
    ids: list[int],
    today: dt.date,
    changed_months: Sequence[tuple[int, int]] | None,
) -> list[int]:
    """The stored forecast years that inputs of ``changed_months`` can move: their own
    years, and the next one for a site whose contract year can begin in the previous
    calendar year (its year to date runs across January); all open years when not told."""
    years = [y for y in repo.forecast_years(today) if y >= today.year]
    if not changed_months:
        return years
    touched = {int(y) for y, _ in changed_months}
    terms = contract_terms.site_terms(session, ids)
    if any(pnl_domain.looks_back(t) for t in terms.values()):
        touched |= {y + 1 for y in touched}
    chosen = [y for y in years if y in touched]
    return [y for y in years if chosen[0] <= y <= chosen[-1]] if chosen else years


def _write(
    session: Session,
    ids: list[int],
    today: dt.date,
    series,
    frame,
    first_year: int | None = None,
    last_year: int | None = None,
):
    for name in series:
        first, last = _span(today, name)
        if name == FORECAST and first_year is not None:
            first = (first_year, 1)
        if name == FORECAST and last_year is not None:
            last = (last_year, 12)
        repo.replace(session, ids, (name,), first, last, frame[frame["series"] == name])


def _current(session: Session, ids: list[int], today: dt.date) -> set[int]:
    return set(ids) - set(repo.stale_sites(session, ids, today))


def refresh(
    session: Session,
    site_ids: Sequence[int],
    today: dt.date,
    series: Sequence[str] = FIGURE_SERIES,
    changed_months: Sequence[tuple[int, int]] | None = None,
) -> None:
    """An input of ``site_ids`` changed that can move ``series``: recompute the sites'
    figures in the caller's transaction (all series for a site that was not current), so
    every view shows the new numbers as soon as the transaction commits. Call it after the
    change is written (flushed). ``changed_months``: the months whose inputs changed; the
    forecast is then recomputed for their years only (and the year after for a site whose
    contract year can begin in the previous calendar year)."""
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return
    current = _current(session, ids, today)
    versions = repo.bump_inputs(session, ids)  # takes the sites' row locks first
    session.flush()
    partial = [s for s in ids if s in current]
    whole = [s for s in ids if s not in current]
    if partial and series:
        # Inputs people save are of today's month and later: the forecast of earlier years
        # is the closed ledger and cannot move.
        years = _years_moved(session, partial, today, changed_months)
        frame = compute(session, partial, today, tuple(series), forecast_years=years)
        _write(session, partial, today, tuple(series), frame, years[0], years[-1])
    if whole:
        _write(session, whole, today, FIGURE_SERIES, compute(session, whole, today))
    repo.mark_computed(session, versions, today, _now())


def mark_stale(session: Session, site_ids: Sequence[int]) -> None:
    """An input of ``site_ids`` changed in bulk: their figures are stale until a recompute
    job refreshes them (``recompute``)."""
    repo.bump_inputs(session, site_ids)


@dataclass(frozen=True)
class Pending:
    """Sites in view whose stored figures are being refreshed."""

    site_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.site_ids)

    def message(self) -> str | None:
        if not self.site_ids:
            return None
        noun = "site" if self.count == 1 else "sites"
        return f"{self.count} {noun} updating… figures shown are their last computed values."


def pending(session: Session, site_ids: Sequence[int], today: dt.date) -> Pending:
    """Sites among ``site_ids`` whose stored figures are not current for ``today``."""
    return Pending(tuple(repo.stale_sites(session, site_ids, today)))


def pending_in_scope(session: Session, principal: Principal, today: dt.date) -> Pending:
    """Sites the person may see whose stored figures are not current for ``today``."""
    return Pending(tuple(repo.stale_sites(session, visible_sites(principal, today), today)))


@dataclass
class RecomputeResult:
    sites: int = 0
    rows: int = 0
    seconds: float = 0.0
    skipped: int = 0  # inputs moved on during the batch: refreshed by that save instead


def recompute(
    db: Database,
    today: dt.date,
    site_ids: Sequence[int] | None = None,
    *,
    only_stale: bool = False,
    batch: int = BATCH_SITES,
    progress: Callable[[int, int], None] | None = None,
) -> RecomputeResult:
    """Rebuild the stored figures of ``site_ids`` (None: every site) in batches. A batch's
    proposals are recomputed first when they were made for another day (the rollover:
    ``proposals.refresh``, its own transaction). Each batch is computed in a read transaction (saves are not held up meanwhile), then written in one
    short write transaction with the sites' state rows locked: a site whose inputs changed
    since the batch read them is left out — its save wrote newer figures — and every other
    site's figures are replaced whole."""
    import time

    started = time.perf_counter()
    with db.read() as session:
        ids = (
            list(session.scalars(select(Site.id).order_by(Site.id)))
            if site_ids is None
            else sorted({int(s) for s in site_ids})
        )
        if only_stale:
            ids = repo.stale_sites(session, ids, today)
    result = RecomputeResult()
    done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with db.read() as session:
            known = repo.input_versions(session, chunk)
        if len(known) < len(chunk):
            with db.write() as session:
                repo.ensure_states(session, chunk)
        with db.write() as session:  # proposals of an earlier day first: the figures read them
            proposals.refresh(session, proposals.outdated(session, chunk, today), today)
        with db.read() as session:
            versions = repo.input_versions(session, chunk)
            frame = compute(session, chunk, today)
        with db.write() as session:
            now_versions = repo.input_versions(session, chunk, lock=True)
            unchanged = [s for s in chunk if now_versions.get(s) == versions.get(s)]
            kept = frame[frame["site_id"].isin(unchanged)]
            _write(session, unchanged, today, FIGURE_SERIES, kept)
            marked = repo.mark_computed(session, {s: versions[s] for s in unchanged}, today, _now())
            result.rows += len(kept)
            result.skipped += len(chunk) - len(marked)
        done += len(chunk)
        result.sites = done
        if progress:
            progress(done, len(ids))
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class Difference:
    site_id: int
    series: str
    year: int
    month: int
    column: str
    stored: object
    computed: object


def _differing(computed: pd.Series, stored: pd.Series, numeric: bool) -> pd.Series:
    both_missing = computed.isna() & stored.isna()
    if numeric:
        c = computed.astype(float).to_numpy()
        k = stored.astype(float).to_numpy()
        close = np.isclose(c, k, rtol=1e-12, atol=1e-9)
        return ~(both_missing | pd.Series(close, index=computed.index))
    return ~(both_missing | (computed == stored))


def check(
    session: Session, site_ids: Sequence[int] | None, today: dt.date, limit: int = 1000
) -> list[Difference]:
    """Stored figures that differ from a fresh computation (missing rows included), at most
    ``limit``; empty when every stored figure is right."""
    ids = (
        list(session.scalars(select(Site.id).order_by(Site.id)))
        if site_ids is None
        else sorted({int(s) for s in site_ids})
    )
    index = [*KEYS, "series"]
    out: list[Difference] = []
    for start in range(0, len(ids), BATCH_SITES):
        chunk = ids[start : start + BATCH_SITES]
        fresh = compute(session, chunk, today)
        stored = pd.concat(
            [repo.read(session, chunk, (name,), *_span(today, name)) for name in FIGURE_SERIES],
            ignore_index=True,
        )
        merged = fresh.merge(stored, on=index, how="outer", suffixes=("_c", "_s"))
        for column in ("kind", *repo.VALUE_COLUMNS, "ir_fallback"):
            numeric = column in repo.VALUE_COLUMNS
            bad = _differing(merged[f"{column}_c"], merged[f"{column}_s"], numeric)
            for row in merged[bad].itertuples(index=False):
                record = row._asdict()
                out.append(
                    Difference(
                        int(record["site_id"]),
                        record["series"],
                        int(record["year"]),
                        int(record["month"]),
                        column,
                        record[f"{column}_s"],
                        record[f"{column}_c"],
                    )
                )
                if len(out) >= limit:
                    return out
    return out


def check_district_sums(session: Session) -> list[dict]:
    """District sums (what portfolio views read) that differ from their sites' stored rows."""
    return repo.check_district_sums(session)


def rebuild_district_sums(session: Session, site_ids: Sequence[int] | None = None) -> int:
    """Sum the stored rows of every site (or of the districts of ``site_ids``) per district
    again: after a recompute from the command line, which also repairs rows changed
    outside the app."""
    return repo.rebuild_district_sums(session, site_ids)
