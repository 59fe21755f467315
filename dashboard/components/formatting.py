"""Display formatting at the edge (ratios are fractions inside, % on screen)."""

from __future__ import annotations

import calendar


def money(amount: float | None) -> str:
    if amount is None:
        return "n/a"
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.0f}"


def percent(fraction: float | None, digits: int = 1) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.{digits}f}%"


def month_label(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


def contract_label(flags: str) -> str:
    """'RevenueShare;DepositedRevenue' -> 'Revenue Share, Deposited Revenue'."""
    if not flags:
        return "Not configured"
    names = {
        "FixedFee": "Fixed Fee",
        "PerLaborHour": "Per Labor Hour",
        "PerOccupiedRoom": "Per Occupied Room",
        "RevenueShare": "Revenue Share",
        "ManagementAgreement": "Management Agreement",
        "BillingAccount": "Billable Accounts",
        "DepositedRevenue": "Deposited Revenue",
        "BellService": "Bell Service",
        "MidMonthAdvance": "Mid-Month Advance",
        "InvoiceGrouping": "Invoice Grouping",
    }
    return ", ".join(names.get(f, f) for f in flags.split(";") if f)
