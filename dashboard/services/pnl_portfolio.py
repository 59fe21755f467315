"""The P&L page's portfolio view (DOMAIN.md §7.3; decisions D4, D7): the filters that choose
the sites within the person's scope, and the filtered sites' P&L summed per line and month
against a basis, with variance cells and a per-site drill-down. The lines themselves come
from ``dashboard.services.pnl``."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard.data import figures as figures_repo
from dashboard.data.models import District, Region, ScopeAssignment, Site, User
from dashboard.domain import pnl
from dashboard.services.pnl import (
    BASES,
    BUDGET_BASIS,
    LINE_LABELS,
    PRIOR_YEAR_BASIS,
    SHOWN_LINES,
    basis_lines,
    month_sums,
    pnl_lines,
)
from dashboard.services.scope import Principal, visible_sites

BASIS_LABELS = {BUDGET_BASIS: "Budget", PRIOR_YEAR_BASIS: "Prior year"}
CUMULATIVE_FLC = "flc_cumulative"


# --- Filters and scope ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """P&L filters (§7.3); every one given narrows the sites (they are intersected), and the
    result is always within the person's scope."""

    region_id: int | None = None
    district_id: int | None = None
    site_id: int | None = None
    account_manager_id: int | None = None
    contract_type: str | None = None
    business_segment: str | None = None


def _filtered_sites(principal: Principal, today: dt.date, filters: Filters | None):
    filters = filters or Filters()
    query = select(Site.id, Site.site_number, Site.name)
    visible = visible_sites(principal, today)
    if not figures_repo.every_site(visible):
        query = query.where(Site.id.in_(visible))
    if filters.region_id is not None:
        query = query.where(
            Site.district_id.in_(select(District.id).where(District.region_id == filters.region_id))
        )
    if filters.district_id is not None:
        query = query.where(Site.district_id == filters.district_id)
    if filters.site_id is not None:
        query = query.where(Site.id == filters.site_id)
    if filters.account_manager_id is not None:
        assigned = select(ScopeAssignment.site_id).where(
            ScopeAssignment.user_id == filters.account_manager_id,
            ScopeAssignment.site_id.is_not(None),
            or_(ScopeAssignment.valid_from.is_(None), ScopeAssignment.valid_from <= today),
            or_(ScopeAssignment.valid_to.is_(None), ScopeAssignment.valid_to >= today),
        )
        query = query.where(Site.id.in_(assigned))
    if filters.contract_type:
        # Flags are stored ';'-separated: match a whole flag, not a part of one.
        flags = literal(";") + Site.contract_types + literal(";")
        query = query.where(flags.contains(f";{filters.contract_type};", autoescape=True))
    if filters.business_segment:
        query = query.where(Site.business_segment == filters.business_segment)
    return query.order_by(Site.site_number)


def filtered_site_ids(
    session: Session, principal: Principal, today: dt.date, filters: Filters | None = None
) -> list[int]:
    """Ids of the sites the filters select, always within the person's scope, in site-number
    order."""
    return [row[0] for row in session.execute(_filtered_sites(principal, today, filters))]


# --- Portfolio view -------------------------------------------------------------------------


def _money(value: float) -> float:
    return round(float(value), 2)


def _variance_cell(value: float, basis_value: float, basis: str) -> dict:
    shown = pnl.variance_display(value, basis_value, basis)
    return {
        "amount": _money(shown.amount),
        "fraction": shown.fraction,
        "percent": shown.percent,
        "bold": shown.bold,
        "negative": shown.negative,
        "level": shown.level,
    }


def _month_matrix(frame: pd.DataFrame, ids: list[int], line: str) -> np.ndarray:
    """One line as a site × month array (rows in the order of ``ids``; missing = 0)."""
    position = {site_id: i for i, site_id in enumerate(ids)}
    rows = frame["site_id"].map(position)
    keep = rows.notna().to_numpy()
    rows = rows[keep].astype(int).to_numpy()
    cols = frame["month"].to_numpy()[keep].astype(int) - 1
    matrix = np.zeros((len(ids), 12))
    np.add.at(matrix, (rows, cols), frame[line].to_numpy(dtype=float)[keep])
    return matrix


def _site_rows(ids: list[int], names: dict, values: np.ndarray, basis: np.ndarray) -> list[dict]:
    """One line's drill-down: each site's monthly values and basis, in site-number order."""
    rounded = np.round(values, 2).tolist()
    rounded_basis = np.round(basis, 2).tolist()
    totals = np.round(values.sum(axis=1), 2).tolist()
    basis_totals = np.round(basis.sum(axis=1), 2).tolist()
    return [
        {
            "site_id": site_id,
            "site_number": names[site_id][0],
            "name": names[site_id][1],
            "values": rounded[i],
            "basis": rounded_basis[i],
            "total": totals[i],
            "basis_total": basis_totals[i],
        }
        for i, site_id in enumerate(ids)
    ]


def _scope(principal: Principal, today: dt.date, filters: Filters | None):
    """The filtered sites as a query of site ids, for use as a subquery (no IN-list)."""
    return _filtered_sites(principal, today, filters).with_only_columns(Site.id).order_by(None)


def _months(year: int, today: dt.date) -> list[dict]:
    kinds = [pnl.month_kind(year, m, today) for m in range(1, 13)]
    return [
        {
            "month": m,
            "label": calendar.month_abbr[m],
            "kind": kinds[m - 1],
            "actual": kinds[m - 1] == pnl.ACTUAL_MONTH,
        }
        for m in range(1, 13)
    ]


def _line_row(line: str, monthly: np.ndarray, basis_monthly: np.ndarray, basis, ir_total):
    total, basis_total = float(monthly.sum()), float(basis_monthly.sum())
    return {
        "line": line,
        "label": LINE_LABELS[line],
        "values": [_money(v) for v in monthly],
        "basis": [_money(v) for v in basis_monthly],
        "variance": [
            _variance_cell(float(v), float(b), basis)
            for v, b in zip(monthly, basis_monthly, strict=True)
        ],
        "total": _money(total),
        "basis_total": _money(basis_total),
        "total_variance": _variance_cell(total, basis_total, basis),
        "pct_of_ir": (None if line == "external_revenue" or not ir_total else total / ir_total),
    }


def _fallback_rows(session: Session, fallbacks: list[tuple[int, int, str]]) -> list[dict]:
    by_site: dict[int, dict] = {}
    for site_id, month, reason in fallbacks:
        entry = by_site.setdefault(site_id, {"site_id": site_id, "months": [], "reason": reason})
        entry["months"].append(month)
    if not by_site:
        return []
    names = {
        r[0]: (r[1], r[2])
        for r in session.execute(
            select(Site.id, Site.site_number, Site.name).where(Site.id.in_(sorted(by_site)))
        )
    }
    return [
        {
            "site_id": site_id,
            "site_number": names[site_id][0],
            "name": names[site_id][1],
            "months": sorted(entry["months"]),
            "reason": entry["reason"],
        }
        for site_id, entry in sorted(by_site.items())
    ]


def portfolio_pnl(
    session: Session,
    principal: Principal,
    year: int,
    today: dt.date,
    filters: Filters | None = None,
    basis: str = BUDGET_BASIS,
) -> dict:
    """The P&L of the filtered sites in the person's scope, summed in SQL, JSON-ready.

    ``months``: 12 entries (month, label, kind, actual). ``lines``: per P&L line and FLC the
    summed monthly ``values``, the ``basis`` values, per month and for the total the variance
    cell ($, fraction, % text, bold, negative, level — D4, §7.5), ``total``, ``basis_total``
    and ``pct_of_ir`` (fraction of the IR total; None for external revenue); then the row
    "FLC $ to basis – cumulative". ``ir_fallbacks``: sites whose forecast IR is the budget
    IR, with the reason (the first ``pnl.FALLBACKS_LISTED``; ``ir_fallback_count``: all). The sites of one line: ``portfolio_sites``.
    """
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    scope = _scope(principal, today, filters)
    count = session.scalar(select(func.count()).select_from(scope.subquery())) or 0
    if count:
        values, fallbacks, base = month_sums(session, scope, year, today, basis)
    else:
        values = {line: np.zeros(12) for line in SHOWN_LINES}
        base, fallbacks = dict(values), ([], 0)
    ir_total = float(values["internal_revenue"].sum())
    lines = [_line_row(line, values[line], base[line], basis, ir_total) for line in SHOWN_LINES]
    cumulative = pnl.cumulative_flc_to_budget(list(values["flc"]), list(base["flc"]))
    lines.append(
        {
            "line": CUMULATIVE_FLC,
            "label": f"FLC $ to {BASIS_LABELS[basis]} – Cumulative",
            "values": [_money(v) for v in cumulative],
            "total": _money(cumulative[-1]),
            "pct_of_ir": None,
        }
    )
    return {
        "year": year,
        "basis": basis,
        "basis_label": BASIS_LABELS[basis],
        "site_count": count,
        "months": _months(year, today),
        "lines": lines,
        "ir_fallbacks": _fallback_rows(session, fallbacks[0]),
        "ir_fallback_count": fallbacks[1],
    }


def portfolio_sites(
    session: Session,
    principal: Principal,
    year: int,
    today: dt.date,
    line: str,
    filters: Filters | None = None,
    basis: str = BUDGET_BASIS,
) -> list[dict]:
    """The drill-down of one line of ``portfolio_pnl``: each filtered site's monthly values
    and basis (site number and name, ``total``, ``basis_total``), in site-number order."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    if line not in SHOWN_LINES:
        raise ValueError(f"unknown line {line!r}")
    sites = session.execute(_filtered_sites(principal, today, filters)).all()
    ids = [s[0] for s in sites]
    if not ids:
        return []
    values = _month_matrix(pnl_lines(session, ids, year, today), ids, line)
    base = _month_matrix(basis_lines(session, ids, year, basis), ids, line)
    names = {s[0]: (s[1], s[2]) for s in sites}
    return _site_rows(ids, names, values, base)


def filter_options(session: Session, principal: Principal, today: dt.date) -> dict:
    """Choices of the P&L filters, limited to the sites the person may see."""
    visible = visible_sites(principal, today)
    rows = session.execute(
        select(
            Site.id,
            Site.site_number,
            Site.name,
            Site.business_segment,
            Site.contract_types,
            District.id,
            District.name,
            Region.id,
            Region.name,
        )
        .join(District, District.id == Site.district_id)
        .join(Region, Region.id == District.region_id)
        .where(Site.id.in_(visible))
        .order_by(Site.site_number)
    ).all()
    managers = session.execute(
        select(User.id, User.display_name)
        .join(ScopeAssignment, ScopeAssignment.user_id == User.id)
        .where(
            User.role == "account_manager",
            ScopeAssignment.site_id.in_(visible),
            or_(ScopeAssignment.valid_to.is_(None), ScopeAssignment.valid_to >= today),
        )
        .distinct()
        .order_by(User.display_name)
    ).all()

    def choices(pairs):
        return [{"value": str(v), "label": label} for v, label in dict(pairs).items()]

    return {
        "region": choices(sorted({(r[7], r[8]) for r in rows}, key=lambda p: p[1])),
        "district": choices(sorted({(r[5], r[6]) for r in rows}, key=lambda p: p[1])),
        "site": [{"value": str(r[0]), "label": f"{r[1]} · {r[2]}"} for r in rows],
        "account_manager": choices((m[0], m[1]) for m in managers),
        "contract_type": [
            {"value": f, "label": f}
            for f in sorted({f for r in rows for f in (r[4] or "").split(";") if f})
        ],
        "business_segment": [
            {"value": s, "label": s} for s in sorted({r[3] for r in rows if r[3]})
        ],
    }
