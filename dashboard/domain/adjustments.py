"""Other Revenue and Other Expenses tabs: monthly adjustments (DOMAIN.md §6, §7.1, §7.5, §10;
decisions D2, D4, D9).

Pure functions on plain numbers and (year, month) pairs. Field names match
``OtherRevenueMonth`` / ``OtherExpenseMonth`` (a unit test keeps them in step with
``dashboard.data.models``). Amounts are stored with their business sign: GPO fees, signing
bonuses and client-paid expenses are negative (they reduce internal revenue), so a month's
other revenue is a plain sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from dashboard.domain.periods import add_months

MONTHS_SHOWN = 12  # §6.1, §6.2: 12 month rows from the starting month
MAX_MONTHLY_AMOUNT = 9_999_999.99  # our guardrail against typos [ASSUME]; DOMAIN gives no range

# Sign rules (D9, §6.1, §10).
NON_NEGATIVE, NON_POSITIVE, ANY_SIGN = "non_negative", "non_positive", "any_sign"

OTHER_REVENUE_SIGNS = {
    "billable_expenses": NON_NEGATIVE,
    # Not named in the sign rules, so the general "no negatives" rule of §10 applies.
    "revenue_validations": NON_NEGATIVE,
    "miscellaneous": ANY_SIGN,  # the former "Credits" column
    "gpo_fees": NON_POSITIVE,
    "signing_bonuses": NON_POSITIVE,
    "client_paid_expenses": NON_POSITIVE,
}
OTHER_REVENUE_FIELDS = tuple(OTHER_REVENUE_SIGNS)
OTHER_REVENUE_LABELS = {
    "billable_expenses": "Billable Expenses",
    "revenue_validations": "Revenue Validations",
    "miscellaneous": "Miscellaneous",
    "gpo_fees": "GPO Fees",
    "signing_bonuses": "Signing Bonuses",
    "client_paid_expenses": "Client Paid Expenses",
}

# Category -> (label, GL account), §6.2.
OTHER_EXPENSE_CATEGORIES = {
    "employee_relations": ("Employee Relations", "7045"),
    "fuel_vehicles": ("Fuel – Vehicles", "7075"),
    "loss_damage_claims": ("Loss & Damage Claims", "7100"),
    "office_supplies": ("Office Supplies", "7113"),
    "outside_services": ("Outside Services", "7115"),
    "rents_parking": ("Rents – Parking", "7170"),
    "repairs_maintenance": ("Repairs & Maintenance", "7175"),
    "rm_vehicle": ("R&M – Vehicle", "7178"),
    "signage": ("Signage", "7180"),
    "supplies_equipment": ("Supplies & Equipment", "7185"),
    "tickets_printed_material": ("Tickets & Printed Material", "7205"),
    "uniforms": ("Uniforms", "7220"),
}
OTHER_EXPENSE_FIELDS = tuple(OTHER_EXPENSE_CATEGORIES)

# Variance colour bands of the Other Revenue tab (§6.1, §7.5).
GREEN, LIGHT_GREEN, AMBER, RED = "green", "light_green", "amber", "red"
VARIANCE_BAND_EDGE = 0.05


# --- Validation (§6.1, §6.2, §10, D9) ----------------------------------------------------------


def validate_other_revenue(field: str, value: float | None) -> str | None:
    """Why ``value`` (already parsed, e.g. by ``statistics.parse_number``; None = not a number)
    cannot be stored in Other Revenue ``field``, or None when it can.

    Signs per D9: billable expenses (and revenue validations) ≥ 0, GPO fees, signing bonuses and
    client-paid expenses ≤ 0, miscellaneous either sign. 0 is always allowed (the decision says
    "≤ 0 / ≥ 0"; §6.1's "must be negative" would forbid clearing a cell).
    """
    rule = OTHER_REVENUE_SIGNS.get(field)
    if rule is None:
        return f"{field} is not an Other Revenue column."
    label = OTHER_REVENUE_LABELS[field]
    if value is None:
        return f"{label}: enter an amount in dollars."
    if rule == NON_NEGATIVE and value < 0:
        return f"{label} cannot be negative."
    if rule == NON_POSITIVE and value > 0:
        return f"{label} reduce revenue: enter them as a negative amount (e.g. -250)."
    if abs(value) > MAX_MONTHLY_AMOUNT:
        return f"{label} must be within ±${MAX_MONTHLY_AMOUNT:,.2f} a month."
    return None


def validate_other_expense(field: str, value: float | None) -> str | None:
    """Why ``value`` cannot be stored in Other Expense ``field``, or None: positive only (§6.2)."""
    category = OTHER_EXPENSE_CATEGORIES.get(field)
    if category is None:
        return f"{field} is not an Other Expense category."
    label = category[0]
    if value is None:
        return f"{label}: enter an amount in dollars."
    if value < 0:
        return f"{label} cannot be negative."
    if value > MAX_MONTHLY_AMOUNT:
        return f"{label} must be between $0.00 and ${MAX_MONTHLY_AMOUNT:,.2f} a month."
    return None


# --- Month values, totals, P&L effect (§6, §7.1, §7.2) -----------------------------------------


def month_values(
    forecast: Mapping[str, float] | None,
    budget: Mapping[str, float] | None,
    fields: tuple[str, ...],
) -> dict[str, float]:
    """The amounts a month row shows: the saved forecast, else the budget (a forecast exists
    only once saved, §2.5), else 0 (missing budget → $0.00, §10). A saved forecast row is
    taken whole; a field missing from it reads 0."""
    source = forecast if forecast is not None else budget or {}
    return {f: float(source.get(f) or 0.0) for f in fields}


def differs_from_budget(value: float, budget: float | None) -> bool:
    """Highlight rule: the cell differs from budget by at least a cent (missing budget = 0)."""
    return round(value - (budget or 0.0), 2) != 0


def other_revenue_total(amounts: Mapping[str, float]) -> float:
    """A month's other revenue added to forecast internal revenue: Σ of the six signed columns."""
    return sum(float(amounts.get(f) or 0.0) for f in OTHER_REVENUE_FIELDS)


def other_expense_total(amounts: Mapping[str, float]) -> float:
    """Σ of the 12 Other Expense categories of a month."""
    return sum(float(amounts.get(f) or 0.0) for f in OTHER_EXPENSE_FIELDS)


def expense_adjustments(
    forecast: Mapping[str, float], budget: Mapping[str, float]
) -> dict[str, float]:
    """Per category, forecast − budget: what the tab adds to the budgeted P&L expense lines
    ("budget + Other Expenses tab adjustments", §7.1). The tab holds whole monthly amounts
    (defaulting to budget, positive only), so the adjustment is the difference."""
    return {
        f: float(forecast.get(f) or 0.0) - float(budget.get(f) or 0.0) for f in OTHER_EXPENSE_FIELDS
    }


# --- Variance colour band (§6.1, §7.5, D4) -----------------------------------------------------


def revenue_variance(forecast: float, budget: float) -> tuple[float, float | None]:
    """($, fraction) of an Other Revenue amount against budget: $ = F − B, fraction = $ ÷ |B|;
    None ("n/a") when the budget is 0 (D4).

    Dividing by |B| keeps the sign meaning "more revenue than budget" for the negative columns:
    GPO fees of −110 against −100 budgeted are −10% (worse), where (F − B) ÷ B would read +10%.
    For positive budgets this is D4's (F − B) ÷ B.
    """
    delta = forecast - budget
    return delta, (delta / abs(budget) if budget else None)


def variance_band(fraction: float | None) -> str | None:
    """Colour band of a revenue variance fraction (§6.1): > +5% green, 0…+5% light green,
    0…−5% amber, < −5% red.

    Edges: exactly +5% is light green and exactly −5% amber (the outer bands are strict).
    No band (None) at exactly 0 (the cell equals budget) or "n/a" (budget 0). Colour is never
    the only signal: show the % beside it.
    """
    if fraction is None:
        return None
    fraction = round(fraction, 9)  # 1.05 − 1 = 0.050000000000000044 must stay at the edge
    if fraction > VARIANCE_BAND_EDGE:
        return GREEN
    if fraction > 0:
        return LIGHT_GREEN
    if fraction == 0:
        return None
    if fraction >= -VARIANCE_BAND_EDGE:
        return AMBER
    return RED


def other_revenue_band(forecast: float, budget: float) -> str | None:
    """Colour band of one Other Revenue cell against its budget."""
    return variance_band(revenue_variance(forecast, budget)[1])


# --- Which months can be edited (§2.7, §6.1, §6.2, D2) -----------------------------------------


def tab_months(start_year: int, start_month: int) -> list[tuple[int, int]]:
    """The 12 (year, month) rows of the tab, from the starting month."""
    return [add_months(start_year, start_month, i) for i in range(MONTHS_SHOWN)]


def other_revenue_lock_reason(year: int, month: int, today: dt.date) -> str | None:
    """Why an Other Revenue month is read-only, or None: months before the current month (D2)."""
    if (year, month) < (today.year, today.month):
        return "Past months are read-only."
    return None


def other_expense_lock_reason(
    year: int, month: int, today: dt.date, actualised: bool = False
) -> str | None:
    """Why an Other Expenses month is read-only, or None: past months (D2) and months whose
    actual expenses are already loaded (§6.2). ``actualised`` is the caller's fact from the
    ledger (e.g. an ``OtherExpenseMonth`` row of kind 'actual' exists for the month)."""
    past = other_revenue_lock_reason(year, month, today)
    if past:
        return past
    if actualised:
        return "Actual expenses are posted for this month; it is read-only."
    return None


def other_revenue_editable_months(
    start_year: int, start_month: int, today: dt.date
) -> dict[tuple[int, int], bool]:
    """Editable flag of each of the Other Revenue tab's 12 months."""
    return {
        ym: other_revenue_lock_reason(*ym, today) is None
        for ym in tab_months(start_year, start_month)
    }


def other_expense_editable_months(
    start_year: int,
    start_month: int,
    today: dt.date,
    actualised: Collection[tuple[int, int]] = (),
) -> dict[tuple[int, int], bool]:
    """Editable flag of each of the Other Expenses tab's 12 months; ``actualised`` lists the
    (year, month) pairs whose actual expenses are loaded."""
    return {
        ym: other_expense_lock_reason(*ym, today, actualised=ym in actualised) is None
        for ym in tab_months(start_year, start_month)
    }
