"""Queries behind the home page of each role; all scoped, aggregated in SQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.data.models import District, PnlMonth, Region, ScopeAssignment, Site, User
from dashboard.domain.pnl import FLC_EXPENSE_LINES, flc
from dashboard.services.scope import Principal, visible_sites

BUDGET_LINES = ("external_revenue", "internal_revenue", *FLC_EXPENSE_LINES)


def _budget_sums():
    return [
        func.coalesce(func.sum(getattr(PnlMonth, line)), 0).label(line) for line in BUDGET_LINES
    ]


def visible_site_list(session: Session, principal: Principal, today: dt.date) -> list[dict]:
    """(site_id, site_number, name) of every visible site, sorted by site number."""
    query = (
        select(Site.id.label("site_id"), Site.site_number, Site.name)
        .where(Site.id.in_(visible_sites(principal, today)))
        .order_by(Site.site_number)
    )
    return [dict(row) for row in session.execute(query).mappings()]


def site_budget_summary(
    session: Session, principal: Principal, year: int, month: int, today: dt.date
) -> pd.DataFrame:
    """One row per visible site: number, name, district, contract type, the month's budget
    external revenue and FLC. Sorted by site number."""
    query = (
        select(
            Site.id.label("site_id"),
            Site.site_number,
            Site.name,
            District.name.label("district"),
            Site.contract_types,
            Site.business_segment,
            Site.total_rooms,
            *_budget_sums(),
        )
        .join(District, District.id == Site.district_id)
        .outerjoin(
            PnlMonth,
            (PnlMonth.site_id == Site.id)
            & (PnlMonth.year == year)
            & (PnlMonth.month == month)
            & (PnlMonth.kind == "budget"),
        )
        .where(Site.id.in_(visible_sites(principal, today)))
        .group_by(
            Site.id,
            Site.site_number,
            Site.name,
            District.name,
            Site.contract_types,
            Site.business_segment,
            Site.total_rooms,
        )
        .order_by(Site.site_number)
    )
    frame = pd.DataFrame(session.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "site_id",
                "site_number",
                "name",
                "district",
                "contract_types",
                "business_segment",
                "total_rooms",
                "external_revenue",
                "flc",
                "account_managers",
            ]
        )
    for line in BUDGET_LINES:
        frame[line] = frame[line].astype(float)
    frame["flc"] = flc(frame)
    managers = account_managers_by_site(session, frame["site_id"].tolist(), today)
    frame["account_managers"] = frame["site_id"].map(managers).fillna("")
    return frame.drop(columns=[c for c in BUDGET_LINES if c != "external_revenue"])


def account_managers_by_site(
    session: Session, site_ids: list[int], today: dt.date
) -> dict[int, str]:
    """Names of the account managers currently assigned to each of ``site_ids``."""
    query = (
        select(ScopeAssignment.site_id, User.display_name)
        .join(User, User.id == ScopeAssignment.user_id)
        .where(
            ScopeAssignment.site_id.in_(site_ids),
            User.role == "account_manager",
            User.is_active.is_(True),
            (ScopeAssignment.valid_from.is_(None)) | (ScopeAssignment.valid_from <= today),
            (ScopeAssignment.valid_to.is_(None)) | (ScopeAssignment.valid_to >= today),
        )
        .order_by(ScopeAssignment.site_id, User.display_name)
    )
    names: dict[int, list[str]] = {}
    for site_id, name in session.execute(query):
        names.setdefault(site_id, []).append(name)
    return {site_id: ", ".join(people) for site_id, people in names.items()}


def district_budget_overview(
    session: Session, principal: Principal, year: int, month: int, today: dt.date
) -> pd.DataFrame:
    """One row per district with visible sites: region, district, site count, the month's
    budget external revenue, internal revenue and FLC."""
    scoped = visible_sites(principal, today).subquery()
    site_counts = (
        select(Site.district_id, func.count().label("sites"))
        .where(Site.id.in_(select(scoped.c.id)))
        .group_by(Site.district_id)
        .subquery()
    )
    sums = (
        select(Site.district_id, *_budget_sums())
        .join(PnlMonth, PnlMonth.site_id == Site.id)
        .where(
            Site.id.in_(select(scoped.c.id)),
            PnlMonth.year == year,
            PnlMonth.month == month,
            PnlMonth.kind == "budget",
        )
        .group_by(Site.district_id)
        .subquery()
    )
    query = (
        select(
            Region.name.label("region"),
            District.id.label("district_id"),
            District.name.label("district"),
            site_counts.c.sites,
            *[func.coalesce(getattr(sums.c, line), 0).label(line) for line in BUDGET_LINES],
        )
        .join(Region, Region.id == District.region_id)
        .join(site_counts, site_counts.c.district_id == District.id)
        .outerjoin(sums, sums.c.district_id == District.id)
        .order_by(Region.name, District.name)
    )
    frame = pd.DataFrame(session.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "region",
                "district_id",
                "district",
                "sites",
                "external_revenue",
                "internal_revenue",
                "flc",
            ]
        )
    for line in BUDGET_LINES:
        frame[line] = frame[line].astype(float)
    frame["flc"] = flc(frame)
    keep = [
        "region",
        "district_id",
        "district",
        "sites",
        "external_revenue",
        "internal_revenue",
        "flc",
    ]
    return frame[keep]


def region_totals(districts: pd.DataFrame) -> pd.DataFrame:
    """Roll the district overview up to regions."""
    if districts.empty:
        return pd.DataFrame(
            columns=["region", "districts", "sites", "external_revenue", "internal_revenue", "flc"]
        )
    return (
        districts.groupby("region", as_index=False)
        .agg(
            districts=("district", "count"),
            sites=("sites", "sum"),
            external_revenue=("external_revenue", "sum"),
            internal_revenue=("internal_revenue", "sum"),
            flc=("flc", "sum"),
        )
        .sort_values("region")
    )


def site_month_detail(
    session: Session, principal: Principal, site_id: int, year: int, month: int, today: dt.date
) -> dict | None:
    """The month's budget P&L lines and FLC of one site; None when the site is out of scope
    or unknown (the caller cannot tell which: nothing leaks)."""
    query = (
        select(Site.site_number, Site.name, Site.contract_types, *_budget_sums())
        .outerjoin(
            PnlMonth,
            (PnlMonth.site_id == Site.id)
            & (PnlMonth.year == year)
            & (PnlMonth.month == month)
            & (PnlMonth.kind == "budget"),
        )
        .where(Site.id == site_id, Site.id.in_(visible_sites(principal, today)))
        .group_by(Site.site_number, Site.name, Site.contract_types)
    )
    row = session.execute(query).mappings().first()
    if row is None:
        return None
    detail = dict(row)
    for line in BUDGET_LINES:
        detail[line] = float(detail[line])
    detail["flc"] = flc(detail)
    return detail
