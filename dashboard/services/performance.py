"""Performance monitoring (DOMAIN.md §11): KPI trends for a site, a district, a region or
every permitted site; a site benchmarked against its peers; the FLC variance waterfall of a
site or a district. Queries only; every function checks the person's scope.

Peers outside the person's scope count in the distribution, the percentile and the rank (a
district manager compares a site with its whole region) but are never named: they appear as
"Peer outside your scope".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dashboard.data import figures as figures_repo
from dashboard.data.models import District, Region, Site
from dashboard.domain import kpi
from dashboard.domain.periods import add_months
from dashboard.services import kpi as components_service
from dashboard.services.kpi import ACTUAL, BUDGET, FORECAST, SERIES_LABELS, Month
from dashboard.services.scope import Principal, ScopeError, visible_site_ids

SITE, DISTRICT, REGION, ALL = "site", "district", "region", "all"
LEVELS = (SITE, DISTRICT, REGION, ALL)
PEER_GROUPS = {
    "district": "Same district",
    "region": "Same region",
    "segment": "Same business segment",
    "contract": "Same contract type",
}
OUTSIDE_SCOPE = "Peer outside your scope"
# The contract type a site is benchmarked by: its first IR-earning type in this order.
CONTRACT_ORDER = (
    "ManagementAgreement",
    "RevenueShare",
    "PerLaborHour",
    "PerOccupiedRoom",
    "FixedFee",
    "BillingAccount",
)
MAX_MONTHS = 36


def default_range(today: dt.date) -> tuple[Month, Month]:
    """The last 12 months before this one through December of this year."""
    return add_months(today.year, today.month, -12), (today.year, 12)


def month_choices(today: dt.date) -> list[Month]:
    """Months the pages offer: January two years back to December next year."""
    return components_service.months_between((today.year - 2, 1), (today.year + 1, 12))


def check_range(first: Month, last: Month, today: dt.date) -> None:
    choices = month_choices(today)
    if first not in choices or last not in choices:
        raise ValueError("Choose months between January two years back and December next year.")
    if last < first:
        raise ValueError("The last month is before the first month.")
    if len(components_service.months_between(first, last)) > MAX_MONTHS:
        raise ValueError(f"Choose at most {MAX_MONTHS} months.")


@dataclass(frozen=True)
class SiteInfo:
    site_id: int
    label: str
    district_id: int
    district: str
    region_id: int
    region: str
    segment: str
    contract: str


def _site_rows(session: Session, ids=None) -> dict[int, SiteInfo]:
    """Names, district, region, segment and contract of the sites: ``ids`` (a collection, or
    a scope's query of site ids: no IN-list of every site), or every site when None."""
    query = (
        select(
            Site.id,
            Site.site_number,
            Site.name,
            District.id,
            District.name,
            Region.id,
            Region.name,
            Site.business_segment,
            Site.contract_types,
        )
        .join(District, District.id == Site.district_id)
        .join(Region, Region.id == District.region_id)
    )
    if isinstance(ids, Select):
        query = query.where(figures_repo.site_filter(Site.id, ids))
    elif ids is not None:
        query = query.where(Site.id.in_(sorted(ids)))
    out = {}
    for sid, number, name, did, dname, rid, rname, segment, flags in session.execute(query):
        present = set((flags or "").split(";"))
        contract = next((c for c in CONTRACT_ORDER if c in present), "Not configured")
        out[sid] = SiteInfo(
            sid, f"{number} · {name}", did, dname, rid, rname, segment or "", contract
        )
    return out


def scope_choices(session: Session, principal: Principal, today: dt.date) -> dict:
    """Sites, districts and regions the person may pick (those holding a visible site)."""
    visible = visible_site_ids(session, principal, today)
    sites = sorted(_site_rows(session, visible).values(), key=lambda s: s.label)

    def pairs(key, label):
        seen = {}
        for s in sites:
            seen[getattr(s, key)] = getattr(s, label)
        return [{"value": str(k), "label": v} for k, v in sorted(seen.items(), key=lambda p: p[1])]

    return {
        SITE: [{"value": str(s.site_id), "label": s.label} for s in sites],
        DISTRICT: pairs("district_id", "district"),
        REGION: pairs("region_id", "region"),
        ALL: [{"value": "all", "label": "All my sites"}],
    }


def sites_for(
    session: Session, principal: Principal, today: dt.date, level: str, target: int | None
) -> tuple[list[int], str]:
    """The visible sites of a level/target and a label naming them; ScopeError when the
    target holds none of the person's sites."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    visible = visible_site_ids(session, principal, today)
    info = _site_rows(session, visible)
    if level == ALL:
        chosen = sorted(visible)
        label = "All my sites"
    elif level == SITE:
        chosen = [target] if target in visible else []
        label = info[target].label if chosen else ""
    elif level == DISTRICT:
        chosen = sorted(s for s, i in info.items() if i.district_id == target)
        label = info[chosen[0]].district if chosen else ""
    else:
        chosen = sorted(s for s, i in info.items() if i.region_id == target)
        label = f"{info[chosen[0]].region} region" if chosen else ""
    if not chosen:
        raise ScopeError("None of the chosen sites is in your scope.")
    return chosen, label


# --- KPI trends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trends:
    label: str
    site_count: int
    frame: pd.DataFrame  # period, series (label), one column per KPI, + components
    forecast_coverage: str  # which closed months have a submitted forecast


def kpi_trends(
    session: Session,
    principal: Principal,
    today: dt.date,
    level: str,
    target: int | None,
    first: Month,
    last: Month,
) -> Trends:
    check_range(first, last, today)
    ids, label = sites_for(session, principal, today, level, target)
    sums = components_service.component_sums(session, ids, first, last, today)
    keys = ["year", "month", "series"]
    frame = kpi.aggregate(sums, keys) if not sums.empty else sums.drop(columns="rows")
    if not frame.empty:
        frame["period"] = [f"{y:04d}-{m:02d}" for y, m in zip(frame.year, frame.month, strict=True)]
        frame["series"] = frame["series"].map(SERIES_LABELS)
        frame = frame.sort_values(["period", "series"]).reset_index(drop=True)
    closed_through = add_months(today.year, today.month, -1)
    closed = [ym for ym in components_service.months_between(first, last) if ym <= closed_through]
    key = sums["year"].astype(int) * 100 + sums["month"].astype(int)
    submitted_rows = sums.loc[
        (sums["series"] == FORECAST) & (key <= closed_through[0] * 100 + closed_through[1]),
        "rows",
    ]
    coverage = (
        f"Forecast in closed months = the submitted forecast: {int(submitted_rows.sum())} of "
        f"{len(closed) * len(ids)} site-months submitted."
        if closed
        else "Forecast = the live forecast (as on the P&L)."
    )
    return Trends(label, len(ids), frame, coverage)


# --- Benchmarking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    site_label: str
    peer_label: str
    peer_count: int
    ranks: list[dict]  # per KPI: value, peer median, percentile, rank, of
    distribution: pd.DataFrame  # site_id, site_label, value (chosen KPI)
    outliers: list[dict]  # site_label, value, robust_z
    hidden_outliers: int  # outliers outside the person's scope (not named)
    threshold: float


def _peer_ids(info: dict[int, SiteInfo], site: SiteInfo, group: str) -> list[int]:
    key = {
        "district": "district_id",
        "region": "region_id",
        "segment": "segment",
        "contract": "contract",
    }[group]
    return sorted(s for s, i in info.items() if getattr(i, key) == getattr(site, key))


def benchmark(
    session: Session,
    principal: Principal,
    today: dt.date,
    site_id: int,
    group: str,
    kpi_key: str,
    first: Month,
    last: Month,
    series: str = ACTUAL,
) -> Benchmark:
    """The site against its peers over the months ``first``..``last`` (KPIs of the summed
    components of the ``series``)."""
    check_range(first, last, today)
    if group not in PEER_GROUPS:
        raise ValueError(f"unknown peer group {group!r}")
    if kpi_key not in kpi.KPIS:
        raise ValueError(f"unknown KPI {kpi_key!r}")
    if series not in (ACTUAL, BUDGET, FORECAST):
        raise ValueError(f"unknown series {series!r}")
    visible = visible_site_ids(session, principal, today)
    if site_id not in visible:
        raise ScopeError("This site is not in your scope.")
    info = _site_rows(session)
    site = info[site_id]
    peers = _peer_ids(info, site, group)
    parts = components_service.components(session, peers, first, last, today, (series,))
    per_site = kpi.aggregate(parts, ["site_id"]) if not parts.empty else pd.DataFrame()
    per_site = per_site.set_index("site_id") if not per_site.empty else per_site

    def label_of(sid: int) -> str:
        return info[sid].label if sid in visible else OUTSIDE_SCOPE

    ranks = []
    for key, definition in kpi.KPIS.items():
        values = per_site[key] if key in per_site else pd.Series(dtype=float)
        value = float(values.get(site_id, np.nan)) if len(values) else np.nan
        finite = values.dropna()
        rank, of = (
            kpi.rank_of(finite.to_numpy(), value, definition.higher_is_better)
            if not np.isnan(value)
            else (None, len(finite))
        )
        ranks.append(
            {
                "kpi": key,
                "label": definition.label,
                "unit": definition.unit,
                "value": None if np.isnan(value) else value,
                "median": float(finite.median()) if len(finite) else None,
                "percentile": (
                    None
                    if np.isnan(value)
                    else _none_if_nan(
                        kpi.percentile_rank(finite.to_numpy(), value, definition.higher_is_better)
                    )
                ),
                "rank": rank,
                "of": of,
                "higher_is_better": definition.higher_is_better,
            }
        )
    values = per_site[kpi_key].dropna() if kpi_key in per_site else pd.Series(dtype=float)
    distribution = pd.DataFrame(
        {
            "site_id": values.index.astype(int),
            "site_label": [label_of(int(s)) for s in values.index],
            "value": values.to_numpy(dtype=float),
        }
    )
    found = kpi.outliers(distribution, "value")
    named = found[found["site_label"] != OUTSIDE_SCOPE]
    return Benchmark(
        site.label,
        PEER_GROUPS[group],
        len(peers),
        ranks,
        distribution,
        [
            {"site_label": r.site_label, "value": float(r.value), "robust_z": float(r.robust_z)}
            for r in named.itertuples(index=False)
        ],
        int(len(found) - len(named)),
        kpi.OUTLIER_THRESHOLD,
    )


def _none_if_nan(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


# --- Variance waterfall ---------------------------------------------------------------------


@dataclass(frozen=True)
class Waterfall:
    label: str
    target_label: str  # "Forecast", "Actual" or "Actual + forecast"
    budget_flc: float
    target_flc: float
    steps: dict[str, float]  # kpi.WATERFALL_STEPS keys + total
    site_count: int


def _drivers(row) -> kpi.FlcDrivers:
    def value(name):
        v = getattr(row, name)
        return 0.0 if v is None or np.isnan(v) else float(v)

    ir, payroll, flc = value("internal_revenue"), value("payroll"), value("flc")
    return kpi.FlcDrivers(
        vehicles=value("vehicles"),
        external_revenue=value("external_revenue"),
        internal_revenue=ir,
        payroll=payroll,
        labor_hours=value("labor_hours"),
        other_costs=round(ir - payroll - flc, 2),
    )


def flc_waterfall(
    session: Session,
    principal: Principal,
    today: dt.date,
    level: str,
    target: int | None,
    first: Month,
    last: Month,
) -> Waterfall:
    """Budget FLC → target FLC of a site or a district (Σ of its sites' waterfalls) over the
    months: actual for closed months, forecast for the current and later months."""
    if level not in (SITE, DISTRICT):
        raise ValueError("The variance breakdown is for a site or a district.")
    check_range(first, last, today)
    ids, label = sites_for(session, principal, today, level, target)
    parts = components_service.components(
        session, ids, first, last, today, (ACTUAL, BUDGET, FORECAST), with_linked_ir=True
    )
    closed_through = add_months(today.year, today.month, -1)
    closed = [(y, m) <= closed_through for y, m in zip(parts.year, parts.month, strict=True)]
    parts = parts.assign(closed=closed)
    target_rows = parts[
        (parts["closed"] & (parts["series"] == ACTUAL))
        | (~parts["closed"] & (parts["series"] == FORECAST))
    ]
    budget_rows = parts[parts["series"] == BUDGET]
    keys = ["site_id", "year", "month"]
    both = budget_rows.merge(target_rows, on=keys, suffixes=("_b", "_t"))
    items = []
    budget_flc = target_flc = 0.0
    for row in both.itertuples(index=False):
        b = _drivers(_Suffixed(row, "_b"))
        t = _drivers(_Suffixed(row, "_t"))
        # Stored with the figures (D14): no contract math on the request path.
        linked = 0.0 if np.isnan(row.ir_linked_t) else float(row.ir_linked_t)
        items.append(kpi.flc_waterfall(b, t, linked))
        budget_flc += b.flc
        target_flc += t.flc
    steps = kpi.sum_waterfalls(items)
    kinds = {bool(c) for c in both["closed_t"]} if not both.empty else set()
    target_label = (
        "Actual + forecast"
        if kinds == {True, False}
        else "Actual"
        if kinds == {True}
        else "Forecast"
    )
    return Waterfall(
        label,
        target_label,
        round(budget_flc, 2),
        round(budget_flc + steps[kpi.WATERFALL_TOTAL], 2),
        steps,
        len(ids),
    )


class _Suffixed:
    """Attribute access to a merged row's columns of one side (``_b`` / ``_t``)."""

    def __init__(self, row, suffix: str) -> None:
        self._row, self._suffix = row, suffix

    def __getattr__(self, name: str):
        value = getattr(self._row, f"{name}{self._suffix}")
        return float(value) if value is not None else np.nan
