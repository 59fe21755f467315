"""Typed SQLAlchemy 2 models for the forecasting dashboard (DOMAIN.md §2).

Conventions:
* Ratios (occupancy, drive-in, capture, percentages) are fractions 0–1 (decision D1).
* Money columns are NUMERIC(14, 2) in the database; they are read as floats for pandas and
  summed exactly in SQL. Counts and hours are floats (see ``Quantity``).
* Every record a person edits carries ``version`` for optimistic concurrency
  (``UPDATE ... WHERE id = :id AND version = :v``).
* Budget statistics and payroll budgets are monthly (that is how the budget is made); the daily
  budget view is an even spread computed in ``dashboard.domain``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dashboard.domain.kpi import COMPONENTS as KPI_COMPONENTS
from dashboard.domain.pnl import PNL_LINES

# Surrogate keys of the large fact tables: BIGINT on PostgreSQL, the rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(14, 2, asdecimal=False)
# Counts, rooms and hours: monthly-pass counts are daily shares (20 passes ÷ 30 days), so a
# binary float keeps Σ days × rate exact to the cent where two decimals would not.
Quantity = Float()
Ratio = Float()

# Kinds of values (DOMAIN.md §2.6).
BUDGET, FORECAST, ACTUAL, SCHEDULED = "budget", "forecast", "actual", "scheduled"

ROLES = ("account_manager", "district_manager", "regional_vp", "executive", "admin")

RATE_CATEGORIES = (
    "valet_overnight",
    "self_overnight",
    "valet_daily",
    "self_daily",
    "valet_monthly",
    "self_monthly",
    "valet_aggregator",
    "self_aggregator",
)

OTHER_REVENUE_FIELDS = (
    "billable_expenses",
    "revenue_validations",
    "miscellaneous",
    "gpo_fees",
    "signing_bonuses",
    "client_paid_expenses",
)

# Category column -> GL account (DOMAIN.md §6.2).
OTHER_EXPENSE_ACCOUNTS = {
    "employee_relations": "7045",
    "fuel_vehicles": "7075",
    "loss_damage_claims": "7100",
    "office_supplies": "7113",
    "outside_services": "7115",
    "rents_parking": "7170",
    "repairs_maintenance": "7175",
    "rm_vehicle": "7178",
    "signage": "7180",
    "supplies_equipment": "7185",
    "tickets_printed_material": "7205",
    "uniforms": "7220",
}
OTHER_EXPENSE_FIELDS = tuple(OTHER_EXPENSE_ACCOUNTS)

PNL_FIELDS = (
    "external_revenue",
    "internal_revenue",
    "payroll",
    "claims",
    "parking_rents",
    "other_expense",
    "pteb",
    "insurance",
    "vehicle_insurance",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class VersionedMixin:
    """Columns of a record people edit."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


# --- Organisation ---------------------------------------------------------------------------


class Region(Base):
    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    districts: Mapped[list[District]] = relationship(back_populates="region")


class District(Base):
    __tablename__ = "district"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region: Mapped[Region] = relationship(back_populates="districts")
    sites: Mapped[list[Site]] = relationship(back_populates="district")


class Site(Base):
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_number: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    legal_entity: Mapped[str] = mapped_column(String(80), default="")
    business_segment: Mapped[str] = mapped_column(String(40))
    cog_segment: Mapped[str] = mapped_column(String(40), default="")
    pl_category: Mapped[str] = mapped_column(String(40), default="Operations")
    # Contract flags as in the reference, ';'-separated (e.g. "RevenueShare;DepositedRevenue").
    contract_types: Mapped[str] = mapped_column(String(200), default="")
    total_rooms: Mapped[int] = mapped_column(Integer, default=0)
    parking_spaces: Mapped[int] = mapped_column(Integer, default=0)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    close_date: Mapped[dt.date | None] = mapped_column(Date)
    count_site: Mapped[bool] = mapped_column(Boolean, default=True)
    deviation_pct: Mapped[float] = mapped_column(Ratio, default=0.10)
    deviation_amount: Mapped[float] = mapped_column(Money, default=2500)
    district: Mapped[District] = relationship(back_populates="sites")

    __table_args__ = (
        CheckConstraint("total_rooms >= 0", name="ck_site_rooms"),
        CheckConstraint("parking_spaces >= 0", name="ck_site_spaces"),
    )

    @property
    def contract_flags(self) -> list[str]:
        return [f for f in self.contract_types.split(";") if f]


# --- Contract configuration (DOMAIN.md §2.3) -------------------------------------------------


class Contract(Base):
    """One row per site: scalar contract terms (escalator, POR, revenue share, billable
    accounts, management agreement). Lists live in the child tables below."""

    __tablename__ = "contract"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    is_configured: Mapped[bool] = mapped_column(Boolean, default=True)
    increment_month: Mapped[int | None] = mapped_column(SmallInteger)
    increment_pct: Mapped[float] = mapped_column(Ratio, default=0.0)
    cpi_linked: Mapped[bool] = mapped_column(Boolean, default=False)
    occupied_room_rate: Mapped[float] = mapped_column(Money, default=0)
    revenue_share_accumulation: Mapped[str] = mapped_column(String(20), default="Monthly")
    # Billable accounts
    pteb_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    pteb_type: Mapped[str] = mapped_column(String(12), default="Percentage")
    pteb_pct: Mapped[float] = mapped_column(Ratio, default=0.0)
    pteb_escalator_month: Mapped[int | None] = mapped_column(SmallInteger)
    pteb_escalator_value: Mapped[float] = mapped_column(Ratio, default=0.0)
    pteb_escalator_type: Mapped[str] = mapped_column(String(12), default="Percentage")
    support_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    support_type: Mapped[str] = mapped_column(String(12), default="Percentage")
    support_amount: Mapped[float] = mapped_column(Ratio, default=0.0)
    support_payroll_type: Mapped[str] = mapped_column(String(12), default="Billable")
    additional_payroll_amount: Mapped[float] = mapped_column(Money, default=0)
    # Management agreement
    management_fee_type: Mapped[str | None] = mapped_column(String(20))
    management_fee_amount: Mapped[float] = mapped_column(Money, default=0)
    ma_insurance_type: Mapped[str | None] = mapped_column(String(30))
    ma_insurance_additional_pct: Mapped[float] = mapped_column(Ratio, default=0.0)
    claims_cap: Mapped[float] = mapped_column(Money, default=0)
    claims_cap_type: Mapped[str | None] = mapped_column(String(20))
    profit_share_accumulation: Mapped[str] = mapped_column(String(20), default="Monthly")

    __table_args__ = (
        CheckConstraint(
            "increment_month IS NULL OR increment_month BETWEEN 1 AND 12", name="ck_contract_inc"
        ),
    )


class FixedFeeLine(Base):
    __tablename__ = "fixed_fee_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    monthly_fee: Mapped[float] = mapped_column(Money)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class PlhJobRate(Base):
    __tablename__ = "plh_job_rate"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    job_code_id: Mapped[int] = mapped_column(ForeignKey("job_code.id"))
    rate: Mapped[float] = mapped_column(Money)
    overtime_rate: Mapped[float] = mapped_column(Money)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class ShareTier(Base):
    """A tier of a revenue-share or profit-share scheme; ``lower_bound`` starts the tier."""

    __tablename__ = "share_tier"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(20))  # revenue_share | profit_share
    lower_bound: Mapped[float] = mapped_column(Money)
    share_pct: Mapped[float] = mapped_column(Ratio)

    __table_args__ = (
        CheckConstraint("scheme IN ('revenue_share', 'profit_share')", name="ck_tier_scheme"),
        CheckConstraint("share_pct >= 0 AND share_pct <= 1", name="ck_tier_pct"),
    )


class BillableAccount(Base):
    __tablename__ = "billable_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # payroll | expense
    code: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ManagementBillableExpense(Base):
    """Non-GL billable expense of a management agreement (fixed $, % of payroll or revenue)."""

    __tablename__ = "ma_billable_expense"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    basis: Mapped[str] = mapped_column(String(20))  # FixedAmount | PayrollPercent | RevenuePercent
    value: Mapped[float] = mapped_column(Float)


# --- Jobs -------------------------------------------------------------------------------------


class JobGroup(Base):
    __tablename__ = "job_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class JobCode(Base):
    __tablename__ = "job_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_salaried: Mapped[bool] = mapped_column(Boolean, default=False)
    job_group_id: Mapped[int | None] = mapped_column(ForeignKey("job_group.id"), index=True)


class SiteJobCode(Base):
    __tablename__ = "site_job_code"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    job_code_id: Mapped[int] = mapped_column(ForeignKey("job_code.id"), primary_key=True)
    active_employee_count: Mapped[int] = mapped_column(Integer, default=0)
    average_hourly_rate: Mapped[float] = mapped_column(Money, default=0)
    allocated_salary_cost: Mapped[float] = mapped_column(Money, default=0)


# --- People and scope (DOMAIN.md §2.2, §9) -----------------------------------------------------


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    __table_args__ = (
        CheckConstraint(
            "role IN ('account_manager', 'district_manager', 'regional_vp', 'executive', 'admin')",
            name="ck_user_role",
        ),
    )


class ScopeAssignment(Base):
    """Grants a person one site, one district or one region, optionally for a dated period
    (coverage for a colleague on leave is just another dated assignment)."""

    __tablename__ = "scope_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN site_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN district_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN region_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_assignment_one_target",
        ),
    )


class UserSession(Base):
    """One signed-in session, kept on the server so that a sign-out, a password change or a
    deactivation ends it on every worker and instance at once. The browser's cookie holds only
    a random token; ``id`` is its SHA-256, so the table never holds a usable token."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # sign_out, password_changed, deactivated, idle, expired
    ended_reason: Mapped[str | None] = mapped_column(String(30))


class SignInAttempt(Base):
    """Every sign-in attempt whose password was checked, for throttling per account and per
    client address across all workers and instances (``services/sign_in_throttle.py``):
    failures are kept a day, successes 30 days (they mark an address the account is known at);
    the audit log keeps the history."""

    __tablename__ = "sign_in_attempt"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    email: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_sign_in_attempt_email_at", "email", "at"),
        Index("ix_sign_in_attempt_address_at", "address", "at"),
    )


# --- Forecast data (DOMAIN.md §2.5) ------------------------------------------------------------


class SiteStatisticDay(VersionedMixin, Base):
    """Daily statistics of a site, kind = forecast or actual."""

    __tablename__ = "site_statistic_day"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    occupancy: Mapped[float] = mapped_column(Ratio, default=0.0)
    occupied_rooms: Mapped[float] = mapped_column(Quantity, default=0)
    valet_daily: Mapped[float] = mapped_column(Quantity, default=0)
    valet_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_daily: Mapped[float] = mapped_column(Quantity, default=0)
    self_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_comps: Mapped[float] = mapped_column(Quantity, default=0)
    self_comps: Mapped[float] = mapped_column(Quantity, default=0)
    drive_in_ratio: Mapped[float] = mapped_column(Ratio, default=0.0)
    capture_ratio: Mapped[float] = mapped_column(Ratio, default=0.0)
    self_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    valet_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    external_revenue: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "day", name="uq_stat_day"),
        CheckConstraint("kind IN ('forecast', 'actual')", name="ck_stat_day_kind"),
    )


class StatisticProposalDay(Base):
    """The measured proposal of a future day (``dashboard.domain.forecast``), what a day nobody
    saved shows and counts: a person's entry (``SiteStatisticDay`` kind forecast) wins, and
    the budget spread fills the days without a proposal. Computed by a job
    (``dashboard.services.proposals``), never edited; revenue is not stored: counts × the
    month's forecast rates at read time, so a rate change reprices every day (D3)."""

    __tablename__ = "statistic_proposal_day"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))  # forecast.SOURCES of occupied rooms
    occupancy: Mapped[float] = mapped_column(Ratio, default=0.0)
    occupied_rooms: Mapped[float] = mapped_column(Quantity, default=0)
    valet_daily: Mapped[float] = mapped_column(Quantity, default=0)
    valet_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_daily: Mapped[float] = mapped_column(Quantity, default=0)
    self_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_comps: Mapped[float] = mapped_column(Quantity, default=0)
    self_comps: Mapped[float] = mapped_column(Quantity, default=0)
    drive_in_ratio: Mapped[float] = mapped_column(Ratio, default=0.0)
    capture_ratio: Mapped[float] = mapped_column(Ratio, default=0.0)
    self_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    valet_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    labor_hours: Mapped[float] = mapped_column(Quantity, default=0)


class SiteProposalState(Base):
    """When a site's proposals were computed: for which today (``as_of``; the history is
    every actual before it) and at what time."""

    __tablename__ = "site_proposal_state"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)


class StatisticBudgetMonth(Base):
    """Monthly budget of the statistics (vehicle counts and rooms are monthly totals)."""

    __tablename__ = "statistic_budget_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    occupied_rooms: Mapped[float] = mapped_column(Quantity, default=0)
    valet_daily: Mapped[float] = mapped_column(Quantity, default=0)
    valet_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_daily: Mapped[float] = mapped_column(Quantity, default=0)
    self_monthly: Mapped[float] = mapped_column(Quantity, default=0)
    self_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_aggregator: Mapped[float] = mapped_column(Quantity, default=0)
    valet_comps: Mapped[float] = mapped_column(Quantity, default=0)
    self_comps: Mapped[float] = mapped_column(Quantity, default=0)
    self_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    valet_overnight: Mapped[float] = mapped_column(Quantity, default=0)
    external_revenue: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (UniqueConstraint("site_id", "year", "month", name="uq_stat_budget"),)


class ParkingRateMonth(VersionedMixin, Base):
    __tablename__ = "parking_rate_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    rate: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year", "month", "category", name="uq_rate"),
        CheckConstraint("kind IN ('budget', 'forecast', 'actual')", name="ck_rate_kind"),
        CheckConstraint("rate >= 0", name="ck_rate_nonneg"),
    )


class PayrollHeader(VersionedMixin, Base):
    __tablename__ = "payroll_header"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    forecast_mode: Mapped[str] = mapped_column(String(6))  # Code | Group

    __table_args__ = (UniqueConstraint("site_id", "year", "month", name="uq_payroll_header"),)


class PayrollDay(VersionedMixin, Base):
    """Daily payroll per job code; kind = scheduled, forecast or actual."""

    __tablename__ = "payroll_day"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    job_code_id: Mapped[int] = mapped_column(ForeignKey("job_code.id"))
    kind: Mapped[str] = mapped_column(String(10))
    hours: Mapped[float] = mapped_column(Quantity, default=0)
    overtime_hours: Mapped[float] = mapped_column(Quantity, default=0)
    cost: Mapped[float] = mapped_column(Money, default=0)
    revenue: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "day", "job_code_id", name="uq_payroll_day"),
        CheckConstraint("kind IN ('scheduled', 'forecast', 'actual')", name="ck_payroll_kind"),
        CheckConstraint("hours >= 0", name="ck_payroll_hours"),
    )


class PayrollBudgetMonth(Base):
    __tablename__ = "payroll_budget_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    job_code_id: Mapped[int] = mapped_column(ForeignKey("job_code.id"))
    hours: Mapped[float] = mapped_column(Quantity, default=0)
    cost: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "year", "month", "job_code_id", name="uq_payroll_budget"),
    )


class OtherRevenueMonth(VersionedMixin, Base):
    __tablename__ = "other_revenue_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(10))
    billable_expenses: Mapped[float] = mapped_column(Money, default=0)
    revenue_validations: Mapped[float] = mapped_column(Money, default=0)
    miscellaneous: Mapped[float] = mapped_column(Money, default=0)
    gpo_fees: Mapped[float] = mapped_column(Money, default=0)
    signing_bonuses: Mapped[float] = mapped_column(Money, default=0)
    client_paid_expenses: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year", "month", name="uq_other_revenue"),
        CheckConstraint("kind IN ('budget', 'forecast', 'actual')", name="ck_other_rev_kind"),
    )


class OtherExpenseMonth(VersionedMixin, Base):
    __tablename__ = "other_expense_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(10))
    employee_relations: Mapped[float] = mapped_column(Money, default=0)
    fuel_vehicles: Mapped[float] = mapped_column(Money, default=0)
    loss_damage_claims: Mapped[float] = mapped_column(Money, default=0)
    office_supplies: Mapped[float] = mapped_column(Money, default=0)
    outside_services: Mapped[float] = mapped_column(Money, default=0)
    rents_parking: Mapped[float] = mapped_column(Money, default=0)
    repairs_maintenance: Mapped[float] = mapped_column(Money, default=0)
    rm_vehicle: Mapped[float] = mapped_column(Money, default=0)
    signage: Mapped[float] = mapped_column(Money, default=0)
    supplies_equipment: Mapped[float] = mapped_column(Money, default=0)
    tickets_printed_material: Mapped[float] = mapped_column(Money, default=0)
    uniforms: Mapped[float] = mapped_column(Money, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year", "month", name="uq_other_expense"),
        CheckConstraint("kind IN ('budget', 'forecast', 'actual')", name="ck_other_exp_kind"),
    )


class PnlMonth(Base):
    """Monthly P&L lines from the budget and the closed ledger (positive amounts)."""

    __tablename__ = "pnl_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(10))
    external_revenue: Mapped[float] = mapped_column(Money, default=0)
    internal_revenue: Mapped[float] = mapped_column(Money, default=0)
    payroll: Mapped[float] = mapped_column(Money, default=0)
    claims: Mapped[float] = mapped_column(Money, default=0)
    parking_rents: Mapped[float] = mapped_column(Money, default=0)
    other_expense: Mapped[float] = mapped_column(Money, default=0)
    pteb: Mapped[float] = mapped_column(Money, default=0)
    insurance: Mapped[float] = mapped_column(Money, default=0)
    vehicle_insurance: Mapped[float] = mapped_column(Money, default=0)
    occupied_rooms: Mapped[float] = mapped_column(Quantity, default=0)

    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year", "month", name="uq_pnl_month"),
        CheckConstraint("kind IN ('budget', 'actual')", name="ck_pnl_kind"),
        Index("ix_pnl_period_kind", "year", "month", "kind"),
    )


# --- Workflow and audit -----------------------------------------------------------------------


class ForecastSubmission(VersionedMixin, Base):
    __tablename__ = "forecast_submission"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="DRAFT")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    # The month's inputs were last changed (any tab), and by whom: the roll-up's "last edit".
    last_edit_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_edit_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        UniqueConstraint("site_id", "year", "month", name="uq_submission"),
        CheckConstraint(
            "status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'RETURNED', 'LOCKED')",
            name="ck_submission_status",
        ),
        Index("ix_submission_period", "year", "month", "status"),
    )


class ForecastSnapshotLine(Base):
    """Frozen P&L line or key statistic of a submitted forecast ("forecast of record")."""

    __tablename__ = "forecast_snapshot_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("forecast_submission.id"), index=True)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    line: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Money)


class SubmissionComment(Base):
    """The thread of a submission: each transition's comment and free comments, in order."""

    __tablename__ = "submission_comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("forecast_submission.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    kind: Mapped[str] = mapped_column(String(20))  # submit, approve, return, reopen, edit, ...
    body: Mapped[str] = mapped_column(Text, default="")


class VarianceExplanation(VersionedMixin, Base):
    """The account manager's written explanation of a flagged line of a site-month."""

    __tablename__ = "variance_explanation"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    line: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("site_id", "year", "month", "line", name="uq_variance_explanation"),
    )


class AppSetting(Base):
    """Admin-configurable settings (e.g. variance thresholds), one value per key."""

    __tablename__ = "app_setting"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditLog(Base):
    """Append-only: triggers in the migration refuse UPDATE and DELETE. Each row written by
    ``dashboard.services.audit`` carries its place in the chain (``chain_seq``, 1, 2, ...) and
    ``chain_hash`` = SHA-256 of the previous row's hash and this row's fields, so a deleted
    or altered row is found by ``python -m dashboard audit-verify``."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    action: Mapped[str] = mapped_column(String(30))  # e.g. update, insert, submit, sign_in
    entity: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(80), default="")
    field: Mapped[str] = mapped_column(String(60), default="")
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    # NULL only for a row written outside the audit writer (audit-verify reports it).
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_site_at", "site_id", "at"),
        Index("ix_audit_user_at", "user_id", "at"),
        Index("ix_audit_chain_seq", "chain_seq", unique=True),
    )


class AuditChainHead(Base):
    """The one row (``id`` 1) naming the audit chain's last sequence number and hash: a
    commit that appends audit rows locks it last, continues the chain from it and moves it."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


# --- Derived figures (computed when inputs change, read by every view: decision D14) --------

FIGURE_SERIES = ("forecast", "actual", "budget", "submitted")
# The P&L lines of DOMAIN §7.1 and FLC; then the KPI components that are not P&L lines.
FIGURE_LINES = (*PNL_LINES, "flc")
FIGURE_COMPONENTS = tuple(c for c in KPI_COMPONENTS if c not in FIGURE_LINES)
# Figures of the FLC variance breakdown: on the books and the forecast of open months, the
# internal revenue the contract earns on their external revenue minus on the budget's.
FIGURE_WATERFALL = ("ir_linked",)


class SiteMonthFigure(Base):
    """The figures of one site-month of one series, as the engine in ``dashboard.domain``
    computed them from the site's inputs (``dashboard.services.figures`` writes them).

    Series: ``forecast`` = the P&L as the P&L page shows it (closed months the ledger, the
    current month trending, later months the forecast; ``kind`` says which); ``actual`` and
    ``budget`` = the books and the budget with the statistics and payroll behind the KPIs;
    ``submitted`` = the snapshot of the month's last submission (forecast of record). Prior
    year is the ``actual`` series a year earlier. Values are the engine's binary floats, kept
    as such so a stored figure equals a fresh computation exactly (``recompute --check``);
    they are rounded at display. NULL = the series has no source for that figure.
    """

    __tablename__ = "site_month_figure"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    external_revenue: Mapped[float | None] = mapped_column(Float)
    internal_revenue: Mapped[float | None] = mapped_column(Float)
    payroll: Mapped[float | None] = mapped_column(Float)
    claims: Mapped[float | None] = mapped_column(Float)
    parking_rents: Mapped[float | None] = mapped_column(Float)
    other_expense: Mapped[float | None] = mapped_column(Float)
    pteb: Mapped[float | None] = mapped_column(Float)
    insurance: Mapped[float | None] = mapped_column(Float)
    flc: Mapped[float | None] = mapped_column(Float)
    ir_fallback: Mapped[str | None] = mapped_column(String(200))
    available_rooms: Mapped[float | None] = mapped_column(Float)
    occupied_rooms: Mapped[float | None] = mapped_column(Float)
    overnight_vehicles: Mapped[float | None] = mapped_column(Float)
    valet_overnight: Mapped[float | None] = mapped_column(Float)
    vehicles: Mapped[float | None] = mapped_column(Float)
    labor_hours: Mapped[float | None] = mapped_column(Float)
    overtime_hours: Mapped[float | None] = mapped_column(Float)
    ir_linked: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        CheckConstraint(
            "series IN ('forecast', 'actual', 'budget', 'submitted')", name="ck_figure_series"
        ),
        Index("ix_figure_period", "series", "year", "month"),
        # The few months whose internal revenue is the budget's (the P&L lists them).
        Index(
            "ix_figure_fallback",
            "series",
            "year",
            sqlite_where=text("ir_fallback IS NOT NULL"),
            postgresql_where=text("ir_fallback IS NOT NULL"),
        ),
    )


class DistrictMonthFigure(Base):
    """The P&L lines of ``SiteMonthFigure`` summed over the sites of a district, per series
    and month, and how many site rows the sums hold. Kept with the site rows: every replace
    of a site's figures adds the change to its district's sums in the same transaction
    (``dashboard.data.figures.replace``), so portfolio views sum a few hundred district rows
    instead of every site's; ``recompute --check`` compares them with the site rows."""

    __tablename__ = "district_month_figure"
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sites: Mapped[int] = mapped_column(Integer, default=0)
    external_revenue: Mapped[float] = mapped_column(Float, default=0.0)
    internal_revenue: Mapped[float] = mapped_column(Float, default=0.0)
    payroll: Mapped[float] = mapped_column(Float, default=0.0)
    claims: Mapped[float] = mapped_column(Float, default=0.0)
    parking_rents: Mapped[float] = mapped_column(Float, default=0.0)
    other_expense: Mapped[float] = mapped_column(Float, default=0.0)
    pteb: Mapped[float] = mapped_column(Float, default=0.0)
    insurance: Mapped[float] = mapped_column(Float, default=0.0)
    flc: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_district_figure_period", "series", "year", "month"),)


class SiteFigureState(Base):
    """Freshness of a site's stored figures: ``inputs_version`` moves whenever an input of
    the site changes; the figures are current when they were computed from that version
    (``figures_version``) for today's date (``as_of``: month-to-date rules, §7.4)."""

    __tablename__ = "site_figure_state"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    inputs_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    figures_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    computed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
