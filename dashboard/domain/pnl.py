"""P&L assembly (DOMAIN.md §7.1) and variance on an explicit basis (decision D4)."""

from __future__ import annotations

# Expense lines subtracted from internal revenue to get FLC; external revenue is not in FLC.
FLC_EXPENSE_LINES = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")


def flc(lines):
    """FLC = internal revenue − (payroll + claims + parking rents + other expense + PTEB +
    insurance).

    ``lines`` is a mapping (dict, pandas row or DataFrame) of P&L line → amount; amounts are
    positive, as shown on the P&L. Works element-wise on pandas columns.
    """
    expenses = 0
    for line in FLC_EXPENSE_LINES:
        expenses = expenses + lines[line]
    return lines["internal_revenue"] - expenses


def variance(value: float, basis: float) -> tuple[float, float | None]:
    """($ variance, fraction) of ``value`` against ``basis``; fraction None ("n/a") if basis 0."""
    delta = value - basis
    return delta, (delta / basis if basis else None)
