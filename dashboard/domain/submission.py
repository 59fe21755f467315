"""Forecast submission workflow (DOMAIN.md §8.3 recommended state machine, decision D5).

Scope: one site × one forecast month. States::

    DRAFT ──submit──▶ SUBMITTED ──approve──▶ APPROVED ──close──▶ LOCKED
      ▲                  │                     │
      │               return (comment)      reopen (reason, district manager)
      │                  ▼                     │
      └──── edit ─── RETURNED ◀────────────────┘ (reopen goes to DRAFT)

* An account manager edits a month only in DRAFT or RETURNED; the first edit of a RETURNED
  month puts it back to DRAFT. A district manager or regional vice president may also edit a
  SUBMITTED or APPROVED month (audited, shown to the account manager); nobody edits LOCKED.
* Approve, return and reopen belong to reviewers (district manager, regional vice president)
  and never to the person who submitted (four eyes).
* Return and reopen need a written comment.

Pure rules: no database. The service (``services/submissions.py``) applies them inside one
transaction with a version check and an audit row per transition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dashboard.domain.pnl import variance

DRAFT, SUBMITTED, APPROVED, RETURNED, LOCKED = (
    "DRAFT",
    "SUBMITTED",
    "APPROVED",
    "RETURNED",
    "LOCKED",
)
STATES = (DRAFT, SUBMITTED, APPROVED, RETURNED, LOCKED)
SUBMIT, APPROVE, RETURN, EDIT, CLOSE, REOPEN = (
    "submit",
    "approve",
    "return",
    "edit",
    "close",
    "reopen",
)
ACTIONS = (SUBMIT, APPROVE, RETURN, EDIT, CLOSE, REOPEN)

EDITOR_ROLES = ("account_manager", "district_manager", "regional_vp")
REVIEWER_ROLES = ("district_manager", "regional_vp")
SYSTEM = "system"  # the month-end close is nobody's click

STATE_LABELS = {
    DRAFT: "Draft",
    SUBMITTED: "Submitted",
    APPROVED: "Approved",
    RETURNED: "Returned",
    LOCKED: "Locked",
}

# (state, action) -> next state.
_NEXT = {
    (DRAFT, SUBMIT): SUBMITTED,
    (RETURNED, SUBMIT): SUBMITTED,
    (SUBMITTED, APPROVE): APPROVED,
    (SUBMITTED, RETURN): RETURNED,
    (DRAFT, EDIT): DRAFT,
    (RETURNED, EDIT): DRAFT,
    (SUBMITTED, EDIT): SUBMITTED,
    (APPROVED, EDIT): APPROVED,
    (APPROVED, CLOSE): LOCKED,
    (APPROVED, REOPEN): DRAFT,
}
# Who may take each action.
_ROLES = {
    SUBMIT: EDITOR_ROLES,
    APPROVE: REVIEWER_ROLES,
    RETURN: REVIEWER_ROLES,
    EDIT: EDITOR_ROLES,
    CLOSE: (SYSTEM,),
    REOPEN: REVIEWER_ROLES,
}
_NEEDS_COMMENT = {RETURN: "a comment for the account manager", REOPEN: "the reason to reopen"}
MAX_COMMENT = 2000


class TransitionError(ValueError):
    """An action the workflow does not allow; the message says why, for people."""


@dataclass(frozen=True)
class Transition:
    before: str
    action: str
    after: str


def transition(
    state: str,
    action: str,
    role: str,
    *,
    comment: str | None = None,
    is_submitter: bool = False,
) -> Transition:
    """The state after ``action`` by someone of ``role``, or ``TransitionError``.

    ``is_submitter``: the person acting submitted the forecast being reviewed (they may not
    approve or return their own submission)."""
    if state not in STATES:
        raise TransitionError(f"Unknown submission state {state!r}.")
    if action not in ACTIONS:
        raise TransitionError(f"Unknown action {action!r}.")
    if role not in _ROLES[action]:
        raise TransitionError(_role_message(action))
    after = _NEXT.get((state, action))
    if after is None:
        raise TransitionError(_illegal_message(state, action))
    if action == EDIT and role == "account_manager" and state in (SUBMITTED, APPROVED):
        raise TransitionError(
            f"This month is {STATE_LABELS[state].lower()}: only your district manager can "
            "change it now."
        )
    if action in (APPROVE, RETURN) and is_submitter:
        raise TransitionError("You submitted this forecast: another reviewer must decide on it.")
    if action in _NEEDS_COMMENT:
        text = (comment or "").strip()
        if not text:
            raise TransitionError(f"Write {_NEEDS_COMMENT[action]}.")
        if len(text) > MAX_COMMENT:
            raise TransitionError(f"Keep the comment under {MAX_COMMENT:,} characters.")
    return Transition(state, action, after)


def _role_message(action: str) -> str:
    if action in (APPROVE, RETURN, REOPEN):
        return "Only a district manager or regional vice president can do this."
    if action == CLOSE:
        return "Months are locked by the month-end close, not by hand."
    return "Your role cannot change forecasts."


def _illegal_message(state: str, action: str) -> str:
    label = STATE_LABELS[state].lower()
    if state == LOCKED:
        return "This month is locked: its month has closed."
    if action == SUBMIT:
        return f"This month is already {label}."
    if action in (APPROVE, RETURN):
        return f"Only a submitted forecast can be approved or returned; this one is {label}."
    if action == REOPEN:
        return f"Only an approved month can be reopened; this one is {label}."
    if action == CLOSE:
        return f"Only an approved month is locked at close; this one is {label}."
    return f"This month is {label}."


def edit_block_reason(state: str, role: str) -> str | None:
    """Why someone of ``role`` may not edit a month in ``state`` (None: they may)."""
    try:
        transition(state, EDIT, role)
    except TransitionError as refused:
        return str(refused)
    return None


# --- Flags: variances that need a written explanation before submitting (D5) ---------------

FLAGGED_LINES = ("flc", "internal_revenue")
DEFAULT_PCT_THRESHOLD = 0.075
DEFAULT_AMOUNT_THRESHOLD = 5_000.0


@dataclass(frozen=True)
class Thresholds:
    pct: float = DEFAULT_PCT_THRESHOLD
    amount: float = DEFAULT_AMOUNT_THRESHOLD


@dataclass(frozen=True)
class Flag:
    line: str
    forecast: float
    budget: float
    amount: float  # forecast − budget
    fraction: float | None  # amount ÷ budget (§7.5); None when the budget is 0


def variance_flag(line: str, forecast: float, budget: float, limits: Thresholds) -> Flag | None:
    """A flag when forecast vs budget is ≥ the % threshold or ≥ the $ threshold (either).
    Both are compared after rounding to the cent and to 0.1%, as shown on screen, so what
    reads "7.5%" is flagged."""
    amount, fraction = variance(round(forecast, 2), round(budget, 2))  # §7.5: $ ÷ budget
    amount = round(amount, 2)
    by_amount = abs(amount) >= limits.amount
    if not by_amount and (
        fraction is None or round(abs(fraction) * 1000) < round(limits.pct * 1000)
    ):
        return None
    return Flag(line, forecast, budget, amount, fraction)


def variance_flags(forecast: dict, budget: dict, limits: Thresholds) -> list[Flag]:
    """Flags of the month's FLC and internal revenue against budget."""
    flags = []
    for line in FLAGGED_LINES:
        flag = variance_flag(
            line, float(forecast.get(line, 0.0)), float(budget.get(line, 0.0)), limits
        )
        if flag is not None:
            flags.append(flag)
    return flags


def unexplained(flags: list[Flag], explanations: dict[str, str]) -> list[Flag]:
    """Flags without a written explanation (blank text does not count)."""
    return [f for f in flags if not (explanations.get(f.line) or "").strip()]


# --- Cadence: deadline and waiting time (§8.3) ---------------------------------------------


def submission_deadline(year: int, month: int) -> dt.date:
    """The last Friday of the month before the forecast month."""
    first = dt.date(year, month, 1)
    day = first - dt.timedelta(days=1)
    while day.weekday() != 4:  # Friday
        day -= dt.timedelta(days=1)
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Whole business days (Monday–Friday) after ``start`` up to and including ``end``."""
    if end <= start:
        return 0
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


REVIEW_BUSINESS_DAYS = 3


def review_overdue(submitted: dt.date, today: dt.date) -> bool:
    """A submission waiting more than 3 business days for a decision."""
    return business_days_between(submitted, today) > REVIEW_BUSINESS_DAYS


def missing_submission(state: str | None, year: int, month: int, today: dt.date) -> bool:
    """Not submitted (draft, returned or never started) after the deadline has passed."""
    return state in (None, DRAFT, RETURNED) and today > submission_deadline(year, month)
