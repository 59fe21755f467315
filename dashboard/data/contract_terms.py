"""Contract terms of a set of sites as ``dashboard.domain.revenue.SiteTerms`` (DOMAIN.md §7.2):
one query per contract table for all the sites at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data.models import (
    BillableAccount,
    Contract,
    FixedFeeLine,
    ManagementBillableExpense,
    PlhJobRate,
    ShareTier,
    Site,
)
from dashboard.domain import revenue as rv


def site_terms(session: Session, site_ids: Iterable[int]) -> dict[int, rv.SiteTerms]:
    """Contract terms of every site in ``site_ids`` (one query per contract table).

    A site without a ``Contract`` row is unconfigured (its IR falls back to budget). The
    contract start that anchors anniversary years is the site's start date.
    """
    ids = sorted({int(s) for s in site_ids})
    if not ids:
        return {}
    sites = session.execute(
        select(Site.id, Site.contract_types, Site.start_date).where(Site.id.in_(ids))
    ).all()
    contracts = {
        row["site_id"]: row
        for row in session.execute(
            select(*Contract.__table__.c).where(Contract.site_id.in_(ids))
        ).mappings()
    }
    fees: dict[int, list[rv.FeeLine]] = defaultdict(list)
    for r in session.execute(
        select(
            FixedFeeLine.site_id,
            FixedFeeLine.monthly_fee,
            FixedFeeLine.start_date,
            FixedFeeLine.end_date,
            FixedFeeLine.name,
        )
        .where(FixedFeeLine.site_id.in_(ids))
        .order_by(FixedFeeLine.id)
    ):
        fees[r.site_id].append(
            rv.FeeLine(float(r.monthly_fee or 0.0), r.start_date, r.end_date, r.name)
        )
    rates: dict[int, list[rv.JobRate]] = defaultdict(list)
    for r in session.execute(
        select(
            PlhJobRate.site_id,
            PlhJobRate.job_code_id,
            PlhJobRate.rate,
            PlhJobRate.start_date,
            PlhJobRate.end_date,
            PlhJobRate.overtime_rate,
        )
        .where(PlhJobRate.site_id.in_(ids))
        .order_by(PlhJobRate.id)
    ):
        rates[r.site_id].append(
            rv.JobRate(
                r.job_code_id,
                float(r.rate or 0.0),
                r.start_date,
                r.end_date,
                float(r.overtime_rate or 0.0),
            )
        )
    tiers: dict[tuple[int, str], list[rv.Tier]] = defaultdict(list)
    for r in session.execute(
        select(ShareTier.site_id, ShareTier.scheme, ShareTier.lower_bound, ShareTier.share_pct)
        .where(ShareTier.site_id.in_(ids))
        .order_by(ShareTier.lower_bound)
    ):
        tiers[(r.site_id, r.scheme)].append(
            rv.Tier(float(r.lower_bound or 0.0), float(r.share_pct or 0.0))
        )
    accounts: dict[int, list[rv.BillableAccount]] = defaultdict(list)
    for r in session.execute(
        select(
            BillableAccount.site_id,
            BillableAccount.code,
            BillableAccount.kind,
            BillableAccount.enabled,
        )
        .where(BillableAccount.site_id.in_(ids))
        .order_by(BillableAccount.id)
    ):
        accounts[r.site_id].append(rv.BillableAccount(r.code, r.kind, bool(r.enabled)))
    expenses: dict[int, list[rv.NonGlExpense]] = defaultdict(list)
    for r in session.execute(
        select(
            ManagementBillableExpense.site_id,
            ManagementBillableExpense.basis,
            ManagementBillableExpense.value,
            ManagementBillableExpense.name,
        )
        .where(ManagementBillableExpense.site_id.in_(ids))
        .order_by(ManagementBillableExpense.id)
    ):
        expenses[r.site_id].append(rv.NonGlExpense(r.basis, float(r.value or 0.0), r.name))

    terms: dict[int, rv.SiteTerms] = {}
    for site_id, flags, start in sites:
        c = contracts.get(site_id)
        if c is None:
            terms[site_id] = rv.SiteTerms(flags or "", is_configured=False, contract_start=start)
            continue
        billable = rv.BillableAccountTerms(
            accounts=tuple(accounts[site_id]),
            additional_payroll_amount=float(c["additional_payroll_amount"] or 0.0),
            pteb_enabled=bool(c["pteb_enabled"]),
            pteb_type=c["pteb_type"] or rv.PERCENTAGE,
            pteb_pct=float(c["pteb_pct"] or 0.0),
            pteb_escalator_month=c["pteb_escalator_month"],
            pteb_escalator_value=float(c["pteb_escalator_value"] or 0.0),
            pteb_escalator_type=c["pteb_escalator_type"] or rv.PERCENTAGE,
            support_enabled=bool(c["support_enabled"]),
            support_type=c["support_type"] or rv.PERCENTAGE,
            support_amount=float(c["support_amount"] or 0.0),
            support_payroll_type=c["support_payroll_type"] or rv.BILLABLE_PAYROLL,
        )
        management = rv.ManagementAgreementTerms(
            fee_type=c["management_fee_type"],
            fee_amount=float(c["management_fee_amount"] or 0.0),
            insurance_type=c["ma_insurance_type"] or rv.INSURANCE_BASED_ON_BILLABLE_ACCOUNTS,
            insurance_additional_pct=float(c["ma_insurance_additional_pct"] or 0.0),
            claims_cap=float(c["claims_cap"] or 0.0),
            claims_cap_type=c["claims_cap_type"],
            profit_share_tiers=tuple(tiers[(site_id, "profit_share")]),
            profit_share_accumulation=c["profit_share_accumulation"] or rv.MONTHLY,
            billable_expenses=tuple(expenses[site_id]),
        )
        terms[site_id] = rv.SiteTerms(
            flags or "",
            is_configured=bool(c["is_configured"]),
            increment_month=c["increment_month"],
            increment_pct=float(c["increment_pct"] or 0.0),
            contract_start=start,
            fee_lines=tuple(fees[site_id]),
            job_rates=tuple(rates[site_id]),
            occupied_room_rate=float(c["occupied_room_rate"] or 0.0),
            revenue_share_tiers=tuple(tiers[(site_id, "revenue_share")]),
            revenue_share_accumulation=c["revenue_share_accumulation"] or rv.MONTHLY,
            billable=billable,
            management=management,
        )
    return terms
