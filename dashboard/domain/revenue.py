"""Internal revenue (IR) per contract component (DOMAIN.md §1.1, §2.3, §7.2).

Pure functions on plain numbers; rates and percentages are fractions (decision D1). Every
component has one function; ``internal_revenue`` sums the components a contract carries
(hybrid contracts earn the sum) and falls back to the budget IR, with a reason, when the
contract math cannot be done.

Inputs are small frozen dataclasses a service builds from database rows:

* ``SiteTerms`` — the contract configuration (``Contract`` and its child tables);
* ``MonthInputs`` — one site-month's drivers: external revenue, occupied rooms, hours per job
  code, payroll, PTEB, insurance, claims, GL account amounts, other revenue and the budget IR;
* ``YearToDate`` — amounts of the earlier months of an accumulation period (revenue share,
  profit share, claims cap). ``internal_revenue_series`` threads it through consecutive months.

The current ("trending") month needs no separate formula: every component is linear in its
drivers except the tiers, which apply to the month's total, so computing once on the month's
blended drivers (actual to date + forecast for the remaining days) equals the day-by-day
recomputation of §7.4.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dashboard.domain.periods import add_months

# Contract flags that earn internal revenue (§1.1). Billing modifiers (BellService,
# MidMonthAdvance, DepositedRevenue, InvoiceGrouping) do not change the forecast math.
FIXED_FEE = "FixedFee"
PER_LABOR_HOUR = "PerLaborHour"
PER_OCCUPIED_ROOM = "PerOccupiedRoom"
REVENUE_SHARE = "RevenueShare"
MANAGEMENT_AGREEMENT = "ManagementAgreement"
BILLING_ACCOUNT = "BillingAccount"
IR_CONTRACT_TYPES = (
    FIXED_FEE,
    PER_LABOR_HOUR,
    PER_OCCUPIED_ROOM,
    REVENUE_SHARE,
    MANAGEMENT_AGREEMENT,
    BILLING_ACCOUNT,
)

# Accumulation of tiered shares and of the claims cap (§2.3).
MONTHLY = "Monthly"
ANNUAL_CALENDAR = "AnnualCalendar"
ANNUAL_ANNIVERSARY = "AnnualAnniversary"
ACCUMULATIONS = (MONTHLY, ANNUAL_CALENDAR, ANNUAL_ANNIVERSARY)
PER_CLAIM = "PerClaim"  # claims cap only

# Billable accounts (§2.3).
PAYROLL_ACCOUNT, EXPENSE_ACCOUNT = "payroll", "expense"
PERCENTAGE, ACTUAL, AMOUNT, FIXED = "Percentage", "Actual", "Amount", "Fixed"
BILLABLE_PAYROLL, TOTAL_PAYROLL = "Billable", "Total"

# Management agreement (§2.3).
MA_FIXED_FEE, MA_PER_LABOR_HOUR, MA_REVENUE_PERCENTAGE = (
    "FixedFee",
    "PerLaborHour",
    "RevenuePercentage",
)
INSURANCE_BASED_ON_BILLABLE_ACCOUNTS, INSURANCE_FIXED_FEE = "BasedOnBillableAccounts", "FixedFee"
FIXED_AMOUNT, PAYROLL_PERCENT, REVENUE_PERCENT = "FixedAmount", "PayrollPercent", "RevenuePercent"


# --- Escalators and activity --------------------------------------------------------------


def escalation_count(start: dt.date, month_start: dt.date, increment_month: int | None) -> int:
    """How many annual escalations apply in the month beginning ``month_start``.

    An escalation happens on the 1st of ``increment_month`` each year after the line started
    (a line starting on that very day is priced new), up to and including ``month_start``.
    """
    if not increment_month:
        return 0
    count = 0
    for year in range(start.year, month_start.year + 1):
        trigger = dt.date(year, increment_month, 1)
        if start < trigger <= month_start:
            count += 1
    return count


def escalated(amount: float, pct: float, escalations: int) -> float:
    """amount × (1 + pct) ** escalations (compounding)."""
    return amount * (1.0 + pct) ** escalations


def is_active(start: dt.date, end: dt.date | None, on: dt.date) -> bool:
    return start <= on and (end is None or end >= on)


# --- Fixed fee, per occupied room, per labor hour -----------------------------------------


def fixed_fee(
    lines: Iterable[tuple[float, dt.date, dt.date | None]],
    month_start: dt.date,
    increment_month: int | None,
    increment_pct: float,
) -> float:
    """Σ of the service fees active on the 1st of the month, each escalated (compounding)."""
    total = 0.0
    for fee, start, end in lines:
        if is_active(start, end, month_start):
            n = escalation_count(start, month_start, increment_month)
            total += escalated(fee, increment_pct, n)
    return total


def per_occupied_room(room_rate: float, occupied_rooms: float) -> float:
    """Fee per occupied room × occupied rooms of the month (no escalator: §7.2 calls the POR
    escalator a placeholder)."""
    return room_rate * occupied_rooms


def per_labor_hour(
    rated_hours: Iterable[tuple[float, float, dt.date, dt.date | None]],
    month_start: dt.date,
    increment_month: int | None,
    increment_pct: float,
) -> float:
    """Σ over job rates active in the month of hours × regular billable rate (escalated).

    ``rated_hours`` holds (hours, regular rate, rate start, rate end) per job code. The P&L
    uses the regular rate only; the Payroll tab's 40-hour overtime split is not applied.
    """
    total = 0.0
    for hours, rate, start, end in rated_hours:
        if is_active(start, end, month_start):
            n = escalation_count(start, month_start, increment_month)
            total += hours * escalated(rate, increment_pct, n)
    return total


# --- Tiered shares (revenue share, profit share) ------------------------------------------


def tiered_share(amount: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Share of ``amount`` under tiers of (lower bound, share fraction), sorted by bound first.

    Revenue in a tier = max(0, min(amount, next bound) − bound).
    """
    ordered = sorted(tiers)
    total = 0.0
    for i, (bound, pct) in enumerate(ordered):
        upper = ordered[i + 1][0] if i + 1 < len(ordered) else float("inf")
        total += max(0.0, min(amount, upper) - bound) * pct
    return total


def accumulated_share(
    amount: float, prior_amount: float, tiers: Sequence[tuple[float, float]]
) -> float:
    """This month's share when the tiers apply to an accumulated total.

    share = tiered_share(prior + amount) − tiered_share(prior): ``prior_amount`` (the earlier
    months of the accumulation period) decides where the month starts on the tier ladder, and
    a month that crosses a bound is split at it. The months of a period therefore add up to
    the tiers applied to the period's total; a negative month (a loss under profit share)
    gives back share earned earlier in the period.
    """
    return tiered_share(prior_amount + amount, tiers) - tiered_share(prior_amount, tiers)


def revenue_share_monthly(external_revenue: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Revenue share with monthly accumulation: the tiers apply to the month's revenue."""
    return tiered_share(external_revenue, tiers)


def revenue_share(
    external_revenue: float,
    tiers: Sequence[tuple[float, float]],
    prior_revenue: float = 0.0,
) -> float:
    """Revenue share of a month; ``prior_revenue`` is the external revenue of the earlier
    months of the accumulation period (0 for monthly accumulation)."""
    return accumulated_share(external_revenue, prior_revenue, tiers)


def prior_for(accumulation: str, year_to_date: float) -> float:
    """The accumulated amount a share starts from: 0 for monthly accumulation."""
    if accumulation not in ACCUMULATIONS:
        raise ValueError(f"unknown accumulation {accumulation!r}")
    return 0.0 if accumulation == MONTHLY else year_to_date


def accumulation_period_start(
    month_start: dt.date, accumulation: str, contract_start: dt.date | None = None
) -> dt.date:
    """First month of the accumulation period containing ``month_start``.

    Monthly → the month itself; AnnualCalendar → January; AnnualAnniversary → the latest
    1st of the contract's start month on or before the month (no start date → January).
    """
    if accumulation == MONTHLY:
        return month_start
    if accumulation == ANNUAL_CALENDAR or (
        accumulation == ANNUAL_ANNIVERSARY and contract_start is None
    ):
        return dt.date(month_start.year, 1, 1)
    if accumulation == ANNUAL_ANNIVERSARY:
        year = (
            month_start.year if month_start.month >= contract_start.month else month_start.year - 1
        )
        return dt.date(year, contract_start.month, 1)
    raise ValueError(f"unknown accumulation {accumulation!r}")


# --- Input records ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLine:
    """A fixed-fee service line (``FixedFeeLine``): monthly fee from start to end."""

    monthly_fee: float
    start_date: dt.date
    end_date: dt.date | None = None
    name: str = ""


@dataclass(frozen=True)
class JobRate:
    """A PLH billable rate (``PlhJobRate``); ``job_code`` keys ``MonthInputs.hours_by_job_code``."""

    job_code: str | int
    rate: float
    start_date: dt.date
    end_date: dt.date | None = None
    overtime_rate: float = 0.0  # not used by the P&L (regular rate only)


@dataclass(frozen=True)
class Tier:
    """A share tier (``ShareTier``): ``share_pct`` (fraction) of the amount above
    ``lower_bound`` up to the next tier's bound."""

    lower_bound: float
    share_pct: float


@dataclass(frozen=True)
class BillableAccount:
    """A billable GL account (``BillableAccount``): kind payroll (6000s) or expense (7000s)."""

    code: str
    kind: str
    enabled: bool = True


@dataclass(frozen=True)
class NonGlExpense:
    """A management agreement's non-GL billable expense (``ManagementBillableExpense``):
    basis FixedAmount ($ a month), PayrollPercent or RevenuePercent (fraction)."""

    basis: str
    value: float
    name: str = ""


@dataclass(frozen=True)
class BillableAccountTerms:
    """Billable-accounts settings (the ``Contract`` columns of that name)."""

    accounts: tuple[BillableAccount, ...] = ()
    additional_payroll_amount: float = 0.0  # configured $ a month on top of the accounts
    pteb_enabled: bool = False
    pteb_type: str = PERCENTAGE  # Percentage | Actual
    pteb_pct: float = 0.0
    pteb_escalator_month: int | None = None
    pteb_escalator_value: float = 0.0  # $ (Amount) or fraction (Percentage)
    pteb_escalator_type: str = PERCENTAGE  # Amount | Percentage
    support_enabled: bool = False
    support_type: str = PERCENTAGE  # Fixed | Percentage
    support_amount: float = 0.0  # $ a month (Fixed) or fraction (Percentage)
    support_payroll_type: str = BILLABLE_PAYROLL  # Billable | Total

    @property
    def is_configured(self) -> bool:
        return (
            any(a.enabled for a in self.accounts)
            or self.pteb_enabled
            or self.support_enabled
            or bool(self.additional_payroll_amount)
        )


@dataclass(frozen=True)
class ManagementAgreementTerms:
    """Management-agreement settings (the ``Contract`` MA columns and child tables)."""

    fee_type: str | None = None  # FixedFee | PerLaborHour | RevenuePercentage
    fee_amount: float = 0.0  # $ a month, $ an hour, or fraction of external revenue
    insurance_type: str | None = INSURANCE_BASED_ON_BILLABLE_ACCOUNTS
    insurance_additional_pct: float = 0.0  # extra fraction of forecast payroll (see pnl)
    insurance_fixed_amount: float = 0.0  # $ a month when insurance_type is FixedFee
    claims_cap: float = 0.0
    claims_cap_type: str | None = None  # PerClaim | AnnualCalendar | AnnualAnniversary
    profit_share_tiers: tuple[Tier, ...] = ()
    profit_share_accumulation: str = MONTHLY
    billable_expenses: tuple[NonGlExpense, ...] = ()


@dataclass(frozen=True)
class SiteTerms:
    """A site's contract terms. ``contract_types`` takes the flags (any iterable or the
    ';'-separated text stored on ``Site``); ``contract_start`` anchors anniversary years."""

    contract_types: frozenset[str]
    is_configured: bool = True
    increment_month: int | None = None
    increment_pct: float = 0.0
    contract_start: dt.date | None = None
    fee_lines: tuple[FeeLine, ...] = ()
    job_rates: tuple[JobRate, ...] = ()
    occupied_room_rate: float = 0.0
    revenue_share_tiers: tuple[Tier, ...] = ()
    revenue_share_accumulation: str = MONTHLY
    billable: BillableAccountTerms = field(default_factory=BillableAccountTerms)
    management: ManagementAgreementTerms = field(default_factory=ManagementAgreementTerms)

    def __post_init__(self) -> None:
        flags = self.contract_types
        if isinstance(flags, str):
            flags = flags.split(";")
        object.__setattr__(self, "contract_types", frozenset(f.strip() for f in flags if f))

    def has(self, contract_type: str) -> bool:
        return contract_type in self.contract_types

    @property
    def is_management_agreement(self) -> bool:
        return self.has(MANAGEMENT_AGREEMENT)


@dataclass(frozen=True)
class MonthInputs:
    """One site-month's drivers (forecast, or blended for the current month).

    * ``occupied_rooms`` — forecast rooms, else budget rooms (the service chooses).
    * ``payroll``, ``pteb``, ``insurance`` — the month's P&L lines (``dashboard.domain.pnl``
      computes them); a management agreement passes them through.
    * ``claims`` — the individual claims posted in the month (none in forecast months).
    * ``account_amounts`` — amount per GL account code for the billable accounts: the month's
      forecast for the 12 Other-Expense accounts, else the budget of the account.
    * ``other_revenue`` / ``other_revenue_budget`` — Σ of the Other Revenue tab's signed
      columns, forecast and budget.
    * ``budget_internal_revenue`` — the budget IR, used when the contract math cannot be done.
    """

    month_start: dt.date
    external_revenue: float = 0.0
    occupied_rooms: float = 0.0
    hours_by_job_code: Mapping[str | int, float] = field(default_factory=dict)
    payroll: float = 0.0
    pteb: float = 0.0
    insurance: float = 0.0
    claims: tuple[float, ...] = ()
    account_amounts: Mapping[str, float] = field(default_factory=dict)
    other_revenue: float = 0.0
    other_revenue_budget: float = 0.0
    budget_internal_revenue: float = 0.0

    @property
    def labor_hours(self) -> float:
        return sum(self.hours_by_job_code.values())


@dataclass(frozen=True)
class YearToDate:
    """Totals of the earlier months of each accumulation period, before the month computed:
    external revenue (revenue share), profit-share basis, claims already passed through."""

    external_revenue: float = 0.0
    profit: float = 0.0
    claims_passed_through: float = 0.0


# --- Billable accounts --------------------------------------------------------------------


def enabled_account_total(
    accounts: Iterable[BillableAccount], kind: str, amounts: Mapping[str, float]
) -> float:
    """Σ of the month's amounts of the enabled (non-excluded) accounts of one kind."""
    return sum(amounts.get(a.code, 0.0) for a in accounts if a.enabled and a.kind == kind)


def billable_payroll(terms: BillableAccountTerms, amounts: Mapping[str, float]) -> float:
    """Additional (billable) payroll: enabled payroll accounts + the configured extra amount."""
    return (
        enabled_account_total(terms.accounts, PAYROLL_ACCOUNT, amounts)
        + terms.additional_payroll_amount
    )


def billable_pteb(
    terms: BillableAccountTerms, billable_payroll_amount: float, pteb: float, month_start: dt.date
) -> float:
    """Billed PTEB. Percentage: billable payroll × pct, escalated from the escalator month
    of the year onward (+ $ value for Amount, × (1 + value) for Percentage). Actual: the
    month's P&L PTEB (``pteb``) as incurred; no escalator."""
    if not terms.pteb_enabled:
        return 0.0
    if terms.pteb_type == ACTUAL:
        return pteb
    if terms.pteb_type != PERCENTAGE:
        raise ValueError(f"unknown PTEB type {terms.pteb_type!r}")
    amount = billable_payroll_amount * terms.pteb_pct
    if terms.pteb_escalator_month and month_start.month >= terms.pteb_escalator_month:
        if terms.pteb_escalator_type == AMOUNT:
            amount += terms.pteb_escalator_value
        elif terms.pteb_escalator_type == PERCENTAGE:
            amount *= 1.0 + terms.pteb_escalator_value
        else:
            raise ValueError(f"unknown PTEB escalator type {terms.pteb_escalator_type!r}")
    return amount


def support_services(terms: BillableAccountTerms, payroll: float, pteb: float) -> float:
    """Support services: Fixed $, or pct × payroll (Billable), or pct × (payroll + PTEB)
    (Total, as §7.2 defines it)."""
    if not terms.support_enabled:
        return 0.0
    if terms.support_type == FIXED:
        return terms.support_amount
    if terms.support_type != PERCENTAGE:
        raise ValueError(f"unknown support services type {terms.support_type!r}")
    if terms.support_payroll_type == BILLABLE_PAYROLL:
        return terms.support_amount * payroll
    if terms.support_payroll_type == TOTAL_PAYROLL:
        return terms.support_amount * (payroll + pteb)
    raise ValueError(f"unknown support payroll type {terms.support_payroll_type!r}")


@dataclass(frozen=True)
class BillableAccountsBreakdown:
    additional_payroll: float = 0.0
    pteb: float = 0.0
    support_services: float = 0.0
    expense_accounts: float = 0.0

    @property
    def total(self) -> float:
        return self.additional_payroll + self.pteb + self.support_services + self.expense_accounts


def billable_accounts(
    terms: BillableAccountTerms, inputs: MonthInputs
) -> BillableAccountsBreakdown:
    """Billable-accounts IR: additional payroll + PTEB + support services + expense accounts."""
    payroll = billable_payroll(terms, inputs.account_amounts)
    pteb = billable_pteb(terms, payroll, inputs.pteb, inputs.month_start)
    return BillableAccountsBreakdown(
        additional_payroll=payroll,
        pteb=pteb,
        support_services=support_services(terms, payroll, pteb),
        expense_accounts=enabled_account_total(
            terms.accounts, EXPENSE_ACCOUNT, inputs.account_amounts
        ),
    )


# --- Management agreement -----------------------------------------------------------------


def management_fee(
    fee_type: str | None, amount: float, labor_hours: float, external_revenue: float
) -> float:
    """Fixed $ a month, $ per labor hour, or fraction of external revenue; none → 0."""
    if fee_type is None:
        return 0.0
    if fee_type == MA_FIXED_FEE:
        return amount
    if fee_type == MA_PER_LABOR_HOUR:
        return amount * labor_hours
    if fee_type == MA_REVENUE_PERCENTAGE:
        return amount * external_revenue
    raise ValueError(f"unknown management fee type {fee_type!r}")


def claims_pass_through(
    claims: Sequence[float], cap: float, cap_type: str | None, prior_passed_through: float = 0.0
) -> float:
    """Claims billed to the client. PerClaim: Σ min(claim, cap). Annual: what is left of the
    cap after ``prior_passed_through`` (earlier months of the period). No cap type: all."""
    if cap_type is None:
        return float(sum(claims))
    if cap_type == PER_CLAIM:
        return float(sum(min(claim, cap) for claim in claims))
    if cap_type in (ANNUAL_CALENDAR, ANNUAL_ANNIVERSARY):
        return min(float(sum(claims)), max(0.0, cap - prior_passed_through))
    raise ValueError(f"unknown claims cap type {cap_type!r}")


def non_gl_expense(expense: NonGlExpense, payroll: float, external_revenue: float) -> float:
    """FixedAmount $, or fraction of payroll, or fraction of external revenue."""
    if expense.basis == FIXED_AMOUNT:
        return expense.value
    if expense.basis == PAYROLL_PERCENT:
        return expense.value * payroll
    if expense.basis == REVENUE_PERCENT:
        return expense.value * external_revenue
    raise ValueError(f"unknown non-GL expense basis {expense.basis!r}")


@dataclass(frozen=True)
class ManagementAgreementBreakdown:
    """MA IR by part. ``profit_basis`` = external revenue − every billed part before the
    profit share: the amount the profit-share tiers apply to (kept for year-to-date)."""

    management_fee: float = 0.0
    payroll: float = 0.0
    pteb: float = 0.0
    insurance: float = 0.0
    claims: float = 0.0
    support_services: float = 0.0
    expense_accounts: float = 0.0
    non_gl_expenses: float = 0.0
    profit_share: float = 0.0
    profit_basis: float = 0.0

    @property
    def billed_before_profit_share(self) -> float:
        return (
            self.management_fee
            + self.payroll
            + self.pteb
            + self.insurance
            + self.claims
            + self.support_services
            + self.expense_accounts
            + self.non_gl_expenses
        )

    @property
    def total(self) -> float:
        return self.billed_before_profit_share + self.profit_share


def management_agreement(
    terms: SiteTerms, inputs: MonthInputs, ytd: YearToDate = YearToDate()
) -> ManagementAgreementBreakdown:
    """Management fee + pass-through of the month's payroll, PTEB, insurance, claims (capped),
    support services, billable expense accounts and non-GL billable expenses; plus the profit
    share: tiers applied to (external revenue − all of the above), accumulated per the terms."""
    ma = terms.management
    insurance = (
        ma.insurance_fixed_amount if ma.insurance_type == INSURANCE_FIXED_FEE else inputs.insurance
    )
    parts = ManagementAgreementBreakdown(
        management_fee=management_fee(
            ma.fee_type, ma.fee_amount, inputs.labor_hours, inputs.external_revenue
        ),
        payroll=inputs.payroll,
        pteb=inputs.pteb,
        insurance=insurance,
        claims=claims_pass_through(
            inputs.claims, ma.claims_cap, ma.claims_cap_type, ytd.claims_passed_through
        ),
        support_services=support_services(terms.billable, inputs.payroll, inputs.pteb),
        expense_accounts=enabled_account_total(
            terms.billable.accounts, EXPENSE_ACCOUNT, inputs.account_amounts
        ),
        non_gl_expenses=sum(
            non_gl_expense(e, inputs.payroll, inputs.external_revenue) for e in ma.billable_expenses
        ),
    )
    basis = inputs.external_revenue - parts.billed_before_profit_share
    prior = prior_for(ma.profit_share_accumulation, ytd.profit)
    share = accumulated_share(basis, prior, _tier_tuples(ma.profit_share_tiers))
    return replace(parts, profit_share=share, profit_basis=basis)


# --- Total internal revenue ---------------------------------------------------------------


@dataclass(frozen=True)
class RevenueBreakdown:
    """A site-month's IR by component.

    When ``budget_fallback`` is set the contract math was not used (``fallback_reason`` says
    why): the IR is the budget IR plus ``other_revenue``, which then holds only the Other
    Revenue tab's change against its budget (the budget IR already contains the budgeted
    other revenue). Otherwise ``other_revenue`` is the tab's full forecast. ``notes`` lists
    components of a partly configured contract that were skipped.
    """

    fixed_fee: float = 0.0
    per_occupied_room: float = 0.0
    per_labor_hour: float = 0.0
    revenue_share: float = 0.0
    billable_accounts: BillableAccountsBreakdown | None = None
    management_agreement: ManagementAgreementBreakdown | None = None
    other_revenue: float = 0.0
    budget_fallback: float | None = None
    fallback_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def uses_budget_fallback(self) -> bool:
        return self.budget_fallback is not None

    @property
    def contract_total(self) -> float:
        """IR earned under the contract terms (or the budget IR when falling back)."""
        if self.budget_fallback is not None:
            return self.budget_fallback
        total = self.fixed_fee + self.per_occupied_room + self.per_labor_hour + self.revenue_share
        if self.billable_accounts is not None:
            total += self.billable_accounts.total
        if self.management_agreement is not None:
            total += self.management_agreement.total
        return total

    @property
    def total(self) -> float:
        return self.contract_total + self.other_revenue


def _tier_tuples(tiers: Iterable[Tier]) -> list[tuple[float, float]]:
    return [(t.lower_bound, t.share_pct) for t in tiers]


def _missing_configuration(terms: SiteTerms) -> dict[str, str]:
    """IR-earning contract types of the site whose terms are empty → why."""
    checks = {
        FIXED_FEE: (bool(terms.fee_lines), "no fee lines"),
        PER_LABOR_HOUR: (bool(terms.job_rates), "no billable job rates"),
        PER_OCCUPIED_ROOM: (terms.occupied_room_rate > 0, "no rate per occupied room"),
        REVENUE_SHARE: (bool(terms.revenue_share_tiers), "no revenue-share tiers"),
        BILLING_ACCOUNT: (terms.billable.is_configured, "no billable accounts"),
        MANAGEMENT_AGREEMENT: (True, ""),  # pass-throughs are always computable
    }
    return {
        flag: reason
        for flag, (configured, reason) in checks.items()
        if terms.has(flag) and not configured and not _ignored(terms, flag)
    }


def _ignored(terms: SiteTerms, flag: str) -> bool:
    # A management agreement already passes the billable accounts through (§7.2).
    return flag == BILLING_ACCOUNT and terms.is_management_agreement


def _budget_fallback(inputs: MonthInputs, reason: str) -> RevenueBreakdown:
    return RevenueBreakdown(
        other_revenue=inputs.other_revenue - inputs.other_revenue_budget,
        budget_fallback=inputs.budget_internal_revenue,
        fallback_reason=reason,
    )


def internal_revenue(
    terms: SiteTerms, inputs: MonthInputs, ytd: YearToDate = YearToDate()
) -> RevenueBreakdown:
    """IR of one site-month: Σ of the components of the contract's IR-earning types + other
    revenue. Billable accounts count only without a management agreement. Falls back to the
    budget IR when the terms are unconfigured, carry no IR-earning type, or every IR-earning
    type present lacks its terms."""
    if not terms.is_configured:
        return _budget_fallback(inputs, "Contract terms are not configured; budget IR used.")
    present = [flag for flag in IR_CONTRACT_TYPES if terms.has(flag) and not _ignored(terms, flag)]
    if not present:
        return _budget_fallback(
            inputs, "Contract has no internal-revenue contract type; budget IR used."
        )
    missing = _missing_configuration(terms)
    if len(missing) == len(present):
        detail = "; ".join(f"{flag}: {why}" for flag, why in missing.items())
        return _budget_fallback(
            inputs, f"No contract component is configured ({detail}); budget IR used."
        )

    def wanted(flag: str) -> bool:
        return flag in present and flag not in missing

    month = inputs.month_start
    inc_m, inc_p = terms.increment_month, terms.increment_pct
    result = RevenueBreakdown(
        other_revenue=inputs.other_revenue,
        notes=tuple(f"{flag} not computed: {why}." for flag, why in missing.items()),
    )
    if wanted(FIXED_FEE):
        lines = [(f.monthly_fee, f.start_date, f.end_date) for f in terms.fee_lines]
        result = replace(result, fixed_fee=fixed_fee(lines, month, inc_m, inc_p))
    if wanted(PER_LABOR_HOUR):
        rated = [
            (inputs.hours_by_job_code.get(r.job_code, 0.0), r.rate, r.start_date, r.end_date)
            for r in terms.job_rates
        ]
        result = replace(result, per_labor_hour=per_labor_hour(rated, month, inc_m, inc_p))
    if wanted(PER_OCCUPIED_ROOM):
        result = replace(
            result,
            per_occupied_room=per_occupied_room(terms.occupied_room_rate, inputs.occupied_rooms),
        )
    if wanted(REVENUE_SHARE):
        prior = prior_for(terms.revenue_share_accumulation, ytd.external_revenue)
        share = revenue_share(
            inputs.external_revenue, _tier_tuples(terms.revenue_share_tiers), prior
        )
        result = replace(result, revenue_share=share)
    if wanted(BILLING_ACCOUNT):
        result = replace(result, billable_accounts=billable_accounts(terms.billable, inputs))
    if wanted(MANAGEMENT_AGREEMENT):
        ma = terms.management
        notes = list(result.notes)
        if ma.fee_type is None:
            notes.append(f"{MANAGEMENT_AGREEMENT}: no management fee configured.")
        if ma.insurance_type == INSURANCE_FIXED_FEE and not ma.insurance_fixed_amount:
            notes.append(f"{MANAGEMENT_AGREEMENT}: fixed insurance fee has no amount.")
        result = replace(
            result,
            management_agreement=management_agreement(terms, inputs, ytd),
            notes=tuple(notes),
        )
    return result


# --- Consecutive months -------------------------------------------------------------------


def year_to_date_after(
    ytd: YearToDate, inputs: MonthInputs, breakdown: RevenueBreakdown
) -> YearToDate:
    """The year-to-date totals once ``inputs``' month is added (before any period reset)."""
    ma = breakdown.management_agreement
    return YearToDate(
        external_revenue=ytd.external_revenue + inputs.external_revenue,
        profit=ytd.profit + (ma.profit_basis if ma else 0.0),
        claims_passed_through=ytd.claims_passed_through + (ma.claims if ma else 0.0),
    )


def year_to_date_for(terms: SiteTerms, month_start: dt.date, ytd: YearToDate) -> YearToDate:
    """``ytd`` with every total whose accumulation period starts at ``month_start`` reset."""

    def starts(accumulation: str | None) -> bool:
        if accumulation in (None, PER_CLAIM):
            return True  # per-claim or uncapped claims: nothing carries over
        return accumulation_period_start(month_start, accumulation, terms.contract_start) == (
            month_start
        )

    return YearToDate(
        external_revenue=0.0 if starts(terms.revenue_share_accumulation) else ytd.external_revenue,
        profit=0.0 if starts(terms.management.profit_share_accumulation) else ytd.profit,
        claims_passed_through=0.0
        if starts(terms.management.claims_cap_type)
        else ytd.claims_passed_through,
    )


def internal_revenue_series(
    terms: SiteTerms, months: Sequence[MonthInputs], opening: YearToDate = YearToDate()
) -> list[RevenueBreakdown]:
    """IR of consecutive months, carrying the year-to-date totals from month to month.

    ``opening`` holds the totals of the period's months before ``months[0]``; it is ignored
    for totals whose period starts at ``months[0]``.
    """
    results: list[RevenueBreakdown] = []
    ytd = opening
    previous: MonthInputs | None = None
    for inputs in months:
        if previous is not None:
            expected = dt.date(
                *add_months(previous.month_start.year, previous.month_start.month, 1), 1
            )
            if inputs.month_start != expected:
                raise ValueError("months must be consecutive month starts")
            ytd = year_to_date_after(ytd, previous, results[-1])
        ytd = year_to_date_for(terms, inputs.month_start, ytd)
        results.append(internal_revenue(terms, inputs, ytd))
        previous = inputs
    return results
